// Error-propagation helpers and the always-on invariant check. Our Abseil (20220623) has no
// absl::check / absl::log, so these live here.
//
// YIDI_CHECK is for programmer errors and broken invariants (money identities, negative
// amounts where none can be): it stays on in release builds and aborts with the belief that
// failed. Operating errors (bad input, a hop down) are absl::Status values, never checks.
#ifndef YIDI_COMMON_STATUS_MACROS_H_
#define YIDI_COMMON_STATUS_MACROS_H_

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace yidi::internal {
[[noreturn]] inline void CheckFailed(const char* file, int line, const char* condition,
                                     const char* belief) {
  std::fprintf(stderr, "FATAL %s:%d: check failed: %s (%s)\n", file, line, condition, belief);
  std::fflush(stderr);
  std::abort();
}
}  // namespace yidi::internal

// YIDI_CHECK(cond, "what we believe and why")
#define YIDI_CHECK(condition, belief)                                               \
  do {                                                                              \
    if (!(condition)) ::yidi::internal::CheckFailed(__FILE__, __LINE__, #condition, \
                                                    belief);                        \
  } while (false)

#define YIDI_STATUS_CONCAT_INNER(a, b) a##b
#define YIDI_STATUS_CONCAT(a, b) YIDI_STATUS_CONCAT_INNER(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define RETURN_IF_ERROR(expr)                       \
  do {                                              \
    ::absl::Status yidi_status_ = (expr);           \
    if (!yidi_status_.ok()) return yidi_status_;    \
  } while (false)

// ASSIGN_OR_RETURN(auto x, FunctionReturningStatusOr());
#define ASSIGN_OR_RETURN(lhs, expr) \
  YIDI_ASSIGN_OR_RETURN_IMPL(YIDI_STATUS_CONCAT(yidi_statusor_, __LINE__), lhs, expr)
#define YIDI_ASSIGN_OR_RETURN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                               \
  if (!statusor.ok()) return statusor.status();         \
  lhs = std::move(*statusor)

#endif  // YIDI_COMMON_STATUS_MACROS_H_
