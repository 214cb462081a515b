#include "common/ticket.h"

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/id_number.h"
#include "common/investigation.h"
#include "common/status_macros.h"

namespace yidi {

std::string AgencyName(const yidi::v1::Agency& agency) {
  return NodeName(agency.kind(), agency.region_code());
}

int TicketReplyLimitWorkingDays(const yidi::v1::Ticket& ticket) {
  switch (ticket.problem_type()) {
    case yidi::v1::TICKET_PROBLEM_TYPE_FILING:
      return kTicketFilingReplyWorkingDays;
    case yidi::v1::TICKET_PROBLEM_TYPE_SYSTEM_FAILURE:
      return kTicketSystemFailureReplyWorkingDays;
    default:
      YIDI_CHECK(ticket.requested_working_days() >= 1 &&
                     ticket.requested_working_days() <= kTicketOtherReplyWorkingDaysMax,
                 "an OTHER ticket was stored with its validated limit");
      return ticket.requested_working_days();
  }
}

absl::Status ValidateOpenTicket(const yidi::v1::OpenTicketRequest& request,
                                const NodeIdentity& self, const DirectoryIndex& directory) {
  RETURN_IF_ERROR(ValidateInvestigationId("ticket_id", request.ticket_id()));
  const auto& target = request.target();
  if (directory.FindNode(target.kind(), target.region_code()) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target: ", AgencyName(target), " is not an agency node in the directory"));
  }
  if (target.kind() == self.kind && target.region_code() == self.region_code) {
    return absl::InvalidArgumentError("target: a ticket goes to another agency");
  }
  if (request.main_issue().empty() ||
      request.main_issue().size() > static_cast<size_t>(kTicketTextLengthMax)) {
    return absl::InvalidArgumentError(absl::StrCat("main_issue: required (主要协同事项), at most ",
                                                   kTicketTextLengthMax, " bytes"));
  }
  switch (request.problem_type()) {
    case yidi::v1::TICKET_PROBLEM_TYPE_FILING:
    case yidi::v1::TICKET_PROBLEM_TYPE_SYSTEM_FAILURE:
      if (request.requested_working_days() != 0) {
        return absl::InvalidArgumentError(
            "requested_working_days: only an OTHER ticket sets its limit (filing 2 WD, system "
            "failure 1 WD)");
      }
      break;
    case yidi::v1::TICKET_PROBLEM_TYPE_OTHER:
      if (request.requested_working_days() < 1 ||
          request.requested_working_days() > kTicketOtherReplyWorkingDaysMax) {
        return absl::InvalidArgumentError(
            "requested_working_days: an OTHER ticket needs a limit of 1 to 10 working days");
      }
      break;
    default:
      return absl::InvalidArgumentError(
          "problem_type: FILING, SYSTEM_FAILURE or OTHER is required (问题类型)");
  }
  if (request.problem_type() == yidi::v1::TICKET_PROBLEM_TYPE_FILING &&
      request.person_id_number().empty()) {
    return absl::InvalidArgumentError(
        "person_id_number: a filing ticket concerns one person; their ID number is required");
  }
  if (!request.person_id_number().empty()) {
    if (absl::Status valid = ValidateIdNumber(request.person_id_number()); !valid.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("person_id_number: ", valid.message()));
    }
    if (request.person_name().empty()) {
      return absl::InvalidArgumentError("person_name: required with person_id_number");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::CivilDay> TicketReplyDueDay(const WorkingDayCalendar& calendar,
                                                 const yidi::v1::Ticket& ticket) {
  absl::Time opened;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, ticket.opened_at(), &opened, &error)) {
    return absl::InternalError(absl::StrCat("ticket ", ticket.ticket_id(), ": opened_at ",
                                            ticket.opened_at(), " does not parse"));
  }
  return calendar.AddWorkingDays(CstDay(opened), TicketReplyLimitWorkingDays(ticket) +
                                                     ticket.extension_working_days());
}

absl::StatusOr<yidi::v1::Agency> TicketEscalationTarget(const yidi::v1::Ticket& ticket) {
  const auto& requester = ticket.requester();
  const auto& target = ticket.target();
  if (requester.kind() == yidi::v1::NODE_KIND_NATIONAL ||
      target.kind() == yidi::v1::NODE_KIND_NATIONAL) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ticket_id: ", ticket.ticket_id(), " was already with national; nothing is above it"));
  }
  yidi::v1::Agency up;
  const std::string province = ProvinceCodeOf(requester.region_code());
  if (requester.kind() == yidi::v1::NODE_KIND_MUNICIPAL &&
      target.kind() == yidi::v1::NODE_KIND_MUNICIPAL &&
      ProvinceCodeOf(target.region_code()) == province) {
    // Intra-province: the province handles it (002_… 第59条).
    up.set_kind(yidi::v1::NODE_KIND_PROVINCIAL);
    up.set_region_code(province);
  } else {
    up.set_kind(yidi::v1::NODE_KIND_NATIONAL);
    up.set_region_code("000000");
  }
  return up;
}

bool IsTicketAutoConfirmDue(const yidi::v1::Ticket& ticket, absl::CivilDay today) {
  if (ticket.state() != yidi::v1::TICKET_STATE_REPLIED) return false;
  auto due = ParseDate(ticket.confirmation_due_date());
  YIDI_CHECK(due.ok(), "a replied ticket carries its confirmation due date");
  return today > *due;
}

}  // namespace yidi
