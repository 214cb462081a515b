// The insured region's policies as loaded: each PolicyConfig (api/yidi/v1/config.proto,
// docs/POLICY.md) validated and compiled into the form the policy engine walks
// (municipal/policy_engine.h), and the versions of a region by insurance type and effective
// date. A policy that breaks a national limit or is not well-formed is rejected at load with
// the field and the reason; nothing half-loaded stays.
//
// Immutable after loading: a PolicySet and its CompiledPolicy objects may be shared by threads.
#ifndef YIDI_MUNICIPAL_POLICY_SET_H_
#define YIDI_MUNICIPAL_POLICY_SET_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "yidi/v1/common.pb.h"
#include "yidi/v1/config.pb.h"

namespace yidi::municipal {

// Limits of a policy file, checked at load.
inline constexpr int kPolicyBenefitsMax = 32;         // inpatient, outpatient, some chronic groups
inline constexpr int kPolicyFundRulesMax = 16;        // the 8 columns, a few twice
inline constexpr int kPolicySchedulesMax = 64;        // 3 levels × working/retired × categories
inline constexpr int kPolicyBandsMax = 16;            // critical-illness segments: 3–5 in practice
inline constexpr int kPolicyDeductibleRulesMax = 64;
inline constexpr int kPolicyKeyLengthMax = 24;        // accumulator names fit VARCHAR(48)
inline constexpr int kPolicyChronicCodesMax = 256;    // a region's 门诊慢特病 list
inline constexpr int kPolicyPersonTypesMax = 16;

// Accumulator names of a benefit id and of a fund key (config.proto comments).
std::string AdmissionsAccumulator(absl::string_view benefit_id);  // "admissions:<id>"
std::string DeductibleAccumulator(absl::string_view benefit_id);  // "deductible_fen:<id>"
std::string FundPaidAccumulator(absl::string_view fund_key);      // "paid_fen:<key>"
std::string FundBaseAccumulator(absl::string_view fund_key);      // "base_fen:<key>"

// The national fund payment type (fund_pay_type) of a column under an insurance type.
yidi::v1::FundPaymentType FundPaymentTypeOf(yidi::v1::FundColumn column,
                                            yidi::v1::InsuranceType insurance_type);

// ---------------------------------------------------------------------------------------------
// The compiled form. Plain data read by the engine; built only by CompiledPolicy::Compile.

struct CompiledCriteria {
  std::vector<int> person_types;  // empty = any
  yidi::v1::Retirement retirement = yidi::v1::RETIREMENT_ANY;
  uint32_t assistance_mask = 0;   // bit per AssistanceCategory; 0 = any
  bool civil_servant_subsidy = false;
  bool disabled_veteran = false;
  bool supplementary_insurance = false;
  int age_from_years = 0;         // 0 = no bound
  int age_below_years = 0;        // 0 = no bound
};

struct CompiledBand {
  int64_t from_fen = 0;
  int32_t ratio_bp = 0;
};

struct CompiledSchedule {
  uint32_t level_mask = 0;  // bit per HospitalLevel; 0 = every level
  CompiledCriteria who;
  std::vector<CompiledBand> bands;  // ascending, at least one
  bool capped = false;
  int64_t annual_cap_fen = 0;       // when capped
};

struct CompiledFund {
  std::string key;
  std::string name;
  std::string paid_accumulator;  // "paid_fen:<key>"
  std::string base_accumulator;  // "base_fen:<key>"
  yidi::v1::FundColumn column = yidi::v1::FUND_COLUMN_UNSPECIFIED;
  yidi::v1::FundBase base = yidi::v1::FUND_BASE_UNSPECIFIED;
  yidi::v1::FundPaymentType fund_payment_type = yidi::v1::FUND_PAYMENT_TYPE_UNSPECIFIED;
  CompiledCriteria who;
  std::vector<CompiledSchedule> schedules;
};

struct CompiledDeductible {
  uint32_t level_mask = 0;
  CompiledCriteria who;
  int from_admission = 0;
  int64_t amount_fen = 0;
};

struct CompiledBenefit {
  std::string id;
  std::string admissions_accumulator;  // "admissions:<id>"
  std::string deductible_accumulator;  // "deductible_fen:<id>"
  yidi::v1::BenefitKind kind = yidi::v1::BENEFIT_KIND_UNSPECIFIED;
  std::vector<std::string> chronic_disease_codes;
  yidi::v1::DeductiblePeriod deductible_period = yidi::v1::DEDUCTIBLE_PERIOD_UNSPECIFIED;
  std::vector<CompiledDeductible> deductibles;
  std::vector<CompiledFund> funds;
  uint32_t account_parts_mask = 0;          // bit per BillPart
  uint32_t account_parts_consent_mask = 0;  // bit per BillPart, with consent only
  std::string account_name;
  // 门诊共济: the parts a relative's (授权人's) account may pay, with consent (outpatient and
  // chronic benefits only), and the name of its ＃参保地基金 line.
  uint32_t family_parts_mask = 0;
  std::string family_account_name;
  // Inpatient: whether a referred stay's episode deductibles count (REFERRAL_DEDUCTIBLE_*).
  yidi::v1::ReferralDeductible referral_deductible = yidi::v1::REFERRAL_DEDUCTIBLE_NEW;
};

// A validated policy, compiled. Immutable.
class CompiledPolicy {
 public:
  // INVALID_ARGUMENT naming the field and the reason (see PolicySet::Add); the region is not
  // checked here.
  static absl::StatusOr<std::unique_ptr<const CompiledPolicy>> Compile(
      const yidi::v1::PolicyConfig& policy);

  const yidi::v1::PolicyConfig& config() const { return config_; }
  yidi::v1::InsuranceType insurance_type() const { return config_.insurance_type(); }
  const std::vector<CompiledBenefit>& benefits() const { return benefits_; }
  // The benefit of a kind (inpatient, outpatient): never null after Compile.
  const CompiledBenefit& inpatient() const { return benefits_[inpatient_index_]; }
  const CompiledBenefit& outpatient() const { return benefits_[outpatient_index_]; }
  // The chronic benefit listing `code`; null when none.
  const CompiledBenefit* ChronicBenefitFor(absl::string_view code) const;

 private:
  CompiledPolicy() = default;
  yidi::v1::PolicyConfig config_;
  std::vector<CompiledBenefit> benefits_;
  int inpatient_index_ = -1;
  int outpatient_index_ = -1;
};

// Versions of one region's policies, by insurance type and effective date.
class PolicySet {
 public:
  // Compiles and adds `policy`. INVALID_ARGUMENT naming the field and the reason when it breaks
  // a national limit (a reduction above 10 / 20 percentage points), is not well-formed (a ratio
  // outside 0..100%, a negative or oversized amount, bands out of order, a chain whose bases
  // are out of order, a fund column the insurance type does not have, no inpatient or
  // outpatient benefit, a hospital level without a deductible or pooled-fund ratio for
  // everyone, a bad date, a key reused), names another insured region, or starts on the same
  // day as a version already added. A rejected policy is not added.
  absl::Status Add(const yidi::v1::PolicyConfig& policy, absl::string_view insured_region);

  // The version in force on `day`: the last one starting on or before it. NOT_FOUND when none.
  absl::StatusOr<const CompiledPolicy*> Find(yidi::v1::InsuranceType type,
                                             absl::CivilDay day) const;

 private:
  std::map<std::pair<int, std::string>, std::unique_ptr<const CompiledPolicy>> policies_;
};

}  // namespace yidi::municipal

#endif  // YIDI_MUNICIPAL_POLICY_SET_H_
