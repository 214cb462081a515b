// Named limits. Every repeated field, string and deadline the nodes accept is bounded here,
// enforced at the edge (settlement_validation) and asserted inside.
#ifndef YIDI_COMMON_LIMITS_H_
#define YIDI_COMMON_LIMITS_H_

#include <cstdint>

namespace yidi {

// A long inpatient stay bills a few thousand lines; 5,000 bounds a request to about 1 MiB.
inline constexpr int kFeeLinesMax = 5000;
// "<12-char institution code>-<hospital serial>"; the national msgid is 30 characters.
inline constexpr int kSettlementIdLengthMax = 64;
inline constexpr int kInstitutionCodeLengthMax = 32;
inline constexpr int kItemCodeLengthMax = 64;
// Names, departments, admission numbers, reasons: bytes of UTF-8.
inline constexpr int kTextLengthMax = 200;
inline constexpr int kDiagnosisCodesMax = 32;
// A stay longer than 3 years is a data error, not a patient.
inline constexpr int kStayDaysMax = 3 * 366;
// Forward deadline when the config sets none, and the margin each hop keeps for itself so
// that the hop nearest a failure answers before the callers' deadlines run out.
inline constexpr int kForwardDeadlineDefaultMs = 2000;
inline constexpr int kForwardDeadlineMarginMs = 150;

// Security edge (common/call_front.h, docs/SECURITY.md). A request of kFeeLinesMax lines is
// about 1 MiB; 4 MiB (gRPC's own default) leaves room and refuses anything larger before
// it is parsed.
inline constexpr int kMessageBytesMax = 4 * 1024 * 1024;
// Calls one caller may have in flight at one node. A hospital's busiest hour is a few calls
// a second, each answered within the forward deadlines; 64 absorbs bursts and retries and
// stops one caller from taking every server thread.
inline constexpr int kCallsInFlightPerCallerDefault = 64;
// The same for a neighbouring node: its link carries every institution of its region at once
// (a city forwards all its hospitals' settlements to its province), so a per-hospital figure
// would throttle a whole region; this one only stops a runaway node.
inline constexpr int kCallsInFlightPerNodeLink = 1024;
// Backstops checked at the edge on every string and repeated field of every request, before
// any handler runs; the handlers' own validation keeps the tighter per-field limits above.
// 64 KiB covers the longest free text (announcements, investigation notes); 100,000 entries
// cover a day's reconciliation upload and stay below kMessageBytesMax anyway.
inline constexpr int kAnyStringLengthMax = 64 * 1024;
inline constexpr int kAnyRepeatedMax = 100000;

static_assert(kSettlementIdLengthMax > kInstitutionCodeLengthMax);

}  // namespace yidi

#endif  // YIDI_COMMON_LIMITS_H_
