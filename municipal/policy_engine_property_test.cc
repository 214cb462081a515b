// Property test of the policy engine: thousands of random policies (both insurance types, any
// chain the loader accepts), random persons and random years of bills, some across a year end.
// For every settlement: the slip identities, every amount ≥ 0, no fund above the part of the
// bill it applies to, no cap exceeded across the year. Then the settlements are reversed in a
// random order, each by the negation of its own recorded changes as InsuredSettlement does, and
// every accumulator and the personal-account balance must come back exactly.
//
// Seeded: the seed is printed; YIDI_PROPERTY_SEED=<n> replays a run, YIDI_PROPERTY_CASES=<n>
// changes the number of policies (default 3000).
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/money.h"
#include "common/settlement_validation.h"
#include "gtest/gtest.h"
#include "municipal/policy_engine.h"

namespace yidi::municipal {
namespace {

using Rng = std::mt19937_64;

int64_t Uniform(Rng& rng, int64_t lo, int64_t hi) {  // inclusive
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}
bool Chance(Rng& rng, int percent) { return Uniform(rng, 1, 100) <= percent; }

int32_t Ratio(Rng& rng) {
  switch (Uniform(rng, 0, 5)) {
    case 0: return 0;
    case 1: return kRatioFullBp;
    default: return static_cast<int32_t>(Uniform(rng, 1, 9999));
  }
}

int64_t Amount(Rng& rng, int64_t max_fen) {
  switch (Uniform(rng, 0, 6)) {
    case 0: return 0;
    case 1: return Uniform(rng, 1, 100);  // a few fen: rounding edges
    default: return Uniform(rng, 0, max_fen);
  }
}

constexpr yidi::v1::AssistanceCategory kCategories[] = {
    yidi::v1::ASSISTANCE_CATEGORY_NONE, yidi::v1::ASSISTANCE_CATEGORY_EXTREMELY_POOR,
    yidi::v1::ASSISTANCE_CATEGORY_ORPHAN, yidi::v1::ASSISTANCE_CATEGORY_MINIMUM_LIVING,
    yidi::v1::ASSISTANCE_CATEGORY_LOW_INCOME_MARGINAL, yidi::v1::ASSISTANCE_CATEGORY_POVERTY_RISK};

void RandomCriteria(Rng& rng, yidi::v1::PersonCriteria* who) {
  switch (Uniform(rng, 0, 6)) {
    case 0: who->set_retirement(yidi::v1::RETIREMENT_RETIRED); break;
    case 1: who->add_assistance_categories(kCategories[Uniform(rng, 1, 5)]); break;
    case 2: who->set_civil_servant_subsidy(true); break;
    case 3: who->set_age_from_years(static_cast<int32_t>(Uniform(rng, 1, 90))); break;
    default: break;  // everyone
  }
}

void RandomSchedule(Rng& rng, yidi::v1::FundSchedule* schedule, bool allow_cap_override) {
  if (Chance(rng, 50)) {
    schedule->set_ratio_bp(Ratio(rng));
  } else {
    int64_t from = Chance(rng, 50) ? 0 : Amount(rng, 3'000'000);
    const int bands = static_cast<int>(Uniform(rng, 1, 4));
    for (int b = 0; b < bands; ++b) {
      auto* band = schedule->add_bands();
      band->set_from_fen(from);
      band->set_ratio_bp(Ratio(rng));
      from += Uniform(rng, 1, 5'000'000);
    }
  }
  if (allow_cap_override && Chance(rng, 10)) schedule->set_no_annual_cap(true);
}

// One fund rule; `key` unique in its chain.
void RandomFund(Rng& rng, yidi::v1::FundRule* fund, const std::string& key,
                yidi::v1::FundColumn column, yidi::v1::FundBase base, bool everyone_every_level) {
  fund->set_key(key);
  fund->set_column(column);
  fund->set_name(absl::StrCat("fund ", key));
  fund->set_base(base);
  if (Chance(rng, 70)) fund->set_annual_cap_fen(Amount(rng, 20'000'000));
  if (!everyone_every_level && Chance(rng, 40)) RandomCriteria(rng, fund->mutable_who());
  const int schedules = static_cast<int>(Uniform(rng, 1, 4));
  for (int s = 0; s < schedules; ++s) {
    auto* schedule = fund->add_schedules();
    if (Chance(rng, 40)) {
      schedule->add_levels(static_cast<yidi::v1::HospitalLevel>(Uniform(rng, 1, 3)));
    }
    if (Chance(rng, 30)) RandomCriteria(rng, schedule->mutable_who());
    RandomSchedule(rng, schedule, !everyone_every_level);
  }
  if (everyone_every_level) RandomSchedule(rng, fund->add_schedules(), false);  // catch-all
}

void RandomDeductibles(Rng& rng, yidi::v1::Benefit* benefit, bool per_admission) {
  for (int i = 0; i < Uniform(rng, 0, 3); ++i) {
    auto* rule = benefit->add_deductibles();
    if (Chance(rng, 50)) {
      rule->add_levels(static_cast<yidi::v1::HospitalLevel>(Uniform(rng, 1, 3)));
    }
    if (per_admission && Chance(rng, 50)) {
      rule->set_from_admission(static_cast<int32_t>(Uniform(rng, 2, 4)));
    }
    if (Chance(rng, 40)) RandomCriteria(rng, rule->mutable_who());
    rule->set_amount_fen(Amount(rng, 200'000));
  }
  benefit->add_deductibles()->set_amount_fen(Amount(rng, 200'000));  // everyone, every level
}

void RandomChain(Rng& rng, yidi::v1::Benefit* benefit, yidi::v1::InsuranceType type,
                 const std::string& suffix, bool shared_critical_illness) {
  const bool employee = type == yidi::v1::INSURANCE_TYPE_EMPLOYEE;
  RandomFund(rng, benefit->add_funds(), "pooled_" + suffix, yidi::v1::FUND_COLUMN_POOLED_FUND,
             yidi::v1::FUND_BASE_UNCOVERED_IN_SCOPE, true);
  if (employee && Chance(rng, 60)) {
    RandomFund(rng, benefit->add_funds(), "large_" + suffix,
               yidi::v1::FUND_COLUMN_LARGE_EXPENSE, yidi::v1::FUND_BASE_UNCOVERED_IN_SCOPE,
               false);
  }
  const yidi::v1::FundBase personal_bases[] = {yidi::v1::FUND_BASE_IN_SCOPE_PERSONAL,
                                               yidi::v1::FUND_BASE_IN_SCOPE_AND_CLASS_B,
                                               yidi::v1::FUND_BASE_ALL_PERSONAL};
  std::vector<yidi::v1::FundColumn> columns;
  if (employee) {
    columns = {yidi::v1::FUND_COLUMN_CIVIL_SERVANT, yidi::v1::FUND_COLUMN_SUPPLEMENTARY,
               yidi::v1::FUND_COLUMN_DISABLED_VETERAN, yidi::v1::FUND_COLUMN_MEDICAL_ASSISTANCE,
               yidi::v1::FUND_COLUMN_OTHER};
  } else {
    if (shared_critical_illness) {
      // The same key in every benefit: the same column and base, one yearly account.
      auto* fund = benefit->add_funds();
      fund->set_key("critical_illness");
      fund->set_column(yidi::v1::FUND_COLUMN_CRITICAL_ILLNESS);
      fund->set_name("大病保险");
      fund->set_base(yidi::v1::FUND_BASE_IN_SCOPE_PERSONAL);
      fund->set_annual_cap_fen(30'000'000);
      auto* schedule = fund->add_schedules();
      schedule->add_bands()->set_from_fen(1'000'000);
      schedule->mutable_bands(0)->set_ratio_bp(6000);
      schedule->add_bands()->set_from_fen(5'000'000);
      schedule->mutable_bands(1)->set_ratio_bp(7000);
    }
    columns = {yidi::v1::FUND_COLUMN_MEDICAL_ASSISTANCE, yidi::v1::FUND_COLUMN_OTHER};
  }
  for (yidi::v1::FundColumn column : columns) {
    if (!Chance(rng, 50)) continue;
    RandomFund(rng, benefit->add_funds(), absl::StrCat("f", column, "_", suffix), column,
               personal_bases[Uniform(rng, 0, 2)], false);
  }
  if (employee) {
    for (int part = yidi::v1::BILL_PART_IN_SCOPE; part <= yidi::v1::BILL_PART_SELF_PAY; ++part) {
      switch (Uniform(rng, 0, 2)) {
        case 0: benefit->mutable_personal_account()->add_parts(
                    static_cast<yidi::v1::BillPart>(part)); break;
        case 1: benefit->mutable_personal_account()->add_parts_with_consent(
                    static_cast<yidi::v1::BillPart>(part)); break;
        default: break;
      }
    }
  }
}

yidi::v1::PolicyConfig RandomPolicy(Rng& rng) {
  yidi::v1::PolicyConfig policy;
  const auto type = Chance(rng, 50) ? yidi::v1::INSURANCE_TYPE_EMPLOYEE
                                    : yidi::v1::INSURANCE_TYPE_RESIDENT;
  policy.set_insured_region("530100");
  policy.set_insurance_type(type);
  policy.set_effective_from("2020-01-01");
  policy.set_name("random");
  auto* remote = policy.mutable_remote_care();
  remote->set_referred_or_emergency_reduction_bp(static_cast<int32_t>(Uniform(rng, 0, 1000)));
  remote->set_other_temporary_reduction_bp(static_cast<int32_t>(Uniform(rng, 0, 2000)));
  if (Chance(rng, 50)) {
    remote->set_unfiled_direct_settlement(true);
    remote->set_unfiled_reduction_bp(static_cast<int32_t>(Uniform(rng, 0, 10000)));
    remote->set_unfiled_ratio_floor_bp(static_cast<int32_t>(Uniform(rng, 0, 10000)));
  }
  if (Chance(rng, 50)) policy.set_year_end_split(yidi::v1::YEAR_END_SPLIT_BY_DAYS);
  const bool shared_critical_illness = type == yidi::v1::INSURANCE_TYPE_RESIDENT;
  struct {
    const char* id;
    yidi::v1::BenefitKind kind;
  } kinds[] = {{"inpatient", yidi::v1::BENEFIT_KIND_INPATIENT},
               {"outpatient", yidi::v1::BENEFIT_KIND_OUTPATIENT},
               {"chronic_a", yidi::v1::BENEFIT_KIND_CHRONIC_OUTPATIENT},
               {"chronic_b", yidi::v1::BENEFIT_KIND_CHRONIC_OUTPATIENT}};
  for (const auto& k : kinds) {
    if (k.kind == yidi::v1::BENEFIT_KIND_CHRONIC_OUTPATIENT && Chance(rng, 30)) continue;
    auto* benefit = policy.add_benefits();
    benefit->set_id(k.id);
    benefit->set_kind(k.kind);
    if (k.kind == yidi::v1::BENEFIT_KIND_CHRONIC_OUTPATIENT) {
      benefit->add_chronic_disease_codes(std::string(k.id) == "chronic_a" ? "I10" : "E11.9");
    }
    const bool per_admission = k.kind == yidi::v1::BENEFIT_KIND_INPATIENT && Chance(rng, 80);
    benefit->set_deductible_period(per_admission ? yidi::v1::DEDUCTIBLE_PERIOD_ADMISSION
                                                 : yidi::v1::DEDUCTIBLE_PERIOD_YEAR);
    RandomDeductibles(rng, benefit, per_admission);
    RandomChain(rng, benefit, type, k.id, shared_critical_illness);
    // 门诊共济 parts on outpatient and chronic benefits; a continuous referral deductible on
    // inpatient ones (docs/POLICY.md §3.2, §3.6).
    if (k.kind != yidi::v1::BENEFIT_KIND_INPATIENT) {
      for (int part = yidi::v1::BILL_PART_IN_SCOPE; part <= yidi::v1::BILL_PART_SELF_PAY; ++part) {
        if (Chance(rng, 50)) {
          benefit->mutable_personal_account()->add_family_parts_with_consent(
              static_cast<yidi::v1::BillPart>(part));
        }
      }
    } else if (Chance(rng, 50)) {
      benefit->set_referral_deductible(yidi::v1::REFERRAL_DEDUCTIBLE_CONTINUOUS);
    }
  }
  return policy;
}

yidi::v1::PersonRecord RandomPerson(Rng& rng, yidi::v1::InsuranceType type) {
  yidi::v1::PersonRecord person;
  const yidi::v1::PersonType employee_types[] = {
      yidi::v1::PERSON_TYPE_EMPLOYEE_WORKING, yidi::v1::PERSON_TYPE_CIVIL_SERVANT_WORKING,
      yidi::v1::PERSON_TYPE_EMPLOYEE_RETIRED, yidi::v1::PERSON_TYPE_CIVIL_SERVANT_RETIRED,
      yidi::v1::PERSON_TYPE_RETIRED_CADRE};
  const yidi::v1::PersonType resident_types[] = {yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY,
                                                 yidi::v1::PERSON_TYPE_CHILD_PRIMARY,
                                                 yidi::v1::PERSON_TYPE_STUDENT_UNIVERSITY};
  person.set_person_type(type == yidi::v1::INSURANCE_TYPE_EMPLOYEE
                             ? employee_types[Uniform(rng, 0, 4)]
                             : resident_types[Uniform(rng, 0, 2)]);
  person.set_assistance_category(kCategories[Chance(rng, 60) ? 0 : Uniform(rng, 1, 5)]);
  person.set_civil_servant_subsidy(Chance(rng, 30));
  person.set_disabled_veteran(Chance(rng, 10));
  person.set_supplementary_insurance(Chance(rng, 30));
  if (type == yidi::v1::INSURANCE_TYPE_EMPLOYEE) {
    person.set_personal_account_balance_fen(Amount(rng, 2'000'000));
  }
  if (Chance(rng, 50)) person.add_chronic_disease_codes("I10");
  if (Chance(rng, 50)) person.add_chronic_disease_codes("E11.9");
  return person;
}

SettlementInput RandomInput(Rng& rng, const yidi::v1::PersonRecord& person) {
  SettlementInput input;
  const int64_t scale = Chance(rng, 20) ? 50'000'000 : 2'000'000;
  input.bill.in_scope_fen = Amount(rng, scale);
  input.bill.class_b_copay_fen = Amount(rng, scale / 10);
  input.bill.over_cap_fen = Amount(rng, scale / 20);
  input.bill.self_pay_fen = Amount(rng, scale / 10);
  input.bill.total_fen = input.bill.in_scope_fen + input.bill.class_b_copay_fen +
                         input.bill.over_cap_fen + input.bill.self_pay_fen;
  const yidi::v1::MedicalType types[] = {
      yidi::v1::MEDICAL_TYPE_INPATIENT, yidi::v1::MEDICAL_TYPE_EMERGENCY_INPATIENT,
      yidi::v1::MEDICAL_TYPE_OUTPATIENT, yidi::v1::MEDICAL_TYPE_PHARMACY,
      yidi::v1::MEDICAL_TYPE_CHRONIC_OUTPATIENT};
  input.medical_type = types[Uniform(rng, 0, 4)];
  input.hospital_level = static_cast<yidi::v1::HospitalLevel>(Uniform(rng, 1, 3));
  input.remote_care = static_cast<RemoteCare>(Uniform(rng, 0, 3));
  const absl::CivilDay admission =
      absl::CivilDay(2026, 1, 1) + Uniform(rng, 0, 364) + (Chance(rng, 10) ? 350 : 0);
  input.admission_date = admission;
  input.discharge_date = IsInpatient(input.medical_type)
                             ? admission + Uniform(rng, 0, Chance(rng, 5) ? 400 : 30)
                             : admission;
  input.chronic_disease_code = Chance(rng, 50) ? "I10" : "E11.9";
  input.personal_account_consent = Chance(rng, 50);
  input.family_account_balance_fen = Chance(rng, 30) ? Amount(rng, 500'000) : 0;
  input.episode_deductible_fen = Chance(rng, 20) ? Amount(rng, 200'000) : 0;
  input.person = &person;
  input.age_years = static_cast<int>(Uniform(rng, 0, 100));
  return input;
}

// The engine's view of storage: accumulators by year and name, as ApplyAccumulatorChanges
// keeps them.
struct Ledger {
  std::map<int, AccumulatorValues> years;
  void Apply(const std::vector<AccumulatorDelta>& deltas, int sign) {
    for (const auto& d : deltas) {
      int64_t& value = years[d.year][std::string(d.name)];
      value += sign * d.delta;
      ASSERT_GE(value, 0) << d.name << " went below zero";
    }
  }
};

struct Recorded {
  std::vector<AccumulatorDelta> deltas;
  int64_t personal_account_fen = 0;
};

// The yearly cap of a key when every schedule of every rule with that key inherits one cap.
std::map<std::string, int64_t> UniformCaps(const CompiledPolicy& policy) {
  std::map<std::string, int64_t> caps;
  std::map<std::string, bool> uniform;
  for (const CompiledBenefit& benefit : policy.benefits()) {
    for (const CompiledFund& fund : benefit.funds) {
      for (const CompiledSchedule& s : fund.schedules) {
        auto [it, inserted] = caps.emplace(fund.paid_accumulator, s.annual_cap_fen);
        bool& same = uniform.emplace(fund.paid_accumulator, true).first->second;
        same = same && s.capped && it->second == s.annual_cap_fen;
      }
    }
  }
  for (auto it = caps.begin(); it != caps.end();) {
    it = uniform[it->first] ? std::next(it) : caps.erase(it);
  }
  return caps;
}

void CheckOne(const SettlementInput& input, const PolicyOutcome& o) {
  yidi::v1::SettlementResult slip;
  slip.set_kind(yidi::v1::SETTLEMENT_KIND_NORMAL);
  slip.set_total_fen(input.bill.total_fen);
  slip.set_in_scope_fen(input.bill.in_scope_fen);
  slip.set_class_b_copay_fen(input.bill.class_b_copay_fen);
  slip.set_over_cap_fen(input.bill.over_cap_fen);
  slip.set_self_pay_fen(input.bill.self_pay_fen);
  FillSlipAmounts(o, &slip);
  const absl::Status identities = CheckSlipIdentities(slip);
  ASSERT_TRUE(identities.ok()) << identities;
  ASSERT_GE(o.cash_fen, 0);
  ASSERT_LE(o.deductible_applied_fen, input.bill.in_scope_fen);
  // Funds on in-scope bases never pay more than the in-scope amount; all funds and the account
  // never more than the bill.
  ASSERT_LE(o.column_fen[yidi::v1::FUND_COLUMN_POOLED_FUND] +
                o.column_fen[yidi::v1::FUND_COLUMN_LARGE_EXPENSE],
            input.bill.in_scope_fen - o.deductible_applied_fen);
  ASSERT_LE(o.fund_total_fen + o.personal_account_fen + o.family_account_fen,
            input.bill.total_fen);
  ASSERT_LE(o.personal_account_fen, input.person->personal_account_balance_fen());
  ASSERT_LE(o.family_account_fen, input.family_account_balance_fen);
  if (!input.personal_account_consent) ASSERT_EQ(o.family_account_fen, 0);
}

TEST(PolicyEnginePropertyTest, RandomPoliciesPersonsAndBills) {
  uint64_t seed = std::random_device{}();
  if (const char* env = std::getenv("YIDI_PROPERTY_SEED")) seed = std::strtoull(env, nullptr, 10);
  int cases = 3000;
  if (const char* env = std::getenv("YIDI_PROPERTY_CASES")) cases = std::atoi(env);
  std::cout << "policy engine property test: seed " << seed << " (YIDI_PROPERTY_SEED=" << seed
            << " replays), " << cases << " policies" << std::endl;
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  Rng rng(seed);
  int64_t settlements = 0;
  for (int c = 0; c < cases; ++c) {
    SCOPED_TRACE(absl::StrCat("seed ", seed, ", policy ", c));
    const yidi::v1::PolicyConfig config = RandomPolicy(rng);
    auto compiled = CompiledPolicy::Compile(config);
    ASSERT_TRUE(compiled.ok()) << compiled.status() << "\n" << config.DebugString();
    const CompiledPolicy& policy = **compiled;
    const auto caps = UniformCaps(policy);
    yidi::v1::PersonRecord person = RandomPerson(rng, config.insurance_type());
    const int64_t balance_start = person.personal_account_balance_fen();
    Ledger ledger;
    std::vector<Recorded> recorded;
    const int bills = static_cast<int>(Uniform(rng, 1, 12));
    for (int b = 0; b < bills; ++b) {
      SCOPED_TRACE(absl::StrCat("bill ", b));
      const SettlementInput input = RandomInput(rng, person);
      YearlyAccumulators accumulators;
      for (int year : SettlementYears(policy, input)) accumulators[year] = ledger.years[year];
      auto outcome = ComputeSettlement(policy, input, accumulators);
      if (!outcome.ok()) {  // only the refusals the engine documents
        ASSERT_EQ(outcome.status().code(), absl::StatusCode::kFailedPrecondition)
            << outcome.status();
        continue;
      }
      auto again = ComputeSettlement(policy, input, accumulators);
      ASSERT_EQ(again->cash_fen, outcome->cash_fen) << "the engine is deterministic";
      CheckOne(input, *outcome);
      ledger.Apply(outcome->accumulator_deltas, +1);
      person.set_personal_account_balance_fen(person.personal_account_balance_fen() -
                                              outcome->personal_account_fen);
      for (const auto& [year, values] : ledger.years) {
        for (const auto& [key, cap] : caps) {
          auto it = values.find(key);
          ASSERT_LE(it == values.end() ? 0 : it->second, cap) << key << " over its cap in "
                                                               << year;
        }
      }
      recorded.push_back({outcome->accumulator_deltas, outcome->personal_account_fen});
      ++settlements;
    }
    // Reverse everything in a random order: each reversal takes back its own changes only.
    std::shuffle(recorded.begin(), recorded.end(), rng);
    for (const Recorded& r : recorded) {
      ledger.Apply(r.deltas, -1);
      person.set_personal_account_balance_fen(person.personal_account_balance_fen() +
                                              r.personal_account_fen);
    }
    for (const auto& [year, values] : ledger.years) {
      for (const auto& [name, value] : values) {
        ASSERT_EQ(value, 0) << name << " of " << year << " not restored";
      }
    }
    ASSERT_EQ(person.personal_account_balance_fen(), balance_start);
  }
  std::cout << "checked " << settlements << " settlements" << std::endl;
}

}  // namespace
}  // namespace yidi::municipal
