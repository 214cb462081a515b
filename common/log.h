// Logging to stderr, one line per event: "2026-11-23T09:30:00.123+08:00 I node] message".
// Our Abseil has no absl::log. Never pass a full ID number or name: use MaskIdNumber/MaskName.
// Thread-safe (one write(2) per line).
#ifndef YIDI_COMMON_LOG_H_
#define YIDI_COMMON_LOG_H_

#include <string>

#include "absl/strings/string_view.h"
#include <string_view>

#include "absl/strings/str_format.h"

namespace yidi {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Lines below `level` are dropped. Default kInfo; YIDI_LOG_LEVEL=debug|info|warning|error.
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);
// The prefix after the level letter, normally the node's name.
void SetLogTag(absl::string_view tag);
void LogLine(LogLevel level, absl::string_view message);

template <typename... Args>
void LogInfo(const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (LogEnabled(LogLevel::kInfo)) LogLine(LogLevel::kInfo, absl::StrFormat(format, args...));
}
template <typename... Args>
void LogWarning(const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (LogEnabled(LogLevel::kWarning)) {
    LogLine(LogLevel::kWarning, absl::StrFormat(format, args...));
  }
}
template <typename... Args>
void LogError(const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (LogEnabled(LogLevel::kError)) LogLine(LogLevel::kError, absl::StrFormat(format, args...));
}
template <typename... Args>
void LogDebug(const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (LogEnabled(LogLevel::kDebug)) LogLine(LogLevel::kDebug, absl::StrFormat(format, args...));
}

}  // namespace yidi

#endif  // YIDI_COMMON_LOG_H_
