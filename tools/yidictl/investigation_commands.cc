// yidictl commands of fee investigations (InvestigationService, docs/COLLABORATION.md):
//   investigation open FILE            OpenInvestigationRequest (text format), on the insured node
//   investigation amend FILE           AmendInvestigationRequest; refused once summarised
//   investigation withdraw ID
//   investigation answer ID correct|incorrect [REASON]     on the treatment region's node
//   investigation confirm ID           on the insured node
//   investigation dispute ID REASON
//   investigation close --period=YYYY-MM   national / province: close the period and publish
//   investigation list [--period=YYYY-MM]  this node's copies
//   investigation stats --period=YYYY-MM   completion statistics
// The period is a flag like the other commands' months (--month); the older positional form
// (`investigation stats 2026-11`) is still accepted.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "common/config.h"
#include "common/id_number.h"
#include "common/money.h"
#include "tools/yidictl/command.h"
#include "yidi/v1/investigation.grpc.pb.h"

ABSL_FLAG(std::string, period, "",
          "investigation close / list / stats: the period YYYY-MM (closed at 00:00 CST on its "
          "26th)");

namespace {

using Args = std::vector<std::string>;
using Channel = std::shared_ptr<grpc::Channel>;
using yidi::v1::InvestigationService;

int Usage(const char* text) {
  std::cerr << "usage: yidictl investigation " << text << "\n";
  return yidictl::kExitUsage;
}

void Print(const yidi::v1::Investigation& i) {
  if (absl::GetFlag(FLAGS_text)) {
    std::cout << i.DebugString();
    return;
  }
  std::cout << absl::StrFormat(
      "%-24s %-7s %s → %s  %-10s %-16s %12s 元  %s  due %s%s%s\n", i.investigation_id(),
      i.period(), i.insured_region(), i.treatment_region(),
      yidi::v1::InvestigationState_Name(i.state()).substr(20),
      yidi::MaskIdNumber(i.subject().id_number()), yidi::FormatYuan(i.subject().total_fen()),
      i.summarised_at().empty() ? "open-for-edits" : "summarised", i.answer_due_date(),
      i.finding() == yidi::v1::INVESTIGATION_FINDING_UNSPECIFIED
          ? ""
          : absl::StrCat("  ", yidi::v1::InvestigationFinding_Name(i.finding()).substr(22),
                         i.answered_late() ? " (late)" : "", " ", i.finding_reason()),
      i.carried_to_period().empty() ? "" : absl::StrCat("  carried to ", i.carried_to_period()));
}

int Respond(const grpc::Status& status, const yidi::v1::InvestigationResponse& response) {
  if (!status.ok()) return yidictl::Fail(status);
  Print(response.investigation());
  if (response.replayed()) std::cout << "(replayed: the stored result)\n";
  return yidictl::kExitOk;
}

// The period of a command: --period, or the one positional argument of the older form.
// Returns false (a usage error) when there are more arguments, or both disagree. `required`:
// some period must be given.
bool PeriodOf(const Args& args, bool required, std::string* period) {
  *period = absl::GetFlag(FLAGS_period);
  if (args.size() > 1) return false;
  if (args.size() == 1) {
    if (!period->empty() && *period != args[0]) {
      std::cerr << "--period=" << *period << " and the argument " << args[0] << " disagree\n";
      return false;
    }
    *period = args[0];
  }
  return !required || !period->empty();
}

template <typename Request>
bool Load(const Args& args, Request* request) {
  if (args.size() != 1) return false;
  if (absl::Status loaded = yidi::LoadTextProtoFile(args[0], request); !loaded.ok()) {
    std::cerr << loaded << "\n";
    return false;
  }
  return true;
}

YIDICTL_COMMAND("investigation open", "investigation open FILE (OpenInvestigationRequest)",
                [](const Channel& channel, const Args& args) {
                  yidi::v1::OpenInvestigationRequest request;
                  if (!Load(args, &request)) return Usage("open FILE");
                  yidi::v1::InvestigationResponse response;
                  auto context = yidictl::MakeContext();
                  return Respond(InvestigationService::NewStub(channel)->OpenInvestigation(
                                     context.get(), request, &response),
                                 response);
                });

YIDICTL_COMMAND("investigation amend", "investigation amend FILE (AmendInvestigationRequest)",
                [](const Channel& channel, const Args& args) {
                  yidi::v1::AmendInvestigationRequest request;
                  if (!Load(args, &request)) return Usage("amend FILE");
                  yidi::v1::InvestigationResponse response;
                  auto context = yidictl::MakeContext();
                  return Respond(InvestigationService::NewStub(channel)->AmendInvestigation(
                                     context.get(), request, &response),
                                 response);
                });

YIDICTL_COMMAND("investigation withdraw", "investigation withdraw ID",
                [](const Channel& channel, const Args& args) {
                  if (args.size() != 1) return Usage("withdraw ID");
                  yidi::v1::WithdrawInvestigationRequest request;
                  request.set_investigation_id(args[0]);
                  yidi::v1::InvestigationResponse response;
                  auto context = yidictl::MakeContext();
                  return Respond(InvestigationService::NewStub(channel)->WithdrawInvestigation(
                                     context.get(), request, &response),
                                 response);
                });

YIDICTL_COMMAND("investigation answer",
                "investigation answer ID correct|incorrect [REASON]  (核查无误 / 核查有误)",
                [](const Channel& channel, const Args& args) {
                  if (args.size() < 2 || args.size() > 3 ||
                      (args[1] != "correct" && args[1] != "incorrect")) {
                    return Usage("answer ID correct|incorrect [REASON]");
                  }
                  yidi::v1::AnswerInvestigationRequest request;
                  request.set_investigation_id(args[0]);
                  request.set_finding(args[1] == "correct"
                                          ? yidi::v1::INVESTIGATION_FINDING_VERIFIED_CORRECT
                                          : yidi::v1::INVESTIGATION_FINDING_VERIFIED_INCORRECT);
                  if (args.size() == 3) request.set_finding_reason(args[2]);
                  yidi::v1::InvestigationResponse response;
                  auto context = yidictl::MakeContext();
                  return Respond(InvestigationService::NewStub(channel)->AnswerInvestigation(
                                     context.get(), request, &response),
                                 response);
                });

int ConfirmOrDispute(const Channel& channel, const std::string& id, bool dispute,
                     const std::string& reason) {
  yidi::v1::ConfirmInvestigationRequest request;
  request.set_investigation_id(id);
  request.set_dispute(dispute);
  request.set_dispute_reason(reason);
  yidi::v1::InvestigationResponse response;
  auto context = yidictl::MakeContext();
  return Respond(InvestigationService::NewStub(channel)->ConfirmInvestigation(context.get(),
                                                                              request, &response),
                 response);
}

YIDICTL_COMMAND("investigation confirm", "investigation confirm ID",
                [](const Channel& channel, const Args& args) {
                  if (args.size() != 1) return Usage("confirm ID");
                  return ConfirmOrDispute(channel, args[0], false, "");
                });

YIDICTL_COMMAND("investigation dispute", "investigation dispute ID REASON",
                [](const Channel& channel, const Args& args) {
                  if (args.size() != 2) return Usage("dispute ID REASON");
                  return ConfirmOrDispute(channel, args[0], true, args[1]);
                });

YIDICTL_COMMAND("investigation close",
                "investigation close --period=YYYY-MM  (national or a province, from 00:00 on "
                "the 26th)",
                [](const Channel& channel, const Args& args) {
                  std::string period;
                  if (!PeriodOf(args, true, &period)) return Usage("close --period=YYYY-MM");
                  yidi::v1::CloseInvestigationPeriodRequest request;
                  request.set_period(period);
                  yidi::v1::CloseInvestigationPeriodResponse response;
                  auto context = yidictl::MakeContext();
                  grpc::Status status = InvestigationService::NewStub(channel)
                                            ->CloseInvestigationPeriod(context.get(), request,
                                                                       &response);
                  if (!status.ok()) return yidictl::Fail(status);
                  if (absl::GetFlag(FLAGS_text)) {
                    std::cout << response.DebugString();
                    return yidictl::kExitOk;
                  }
                  for (const auto& summary : response.summaries()) {
                    std::cout << absl::StrFormat("%s → %s: %d requests (%d carried over)\n",
                                                 summary.period(), summary.treatment_region(),
                                                 summary.investigation_ids_size(),
                                                 summary.carried_over_ids_size());
                  }
                  for (const auto& region : response.undelivered_regions()) {
                    std::cout << "not delivered to " << region << " (close again to retry)\n";
                  }
                  return yidictl::kExitOk;
                });

YIDICTL_COMMAND("investigation list", "investigation list [--period=YYYY-MM]",
                [](const Channel& channel, const Args& args) {
                  std::string period;
                  if (!PeriodOf(args, false, &period)) return Usage("list [--period=YYYY-MM]");
                  yidi::v1::ListInvestigationsRequest request;
                  request.set_period(period);
                  yidi::v1::ListInvestigationsResponse response;
                  auto context = yidictl::MakeContext();
                  grpc::Status status = InvestigationService::NewStub(channel)->ListInvestigations(
                      context.get(), request, &response);
                  if (!status.ok()) return yidictl::Fail(status);
                  for (const auto& i : response.investigations()) Print(i);
                  return yidictl::kExitOk;
                });

YIDICTL_COMMAND("investigation stats",
                "investigation stats --period=YYYY-MM  (completion statistics of the period)",
                [](const Channel& channel, const Args& args) {
                  std::string period;
                  if (!PeriodOf(args, true, &period)) return Usage("stats --period=YYYY-MM");
                  yidi::v1::GetInvestigationStatisticsRequest request;
                  request.set_period(period);
                  yidi::v1::InvestigationStatistics s;
                  auto context = yidictl::MakeContext();
                  grpc::Status status = InvestigationService::NewStub(channel)
                                            ->GetInvestigationStatistics(context.get(), request,
                                                                         &s);
                  if (!status.ok()) return yidictl::Fail(status);
                  std::cout << s.DebugString();
                  std::cout << absl::StrFormat("completion rate: %d.%02d%%\n",
                                               s.completion_rate_bp() / 100,
                                               s.completion_rate_bp() % 100);
                  return yidictl::kExitOk;
                });

}  // namespace
