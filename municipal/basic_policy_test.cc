// Tests for municipal/basic_policy.h: worked cases computed by hand, the accumulator deltas
// they produce, and PolicySet's validation and version lookup.
#include "municipal/basic_policy.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace yidi::municipal {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using ::testing::Pair;

// Shenyang employee policy (demo values):
//   inpatient level 1: deductible 300 元, ratio 90% (retired: same as working)
//   inpatient level 2: deductible 600 元, ratio 85% / retired 90%
//   inpatient level 3: deductible 1000 元, later admissions 500 元, ratio 80% / retired 86%
//   inpatient pooled-fund annual cap 300 000 元
//   outpatient: yearly deductible 500 元, cap 3000 元; ratios level 1 60/70, 2 55/65, 3 50/60
//   remote care: referred/emergency −10 points, other temporary −20 points
constexpr char kPolicyText[] = R"pb(
  insured_region: "210100"
  insurance_type: INSURANCE_TYPE_EMPLOYEE
  effective_from: "2026-01-01"
  name: "Shenyang employee 2026"
  demo_values: true
  inpatient {
    levels { level: HOSPITAL_LEVEL_1 deductible_fen: 30000 ratio_working_bp: 9000 }
    levels { level: HOSPITAL_LEVEL_2 deductible_fen: 60000 ratio_working_bp: 8500 ratio_retired_bp: 9000 }
    levels { level: HOSPITAL_LEVEL_3 deductible_fen: 100000 later_admission_deductible_fen: 50000 ratio_working_bp: 8000 ratio_retired_bp: 8600 }
    pooled_fund_annual_cap_fen: 30000000
  }
  outpatient {
    annual_deductible_fen: 50000
    levels { level: HOSPITAL_LEVEL_1 ratio_working_bp: 6000 ratio_retired_bp: 7000 }
    levels { level: HOSPITAL_LEVEL_2 ratio_working_bp: 5500 ratio_retired_bp: 6500 }
    levels { level: HOSPITAL_LEVEL_3 ratio_working_bp: 5000 ratio_retired_bp: 6000 }
    annual_cap_fen: 300000
  }
  remote_care {
    referred_or_emergency_reduction_bp: 1000
    other_temporary_reduction_bp: 2000
    intra_province_filing_required: true
  }
)pb";

yidi::v1::PolicyConfig Policy() {
  yidi::v1::PolicyConfig policy;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(kPolicyText, &policy));
  return policy;
}

yidi::v1::FeeSplit Split(int64_t total, int64_t in_scope, int64_t copay, int64_t over_cap,
                         int64_t self_pay) {
  yidi::v1::FeeSplit split;
  split.set_total_fen(total);
  split.set_in_scope_fen(in_scope);
  split.set_class_b_copay_fen(copay);
  split.set_over_cap_fen(over_cap);
  split.set_self_pay_fen(self_pay);
  return split;
}

// 12 000 元 bill: in scope 10 000 元, co-pay 800, over cap 200, self-pay 1 000.
yidi::v1::FeeSplit InpatientBill() { return Split(1200000, 1000000, 80000, 20000, 100000); }

PolicyInput Inpatient(yidi::v1::HospitalLevel level = yidi::v1::HOSPITAL_LEVEL_3,
                      yidi::v1::PersonType person = yidi::v1::PERSON_TYPE_EMPLOYEE_WORKING,
                      RemoteCare remote = RemoteCare::kLocal) {
  PolicyInput input;
  input.split = InpatientBill();
  input.medical_type = yidi::v1::MEDICAL_TYPE_INPATIENT;
  input.hospital_level = level;
  input.person_type = person;
  input.insurance_type = yidi::v1::INSURANCE_TYPE_EMPLOYEE;
  input.remote_care = remote;
  return input;
}

PolicyOutcome Compute(const PolicyInput& input, const AccumulatorValues& accumulators = {}) {
  auto outcome = ComputeBasicPolicy(Policy(), input, accumulators);
  EXPECT_TRUE(outcome.ok()) << outcome.status();
  return outcome.ok() ? *outcome : PolicyOutcome{};
}

// ---------------------------------------------------------------------------------------------
// Inpatient

TEST(BasicPolicyTest, InpatientLevel3EmployeeWorkingFirstAdmission) {
  // Deductible 1000 元; (10000 − 1000) × 80% = 7200 元 pooled; cash 12000 − 7200 = 4800 元.
  const PolicyOutcome outcome = Compute(Inpatient());
  EXPECT_EQ(outcome.deductible_applied_fen, 100000);
  EXPECT_EQ(outcome.ratio_applied_bp, 8000);
  EXPECT_EQ(outcome.pooled_fund_fen, 720000);
  EXPECT_EQ(outcome.cash_fen, 480000);
  EXPECT_EQ(outcome.pooled_fund_type, yidi::v1::FUND_PAYMENT_TYPE_EMPLOYEE_POOLED_FUND);
  // Burden within scope: 10000 − 7200 = 2800 元.
  EXPECT_THAT(outcome.accumulator_deltas,
              UnorderedElementsAre(Pair(kAccInpatientAdmissions, 1),
                                   Pair(kAccInpatientDeductibleFen, 100000),
                                   Pair(kAccInpatientPooledFundFen, 720000),
                                   Pair(kAccInScopePersonalBurdenFen, 280000)));
}

TEST(BasicPolicyTest, RetiredRatio) {
  // (10000 − 1000) × 86% = 7740 元; cash 12000 − 7740 = 4260 元.
  const PolicyOutcome outcome =
      Compute(Inpatient(yidi::v1::HOSPITAL_LEVEL_3, yidi::v1::PERSON_TYPE_EMPLOYEE_RETIRED));
  EXPECT_EQ(outcome.ratio_applied_bp, 8600);
  EXPECT_EQ(outcome.pooled_fund_fen, 774000);
  EXPECT_EQ(outcome.cash_fen, 426000);
  EXPECT_EQ(outcome.accumulator_deltas.at(kAccInScopePersonalBurdenFen), 226000);
}

TEST(BasicPolicyTest, EveryRetiredPersonTypeGetsTheRetiredRatio) {
  for (auto type : {yidi::v1::PERSON_TYPE_EMPLOYEE_RETIRED,
                    yidi::v1::PERSON_TYPE_CIVIL_SERVANT_RETIRED,
                    yidi::v1::PERSON_TYPE_FLEXIBLE_RETIRED, yidi::v1::PERSON_TYPE_RETIRED_CADRE}) {
    EXPECT_TRUE(IsRetired(type)) << yidi::v1::PersonType_Name(type);
    EXPECT_EQ(Compute(Inpatient(yidi::v1::HOSPITAL_LEVEL_2, type)).ratio_applied_bp, 9000);
  }
  for (auto type : {yidi::v1::PERSON_TYPE_EMPLOYEE_WORKING,
                    yidi::v1::PERSON_TYPE_CIVIL_SERVANT_WORKING,
                    yidi::v1::PERSON_TYPE_FLEXIBLE_WORKING, yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY,
                    yidi::v1::PERSON_TYPE_CHILD_PRIMARY}) {
    EXPECT_FALSE(IsRetired(type)) << yidi::v1::PersonType_Name(type);
    EXPECT_EQ(Compute(Inpatient(yidi::v1::HOSPITAL_LEVEL_2, type)).ratio_applied_bp, 8500);
  }
}

TEST(BasicPolicyTest, RetiredRatioZeroMeansSameAsWorking) {
  // Level 1 sets no retired ratio: 90% for everyone. (10000 − 300) × 90% = 8730 元.
  const PolicyOutcome outcome =
      Compute(Inpatient(yidi::v1::HOSPITAL_LEVEL_1, yidi::v1::PERSON_TYPE_EMPLOYEE_RETIRED));
  EXPECT_EQ(outcome.deductible_applied_fen, 30000);
  EXPECT_EQ(outcome.ratio_applied_bp, 9000);
  EXPECT_EQ(outcome.pooled_fund_fen, 873000);
  EXPECT_EQ(outcome.cash_fen, 327000);
}

TEST(BasicPolicyTest, LaterAdmissionLowerDeductible) {
  // Second admission of the year: deductible 500 元; (10000 − 500) × 80% = 7600 元.
  const PolicyOutcome outcome = Compute(Inpatient(), {{kAccInpatientAdmissions, 1},
                                                      {kAccInpatientDeductibleFen, 100000},
                                                      {kAccInpatientPooledFundFen, 720000}});
  EXPECT_EQ(outcome.deductible_applied_fen, 50000);
  EXPECT_EQ(outcome.pooled_fund_fen, 760000);
  EXPECT_EQ(outcome.cash_fen, 440000);
  // Deltas are this settlement's own, not the new totals.
  EXPECT_THAT(outcome.accumulator_deltas,
              UnorderedElementsAre(Pair(kAccInpatientAdmissions, 1),
                                   Pair(kAccInpatientDeductibleFen, 50000),
                                   Pair(kAccInpatientPooledFundFen, 760000),
                                   Pair(kAccInScopePersonalBurdenFen, 240000)));
}

TEST(BasicPolicyTest, LaterAdmissionWithoutLowerDeductibleKeepsTheFirst) {
  // Level 1 sets no later-admission deductible: 300 元 again.
  const PolicyOutcome outcome =
      Compute(Inpatient(yidi::v1::HOSPITAL_LEVEL_1), {{kAccInpatientAdmissions, 3}});
  EXPECT_EQ(outcome.deductible_applied_fen, 30000);
}

TEST(BasicPolicyTest, DeductibleLargerThanInScopeAmount) {
  // In scope 600 元 < deductible 1000 元: all of it is deductible, the fund pays nothing.
  PolicyInput input = Inpatient();
  input.split = Split(100000, 60000, 0, 0, 40000);
  const PolicyOutcome outcome = Compute(input);
  EXPECT_EQ(outcome.deductible_applied_fen, 60000);
  EXPECT_EQ(outcome.pooled_fund_fen, 0);
  EXPECT_EQ(outcome.cash_fen, 100000);
  EXPECT_THAT(outcome.accumulator_deltas,
              UnorderedElementsAre(Pair(kAccInpatientAdmissions, 1),
                                   Pair(kAccInpatientDeductibleFen, 60000),
                                   Pair(kAccInpatientPooledFundFen, 0),
                                   Pair(kAccInScopePersonalBurdenFen, 60000)));
}

TEST(BasicPolicyTest, NothingInScope) {
  PolicyInput input = Inpatient();
  input.split = Split(50000, 0, 0, 0, 50000);
  const PolicyOutcome outcome = Compute(input);
  EXPECT_EQ(outcome.deductible_applied_fen, 0);
  EXPECT_EQ(outcome.pooled_fund_fen, 0);
  EXPECT_EQ(outcome.cash_fen, 50000);
  EXPECT_EQ(outcome.accumulator_deltas.at(kAccInScopePersonalBurdenFen), 0);
}

TEST(BasicPolicyTest, AnnualCapHitMidBill) {
  // 298 000 元 already paid of the 300 000 元 cap: 2 000 元 remain. The bill would get 7 200 元;
  // the fund pays 2 000 元 and cash takes the rest: 12 000 − 2 000 = 10 000 元.
  const PolicyOutcome outcome = Compute(Inpatient(), {{kAccInpatientPooledFundFen, 29800000}});
  EXPECT_EQ(outcome.deductible_applied_fen, 100000);
  EXPECT_EQ(outcome.pooled_fund_fen, 200000);
  EXPECT_EQ(outcome.cash_fen, 1000000);
  EXPECT_EQ(outcome.accumulator_deltas.at(kAccInpatientPooledFundFen), 200000);
  EXPECT_EQ(outcome.accumulator_deltas.at(kAccInScopePersonalBurdenFen), 800000);
}

TEST(BasicPolicyTest, AnnualCapAlreadyExhausted) {
  for (int64_t paid : {int64_t{30000000}, int64_t{30500000}}) {
    SCOPED_TRACE(paid);
    const PolicyOutcome outcome = Compute(Inpatient(), {{kAccInpatientPooledFundFen, paid}});
    EXPECT_EQ(outcome.pooled_fund_fen, 0);
    EXPECT_EQ(outcome.cash_fen, 1200000);
    EXPECT_EQ(outcome.accumulator_deltas.at(kAccInpatientPooledFundFen), 0);
    EXPECT_EQ(outcome.accumulator_deltas.at(kAccInScopePersonalBurdenFen), 1000000);
  }
}

TEST(BasicPolicyTest, TemporaryTravellerReductions) {
  // Referred or emergency: 80% − 10 = 70%: 9000 × 70% = 6300 元; cash 5700 元.
  const PolicyOutcome referred = Compute(Inpatient(
      yidi::v1::HOSPITAL_LEVEL_3, yidi::v1::PERSON_TYPE_EMPLOYEE_WORKING,
      RemoteCare::kReferredOrEmergency));
  EXPECT_EQ(referred.ratio_applied_bp, 7000);
  EXPECT_EQ(referred.pooled_fund_fen, 630000);
  EXPECT_EQ(referred.cash_fen, 570000);
  // Other temporary: 80% − 20 = 60%: 5400 元; cash 6600 元.
  const PolicyOutcome other = Compute(Inpatient(
      yidi::v1::HOSPITAL_LEVEL_3, yidi::v1::PERSON_TYPE_EMPLOYEE_WORKING,
      RemoteCare::kOtherTemporary));
  EXPECT_EQ(other.ratio_applied_bp, 6000);
  EXPECT_EQ(other.pooled_fund_fen, 540000);
  EXPECT_EQ(other.cash_fen, 660000);
  // The deductible is not touched by the reduction.
  EXPECT_EQ(other.deductible_applied_fen, 100000);
}

TEST(BasicPolicyTest, ReductionAppliesToTheRetiredRatio) {
  // Retired 86% − 20 = 66%: 9000 × 66% = 5940 元.
  const PolicyOutcome outcome = Compute(Inpatient(
      yidi::v1::HOSPITAL_LEVEL_3, yidi::v1::PERSON_TYPE_EMPLOYEE_RETIRED,
      RemoteCare::kOtherTemporary));
  EXPECT_EQ(outcome.ratio_applied_bp, 6600);
  EXPECT_EQ(outcome.pooled_fund_fen, 594000);
}

TEST(BasicPolicyTest, LongTermResidentHasNoReduction) {
  const PolicyOutcome outcome = Compute(Inpatient(
      yidi::v1::HOSPITAL_LEVEL_3, yidi::v1::PERSON_TYPE_EMPLOYEE_WORKING, RemoteCare::kLocal));
  EXPECT_EQ(outcome.ratio_applied_bp, 8000);
  EXPECT_EQ(outcome.pooled_fund_fen, 720000);
}

TEST(BasicPolicyTest, PooledFundRoundsHalfUp) {
  // In scope 1000.05 元, deductible 1000 元: 5 fen × 70% = 3.5 fen → 4 fen; cash 100001.
  PolicyInput input = Inpatient(yidi::v1::HOSPITAL_LEVEL_3,
                                yidi::v1::PERSON_TYPE_EMPLOYEE_WORKING,
                                RemoteCare::kReferredOrEmergency);
  input.split = Split(100005, 100005, 0, 0, 0);
  const PolicyOutcome outcome = Compute(input);
  EXPECT_EQ(outcome.pooled_fund_fen, 4);
  EXPECT_EQ(outcome.cash_fen, 100001);
}

TEST(BasicPolicyTest, RatioNeverBelowZero) {
  yidi::v1::PolicyConfig policy = Policy();
  policy.mutable_inpatient()->mutable_levels(2)->set_ratio_working_bp(1500);  // 15% − 20 < 0
  auto outcome = ComputeBasicPolicy(policy,
                                    Inpatient(yidi::v1::HOSPITAL_LEVEL_3,
                                              yidi::v1::PERSON_TYPE_EMPLOYEE_WORKING,
                                              RemoteCare::kOtherTemporary),
                                    {});
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->ratio_applied_bp, 0);
  EXPECT_EQ(outcome->pooled_fund_fen, 0);
  EXPECT_EQ(outcome->cash_fen, 1200000);
}

TEST(BasicPolicyTest, ResidentPaysFromTheResidentPool) {
  PolicyInput input = Inpatient();
  input.insurance_type = yidi::v1::INSURANCE_TYPE_RESIDENT;
  EXPECT_EQ(Compute(input).pooled_fund_type, yidi::v1::FUND_PAYMENT_TYPE_RESIDENT_POOLED_FUND);
}

TEST(BasicPolicyTest, NoRuleForTheHospitalLevel) {
  PolicyInput input = Inpatient(yidi::v1::HOSPITAL_LEVEL_UNSPECIFIED);
  const auto outcome = ComputeBasicPolicy(Policy(), input, {});
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(outcome.status().message(), HasSubstr("inpatient"));

  yidi::v1::PolicyConfig policy = Policy();
  policy.mutable_inpatient()->mutable_levels()->RemoveLast();  // drop level 3
  EXPECT_EQ(ComputeBasicPolicy(policy, Inpatient(), {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BasicPolicyTest, InpatientTypesShareTheInpatientRules) {
  for (auto type : {yidi::v1::MEDICAL_TYPE_TRAUMA_INPATIENT,
                    yidi::v1::MEDICAL_TYPE_REFERRED_OUT_INPATIENT,
                    yidi::v1::MEDICAL_TYPE_EMERGENCY_INPATIENT}) {
    PolicyInput input = Inpatient();
    input.medical_type = type;
    const PolicyOutcome outcome = Compute(input);
    EXPECT_EQ(outcome.deductible_applied_fen, 100000) << yidi::v1::MedicalType_Name(type);
    EXPECT_EQ(outcome.pooled_fund_fen, 720000) << yidi::v1::MedicalType_Name(type);
  }
}

// ---------------------------------------------------------------------------------------------
// Outpatient

// 800 元: in scope 700, co-pay 50, self-pay 50.
PolicyInput Outpatient(yidi::v1::HospitalLevel level = yidi::v1::HOSPITAL_LEVEL_2) {
  PolicyInput input;
  input.split = Split(80000, 70000, 5000, 0, 5000);
  input.medical_type = yidi::v1::MEDICAL_TYPE_OUTPATIENT;
  input.hospital_level = level;
  input.person_type = yidi::v1::PERSON_TYPE_EMPLOYEE_WORKING;
  input.insurance_type = yidi::v1::INSURANCE_TYPE_EMPLOYEE;
  return input;
}

TEST(BasicPolicyTest, OutpatientYearlyDeductiblePartlyUsed) {
  // 300 of 500 元 used: 200 元 deductible remain; (700 − 200) × 55% = 275 元; cash 525 元.
  const PolicyOutcome outcome = Compute(Outpatient(), {{kAccOutpatientDeductibleFen, 30000}});
  EXPECT_EQ(outcome.deductible_applied_fen, 20000);
  EXPECT_EQ(outcome.ratio_applied_bp, 5500);
  EXPECT_EQ(outcome.pooled_fund_fen, 27500);
  EXPECT_EQ(outcome.cash_fen, 52500);
  // No admission counted for an outpatient visit.
  EXPECT_THAT(outcome.accumulator_deltas,
              UnorderedElementsAre(Pair(kAccOutpatientDeductibleFen, 20000),
                                   Pair(kAccOutpatientPooledFundFen, 27500),
                                   Pair(kAccInScopePersonalBurdenFen, 42500)));
}

TEST(BasicPolicyTest, OutpatientFirstVisitTakesWholeDeductible) {
  // (700 − 500) × 55% = 110 元.
  const PolicyOutcome outcome = Compute(Outpatient());
  EXPECT_EQ(outcome.deductible_applied_fen, 50000);
  EXPECT_EQ(outcome.pooled_fund_fen, 11000);
  EXPECT_EQ(outcome.cash_fen, 69000);
}

TEST(BasicPolicyTest, OutpatientDeductibleFullyUsed) {
  // Nothing left to deduct: 700 × 55% = 385 元. Inpatient accumulators do not matter.
  const PolicyOutcome outcome = Compute(
      Outpatient(), {{kAccOutpatientDeductibleFen, 50000}, {kAccInpatientAdmissions, 2}});
  EXPECT_EQ(outcome.deductible_applied_fen, 0);
  EXPECT_EQ(outcome.pooled_fund_fen, 38500);
  EXPECT_EQ(outcome.cash_fen, 41500);
}

TEST(BasicPolicyTest, OutpatientCapPartlyUsed) {
  // 2 900 of 3 000 元 paid: 100 元 remain, although 385 元 would be payable.
  const PolicyOutcome outcome = Compute(
      Outpatient(), {{kAccOutpatientDeductibleFen, 50000}, {kAccOutpatientPooledFundFen, 290000}});
  EXPECT_EQ(outcome.pooled_fund_fen, 10000);
  EXPECT_EQ(outcome.cash_fen, 70000);
  EXPECT_EQ(outcome.accumulator_deltas.at(kAccOutpatientPooledFundFen), 10000);
}

TEST(BasicPolicyTest, OutpatientUsesOutpatientRatiosNotInpatient) {
  // Level 3 outpatient retired: 60% (inpatient would be 86%). (700 − 500) × 60% = 120 元.
  PolicyInput input = Outpatient(yidi::v1::HOSPITAL_LEVEL_3);
  input.person_type = yidi::v1::PERSON_TYPE_EMPLOYEE_RETIRED;
  const PolicyOutcome outcome = Compute(input);
  EXPECT_EQ(outcome.ratio_applied_bp, 6000);
  EXPECT_EQ(outcome.pooled_fund_fen, 12000);
}

// ---------------------------------------------------------------------------------------------
// PolicySet

TEST(PolicySetTest, AcceptsTheNationalLimitsExactly) {
  yidi::v1::PolicyConfig policy = Policy();
  policy.mutable_remote_care()->set_referred_or_emergency_reduction_bp(1000);
  policy.mutable_remote_care()->set_other_temporary_reduction_bp(2000);
  PolicySet set;
  EXPECT_TRUE(set.Add(policy, "210100").ok());
}

struct BadPolicyCase {
  const char* name;
  void (*mutate)(yidi::v1::PolicyConfig&);
  const char* message_part;
};

TEST(PolicySetTest, RejectsBadPolicies) {
  const BadPolicyCase cases[] = {
      {"referred reduction 1001 bp",
       [](yidi::v1::PolicyConfig& p) {
         p.mutable_remote_care()->set_referred_or_emergency_reduction_bp(1001);
       },
       "national limit of 10 percentage points"},
      {"other temporary reduction 2001 bp",
       [](yidi::v1::PolicyConfig& p) {
         p.mutable_remote_care()->set_other_temporary_reduction_bp(2001);
       },
       "national limit of 20 percentage points"},
      {"negative reduction",
       [](yidi::v1::PolicyConfig& p) {
         p.mutable_remote_care()->set_other_temporary_reduction_bp(-1);
       },
       "other_temporary_reduction_bp"},
      {"working ratio above 100%",
       [](yidi::v1::PolicyConfig& p) {
         p.mutable_inpatient()->mutable_levels(0)->set_ratio_working_bp(10001);
       },
       "ratio_working_bp"},
      {"retired ratio above 100%",
       [](yidi::v1::PolicyConfig& p) {
         p.mutable_outpatient()->mutable_levels(1)->set_ratio_retired_bp(10001);
       },
       "outpatient.levels[1].ratio_retired_bp"},
      {"no inpatient levels",
       [](yidi::v1::PolicyConfig& p) { p.mutable_inpatient()->clear_levels(); },
       "inpatient.levels: no level rule"},
      {"no outpatient levels",
       [](yidi::v1::PolicyConfig& p) { p.mutable_outpatient()->clear_levels(); },
       "outpatient.levels: no level rule"},
      {"level unspecified",
       [](yidi::v1::PolicyConfig& p) {
         p.mutable_inpatient()->mutable_levels(1)->set_level(yidi::v1::HOSPITAL_LEVEL_UNSPECIFIED);
       },
       "inpatient.levels[1].level"},
      {"negative deductible",
       [](yidi::v1::PolicyConfig& p) {
         p.mutable_inpatient()->mutable_levels(2)->set_deductible_fen(-1);
       },
       "deductible_fen"},
      {"negative annual cap",
       [](yidi::v1::PolicyConfig& p) {
         p.mutable_inpatient()->set_pooled_fund_annual_cap_fen(-1);
       },
       "pooled_fund_annual_cap_fen"},
      {"wrong insured region",
       [](yidi::v1::PolicyConfig& p) { p.set_insured_region("360100"); }, "360100"},
      {"bad effective date",
       [](yidi::v1::PolicyConfig& p) { p.set_effective_from("2026-1-1"); }, "effective_from"},
      {"insurance type unspecified",
       [](yidi::v1::PolicyConfig& p) {
         p.set_insurance_type(yidi::v1::INSURANCE_TYPE_UNSPECIFIED);
       },
       "insurance_type"},
  };
  for (const BadPolicyCase& c : cases) {
    SCOPED_TRACE(c.name);
    yidi::v1::PolicyConfig policy = Policy();
    c.mutate(policy);
    PolicySet set;
    const absl::Status status = set.Add(policy, "210100");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(status.message(), HasSubstr(c.message_part));
    // A rejected policy is not in force afterwards.
    EXPECT_EQ(set.Find(yidi::v1::INSURANCE_TYPE_EMPLOYEE, absl::CivilDay(2026, 6, 1))
                  .status()
                  .code(),
              absl::StatusCode::kNotFound);
  }
}

TEST(PolicySetTest, RejectsTwoVersionsStartingOnOneDay) {
  PolicySet set;
  ASSERT_TRUE(set.Add(Policy(), "210100").ok());
  EXPECT_EQ(set.Add(Policy(), "210100").code(), absl::StatusCode::kInvalidArgument);
  yidi::v1::PolicyConfig resident = Policy();
  resident.set_insurance_type(yidi::v1::INSURANCE_TYPE_RESIDENT);
  EXPECT_TRUE(set.Add(resident, "210100").ok());  // same day, other insurance type
}

TEST(PolicySetTest, FindPicksTheVersionInForce) {
  yidi::v1::PolicyConfig v2025 = Policy();
  v2025.set_effective_from("2025-01-01");
  v2025.set_name("v2025");
  yidi::v1::PolicyConfig v2026 = Policy();
  v2026.set_name("v2026");
  PolicySet set;
  ASSERT_TRUE(set.Add(v2026, "210100").ok());  // added out of order on purpose
  ASSERT_TRUE(set.Add(v2025, "210100").ok());

  const auto employee = yidi::v1::INSURANCE_TYPE_EMPLOYEE;
  const auto before = set.Find(employee, absl::CivilDay(2024, 12, 31));
  EXPECT_EQ(before.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(before.status().message(), HasSubstr("2024-12-31"));

  struct {
    absl::CivilDay day;
    const char* name;
  } expectations[] = {{absl::CivilDay(2025, 1, 1), "v2025"},
                      {absl::CivilDay(2025, 12, 31), "v2025"},
                      {absl::CivilDay(2026, 1, 1), "v2026"},
                      {absl::CivilDay(2030, 6, 1), "v2026"}};
  for (const auto& e : expectations) {
    const auto found = set.Find(employee, e.day);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ((*found)->name(), e.name) << e.day;
  }
  EXPECT_EQ(set.Find(yidi::v1::INSURANCE_TYPE_RESIDENT, absl::CivilDay(2026, 6, 1))
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace yidi::municipal
