#include "common/calendar.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/config.h"
#include "common/status_macros.h"

namespace yidi {
namespace {

int DayOfYearIndex(absl::CivilDay day) {
  return static_cast<int>(day - absl::CivilDay(day.year(), 1, 1));
}

int DaysInYear(int year) {
  return static_cast<int>(absl::CivilDay(year + 1, 1, 1) - absl::CivilDay(year, 1, 1));
}

bool IsWeekend(absl::CivilDay day) {
  const absl::Weekday weekday = absl::GetWeekday(day);
  return weekday == absl::Weekday::saturday || weekday == absl::Weekday::sunday;
}

// Parses a date of `year`'s file; INVALID_ARGUMENT naming the year and field otherwise.
absl::StatusOr<absl::CivilDay> DateOfYear(int year, absl::string_view field,
                                          absl::string_view text) {
  auto day = ParseDate(text);
  if (!day.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("calendar ", year, ": ", field, ": ", day.status().message()));
  }
  if (day->year() != year) {
    return absl::InvalidArgumentError(
        absl::StrCat("calendar ", year, ": ", field, ": ", text, " is not in ", year));
  }
  return *day;
}

// One year's flags, checked. Days are 0 = ordinary, 1 = holiday, 2 = make-up working day.
absl::StatusOr<std::vector<bool>> IndexYear(const yidi::v1::HolidayCalendar& file) {
  const int year = file.year();
  std::vector<int> kind(DaysInYear(year), 0);
  for (const auto& range : file.holidays()) {
    const std::string field = absl::StrCat("holidays \"", range.name(), "\"");
    ASSIGN_OR_RETURN(absl::CivilDay first, DateOfYear(year, field, range.first_date()));
    ASSIGN_OR_RETURN(absl::CivilDay last, DateOfYear(year, field, range.last_date()));
    if (last < first) {
      return absl::InvalidArgumentError(
          absl::StrCat("calendar ", year, ": ", field, ": last_date is before first_date"));
    }
    for (absl::CivilDay day = first; day <= last; ++day) {
      int& slot = kind[DayOfYearIndex(day)];
      if (slot != 0) {
        return absl::InvalidArgumentError(absl::StrCat("calendar ", year, ": ", field, ": ",
                                                       FormatDate(day),
                                                       " is already in another holiday range"));
      }
      slot = 1;
    }
  }
  for (const std::string& text : file.make_up_working_days()) {
    ASSIGN_OR_RETURN(absl::CivilDay day, DateOfYear(year, "make_up_working_days", text));
    if (!IsWeekend(day)) {
      return absl::InvalidArgumentError(
          absl::StrCat("calendar ", year, ": make_up_working_days: ", text,
                       " is a weekday; only a Saturday or Sunday can be a make-up working day"));
    }
    int& slot = kind[DayOfYearIndex(day)];
    if (slot != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("calendar ", year, ": make_up_working_days: ", text,
                       slot == 1 ? " is inside a holiday range" : " is listed twice"));
    }
    slot = 2;
  }
  std::vector<bool> working(kind.size());
  absl::CivilDay day(year, 1, 1);
  for (size_t i = 0; i < kind.size(); ++i, ++day) {
    working[i] = kind[i] == 2 || (kind[i] == 0 && !IsWeekend(day));
  }
  return working;
}

}  // namespace

WorkingDayCalendar::WorkingDayCalendar(const Clock* clock)
    : clock_(clock != nullptr ? clock : SystemClock::Get()) {}

absl::StatusOr<WorkingDayCalendar> WorkingDayCalendar::Build(
    const std::vector<yidi::v1::HolidayCalendar>& years, const Clock* clock) {
  WorkingDayCalendar calendar(clock);
  for (const auto& file : years) {
    if (file.year() < kCalendarYearMin || file.year() > kCalendarYearMax) {
      return absl::InvalidArgumentError(absl::StrCat("calendar: year ", file.year(),
                                                     " is outside [", kCalendarYearMin, ", ",
                                                     kCalendarYearMax, "]"));
    }
    if (calendar.working_by_year_.count(file.year()) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("calendar: year ", file.year(), " is given twice"));
    }
    ASSIGN_OR_RETURN(std::vector<bool> working, IndexYear(file));
    calendar.working_by_year_.emplace(file.year(), std::move(working));
  }
  return calendar;
}

absl::StatusOr<WorkingDayCalendar> WorkingDayCalendar::LoadFiles(
    const std::vector<std::string>& paths, const Clock* clock) {
  std::vector<yidi::v1::HolidayCalendar> years;
  for (const std::string& path : paths) {
    yidi::v1::HolidayCalendar file;
    RETURN_IF_ERROR(LoadTextProtoFile(path, &file));
    years.push_back(std::move(file));
  }
  auto calendar = Build(years, clock);
  if (!calendar.ok()) {
    return absl::Status(calendar.status().code(), absl::StrCat(absl::StrJoin(paths, ", "), ": ",
                                                               calendar.status().message()));
  }
  return calendar;
}

absl::Status WorkingDayCalendar::CheckCovered(absl::CivilDay day) const {
  if (working_by_year_.count(static_cast<int>(day.year())) != 0) return absl::OkStatus();
  std::vector<int> loaded = years();
  return absl::OutOfRangeError(absl::StrCat(
      "the working-day calendar has no year ", day.year(), " (", FormatDate(day), "); loaded: ",
      loaded.empty() ? "none" : absl::StrJoin(loaded, ", "), "; add deploy/calendar/", day.year(),
      ".textproto from that year's State Council holiday notice"));
}

absl::StatusOr<bool> WorkingDayCalendar::IsWorkingDay(absl::CivilDay day) const {
  RETURN_IF_ERROR(CheckCovered(day));
  return working_by_year_.at(static_cast<int>(day.year()))[DayOfYearIndex(day)];
}

absl::StatusOr<absl::CivilDay> WorkingDayCalendar::AddWorkingDays(absl::CivilDay day,
                                                                  int count) const {
  if (count < 0 || count > kWorkingDaysMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("working days: ", count, " is outside [0, ", kWorkingDaysMax, "]"));
  }
  int remaining = count;
  while (remaining > 0) {
    ++day;
    ASSIGN_OR_RETURN(bool working, IsWorkingDay(day));
    if (working) --remaining;
  }
  return day;
}

absl::StatusOr<int> WorkingDayCalendar::CountWorkingDaysBetween(absl::CivilDay from,
                                                                absl::CivilDay to) const {
  if (to < from) {
    return absl::InvalidArgumentError(absl::StrCat("working days between ", FormatDate(from),
                                                   " and ", FormatDate(to),
                                                   ": the end is before the start"));
  }
  if (to - from > 2 * 366) {
    return absl::InvalidArgumentError(absl::StrCat("working days between ", FormatDate(from),
                                                   " and ", FormatDate(to),
                                                   ": more than two years apart"));
  }
  int count = 0;
  for (absl::CivilDay day = from + 1; day <= to; ++day) {
    ASSIGN_OR_RETURN(bool working, IsWorkingDay(day));
    if (working) ++count;
  }
  return count;
}

absl::StatusOr<absl::CivilDay> WorkingDayCalendar::WorkingDayOnOrBefore(absl::CivilDay day) const {
  for (int step = 0; step <= 366; ++step, --day) {
    ASSIGN_OR_RETURN(bool working, IsWorkingDay(day));
    if (working) return day;
  }
  return absl::InternalError("a loaded year has no working day in 366 days");
}

absl::StatusOr<int> WorkingDayCalendar::WorkingDaysLate(absl::CivilDay due,
                                                        absl::CivilDay today) const {
  if (today <= due) return 0;
  return CountWorkingDaysBetween(due, today);
}

absl::CivilDay WorkingDayCalendar::Today() const { return CstDay(clock_->Now()); }

std::vector<int> WorkingDayCalendar::years() const {
  std::vector<int> loaded;
  for (const auto& [year, flags] : working_by_year_) loaded.push_back(year);
  return loaded;
}

absl::CivilDay LastDayOfMonth(absl::CivilDay day) {
  return absl::CivilDay(absl::CivilMonth(day) + 1) - 1;
}

}  // namespace yidi
