// Table tests of the working-day calendar against the State Council's 2025 and 2026 holiday
// notices (../shared/domain/HOLIDAYS.md), using the shipped files deploy/calendar/*.textproto.
#include "common/calendar.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using ::testing::HasSubstr;

absl::CivilDay Day(absl::string_view text) {
  auto day = ParseDate(text);
  EXPECT_TRUE(day.ok()) << text;
  return *day;
}

WorkingDayCalendar Shipped(const Clock* clock = nullptr) {
  auto calendar = WorkingDayCalendar::LoadFiles(
      {absl::StrCat(YIDI_SOURCE_DIR, "/deploy/calendar/2025.textproto"),
       absl::StrCat(YIDI_SOURCE_DIR, "/deploy/calendar/2026.textproto")},
      clock);
  EXPECT_TRUE(calendar.ok()) << calendar.status();
  return *calendar;
}

bool Working(const WorkingDayCalendar& calendar, absl::string_view day) {
  auto working = calendar.IsWorkingDay(Day(day));
  EXPECT_TRUE(working.ok()) << day << ": " << working.status();
  return working.ok() && *working;
}

TEST(CalendarTest, ShippedYears) { EXPECT_EQ(Shipped().years(), (std::vector<int>{2025, 2026})); }

struct DayCase {
  const char* day;
  bool working;
  const char* why;
};

TEST(CalendarTest, IsWorkingDayAgainstTheNotices) {
  const DayCase cases[] = {
      // 2025 (国办发明电〔2024〕12号)
      {"2025-01-01", false, "元旦"},
      {"2025-01-02", true, "ordinary Thursday"},
      {"2025-01-26", true, "Sunday, make-up for 春节"},
      {"2025-01-27", true, "Monday before 春节"},
      {"2025-01-28", false, "春节 first day"},
      {"2025-02-01", false, "Saturday inside 春节"},
      {"2025-02-04", false, "春节 last day"},
      {"2025-02-05", true, "first day back"},
      {"2025-02-08", true, "Saturday, make-up for 春节"},
      {"2025-02-09", false, "ordinary Sunday"},
      {"2025-04-04", false, "清明 Friday"},
      {"2025-04-27", true, "Sunday, make-up for 劳动节"},
      {"2025-05-05", false, "劳动节 last day (Monday)"},
      {"2025-05-06", true, "Tuesday after 劳动节"},
      {"2025-06-02", false, "端午 Monday"},
      {"2025-09-28", true, "Sunday, make-up for 国庆"},
      {"2025-10-06", false, "中秋 inside 国庆"},
      {"2025-10-08", false, "国庆 last day (Wednesday)"},
      {"2025-10-09", true, "Thursday after 国庆"},
      {"2025-10-11", true, "Saturday, make-up for 国庆"},
      {"2025-10-12", false, "ordinary Sunday"},
      // 2026 (国办发明电〔2025〕7号)
      {"2026-01-01", false, "元旦"},
      {"2026-01-02", false, "元旦 (Friday)"},
      {"2026-01-03", false, "元旦 (Saturday)"},
      {"2026-01-04", true, "Sunday, make-up for 元旦"},
      {"2026-01-05", true, "ordinary Monday"},
      {"2026-02-14", true, "Saturday, make-up for 春节"},
      {"2026-02-15", false, "春节 first day (Sunday)"},
      {"2026-02-16", false, "春节 Monday"},
      {"2026-02-23", false, "春节 last day (Monday)"},
      {"2026-02-24", true, "first day back"},
      {"2026-02-28", true, "Saturday, make-up for 春节"},
      {"2026-04-06", false, "清明 Monday"},
      {"2026-05-05", false, "劳动节 last day (Tuesday)"},
      {"2026-05-09", true, "Saturday, make-up for 劳动节"},
      {"2026-06-19", false, "端午 Friday"},
      {"2026-09-20", true, "Sunday, make-up listed under 国庆"},
      {"2026-09-25", false, "中秋 Friday"},
      {"2026-09-30", true, "Wednesday before 国庆"},
      {"2026-10-07", false, "国庆 last day (Wednesday)"},
      {"2026-10-08", true, "Thursday after 国庆"},
      {"2026-10-10", true, "Saturday, make-up for 国庆"},
      {"2026-10-11", false, "ordinary Sunday"},
      {"2026-12-31", true, "ordinary Thursday"},
  };
  const WorkingDayCalendar calendar = Shipped();
  for (const DayCase& c : cases) {
    EXPECT_EQ(Working(calendar, c.day), c.working) << c.day << " (" << c.why << ")";
  }
}

// Totals by hand. 2025 begins on a Wednesday: 365 days, 104 weekend days; of its 28 days off,
// 10 fall on a weekend (02-01/02, 04-05/06, 05-03/04, 05-31/06-01, 10-04/05), so 18 are
// weekdays; plus 5 make-up days: 365 − 104 − 18 + 5 = 248. 2026 begins on a Thursday: 104
// weekend days; of 33 days off, 14 fall on a weekend (01-03; 02-15/21/22; 04-04/05; 05-02/03;
// 06-20/21; 09-26/27; 10-03/04), 19 on weekdays; plus 6 make-up days: 365 − 104 − 19 + 6 = 248.
TEST(CalendarTest, WorkingDaysPerYear) {
  const WorkingDayCalendar calendar = Shipped();
  auto days_2025 = calendar.CountWorkingDaysBetween(Day("2024-12-31") + 1, Day("2025-12-31"));
  ASSERT_TRUE(days_2025.ok()) << days_2025.status();
  // (2025-01-01, 2025-12-31] misses only 01-01, a holiday.
  EXPECT_EQ(*days_2025, 248);
  auto days_2026 = calendar.CountWorkingDaysBetween(Day("2026-01-01"), Day("2026-12-31"));
  ASSERT_TRUE(days_2026.ok()) << days_2026.status();
  EXPECT_EQ(*days_2026, 248);
}

struct AddCase {
  const char* from;
  int count;
  const char* expected;
  const char* why;
};

TEST(CalendarTest, AddWorkingDays) {
  const AddCase cases[] = {
      {"2026-09-30", 0, "2026-09-30", "zero days is the day itself"},
      // 10-01..07 off; 10-08 (1), 10-09 (2), Saturday 10-10 make-up (3), 10-12 (4), 10-13 (5).
      {"2026-09-30", 5, "2026-10-13", "across 国庆 2026 with its Saturday make-up day"},
      {"2026-09-30", 3, "2026-10-10", "the third is the make-up Saturday"},
      // 09-27 Sat off; 09-28 Sunday make-up (1).
      {"2025-09-26", 1, "2025-09-28", "a make-up Sunday counts"},
      {"2025-09-30", 1, "2025-10-09", "国庆 2025 is eight days"},
      {"2025-01-27", 1, "2025-02-05", "春节 2025"},
      // 01-01..03 off, Sunday 01-04 make-up (1): the walk crosses into the next loaded year.
      {"2025-12-31", 1, "2026-01-04", "across the year end"},
      // 02-14 Sat (1), 02-15..23 off, 02-24 (2) … 02-27 (5), Saturday 02-28 (6).
      {"2026-02-13", 6, "2026-02-28", "春节 2026 with both make-up Saturdays"},
      // Quotas signed Friday 2026-01-30; initial payment within 15 WD: 02-02..06 (1-5),
      // 02-09..13 (6-10), Saturday 02-14 (11), 02-24..27 (12-15).
      {"2026-01-30", 15, "2026-02-27", "15 WD of signing (附件3)"},
      // A clearing signed Friday 2026-04-24: apply within 3 WD: 04-27, 04-28, 04-29.
      {"2026-04-24", 3, "2026-04-29", "emergency application window"},
      // Signed Wednesday 2026-04-29: 04-30 (1), 05-01..05 off, 05-06 (2), 05-07 (3).
      {"2026-04-29", 3, "2026-05-07", "across 劳动节 2026"},
  };
  const WorkingDayCalendar calendar = Shipped();
  for (const AddCase& c : cases) {
    auto got = calendar.AddWorkingDays(Day(c.from), c.count);
    ASSERT_TRUE(got.ok()) << c.from << " + " << c.count << ": " << got.status();
    EXPECT_EQ(FormatDate(*got), c.expected) << c.from << " + " << c.count << " (" << c.why << ")";
  }
}

TEST(CalendarTest, CountWorkingDaysBetween) {
  const WorkingDayCalendar calendar = Shipped();
  struct Case {
    const char* from;
    const char* to;
    int expected;
  } cases[] = {
      {"2026-02-13", "2026-02-28", 6},  // 02-14, 02-24..27, 02-28
      {"2026-09-30", "2026-10-09", 2},  // 10-08, 10-09
      {"2026-10-09", "2026-10-09", 0},
      {"2025-12-31", "2026-01-05", 2},  // 01-04 (make-up Sunday), 01-05
      // (01-24, 02-09]: 01-25 Sat no, 01-26 Sun make-up yes, 01-27 yes, 01-28..02-04 off,
      // 02-05, 02-06, 02-07 yes, 02-08 Sat make-up yes, 02-09 Sun no: 6.
      {"2025-01-24", "2025-02-09", 6},
  };
  for (const auto& c : cases) {
    auto got = calendar.CountWorkingDaysBetween(Day(c.from), Day(c.to));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, c.expected) << c.from << " .. " << c.to;
  }
  EXPECT_TRUE(absl::IsInvalidArgument(
      calendar.CountWorkingDaysBetween(Day("2026-03-02"), Day("2026-03-01")).status()));
}

// AddWorkingDays and CountWorkingDaysBetween are inverse on every day of both years.
TEST(CalendarTest, AddAndCountAgreeEverywhere) {
  const WorkingDayCalendar calendar = Shipped();
  for (absl::CivilDay day = Day("2025-01-01"); day <= Day("2026-11-30"); ++day) {
    for (int n : {0, 1, 3, 5, 10, 15, 20}) {
      auto end = calendar.AddWorkingDays(day, n);
      ASSERT_TRUE(end.ok()) << FormatDate(day) << " + " << n << ": " << end.status();
      if (n > 0) EXPECT_TRUE(*calendar.IsWorkingDay(*end)) << FormatDate(*end);
      EXPECT_EQ(*calendar.CountWorkingDaysBetween(day, *end), n) << FormatDate(day);
    }
  }
}

TEST(CalendarTest, OutsideTheLoadedYearsIsAnErrorNotAGuess) {
  const WorkingDayCalendar calendar = Shipped();
  auto before = calendar.IsWorkingDay(Day("2024-12-31"));
  EXPECT_TRUE(absl::IsOutOfRange(before.status()));
  EXPECT_THAT(std::string(before.status().message()), HasSubstr("no year 2024"));
  auto after = calendar.AddWorkingDays(Day("2026-12-31"), 1);
  EXPECT_TRUE(absl::IsOutOfRange(after.status()));
  EXPECT_THAT(std::string(after.status().message()), HasSubstr("2027"));
  EXPECT_TRUE(absl::IsOutOfRange(
      calendar.CountWorkingDaysBetween(Day("2026-12-20"), Day("2027-01-10")).status()));
  EXPECT_TRUE(absl::IsOutOfRange(WorkingDayCalendar().IsWorkingDay(Day("2026-01-05")).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(calendar.AddWorkingDays(Day("2026-01-05"), -1).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      calendar.AddWorkingDays(Day("2026-01-05"), kWorkingDaysMax + 1).status()));
}

TEST(CalendarTest, WorkingDayOnOrBeforeAndLateness) {
  const WorkingDayCalendar calendar = Shipped();
  EXPECT_EQ(FormatDate(*calendar.WorkingDayOnOrBefore(Day("2026-10-07"))), "2026-09-30");
  EXPECT_EQ(FormatDate(*calendar.WorkingDayOnOrBefore(Day("2026-10-10"))), "2026-10-10");
  EXPECT_EQ(*calendar.WorkingDaysLate(Day("2026-09-30"), Day("2026-09-30")), 0);
  EXPECT_EQ(*calendar.WorkingDaysLate(Day("2026-09-30"), Day("2026-09-01")), 0);
  EXPECT_EQ(*calendar.WorkingDaysLate(Day("2026-09-30"), Day("2026-10-09")), 2);
  EXPECT_EQ(FormatDate(LastDayOfMonth(Day("2026-02-03"))), "2026-02-28");
  EXPECT_EQ(FormatDate(WorkingDayCalendar::AddDays(Day("2026-02-27"), 3)), "2026-03-02");
}

TEST(CalendarTest, TodayIsTheChinaStandardTimeDayOfTheInjectedClock) {
  // 16:30 UTC on 2026-09-30 is 00:30 on 2026-10-01 in Beijing.
  FakeClock clock(absl::FromCivil(absl::CivilSecond(2026, 9, 30, 16, 30, 0), absl::UTCTimeZone()));
  const WorkingDayCalendar calendar = Shipped(&clock);
  EXPECT_EQ(FormatDate(calendar.Today()), "2026-10-01");
  clock.Advance(absl::Hours(24 * 7));
  EXPECT_EQ(FormatDate(calendar.Today()), "2026-10-08");
}

TEST(CalendarTest, BuildRefusesMistakes) {
  auto build = [](absl::string_view text) {
    yidi::v1::HolidayCalendar file;
    EXPECT_TRUE(ParseTextProto(text, "test", &file).ok()) << text;
    return WorkingDayCalendar::Build({file}).status();
  };
  EXPECT_TRUE(build("year: 2026 make_up_working_days: '2026-01-05'").code() ==
              absl::StatusCode::kInvalidArgument);  // a Monday
  EXPECT_THAT(std::string(build("year: 2026 make_up_working_days: '2026-01-05'").message()),
              HasSubstr("weekday"));
  EXPECT_TRUE(absl::IsInvalidArgument(
      build("year: 2026 holidays { name: 'a' first_date: '2026-01-01' last_date: '2026-01-03' } "
            "holidays { name: 'b' first_date: '2026-01-03' last_date: '2026-01-04' }")));
  EXPECT_TRUE(absl::IsInvalidArgument(
      build("year: 2026 holidays { name: 'a' first_date: '2025-12-31' last_date: '2026-01-01' }")));
  EXPECT_TRUE(absl::IsInvalidArgument(
      build("year: 2026 holidays { name: 'a' first_date: '2026-01-03' last_date: '2026-01-01' }")));
  EXPECT_TRUE(absl::IsInvalidArgument(
      build("year: 2026 holidays { name: 'a' first_date: '2026-01-03' last_date: '2026-01-04' } "
            "make_up_working_days: '2026-01-04'")));
  EXPECT_TRUE(absl::IsInvalidArgument(build("year: 1999")));
  yidi::v1::HolidayCalendar year;
  year.set_year(2026);
  EXPECT_TRUE(absl::IsInvalidArgument(WorkingDayCalendar::Build({year, year}).status()));
}

}  // namespace
}  // namespace yidi
