// Time for the whole system: an injectable clock, and dates in China Standard Time (UTC+8)
// whatever the machine's time zone. A settlement at 23:30 UTC on the 31st belongs to the next
// day and, at month end, to the next clearing month (docs/ARCHITECTURE.md section 5).
#ifndef YIDI_COMMON_CLOCK_H_
#define YIDI_COMMON_CLOCK_H_

#include <string>

#include "absl/strings/string_view.h"
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace yidi {

// Thread-safe. Production uses SystemClock; tests use FakeClock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  static SystemClock* Get();  // process-wide instance, never destroyed
};

// The system clock moved to another instant: time flows at the real rate from `start`. For
// drills and multi-process tests that need real node binaries on another day (the nodes'
// `--clock_start` flag); a production node never gets one.
class ShiftedClock final : public Clock {
 public:
  explicit ShiftedClock(absl::Time start) : shift_(start - absl::Now()) {}
  absl::Time Now() const override { return absl::Now() + shift_; }

 private:
  const absl::Duration shift_;
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time now) : now_(now) {}
  absl::Time Now() const override;
  void Set(absl::Time now);
  void Advance(absl::Duration by);

 private:
  mutable absl::Mutex mutex_;
  absl::Time now_ ABSL_GUARDED_BY(mutex_);
};

// UTC+8, no daylight saving.
absl::TimeZone ChinaStandardTime();

// The CST calendar day of an instant.
absl::CivilDay CstDay(absl::Time t);

// "2026-11-23T09:30:00+08:00".
std::string FormatCstTimestamp(absl::Time t);

// Parses "YYYY-MM-DD" strictly (zero-padded, a real calendar day). INVALID_ARGUMENT otherwise.
absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view text);

// "YYYY-MM-DD".
std::string FormatDate(absl::CivilDay day);

}  // namespace yidi

#endif  // YIDI_COMMON_CLOCK_H_
