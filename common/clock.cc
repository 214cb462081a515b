#include "common/clock.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace yidi {

SystemClock* SystemClock::Get() {
  static SystemClock* const clock = new SystemClock();
  return clock;
}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mutex_);
  return now_;
}

void FakeClock::Set(absl::Time now) {
  absl::MutexLock lock(&mutex_);
  now_ = now;
}

void FakeClock::Advance(absl::Duration by) {
  absl::MutexLock lock(&mutex_);
  now_ += by;
}

absl::TimeZone ChinaStandardTime() { return absl::FixedTimeZone(8 * 60 * 60); }

absl::CivilDay CstDay(absl::Time t) { return absl::ToCivilDay(t, ChinaStandardTime()); }

std::string FormatCstTimestamp(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S+08:00", t, ChinaStandardTime());
}

absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view text) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text.substr(0, 16), "\" is not a date of the form YYYY-MM-DD"));
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return invalid();
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!absl::ascii_isdigit(text[i])) return invalid();
  }
  int year = 0, month = 0, day = 0;
  (void)absl::SimpleAtoi(text.substr(0, 4), &year);
  (void)absl::SimpleAtoi(text.substr(5, 2), &month);
  (void)absl::SimpleAtoi(text.substr(8, 2), &day);
  const absl::CivilDay parsed(year, month, day);
  if (year < 1900 || parsed.year() != year || parsed.month() != month || parsed.day() != day) {
    return invalid();
  }
  return parsed;
}

std::string FormatDate(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

}  // namespace yidi
