// WorkingDayCalendar: which days are working days (工作日) in mainland China, and the deadline
// arithmetic on them ("within 5 working days", "the Nth working day after"). The facts come
// from one HolidayCalendar file per year (api/yidi/v1/calendar.proto, deploy/calendar/), each
// transcribing that year's State Council notice. A day is a working day when it is a make-up
// working day (调休上班), or a Monday to Friday outside every holiday range.
//
// Contract: every question about a day of a year that was not loaded is OUT_OF_RANGE naming
// the year; the calendar never guesses (each year's arrangement is a new notice, published the
// November before). "Today" is the China Standard Time day of the injected Clock.
//
// Thread safety: immutable after Build; any number of threads may share one.
#ifndef YIDI_COMMON_CALENDAR_H_
#define YIDI_COMMON_CALENDAR_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/clock.h"
#include "yidi/v1/calendar.pb.h"

namespace yidi {

// The longest span of working days one question may ask about: far above any deadline in the
// rules (the longest chain is 5 + 10 + 5 WD), and below two years, so a typo fails loudly.
inline constexpr int kWorkingDaysMax = 500;

// Years a calendar file may describe: a typo such as 2206 is refused rather than shipped.
inline constexpr int kCalendarYearMin = 2000;
inline constexpr int kCalendarYearMax = 2100;

class WorkingDayCalendar {
 public:
  // A calendar with no year loaded: every question about a day is OUT_OF_RANGE. `clock` is not
  // owned and must outlive the calendar (SystemClock::Get() when null).
  explicit WorkingDayCalendar(const Clock* clock = nullptr);

  // Checks and indexes the given years. INVALID_ARGUMENT naming the year and the field when: a
  // year repeats or is outside [kCalendarYearMin, kCalendarYearMax]; a date does not parse or
  // lies in another year; a range is reversed; holiday ranges overlap; a make-up working day
  // is not a Saturday or Sunday, repeats, or falls inside a holiday range.
  static absl::StatusOr<WorkingDayCalendar> Build(
      const std::vector<yidi::v1::HolidayCalendar>& years, const Clock* clock = nullptr);

  // Reads each file (text format) and builds. NOT_FOUND / INVALID_ARGUMENT "path:line:col" for
  // a file that cannot be read or parsed; Build's errors prefixed with the path.
  static absl::StatusOr<WorkingDayCalendar> LoadFiles(const std::vector<std::string>& paths,
                                                      const Clock* clock = nullptr);

  // OUT_OF_RANGE when `day`'s year is not loaded.
  absl::StatusOr<bool> IsWorkingDay(absl::CivilDay day) const;

  // The `count`-th working day after `day` (`day` itself is never counted; count 0 gives `day`).
  // "Within N working days of the signing" ends on AddWorkingDays(signing, N).
  // INVALID_ARGUMENT when count is negative or above kWorkingDaysMax; OUT_OF_RANGE when the
  // walk reaches a year that is not loaded.
  absl::StatusOr<absl::CivilDay> AddWorkingDays(absl::CivilDay day, int count) const;

  // The number of working days in (from, to]: AddWorkingDays(from, n) is the last working day
  // <= to. INVALID_ARGUMENT when to < from or the span exceeds 2 × 366 days; OUT_OF_RANGE when a
  // day in between belongs to a year not loaded.
  absl::StatusOr<int> CountWorkingDaysBetween(absl::CivilDay from, absl::CivilDay to) const;

  // Calendar-day arithmetic ("3日"): needs no holiday knowledge and never fails.
  static absl::CivilDay AddDays(absl::CivilDay day, int count) { return day + count; }

  // The last working day <= `day` ("before the 21st" ends on the working day before it).
  // OUT_OF_RANGE as for IsWorkingDay.
  absl::StatusOr<absl::CivilDay> WorkingDayOnOrBefore(absl::CivilDay day) const;

  // Working days late: 0 when today <= due, else CountWorkingDaysBetween(due, today).
  absl::StatusOr<int> WorkingDaysLate(absl::CivilDay due, absl::CivilDay today) const;

  // The CST day of the clock.
  absl::CivilDay Today() const;

  // The loaded years, ascending.
  std::vector<int> years() const;

  const Clock& clock() const { return *clock_; }

 private:
  absl::Status CheckCovered(absl::CivilDay day) const;

  const Clock* clock_;
  // year → one flag per day of the year (index = day of year − 1): true = working day.
  std::map<int, std::vector<bool>> working_by_year_;
};

// The last day of the month of `day`.
absl::CivilDay LastDayOfMonth(absl::CivilDay day);

}  // namespace yidi

#endif  // YIDI_COMMON_CALENDAR_H_
