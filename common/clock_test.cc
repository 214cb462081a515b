// Tests for common/clock.h: strict date parsing, China Standard Time days at day, month and
// year boundaries, and the fake clock tests inject.
#include "common/clock.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using ::testing::HasSubstr;

absl::Time Utc(int year, int month, int day, int hour, int minute, int second) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                         absl::UTCTimeZone());
}

// ---------------------------------------------------------------------------------------------
// ParseDate

TEST(ParseDateTest, AcceptsRealCalendarDays) {
  EXPECT_EQ(ParseDate("2026-01-05").value(), absl::CivilDay(2026, 1, 5));
  EXPECT_EQ(ParseDate("2024-02-29").value(), absl::CivilDay(2024, 2, 29));  // leap year
  EXPECT_EQ(ParseDate("2000-02-29").value(), absl::CivilDay(2000, 2, 29));  // 400-year leap
  EXPECT_EQ(ParseDate("2026-12-31").value(), absl::CivilDay(2026, 12, 31));
  EXPECT_EQ(ParseDate("1900-01-01").value(), absl::CivilDay(1900, 1, 1));
}

TEST(ParseDateTest, RejectsDaysThatDoNotExist) {
  for (const char* text : {"2026-02-29",    // 2026 is not a leap year
                           "1900-02-29",    // century, not a leap year
                           "2026-02-30", "2026-04-31", "2026-13-01", "2026-00-10",
                           "2026-01-00", "2026-01-32", "1899-12-31"}) {
    const auto parsed = ParseDate(text);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

TEST(ParseDateTest, RejectsLooseForms) {
  for (const char* text : {"2026-1-05", "2026-01-5", "26-01-05", "2026/01/05", "20260105",
                           "2026-01-05x", "2026-01-05 ", " 2026-01-05", "2026-01-05T00:00:00",
                           "+026-01-05", "2026-0a-05", "2026--1-05", "", "2026-01-0"}) {
    const auto parsed = ParseDate(text);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << "\"" << text << "\"";
  }
}

TEST(ParseDateTest, MessageQuotesTheText) {
  const auto parsed = ParseDate("2026-1-05");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("\"2026-1-05\""));
  EXPECT_THAT(parsed.status().message(), HasSubstr("YYYY-MM-DD"));
}

TEST(FormatDateTest, ZeroPaddedAndRoundTrips) {
  EXPECT_EQ(FormatDate(absl::CivilDay(2026, 1, 5)), "2026-01-05");
  EXPECT_EQ(FormatDate(absl::CivilDay(1999, 12, 31)), "1999-12-31");
  for (const char* text : {"2026-01-05", "2024-02-29", "2026-12-31"}) {
    EXPECT_EQ(FormatDate(ParseDate(text).value()), text);
  }
}

// ---------------------------------------------------------------------------------------------
// China Standard Time

TEST(CstDayTest, LateUtcEveningIsNextDayAcrossMonthBoundary) {
  // 2026-01-31T23:30:00Z = 2026-02-01T07:30:00+08:00: next day and next clearing month.
  EXPECT_EQ(CstDay(Utc(2026, 1, 31, 23, 30, 0)), absl::CivilDay(2026, 2, 1));
}

TEST(CstDayTest, DayChangesAtSixteenHundredUtc) {
  EXPECT_EQ(CstDay(Utc(2026, 1, 31, 15, 59, 59)), absl::CivilDay(2026, 1, 31));  // 23:59:59 CST
  EXPECT_EQ(CstDay(Utc(2026, 1, 31, 16, 0, 0)), absl::CivilDay(2026, 2, 1));     // 00:00:00 CST
  EXPECT_EQ(CstDay(Utc(2026, 2, 1, 0, 0, 0)), absl::CivilDay(2026, 2, 1));
}

TEST(CstDayTest, YearBoundary) {
  EXPECT_EQ(CstDay(Utc(2025, 12, 31, 16, 0, 0)), absl::CivilDay(2026, 1, 1));
  EXPECT_EQ(CstDay(Utc(2025, 12, 31, 15, 59, 59)), absl::CivilDay(2025, 12, 31));
}

TEST(CstDayTest, LeapDayBoundary) {
  // 2024-02-28T16:00:00Z = 2024-02-29 00:00 CST; 2024-02-29T16:00:00Z = 2024-03-01 CST.
  EXPECT_EQ(CstDay(Utc(2024, 2, 28, 16, 0, 0)), absl::CivilDay(2024, 2, 29));
  EXPECT_EQ(CstDay(Utc(2024, 2, 29, 16, 0, 0)), absl::CivilDay(2024, 3, 1));
}

TEST(ChinaStandardTimeTest, FixedEightHoursNoDaylightSaving) {
  const absl::TimeZone cst = ChinaStandardTime();
  for (absl::Time t : {Utc(2026, 1, 15, 0, 0, 0), Utc(2026, 7, 15, 0, 0, 0)}) {
    EXPECT_EQ(cst.At(t).offset, 8 * 60 * 60);
    EXPECT_FALSE(cst.At(t).is_dst);
  }
}

TEST(FormatCstTimestampTest, PrintsLocalTimeWithOffset) {
  EXPECT_EQ(FormatCstTimestamp(Utc(2026, 11, 23, 1, 30, 0)), "2026-11-23T09:30:00+08:00");
  EXPECT_EQ(FormatCstTimestamp(Utc(2026, 1, 31, 23, 30, 0)), "2026-02-01T07:30:00+08:00");
}

// ---------------------------------------------------------------------------------------------
// FakeClock

TEST(FakeClockTest, StartsAtGivenTime) {
  const absl::Time start = Utc(2026, 1, 31, 23, 30, 0);
  FakeClock clock(start);
  EXPECT_EQ(clock.Now(), start);
  EXPECT_EQ(clock.Now(), start);  // does not move by itself
}

TEST(FakeClockTest, SetAndAdvance) {
  FakeClock clock(Utc(2026, 1, 31, 15, 0, 0));
  clock.Advance(absl::Minutes(90));
  EXPECT_EQ(clock.Now(), Utc(2026, 1, 31, 16, 30, 0));
  EXPECT_EQ(CstDay(clock.Now()), absl::CivilDay(2026, 2, 1));
  clock.Set(Utc(2025, 6, 1, 0, 0, 0));  // Set may move backwards
  EXPECT_EQ(clock.Now(), Utc(2025, 6, 1, 0, 0, 0));
  clock.Advance(absl::Hours(-1));
  EXPECT_EQ(clock.Now(), Utc(2025, 5, 31, 23, 0, 0));
  clock.Advance(absl::ZeroDuration());
  EXPECT_EQ(clock.Now(), Utc(2025, 5, 31, 23, 0, 0));
}

TEST(FakeClockTest, UsableThroughClockInterface) {
  FakeClock fake(Utc(2026, 3, 1, 0, 0, 0));
  const Clock& clock = fake;
  fake.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now(), Utc(2026, 3, 1, 0, 0, 5));
}

TEST(FakeClockTest, ConcurrentAdvancesAreNotLost) {
  FakeClock clock(Utc(2026, 1, 1, 0, 0, 0));
  constexpr int kThreads = 4;
  constexpr int kAdvancesPerThread = 1000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < kAdvancesPerThread; ++i) {
        clock.Advance(absl::Seconds(1));
        (void)clock.Now();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(clock.Now(), Utc(2026, 1, 1, 0, 0, 0) + absl::Seconds(kThreads * kAdvancesPerThread));
}

TEST(SystemClockTest, IsOneProcessWideInstance) {
  EXPECT_EQ(SystemClock::Get(), SystemClock::Get());
  EXPECT_NE(SystemClock::Get(), nullptr);
}

}  // namespace
}  // namespace yidi
