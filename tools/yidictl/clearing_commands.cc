// yidictl commands of the monthly clearing (ClearingService, AuditService; docs/CLEARING.md),
// against the national node (cross-province) or a provincial node (intra-province).
//   clearing run --month=YYYY-MM                     build (from the 21st) and advance
//   clearing status --month=YYYY-MM [REGION]         state, deadlines, replies, cells
//   clearing confirm REGION --month=YYYY-MM          the region confirms
//   clearing dispute REGION REASON --month=YYYY-MM   the region disputes (escalates)
//   clearing notices --month=YYYY-MM [REGION] [--clearing_format=csv|html]
//                    [--clearing_tables=all|matrix|payable|funds|deductions|deduction-funds|
//                     receivable|payment|receipt|split] [--clearing_out=DIR]
//   clearing deduct ID INSURED TREATMENT employee|resident YUAN REASON --month=YYYY-MM
//                   [--fund=pooled|account|large|supplementary|civil|veteran|critical|
//                    assistance|other]
//   clearing claim ID TREATMENT INSURED COUNT YUAN --month=YYYY-MM
//   clearing declare --month=YYYY-MM        treatment city: build its claims, send to the province
//   clearing submit-claims --month=YYYY-MM  province: freeze the month's cross-province claims,
//                                           submit them to national
//   clearing claims --month=YYYY-MM         the claims this node holds, with their states
//   clearing trace INSURED TREATMENT --month=YYYY-MM
//   clearing combined PROVINCE --month=YYYY-MM --national_target=ADDR   (Jiangxi's table)
// Amounts are typed in 元 ("1234.56") and printed in 元 with two decimals, as the forms print.
// Every write carries a deterministic id, so running the same command again is a replay.
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/clearing_render.h"
#include "common/grpc_status.h"
#include "common/money.h"
#include "grpcpp/grpcpp.h"
#include "tools/yidictl/command.h"
#include "yidi/v1/clearing.grpc.pb.h"

ABSL_FLAG(std::string, month, "", "clearing: the clearing month YYYY-MM (the costs' month)");
ABSL_FLAG(std::string, clearing_format, "csv", "clearing notices: csv or html");
ABSL_FLAG(std::string, clearing_tables, "all", "clearing notices: which tables (see usage)");
ABSL_FLAG(std::string, clearing_out, "", "clearing notices: write one file per document here");
ABSL_FLAG(std::string, fund, "pooled", "clearing deduct: the fund column deducted");
ABSL_FLAG(std::string, national_target, "", "clearing combined: the national node's address");

namespace {

using Channel = std::shared_ptr<grpc::Channel>;
using Args = std::vector<std::string>;
using yidi::FormatYuan;

using yidictl::UsageError;

bool Month(std::string* month) {
  *month = absl::GetFlag(FLAGS_month);
  return month->size() == 7 && (*month)[4] == '-';
}

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

const char* StateName(yidi::v1::ClearingState state) {
  switch (state) {
    case yidi::v1::CLEARING_STATE_BUILT: return "BUILT (replies open)";
    case yidi::v1::CLEARING_STATE_DISPUTED: return "DISPUTED (escalated)";
    case yidi::v1::CLEARING_STATE_CONFIRMED: return "CONFIRMED";
    case yidi::v1::CLEARING_STATE_NOTICES_ISSUED: return "NOTICES_ISSUED";
    default: return "UNSPECIFIED";
  }
}

const char* ReplyName(yidi::v1::ClearingReplyKind kind) {
  switch (kind) {
    case yidi::v1::CLEARING_REPLY_KIND_CONFIRMED: return "confirmed";
    case yidi::v1::CLEARING_REPLY_KIND_DISPUTED: return "disputed";
    case yidi::v1::CLEARING_REPLY_KIND_SILENT: return "silent (confirmed)";
    default: return "?";
  }
}

void PrintClearing(const yidi::v1::Clearing& c) {
  std::printf("clearing %s at %s: %s\n", c.clearing_month().c_str(), c.issuer_region().c_str(),
              StateName(c.state()));
  std::printf("  built on %s, frozen at %s; replies by %s; notices by %s%s%s\n",
              c.built_on().c_str(), c.frozen_at().c_str(), c.confirm_by().c_str(),
              c.notices_by().c_str(), c.notices_issued_on().empty() ? "" : "; issued on ",
              c.notices_issued_on().c_str());
  std::printf("  late declarations covered: %lld; more than two months late (not covered): "
              "%lld\n",
              static_cast<long long>(c.late_count()), static_cast<long long>(c.too_late_count()));
  int64_t covered = 0, deducted = 0, net = 0, count = 0;
  for (const auto& cell : c.cells()) {
    count += cell.settlement_count();
    covered += cell.covered().total_fen();
    deducted += cell.deducted().total_fen();
    net += cell.net_fen();
  }
  std::printf("  %lld settlements, covered %s 元 − deductions %s 元 = %s 元 in %d cells\n",
              static_cast<long long>(count), FormatYuan(covered).c_str(),
              FormatYuan(deducted).c_str(), FormatYuan(net).c_str(), c.cells_size());
  for (const auto& cell : c.cells()) {
    std::printf("    %s → %s %s: %lld settlements, %s − %s = %s 元\n",
                cell.insured_region().c_str(), cell.treatment_region().c_str(),
                cell.resident() ? "居民" : "职工",
                static_cast<long long>(cell.settlement_count()),
                FormatYuan(cell.covered().total_fen()).c_str(),
                FormatYuan(cell.deducted().total_fen()).c_str(),
                FormatYuan(cell.net_fen()).c_str());
  }
  for (const auto& reply : c.replies()) {
    std::printf("  reply %s: %s on %s%s%s\n", reply.region().c_str(), ReplyName(reply.kind()),
                reply.replied_on().c_str(), reply.reason().empty() ? "" : ": ",
                reply.reason().c_str());
  }
  for (const auto& excluded : c.excluded_claims()) {
    std::printf("  NOT CLEARED: %s\n", excluded.reason().c_str());
  }
  for (const auto& id : c.obligation_ids()) std::printf("  obligation %s\n", id.c_str());
}

yidi::v1::ClearingDocumentKind KindFlag(bool* ok) {
  const std::string kind = absl::GetFlag(FLAGS_clearing_tables);
  *ok = true;
  if (kind == "all") return yidi::v1::CLEARING_DOCUMENT_KIND_UNSPECIFIED;
  if (kind == "matrix") return yidi::v1::CLEARING_DOCUMENT_KIND_MATRIX;
  if (kind == "payable") return yidi::v1::CLEARING_DOCUMENT_KIND_PAYABLE;
  if (kind == "funds") return yidi::v1::CLEARING_DOCUMENT_KIND_PAYABLE_FUNDS;
  if (kind == "deductions") return yidi::v1::CLEARING_DOCUMENT_KIND_DEDUCTIONS;
  if (kind == "deduction-funds") return yidi::v1::CLEARING_DOCUMENT_KIND_DEDUCTION_FUNDS;
  if (kind == "receivable") return yidi::v1::CLEARING_DOCUMENT_KIND_RECEIVABLE;
  if (kind == "payment") return yidi::v1::CLEARING_DOCUMENT_KIND_PAYMENT_NOTICE;
  if (kind == "receipt") return yidi::v1::CLEARING_DOCUMENT_KIND_RECEIPT_NOTICE;
  if (kind == "split") return yidi::v1::CLEARING_DOCUMENT_KIND_CITY_SPLIT;
  *ok = false;
  return yidi::v1::CLEARING_DOCUMENT_KIND_UNSPECIFIED;
}

// Sets `column` of `funds` to `fen`; false for an unknown column.
bool SetFund(const std::string& column, int64_t fen, yidi::v1::FundColumns* funds) {
  const std::map<std::string, std::function<void(int64_t)>> setters = {
      {"pooled", [&](int64_t v) { funds->set_pooled_fund_fen(v); }},
      {"account", [&](int64_t v) { funds->set_personal_account_fen(v); }},
      {"large", [&](int64_t v) { funds->set_large_expense_fen(v); }},
      {"supplementary", [&](int64_t v) { funds->set_supplementary_fen(v); }},
      {"civil", [&](int64_t v) { funds->set_civil_servant_fen(v); }},
      {"veteran", [&](int64_t v) { funds->set_disabled_veteran_fen(v); }},
      {"critical", [&](int64_t v) { funds->set_critical_illness_fen(v); }},
      {"assistance", [&](int64_t v) { funds->set_medical_assistance_fen(v); }},
      {"other", [&](int64_t v) { funds->set_other_fund_fen(v); }},
  };
  auto it = setters.find(column);
  if (it == setters.end()) return false;
  it->second(fen);
  funds->set_total_fen(fen);
  return true;
}

constexpr char kRunUsage[] = "clearing run --month=YYYY-MM";
YIDICTL_COMMAND("clearing run", kRunUsage, [](const Channel& channel, const Args& args) {
  std::string month;
  if (!args.empty() || !Month(&month)) return UsageError(kRunUsage);
  yidi::v1::RunClearingRequest request;
  request.set_clearing_month(month);
  yidi::v1::RunClearingResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status =
      yidi::v1::ClearingService::NewStub(channel)->RunClearing(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  PrintClearing(response.clearing());
  return yidictl::kExitOk;
});

constexpr char kStatusUsage[] = "clearing status --month=YYYY-MM [REGION]";
YIDICTL_COMMAND("clearing status", kStatusUsage, [](const Channel& channel, const Args& args) {
  std::string month;
  if (args.size() > 1 || !Month(&month)) return UsageError(kStatusUsage);
  yidi::v1::GetClearingRequest request;
  request.set_clearing_month(month);
  if (!args.empty()) request.set_region(args[0]);
  yidi::v1::GetClearingResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status =
      yidi::v1::ClearingService::NewStub(channel)->GetClearing(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  PrintClearing(response.clearing());
  return yidictl::kExitOk;
});

int Reply(const Channel& channel, const std::string& region, bool confirm,
          const std::string& reason, const std::string& month) {
  yidi::v1::ReplyClearingRequest request;
  request.set_clearing_month(month);
  request.set_region(region);
  request.set_kind(confirm ? yidi::v1::CLEARING_REPLY_KIND_CONFIRMED
                           : yidi::v1::CLEARING_REPLY_KIND_DISPUTED);
  request.set_reason(reason);
  // The same command again is the same reply (a replay); a new reason is a new reply.
  request.set_reply_id(absl::StrCat(region, "-", month, confirm ? "-confirm" : "-dispute-",
                                    confirm ? 0 : std::hash<std::string>()(reason) % 100000000));
  yidi::v1::ReplyClearingResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = yidi::v1::ClearingService::NewStub(channel)->ReplyClearing(
      context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  std::printf("%s %s the %s clearing on %s%s\n", region.c_str(),
              ReplyName(response.reply().kind()), month.c_str(),
              response.reply().replied_on().c_str(), response.replayed() ? " (replay)" : "");
  return yidictl::kExitOk;
}

constexpr char kConfirmUsage[] = "clearing confirm REGION --month=YYYY-MM";
YIDICTL_COMMAND("clearing confirm", kConfirmUsage, [](const Channel& channel, const Args& args) {
  std::string month;
  if (args.size() != 1 || !Month(&month)) return UsageError(kConfirmUsage);
  return Reply(channel, args[0], true, "", month);
});

constexpr char kDisputeUsage[] = "clearing dispute REGION REASON --month=YYYY-MM";
YIDICTL_COMMAND("clearing dispute", kDisputeUsage, [](const Channel& channel, const Args& args) {
  std::string month;
  if (args.size() != 2 || !Month(&month)) return UsageError(kDisputeUsage);
  return Reply(channel, args[0], false, args[1], month);
});

constexpr char kNoticesUsage[] =
    "clearing notices --month=YYYY-MM [REGION] [--clearing_format=csv|html] "
    "[--clearing_tables=all|matrix|payable|funds|deductions|deduction-funds|receivable|payment|"
    "receipt|split] [--clearing_out=DIR]";
YIDICTL_COMMAND("clearing notices", kNoticesUsage, [](const Channel& channel, const Args& args) {
  std::string month;
  bool kind_ok = false;
  const auto kind = KindFlag(&kind_ok);
  const std::string format = absl::GetFlag(FLAGS_clearing_format);
  if (args.size() > 1 || !Month(&month) || !kind_ok || (format != "csv" && format != "html")) {
    return UsageError(kNoticesUsage);
  }
  yidi::v1::GetClearingDocumentsRequest request;
  request.set_clearing_month(month);
  request.set_kind(kind);
  request.set_format(format == "html" ? yidi::v1::CLEARING_FORMAT_HTML
                                      : yidi::v1::CLEARING_FORMAT_CSV);
  if (!args.empty()) request.set_region(args[0]);
  yidi::v1::GetClearingDocumentsResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = yidi::v1::ClearingService::NewStub(channel)->GetClearingDocuments(
      context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  const std::string out = absl::GetFlag(FLAGS_clearing_out);
  int n = 0;
  for (const auto& document : response.documents()) {
    ++n;
    if (out.empty()) {
      std::printf("%s\n", document.content().c_str());
      continue;
    }
    const std::string path = absl::StrCat(out, "/", month, "-", n < 10 ? "0" : "", n,
                                          document.region().empty() ? "" : "-",
                                          document.region(), ".", format);
    std::ofstream file(path, std::ios::binary);
    file << document.content();
    if (!file) {
      std::cerr << "cannot write " << path << "\n";
      return yidictl::kExitUsage;
    }
    std::printf("%s  %s\n", path.c_str(), document.title().c_str());
  }
  return yidictl::kExitOk;
});

constexpr char kDeductUsage[] =
    "clearing deduct ID INSURED TREATMENT employee|resident YUAN REASON --month=YYYY-MM "
    "[--fund=pooled|account|large|supplementary|civil|veteran|critical|assistance|other]";
YIDICTL_COMMAND("clearing deduct", kDeductUsage, [](const Channel& channel, const Args& args) {
  std::string month;
  int64_t fen = 0;
  if (args.size() != 6 || !Month(&month) || !ParseYuan(args[4], &fen) ||
      (args[3] != "employee" && args[3] != "resident")) {
    return UsageError(kDeductUsage);
  }
  yidi::v1::RecordDeductionRequest request;
  auto& d = *request.mutable_deduction();
  d.set_deduction_id(args[0]);
  d.set_clearing_month(month);
  d.set_insured_region(args[1]);
  d.set_treatment_region(args[2]);
  d.set_insurance_type(args[3] == "resident" ? yidi::v1::INSURANCE_TYPE_RESIDENT
                                             : yidi::v1::INSURANCE_TYPE_EMPLOYEE);
  d.set_reason(args[5]);
  if (!SetFund(absl::GetFlag(FLAGS_fund), fen, d.mutable_amounts())) return UsageError(kDeductUsage);
  yidi::v1::RecordDeductionResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = yidi::v1::AuditService::NewStub(channel)->RecordDeduction(
      context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  std::printf("deduction %s: %s 元 %s → %s%s\n", args[0].c_str(), FormatYuan(fen).c_str(),
              args[1].c_str(), args[2].c_str(), response.replayed() ? " (replay)" : "");
  return yidictl::kExitOk;
});

constexpr char kClaimUsage[] = "clearing claim ID TREATMENT INSURED COUNT YUAN --month=YYYY-MM";
YIDICTL_COMMAND("clearing claim", kClaimUsage, [](const Channel& channel, const Args& args) {
  std::string month;
  int64_t fen = 0, count = 0;
  if (args.size() != 5 || !Month(&month) || !absl::SimpleAtoi(args[3], &count) ||
      !ParseYuan(args[4], &fen)) {
    return UsageError(kClaimUsage);
  }
  yidi::v1::SubmitClaimRequest request;
  auto& claim = *request.mutable_claim();
  claim.set_claim_id(args[0]);
  claim.set_clearing_month(month);
  claim.set_treatment_region(args[1]);
  claim.set_insured_region(args[2]);
  claim.set_settlement_count(count);
  claim.set_total_fen(fen);
  yidi::v1::SubmitClaimResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status =
      yidi::v1::ClearingService::NewStub(channel)->SubmitClaim(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  std::printf("claim %s recorded%s\n", args[0].c_str(), response.replayed() ? " (replay)" : "");
  return yidictl::kExitOk;
});

const char* ClaimStateName(yidi::v1::ClaimState state) {
  switch (state) {
    case yidi::v1::CLAIM_STATE_DECLARED: return "declared (not acknowledged)";
    case yidi::v1::CLAIM_STATE_SENT: return "sent";
    case yidi::v1::CLAIM_STATE_HELD: return "held (until the freeze)";
    case yidi::v1::CLAIM_STATE_FORWARDED: return "forwarded";
    case yidi::v1::CLAIM_STATE_AWAITING_BUILD: return "awaiting the build";
    case yidi::v1::CLAIM_STATE_CLEARED: return "cleared";
    case yidi::v1::CLAIM_STATE_EXCLUDED: return "EXCLUDED";
    default: return "?";
  }
}

void PrintClaim(const yidi::v1::ClearingClaim& c) {
  std::printf("%s  %s → %s  costs %s  %lld settlements  %s 元  lines %d  withheld %d  "
              "released %d",
              c.claim_id().c_str(), c.insured_region().c_str(), c.treatment_region().c_str(),
              c.clearing_month().c_str(), static_cast<long long>(c.settlement_count()),
              FormatYuan(c.total_fen()).c_str(), c.lines_size(), c.withheld_settlement_ids_size(),
              c.released_settlement_ids_size());
  if (!c.cleared_in_month().empty()) std::printf("  clearing %s", c.cleared_in_month().c_str());
  if (c.state() != yidi::v1::CLAIM_STATE_UNSPECIFIED) {
    std::printf("  %s", ClaimStateName(c.state()));
  }
  if (!c.reason().empty()) std::printf("\n    %s", c.reason().c_str());
  std::printf("\n");
}

void PrintBatch(const yidi::v1::ClaimBatch& b, bool replayed) {
  std::printf("batch %s  %s  from %s  %d claims  %lld settlements  %s 元%s\n",
              b.batch_id().c_str(), b.clearing_month().c_str(), b.from_region().c_str(),
              b.claims_size(), static_cast<long long>(b.settlement_count()),
              FormatYuan(b.total_fen()).c_str(), replayed ? "  (stored before)" : "");
}

constexpr char kDeclareUsage[] = "clearing declare --month=YYYY-MM   (--target: a treatment city)";
YIDICTL_COMMAND("clearing declare", kDeclareUsage, [](const Channel& channel, const Args& args) {
  std::string month;
  if (!args.empty() || !Month(&month)) return UsageError(kDeclareUsage);
  yidi::v1::DeclareClaimsRequest request;
  request.set_clearing_month(month);
  yidi::v1::DeclareClaimsResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = yidi::v1::ClearingService::NewStub(channel)->DeclareClaims(
      context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);  // stored: run it again to resend
  PrintBatch(response.batch(), response.replayed());
  for (const auto& claim : response.batch().claims()) PrintClaim(claim);
  for (const auto& claim : response.accepted()) {
    std::printf("province: %s → clearing %s\n", claim.claim_id().c_str(),
                claim.cleared_in_month().c_str());
  }
  return yidictl::kExitOk;
});

constexpr char kSubmitClaimsUsage[] =
    "clearing submit-claims --month=YYYY-MM   (--target: a province)";
YIDICTL_COMMAND("clearing submit-claims", kSubmitClaimsUsage, [](const Channel& channel,
                                                                  const Args& args) {
  std::string month;
  if (!args.empty() || !Month(&month)) return UsageError(kSubmitClaimsUsage);
  yidi::v1::ForwardClaimsRequest request;
  request.set_clearing_month(month);
  yidi::v1::ForwardClaimsResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = yidi::v1::ClearingService::NewStub(channel)->ForwardClaims(
      context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  PrintBatch(response.batch(), response.replayed());
  for (const auto& claim : response.batch().claims()) PrintClaim(claim);
  return yidictl::kExitOk;
});

constexpr char kClaimsUsage[] = "clearing claims --month=YYYY-MM";
YIDICTL_COMMAND("clearing claims", kClaimsUsage, [](const Channel& channel, const Args& args) {
  std::string month;
  if (!args.empty() || !Month(&month)) return UsageError(kClaimsUsage);
  yidi::v1::ListClaimsRequest request;
  request.set_clearing_month(month);
  yidi::v1::ListClaimsResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = yidi::v1::ClearingService::NewStub(channel)->ListClaims(
      context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  for (const auto& claim : response.claims()) PrintClaim(claim);
  std::printf("%d claims; %lld settlements held pending here\n", response.claims_size(),
              static_cast<long long>(response.pending_count()));
  return yidictl::kExitOk;
});

constexpr char kTraceUsage[] = "clearing trace INSURED TREATMENT --month=YYYY-MM";
YIDICTL_COMMAND("clearing trace", kTraceUsage, [](const Channel& channel, const Args& args) {
  std::string month;
  if (args.size() != 2 || !Month(&month)) return UsageError(kTraceUsage);
  yidi::v1::TraceClearingRequest request;
  request.set_clearing_month(month);
  request.set_insured_region(args[0]);
  request.set_treatment_region(args[1]);
  yidi::v1::TraceClearingResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = yidi::v1::ClearingService::NewStub(channel)->TraceClearing(
      context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  for (const auto& id : response.settlement_ids()) std::printf("settlement %s\n", id.c_str());
  for (const auto& id : response.deduction_ids()) std::printf("deduction %s\n", id.c_str());
  if (response.truncated()) std::printf("(truncated)\n");
  return yidictl::kExitOk;
});

constexpr char kCombinedUsage[] =
    "clearing combined PROVINCE --month=YYYY-MM --national_target=HOST:PORT "
    "[--clearing_format=csv|html]   (--target: the province's node)";
YIDICTL_COMMAND("clearing combined", kCombinedUsage, [](const Channel& channel,
                                                         const Args& args) {
  std::string month;
  const std::string national = absl::GetFlag(FLAGS_national_target);
  if (args.size() != 1 || !Month(&month) || national.empty()) return UsageError(kCombinedUsage);
  auto fetch = [&](const Channel& ch, yidi::v1::Clearing* out) {
    yidi::v1::GetClearingRequest request;
    request.set_clearing_month(month);
    request.set_region(args[0]);
    yidi::v1::GetClearingResponse response;
    auto context = yidictl::MakeContext();
    grpc::Status status =
        yidi::v1::ClearingService::NewStub(ch)->GetClearing(context.get(), request, &response);
    *out = response.clearing();
    return status;
  };
  yidi::v1::Clearing cross, intra;
  grpc::Status status =
      fetch(yidictl::ChannelTo(national), &cross);
  if (!status.ok()) return yidictl::Fail(status);
  status = fetch(channel, &intra);
  if (!status.ok()) return yidictl::Fail(status);
  const yidi::ClearingTable table = yidi::CombinedProvinceTable(
      cross, intra, args[0], [](const std::string& code) { return code; }, intra.built_on());
  std::printf("%s\n", absl::GetFlag(FLAGS_clearing_format) == "html"
                          ? yidi::RenderHtml(table).c_str()
                          : yidi::RenderCsv(table).c_str());
  return yidictl::kExitOk;
});

}  // namespace
