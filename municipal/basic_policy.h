// The insured region's basic policy (参保地政策): deductible, ratio by hospital level and
// person type, reduction for temporary travellers, annual cap of the pooled fund, cash for the
// rest, and the yearly accumulators it moves. Pure: the same inputs give the same outcome, so
// PreSettle and Settle compute identically. The complete multi-fund engine replaces this in its
// own issue; the seam is ComputeBasicPolicy's input and outcome.
#ifndef YIDI_MUNICIPAL_BASIC_POLICY_H_
#define YIDI_MUNICIPAL_BASIC_POLICY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "yidi/v1/common.pb.h"
#include "yidi/v1/config.pb.h"

namespace yidi::municipal {

// National limits on the ratio reduction for temporary travellers (22号文 §二(六)).
inline constexpr int32_t kReferredOrEmergencyReductionMaxBp = 1000;
inline constexpr int32_t kOtherTemporaryReductionMaxBp = 2000;

// Accumulator names (per person, insurance type and year).
inline constexpr char kAccInpatientAdmissions[] = "inpatient_admissions";
inline constexpr char kAccInpatientDeductibleFen[] = "inpatient_deductible_fen";
inline constexpr char kAccInpatientPooledFundFen[] = "inpatient_pooled_fund_fen";
inline constexpr char kAccOutpatientDeductibleFen[] = "outpatient_deductible_fen";
inline constexpr char kAccOutpatientPooledFundFen[] = "outpatient_pooled_fund_fen";
inline constexpr char kAccInScopePersonalBurdenFen[] = "in_scope_personal_burden_fen";

// Where the person stands for remote care (RULES.md 3.1, 3.3).
enum class RemoteCare {
  kLocal,                // own region, long-term filer, or intra-province where no filing is needed
  kReferredOrEmergency,  // referred patient, emergency filing, or deemed filed
  kOtherTemporary,       // other temporary traveller
};

struct PolicyInput {
  yidi::v1::FeeSplit split;
  yidi::v1::MedicalType medical_type = yidi::v1::MEDICAL_TYPE_UNSPECIFIED;
  yidi::v1::HospitalLevel hospital_level = yidi::v1::HOSPITAL_LEVEL_UNSPECIFIED;
  yidi::v1::PersonType person_type = yidi::v1::PERSON_TYPE_UNSPECIFIED;
  yidi::v1::InsuranceType insurance_type = yidi::v1::INSURANCE_TYPE_UNSPECIFIED;
  RemoteCare remote_care = RemoteCare::kLocal;
};

// The person's accumulators for the year, by name; absent = 0.
using AccumulatorValues = std::map<std::string, int64_t>;

struct PolicyOutcome {
  int64_t deductible_applied_fen = 0;
  int64_t pooled_fund_fen = 0;
  int64_t cash_fen = 0;
  int32_t ratio_applied_bp = 0;
  yidi::v1::FundPaymentType pooled_fund_type = yidi::v1::FUND_PAYMENT_TYPE_UNSPECIFIED;
  AccumulatorValues accumulator_deltas;  // what this settlement adds
};

// Versions of one region's policies, by insurance type and effective date.
class PolicySet {
 public:
  // INVALID_ARGUMENT with the reason when a policy breaks the national limits (a reduction above
  // 10 / 20 points), has a ratio outside 0..100%, a negative amount, no level rule, a bad date,
  // or names another insured region.
  absl::Status Add(const yidi::v1::PolicyConfig& policy, absl::string_view insured_region);

  // The version in force on `day`. NOT_FOUND when none.
  absl::StatusOr<const yidi::v1::PolicyConfig*> Find(yidi::v1::InsuranceType type,
                                                     absl::CivilDay day) const;

 private:
  // (insurance type, effective_from) → policy; later dates win.
  std::map<std::pair<int, std::string>, yidi::v1::PolicyConfig> policies_;
};

bool IsRetired(yidi::v1::PersonType type);

// Computes the shares. REQUIRES: `input.split` adds up and is ≥ 0. INVALID_ARGUMENT when the
// policy has no rule for the hospital level.
absl::StatusOr<PolicyOutcome> ComputeBasicPolicy(const yidi::v1::PolicyConfig& policy,
                                                 const PolicyInput& input,
                                                 const AccumulatorValues& accumulators);

}  // namespace yidi::municipal

#endif  // YIDI_MUNICIPAL_BASIC_POLICY_H_
