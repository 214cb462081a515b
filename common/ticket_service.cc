#include "common/ticket_service.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/digest.h"
#include "common/grpc_status.h"
#include "common/id_number.h"
#include "common/investigation.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/proto_column.h"
#include "common/settlement_relay.h"
#include "common/status_macros.h"
#include "common/ticket.h"
#include "common/unary_handler.h"

namespace yidi {
namespace {

using yidi::v1::Agency;
using yidi::v1::Ticket;

struct StoredTicket {
  Ticket ticket;
  std::string request_digest;
};

bool IsSelf(const NodeContext& context, const Agency& agency) {
  return agency.kind() == context.identity.kind &&
         agency.region_code() == context.identity.region_code;
}

Agency SelfAgency(const NodeContext& context) {
  Agency self;
  self.set_kind(context.identity.kind);
  self.set_region_code(context.identity.region_code);
  return self;
}

absl::StatusOr<std::optional<StoredTicket>> FindTicket(Transaction& tx, absl::string_view id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT request_digest, body, state, version FROM ticket "
                                       "WHERE ticket_id = ?",
                                       {std::string(id)}));
  if (rows.empty()) return std::nullopt;
  StoredTicket stored;
  stored.request_digest = rows[0].Text(0);
  RETURN_IF_ERROR(
      DecodeProtoColumn(rows[0].Text(1), absl::StrCat("ticket ", id), &stored.ticket));
  if (stored.ticket.ticket_id() != id || stored.ticket.state() != rows[0].Int(2) ||
      stored.ticket.version() != rows[0].Int(3)) {
    return absl::InternalError(absl::StrCat("ticket ", id, ": body disagrees with its columns"));
  }
  return stored;
}

absl::Status WriteTicket(Transaction& tx, const Ticket& ticket, const std::string* digest,
                         absl::Time now) {
  const std::string at = FormatCstTimestamp(now);
  if (digest != nullptr) {
    return tx.Execute("INSERT INTO ticket (ticket_id, request_digest, state, version, body, "
                      "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                      {ticket.ticket_id(), *digest, static_cast<int64_t>(ticket.state()),
                       ticket.version(), EncodeProtoColumn(ticket), at})
        .status();
  }
  ASSIGN_OR_RETURN(int64_t changed,
                   tx.Execute("UPDATE ticket SET state = ?, version = ?, body = ?, updated_at = ? "
                              "WHERE ticket_id = ?",
                              {static_cast<int64_t>(ticket.state()), ticket.version(),
                               EncodeProtoColumn(ticket), at, ticket.ticket_id()}));
  YIDI_CHECK(changed == 1, "a ticket is updated only after it was read in this transaction");
  return absl::OkStatus();
}

// Runs one change on an existing ticket in a write transaction: `change` returns true when it
// changed the ticket (version bumped and stored), false for a replay.
template <typename Change>
absl::StatusOr<TicketOutcome> ChangeTicket(NodeContext& context, absl::string_view id,
                                           Change change) {
  RETURN_IF_ERROR(ValidateInvestigationId("ticket_id", id));
  const absl::Time now = context.clock->Now();
  ASSIGN_OR_RETURN(auto tx, context.store->Begin(TransactionMode::kWrite));
  ASSIGN_OR_RETURN(auto found, FindTicket(*tx, id));
  if (!found.has_value()) {
    return absl::NotFoundError(absl::StrCat("ticket_id: ", id, " is not known here"));
  }
  TicketOutcome outcome;
  outcome.ticket = found->ticket;
  ASSIGN_OR_RETURN(bool changed, change(*tx, outcome, now));
  outcome.replayed = !changed;
  if (changed) {
    outcome.ticket.set_version(found->ticket.version() + 1);
    RETURN_IF_ERROR(WriteTicket(*tx, outcome.ticket, nullptr, now));
    RETURN_IF_ERROR(tx->Commit());
  }
  return outcome;
}

absl::Status CheckRole(const NodeContext& context, const Agency& role, absl::string_view what) {
  if (IsSelf(context, role)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("ticket: only the ", what, " (",
                                                    AgencyName(role), ") may do this; this is ",
                                                    context.name));
}

absl::Status CheckInvolved(const google::protobuf::RepeatedPtrField<Agency>& involved,
                           const DirectoryIndex& directory) {
  if (involved.size() > kTicketInvolvedAgenciesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("involved_agencies: at most ", kTicketInvolvedAgenciesMax));
  }
  for (const Agency& agency : involved) {
    if (directory.FindNode(agency.kind(), agency.region_code()) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("involved_agencies: ", AgencyName(agency), " is not in the directory"));
    }
  }
  return absl::OkStatus();
}

void AddInvolved(Ticket& ticket, const google::protobuf::RepeatedPtrField<Agency>& involved) {
  for (const Agency& agency : involved) {
    bool known = false;
    for (const Agency& have : ticket.involved_agencies()) {
      known = known || (have.kind() == agency.kind() && have.region_code() == agency.region_code());
    }
    if (!known) *ticket.add_involved_agencies() = agency;
  }
}

std::string LogEntry(const NodeContext& context, absl::Time now, absl::string_view text) {
  return absl::StrCat(FormatCstTimestamp(now), " ", context.name, ": ", text);
}

absl::Status AppendLog(Ticket& ticket, std::string entry) {
  if (ticket.handling_log_size() >= kTicketHandlingLogMax) {
    return absl::ResourceExhaustedError(
        absl::StrCat("ticket_id: ", ticket.ticket_id(), " has ", kTicketHandlingLogMax,
                     " handling log entries, the limit"));
  }
  ticket.add_handling_log(std::move(entry));
  return absl::OkStatus();
}

// A new ticket from this node, as stored at opening (and at escalation).
absl::StatusOr<Ticket> NewTicket(NodeContext& context, const yidi::v1::OpenTicketRequest& request,
                                 absl::Time now) {
  Ticket ticket;
  ticket.set_ticket_id(request.ticket_id());
  *ticket.mutable_requester() = SelfAgency(context);
  *ticket.mutable_target() = request.target();
  ticket.set_main_issue(request.main_issue());
  ticket.set_problem_type(request.problem_type());
  ticket.set_person_id_number(request.person_id_number());
  ticket.set_person_name(request.person_name());
  ticket.set_requested_working_days(request.requested_working_days());
  ticket.set_state(yidi::v1::TICKET_STATE_OPEN);
  ticket.set_version(1);
  ticket.set_opened_at(FormatCstTimestamp(now));
  ASSIGN_OR_RETURN(absl::CivilDay due, TicketReplyDueDay(context.calendar, ticket));
  ticket.set_reply_due_date(FormatDate(due));
  RETURN_IF_ERROR(AppendLog(ticket, LogEntry(context, now, "opened")));
  return ticket;
}

}  // namespace

absl::StatusOr<TicketOutcome> OpenTicketHere(NodeContext& context,
                                             const yidi::v1::OpenTicketRequest& request) {
  RETURN_IF_ERROR(ValidateOpenTicket(request, context.identity, context.directory));
  const std::string digest = DigestMessage(request);
  const absl::Time now = context.clock->Now();
  ASSIGN_OR_RETURN(auto tx, context.store->Begin(TransactionMode::kWrite));
  ASSIGN_OR_RETURN(auto found, FindTicket(*tx, request.ticket_id()));
  if (found.has_value()) {
    if (found->request_digest != digest) {
      return absl::AlreadyExistsError(absl::StrCat(
          "ticket_id: ", request.ticket_id(), " was already used for another ticket"));
    }
    return TicketOutcome{found->ticket, true, {}};
  }
  ASSIGN_OR_RETURN(Ticket ticket, NewTicket(context, request, now));
  RETURN_IF_ERROR(WriteTicket(*tx, ticket, &digest, now));
  RETURN_IF_ERROR(tx->Commit());
  LogInfo("ticket %s opened to %s (%s)%s", ticket.ticket_id(), AgencyName(ticket.target()),
          yidi::v1::TicketProblemType_Name(ticket.problem_type()),
          ticket.person_id_number().empty()
              ? ""
              : absl::StrCat(" about ", MaskIdNumber(ticket.person_id_number())));
  return TicketOutcome{ticket, false, {}};
}

absl::StatusOr<TicketOutcome> ReplyTicketHere(NodeContext& context,
                                              const yidi::v1::ReplyTicketRequest& request) {
  if (request.reply().empty() || request.reply().size() > static_cast<size_t>(kTicketTextLengthMax)) {
    return absl::InvalidArgumentError(
        absl::StrCat("reply: required, at most ", kTicketTextLengthMax, " bytes"));
  }
  RETURN_IF_ERROR(CheckInvolved(request.involved_agencies(), context.directory));
  return ChangeTicket(context, request.ticket_id(),
                      [&](Transaction&, TicketOutcome& o, absl::Time now) -> absl::StatusOr<bool> {
    Ticket& t = o.ticket;
    RETURN_IF_ERROR(CheckRole(context, t.target(), "first responder"));
    if (t.state() != yidi::v1::TICKET_STATE_OPEN) {
      if (t.reply() == request.reply()) return false;
      return absl::FailedPreconditionError(absl::StrCat(
          "ticket_id: ", t.ticket_id(), " is ", yidi::v1::TicketState_Name(t.state()),
          "; it was replied to already"));
    }
    const absl::CivilDay today = CstDay(now);
    ASSIGN_OR_RETURN(absl::CivilDay confirmation_due,
                     context.calendar.AddWorkingDays(today, kTicketAutoConfirmWorkingDays));
    auto due = ParseDate(t.reply_due_date());
    YIDI_CHECK(due.ok(), "a stored ticket carries its reply due date");
    t.set_state(yidi::v1::TICKET_STATE_REPLIED);
    t.set_reply(request.reply());
    t.set_replied_at(FormatCstTimestamp(now));
    t.set_replied_late(today > *due);
    t.set_confirmation_due_date(FormatDate(confirmation_due));
    AddInvolved(t, request.involved_agencies());
    RETURN_IF_ERROR(AppendLog(t, LogEntry(context, now, "replied")));
    return true;
  });
}

absl::StatusOr<TicketOutcome> LogTicketHandlingHere(
    NodeContext& context, const yidi::v1::LogTicketHandlingRequest& request) {
  if (request.entry().empty() || request.entry().size() > static_cast<size_t>(kTicketTextLengthMax)) {
    return absl::InvalidArgumentError(
        absl::StrCat("entry: required, at most ", kTicketTextLengthMax, " bytes"));
  }
  RETURN_IF_ERROR(CheckInvolved(request.involved_agencies(), context.directory));
  return ChangeTicket(context, request.ticket_id(),
                      [&](Transaction&, TicketOutcome& o, absl::Time now) -> absl::StatusOr<bool> {
    Ticket& t = o.ticket;
    RETURN_IF_ERROR(CheckRole(context, t.target(), "first responder"));
    const std::string entry = LogEntry(context, now, request.entry());
    // A retry of the same entry (same text, same second) is a replay.
    if (t.handling_log_size() > 0 && t.handling_log(t.handling_log_size() - 1) == entry) {
      return false;
    }
    AddInvolved(t, request.involved_agencies());
    RETURN_IF_ERROR(AppendLog(t, entry));
    return true;
  });
}

absl::StatusOr<TicketOutcome> ExtendTicketHere(NodeContext& context,
                                               const yidi::v1::ExtendTicketRequest& request) {
  if (request.extension_working_days() < 1 ||
      request.extension_working_days() > kTicketExtensionWorkingDaysMax) {
    return absl::InvalidArgumentError(absl::StrCat("extension_working_days: 1 to ",
                                                   kTicketExtensionWorkingDaysMax));
  }
  return ChangeTicket(context, request.ticket_id(),
                      [&](Transaction&, TicketOutcome& o, absl::Time now) -> absl::StatusOr<bool> {
    Ticket& t = o.ticket;
    RETURN_IF_ERROR(CheckRole(context, t.requester(), "requester"));
    if (t.extension_working_days() == request.extension_working_days()) return false;
    if (t.state() != yidi::v1::TICKET_STATE_OPEN) {
      return absl::FailedPreconditionError(absl::StrCat(
          "ticket_id: ", t.ticket_id(), " is ", yidi::v1::TicketState_Name(t.state()),
          "; only an open ticket is extended"));
    }
    t.set_extension_working_days(request.extension_working_days());
    ASSIGN_OR_RETURN(absl::CivilDay due, TicketReplyDueDay(context.calendar, t));
    t.set_reply_due_date(FormatDate(due));
    RETURN_IF_ERROR(AppendLog(
        t, LogEntry(context, now, absl::StrCat("extension agreed: ", request.extension_working_days(),
                                               " working days, reply due ", t.reply_due_date()))));
    return true;
  });
}

absl::StatusOr<TicketOutcome> ConfirmTicketHere(NodeContext& context,
                                                const yidi::v1::ConfirmTicketRequest& request) {
  if (request.dispute() && request.dispute_reason().empty()) {
    return absl::InvalidArgumentError("dispute_reason: required when disputing");
  }
  const auto target = request.dispute() ? yidi::v1::TICKET_STATE_DISPUTED
                                        : yidi::v1::TICKET_STATE_CONFIRMED;
  return ChangeTicket(context, request.ticket_id(),
                      [&](Transaction&, TicketOutcome& o, absl::Time now) -> absl::StatusOr<bool> {
    Ticket& t = o.ticket;
    RETURN_IF_ERROR(CheckRole(context, t.requester(), "requester"));
    if (t.state() == target && t.dispute_reason() == request.dispute_reason()) return false;
    if (IsTicketAutoConfirmDue(t, CstDay(now))) {
      return absl::FailedPreconditionError(absl::StrCat(
          "ticket_id: ", t.ticket_id(), " was confirmed automatically after ",
          t.confirmation_due_date()));
    }
    if (t.state() != yidi::v1::TICKET_STATE_REPLIED) {
      return absl::FailedPreconditionError(absl::StrCat(
          "ticket_id: ", t.ticket_id(), " is ", yidi::v1::TicketState_Name(t.state()),
          "; only a replied ticket is confirmed or disputed"));
    }
    t.set_state(target);
    t.set_confirmed_at(FormatCstTimestamp(now));
    t.set_dispute_reason(request.dispute_reason());
    RETURN_IF_ERROR(AppendLog(t, LogEntry(context, now, request.dispute() ? "disputed" : "confirmed")));
    return true;
  });
}

absl::StatusOr<TicketOutcome> EscalateTicketHere(NodeContext& context,
                                                 const yidi::v1::EscalateTicketRequest& request) {
  RETURN_IF_ERROR(ValidateInvestigationId("new_ticket_id", request.new_ticket_id()));
  return ChangeTicket(context, request.ticket_id(),
                      [&](Transaction& tx, TicketOutcome& o,
                          absl::Time now) -> absl::StatusOr<bool> {
    Ticket& t = o.ticket;
    RETURN_IF_ERROR(CheckRole(context, t.requester(), "requester"));
    if (t.state() == yidi::v1::TICKET_STATE_ESCALATED) {
      if (t.escalated_to_ticket_id() != request.new_ticket_id()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "ticket_id: ", t.ticket_id(), " was escalated already as ",
            t.escalated_to_ticket_id()));
      }
      ASSIGN_OR_RETURN(auto raised, FindTicket(tx, request.new_ticket_id()));
      YIDI_CHECK(raised.has_value(), "an escalation stores both tickets in one transaction");
      o.also_changed.push_back(raised->ticket);
      return false;
    }
    const absl::CivilDay today = CstDay(now);
    auto due = ParseDate(t.reply_due_date());
    YIDI_CHECK(due.ok(), "a stored ticket carries its reply due date");
    const bool unsolved = t.state() == yidi::v1::TICKET_STATE_OPEN && today > *due;
    if (t.state() != yidi::v1::TICKET_STATE_DISPUTED && !unsolved) {
      return absl::FailedPreconditionError(absl::StrCat(
          "ticket_id: ", t.ticket_id(), " is ", yidi::v1::TicketState_Name(t.state()),
          "; only a disputed ticket, or an open one past its reply due date, is raised again"));
    }
    ASSIGN_OR_RETURN(Agency up, TicketEscalationTarget(t));
    ASSIGN_OR_RETURN(auto taken, FindTicket(tx, request.new_ticket_id()));
    if (taken.has_value()) {
      return absl::AlreadyExistsError(
          absl::StrCat("new_ticket_id: ", request.new_ticket_id(), " is taken"));
    }
    yidi::v1::OpenTicketRequest raise;
    raise.set_ticket_id(request.new_ticket_id());
    *raise.mutable_target() = up;
    raise.set_main_issue(absl::StrCat(t.main_issue(), " [raised from ticket ", t.ticket_id(),
                                      " with ", AgencyName(t.target()), "]"));
    raise.set_problem_type(t.problem_type());
    raise.set_person_id_number(t.person_id_number());
    raise.set_person_name(t.person_name());
    raise.set_requested_working_days(t.requested_working_days());
    ASSIGN_OR_RETURN(Ticket raised, NewTicket(context, raise, now));
    raised.set_escalated_from_ticket_id(t.ticket_id());
    const std::string digest = DigestMessage(raise);
    RETURN_IF_ERROR(WriteTicket(tx, raised, &digest, now));
    t.set_state(yidi::v1::TICKET_STATE_ESCALATED);
    t.set_escalated_to_ticket_id(raised.ticket_id());
    RETURN_IF_ERROR(AppendLog(t, LogEntry(context, now, absl::StrCat("raised to ", AgencyName(up),
                                                                     " as ", raised.ticket_id()))));
    o.also_changed.push_back(std::move(raised));
    return true;
  });
}

absl::StatusOr<bool> SyncTicketHere(NodeContext& context, const Ticket& ticket) {
  RETURN_IF_ERROR(ValidateInvestigationId("ticket.ticket_id", ticket.ticket_id()));
  if (!IsSelf(context, ticket.requester()) && !IsSelf(context, ticket.target())) {
    return absl::InvalidArgumentError(absl::StrCat("ticket: ", context.name,
                                                   " is neither its requester nor its target"));
  }
  if (ticket.version() < 1 || ticket.reply_due_date().empty()) {
    return absl::InvalidArgumentError("ticket: version and reply_due_date are required");
  }
  const absl::Time now = context.clock->Now();
  ASSIGN_OR_RETURN(auto tx, context.store->Begin(TransactionMode::kWrite));
  ASSIGN_OR_RETURN(auto found, FindTicket(*tx, ticket.ticket_id()));
  if (found.has_value() && found->ticket.version() >= ticket.version()) return false;
  const std::string none;
  RETURN_IF_ERROR(WriteTicket(*tx, ticket, found.has_value() ? nullptr : &none, now));
  RETURN_IF_ERROR(tx->Commit());
  return true;
}

absl::StatusOr<yidi::v1::ListTicketsResponse> ListTicketsHere(
    NodeContext& context, const yidi::v1::ListTicketsRequest& request) {
  const absl::Time now = context.clock->Now();
  const absl::CivilDay today = CstDay(now);
  ASSIGN_OR_RETURN(auto tx, context.store->Begin(TransactionMode::kWrite));
  ASSIGN_OR_RETURN(auto rows, tx->Query(absl::StrCat("SELECT ticket_id FROM ticket ORDER BY "
                                                     "ticket_id LIMIT ",
                                                     kTicketListMax)));
  yidi::v1::ListTicketsResponse response;
  for (const Row& row : rows) {
    ASSIGN_OR_RETURN(auto found, FindTicket(*tx, row.Text(0)));
    YIDI_CHECK(found.has_value(), "a listed ticket is found in the same transaction");
    Ticket& t = found->ticket;
    if (IsTicketAutoConfirmDue(t, today)) {
      // Both ends apply the same rule from the same dates, so each applies it on its own.
      t.set_state(yidi::v1::TICKET_STATE_AUTO_CONFIRMED);
      t.set_confirmed_at(FormatCstTimestamp(now));
      t.set_version(t.version() + 1);
      RETURN_IF_ERROR(AppendLog(t, LogEntry(context, now, "confirmed automatically")));
      RETURN_IF_ERROR(WriteTicket(*tx, t, nullptr, now));
    }
    int late = 0;
    if (t.state() == yidi::v1::TICKET_STATE_OPEN) {
      auto due = ParseDate(t.reply_due_date());
      YIDI_CHECK(due.ok(), "a stored ticket carries its reply due date");
      ASSIGN_OR_RETURN(late, context.calendar.WorkingDaysLate(*due, today));
    }
    if (request.overdue_only() && late == 0) continue;
    if (request.state() != yidi::v1::TICKET_STATE_UNSPECIFIED && t.state() != request.state()) {
      continue;
    }
    auto* listed = response.add_tickets();
    *listed->mutable_ticket() = std::move(t);
    listed->set_working_days_late(late);
  }
  RETURN_IF_ERROR(tx->Commit());
  return response;
}

// ---------------------------------------------------------------------------------------------

yidi::v1::TicketService::Stub* NodeTicketService::StubFor(const std::string& address) {
  absl::MutexLock lock(&mutex_);
  auto& stub = stubs_[address];
  if (stub == nullptr) {
    stub = yidi::v1::TicketService::NewStub(MakeChannel(address, context_->channel_credentials));
  }
  return stub.get();
}

grpc::ServerUnaryReactor* NodeTicketService::FinishDelivered(
    grpc::CallbackServerContext* ctx, absl::StatusOr<TicketOutcome> outcome,
    yidi::v1::TicketResponse* response) {
  if (!outcome.ok()) return FinishUnary(ctx, outcome.status());
  *response->mutable_ticket() = outcome->ticket;
  response->set_replayed(outcome->replayed);
  std::vector<Ticket> changed = {outcome->ticket};
  for (auto& t : outcome->also_changed) changed.push_back(std::move(t));
  auto* reactor = ctx->DefaultReactor();
  struct FanOut {
    absl::Mutex mutex;
    int remaining ABSL_GUARDED_BY(mutex) = 0;
    std::string undelivered ABSL_GUARDED_BY(mutex);
  };
  auto fan_out = std::make_shared<FanOut>();
  fan_out->remaining = static_cast<int>(changed.size());
  auto done_one = [fan_out, reactor, response](const std::string& failure) {
    bool last = false;
    std::string undelivered;
    {
      absl::MutexLock lock(&fan_out->mutex);
      if (!failure.empty()) {
        if (!fan_out->undelivered.empty()) fan_out->undelivered += "; ";
        fan_out->undelivered += failure;
      }
      last = --fan_out->remaining == 0;
      undelivered = fan_out->undelivered;
    }
    if (!last) return;
    if (undelivered.empty()) {
      reactor->Finish(grpc::Status::OK);
    } else {
      response->set_undelivered(undelivered);
      reactor->Finish(grpc::Status(
          grpc::StatusCode::UNAVAILABLE,
          absl::StrCat("yidi: ", undelivered, "; the change is stored here, repeat the call to "
                       "deliver it")));
    }
  };
  const int deadline_ms = context_->config.forward_deadline_ms() > 0
                              ? context_->config.forward_deadline_ms()
                              : kForwardDeadlineDefaultMs;
  for (const Ticket& ticket : changed) {
    const Agency& other = IsSelf(*context_, ticket.requester()) ? ticket.target() : ticket.requester();
    const auto* node = context_->directory.FindNode(other.kind(), other.region_code());
    if (node == nullptr) {
      done_one(absl::StrCat(AgencyName(other), " is not in the directory"));
      continue;
    }
    struct Call {
      grpc::ClientContext context;
      yidi::v1::SyncTicketRequest request;
      yidi::v1::SyncTicketResponse response;
    };
    auto* call = new Call();
    call->context.set_deadline(ForwardDeadline(ctx->deadline(), deadline_ms));
    *call->request.mutable_ticket() = ticket;
    const std::string name = absl::StrCat(AgencyName(other), " (", node->address(), ")");
    StubFor(node->address())
        ->async()
        ->SyncTicket(&call->context, &call->request, &call->response,
                     [call, done_one, name](grpc::Status status) {
                       std::unique_ptr<Call> owned(call);
                       done_one(status.ok() ? std::string()
                                            : absl::StrCat(name, " did not take the ticket (",
                                                           status.error_message(), ")"));
                     });
  }
  return reactor;
}

grpc::ServerUnaryReactor* NodeTicketService::OpenTicket(grpc::CallbackServerContext* ctx,
                                                        const yidi::v1::OpenTicketRequest* request,
                                                        yidi::v1::TicketResponse* response) {
  return FinishDelivered(ctx, OpenTicketHere(*context_, *request), response);
}
grpc::ServerUnaryReactor* NodeTicketService::ReplyTicket(grpc::CallbackServerContext* ctx,
                                                         const yidi::v1::ReplyTicketRequest* request,
                                                         yidi::v1::TicketResponse* response) {
  return FinishDelivered(ctx, ReplyTicketHere(*context_, *request), response);
}
grpc::ServerUnaryReactor* NodeTicketService::LogTicketHandling(
    grpc::CallbackServerContext* ctx, const yidi::v1::LogTicketHandlingRequest* request,
    yidi::v1::TicketResponse* response) {
  return FinishDelivered(ctx, LogTicketHandlingHere(*context_, *request), response);
}
grpc::ServerUnaryReactor* NodeTicketService::ExtendTicket(
    grpc::CallbackServerContext* ctx, const yidi::v1::ExtendTicketRequest* request,
    yidi::v1::TicketResponse* response) {
  return FinishDelivered(ctx, ExtendTicketHere(*context_, *request), response);
}
grpc::ServerUnaryReactor* NodeTicketService::ConfirmTicket(
    grpc::CallbackServerContext* ctx, const yidi::v1::ConfirmTicketRequest* request,
    yidi::v1::TicketResponse* response) {
  return FinishDelivered(ctx, ConfirmTicketHere(*context_, *request), response);
}
grpc::ServerUnaryReactor* NodeTicketService::EscalateTicket(
    grpc::CallbackServerContext* ctx, const yidi::v1::EscalateTicketRequest* request,
    yidi::v1::TicketResponse* response) {
  return FinishDelivered(ctx, EscalateTicketHere(*context_, *request), response);
}
grpc::ServerUnaryReactor* NodeTicketService::SyncTicket(grpc::CallbackServerContext* ctx,
                                                        const yidi::v1::SyncTicketRequest* request,
                                                        yidi::v1::SyncTicketResponse* response) {
  auto applied = SyncTicketHere(*context_, request->ticket());
  if (applied.ok()) response->set_applied(*applied);
  return FinishUnary(ctx, applied.status());
}
grpc::ServerUnaryReactor* NodeTicketService::ListTickets(grpc::CallbackServerContext* ctx,
                                                         const yidi::v1::ListTicketsRequest* request,
                                                         yidi::v1::ListTicketsResponse* response) {
  auto listed = ListTicketsHere(*context_, *request);
  if (listed.ok()) *response = std::move(*listed);
  return FinishUnary(ctx, listed.status());
}

}  // namespace yidi
