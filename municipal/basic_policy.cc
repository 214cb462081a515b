#include "municipal/basic_policy.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/money.h"
#include "common/settlement_validation.h"
#include "common/status_macros.h"
#include "municipal/catalogue.h"

namespace yidi::municipal {
namespace {

absl::Status CheckRatio(absl::string_view field, int32_t ratio_bp) {
  if (ratio_bp < 0 || ratio_bp > kRatioFullBp) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", ratio_bp, " bp outside 0..10000"));
  }
  return absl::OkStatus();
}

absl::Status CheckAmount(absl::string_view field, int64_t amount_fen) {
  if (amount_fen < 0 || amount_fen > kAmountMaxFen) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": amount outside 0..", kAmountMaxFen));
  }
  return absl::OkStatus();
}

absl::Status CheckLevels(absl::string_view field,
                         const google::protobuf::RepeatedPtrField<yidi::v1::LevelRule>& levels) {
  if (levels.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": no level rule"));
  for (int i = 0; i < levels.size(); ++i) {
    const auto& rule = levels[i];
    const std::string f = absl::StrCat(field, "[", i, "]");
    if (rule.level() == yidi::v1::HOSPITAL_LEVEL_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(f, ".level: unspecified"));
    }
    RETURN_IF_ERROR(CheckAmount(absl::StrCat(f, ".deductible_fen"), rule.deductible_fen()));
    RETURN_IF_ERROR(CheckAmount(absl::StrCat(f, ".later_admission_deductible_fen"),
                                rule.later_admission_deductible_fen()));
    RETURN_IF_ERROR(CheckRatio(absl::StrCat(f, ".ratio_working_bp"), rule.ratio_working_bp()));
    RETURN_IF_ERROR(CheckRatio(absl::StrCat(f, ".ratio_retired_bp"), rule.ratio_retired_bp()));
  }
  return absl::OkStatus();
}

const yidi::v1::LevelRule* FindLevel(
    const google::protobuf::RepeatedPtrField<yidi::v1::LevelRule>& levels,
    yidi::v1::HospitalLevel level) {
  for (const auto& rule : levels) {
    if (rule.level() == level) return &rule;
  }
  return nullptr;
}

int64_t Get(const AccumulatorValues& values, const char* name) {
  auto it = values.find(name);
  return it == values.end() ? 0 : it->second;
}

}  // namespace

bool IsRetired(yidi::v1::PersonType type) {
  switch (type) {
    case yidi::v1::PERSON_TYPE_EMPLOYEE_RETIRED:
    case yidi::v1::PERSON_TYPE_CIVIL_SERVANT_RETIRED:
    case yidi::v1::PERSON_TYPE_FLEXIBLE_RETIRED:
    case yidi::v1::PERSON_TYPE_RETIRED_CADRE:
      return true;
    default:
      return false;
  }
}

absl::Status PolicySet::Add(const yidi::v1::PolicyConfig& policy,
                            absl::string_view insured_region) {
  const std::string name = absl::StrCat("policy \"", policy.name(), "\"");
  if (policy.insured_region() != insured_region) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": insured_region ",
                                                   policy.insured_region(), " is not this node's ",
                                                   insured_region));
  }
  if (policy.insurance_type() != yidi::v1::INSURANCE_TYPE_EMPLOYEE &&
      policy.insurance_type() != yidi::v1::INSURANCE_TYPE_RESIDENT) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": insurance_type must be 310 or 390"));
  }
  auto effective = ParseDate(policy.effective_from());
  if (!effective.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": effective_from: ", effective.status().message()));
  }
  RETURN_IF_ERROR(CheckLevels(absl::StrCat(name, ": inpatient.levels"), policy.inpatient().levels()));
  RETURN_IF_ERROR(CheckAmount(absl::StrCat(name, ": inpatient.pooled_fund_annual_cap_fen"),
                              policy.inpatient().pooled_fund_annual_cap_fen()));
  RETURN_IF_ERROR(
      CheckLevels(absl::StrCat(name, ": outpatient.levels"), policy.outpatient().levels()));
  RETURN_IF_ERROR(CheckAmount(absl::StrCat(name, ": outpatient.annual_deductible_fen"),
                              policy.outpatient().annual_deductible_fen()));
  RETURN_IF_ERROR(CheckAmount(absl::StrCat(name, ": outpatient.annual_cap_fen"),
                              policy.outpatient().annual_cap_fen()));
  const auto& remote = policy.remote_care();
  if (remote.referred_or_emergency_reduction_bp() < 0 ||
      remote.referred_or_emergency_reduction_bp() > kReferredOrEmergencyReductionMaxBp) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": remote_care.referred_or_emergency_reduction_bp ",
        remote.referred_or_emergency_reduction_bp(),
        " breaks the national limit of 10 percentage points (22号文 §二(六))"));
  }
  if (remote.other_temporary_reduction_bp() < 0 ||
      remote.other_temporary_reduction_bp() > kOtherTemporaryReductionMaxBp) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": remote_care.other_temporary_reduction_bp ", remote.other_temporary_reduction_bp(),
        " breaks the national limit of 20 percentage points (22号文 §二(六))"));
  }
  const auto key = std::make_pair(static_cast<int>(policy.insurance_type()), policy.effective_from());
  if (!policies_.emplace(key, policy).second) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": a policy for this insurance type "
                                                         "already starts on ",
                                                   policy.effective_from()));
  }
  return absl::OkStatus();
}

absl::StatusOr<const yidi::v1::PolicyConfig*> PolicySet::Find(yidi::v1::InsuranceType type,
                                                              absl::CivilDay day) const {
  const std::string date = FormatDate(day);
  const yidi::v1::PolicyConfig* found = nullptr;
  // ISO dates order as strings; the last version starting on or before `day` is in force.
  for (const auto& [key, policy] : policies_) {
    if (key.first == static_cast<int>(type) && key.second <= date) found = &policy;
  }
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat("no policy for insurance type ",
                                            yidi::v1::InsuranceType_Name(type), " in force on ",
                                            date));
  }
  return found;
}

absl::StatusOr<PolicyOutcome> ComputeBasicPolicy(const yidi::v1::PolicyConfig& policy,
                                                 const PolicyInput& input,
                                                 const AccumulatorValues& accumulators) {
  YIDI_CHECK(CheckFeeSplit(input.split).ok() && input.split.total_fen() >= 0,
             "the policy computes on a classified, non-negative bill");
  PolicyOutcome outcome;
  outcome.pooled_fund_type = input.insurance_type == yidi::v1::INSURANCE_TYPE_EMPLOYEE
                                 ? yidi::v1::FUND_PAYMENT_TYPE_EMPLOYEE_POOLED_FUND
                                 : yidi::v1::FUND_PAYMENT_TYPE_RESIDENT_POOLED_FUND;
  const bool inpatient = IsInpatient(input.medical_type);
  const auto& levels = inpatient ? policy.inpatient().levels() : policy.outpatient().levels();
  const yidi::v1::LevelRule* rule = FindLevel(levels, input.hospital_level);
  if (rule == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy \"", policy.name(), "\" has no ", inpatient ? "inpatient" : "outpatient",
                     " rule for hospital level ", static_cast<int>(input.hospital_level)));
  }

  const int64_t eligible = input.split.in_scope_fen();
  int64_t deductible = 0;
  int64_t cap_remaining = 0;
  if (inpatient) {
    // 起付线 per admission; a lower one from the second admission of the year where set.
    const bool later = Get(accumulators, kAccInpatientAdmissions) > 0;
    deductible = later && rule->later_admission_deductible_fen() > 0
                     ? rule->later_admission_deductible_fen()
                     : rule->deductible_fen();
    cap_remaining = std::max<int64_t>(0, policy.inpatient().pooled_fund_annual_cap_fen() -
                                             Get(accumulators, kAccInpatientPooledFundFen));
  } else {
    // Outpatient: one deductible per year.
    deductible = std::max<int64_t>(0, policy.outpatient().annual_deductible_fen() -
                                          Get(accumulators, kAccOutpatientDeductibleFen));
    cap_remaining = std::max<int64_t>(0, policy.outpatient().annual_cap_fen() -
                                             Get(accumulators, kAccOutpatientPooledFundFen));
  }
  outcome.deductible_applied_fen = std::min(eligible, deductible);

  int32_t ratio = IsRetired(input.person_type) && rule->ratio_retired_bp() > 0
                      ? rule->ratio_retired_bp()
                      : rule->ratio_working_bp();
  switch (input.remote_care) {
    case RemoteCare::kLocal:
      break;
    case RemoteCare::kReferredOrEmergency:
      ratio -= policy.remote_care().referred_or_emergency_reduction_bp();
      break;
    case RemoteCare::kOtherTemporary:
      ratio -= policy.remote_care().other_temporary_reduction_bp();
      break;
  }
  outcome.ratio_applied_bp = std::max<int32_t>(0, ratio);

  const int64_t payable = ApplyRatio(eligible - outcome.deductible_applied_fen,
                                     outcome.ratio_applied_bp);
  outcome.pooled_fund_fen = std::min(payable, cap_remaining);
  outcome.cash_fen = input.split.total_fen() - outcome.pooled_fund_fen;

  if (inpatient) {
    outcome.accumulator_deltas[kAccInpatientAdmissions] = 1;
    outcome.accumulator_deltas[kAccInpatientDeductibleFen] = outcome.deductible_applied_fen;
    outcome.accumulator_deltas[kAccInpatientPooledFundFen] = outcome.pooled_fund_fen;
  } else {
    outcome.accumulator_deltas[kAccOutpatientDeductibleFen] = outcome.deductible_applied_fen;
    outcome.accumulator_deltas[kAccOutpatientPooledFundFen] = outcome.pooled_fund_fen;
  }
  outcome.accumulator_deltas[kAccInScopePersonalBurdenFen] = eligible - outcome.pooled_fund_fen;

  YIDI_CHECK(outcome.pooled_fund_fen >= 0 && outcome.pooled_fund_fen <= eligible,
             "the pooled fund pays within the in-scope amount");
  YIDI_CHECK(outcome.cash_fen >= 0, "cash is what remains, never negative");
  return outcome;
}

}  // namespace yidi::municipal
