#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/clock.h"

namespace yidi {
namespace {

LogLevel InitialLevel() {
  const char* env = std::getenv("YIDI_LOG_LEVEL");
  if (env == nullptr) return LogLevel::kInfo;
  if (std::strcmp(env, "debug") == 0) return LogLevel::kDebug;
  if (std::strcmp(env, "warning") == 0) return LogLevel::kWarning;
  if (std::strcmp(env, "error") == 0) return LogLevel::kError;
  return LogLevel::kInfo;
}

std::atomic<int> g_level{static_cast<int>(InitialLevel())};
absl::Mutex g_tag_mutex;
std::string* g_tag ABSL_GUARDED_BY(g_tag_mutex) = new std::string("yidi");

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

void SetLogTag(absl::string_view tag) {
  absl::MutexLock lock(&g_tag_mutex);
  *g_tag = std::string(tag);
}

void LogLine(LogLevel level, absl::string_view message) {
  static constexpr char kLetters[] = {'D', 'I', 'W', 'E'};
  std::string tag;
  {
    absl::MutexLock lock(&g_tag_mutex);
    tag = *g_tag;
  }
  std::string line = absl::StrFormat(
      "%s %c %s] %s\n",
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3S+08:00", absl::Now(), ChinaStandardTime()),
      kLetters[static_cast<int>(level)], tag, message);
  // One write per line keeps concurrent lines whole.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace yidi
