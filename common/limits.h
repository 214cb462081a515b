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

static_assert(kSettlementIdLengthMax > kInstitutionCodeLengthMax);

}  // namespace yidi

#endif  // YIDI_COMMON_LIMITS_H_
