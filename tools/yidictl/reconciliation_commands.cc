// yidictl commands of daily reconciliation (ReconciliationService, docs/RECONCILIATION.md):
//   reconcile totals --day D [--counterparty R]       the node's day totals per pair (元)
//   reconcile detail --day D --insured_region I --treatment_region T [--page_size N]
//   reconcile run --day D                             run the day now (provincial, national)
//   reconcile report --day D                          the day's stored report
//   reconcile institution --day D --institution H --request_id ID --count N --total_fen F
//       --fund_fen F --account_fen F                  an institution's day totals (municipal)
//   reconcile offset --settlement_id S --correction_id C --reason TEXT   冲减 one record here
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/money.h"
#include "grpcpp/grpcpp.h"
#include "tools/yidictl/command.h"
#include "yidi/v1/reconciliation.grpc.pb.h"

ABSL_FLAG(std::string, day, "", "reconcile: the CST day YYYY-MM-DD");
ABSL_FLAG(std::string, page_token, "", "reconcile detail: the next_page_token of the last page");
ABSL_FLAG(std::string, correction_id, "", "reconcile offset: the correction's idempotency key");
ABSL_FLAG(int64_t, count, 0, "reconcile institution: the institution's settlement count");
ABSL_FLAG(int64_t, total_fen, 0, "reconcile institution: total (fen, reversals negative)");
ABSL_FLAG(int64_t, fund_fen, 0, "reconcile institution: fund total (fen)");
ABSL_FLAG(int64_t, account_fen, 0, "reconcile institution: personal account total (fen)");
// Shared with the other areas of the CLI (defined in their files).
ABSL_DECLARE_FLAG(std::string, counterparty);
ABSL_DECLARE_FLAG(int, page_size);
ABSL_DECLARE_FLAG(std::string, insured_region);
ABSL_DECLARE_FLAG(std::string, treatment_region);
ABSL_DECLARE_FLAG(std::string, institution);
ABSL_DECLARE_FLAG(std::string, request_id);
ABSL_DECLARE_FLAG(std::string, settlement_id);
ABSL_DECLARE_FLAG(std::string, reason);

namespace {

using Channel = std::shared_ptr<grpc::Channel>;
using Args = std::vector<std::string>;
using yidi::FormatYuan;

std::string Short(const std::string& enum_name, const std::string& prefix) {
  return enum_name.rfind(prefix, 0) == 0 ? enum_name.substr(prefix.size()) : enum_name;
}
std::string StateName(yidi::v1::SettlementState state) {
  return Short(yidi::v1::SettlementState_Name(state), "SETTLEMENT_STATE_");
}

bool NeedDay() {
  if (!absl::GetFlag(FLAGS_day).empty()) return true;
  std::cerr << "--day=YYYY-MM-DD is required\n";
  return false;
}

int Totals(const Channel& channel, const Args&) {
  if (!NeedDay()) return yidictl::kExitUsage;
  auto stub = yidi::v1::ReconciliationService::NewStub(channel);
  yidi::v1::GetDayTotalsRequest request;
  request.set_day(absl::GetFlag(FLAGS_day));
  request.set_counterparty(absl::GetFlag(FLAGS_counterparty));
  // The day's totals come in pages (D412); the operator wants the whole day, so every page is
  // fetched, each call with its own deadline.
  yidi::v1::GetDayTotalsResponse response;
  for (;;) {
    yidi::v1::GetDayTotalsResponse page;
    auto context = yidictl::MakeContext();
    grpc::Status status = stub->GetDayTotals(context.get(), request, &page);
    if (!status.ok()) return yidictl::Fail(status);
    if (absl::GetFlag(FLAGS_text)) std::cout << page.DebugString();
    const std::string next = page.next_page_token();
    if (response.node().empty()) {
      response = std::move(page);
    } else {
      for (auto& group : *page.mutable_groups()) *response.add_groups() = std::move(group);
    }
    if (next.empty()) break;
    request.set_page_token(next);
  }
  if (absl::GetFlag(FLAGS_text)) return yidictl::kExitOk;
  std::cout << response.node() << ", " << response.day() << "\n";
  std::cout << absl::StrFormat("%-7s %-9s %-9s %-8s %8s %16s %16s %16s\n", "insured",
                               "treatment", "state", "kind", "count", "total (元)", "fund (元)",
                               "account (元)");
  for (const auto& g : response.groups()) {
    std::cout << absl::StrFormat(
        "%-7s %-9s %-9s %-8s %8d %16s %16s %16s\n", g.insured_region(), g.treatment_region(),
        StateName(g.state()), Short(yidi::v1::SettlementKind_Name(g.kind()), "SETTLEMENT_KIND_"),
        g.count(), FormatYuan(g.total_fen()), FormatYuan(g.fund_total_fen()),
        FormatYuan(g.personal_account_fen()));
  }
  return yidictl::kExitOk;
}

int Detail(const Channel& channel, const Args&) {
  if (!NeedDay()) return yidictl::kExitUsage;
  auto stub = yidi::v1::ReconciliationService::NewStub(channel);
  yidi::v1::GetDayDetailRequest request;
  request.set_day(absl::GetFlag(FLAGS_day));
  request.set_insured_region(absl::GetFlag(FLAGS_insured_region));
  request.set_treatment_region(absl::GetFlag(FLAGS_treatment_region));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  yidi::v1::GetDayDetailResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->GetDayDetail(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  if (absl::GetFlag(FLAGS_text)) {
    std::cout << response.DebugString();
    return yidictl::kExitOk;
  }
  for (const auto& e : response.entries()) {
    std::cout << absl::StrFormat("%-40s %-9s %14s %14s %14s  confirmed %s\n", e.settlement_id(),
                                 StateName(e.state()), FormatYuan(e.total_fen()),
                                 FormatYuan(e.fund_total_fen()),
                                 FormatYuan(e.personal_account_fen()),
                                 e.institution_confirmed_on().empty()
                                     ? std::string("-")
                                     : e.institution_confirmed_on());
  }
  if (!response.next_page_token().empty()) {
    std::cout << "next: --page_token=" << response.next_page_token() << "\n";
  }
  return yidictl::kExitOk;
}

int PrintReport(const yidi::v1::ReconciliationReport& report) {
  if (absl::GetFlag(FLAGS_text)) {
    std::cout << report.DebugString();
  } else {
    std::cout << report.node() << ", " << report.day() << ": "
              << Short(yidi::v1::RunStatus_Name(report.status()), "RUN_STATUS_") << " (attempt "
              << report.attempts() << ", " << report.last_attempt_at() << ")\n"
              << "pairs compared " << report.pairs_compared() << ", differing "
              << report.pairs_differing() << "; differences " << report.differences_found()
              << ", resolved " << report.differences_resolved() << ", open "
              << report.differences_open() << "\n";
    if (!report.error().empty()) std::cout << "error: " << report.error() << "\n";
    for (const auto& d : report.differences()) {
      std::cout << (d.resolved() ? "  resolved " : "  OPEN     ") << d.settlement_id() << " "
                << Short(yidi::v1::DifferenceKind_Name(d.kind()), "DIFFERENCE_KIND_") << " ("
                << d.insured_region() << "<-" << d.treatment_region() << ")\n      "
                << d.detail() << "\n      " << d.resolution() << "\n";
    }
  }
  // Exit 2 when something stays open or failed, so a cron job notices.
  return report.status() == yidi::v1::RUN_STATUS_BALANCED ? yidictl::kExitOk
                                                          : yidictl::kExitRemoteError;
}

int Run(const Channel& channel, const Args&) {
  if (!NeedDay()) return yidictl::kExitUsage;
  auto stub = yidi::v1::ReconciliationService::NewStub(channel);
  yidi::v1::RunReconciliationRequest request;
  request.set_day(absl::GetFlag(FLAGS_day));
  yidi::v1::ReconciliationReport report;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->RunReconciliation(context.get(), request, &report);
  if (!status.ok()) return yidictl::Fail(status);
  return PrintReport(report);
}

int Report(const Channel& channel, const Args&) {
  if (!NeedDay()) return yidictl::kExitUsage;
  auto stub = yidi::v1::ReconciliationService::NewStub(channel);
  yidi::v1::GetReconciliationReportRequest request;
  request.set_day(absl::GetFlag(FLAGS_day));
  yidi::v1::ReconciliationReport report;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->GetReconciliationReport(context.get(), request, &report);
  if (!status.ok()) return yidictl::Fail(status);
  return PrintReport(report);
}

int Institution(const Channel& channel, const Args&) {
  if (!NeedDay()) return yidictl::kExitUsage;
  auto stub = yidi::v1::ReconciliationService::NewStub(channel);
  yidi::v1::SubmitInstitutionDayTotalsRequest request;
  request.set_day(absl::GetFlag(FLAGS_day));
  request.set_institution_code(absl::GetFlag(FLAGS_institution));
  request.set_request_id(absl::GetFlag(FLAGS_request_id));
  request.set_count(absl::GetFlag(FLAGS_count));
  request.set_total_fen(absl::GetFlag(FLAGS_total_fen));
  request.set_fund_total_fen(absl::GetFlag(FLAGS_fund_fen));
  request.set_personal_account_fen(absl::GetFlag(FLAGS_account_fen));
  yidi::v1::SubmitInstitutionDayTotalsResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->SubmitInstitutionDayTotals(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  if (absl::GetFlag(FLAGS_text)) {
    std::cout << response.DebugString();
  } else {
    std::cout << (response.matched() ? "matched" : "MISMATCH") << ": the node has "
              << response.count() << " settlements, " << FormatYuan(response.total_fen())
              << " 元 total, " << FormatYuan(response.fund_total_fen()) << " fund, "
              << FormatYuan(response.personal_account_fen()) << " account";
    if (response.matched()) std::cout << "; " << response.confirmed() << " confirmed";
    std::cout << (response.replayed() ? " (replayed)" : "") << "\n";
    for (const auto& d : response.differences()) {
      std::cout << "  " << d.settlement_id() << ": " << d.reason() << "\n";
    }
  }
  return response.matched() ? yidictl::kExitOk : yidictl::kExitRemoteError;
}

int Offset(const Channel& channel, const Args&) {
  auto stub = yidi::v1::ReconciliationService::NewStub(channel);
  yidi::v1::ApplyCorrectionRequest request;
  request.set_correction_id(absl::GetFlag(FLAGS_correction_id));
  request.set_settlement_id(absl::GetFlag(FLAGS_settlement_id));
  request.set_action(yidi::v1::CORRECTION_ACTION_OFFSET);
  request.set_reason(absl::GetFlag(FLAGS_reason));
  request.set_requested_by("yidictl");
  yidi::v1::ApplyCorrectionResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->ApplyCorrection(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  std::cout << request.settlement_id() << ": " << StateName(response.previous_state()) << " -> "
            << StateName(response.state()) << (response.replayed() ? " (replayed)" : "") << "\n";
  return yidictl::kExitOk;
}

}  // namespace

YIDICTL_COMMAND("reconcile totals",
                "reconcile totals --day=D [--counterparty=R]   day totals per pair of regions",
                Totals);
YIDICTL_COMMAND("reconcile detail",
                "reconcile detail --day=D --insured_region=I --treatment_region=T "
                "[--page_size=N] [--page_token=T]",
                Detail);
YIDICTL_COMMAND("reconcile run",
                "reconcile run --day=D       reconcile the day now (provincial, national; exit 2 "
                "unless balanced)",
                Run);
YIDICTL_COMMAND("reconcile report", "reconcile report --day=D    the day's stored report",
                Report);
YIDICTL_COMMAND("reconcile institution",
                "reconcile institution --day=D --institution=H --request_id=ID --count=N "
                "--total_fen=F --fund_fen=F --account_fen=F   an institution's day totals",
                Institution);
YIDICTL_COMMAND("reconcile offset",
                "reconcile offset --settlement_id=S --correction_id=C --reason=TEXT   冲减 a "
                "record at this node",
                Offset);
