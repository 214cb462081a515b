// yidictl commands of prepayment (预付金) and fund transfers (PrepaymentService,
// docs/PREPAYMENT.md). Amounts are typed in 元 ("1234.56") and shown in 万元 as on the notices.
//   prepayment compute YEAR [--signed_date=D]          issue the year's quotas and notices
//   prepayment quotas YEAR [REGION]                    quotas and adjustments
//   prepayment notices YEAR [REGION]                   附件5 (no region) or 附件3/4/6/7/8/9
//   prepayment clearing MONTH PAYER RECEIVER YUAN [--signed_date=D] [--settlement_yuan=Y]
//                      [--uncleared_yuan=Y] [--scope=cross|intra|all]
//   prepayment usage YEAR [REGION]                     usage rate after each clearing
//   prepayment warnings YEAR [REGION]                  yellow and red only
//   prepayment emergency MONTH PAYER RECEIVER [YUAN] [--applied_date=D] [--scope=…]
//   prepayment obligations [REGION] [--overdue] [--year=Y]   with working days late
//   prepayment pay OBLIGATION --bank_name=… --serial_number=… --transaction_date=D
//   prepayment receive OBLIGATION [DATE]
//   prepayment delay-reason OBLIGATION REASON
//   prepayment suspensions [REGION]
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/money.h"
#include "grpcpp/grpcpp.h"
#include "tools/yidictl/command.h"
#include "yidi/v1/prepayment.grpc.pb.h"

ABSL_FLAG(std::string, signed_date, "", "prepayment compute / clearing: the signing date");
ABSL_FLAG(std::string, applied_date, "", "prepayment emergency: the application date");
ABSL_FLAG(std::string, settlement_yuan, "0", "prepayment clearing: the month's settlement (元)");
ABSL_FLAG(std::string, uncleared_yuan, "0", "prepayment clearing: uncleared payables (元)");
ABSL_FLAG(std::string, scope, "", "prepayment clearing / emergency: cross, intra or all");
ABSL_FLAG(bool, overdue, false, "prepayment obligations: only those past their pay-by date");
ABSL_FLAG(int, obligation_year, 0, "prepayment obligations: only this year's");
ABSL_FLAG(std::string, bank_name, "", "prepayment pay: 付款银行名称");
ABSL_FLAG(std::string, serial_number, "", "prepayment pay: 交易流水号");
ABSL_FLAG(std::string, transaction_date, "", "prepayment pay: 交易日期 YYYY-MM-DD");

namespace {

using Channel = std::shared_ptr<grpc::Channel>;
using Args = std::vector<std::string>;
using yidi::FormatWanYuan;

using yidictl::UsageError;

// "1234.56" 元 → fen; false when it is not a non-negative amount with at most two decimals.
bool ParseYuan(absl::string_view text, int64_t* fen) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  int64_t whole = 0, cents = 0;
  if (parts.size() > 2 || !absl::SimpleAtoi(parts[0], &whole) || whole < 0 ||
      whole > yidi::kAmountMaxFen / 100) {
    return false;
  }
  if (parts.size() == 2) {
    if (parts[1].empty() || parts[1].size() > 2 || !absl::SimpleAtoi(parts[1], &cents)) {
      return false;
    }
    if (parts[1].size() == 1) cents *= 10;
  }
  *fen = whole * 100 + cents;
  return true;
}

bool ParseYear(absl::string_view text, int* year) {
  return absl::SimpleAtoi(text, year) && *year >= 2000 && *year <= 2100;
}

yidi::v1::QuotaScope ScopeFlag() {
  const std::string scope = absl::GetFlag(FLAGS_scope);
  if (scope == "cross") return yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE;
  if (scope == "intra") return yidi::v1::QUOTA_SCOPE_INTRA_PROVINCE;
  if (scope == "all") return yidi::v1::QUOTA_SCOPE_ALL;
  return yidi::v1::QUOTA_SCOPE_UNSPECIFIED;
}

const char* ScopeName(yidi::v1::QuotaScope scope) {
  switch (scope) {
    case yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE:
      return "cross";
    case yidi::v1::QUOTA_SCOPE_INTRA_PROVINCE:
      return "intra";
    case yidi::v1::QUOTA_SCOPE_ALL:
      return "all";
    default:
      return "-";
  }
}

const char* Level(yidi::v1::WarningLevel level) {
  switch (level) {
    case yidi::v1::WARNING_LEVEL_NONE:
      return "none";
    case yidi::v1::WARNING_LEVEL_YELLOW:
      return "YELLOW";
    case yidi::v1::WARNING_LEVEL_RED:
      return "RED";
    default:
      return "n/a";
  }
}

std::string Percent(int32_t bp) { return absl::StrFormat("%d.%02d%%", bp / 100, bp % 100); }

void PrintQuota(const yidi::v1::PrepaymentQuota& q) {
  std::cout << absl::StrFormat(
      "%d  %s → %s  %-5s %s  base %s over %d months  quota %s  previous %s  adjustment %s  %s%s\n",
      q.year(), q.payer_region(), q.receiver_region(), ScopeName(q.scope()),
      q.receiver_reserve() ? "reserve" : "payer  ", FormatWanYuan(q.base_total_fen()),
      q.base_months(), FormatWanYuan(q.quota_fen()), FormatWanYuan(q.previous_quota_fen()),
      FormatWanYuan(q.adjustment_fen()), q.first_year() ? "initial " : "",
      q.obligation_id().empty() ? "(nothing moves)" : q.obligation_id());
}

void PrintObligation(const yidi::v1::TransferObligation& o) {
  std::cout << absl::StrFormat(
      "%s  %s  %s%s → %s  %s 万元  signed %s  finance %s / %s / %s  pay by %s  %s%s%s\n",
      o.obligation_id(), yidi::v1::NoticeKind_Name(o.notice_kind()).substr(12),
      o.returned() ? "*" : "", o.payer_region(), o.receiver_region(), FormatWanYuan(o.amount_fen()),
      o.signed_date(), o.agency_to_finance_due(), o.finance_transfer_due(), o.feedback_due(),
      o.pay_by(), yidi::v1::ObligationState_Name(o.state()).substr(17),
      o.working_days_late() > 0 ? absl::StrCat("  ", o.working_days_late(), " WD late") : "",
      o.payment().transaction_serial_number().empty()
          ? ""
          : absl::StrCat("  paid ", o.payment().transaction_date(), " ", o.payment().bank_name(),
                         " #", o.payment().transaction_serial_number()));
}

void PrintUsage(const yidi::v1::UsageReport& r) {
  std::cout << absl::StrFormat(
      "%s  %s → %s  %-5s clearing %s  numerator %s / prepayment %s (quota %s + increases %s) = "
      "%s  %s",
      r.clearing_month(), r.payer_region(), r.receiver_region(), ScopeName(r.scope()),
      FormatWanYuan(r.clearing_fen()), FormatWanYuan(r.numerator_fen()),
      FormatWanYuan(r.prepayment_fen()), FormatWanYuan(r.quota_fen()),
      FormatWanYuan(r.increases_fen()), Percent(r.usage_bp()), Level(r.level()));
  if (r.level() == yidi::v1::WARNING_LEVEL_RED) {
    std::cout << "  emergency increase " << (r.increase_mandatory() ? "required" : "may start")
              << ", apply by " << r.apply_by();
    if (r.suggested_increase_fen() > 0) {
      std::cout << ", formula gives " << FormatWanYuan(r.suggested_increase_fen()) << " 万元";
    }
    if (!r.emergency_obligation_id().empty())
      std::cout << ", issued " << r.emergency_obligation_id();
  }
  if (r.suggested_top_up_fen() > 0) {
    std::cout << "  top-up " << FormatWanYuan(r.suggested_top_up_fen()) << " 万元 (第24条)";
  }
  std::cout << "\n";
}

template <typename Response>
bool PrintText(const Response& response) {
  if (!absl::GetFlag(FLAGS_text)) return false;
  std::cout << response.DebugString();
  return true;
}

int Compute(const Channel& channel, const Args& args) {
  yidi::v1::ComputeQuotasRequest request;
  int year = 0;
  if (args.size() != 1 || !ParseYear(args[0], &year)) {
    return UsageError("prepayment compute YEAR [--signed_date=D]");
  }
  request.set_year(year);
  request.set_signed_date(absl::GetFlag(FLAGS_signed_date));
  auto stub = yidi::v1::PrepaymentService::NewStub(channel);
  yidi::v1::ComputeQuotasResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->ComputeQuotas(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  if (PrintText(response)) return yidictl::kExitOk;
  if (response.replayed()) std::cout << "(already computed; the issued quotas)\n";
  for (const auto& quota : response.quotas()) PrintQuota(quota);
  for (const auto& obligation : response.obligations()) PrintObligation(obligation);
  if (response.province_reserve_fen() != 0) {
    std::cout << "kept in the provincial account: "
              << FormatWanYuan(response.province_reserve_fen()) << " 万元\n";
  }
  return yidictl::kExitOk;
}

int Quotas(const Channel& channel, const Args& args) {
  yidi::v1::GetQuotasRequest request;
  int year = 0;
  if (args.empty() || args.size() > 2 || !ParseYear(args[0], &year)) {
    return UsageError("prepayment quotas YEAR [REGION]");
  }
  request.set_year(year);
  if (args.size() == 2) request.set_region(args[1]);
  auto stub = yidi::v1::PrepaymentService::NewStub(channel);
  yidi::v1::GetQuotasResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->GetQuotas(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  if (PrintText(response)) return yidictl::kExitOk;
  std::cout << "(万元)\n";
  for (const auto& quota : response.quotas()) PrintQuota(quota);
  return yidictl::kExitOk;
}

int Notices(const Channel& channel, const Args& args) {
  yidi::v1::GetNoticesRequest request;
  int year = 0;
  if (args.empty() || args.size() > 2 || !ParseYear(args[0], &year)) {
    return UsageError("prepayment notices YEAR [REGION]");
  }
  request.set_year(year);
  if (args.size() == 2) request.set_region(args[1]);
  auto stub = yidi::v1::PrepaymentService::NewStub(channel);
  yidi::v1::GetNoticesResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->GetNotices(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  for (const auto& document : response.documents()) std::cout << document << "\n";
  return yidictl::kExitOk;
}

int Clearing(const Channel& channel, const Args& args) {
  constexpr absl::string_view kUsage =
      "prepayment clearing MONTH PAYER RECEIVER YUAN [--signed_date=D] [--settlement_yuan=Y] "
      "[--uncleared_yuan=Y] [--scope=cross|intra|all]";
  yidi::v1::RecordClearingRequest request;
  int64_t clearing = 0, settlement = 0, uncleared = 0;
  if (args.size() != 4 || !ParseYuan(args[3], &clearing) ||
      !ParseYuan(absl::GetFlag(FLAGS_settlement_yuan), &settlement) ||
      !ParseYuan(absl::GetFlag(FLAGS_uncleared_yuan), &uncleared)) {
    return UsageError(kUsage);
  }
  request.set_clearing_month(args[0]);
  request.set_payer_region(args[1]);
  request.set_receiver_region(args[2]);
  request.set_clearing_fen(clearing);
  request.set_settlement_fen(settlement);
  request.set_uncleared_fen(uncleared);
  request.set_signed_date(absl::GetFlag(FLAGS_signed_date));
  request.set_scope(ScopeFlag());
  auto stub = yidi::v1::PrepaymentService::NewStub(channel);
  yidi::v1::RecordClearingResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->RecordClearing(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  if (PrintText(response)) return yidictl::kExitOk;
  if (response.replayed()) std::cout << "(already recorded)\n";
  PrintUsage(response.usage());
  if (!response.obligation().obligation_id().empty()) PrintObligation(response.obligation());
  return yidictl::kExitOk;
}

int UsageOrWarnings(const Channel& channel, const Args& args, bool warnings_only) {
  int year = 0;
  if (args.empty() || args.size() > 2 || !ParseYear(args[0], &year)) {
    return UsageError(warnings_only ? "prepayment warnings YEAR [REGION]"
                               : "prepayment usage YEAR [REGION]");
  }
  const std::string region = args.size() == 2 ? args[1] : "";
  auto stub = yidi::v1::PrepaymentService::NewStub(channel);
  auto context = yidictl::MakeContext();
  if (warnings_only) {
    yidi::v1::ListWarningsRequest request;
    request.set_year(year);
    request.set_region(region);
    yidi::v1::ListWarningsResponse response;
    grpc::Status status = stub->ListWarnings(context.get(), request, &response);
    if (!status.ok()) return yidictl::Fail(status);
    if (PrintText(response)) return yidictl::kExitOk;
    for (const auto& report : response.warnings()) PrintUsage(report);
    return yidictl::kExitOk;
  }
  yidi::v1::GetUsageRequest request;
  request.set_year(year);
  request.set_region(region);
  yidi::v1::GetUsageResponse response;
  grpc::Status status = stub->GetUsage(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  if (PrintText(response)) return yidictl::kExitOk;
  for (const auto& report : response.reports()) PrintUsage(report);
  return yidictl::kExitOk;
}

int Emergency(const Channel& channel, const Args& args) {
  yidi::v1::RequestEmergencyIncreaseRequest request;
  int64_t requested = 0;
  if (args.size() < 3 || args.size() > 4 || (args.size() == 4 && !ParseYuan(args[3], &requested))) {
    return UsageError("prepayment emergency MONTH PAYER RECEIVER [YUAN] [--applied_date=D] [--scope=…]");
  }
  request.set_clearing_month(args[0]);
  request.set_payer_region(args[1]);
  request.set_receiver_region(args[2]);
  request.set_requested_fen(requested);
  request.set_applied_date(absl::GetFlag(FLAGS_applied_date));
  request.set_scope(ScopeFlag());
  auto stub = yidi::v1::PrepaymentService::NewStub(channel);
  yidi::v1::RequestEmergencyIncreaseResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->RequestEmergencyIncrease(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  if (PrintText(response)) return yidictl::kExitOk;
  std::cout << (response.replayed() ? "(already issued) " : "") << response.computation() << "\n";
  PrintObligation(response.obligation());
  return yidictl::kExitOk;
}

int Obligations(const Channel& channel, const Args& args) {
  if (args.size() > 1)
    return UsageError("prepayment obligations [REGION] [--overdue] [--obligation_year=Y]");
  yidi::v1::ListObligationsRequest request;
  if (!args.empty()) request.set_region(args[0]);
  request.set_overdue_only(absl::GetFlag(FLAGS_overdue));
  request.set_year(absl::GetFlag(FLAGS_obligation_year));
  auto stub = yidi::v1::PrepaymentService::NewStub(channel);
  yidi::v1::ListObligationsResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->ListObligations(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  if (PrintText(response)) return yidictl::kExitOk;
  std::cout << "today " << response.today() << "\n";
  for (const auto& obligation : response.obligations()) PrintObligation(obligation);
  return yidictl::kExitOk;
}

int Pay(const Channel& channel, const Args& args) {
  if (args.size() != 1) {
    return UsageError("prepayment pay OBLIGATION --bank_name=… --serial_number=… --transaction_date=D");
  }
  yidi::v1::RecordPaymentRequest request;
  request.set_obligation_id(args[0]);
  request.mutable_payment()->set_bank_name(absl::GetFlag(FLAGS_bank_name));
  request.mutable_payment()->set_transaction_serial_number(absl::GetFlag(FLAGS_serial_number));
  request.mutable_payment()->set_transaction_date(absl::GetFlag(FLAGS_transaction_date));
  auto stub = yidi::v1::PrepaymentService::NewStub(channel);
  yidi::v1::RecordPaymentResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->RecordPayment(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  if (PrintText(response)) return yidictl::kExitOk;
  std::cout << (response.replayed() ? "(already recorded) " : "")
            << (response.ledger_transfer_id().empty()
                    ? "recorded at the issuer; this node is not the payer"
                    : absl::StrCat("posted ", response.ledger_transfer_id()))
            << "\n";
  PrintObligation(response.obligation());
  return yidictl::kExitOk;
}

int Receive(const Channel& channel, const Args& args) {
  if (args.empty() || args.size() > 2) return UsageError("prepayment receive OBLIGATION [DATE]");
  yidi::v1::RecordReceiptRequest request;
  request.set_obligation_id(args[0]);
  if (args.size() == 2) request.set_received_date(args[1]);
  auto stub = yidi::v1::PrepaymentService::NewStub(channel);
  yidi::v1::RecordReceiptResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->RecordReceipt(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  if (PrintText(response)) return yidictl::kExitOk;
  std::cout << (response.replayed() ? "(already confirmed) " : "")
            << (response.ledger_transfer_id().empty()
                    ? "confirmed at the issuer; this node is not the receiver"
                    : absl::StrCat("posted ", response.ledger_transfer_id()))
            << "\n";
  PrintObligation(response.obligation());
  return yidictl::kExitOk;
}

int DelayReason(const Channel& channel, const Args& args) {
  if (args.size() != 2) return UsageError("prepayment delay-reason OBLIGATION REASON");
  yidi::v1::RecordDelayReasonRequest request;
  request.set_obligation_id(args[0]);
  request.set_reason(args[1]);
  auto stub = yidi::v1::PrepaymentService::NewStub(channel);
  yidi::v1::RecordDelayReasonResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->RecordDelayReason(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  PrintObligation(response.obligation());
  return yidictl::kExitOk;
}

int Suspensions(const Channel& channel, const Args& args) {
  if (args.size() > 1) return UsageError("prepayment suspensions [REGION]");
  yidi::v1::GetSuspensionsRequest request;
  if (!args.empty()) request.set_region(args[0]);
  auto stub = yidi::v1::PrepaymentService::NewStub(channel);
  yidi::v1::GetSuspensionsResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->GetSuspensions(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  if (PrintText(response)) return yidictl::kExitOk;
  if (response.suspensions().empty()) std::cout << "no suspensions\n";
  for (const auto& suspension : response.suspensions()) std::cout << suspension.message() << "\n";
  return yidictl::kExitOk;
}

}  // namespace

YIDICTL_COMMAND("prepayment compute",
                "prepayment compute YEAR [--signed_date=D]   issue the year's quotas and notices",
                Compute);
YIDICTL_COMMAND("prepayment quotas",
                "prepayment quotas YEAR [REGION]   quotas and adjustments (万元)", Quotas);
YIDICTL_COMMAND("prepayment notices",
                "prepayment notices YEAR [REGION]  附件5 matrix, or the region's notices (万元)",
                Notices);
YIDICTL_COMMAND("prepayment clearing",
                "prepayment clearing MONTH PAYER RECEIVER YUAN [--signed_date=D] "
                "[--settlement_yuan=Y] [--uncleared_yuan=Y] [--scope=cross|intra|all]",
                Clearing);
YIDICTL_COMMAND("prepayment usage",
                "prepayment usage YEAR [REGION]    usage rate after each clearing",
                [](const Channel& channel, const Args& args) {
                  return UsageOrWarnings(channel, args, false);
                });
YIDICTL_COMMAND("prepayment warnings", "prepayment warnings YEAR [REGION] yellow and red warnings",
                [](const Channel& channel, const Args& args) {
                  return UsageOrWarnings(channel, args, true);
                });
YIDICTL_COMMAND("prepayment emergency",
                "prepayment emergency MONTH PAYER RECEIVER [YUAN] [--applied_date=D] [--scope=…]",
                Emergency);
YIDICTL_COMMAND("prepayment obligations",
                "prepayment obligations [REGION] [--overdue] [--obligation_year=Y]   with WD late",
                Obligations);
YIDICTL_COMMAND("prepayment pay",
                "prepayment pay OBLIGATION --bank_name=B --serial_number=S --transaction_date=D",
                Pay);
YIDICTL_COMMAND("prepayment receive", "prepayment receive OBLIGATION [DATE]   confirm receipt",
                Receive);
YIDICTL_COMMAND("prepayment delay-reason", "prepayment delay-reason OBLIGATION REASON",
                DelayReason);
YIDICTL_COMMAND("prepayment suspensions",
                "prepayment suspensions [REGION]   Liaoning 第28条 suspensions in force",
                Suspensions);
