// Where a person stands for remote care (异地就医, RULES.md 3.1 and 3.3), as eligibility decides
// it and the policy engine applies it, and the national limits on the ratio reductions.
// Plain values: thread-safe.
#ifndef YIDI_MUNICIPAL_REMOTE_CARE_H_
#define YIDI_MUNICIPAL_REMOTE_CARE_H_

#include <cstdint>

namespace yidi::municipal {

// National limits on the ratio reduction for temporary travellers (22号文 §二(六)), in
// percentage points × 100 (bp).
inline constexpr int32_t kReferredOrEmergencyReductionMaxBp = 1000;
inline constexpr int32_t kOtherTemporaryReductionMaxBp = 2000;

enum class RemoteCare {
  kLocal,                // own region, long-term filer, or intra-province where no filing is needed
  kReferredOrEmergency,  // referred patient, emergency filing, or deemed filed
  kOtherTemporary,       // other temporary traveller
  // Not filed, not an emergency, and the insured region settles such stays directly
  // (RemoteCarePolicy.unfiled_direct_settlement; Yunnan 001 通知§四(一)).
  kUnfiled,
};

}  // namespace yidi::municipal

#endif  // YIDI_MUNICIPAL_REMOTE_CARE_H_
