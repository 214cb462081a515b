// yidictl commands of collaboration tickets (TicketService, docs/COLLABORATION.md):
//   ticket open FILE              OpenTicketRequest (text format), on the requester's node
//   ticket reply ID TEXT          on the first responder's node
//   ticket log ID TEXT            a handling log entry (first responder)
//   ticket extend ID DAYS         the agreed extension (requester)
//   ticket confirm ID | ticket dispute ID REASON | ticket escalate ID NEW_ID   (requester)
//   ticket list [overdue]         this node's tickets; overdue ones with how late they are
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "common/config.h"
#include "common/routing.h"
#include "tools/yidictl/command.h"
#include "yidi/v1/ticket.grpc.pb.h"

namespace {

using Args = std::vector<std::string>;
using Channel = std::shared_ptr<grpc::Channel>;
using yidi::v1::TicketService;

int Usage(const char* text) {
  std::cerr << "usage: yidictl ticket " << text << "\n";
  return yidictl::kExitUsage;
}

std::string Name(const yidi::v1::Agency& agency) {
  return yidi::NodeName(agency.kind(), agency.region_code());
}

void Print(const yidi::v1::Ticket& t, int late) {
  if (absl::GetFlag(FLAGS_text)) {
    std::cout << t.DebugString();
    return;
  }
  std::cout << absl::StrFormat("%-20s %-18s %s → %s  %-14s reply due %s%s  %s\n", t.ticket_id(),
                               yidi::v1::TicketProblemType_Name(t.problem_type()).substr(20),
                               Name(t.requester()), Name(t.target()),
                               yidi::v1::TicketState_Name(t.state()).substr(13),
                               t.reply_due_date(),
                               late > 0 ? absl::StrFormat(" (%d WD late)", late) : "",
                               t.main_issue());
}

int Respond(const grpc::Status& status, const yidi::v1::TicketResponse& response) {
  if (!status.ok()) return yidictl::Fail(status);
  Print(response.ticket(), 0);
  if (response.replayed()) std::cout << "(replayed: the stored result)\n";
  return yidictl::kExitOk;
}

YIDICTL_COMMAND("ticket open", "ticket open FILE (OpenTicketRequest)",
                [](const Channel& channel, const Args& args) {
                  yidi::v1::OpenTicketRequest request;
                  if (args.size() != 1) return Usage("open FILE");
                  if (absl::Status loaded = yidi::LoadTextProtoFile(args[0], &request);
                      !loaded.ok()) {
                    std::cerr << loaded << "\n";
                    return yidictl::kExitUsage;
                  }
                  yidi::v1::TicketResponse response;
                  auto context = yidictl::MakeContext();
                  return Respond(
                      TicketService::NewStub(channel)->OpenTicket(context.get(), request, &response),
                      response);
                });

YIDICTL_COMMAND("ticket reply", "ticket reply ID TEXT", [](const Channel& channel, const Args& args) {
  if (args.size() != 2) return Usage("reply ID TEXT");
  yidi::v1::ReplyTicketRequest request;
  request.set_ticket_id(args[0]);
  request.set_reply(args[1]);
  yidi::v1::TicketResponse response;
  auto context = yidictl::MakeContext();
  return Respond(TicketService::NewStub(channel)->ReplyTicket(context.get(), request, &response),
                 response);
});

YIDICTL_COMMAND("ticket log", "ticket log ID TEXT", [](const Channel& channel, const Args& args) {
  if (args.size() != 2) return Usage("log ID TEXT");
  yidi::v1::LogTicketHandlingRequest request;
  request.set_ticket_id(args[0]);
  request.set_entry(args[1]);
  yidi::v1::TicketResponse response;
  auto context = yidictl::MakeContext();
  return Respond(
      TicketService::NewStub(channel)->LogTicketHandling(context.get(), request, &response),
      response);
});

YIDICTL_COMMAND("ticket extend", "ticket extend ID DAYS", [](const Channel& channel, const Args& args) {
  int days = 0;
  if (args.size() != 2 || !absl::SimpleAtoi(args[1], &days)) return Usage("extend ID DAYS");
  yidi::v1::ExtendTicketRequest request;
  request.set_ticket_id(args[0]);
  request.set_extension_working_days(days);
  yidi::v1::TicketResponse response;
  auto context = yidictl::MakeContext();
  return Respond(TicketService::NewStub(channel)->ExtendTicket(context.get(), request, &response),
                 response);
});

int ConfirmOrDispute(const Channel& channel, const std::string& id, bool dispute,
                     const std::string& reason) {
  yidi::v1::ConfirmTicketRequest request;
  request.set_ticket_id(id);
  request.set_dispute(dispute);
  request.set_dispute_reason(reason);
  yidi::v1::TicketResponse response;
  auto context = yidictl::MakeContext();
  return Respond(TicketService::NewStub(channel)->ConfirmTicket(context.get(), request, &response),
                 response);
}

YIDICTL_COMMAND("ticket confirm", "ticket confirm ID", [](const Channel& channel, const Args& args) {
  if (args.size() != 1) return Usage("confirm ID");
  return ConfirmOrDispute(channel, args[0], false, "");
});

YIDICTL_COMMAND("ticket dispute", "ticket dispute ID REASON",
                [](const Channel& channel, const Args& args) {
                  if (args.size() != 2) return Usage("dispute ID REASON");
                  return ConfirmOrDispute(channel, args[0], true, args[1]);
                });

YIDICTL_COMMAND("ticket escalate", "ticket escalate ID NEW_ID  (raise to the next level up)",
                [](const Channel& channel, const Args& args) {
                  if (args.size() != 2) return Usage("escalate ID NEW_ID");
                  yidi::v1::EscalateTicketRequest request;
                  request.set_ticket_id(args[0]);
                  request.set_new_ticket_id(args[1]);
                  yidi::v1::TicketResponse response;
                  auto context = yidictl::MakeContext();
                  return Respond(TicketService::NewStub(channel)->EscalateTicket(
                                     context.get(), request, &response),
                                 response);
                });

YIDICTL_COMMAND("ticket list", "ticket list [overdue]", [](const Channel& channel, const Args& args) {
  if (args.size() > 1 || (args.size() == 1 && args[0] != "overdue")) return Usage("list [overdue]");
  yidi::v1::ListTicketsRequest request;
  request.set_overdue_only(!args.empty());
  yidi::v1::ListTicketsResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = TicketService::NewStub(channel)->ListTickets(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  for (const auto& listed : response.tickets()) Print(listed.ticket(), listed.working_days_late());
  return yidictl::kExitOk;
});

}  // namespace
