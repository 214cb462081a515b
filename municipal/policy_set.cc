#include "municipal/policy_set.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/money.h"
#include "common/status_macros.h"
#include "municipal/remote_care.h"

namespace yidi::municipal {
namespace {

using yidi::v1::BenefitKind;
using yidi::v1::FundBase;
using yidi::v1::FundColumn;

absl::Status Invalid(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

absl::Status CheckRatio(absl::string_view field, int32_t ratio_bp) {
  if (ratio_bp < 0 || ratio_bp > kRatioFullBp) {
    return Invalid(field, absl::StrCat(ratio_bp, " bp is outside 0..10000"));
  }
  return absl::OkStatus();
}

absl::Status CheckAmount(absl::string_view field, int64_t amount_fen) {
  if (amount_fen < 0 || amount_fen > kAmountMaxFen) {
    return Invalid(field, absl::StrCat(amount_fen, " fen is outside 0..", kAmountMaxFen));
  }
  return absl::OkStatus();
}

// [a-z0-9_]{1,kPolicyKeyLengthMax}: keys become accumulator names.
absl::Status CheckKey(absl::string_view field, absl::string_view key) {
  if (key.empty() || key.size() > static_cast<size_t>(kPolicyKeyLengthMax)) {
    return Invalid(field, absl::StrCat("\"", key, "\" must have 1..", kPolicyKeyLengthMax,
                                       " characters"));
  }
  for (char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return Invalid(field, absl::StrCat("\"", key, "\" may hold only a-z, 0-9 and _"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> LevelMask(absl::string_view field,
                                   const google::protobuf::RepeatedField<int>& levels) {
  uint32_t mask = 0;
  for (int level : levels) {
    if (level < yidi::v1::HOSPITAL_LEVEL_1 || level > yidi::v1::HOSPITAL_LEVEL_3) {
      return Invalid(field, absl::StrCat("hospital level ", level, " is not 1, 2 or 3"));
    }
    mask |= 1u << level;
  }
  return mask;
}

bool MaskHasLevel(uint32_t mask, int level) { return mask == 0 || (mask & (1u << level)) != 0; }

bool CriteriaIsEmpty(const CompiledCriteria& c) {
  return c.person_types.empty() && c.retirement == yidi::v1::RETIREMENT_ANY &&
         c.assistance_mask == 0 && !c.civil_servant_subsidy && !c.disabled_veteran &&
         !c.supplementary_insurance && c.age_from_years == 0 && c.age_below_years == 0;
}

absl::StatusOr<CompiledCriteria> CompileCriteria(const std::string& field,
                                                 const yidi::v1::PersonCriteria& who) {
  CompiledCriteria c;
  if (who.person_types_size() > kPolicyPersonTypesMax) {
    return Invalid(field, absl::StrCat("more than ", kPolicyPersonTypesMax, " person types"));
  }
  for (int type : who.person_types()) {
    if (!yidi::v1::PersonType_IsValid(type) || type == yidi::v1::PERSON_TYPE_UNSPECIFIED) {
      return Invalid(absl::StrCat(field, ".person_types"), absl::StrCat(type, " is not a type"));
    }
    c.person_types.push_back(type);
  }
  if (!yidi::v1::Retirement_IsValid(who.retirement())) {
    return Invalid(absl::StrCat(field, ".retirement"), "unknown value");
  }
  c.retirement = who.retirement();
  for (int category : who.assistance_categories()) {
    if (!yidi::v1::AssistanceCategory_IsValid(category) || category > 31) {
      return Invalid(absl::StrCat(field, ".assistance_categories"),
                     absl::StrCat(category, " is not a category"));
    }
    c.assistance_mask |= 1u << category;
  }
  c.civil_servant_subsidy = who.civil_servant_subsidy();
  c.disabled_veteran = who.disabled_veteran();
  c.supplementary_insurance = who.supplementary_insurance();
  if (who.age_from_years() < 0 || who.age_below_years() < 0 ||
      (who.age_below_years() > 0 && who.age_below_years() <= who.age_from_years())) {
    return Invalid(absl::StrCat(field, ".age_from_years/age_below_years"),
                   "ages must be ≥ 0 and from < below");
  }
  c.age_from_years = who.age_from_years();
  c.age_below_years = who.age_below_years();
  return c;
}

absl::StatusOr<CompiledSchedule> CompileSchedule(const std::string& field,
                                                 const yidi::v1::FundSchedule& schedule,
                                                 bool rule_capped, int64_t rule_cap_fen) {
  CompiledSchedule s;
  ASSIGN_OR_RETURN(s.level_mask, LevelMask(absl::StrCat(field, ".levels"), schedule.levels()));
  ASSIGN_OR_RETURN(s.who, CompileCriteria(absl::StrCat(field, ".who"), schedule.who()));
  if (schedule.bands().empty()) {
    RETURN_IF_ERROR(CheckRatio(absl::StrCat(field, ".ratio_bp"), schedule.ratio_bp()));
    s.bands.push_back({0, schedule.ratio_bp()});
  } else {
    if (schedule.ratio_bp() != 0) {
      return Invalid(field, "set ratio_bp or bands, not both");
    }
    if (schedule.bands_size() > kPolicyBandsMax) {
      return Invalid(absl::StrCat(field, ".bands"), absl::StrCat("more than ", kPolicyBandsMax));
    }
    for (int i = 0; i < schedule.bands_size(); ++i) {
      const auto& band = schedule.bands(i);
      const std::string f = absl::StrCat(field, ".bands[", i, "]");
      RETURN_IF_ERROR(CheckAmount(absl::StrCat(f, ".from_fen"), band.from_fen()));
      RETURN_IF_ERROR(CheckRatio(absl::StrCat(f, ".ratio_bp"), band.ratio_bp()));
      if (i > 0 && band.from_fen() <= schedule.bands(i - 1).from_fen()) {
        return Invalid(absl::StrCat(f, ".from_fen"), "bands must ascend strictly");
      }
      s.bands.push_back({band.from_fen(), band.ratio_bp()});
    }
  }
  if (schedule.has_annual_cap_fen() && schedule.no_annual_cap()) {
    return Invalid(field, "set annual_cap_fen or no_annual_cap, not both");
  }
  if (schedule.has_annual_cap_fen()) {
    RETURN_IF_ERROR(
        CheckAmount(absl::StrCat(field, ".annual_cap_fen"), schedule.annual_cap_fen()));
    s.capped = true;
    s.annual_cap_fen = schedule.annual_cap_fen();
  } else if (!schedule.no_annual_cap()) {
    s.capped = rule_capped;
    s.annual_cap_fen = rule_cap_fen;
  }
  return s;
}

bool ColumnAllowed(FundColumn column, yidi::v1::InsuranceType type) {
  switch (column) {
    case yidi::v1::FUND_COLUMN_POOLED_FUND:
    case yidi::v1::FUND_COLUMN_MEDICAL_ASSISTANCE:
    case yidi::v1::FUND_COLUMN_OTHER:
      return true;
    case yidi::v1::FUND_COLUMN_LARGE_EXPENSE:
    case yidi::v1::FUND_COLUMN_CIVIL_SERVANT:
    case yidi::v1::FUND_COLUMN_SUPPLEMENTARY:
    case yidi::v1::FUND_COLUMN_DISABLED_VETERAN:
      return type == yidi::v1::INSURANCE_TYPE_EMPLOYEE;  // 附件14-2 columns
    case yidi::v1::FUND_COLUMN_CRITICAL_ILLNESS:
      return type == yidi::v1::INSURANCE_TYPE_RESIDENT;  // 附件14-3 column
    default:
      return false;
  }
}

absl::StatusOr<CompiledFund> CompileFund(const std::string& field, const yidi::v1::FundRule& rule,
                                         yidi::v1::InsuranceType insurance_type) {
  CompiledFund fund;
  RETURN_IF_ERROR(CheckKey(absl::StrCat(field, ".key"), rule.key()));
  fund.key = rule.key();
  fund.paid_accumulator = FundPaidAccumulator(rule.key());
  fund.base_accumulator = FundBaseAccumulator(rule.key());
  if (!ColumnAllowed(rule.column(), insurance_type)) {
    return Invalid(absl::StrCat(field, ".column"),
                   absl::StrCat(yidi::v1::FundColumn_Name(rule.column()), " is not a fund of ",
                                yidi::v1::InsuranceType_Name(insurance_type),
                                " (clearing tables 附件14-2 / 14-3)"));
  }
  fund.column = rule.column();
  fund.fund_payment_type = FundPaymentTypeOf(rule.column(), insurance_type);
  if (rule.name().empty() || rule.name().size() > 200) {
    return Invalid(absl::StrCat(field, ".name"), "the fund's name (1..200 bytes) is required");
  }
  fund.name = rule.name();
  if (rule.base() < yidi::v1::FUND_BASE_UNCOVERED_IN_SCOPE ||
      rule.base() > yidi::v1::FUND_BASE_ALL_PERSONAL) {
    return Invalid(absl::StrCat(field, ".base"), "unspecified or unknown");
  }
  fund.base = rule.base();
  ASSIGN_OR_RETURN(fund.who, CompileCriteria(absl::StrCat(field, ".who"), rule.who()));
  if (rule.has_annual_cap_fen()) {
    RETURN_IF_ERROR(CheckAmount(absl::StrCat(field, ".annual_cap_fen"), rule.annual_cap_fen()));
  }
  if (rule.schedules().empty() || rule.schedules_size() > kPolicySchedulesMax) {
    return Invalid(absl::StrCat(field, ".schedules"),
                   absl::StrCat("1..", kPolicySchedulesMax, " schedules required"));
  }
  for (int i = 0; i < rule.schedules_size(); ++i) {
    ASSIGN_OR_RETURN(CompiledSchedule schedule,
                     CompileSchedule(absl::StrCat(field, ".schedules[", i, "]"),
                                     rule.schedules(i), rule.has_annual_cap_fen(),
                                     rule.annual_cap_fen()));
    fund.schedules.push_back(std::move(schedule));
  }
  return fund;
}

absl::Status CheckDeductiblesCoverEveryone(const std::string& field,
                                           const CompiledBenefit& benefit) {
  for (int level = yidi::v1::HOSPITAL_LEVEL_1; level <= yidi::v1::HOSPITAL_LEVEL_3; ++level) {
    const bool covered = std::any_of(
        benefit.deductibles.begin(), benefit.deductibles.end(), [&](const auto& rule) {
          return MaskHasLevel(rule.level_mask, level) && CriteriaIsEmpty(rule.who) &&
                 rule.from_admission <= 1;
        });
    if (!covered) {
      return Invalid(absl::StrCat(field, ".deductibles"),
                     absl::StrCat("no rule for hospital level ", level,
                                  " that applies to everyone (add one without `who`, set "
                                  "amount_fen: 0 for none)"));
    }
  }
  return absl::OkStatus();
}

// The inpatient pooled fund must pay everyone at every level (the basic benefit).
absl::Status CheckPooledFundCoversEveryone(const std::string& field,
                                           const CompiledBenefit& benefit) {
  for (int level = yidi::v1::HOSPITAL_LEVEL_1; level <= yidi::v1::HOSPITAL_LEVEL_3; ++level) {
    bool covered = false;
    for (const CompiledFund& fund : benefit.funds) {
      if (fund.column != yidi::v1::FUND_COLUMN_POOLED_FUND || !CriteriaIsEmpty(fund.who)) continue;
      for (const CompiledSchedule& s : fund.schedules) {
        covered |= MaskHasLevel(s.level_mask, level) && CriteriaIsEmpty(s.who);
      }
    }
    if (!covered) {
      return Invalid(absl::StrCat(field, ".funds"),
                     absl::StrCat("no pooled-fund schedule for hospital level ", level,
                                  " that applies to everyone"));
    }
  }
  return absl::OkStatus();
}

absl::Status CompileDeductibles(const std::string& field, const yidi::v1::Benefit& source,
                                CompiledBenefit* benefit) {
  if (source.deductible_period() != yidi::v1::DEDUCTIBLE_PERIOD_ADMISSION &&
      source.deductible_period() != yidi::v1::DEDUCTIBLE_PERIOD_YEAR) {
    return Invalid(absl::StrCat(field, ".deductible_period"), "unspecified or unknown");
  }
  if (source.deductible_period() == yidi::v1::DEDUCTIBLE_PERIOD_ADMISSION &&
      source.kind() != yidi::v1::BENEFIT_KIND_INPATIENT) {
    return Invalid(absl::StrCat(field, ".deductible_period"),
                   "a deductible per admission needs an inpatient benefit");
  }
  benefit->deductible_period = source.deductible_period();
  if (source.deductibles_size() > kPolicyDeductibleRulesMax) {
    return Invalid(absl::StrCat(field, ".deductibles"),
                   absl::StrCat("more than ", kPolicyDeductibleRulesMax));
  }
  for (int i = 0; i < source.deductibles_size(); ++i) {
    const auto& rule = source.deductibles(i);
    const std::string f = absl::StrCat(field, ".deductibles[", i, "]");
    CompiledDeductible d;
    ASSIGN_OR_RETURN(d.level_mask, LevelMask(absl::StrCat(f, ".levels"), rule.levels()));
    ASSIGN_OR_RETURN(d.who, CompileCriteria(absl::StrCat(f, ".who"), rule.who()));
    if (rule.from_admission() < 0 ||
        (rule.from_admission() > 1 &&
         source.deductible_period() != yidi::v1::DEDUCTIBLE_PERIOD_ADMISSION)) {
      return Invalid(absl::StrCat(f, ".from_admission"),
                     "≥ 0, and above 1 only with a deductible per admission");
    }
    d.from_admission = rule.from_admission();
    RETURN_IF_ERROR(CheckAmount(absl::StrCat(f, ".amount_fen"), rule.amount_fen()));
    d.amount_fen = rule.amount_fen();
    benefit->deductibles.push_back(std::move(d));
  }
  return CheckDeductiblesCoverEveryone(field, *benefit);
}

absl::Status CompileAccount(const std::string& field, const yidi::v1::Benefit& source,
                            yidi::v1::InsuranceType insurance_type, CompiledBenefit* benefit) {
  const auto& use = source.personal_account();
  for (const auto* parts : {&use.parts(), &use.parts_with_consent()}) {
    for (int part : *parts) {
      if (part < yidi::v1::BILL_PART_IN_SCOPE || part > yidi::v1::BILL_PART_SELF_PAY) {
        return Invalid(absl::StrCat(field, ".personal_account"),
                       absl::StrCat("bill part ", part, " is unspecified or unknown"));
      }
      uint32_t& mask = parts == &use.parts() ? benefit->account_parts_mask
                                             : benefit->account_parts_consent_mask;
      mask |= 1u << part;
    }
  }
  if ((benefit->account_parts_mask | benefit->account_parts_consent_mask) != 0 &&
      insurance_type != yidi::v1::INSURANCE_TYPE_EMPLOYEE) {
    return Invalid(absl::StrCat(field, ".personal_account"),
                   "a personal account belongs to employee insurance (310) only");
  }
  benefit->account_parts_consent_mask &= ~benefit->account_parts_mask;
  benefit->account_name = "职工基本医疗保险个人账户";
  for (int part : use.family_parts_with_consent()) {
    if (part < yidi::v1::BILL_PART_IN_SCOPE || part > yidi::v1::BILL_PART_SELF_PAY) {
      return Invalid(absl::StrCat(field, ".personal_account.family_parts_with_consent"),
                     absl::StrCat("bill part ", part, " is unspecified or unknown"));
    }
    benefit->family_parts_mask |= 1u << part;
  }
  // 门诊共济 is outpatient mutual aid (Yunnan 001 第28条): never an inpatient stay's account.
  if (benefit->family_parts_mask != 0 && source.kind() == yidi::v1::BENEFIT_KIND_INPATIENT) {
    return Invalid(absl::StrCat(field, ".personal_account.family_parts_with_consent"),
                   "a relative's account (门诊共济) pays outpatient and chronic care only");
  }
  benefit->family_account_name = "职工基本医疗保险个人账户（门诊共济）";
  if (source.referral_deductible() != yidi::v1::REFERRAL_DEDUCTIBLE_NEW &&
      source.referral_deductible() != yidi::v1::REFERRAL_DEDUCTIBLE_CONTINUOUS) {
    return Invalid(absl::StrCat(field, ".referral_deductible"), "unknown value");
  }
  if (source.referral_deductible() == yidi::v1::REFERRAL_DEDUCTIBLE_CONTINUOUS &&
      source.kind() != yidi::v1::BENEFIT_KIND_INPATIENT) {
    return Invalid(absl::StrCat(field, ".referral_deductible"),
                   "a referral episode's deductible applies to inpatient benefits only");
  }
  benefit->referral_deductible = source.referral_deductible();
  return absl::OkStatus();
}

absl::Status CheckChainOrder(const std::string& field, const CompiledBenefit& benefit) {
  bool personal_seen = false;
  std::set<std::string> keys;
  for (size_t i = 0; i < benefit.funds.size(); ++i) {
    const CompiledFund& fund = benefit.funds[i];
    if (fund.base == yidi::v1::FUND_BASE_UNCOVERED_IN_SCOPE && personal_seen) {
      return Invalid(absl::StrCat(field, ".funds[", i, "].base"),
                     "a FUND_BASE_UNCOVERED_IN_SCOPE rule must come before every rule on the "
                     "person's burden (the burden would be paid twice)");
    }
    personal_seen |= fund.base != yidi::v1::FUND_BASE_UNCOVERED_IN_SCOPE;
    if (!keys.insert(fund.key).second) {
      return Invalid(absl::StrCat(field, ".funds[", i, "].key"),
                     absl::StrCat("\"", fund.key, "\" appears twice in one chain"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<CompiledBenefit> CompileBenefit(const std::string& field,
                                               const yidi::v1::Benefit& source,
                                               yidi::v1::InsuranceType insurance_type) {
  CompiledBenefit benefit;
  RETURN_IF_ERROR(CheckKey(absl::StrCat(field, ".id"), source.id()));
  benefit.id = source.id();
  benefit.admissions_accumulator = AdmissionsAccumulator(source.id());
  benefit.deductible_accumulator = DeductibleAccumulator(source.id());
  if (source.kind() < yidi::v1::BENEFIT_KIND_INPATIENT ||
      source.kind() > yidi::v1::BENEFIT_KIND_CHRONIC_OUTPATIENT) {
    return Invalid(absl::StrCat(field, ".kind"), "unspecified or unknown");
  }
  benefit.kind = source.kind();
  const bool chronic = source.kind() == yidi::v1::BENEFIT_KIND_CHRONIC_OUTPATIENT;
  if (chronic == source.chronic_disease_codes().empty() ||
      source.chronic_disease_codes_size() > kPolicyChronicCodesMax) {
    return Invalid(absl::StrCat(field, ".chronic_disease_codes"),
                   chronic ? "a chronic benefit lists 1..256 disease codes"
                           : "only a chronic benefit lists disease codes");
  }
  for (const std::string& code : source.chronic_disease_codes()) {
    if (code.empty() || code.size() > 32) {
      return Invalid(absl::StrCat(field, ".chronic_disease_codes"), "codes have 1..32 bytes");
    }
    benefit.chronic_disease_codes.push_back(code);
  }
  RETURN_IF_ERROR(CompileDeductibles(field, source, &benefit));
  if (source.funds_size() > kPolicyFundRulesMax) {
    return Invalid(absl::StrCat(field, ".funds"), absl::StrCat("more than ", kPolicyFundRulesMax));
  }
  for (int i = 0; i < source.funds_size(); ++i) {
    ASSIGN_OR_RETURN(CompiledFund fund, CompileFund(absl::StrCat(field, ".funds[", i, "]"),
                                                    source.funds(i), insurance_type));
    benefit.funds.push_back(std::move(fund));
  }
  RETURN_IF_ERROR(CheckChainOrder(field, benefit));
  if (benefit.kind == yidi::v1::BENEFIT_KIND_INPATIENT) {
    RETURN_IF_ERROR(CheckPooledFundCoversEveryone(field, benefit));
  }
  RETURN_IF_ERROR(CompileAccount(field, source, insurance_type, &benefit));
  return benefit;
}

absl::Status CheckRemoteCare(const yidi::v1::RemoteCarePolicy& remote) {
  if (remote.referred_or_emergency_reduction_bp() < 0 ||
      remote.referred_or_emergency_reduction_bp() > kReferredOrEmergencyReductionMaxBp) {
    return Invalid("remote_care.referred_or_emergency_reduction_bp",
                   absl::StrCat(remote.referred_or_emergency_reduction_bp(),
                                " breaks the national limit of 10 percentage points "
                                "(22号文 §二(六))"));
  }
  if (remote.other_temporary_reduction_bp() < 0 ||
      remote.other_temporary_reduction_bp() > kOtherTemporaryReductionMaxBp) {
    return Invalid("remote_care.other_temporary_reduction_bp",
                   absl::StrCat(remote.other_temporary_reduction_bp(),
                                " breaks the national limit of 20 percentage points "
                                "(22号文 §二(六))"));
  }
  RETURN_IF_ERROR(
      CheckRatio("remote_care.unfiled_reduction_bp", remote.unfiled_reduction_bp()));
  RETURN_IF_ERROR(
      CheckRatio("remote_care.unfiled_ratio_floor_bp", remote.unfiled_ratio_floor_bp()));
  if (!remote.unfiled_direct_settlement() &&
      (remote.unfiled_reduction_bp() != 0 || remote.unfiled_ratio_floor_bp() != 0)) {
    return Invalid("remote_care.unfiled_reduction_bp",
                   "set only with unfiled_direct_settlement: true");
  }
  return absl::OkStatus();
}

// Funds that share a key across benefits share their accumulators: same column and base.
absl::Status CheckSharedKeys(const std::vector<CompiledBenefit>& benefits) {
  std::map<std::string, const CompiledFund*> by_key;
  for (const CompiledBenefit& benefit : benefits) {
    for (const CompiledFund& fund : benefit.funds) {
      auto [it, inserted] = by_key.emplace(fund.key, &fund);
      if (!inserted && (it->second->column != fund.column || it->second->base != fund.base)) {
        return Invalid(absl::StrCat("benefits \"", benefit.id, "\": funds key \"", fund.key, "\""),
                       "rules sharing a key must have the same column and base");
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string AdmissionsAccumulator(absl::string_view benefit_id) {
  return absl::StrCat("admissions:", benefit_id);
}
std::string DeductibleAccumulator(absl::string_view benefit_id) {
  return absl::StrCat("deductible_fen:", benefit_id);
}
std::string FundPaidAccumulator(absl::string_view fund_key) {
  return absl::StrCat("paid_fen:", fund_key);
}
std::string FundBaseAccumulator(absl::string_view fund_key) {
  return absl::StrCat("base_fen:", fund_key);
}

yidi::v1::FundPaymentType FundPaymentTypeOf(FundColumn column,
                                            yidi::v1::InsuranceType insurance_type) {
  switch (column) {
    case yidi::v1::FUND_COLUMN_POOLED_FUND:
      return insurance_type == yidi::v1::INSURANCE_TYPE_EMPLOYEE
                 ? yidi::v1::FUND_PAYMENT_TYPE_EMPLOYEE_POOLED_FUND
                 : yidi::v1::FUND_PAYMENT_TYPE_RESIDENT_POOLED_FUND;
    case yidi::v1::FUND_COLUMN_LARGE_EXPENSE:
      return yidi::v1::FUND_PAYMENT_TYPE_LARGE_EXPENSE_SUBSIDY;
    case yidi::v1::FUND_COLUMN_CIVIL_SERVANT:
      return yidi::v1::FUND_PAYMENT_TYPE_CIVIL_SERVANT_SUBSIDY;
    case yidi::v1::FUND_COLUMN_CRITICAL_ILLNESS:
      return yidi::v1::FUND_PAYMENT_TYPE_RESIDENT_CRITICAL_ILLNESS;
    case yidi::v1::FUND_COLUMN_MEDICAL_ASSISTANCE:
      return yidi::v1::FUND_PAYMENT_TYPE_MEDICAL_ASSISTANCE;
    default:
      // 补充医疗保险, 伤残人员医疗保障 and 其他 have no code of their own in fund_pay_type.
      return yidi::v1::FUND_PAYMENT_TYPE_OTHER;
  }
}

absl::StatusOr<std::unique_ptr<const CompiledPolicy>> CompiledPolicy::Compile(
    const yidi::v1::PolicyConfig& policy) {
  const std::string name = absl::StrCat("policy \"", policy.name(), "\"");
  auto prefixed = [&](const absl::Status& status) {
    return absl::Status(status.code(), absl::StrCat(name, ": ", status.message()));
  };
  const auto type = policy.insurance_type();
  if (type != yidi::v1::INSURANCE_TYPE_EMPLOYEE && type != yidi::v1::INSURANCE_TYPE_RESIDENT) {
    return prefixed(Invalid("insurance_type", "must be 310 or 390"));
  }
  if (auto effective = ParseDate(policy.effective_from()); !effective.ok()) {
    return prefixed(Invalid("effective_from", effective.status().message()));
  }
  if (absl::Status remote = CheckRemoteCare(policy.remote_care()); !remote.ok()) {
    return prefixed(remote);
  }
  if (!yidi::v1::YearEndSplit_IsValid(policy.year_end_split())) {
    return prefixed(Invalid("year_end_split", "unknown value"));
  }
  if (policy.benefits_size() > kPolicyBenefitsMax) {
    return prefixed(Invalid("benefits", absl::StrCat("more than ", kPolicyBenefitsMax)));
  }
  std::unique_ptr<CompiledPolicy> compiled(new CompiledPolicy());
  compiled->config_ = policy;
  std::set<std::string> ids;
  std::set<std::string> chronic_codes;
  for (int i = 0; i < policy.benefits_size(); ++i) {
    const std::string field = absl::StrCat("benefits[", i, "]");
    auto benefit = CompileBenefit(field, policy.benefits(i), type);
    if (!benefit.ok()) return prefixed(benefit.status());
    if (!ids.insert(benefit->id).second) {
      return prefixed(Invalid(absl::StrCat(field, ".id"), "used twice"));
    }
    int* index = benefit->kind == yidi::v1::BENEFIT_KIND_INPATIENT    ? &compiled->inpatient_index_
                 : benefit->kind == yidi::v1::BENEFIT_KIND_OUTPATIENT ? &compiled->outpatient_index_
                                                                      : nullptr;
    if (index != nullptr && *index >= 0) {
      return prefixed(Invalid(absl::StrCat(field, ".kind"), "a second benefit of this kind"));
    }
    if (index != nullptr) *index = i;
    for (const std::string& code : benefit->chronic_disease_codes) {
      if (!chronic_codes.insert(code).second) {
        return prefixed(Invalid(absl::StrCat(field, ".chronic_disease_codes"),
                                absl::StrCat(code, " is listed by two chronic benefits")));
      }
    }
    compiled->benefits_.push_back(std::move(*benefit));
  }
  if (compiled->inpatient_index_ < 0 || compiled->outpatient_index_ < 0) {
    return prefixed(Invalid("benefits", "an inpatient and an outpatient benefit are required"));
  }
  if (absl::Status shared = CheckSharedKeys(compiled->benefits_); !shared.ok()) {
    return prefixed(shared);
  }
  return std::unique_ptr<const CompiledPolicy>(std::move(compiled));
}

const CompiledBenefit* CompiledPolicy::ChronicBenefitFor(absl::string_view code) const {
  for (const CompiledBenefit& benefit : benefits_) {
    if (benefit.kind != yidi::v1::BENEFIT_KIND_CHRONIC_OUTPATIENT) continue;
    for (const std::string& listed : benefit.chronic_disease_codes) {
      if (listed == code) return &benefit;
    }
  }
  return nullptr;
}

absl::Status PolicySet::Add(const yidi::v1::PolicyConfig& policy,
                            absl::string_view insured_region) {
  if (policy.insured_region() != insured_region) {
    return absl::InvalidArgumentError(absl::StrCat(
        "policy \"", policy.name(), "\": insured_region ", policy.insured_region(),
        " is not this node's ", insured_region));
  }
  ASSIGN_OR_RETURN(auto compiled, CompiledPolicy::Compile(policy));
  const auto key =
      std::make_pair(static_cast<int>(policy.insurance_type()), policy.effective_from());
  if (policies_.count(key) > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy \"", policy.name(),
                     "\": a policy for this insurance type already starts on ",
                     policy.effective_from()));
  }
  policies_.emplace(key, std::move(compiled));
  return absl::OkStatus();
}

absl::StatusOr<const CompiledPolicy*> PolicySet::Find(yidi::v1::InsuranceType type,
                                                      absl::CivilDay day) const {
  const std::string date = FormatDate(day);
  const CompiledPolicy* found = nullptr;
  // ISO dates order as strings; the last version starting on or before `day` is in force.
  for (const auto& [key, policy] : policies_) {
    if (key.first == static_cast<int>(type) && key.second <= date) found = policy.get();
  }
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat("no policy for insurance type ",
                                            yidi::v1::InsuranceType_Name(type), " in force on ",
                                            date));
  }
  return found;
}

}  // namespace yidi::municipal
