#include "municipal/policy_engine.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/money.h"
#include "common/settlement_validation.h"
#include "common/status_macros.h"

namespace yidi::municipal {
namespace {

constexpr int64_t kNoCap = std::numeric_limits<int64_t>::max();

// The bill parts a fund or the personal account may pay, by BillPart number.
constexpr int kPartInScope = yidi::v1::BILL_PART_IN_SCOPE;
constexpr int kPartClassB = yidi::v1::BILL_PART_CLASS_B_COPAY;
constexpr int kPartOverCap = yidi::v1::BILL_PART_OVER_CAP;
constexpr int kPartSelfPay = yidi::v1::BILL_PART_SELF_PAY;
constexpr int kPartsEnd = kPartSelfPay + 1;

// What the engine reads of the person, once per settlement.
struct PersonFacts {
  int person_type = 0;
  bool retired = false;
  int assistance_category = 0;
  bool civil_servant_subsidy = false;
  bool disabled_veteran = false;
  bool supplementary_insurance = false;
  int age_years = 0;
};

bool Matches(const CompiledCriteria& c, const PersonFacts& p) {
  if (!c.person_types.empty() &&
      std::find(c.person_types.begin(), c.person_types.end(), p.person_type) ==
          c.person_types.end()) {
    return false;
  }
  if (c.retirement == yidi::v1::RETIREMENT_WORKING && p.retired) return false;
  if (c.retirement == yidi::v1::RETIREMENT_RETIRED && !p.retired) return false;
  if (c.assistance_mask != 0 && (c.assistance_mask & (1u << p.assistance_category)) == 0) {
    return false;
  }
  if (c.civil_servant_subsidy && !p.civil_servant_subsidy) return false;
  if (c.disabled_veteran && !p.disabled_veteran) return false;
  if (c.supplementary_insurance && !p.supplementary_insurance) return false;
  if (c.age_from_years > 0 && p.age_years < c.age_from_years) return false;
  if (c.age_below_years > 0 && p.age_years >= c.age_below_years) return false;
  return true;
}

bool LevelMatches(uint32_t mask, yidi::v1::HospitalLevel level) {
  return mask == 0 || (level > 0 && level < 32 && (mask & (1u << level)) != 0);
}

int64_t Get(const AccumulatorValues& values, const std::string& name) {
  auto it = values.find(name);
  return it == values.end() ? 0 : it->second;
}

const AccumulatorValues& EmptyValues() {
  static const AccumulatorValues* empty = new AccumulatorValues();
  return *empty;
}

// The pooled fund's ratio after the remote-care reduction (22号文 §二(六); Yunnan 通知§四(一)).
int32_t ReducedRatio(int32_t ratio_bp, RemoteCare remote_care,
                     const yidi::v1::RemoteCarePolicy& policy) {
  switch (remote_care) {
    case RemoteCare::kLocal:
      return ratio_bp;
    case RemoteCare::kReferredOrEmergency:
      return std::max(0, ratio_bp - policy.referred_or_emergency_reduction_bp());
    case RemoteCare::kOtherTemporary:
      return std::max(0, ratio_bp - policy.other_temporary_reduction_bp());
    case RemoteCare::kUnfiled: {
      const int32_t reduced = ratio_bp - policy.unfiled_reduction_bp();
      // Never below the floor, and a ratio already below it is kept, not raised.
      return std::max(0, reduced >= policy.unfiled_ratio_floor_bp()
                             ? reduced
                             : std::min(ratio_bp, policy.unfiled_ratio_floor_bp()));
    }
  }
  return ratio_bp;
}

// One year's share of the bill (the whole bill unless the stay is split at the year end).
struct YearPart {
  int year = 0;
  BillAmounts bill;
};

std::vector<YearPart> SplitStay(const CompiledPolicy& policy, const SettlementInput& input) {
  const absl::CivilDay admission = input.admission_date;
  const absl::CivilDay discharge = input.discharge_date;
  const bool split = policy.config().year_end_split() == yidi::v1::YEAR_END_SPLIT_BY_DAYS &&
                     IsInpatient(input.medical_type) &&
                     admission.year() < discharge.year();
  if (!split) return {YearPart{static_cast<int>(discharge.year()), input.bill}};
  // Inpatient days count nights (入院当日算, 出院当日不算): each year gets its nights.
  const int64_t nights_total = discharge - admission;
  std::vector<std::pair<int, int64_t>> nights;  // (year, nights) with nights > 0
  for (auto year = admission.year(); year <= discharge.year(); ++year) {
    const absl::CivilDay start = std::max(admission, absl::CivilDay(year, 1, 1));
    const absl::CivilDay end = std::min(discharge, absl::CivilDay(year + 1, 1, 1));
    if (end > start) nights.emplace_back(static_cast<int>(year), end - start);
  }
  // Each part is the rounded cumulative share less the earlier ones: every share ≥ 0 and the
  // shares add up to the amount exactly.
  std::vector<YearPart> parts;
  int64_t nights_before = 0;
  for (const auto& year_and_nights : nights) {
    const int64_t nights_through = nights_before + year_and_nights.second;
    auto share = [&](int64_t amount) {
      return MulDivRoundHalfUp(amount, nights_through, nights_total) -
             MulDivRoundHalfUp(amount, nights_before, nights_total);
    };
    YearPart part;
    part.year = year_and_nights.first;
    part.bill.in_scope_fen = share(input.bill.in_scope_fen);
    part.bill.class_b_copay_fen = share(input.bill.class_b_copay_fen);
    part.bill.over_cap_fen = share(input.bill.over_cap_fen);
    part.bill.self_pay_fen = share(input.bill.self_pay_fen);
    part.bill.total_fen = part.bill.in_scope_fen + part.bill.class_b_copay_fen +
                          part.bill.over_cap_fen + part.bill.self_pay_fen;
    parts.push_back(part);
    nights_before = nights_through;
  }
  return parts;
}

// The benefit the visit settles under.
absl::StatusOr<const CompiledBenefit*> SelectBenefit(const CompiledPolicy& policy,
                                                     const SettlementInput& input) {
  if (IsInpatient(input.medical_type)) return &policy.inpatient();
  if (input.medical_type != yidi::v1::MEDICAL_TYPE_CHRONIC_OUTPATIENT) {
    return &policy.outpatient();
  }
  const std::string& code = input.chronic_disease_code;
  if (code.empty()) {
    return absl::FailedPreconditionError(
        "visit.chronic_disease_code: a chronic outpatient visit (medical type 14) names the "
        "disease");
  }
  const auto& on_record = input.person->chronic_disease_codes();
  if (std::find(on_record.begin(), on_record.end(), code) == on_record.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "chronic outpatient: disease ", code, " is not on the person's record at the insured "
        "region (门诊慢特病 eligibility must be certified first); settle as ordinary outpatient"));
  }
  const CompiledBenefit* benefit = policy.ChronicBenefitFor(code);
  if (benefit == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "chronic outpatient: disease ", code, " is not on the chronic-disease list of policy \"",
        policy.config().name(), "\""));
  }
  return benefit;
}

// The deductible due for the stay or visit (before it meets the in-scope amount).
absl::StatusOr<int64_t> DeductibleDue(const CompiledBenefit& benefit, const SettlementInput& input,
                                      const PersonFacts& person,
                                      const AccumulatorValues& first_year) {
  const bool per_admission = benefit.deductible_period == yidi::v1::DEDUCTIBLE_PERIOD_ADMISSION;
  const int64_t admission = Get(first_year, benefit.admissions_accumulator) + 1;
  for (const CompiledDeductible& rule : benefit.deductibles) {
    if (!LevelMatches(rule.level_mask, input.hospital_level) || !Matches(rule.who, person)) {
      continue;
    }
    if (per_admission && rule.from_admission > admission) continue;
    if (per_admission) {
      // A referred stay under a continuous episode pays only what its deductible exceeds the
      // episode's earlier ones by (referred down: nothing) (国办 2026, POLICIES.md §1).
      if (benefit.referral_deductible == yidi::v1::REFERRAL_DEDUCTIBLE_CONTINUOUS) {
        return std::max<int64_t>(0, rule.amount_fen - input.episode_deductible_fen);
      }
      return rule.amount_fen;
    }
    return std::max<int64_t>(0,
                             rule.amount_fen - Get(first_year, benefit.deductible_accumulator));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "benefit \"", benefit.id, "\" has no deductible rule for hospital level ",
      static_cast<int>(input.hospital_level)));
}

// What one fund rule pays on `base_fen`, read on the bands from the year's cumulative base.
struct FundPay {
  int64_t pay_fen = 0;
  int64_t covered_fen = 0;  // the expense it paid a share of (UNCOVERED_IN_SCOPE bookkeeping)
};

FundPay PayOnBands(const std::vector<CompiledBand>& bands, const int32_t* ratios,
                   int64_t prior_fen, int64_t base_fen, int64_t cap_left_fen) {
  FundPay result;
  if (base_fen <= 0) return result;
  const int64_t end_fen = prior_fen + base_fen;
  int64_t numerator = 0;  // Σ slice × ratio_bp; ≤ base × 10000 ≤ 10^16
  int64_t covered = 0;
  for (size_t i = 0; i < bands.size(); ++i) {
    const int64_t lo = std::max(prior_fen, bands[i].from_fen);
    const int64_t hi = i + 1 < bands.size() ? std::min(end_fen, bands[i + 1].from_fen) : end_fen;
    if (hi <= lo || ratios[i] == 0) continue;
    numerator += (hi - lo) * ratios[i];
    covered += hi - lo;
  }
  result.pay_fen = MulDivRoundHalfUp(numerator, 1, kRatioFullBp);
  result.covered_fen = covered;
  if (result.pay_fen <= cap_left_fen) return result;
  // The cap bites inside the bill: the fund pays what is left of it, and covers the expense
  // that takes, band by band; the rest stays for the next rule (大额 above the pooled cap).
  result.pay_fen = cap_left_fen;
  const int64_t target = cap_left_fen * kRatioFullBp;
  numerator = 0;
  covered = 0;
  for (size_t i = 0; i < bands.size(); ++i) {
    const int64_t lo = std::max(prior_fen, bands[i].from_fen);
    const int64_t hi = i + 1 < bands.size() ? std::min(end_fen, bands[i + 1].from_fen) : end_fen;
    if (hi <= lo || ratios[i] == 0) continue;
    const int64_t slice = hi - lo;
    if (numerator + slice * ratios[i] <= target) {
      numerator += slice * ratios[i];
      covered += slice;
      continue;
    }
    covered += std::min(slice, MulDivRoundHalfUp(target - numerator, 1, ratios[i]));
    break;
  }
  result.covered_fen = covered;
  return result;
}

// The walk over one year's part of the bill.
struct PartWalk {
  const CompiledPolicy& policy;
  const CompiledBenefit& benefit;
  const SettlementInput& input;
  const PersonFacts& person;
  PolicyOutcome& outcome;
  std::vector<int64_t>& rule_paid;  // per fund rule, over all parts
  int64_t& account_left_fen;
  int64_t& family_left_fen;

  void AddDelta(int year, absl::string_view name, int64_t delta) {
    if (delta != 0) outcome.accumulator_deltas.push_back({year, name, delta});
  }

  void Run(const YearPart& part, const AccumulatorValues& year_values, int64_t deductible_fen,
           bool count_admission) {
    int64_t personal[kPartsEnd] = {0, part.bill.in_scope_fen, part.bill.class_b_copay_fen,
                                   part.bill.over_cap_fen, part.bill.self_pay_fen};
    int64_t uncovered = part.bill.in_scope_fen - deductible_fen;
    YIDI_CHECK(uncovered >= 0, "the deductible applied never exceeds the in-scope amount");
    if (count_admission) AddDelta(part.year, benefit.admissions_accumulator, 1);
    AddDelta(part.year, benefit.deductible_accumulator, deductible_fen);
    for (size_t r = 0; r < benefit.funds.size(); ++r) {
      const int64_t paid = PayFund(benefit.funds[r], part.year, year_values, personal, uncovered);
      rule_paid[r] += paid;
      outcome.column_fen[benefit.funds[r].column] += paid;
    }
    AddDelta(part.year, kAccInScopePersonalBurdenFen, personal[kPartInScope]);
    const int64_t account = PayAccount(personal);
    outcome.personal_account_fen += account;
    AddDelta(part.year, kAccPersonalAccountFen, account);
    const int64_t family = PayFamilyAccount(personal);
    outcome.family_account_fen += family;
    AddDelta(part.year, kAccFamilyAccountFen, family);
    for (int p = kPartInScope; p < kPartsEnd; ++p) outcome.cash_fen += personal[p];
  }

  int64_t PayFund(const CompiledFund& fund, int year, const AccumulatorValues& values,
                  int64_t* personal, int64_t& uncovered) {
    if (!Matches(fund.who, person)) return 0;
    const CompiledSchedule* schedule = nullptr;
    for (const CompiledSchedule& s : fund.schedules) {
      if (LevelMatches(s.level_mask, input.hospital_level) && Matches(s.who, person)) {
        schedule = &s;
        break;
      }
    }
    if (schedule == nullptr) return 0;
    int64_t base = 0;
    switch (fund.base) {
      case yidi::v1::FUND_BASE_UNCOVERED_IN_SCOPE:
        base = uncovered;
        break;
      case yidi::v1::FUND_BASE_ALL_PERSONAL:
        base += personal[kPartOverCap] + personal[kPartSelfPay];
        [[fallthrough]];
      case yidi::v1::FUND_BASE_IN_SCOPE_AND_CLASS_B:
        base += personal[kPartClassB];
        [[fallthrough]];
      default:
        base += personal[kPartInScope];
    }
    int32_t ratios[kPolicyBandsMax];
    const bool pooled = fund.column == yidi::v1::FUND_COLUMN_POOLED_FUND;
    for (size_t i = 0; i < schedule->bands.size(); ++i) {
      ratios[i] = pooled ? ReducedRatio(schedule->bands[i].ratio_bp, input.remote_care,
                                        policy.config().remote_care())
                         : schedule->bands[i].ratio_bp;
    }
    const int64_t cap_left =
        schedule->capped
            ? std::max<int64_t>(0, schedule->annual_cap_fen - Get(values, fund.paid_accumulator))
            : kNoCap;
    const FundPay pay = PayOnBands(schedule->bands, ratios, Get(values, fund.base_accumulator),
                                   base, cap_left);
    YIDI_CHECK(pay.pay_fen >= 0 && pay.pay_fen <= base && pay.pay_fen <= cap_left,
               "a fund pays within the part of the bill it applies to and within its cap");
    if (fund.base == yidi::v1::FUND_BASE_UNCOVERED_IN_SCOPE) {
      YIDI_CHECK(pay.covered_fen >= pay.pay_fen && pay.covered_fen <= uncovered,
                 "the expense a fund covers is what was uncovered, at least what it pays");
      uncovered -= pay.covered_fen;
      personal[kPartInScope] -= pay.pay_fen;
    } else {
      int64_t left = pay.pay_fen;  // paid from the parts in order: in scope, class B, ...
      const int last = fund.base == yidi::v1::FUND_BASE_ALL_PERSONAL          ? kPartSelfPay
                       : fund.base == yidi::v1::FUND_BASE_IN_SCOPE_AND_CLASS_B ? kPartClassB
                                                                               : kPartInScope;
      for (int p = kPartInScope; p <= last && left > 0; ++p) {
        const int64_t take = std::min(left, personal[p]);
        personal[p] -= take;
        left -= take;
      }
      YIDI_CHECK(left == 0, "a fund's payment fits the parts it applies to");
    }
    YIDI_CHECK(personal[kPartInScope] >= 0, "funds never pay more than the in-scope amount");
    AddDelta(year, fund.paid_accumulator, pay.pay_fen);
    AddDelta(year, fund.base_accumulator, base);
    return pay.pay_fen;
  }

  // The personal account pays the parts the benefit allows, in order, within the balance.
  int64_t PayAccount(int64_t* personal) {
    const uint32_t mask = benefit.account_parts_mask |
                          (input.personal_account_consent ? benefit.account_parts_consent_mask : 0);
    if (mask == 0 || account_left_fen <= 0) return 0;
    int64_t paid = 0;
    for (int p = kPartInScope; p < kPartsEnd; ++p) {
      if ((mask & (1u << p)) == 0) continue;
      const int64_t take = std::min(account_left_fen - paid, personal[p]);
      personal[p] -= take;
      paid += take;
    }
    account_left_fen -= paid;
    return paid;
  }

  // 门诊共济: then a relative's account, with consent only, for the parts the benefit lets it
  // pay, within its balance (Yunnan 001 第28条).
  int64_t PayFamilyAccount(int64_t* personal) {
    if (!input.personal_account_consent || benefit.family_parts_mask == 0 ||
        family_left_fen <= 0) {
      return 0;
    }
    int64_t paid = 0;
    for (int p = kPartInScope; p < kPartsEnd; ++p) {
      if ((benefit.family_parts_mask & (1u << p)) == 0) continue;
      const int64_t take = std::min(family_left_fen - paid, personal[p]);
      personal[p] -= take;
      paid += take;
    }
    family_left_fen -= paid;
    return paid;
  }
};

PersonFacts FactsOf(const SettlementInput& input) {
  const yidi::v1::PersonRecord& person = *input.person;
  PersonFacts facts;
  facts.person_type = person.person_type();
  facts.retired = IsRetired(person.person_type());
  facts.assistance_category = person.assistance_category() >= 0 && person.assistance_category() < 32
                                  ? person.assistance_category()
                                  : 0;
  facts.civil_servant_subsidy = person.civil_servant_subsidy();
  facts.disabled_veteran = person.disabled_veteran();
  facts.supplementary_insurance = person.supplementary_insurance();
  facts.age_years = input.age_years;
  return facts;
}

void CheckOutcome(const SettlementInput& input, const PolicyOutcome& outcome) {
  int64_t columns = 0;
  for (int64_t amount : outcome.column_fen) {
    YIDI_CHECK(amount >= 0, "every fund column is ≥ 0");
    columns += amount;
  }
  YIDI_CHECK(columns == outcome.fund_total_fen, "fund_total is the sum of the columns");
  YIDI_CHECK(outcome.personal_account_fen >= 0 && outcome.family_account_fen >= 0 &&
                 outcome.cash_fen >= 0,
             "the person's parts are ≥ 0");
  YIDI_CHECK(outcome.personal_account_fen <=
                     std::max<int64_t>(0, input.person->personal_account_balance_fen()) &&
                 outcome.family_account_fen <= std::max<int64_t>(0, input.family_account_balance_fen),
             "an account pays within its balance");
  YIDI_CHECK(outcome.fund_total_fen + outcome.personal_account_fen + outcome.family_account_fen +
                     outcome.cash_fen ==
                 input.bill.total_fen,
             "total = fund_total + personal_account + family account + cash");
  YIDI_CHECK(outcome.deductible_applied_fen >= 0 &&
                 outcome.deductible_applied_fen <= input.bill.in_scope_fen,
             "the deductible applied is within the in-scope amount");
  for (size_t i = 0; i < outcome.accumulator_deltas.size(); ++i) {
    for (size_t j = i + 1; j < outcome.accumulator_deltas.size(); ++j) {
      YIDI_CHECK(outcome.accumulator_deltas[i].year != outcome.accumulator_deltas[j].year ||
                     outcome.accumulator_deltas[i].name != outcome.accumulator_deltas[j].name,
                 "each (year, accumulator) changes once per settlement");
    }
  }
}

}  // namespace

BillAmounts BillAmountsOf(const yidi::v1::FeeSplit& split) {
  return {split.total_fen(), split.in_scope_fen(), split.class_b_copay_fen(),
          split.over_cap_fen(), split.self_pay_fen()};
}

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


std::vector<int> SettlementYears(const CompiledPolicy& policy, const SettlementInput& input) {
  std::vector<int> years;
  for (const YearPart& part : SplitStay(policy, input)) years.push_back(part.year);
  return years;
}

absl::StatusOr<PolicyOutcome> ComputeSettlement(const CompiledPolicy& policy,
                                                const SettlementInput& input,
                                                const YearlyAccumulators& accumulators) {
  YIDI_CHECK(input.person != nullptr, "the engine computes for a known person");
  const BillAmounts& bill = input.bill;
  YIDI_CHECK(bill.in_scope_fen >= 0 && bill.class_b_copay_fen >= 0 && bill.over_cap_fen >= 0 &&
                 bill.self_pay_fen >= 0 && bill.total_fen <= kAmountMaxFen &&
                 bill.total_fen == bill.in_scope_fen + bill.class_b_copay_fen +
                                       bill.over_cap_fen + bill.self_pay_fen,
             "the policy computes on a classified, non-negative bill that adds up");
  YIDI_CHECK(input.admission_date <= input.discharge_date, "admission before discharge");
  ASSIGN_OR_RETURN(const CompiledBenefit* benefit, SelectBenefit(policy, input));
  const PersonFacts person = FactsOf(input);
  const std::vector<YearPart> parts = SplitStay(policy, input);
  auto values_of = [&](int year) -> const AccumulatorValues& {
    auto it = accumulators.find(year);
    return it == accumulators.end() ? EmptyValues() : it->second;
  };
  // One deductible for the stay, from the first year's count of admissions; a split stay's
  // later part pays none of its own (Yunnan 001 第36条), only what the first part could not.
  ASSIGN_OR_RETURN(int64_t deductible_left,
                   DeductibleDue(*benefit, input, person, values_of(parts.front().year)));

  PolicyOutcome outcome;
  outcome.benefit = benefit;
  outcome.year_parts = static_cast<int>(parts.size());
  outcome.accumulator_deltas.reserve(8 + 2 * benefit->funds.size() * parts.size());
  std::vector<int64_t> rule_paid(benefit->funds.size(), 0);
  int64_t account_left = std::max<int64_t>(0, input.person->personal_account_balance_fen());
  int64_t family_left = std::max<int64_t>(0, input.family_account_balance_fen);
  PartWalk walk{policy, *benefit, input, person, outcome, rule_paid, account_left, family_left};
  for (size_t i = 0; i < parts.size(); ++i) {
    const int64_t deductible = std::min(deductible_left, parts[i].bill.in_scope_fen);
    deductible_left -= deductible;
    outcome.deductible_applied_fen += deductible;
    const bool count_admission =
        i == 0 && benefit->deductible_period == yidi::v1::DEDUCTIBLE_PERIOD_ADMISSION;
    walk.Run(parts[i], values_of(parts[i].year), deductible, count_admission);
  }
  for (int64_t amount : outcome.column_fen) outcome.fund_total_fen += amount;
  outcome.fund_payments.reserve(benefit->funds.size() + 1);
  for (size_t r = 0; r < benefit->funds.size(); ++r) {
    if (rule_paid[r] == 0) continue;
    outcome.fund_payments.push_back(
        {benefit->funds[r].fund_payment_type, benefit->funds[r].name, rule_paid[r]});
  }
  if (outcome.personal_account_fen != 0) {
    outcome.fund_payments.push_back({yidi::v1::FUND_PAYMENT_TYPE_EMPLOYEE_PERSONAL_ACCOUNT,
                                     benefit->account_name, outcome.personal_account_fen});
  }
  if (outcome.family_account_fen != 0) {
    // The relative's account is an employee account: 310200 even on a resident's slip
    // ("计入城镇职工基本医疗保险基金结算", Yunnan 001 第28条).
    outcome.fund_payments.push_back({yidi::v1::FUND_PAYMENT_TYPE_EMPLOYEE_PERSONAL_ACCOUNT,
                                     benefit->family_account_name, outcome.family_account_fen});
  }
  CheckOutcome(input, outcome);
  return outcome;
}

void FillSlipAmounts(const PolicyOutcome& outcome, yidi::v1::SettlementResult* result) {
  const ColumnAmounts& c = outcome.column_fen;
  result->set_deductible_applied_fen(outcome.deductible_applied_fen);
  result->set_pooled_fund_fen(c[yidi::v1::FUND_COLUMN_POOLED_FUND]);
  result->set_large_expense_fen(c[yidi::v1::FUND_COLUMN_LARGE_EXPENSE]);
  result->set_civil_servant_fen(c[yidi::v1::FUND_COLUMN_CIVIL_SERVANT]);
  result->set_supplementary_fen(c[yidi::v1::FUND_COLUMN_SUPPLEMENTARY]);
  result->set_disabled_veteran_fen(c[yidi::v1::FUND_COLUMN_DISABLED_VETERAN]);
  result->set_critical_illness_fen(c[yidi::v1::FUND_COLUMN_CRITICAL_ILLNESS]);
  result->set_medical_assistance_fen(c[yidi::v1::FUND_COLUMN_MEDICAL_ASSISTANCE]);
  result->set_other_fund_fen(c[yidi::v1::FUND_COLUMN_OTHER]);
  result->set_fund_total_fen(outcome.fund_total_fen);
  const int64_t accounts = outcome.personal_account_fen + outcome.family_account_fen;
  result->set_personal_account_fen(accounts);
  result->set_cash_fen(outcome.cash_fen);
  result->set_person_part_fen(accounts + outcome.cash_fen);
  result->set_slip_fund_total_fen(outcome.fund_total_fen + accounts);
  result->clear_fund_payments();
  for (const FundPaymentLine& line : outcome.fund_payments) {
    auto* payment = result->add_fund_payments();
    payment->set_fund_payment_type(line.fund_payment_type);
    payment->set_name(std::string(line.name));
    payment->set_amount_fen(line.amount_fen);
  }
}

}  // namespace yidi::municipal
