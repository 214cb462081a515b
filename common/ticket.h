// Collaboration ticket rules (问题协同, RULES.md section 9; 000_65644e9492a1c962.txt 第55条,
// 002_6dce6ff9939e483e.txt 第63条): the reply limit by problem type, the due dates in working
// days (common/calendar.h, so holidays and make-up working days count as the State Council's
// notice says), automatic confirmation, and where a disputed or unsolved ticket is raised.
// Pure functions of their arguments.
#ifndef YIDI_COMMON_TICKET_H_
#define YIDI_COMMON_TICKET_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/calendar.h"
#include "common/directory.h"
#include "common/routing.h"
#include "yidi/v1/ticket.pb.h"

namespace yidi {

inline constexpr int kTicketFilingReplyWorkingDays = 2;         // 备案类
inline constexpr int kTicketSystemFailureReplyWorkingDays = 1;  // 系统故障类
inline constexpr int kTicketOtherReplyWorkingDaysMax = 10;      // 其他: ≤10
// Without the requester's confirmation, a reply is confirmed automatically after this.
inline constexpr int kTicketAutoConfirmWorkingDays = 10;
// An agreed extension: bounded like the longest limit, so a ticket cannot be parked.
inline constexpr int kTicketExtensionWorkingDaysMax = 10;
inline constexpr int kTicketTextLengthMax = 2000;
inline constexpr int kTicketInvolvedAgenciesMax = 20;
inline constexpr int kTicketHandlingLogMax = 200;
inline constexpr int kTicketListMax = 1000;

// The reply limit of a ticket in working days, before any extension.
int TicketReplyLimitWorkingDays(const yidi::v1::Ticket& ticket);

// Checks an opening at `self`: id, target (a node in the directory, not self), main issue,
// problem type, the limit (OTHER: 1..10; others: none given), the person (a FILING ticket names
// one; an ID number must be valid). INVALID_ARGUMENT naming the field.
absl::Status ValidateOpenTicket(const yidi::v1::OpenTicketRequest& request,
                                const NodeIdentity& self, const DirectoryIndex& directory);

// The last working day of the reply limit plus extension, counted from the opening day.
absl::StatusOr<absl::CivilDay> TicketReplyDueDay(const WorkingDayCalendar& calendar,
                                                 const yidi::v1::Ticket& ticket);

// The agency a disputed or unsolved ticket is raised to: the province when both ends are
// municipal nodes of one province, national otherwise. FAILED_PRECONDITION when the ticket was
// already with national (nothing is above it).
absl::StatusOr<yidi::v1::Agency> TicketEscalationTarget(const yidi::v1::Ticket& ticket);

// True when a REPLIED ticket's confirmation due date is before `today`.
bool IsTicketAutoConfirmDue(const yidi::v1::Ticket& ticket, absl::CivilDay today);

// "municipal 360100".
std::string AgencyName(const yidi::v1::Agency& agency);

}  // namespace yidi

#endif  // YIDI_COMMON_TICKET_H_
