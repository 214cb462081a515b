#include "common/ticket.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using ::testing::HasSubstr;
using yidi::v1::Ticket;

absl::Time Cst(int year, int month, int day, int hour = 10) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, 0, 0), ChinaStandardTime());
}

WorkingDayCalendar Calendar() {
  auto calendar = WorkingDayCalendar::LoadFiles(
      {absl::StrCat(YIDI_SOURCE_DIR, "/deploy/calendar/2025.textproto"),
       absl::StrCat(YIDI_SOURCE_DIR, "/deploy/calendar/2026.textproto")});
  EXPECT_TRUE(calendar.ok()) << calendar.status();
  return *std::move(calendar);
}

DirectoryIndex Directory() {
  yidi::v1::Directory directory;
  EXPECT_TRUE(
      LoadTextProtoFile(absl::StrCat(YIDI_SOURCE_DIR, "/deploy/demo/directory.textproto"),
                        &directory)
          .ok());
  auto index = DirectoryIndex::Build(directory);
  EXPECT_TRUE(index.ok()) << index.status();
  return *std::move(index);
}

yidi::v1::Agency Agency(yidi::v1::NodeKind kind, const char* region) {
  yidi::v1::Agency agency;
  agency.set_kind(kind);
  agency.set_region_code(region);
  return agency;
}

Ticket Opened(yidi::v1::TicketProblemType type, absl::Time at, int requested = 0) {
  Ticket ticket;
  ticket.set_ticket_id("T-1");
  ticket.set_problem_type(type);
  ticket.set_requested_working_days(requested);
  ticket.set_opened_at(FormatCstTimestamp(at));
  return ticket;
}

TEST(TicketDeadlineTest, FilingTwoWorkingDaysAcrossNationalDay) {
  const auto calendar = Calendar();
  // Wednesday 2026-09-30; 10-01..10-07 are holidays: 10-08 (1), 10-09 (2).
  auto due = TicketReplyDueDay(calendar, Opened(yidi::v1::TICKET_PROBLEM_TYPE_FILING,
                                                Cst(2026, 9, 30)));
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_EQ(*due, absl::CivilDay(2026, 10, 9));
}

TEST(TicketDeadlineTest, SystemFailureOneWorkingDayLandsOnAMakeUpSaturday) {
  const auto calendar = Calendar();
  // Friday 2026-10-09: the next working day is Saturday 10-10, a make-up working day (调休).
  auto due = TicketReplyDueDay(calendar, Opened(yidi::v1::TICKET_PROBLEM_TYPE_SYSTEM_FAILURE,
                                                Cst(2026, 10, 9)));
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, absl::CivilDay(2026, 10, 10));
}

TEST(TicketDeadlineTest, OtherTenWorkingDaysAcrossMidAutumnAndNationalDay) {
  const auto calendar = Calendar();
  // Friday 2026-09-18: Sun 09-20 is a make-up day (1), 09-21..24 (2–5), 09-25..27 holiday,
  // 09-28..30 (6–8), 10-01..07 holiday, 10-08 (9), 10-09 (10).
  auto due = TicketReplyDueDay(
      calendar, Opened(yidi::v1::TICKET_PROBLEM_TYPE_OTHER, Cst(2026, 9, 18), 10));
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, absl::CivilDay(2026, 10, 9));
  // An agreed extension adds working days: filing 2 + 3 from 09-30 → 10-13.
  Ticket extended = Opened(yidi::v1::TICKET_PROBLEM_TYPE_FILING, Cst(2026, 9, 30));
  extended.set_extension_working_days(3);
  auto later = TicketReplyDueDay(calendar, extended);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(*later, absl::CivilDay(2026, 10, 13));
  // A day the calendar does not cover is an error, never a guess.
  auto beyond = TicketReplyDueDay(
      calendar, Opened(yidi::v1::TICKET_PROBLEM_TYPE_OTHER, Cst(2026, 12, 28), 10));
  EXPECT_EQ(beyond.status().code(), absl::StatusCode::kOutOfRange);
}

TEST(TicketDeadlineTest, AutoConfirmationAfterTenWorkingDays) {
  Ticket ticket;
  ticket.set_state(yidi::v1::TICKET_STATE_REPLIED);
  const auto calendar = Calendar();
  auto due = calendar.AddWorkingDays(absl::CivilDay(2026, 12, 1), kTicketAutoConfirmWorkingDays);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, absl::CivilDay(2026, 12, 15));
  ticket.set_confirmation_due_date(FormatDate(*due));
  EXPECT_FALSE(IsTicketAutoConfirmDue(ticket, absl::CivilDay(2026, 12, 15)));
  EXPECT_TRUE(IsTicketAutoConfirmDue(ticket, absl::CivilDay(2026, 12, 16)));
  ticket.set_state(yidi::v1::TICKET_STATE_CONFIRMED);
  EXPECT_FALSE(IsTicketAutoConfirmDue(ticket, absl::CivilDay(2026, 12, 16)));
}

TEST(TicketEscalationTest, ProvinceInsideOneProvinceNationalAcrossAndNothingAboveNational) {
  Ticket ticket;
  ticket.set_ticket_id("T-1");
  *ticket.mutable_requester() = Agency(yidi::v1::NODE_KIND_MUNICIPAL, "360100");
  *ticket.mutable_target() = Agency(yidi::v1::NODE_KIND_MUNICIPAL, "360700");
  auto up = TicketEscalationTarget(ticket);
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->kind(), yidi::v1::NODE_KIND_PROVINCIAL);
  EXPECT_EQ(up->region_code(), "360000");

  *ticket.mutable_target() = Agency(yidi::v1::NODE_KIND_MUNICIPAL, "500000");
  up = TicketEscalationTarget(ticket);
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->kind(), yidi::v1::NODE_KIND_NATIONAL);

  *ticket.mutable_target() = Agency(yidi::v1::NODE_KIND_PROVINCIAL, "360000");
  up = TicketEscalationTarget(ticket);
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->kind(), yidi::v1::NODE_KIND_NATIONAL);

  *ticket.mutable_target() = Agency(yidi::v1::NODE_KIND_NATIONAL, "000000");
  EXPECT_EQ(TicketEscalationTarget(ticket).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(TicketValidationTest, NamesTheField) {
  const auto directory = Directory();
  const NodeIdentity self{yidi::v1::NODE_KIND_MUNICIPAL, "360100"};
  yidi::v1::OpenTicketRequest valid;
  valid.set_ticket_id("T-1");
  *valid.mutable_target() = Agency(yidi::v1::NODE_KIND_MUNICIPAL, "500000");
  valid.set_main_issue("备案信息未同步");
  valid.set_problem_type(yidi::v1::TICKET_PROBLEM_TYPE_FILING);
  valid.set_person_id_number("360102195604120138");
  valid.set_person_name("万国华");
  EXPECT_TRUE(ValidateOpenTicket(valid, self, directory).ok());

  auto check = [&](yidi::v1::OpenTicketRequest request, const char* field) {
    absl::Status status = ValidateOpenTicket(request, self, directory);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(status.message(), HasSubstr(field));
  };
  auto r = valid;
  r.clear_main_issue();
  check(r, "main_issue");
  r = valid;
  r.clear_person_id_number();
  check(r, "person_id_number");
  r = valid;
  r.set_person_id_number("360102195604120139");
  check(r, "person_id_number");
  r = valid;
  *r.mutable_target() = Agency(yidi::v1::NODE_KIND_MUNICIPAL, "360100");
  check(r, "target");
  r = valid;
  *r.mutable_target() = Agency(yidi::v1::NODE_KIND_MUNICIPAL, "440100");
  check(r, "target");
  r = valid;
  r.set_requested_working_days(3);
  check(r, "requested_working_days");
  r = valid;
  r.set_problem_type(yidi::v1::TICKET_PROBLEM_TYPE_OTHER);
  check(r, "requested_working_days");
  r.set_requested_working_days(11);
  check(r, "requested_working_days");
  r.set_requested_working_days(10);
  EXPECT_TRUE(ValidateOpenTicket(r, self, directory).ok());
  r = valid;
  r.clear_problem_type();
  check(r, "problem_type");
}

}  // namespace
}  // namespace yidi
