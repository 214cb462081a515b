// Worked cases of the policy engine, every amount computed by hand in the comments (元; the
// code speaks fen). The test policies are municipal/policy_engine_testing.h: an employee policy
// (310, Yunnan-like: unfiled settlement with a floor, year-end split by days) and a resident
// policy (390: critical illness in bands, easier for assistance persons).
//
// Bills used again and again:
//   A  inpatient 12 000: in scope 10 000, class-B co-pay 800, over cap 200, self-pay 1 000
//   O  outpatient   800: in scope    700, class-B co-pay  50, over cap   0, self-pay    50
//   R  inpatient 60 000: in scope 50 000, class-B co-pay 4000, over cap 1000, self-pay 5000
#include "municipal/policy_engine.h"

#include <string>
#include <vector>

#include "common/settlement_validation.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "municipal/eligibility.h"
#include "municipal/policy_engine_testing.h"

namespace yidi::municipal {
namespace {

using ::testing::HasSubstr;
using testing::kEmployeePolicyText;
using testing::kResidentPolicyText;
using testing::ParsePolicy;

constexpr int64_t Yuan(int64_t yuan) { return yuan * 100; }

BillAmounts Bill(int64_t in_scope, int64_t class_b, int64_t over_cap, int64_t self_pay) {
  return {in_scope + class_b + over_cap + self_pay, in_scope, class_b, over_cap, self_pay};
}
BillAmounts BillA() { return Bill(Yuan(10000), Yuan(800), Yuan(200), Yuan(1000)); }
BillAmounts BillO() { return Bill(Yuan(700), Yuan(50), 0, Yuan(50)); }
BillAmounts BillR() { return Bill(Yuan(50000), Yuan(4000), Yuan(1000), Yuan(5000)); }

const CompiledPolicy& Employee() {
  static const CompiledPolicy* policy =
      CompiledPolicy::Compile(ParsePolicy(kEmployeePolicyText))->release();
  return *policy;
}
const CompiledPolicy& Resident() {
  static const CompiledPolicy* policy =
      CompiledPolicy::Compile(ParsePolicy(kResidentPolicyText))->release();
  return *policy;
}

yidi::v1::PersonRecord Person(yidi::v1::PersonType type = yidi::v1::PERSON_TYPE_EMPLOYEE_WORKING) {
  yidi::v1::PersonRecord person;
  person.set_person_type(type);
  person.set_status(yidi::v1::INSURED_STATUS_ACTIVE);
  return person;
}

// An input for `person` (kept alive by the caller): inpatient 2026-06-01…06-10 unless changed.
SettlementInput Input(const yidi::v1::PersonRecord& person, BillAmounts bill,
                      yidi::v1::HospitalLevel level = yidi::v1::HOSPITAL_LEVEL_3,
                      yidi::v1::MedicalType type = yidi::v1::MEDICAL_TYPE_INPATIENT) {
  SettlementInput input;
  input.bill = bill;
  input.medical_type = type;
  input.hospital_level = level;
  input.admission_date = absl::CivilDay(2026, 6, 1);
  input.discharge_date = IsInpatient(type) ? absl::CivilDay(2026, 6, 10)
                                                      : absl::CivilDay(2026, 6, 1);
  input.person = &person;
  input.age_years = 50;
  return input;
}

PolicyOutcome Compute(const CompiledPolicy& policy, const SettlementInput& input,
                      const YearlyAccumulators& accumulators = {}) {
  auto outcome = ComputeSettlement(policy, input, accumulators);
  EXPECT_TRUE(outcome.ok()) << outcome.status();
  return outcome.ok() ? *outcome : PolicyOutcome{};
}

// Every amount of the slip, in fen; zero unless named.
struct Amounts {
  int64_t deductible = 0;
  int64_t pooled = 0;
  int64_t large_expense = 0;
  int64_t civil_servant = 0;
  int64_t supplementary = 0;
  int64_t disabled_veteran = 0;
  int64_t critical_illness = 0;
  int64_t assistance = 0;
  int64_t personal_account = 0;
  int64_t cash = 0;
};

void ExpectAmounts(const PolicyOutcome& o, const Amounts& e) {
  EXPECT_EQ(o.deductible_applied_fen, e.deductible) << "deductible";
  EXPECT_EQ(o.column_fen[yidi::v1::FUND_COLUMN_POOLED_FUND], e.pooled) << "pooled fund";
  EXPECT_EQ(o.column_fen[yidi::v1::FUND_COLUMN_LARGE_EXPENSE], e.large_expense) << "large expense";
  EXPECT_EQ(o.column_fen[yidi::v1::FUND_COLUMN_CIVIL_SERVANT], e.civil_servant) << "civil servant";
  EXPECT_EQ(o.column_fen[yidi::v1::FUND_COLUMN_SUPPLEMENTARY], e.supplementary) << "supplementary";
  EXPECT_EQ(o.column_fen[yidi::v1::FUND_COLUMN_DISABLED_VETERAN], e.disabled_veteran)
      << "disabled veteran";
  EXPECT_EQ(o.column_fen[yidi::v1::FUND_COLUMN_CRITICAL_ILLNESS], e.critical_illness)
      << "critical illness";
  EXPECT_EQ(o.column_fen[yidi::v1::FUND_COLUMN_MEDICAL_ASSISTANCE], e.assistance)
      << "medical assistance";
  EXPECT_EQ(o.column_fen[yidi::v1::FUND_COLUMN_OTHER], 0) << "other";
  EXPECT_EQ(o.personal_account_fen, e.personal_account) << "personal account";
  EXPECT_EQ(o.cash_fen, e.cash) << "cash";
  // The slip identities hold on every worked case too.
  yidi::v1::SettlementResult slip;
  FillSlipAmounts(o, &slip);
  int64_t listed = 0;
  for (const auto& payment : slip.fund_payments()) listed += payment.amount_fen();
  EXPECT_EQ(listed, slip.slip_fund_total_fen());
}

// The delta of `name` in `year`, 0 when absent.
int64_t Delta(const PolicyOutcome& o, int year, absl::string_view name) {
  for (const AccumulatorDelta& d : o.accumulator_deltas) {
    if (d.year == year && d.name == name) return d.delta;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Employee inpatient: levels, person types, admissions.

TEST(EmployeeInpatientTest, Case01Level3WorkingFirstAdmission) {
  // Deductible 1 000; pooled (10 000 − 1 000) × 80% = 7 200; cash 12 000 − 7 200 = 4 800.
  const auto person = Person();
  const PolicyOutcome o = Compute(Employee(), Input(person, BillA()));
  ExpectAmounts(o, {.deductible = Yuan(1000), .pooled = Yuan(7200), .cash = Yuan(4800)});
  // Accumulators of 2026: one admission, deductible 1 000, pooled paid 7 200 on a base of
  // 9 000; the in-scope burden 10 000 − 7 200 = 2 800.
  EXPECT_EQ(Delta(o, 2026, "admissions:inpatient"), 1);
  EXPECT_EQ(Delta(o, 2026, "deductible_fen:inpatient"), Yuan(1000));
  EXPECT_EQ(Delta(o, 2026, "paid_fen:pooled_inpatient"), Yuan(7200));
  EXPECT_EQ(Delta(o, 2026, "base_fen:pooled_inpatient"), Yuan(9000));
  EXPECT_EQ(Delta(o, 2026, kAccInScopePersonalBurdenFen), Yuan(2800));
  EXPECT_EQ(Delta(o, 2026, "paid_fen:large_expense"), 0);  // nothing left uncovered
  ASSERT_EQ(o.fund_payments.size(), 1u);
  EXPECT_EQ(o.fund_payments[0].fund_payment_type,
            yidi::v1::FUND_PAYMENT_TYPE_EMPLOYEE_POOLED_FUND);
  EXPECT_EQ(o.fund_payments[0].name, "职工基本医疗保险统筹基金");
}

TEST(EmployeeInpatientTest, Case02Level1Working) {
  // Deductible 200; (10 000 − 200) × 90% = 8 820; cash 12 000 − 8 820 = 3 180.
  const auto person = Person();
  ExpectAmounts(Compute(Employee(), Input(person, BillA(), yidi::v1::HOSPITAL_LEVEL_1)),
                {.deductible = Yuan(200), .pooled = Yuan(8820), .cash = Yuan(3180)});
}

TEST(EmployeeInpatientTest, Case03Level2Retired) {
  // Deductible 500; retired 90%: 9 500 × 90% = 8 550; cash 12 000 − 8 550 = 3 450.
  const auto person = Person(yidi::v1::PERSON_TYPE_EMPLOYEE_RETIRED);
  ExpectAmounts(Compute(Employee(), Input(person, BillA(), yidi::v1::HOSPITAL_LEVEL_2)),
                {.deductible = Yuan(500), .pooled = Yuan(8550), .cash = Yuan(3450)});
}

TEST(EmployeeInpatientTest, Case04LaterAdmissionLowerDeductible) {
  // Second admission of the year at level 3: deductible 500; 9 500 × 80% = 7 600; cash 4 400.
  const auto person = Person();
  const PolicyOutcome o = Compute(Employee(), Input(person, BillA()),
                                  {{2026, {{"admissions:inpatient", 1},
                                           {"paid_fen:pooled_inpatient", Yuan(7200)}}}});
  ExpectAmounts(o, {.deductible = Yuan(500), .pooled = Yuan(7600), .cash = Yuan(4400)});
  EXPECT_EQ(Delta(o, 2026, "admissions:inpatient"), 1);  // the delta, not the new total
}

TEST(EmployeeInpatientTest, Case05PooledCapHitMidBillLargeExpensePaysTheRest) {
  // 98 000 of the 100 000 cap paid: 2 000 left. 9 000 × 80% = 7 200 would be due; the pooled
  // fund pays 2 000, covering 2 000 / 80% = 2 500 of expense. The 9 000 − 2 500 = 6 500 left
  // uncovered go to the large-expense subsidy at 90%: 5 850. Cash 12 000 − 2 000 − 5 850 = 4 150.
  const auto person = Person();
  const PolicyOutcome o = Compute(Employee(), Input(person, BillA()),
                                  {{2026, {{"paid_fen:pooled_inpatient", Yuan(98000)}}}});
  ExpectAmounts(o, {.deductible = Yuan(1000), .pooled = Yuan(2000), .large_expense = Yuan(5850),
                    .cash = Yuan(4150)});
  EXPECT_EQ(Delta(o, 2026, "paid_fen:pooled_inpatient"), Yuan(2000));
  EXPECT_EQ(Delta(o, 2026, "base_fen:large_expense"), Yuan(6500));
  EXPECT_EQ(Delta(o, 2026, "paid_fen:large_expense"), Yuan(5850));
  ASSERT_EQ(o.fund_payments.size(), 2u);
  EXPECT_EQ(o.fund_payments[1].fund_payment_type,
            yidi::v1::FUND_PAYMENT_TYPE_LARGE_EXPENSE_SUBSIDY);
}

TEST(EmployeeInpatientTest, Case06PooledCapExhaustedBeforeTheBill) {
  // Cap used up: the pooled fund pays 0; large expense 9 000 × 90% = 8 100; cash 3 900.
  const auto person = Person();
  ExpectAmounts(Compute(Employee(), Input(person, BillA()),
                        {{2026, {{"paid_fen:pooled_inpatient", Yuan(100000)}}}}),
                {.deductible = Yuan(1000), .large_expense = Yuan(8100), .cash = Yuan(3900)});
}

TEST(EmployeeInpatientTest, Case07BothCapsBite) {
  // Pooled cap used up, large expense has 1 000 of 300 000 left: it pays 1 000 (8 100 due);
  // cash 12 000 − 1 000 = 11 000.
  const auto person = Person();
  ExpectAmounts(Compute(Employee(), Input(person, BillA()),
                        {{2026, {{"paid_fen:pooled_inpatient", Yuan(100000)},
                                 {"paid_fen:large_expense", Yuan(299000)}}}}),
                {.deductible = Yuan(1000), .large_expense = Yuan(1000), .cash = Yuan(11000)});
}

TEST(EmployeeInpatientTest, Case08CivilServantSubsidy) {
  // Pooled 7 200; in-scope burden 2 800 × 60% = 1 680 civil-servant subsidy;
  // cash 12 000 − 7 200 − 1 680 = 3 120.
  auto person = Person(yidi::v1::PERSON_TYPE_CIVIL_SERVANT_WORKING);
  person.set_civil_servant_subsidy(true);
  const PolicyOutcome o = Compute(Employee(), Input(person, BillA()));
  ExpectAmounts(o, {.deductible = Yuan(1000), .pooled = Yuan(7200), .civil_servant = Yuan(1680),
                    .cash = Yuan(3120)});
  EXPECT_EQ(o.fund_payments[1].fund_payment_type,
            yidi::v1::FUND_PAYMENT_TYPE_CIVIL_SERVANT_SUBSIDY);
  // The in-scope burden left after every fund: 2 800 − 1 680 = 1 120.
  EXPECT_EQ(Delta(o, 2026, kAccInScopePersonalBurdenFen), Yuan(1120));
}

TEST(EmployeeInpatientTest, Case09SupplementaryOnInScopeAndClassB) {
  // Pooled 7 200; supplementary 50% × (in-scope burden 2 800 + class B 800 = 3 600) = 1 800,
  // taken from the in-scope burden first (2 800 → 1 000). Cash 12 000 − 9 000 = 3 000.
  auto person = Person();
  person.set_supplementary_insurance(true);
  const PolicyOutcome o = Compute(Employee(), Input(person, BillA()));
  ExpectAmounts(o, {.deductible = Yuan(1000), .pooled = Yuan(7200), .supplementary = Yuan(1800),
                    .cash = Yuan(3000)});
  EXPECT_EQ(Delta(o, 2026, kAccInScopePersonalBurdenFen), Yuan(1000));
  EXPECT_EQ(o.fund_payments[1].fund_payment_type, yidi::v1::FUND_PAYMENT_TYPE_OTHER);
}

TEST(EmployeeInpatientTest, Case10CivilServantThenSupplementaryRetired) {
  auto person = Person(yidi::v1::PERSON_TYPE_CIVIL_SERVANT_RETIRED);
  person.set_civil_servant_subsidy(true);
  person.set_supplementary_insurance(true);
  // Retired at level 3: 86%: pooled (10 000 − 1 000) × 86% = 7 740; civil servant
  // (10 000 − 7 740 = 2 260) × 60% = 1 356; supplementary (904 + 800) × 50% = 852;
  // cash 12 000 − 7 740 − 1 356 − 852 = 2 052.
  ExpectAmounts(Compute(Employee(), Input(person, BillA())),
                {.deductible = Yuan(1000), .pooled = Yuan(7740), .civil_servant = Yuan(1356),
                 .supplementary = Yuan(852), .cash = Yuan(2052)});
}

TEST(EmployeeInpatientTest, Case11DisabledVeteran) {
  // Pooled 7 200; the veteran fund pays the whole in-scope burden 2 800; cash is the class-B
  // co-pay, over-cap and self-pay: 800 + 200 + 1 000 = 2 000.
  auto person = Person();
  person.set_disabled_veteran(true);
  ExpectAmounts(Compute(Employee(), Input(person, BillA())),
                {.deductible = Yuan(1000), .pooled = Yuan(7200), .disabled_veteran = Yuan(2800),
                 .cash = Yuan(2000)});
}

TEST(EmployeeInpatientTest, Case12MedicalAssistanceForAnEmployee) {
  // 低保: pooled 7 200; assistance 70% × 2 800 = 1 960; cash 12 000 − 9 160 = 2 840.
  auto person = Person();
  person.set_assistance_category(yidi::v1::ASSISTANCE_CATEGORY_MINIMUM_LIVING);
  const PolicyOutcome o = Compute(Employee(), Input(person, BillA()));
  ExpectAmounts(o, {.deductible = Yuan(1000), .pooled = Yuan(7200), .assistance = Yuan(1960),
                    .cash = Yuan(2840)});
  EXPECT_EQ(o.fund_payments[1].fund_payment_type, yidi::v1::FUND_PAYMENT_TYPE_MEDICAL_ASSISTANCE);
}

// ---------------------------------------------------------------------------------------------
// The personal account.

TEST(PersonalAccountTest, Case13InScopeWithoutConsent) {
  // Balance 5 000. Without consent only the in-scope burden: 2 800; cash 800 + 200 + 1 000.
  auto person = Person();
  person.set_personal_account_balance_fen(Yuan(5000));
  const PolicyOutcome o = Compute(Employee(), Input(person, BillA()));
  ExpectAmounts(o, {.deductible = Yuan(1000), .pooled = Yuan(7200),
                    .personal_account = Yuan(2800), .cash = Yuan(2000)});
  EXPECT_EQ(Delta(o, 2026, kAccPersonalAccountFen), Yuan(2800));
  ASSERT_EQ(o.fund_payments.size(), 2u);
  EXPECT_EQ(o.fund_payments[1].fund_payment_type,
            yidi::v1::FUND_PAYMENT_TYPE_EMPLOYEE_PERSONAL_ACCOUNT);
  EXPECT_EQ(o.fund_payments[1].amount_fen, Yuan(2800));
}

TEST(PersonalAccountTest, Case14WithConsentClassBAndSelfPayToo) {
  // With consent: 2 800 + class B 800 + self-pay 1 000 = 4 600 (over-cap never); cash 200.
  auto person = Person();
  person.set_personal_account_balance_fen(Yuan(5000));
  SettlementInput input = Input(person, BillA());
  input.personal_account_consent = true;
  ExpectAmounts(Compute(Employee(), input), {.deductible = Yuan(1000), .pooled = Yuan(7200),
                                             .personal_account = Yuan(4600), .cash = Yuan(200)});
}

TEST(PersonalAccountTest, Case15WithinTheBalance) {
  // Balance 3 000 with consent: in scope 2 800, then 200 of the class-B 800;
  // cash 600 + 200 + 1 000 = 1 800.
  auto person = Person();
  person.set_personal_account_balance_fen(Yuan(3000));
  SettlementInput input = Input(person, BillA());
  input.personal_account_consent = true;
  ExpectAmounts(Compute(Employee(), input), {.deductible = Yuan(1000), .pooled = Yuan(7200),
                                             .personal_account = Yuan(3000), .cash = Yuan(1800)});
}

// ---------------------------------------------------------------------------------------------
// Remote care: every filing category, and unfiled settlement with a floor.

TEST(RemoteCareTest, Case16EveryFilingCategory) {
  // Level 3 working, 80%: long-term categories keep it (7 200, cash 4 800); referred and
  // emergency lose 10 points: 9 000 × 70% = 6 300 (cash 5 700); other temporary travellers lose
  // 20: 9 000 × 60% = 5 400 (cash 6 600).
  const auto person = Person();
  struct {
    yidi::v1::FilingCategory category;
    int64_t pooled;
  } cases[] = {
      {yidi::v1::FILING_CATEGORY_RELOCATED_RETIREE, Yuan(7200)},
      {yidi::v1::FILING_CATEGORY_LONG_TERM_RESIDENT, Yuan(7200)},
      {yidi::v1::FILING_CATEGORY_POSTED_WORKER, Yuan(7200)},
      {yidi::v1::FILING_CATEGORY_REFERRED_PATIENT, Yuan(6300)},
      {yidi::v1::FILING_CATEGORY_EMERGENCY_PATIENT, Yuan(6300)},
      {yidi::v1::FILING_CATEGORY_OTHER_TEMPORARY_TRAVELLER, Yuan(5400)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(yidi::v1::FilingCategory_Name(c.category));
    SettlementInput input = Input(person, BillA());
    input.remote_care = RemoteCareOf(c.category);
    ExpectAmounts(Compute(Employee(), input), {.deductible = Yuan(1000), .pooled = c.pooled,
                                               .cash = Yuan(12000) - c.pooled});
  }
}

TEST(RemoteCareTest, Case17OtherTemporaryRetired) {
  // Retired level 3: 86% − 20 = 66%: 9 000 × 66% = 5 940; cash 6 060.
  const auto person = Person(yidi::v1::PERSON_TYPE_EMPLOYEE_RETIRED);
  SettlementInput input = Input(person, BillA());
  input.remote_care = RemoteCare::kOtherTemporary;
  ExpectAmounts(Compute(Employee(), input),
                {.deductible = Yuan(1000), .pooled = Yuan(5940), .cash = Yuan(6060)});
}

TEST(RemoteCareTest, Case18UnfiledReductionWithTheYunnanFloor) {
  // Unfiled, reduction 35 points, floor 50%. Level 3: 80 − 35 = 45% < 50%: 50%,
  // 9 000 × 50% = 4 500, cash 7 500. Level 1: 90 − 35 = 55%: 9 800 × 55% = 5 390, cash 6 610.
  const auto person = Person();
  SettlementInput input = Input(person, BillA());
  input.remote_care = RemoteCare::kUnfiled;
  ExpectAmounts(Compute(Employee(), input),
                {.deductible = Yuan(1000), .pooled = Yuan(4500), .cash = Yuan(7500)});
  input.hospital_level = yidi::v1::HOSPITAL_LEVEL_1;
  ExpectAmounts(Compute(Employee(), input),
                {.deductible = Yuan(200), .pooled = Yuan(5390), .cash = Yuan(6610)});
}

TEST(RemoteCareTest, Case19RatioAlreadyBelowTheFloorIsKept) {
  // Outpatient level 3 working is 50%; made 40% here. Unfiled: 40 − 35 = 5% < floor, but the
  // floor never raises a ratio: 40%. Outpatient O, deductible 500: (700 − 500) × 40% = 80;
  // cash 800 − 80 = 720.
  yidi::v1::PolicyConfig config = ParsePolicy(kEmployeePolicyText);
  config.mutable_benefits(1)->mutable_funds(0)->mutable_schedules(5)->set_ratio_bp(4000);
  auto policy = CompiledPolicy::Compile(config);
  ASSERT_TRUE(policy.ok()) << policy.status();
  const auto person = Person();
  SettlementInput input =
      Input(person, BillO(), yidi::v1::HOSPITAL_LEVEL_3, yidi::v1::MEDICAL_TYPE_OUTPATIENT);
  input.remote_care = RemoteCare::kUnfiled;
  ExpectAmounts(Compute(**policy, input),
                {.deductible = Yuan(500), .pooled = Yuan(80), .cash = Yuan(720)});
}

TEST(RemoteCareTest, Case20PooledFundRoundsHalfUpOnce) {
  // In scope 1 000.05, deductible 1 000, referred 70%: 0.05 × 70% = 0.035 元 = 3.5 fen → 4 fen.
  const auto person = Person();
  SettlementInput input = Input(person, Bill(100005, 0, 0, 0));
  input.remote_care = RemoteCare::kReferredOrEmergency;
  ExpectAmounts(Compute(Employee(), input),
                {.deductible = Yuan(1000), .pooled = 4, .cash = 100001});
}

// ---------------------------------------------------------------------------------------------
// Outpatient and chronic outpatient.

TEST(OutpatientTest, Case21FirstVisitTakesTheYearlyDeductible) {
  // Level 2 working: deductible 500; (700 − 500) × 55% = 110; cash 800 − 110 = 690.
  const auto person = Person();
  const PolicyOutcome o = Compute(
      Employee(),
      Input(person, BillO(), yidi::v1::HOSPITAL_LEVEL_2, yidi::v1::MEDICAL_TYPE_OUTPATIENT));
  ExpectAmounts(o, {.deductible = Yuan(500), .pooled = Yuan(110), .cash = Yuan(690)});
  EXPECT_EQ(Delta(o, 2026, "deductible_fen:outpatient"), Yuan(500));
  EXPECT_EQ(Delta(o, 2026, "admissions:outpatient"), 0);  // visits are not admissions
}

TEST(OutpatientTest, Case22DeductiblePartlyUsed) {
  // 300 of 500 used this year: 200 left; (700 − 200) × 55% = 275; cash 525.
  const auto person = Person();
  ExpectAmounts(
      Compute(Employee(),
              Input(person, BillO(), yidi::v1::HOSPITAL_LEVEL_2, yidi::v1::MEDICAL_TYPE_OUTPATIENT),
              {{2026, {{"deductible_fen:outpatient", Yuan(300)}}}}),
      {.deductible = Yuan(200), .pooled = Yuan(275), .cash = Yuan(525)});
}

TEST(OutpatientTest, Case23CapHitMidVisit) {
  // Deductible used up, 2 900 of the 3 000 cap paid: 700 × 55% = 385 due, 100 paid; cash 700.
  const auto person = Person();
  ExpectAmounts(
      Compute(Employee(),
              Input(person, BillO(), yidi::v1::HOSPITAL_LEVEL_2, yidi::v1::MEDICAL_TYPE_OUTPATIENT),
              {{2026, {{"deductible_fen:outpatient", Yuan(500)},
                       {"paid_fen:pooled_outpatient", Yuan(2900)}}}}),
      {.pooled = Yuan(100), .cash = Yuan(700)});
}

TEST(OutpatientTest, Case24MutualAidPersonalAccount) {
  // As case 21, with consent and balance 1 000: the account pays every personal part:
  // 590 in scope + 50 class B + 50 self-pay = 690; cash 0.
  auto person = Person();
  person.set_personal_account_balance_fen(Yuan(1000));
  SettlementInput input =
      Input(person, BillO(), yidi::v1::HOSPITAL_LEVEL_2, yidi::v1::MEDICAL_TYPE_OUTPATIENT);
  input.personal_account_consent = true;
  ExpectAmounts(Compute(Employee(), input), {.deductible = Yuan(500), .pooled = Yuan(110),
                                             .personal_account = Yuan(690), .cash = 0});
  // Without consent the outpatient account pays nothing.
  input.personal_account_consent = false;
  EXPECT_EQ(Compute(Employee(), input).personal_account_fen, 0);
}

TEST(OutpatientTest, Case25RetiredLevel1AndPharmacy) {
  // Retired level 1: 70%: (700 − 500) × 70% = 140; cash 660. A pharmacy purchase (41) is
  // outpatient too.
  const auto person = Person(yidi::v1::PERSON_TYPE_EMPLOYEE_RETIRED);
  for (auto type : {yidi::v1::MEDICAL_TYPE_OUTPATIENT, yidi::v1::MEDICAL_TYPE_PHARMACY,
                    yidi::v1::MEDICAL_TYPE_EMERGENCY_OUTPATIENT}) {
    ExpectAmounts(Compute(Employee(), Input(person, BillO(), yidi::v1::HOSPITAL_LEVEL_1, type)),
                  {.deductible = Yuan(500), .pooled = Yuan(140), .cash = Yuan(660)});
  }
}

TEST(ChronicTest, Case26HypertensionOnRecord) {
  // I10: no deductible, 80%: 700 × 80% = 560; cash 800 − 560 = 240. Its own accumulators.
  auto person = Person();
  person.add_chronic_disease_codes("I10");
  SettlementInput input = Input(person, BillO(), yidi::v1::HOSPITAL_LEVEL_2,
                                yidi::v1::MEDICAL_TYPE_CHRONIC_OUTPATIENT);
  input.chronic_disease_code = "I10";
  const PolicyOutcome o = Compute(Employee(), input);
  ExpectAmounts(o, {.pooled = Yuan(560), .cash = Yuan(240)});
  EXPECT_EQ(Delta(o, 2026, "paid_fen:pooled_hypertension"), Yuan(560));
  EXPECT_EQ(Delta(o, 2026, "paid_fen:pooled_outpatient"), 0);
}

TEST(ChronicTest, Case27DiabetesWithItsOwnDeductible) {
  // E11.9: deductible 100 a year, 70%: (700 − 100) × 70% = 420; cash 380.
  auto person = Person();
  person.add_chronic_disease_codes("I10");
  person.add_chronic_disease_codes("E11.9");
  SettlementInput input = Input(person, BillO(), yidi::v1::HOSPITAL_LEVEL_3,
                                yidi::v1::MEDICAL_TYPE_CHRONIC_OUTPATIENT);
  input.chronic_disease_code = "E11.9";
  ExpectAmounts(Compute(Employee(), input),
                {.deductible = Yuan(100), .pooled = Yuan(420), .cash = Yuan(380)});
}

TEST(ChronicTest, Case28DiseaseNotOnRecordIsRefused) {
  auto person = Person();  // no chronic disease on record
  SettlementInput input = Input(person, BillO(), yidi::v1::HOSPITAL_LEVEL_2,
                                yidi::v1::MEDICAL_TYPE_CHRONIC_OUTPATIENT);
  input.chronic_disease_code = "I10";
  auto outcome = ComputeSettlement(Employee(), input, {});
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(outcome.status().message(), HasSubstr("not on the person's record"));
  input.chronic_disease_code = "";
  EXPECT_EQ(ComputeSettlement(Employee(), input, {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ChronicTest, Case29DiseaseOnRecordButNotOnTheList) {
  auto person = Person();
  person.add_chronic_disease_codes("J45");  // asthma: certified, but not on this list
  SettlementInput input = Input(person, BillO(), yidi::v1::HOSPITAL_LEVEL_2,
                                yidi::v1::MEDICAL_TYPE_CHRONIC_OUTPATIENT);
  input.chronic_disease_code = "J45";
  auto outcome = ComputeSettlement(Employee(), input, {});
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(outcome.status().message(), HasSubstr("chronic-disease list"));
}

// ---------------------------------------------------------------------------------------------
// Resident insurance: pooled fund, critical-illness bands, assistance.

TEST(ResidentTest, Case30Level3CriticalIllnessFirstBand) {
  // Deductible 600; pooled (50 000 − 600) × 60% = 29 640; in-scope burden 50 000 − 29 640 =
  // 20 360 on the yearly base [0, 20 360): from 10 000 at 60%: 10 360 × 60% = 6 216.
  // Cash 60 000 − 29 640 − 6 216 = 24 144.
  const auto person = Person(yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY);
  const PolicyOutcome o = Compute(Resident(), Input(person, BillR()));
  ExpectAmounts(o, {.deductible = Yuan(600), .pooled = Yuan(29640),
                    .critical_illness = Yuan(6216), .cash = Yuan(24144)});
  EXPECT_EQ(Delta(o, 2026, "base_fen:critical_illness"), Yuan(20360));
  EXPECT_EQ(Delta(o, 2026, "paid_fen:critical_illness"), Yuan(6216));
  EXPECT_EQ(o.fund_payments[0].fund_payment_type,
            yidi::v1::FUND_PAYMENT_TYPE_RESIDENT_POOLED_FUND);
  EXPECT_EQ(o.fund_payments[1].fund_payment_type,
            yidi::v1::FUND_PAYMENT_TYPE_RESIDENT_CRITICAL_ILLNESS);
}

TEST(ResidentTest, Case31CriticalIllnessCrossesIntoTheSecondBand) {
  // 45 000 of burden already this year (its 21 000 paid). This bill's 20 360 sits on
  // [45 000, 65 360): 5 000 × 60% = 3 000, then 15 360 × 65% = 9 984; together 12 984.
  // Cash 60 000 − 29 640 − 12 984 = 17 376.
  const auto person = Person(yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY);
  ExpectAmounts(Compute(Resident(), Input(person, BillR()),
                        {{2026, {{"base_fen:critical_illness", Yuan(45000)},
                                 {"paid_fen:critical_illness", Yuan(21000)}}}}),
                {.deductible = Yuan(600), .pooled = Yuan(29640),
                 .critical_illness = Yuan(12984), .cash = Yuan(17376)});
}

TEST(ResidentTest, Case32CriticalIllnessCapHitMidBill) {
  // Deep in the 75% band (500 000 of burden) with 295 000 of the 300 000 cap paid: 20 360 × 75%
  // = 15 270 due, 5 000 paid. Cash 60 000 − 29 640 − 5 000 = 25 360.
  const auto person = Person(yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY);
  ExpectAmounts(Compute(Resident(), Input(person, BillR()),
                        {{2026, {{"base_fen:critical_illness", Yuan(500000)},
                                 {"paid_fen:critical_illness", Yuan(295000)}}}}),
                {.deductible = Yuan(600), .pooled = Yuan(29640),
                 .critical_illness = Yuan(5000), .cash = Yuan(25360)});
}

TEST(ResidentTest, Case33MinimumLivingPersonEasierThresholdAndAssistance) {
  // 低保: deductible 600, pooled 29 640, burden 20 360. Critical illness from 5 000 at 65%:
  // 15 360 × 65% = 9 984 (burden 10 376). Assistance 70% × 10 376 = 7 263.20 (exact in fen).
  // Cash 60 000 − 29 640 − 9 984 − 7 263.20 = 13 112.80.
  auto person = Person(yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY);
  person.set_assistance_category(yidi::v1::ASSISTANCE_CATEGORY_MINIMUM_LIVING);
  ExpectAmounts(Compute(Resident(), Input(person, BillR())),
                {.deductible = Yuan(600), .pooled = Yuan(29640),
                 .critical_illness = Yuan(9984), .assistance = 726320, .cash = 1311280});
}

TEST(ResidentTest, Case34ExtremelyPoorPersonPaysNoDeductible) {
  // 特困: no deductible; pooled 50 000 × 60% = 30 000; burden 20 000; critical illness
  // (20 000 − 5 000) × 65% = 9 750 (burden 10 250); assistance 80% × 10 250 = 8 200.
  // Cash 60 000 − 30 000 − 9 750 − 8 200 = 12 050.
  auto person = Person(yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY);
  person.set_assistance_category(yidi::v1::ASSISTANCE_CATEGORY_EXTREMELY_POOR);
  ExpectAmounts(Compute(Resident(), Input(person, BillR())),
                {.pooled = Yuan(30000), .critical_illness = Yuan(9750), .assistance = Yuan(8200),
                 .cash = Yuan(12050)});
}

TEST(ResidentTest, Case35PooledCapHitNoLargeExpenseForResidents) {
  // 148 000 of the 150 000 cap paid: pooled 2 000. Nothing takes the uncovered rest; the
  // in-scope burden is 50 000 − 2 000 = 48 000: critical illness (48 000 − 10 000) × 60% =
  // 22 800. Cash 60 000 − 2 000 − 22 800 = 35 200.
  const auto person = Person(yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY);
  ExpectAmounts(Compute(Resident(), Input(person, BillR()),
                        {{2026, {{"paid_fen:pooled_inpatient", Yuan(148000)}}}}),
                {.deductible = Yuan(600), .pooled = Yuan(2000),
                 .critical_illness = Yuan(22800), .cash = Yuan(35200)});
}

TEST(ResidentTest, Case36Levels1And2) {
  // Level 1: deductible 100; (50 000 − 100) × 90% = 44 910; burden 5 090 < 10 000: no critical
  // illness; cash 60 000 − 44 910 = 15 090.
  // Level 2: deductible 300; 49 700 × 75% = 37 275; burden 12 725: (12 725 − 10 000) × 60% =
  // 1 635; cash 60 000 − 37 275 − 1 635 = 21 090.
  const auto person = Person(yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY);
  ExpectAmounts(Compute(Resident(), Input(person, BillR(), yidi::v1::HOSPITAL_LEVEL_1)),
                {.deductible = Yuan(100), .pooled = Yuan(44910), .cash = Yuan(15090)});
  ExpectAmounts(Compute(Resident(), Input(person, BillR(), yidi::v1::HOSPITAL_LEVEL_2)),
                {.deductible = Yuan(300), .pooled = Yuan(37275), .critical_illness = Yuan(1635),
                 .cash = Yuan(21090)});
}

TEST(ResidentTest, Case37OutpatientPrimaryCareWithoutDeductible) {
  // Level 1: no deductible, 50%: 700 × 50% = 350; cash 450. Level 3: deductible 200:
  // (700 − 200) × 50% = 250; cash 550.
  const auto person = Person(yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY);
  ExpectAmounts(Compute(Resident(), Input(person, BillO(), yidi::v1::HOSPITAL_LEVEL_1,
                                          yidi::v1::MEDICAL_TYPE_OUTPATIENT)),
                {.pooled = Yuan(350), .cash = Yuan(450)});
  ExpectAmounts(Compute(Resident(), Input(person, BillO(), yidi::v1::HOSPITAL_LEVEL_3,
                                          yidi::v1::MEDICAL_TYPE_OUTPATIENT)),
                {.deductible = Yuan(200), .pooled = Yuan(250), .cash = Yuan(550)});
}

TEST(ResidentTest, Case38ChronicSharesTheCriticalIllnessAccount) {
  // I10: 700 × 60% = 420; burden 280 is added to the yearly critical-illness base shared with
  // inpatient care. With 9 900 already there: [9 900, 10 180): 180 above 10 000 × 60% = 108.
  // Cash 800 − 420 − 108 = 272.
  auto person = Person(yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY);
  person.add_chronic_disease_codes("I10");
  SettlementInput input = Input(person, BillO(), yidi::v1::HOSPITAL_LEVEL_2,
                                yidi::v1::MEDICAL_TYPE_CHRONIC_OUTPATIENT);
  input.chronic_disease_code = "I10";
  const PolicyOutcome o =
      Compute(Resident(), input, {{2026, {{"base_fen:critical_illness", Yuan(9900)}}}});
  ExpectAmounts(o, {.pooled = Yuan(420), .critical_illness = Yuan(108), .cash = Yuan(272)});
  EXPECT_EQ(Delta(o, 2026, "base_fen:critical_illness"), Yuan(280));
}

TEST(ResidentTest, Case39RetiredResidentRatioDoesNotExist) {
  // A resident person type is never "retired": an elderly resident at level 3 gets 60% like any
  // other (case 30).
  EXPECT_FALSE(IsRetired(yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY));
  auto person = Person(yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY);
  SettlementInput input = Input(person, BillR());
  input.age_years = 82;
  EXPECT_EQ(Compute(Resident(), input).column_fen[yidi::v1::FUND_COLUMN_POOLED_FUND],
            Yuan(29640));
}

// ---------------------------------------------------------------------------------------------
// A stay across the year end.

TEST(YearEndTest, Case40SplitByDaysWithoutASecondDeductible) {
  // Employee policy splits (Yunnan 第36条). Admitted 2026-12-27, discharged 2027-01-06: 10 nights,
  // 5 in 2026 (27–31 Dec) and 5 in 2027: every part halves. 2026: in scope 5 000, deductible
  // 1 000, pooled 98 000 of 100 000 paid: due (5 000 − 1 000) × 80% = 3 200, paid 2 000
  // (covering 2 500), large expense (4 000 − 2 500) × 90% = 1 350. 2027: in scope 5 000, no
  // deductible of its own, a fresh cap: 5 000 × 80% = 4 000.
  // Pooled 2 000 + 4 000 = 6 000; large expense 1 350; cash 12 000 − 7 350 = 4 650.
  const auto person = Person();
  SettlementInput input = Input(person, BillA());
  input.admission_date = absl::CivilDay(2026, 12, 27);
  input.discharge_date = absl::CivilDay(2027, 1, 6);
  EXPECT_EQ(SettlementYears(Employee(), input), (std::vector<int>{2026, 2027}));
  const PolicyOutcome o =
      Compute(Employee(), input, {{2026, {{"paid_fen:pooled_inpatient", Yuan(98000)}}}});
  ExpectAmounts(o, {.deductible = Yuan(1000), .pooled = Yuan(6000), .large_expense = Yuan(1350),
                    .cash = Yuan(4650)});
  EXPECT_EQ(o.year_parts, 2);
  EXPECT_EQ(Delta(o, 2026, "admissions:inpatient"), 1);
  EXPECT_EQ(Delta(o, 2027, "admissions:inpatient"), 0);
  EXPECT_EQ(Delta(o, 2026, "deductible_fen:inpatient"), Yuan(1000));
  EXPECT_EQ(Delta(o, 2027, "deductible_fen:inpatient"), 0);
  EXPECT_EQ(Delta(o, 2026, "paid_fen:pooled_inpatient"), Yuan(2000));
  EXPECT_EQ(Delta(o, 2027, "paid_fen:pooled_inpatient"), Yuan(4000));
  EXPECT_EQ(Delta(o, 2026, "paid_fen:large_expense"), Yuan(1350));
  // In-scope burden: 2026 5 000 − 3 350 = 1 650; 2027 5 000 − 4 000 = 1 000.
  EXPECT_EQ(Delta(o, 2026, kAccInScopePersonalBurdenFen), Yuan(1650));
  EXPECT_EQ(Delta(o, 2027, kAccInScopePersonalBurdenFen), Yuan(1000));
}

TEST(YearEndTest, Case41SplitUnevenlyAndTheDeductibleCarries) {
  // Admitted 2026-12-31, discharged 2027-01-10: 1 night in 2026, 9 in 2027. Bill in scope 5 000
  // only: 2026 gets 500, 2027 4 500. The 1 000 deductible takes the 500 of 2026 and the other
  // 500 from 2027 (one deductible for the stay). Pooled: 2026 0; 2027 (4 500 − 500) × 80% =
  // 3 200. Cash 5 000 − 3 200 = 1 800.
  const auto person = Person();
  SettlementInput input = Input(person, Bill(Yuan(5000), 0, 0, 0));
  input.admission_date = absl::CivilDay(2026, 12, 31);
  input.discharge_date = absl::CivilDay(2027, 1, 10);
  const PolicyOutcome o = Compute(Employee(), input);
  ExpectAmounts(o, {.deductible = Yuan(1000), .pooled = Yuan(3200), .cash = Yuan(1800)});
  EXPECT_EQ(Delta(o, 2026, "deductible_fen:inpatient"), Yuan(500));
  EXPECT_EQ(Delta(o, 2027, "deductible_fen:inpatient"), Yuan(500));
  EXPECT_EQ(Delta(o, 2026, "paid_fen:pooled_inpatient"), 0);
  EXPECT_EQ(Delta(o, 2027, "paid_fen:pooled_inpatient"), Yuan(3200));
}

TEST(YearEndTest, Case42OneBillAtDischargeByDefault) {
  // The resident policy keeps one bill: admitted 2026-12-20, discharged 2027-01-10, all of it
  // in 2027 with 2027's accumulators (2026's pooled cap is full but does not matter):
  // as case 30: pooled 29 640, critical illness 6 216, cash 24 144.
  const auto person = Person(yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY);
  SettlementInput input = Input(person, BillR());
  input.admission_date = absl::CivilDay(2026, 12, 20);
  input.discharge_date = absl::CivilDay(2027, 1, 10);
  EXPECT_EQ(SettlementYears(Resident(), input), (std::vector<int>{2027}));
  const PolicyOutcome o =
      Compute(Resident(), input, {{2026, {{"paid_fen:pooled_inpatient", Yuan(150000)}}}});
  ExpectAmounts(o, {.deductible = Yuan(600), .pooled = Yuan(29640),
                    .critical_illness = Yuan(6216), .cash = Yuan(24144)});
  EXPECT_EQ(Delta(o, 2027, "admissions:inpatient"), 1);
  EXPECT_EQ(Delta(o, 2026, "admissions:inpatient"), 0);
}

TEST(YearEndTest, DischargeOnNewYearsDayHasNoNightInTheNewYear) {
  // Admitted 2026-12-29, discharged 2027-01-01: 3 nights, all in 2026.
  const auto person = Person();
  SettlementInput input = Input(person, BillA());
  input.admission_date = absl::CivilDay(2026, 12, 29);
  input.discharge_date = absl::CivilDay(2027, 1, 1);
  EXPECT_EQ(SettlementYears(Employee(), input), (std::vector<int>{2026}));
  ExpectAmounts(Compute(Employee(), input),
                {.deductible = Yuan(1000), .pooled = Yuan(7200), .cash = Yuan(4800)});
}

// ---------------------------------------------------------------------------------------------
// Edges.

TEST(EdgeTest, NothingInScopeAndDeductibleAboveTheScope) {
  const auto person = Person();
  // All self-pay: no fund, no deductible.
  ExpectAmounts(Compute(Employee(), Input(person, Bill(0, 0, 0, Yuan(500)))),
                {.cash = Yuan(500)});
  // In scope 600 < deductible 1 000: all of it is deductible.
  ExpectAmounts(Compute(Employee(), Input(person, Bill(Yuan(600), 0, 0, Yuan(400)))),
                {.deductible = Yuan(600), .cash = Yuan(1000)});
}

TEST(EdgeTest, EveryInpatientMedicalTypeUsesTheInpatientBenefit) {
  const auto person = Person();
  for (auto type : {yidi::v1::MEDICAL_TYPE_TRAUMA_INPATIENT,
                    yidi::v1::MEDICAL_TYPE_REFERRED_OUT_INPATIENT,
                    yidi::v1::MEDICAL_TYPE_EMERGENCY_INPATIENT}) {
    SCOPED_TRACE(yidi::v1::MedicalType_Name(type));
    ExpectAmounts(Compute(Employee(), Input(person, BillA(), yidi::v1::HOSPITAL_LEVEL_3, type)),
                  {.deductible = Yuan(1000), .pooled = Yuan(7200), .cash = Yuan(4800)});
  }
}

TEST(EdgeTest, AnUnlevelledInstitutionWithoutARuleIsRefused) {
  const auto person = Person();
  auto outcome = ComputeSettlement(
      Employee(), Input(person, BillA(), yidi::v1::HOSPITAL_LEVEL_UNSPECIFIED), {});
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(outcome.status().message(), HasSubstr("no deductible rule"));
}

TEST(EdgeTest, FillSlipAmountsPassesTheSlipIdentities) {
  auto person = Person(yidi::v1::PERSON_TYPE_CIVIL_SERVANT_RETIRED);
  person.set_civil_servant_subsidy(true);
  person.set_personal_account_balance_fen(Yuan(800));
  SettlementInput input = Input(person, BillA());
  input.personal_account_consent = true;
  const PolicyOutcome o =
      Compute(Employee(), input, {{2026, {{"paid_fen:pooled_inpatient", Yuan(99000)}}}});
  yidi::v1::SettlementResult slip;
  slip.set_kind(yidi::v1::SETTLEMENT_KIND_NORMAL);
  slip.set_total_fen(BillA().total_fen);
  slip.set_in_scope_fen(BillA().in_scope_fen);
  slip.set_class_b_copay_fen(BillA().class_b_copay_fen);
  slip.set_over_cap_fen(BillA().over_cap_fen);
  slip.set_self_pay_fen(BillA().self_pay_fen);
  FillSlipAmounts(o, &slip);
  EXPECT_TRUE(CheckSlipIdentities(slip).ok()) << CheckSlipIdentities(slip);
  EXPECT_GT(slip.large_expense_fen(), 0);
  EXPECT_GT(slip.civil_servant_fen(), 0);
  EXPECT_EQ(slip.personal_account_fen(), Yuan(800));
  EXPECT_EQ(slip.fund_payments_size(), 4);  // pooled, large expense, civil servant, account
}

// ---------------------------------------------------------------------------------------------
// 门诊共济: a relative's (授权人's) account (RULES.md 3.13; Yunnan 001 第28条).

TEST(FamilyAccountTest, Case43RelativesAccountPaysAfterTheOwnAccount) {
  // As case 24 (outpatient O at level 2: deductible 500, pooled (700 − 500) × 55% = 110), with
  // consent, the own balance 300 and a relative's balance 1 000. Left to the person: in scope
  // 590, class B 50, self-pay 50. The own account (every part) pays 300 of the in-scope part;
  // the relative's (in scope, class B, self-pay) pays 290 + 50 + 50 = 390; cash 0. The slip's
  // personal account is 300 + 390 = 690, in two ＃参保地基金 lines (310200 both).
  auto person = Person();
  person.set_personal_account_balance_fen(Yuan(300));
  SettlementInput input =
      Input(person, BillO(), yidi::v1::HOSPITAL_LEVEL_2, yidi::v1::MEDICAL_TYPE_OUTPATIENT);
  input.personal_account_consent = true;
  input.family_account_balance_fen = Yuan(1000);
  const PolicyOutcome o = Compute(Employee(), input);
  ExpectAmounts(o, {.deductible = Yuan(500), .pooled = Yuan(110),
                    .personal_account = Yuan(300), .cash = 0});
  EXPECT_EQ(o.family_account_fen, Yuan(390));
  EXPECT_EQ(Delta(o, 2026, kAccFamilyAccountFen), Yuan(390));
  EXPECT_EQ(Delta(o, 2026, kAccPersonalAccountFen), Yuan(300));
  yidi::v1::SettlementResult slip;
  FillSlipAmounts(o, &slip);
  EXPECT_EQ(slip.personal_account_fen(), Yuan(690));
  EXPECT_EQ(slip.cash_fen(), 0);
  ASSERT_EQ(slip.fund_payments_size(), 3);
  EXPECT_EQ(slip.fund_payments(2).fund_payment_type(),
            yidi::v1::FUND_PAYMENT_TYPE_EMPLOYEE_PERSONAL_ACCOUNT);
  EXPECT_EQ(slip.fund_payments(2).amount_fen(), Yuan(390));
  EXPECT_THAT(slip.fund_payments(2).name(), HasSubstr("门诊共济"));
}

TEST(FamilyAccountTest, Case44WithoutConsentOrOnAStayTheRelativesAccountPaysNothing) {
  // Without consent: pooled 110, cash 690, neither account pays. An inpatient stay (bill A,
  // level 3) with consent: the inpatient benefit has no family parts: pooled 7 200, the own
  // account (balance 0) nothing, cash 4 800.
  auto person = Person();
  SettlementInput input =
      Input(person, BillO(), yidi::v1::HOSPITAL_LEVEL_2, yidi::v1::MEDICAL_TYPE_OUTPATIENT);
  input.family_account_balance_fen = Yuan(1000);
  PolicyOutcome o = Compute(Employee(), input);
  ExpectAmounts(o, {.deductible = Yuan(500), .pooled = Yuan(110), .cash = Yuan(690)});
  EXPECT_EQ(o.family_account_fen, 0);
  SettlementInput stay = Input(person, BillA());
  stay.personal_account_consent = true;
  stay.family_account_balance_fen = Yuan(1000);
  o = Compute(Employee(), stay);
  ExpectAmounts(o, {.deductible = Yuan(1000), .pooled = Yuan(7200), .cash = Yuan(4800)});
  EXPECT_EQ(o.family_account_fen, 0);
}

TEST(FamilyAccountTest, Case45ResidentUsesAnEmployeesAccountWithinItsBalance) {
  // A resident's outpatient O at level 3: deductible 200, pooled (700 − 200) × 50% = 250; the
  // in-scope burden 450. The employee relative's account may pay the in-scope part only:
  // balance 300 → 300, cash 800 − 250 − 300 = 250; balance 1 000 → 450, cash 100 (class B
  // 50 + self-pay 50). The line is 310200: "计入城镇职工基本医疗保险基金结算".
  const auto person = Person(yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY);
  SettlementInput input =
      Input(person, BillO(), yidi::v1::HOSPITAL_LEVEL_3, yidi::v1::MEDICAL_TYPE_OUTPATIENT);
  input.personal_account_consent = true;
  input.family_account_balance_fen = Yuan(300);
  PolicyOutcome o = Compute(Resident(), input);
  ExpectAmounts(o, {.deductible = Yuan(200), .pooled = Yuan(250), .cash = Yuan(250)});
  EXPECT_EQ(o.family_account_fen, Yuan(300));
  ASSERT_EQ(o.fund_payments.size(), 2u);
  EXPECT_EQ(o.fund_payments[1].fund_payment_type,
            yidi::v1::FUND_PAYMENT_TYPE_EMPLOYEE_PERSONAL_ACCOUNT);
  input.family_account_balance_fen = Yuan(1000);
  o = Compute(Resident(), input);
  ExpectAmounts(o, {.deductible = Yuan(200), .pooled = Yuan(250), .cash = Yuan(100)});
  EXPECT_EQ(o.family_account_fen, Yuan(450));
}

// ---------------------------------------------------------------------------------------------
// A referral episode's deductible (国办 2026 measures, POLICIES.md §1).

TEST(ReferralTest, Case46ReferredUpPaysOnlyTheDifference) {
  // The episode's first stay at level 1 applied 200. Referred up to level 3, bill A, first
  // admission of the year: 1 000 − 200 = 800; pooled (10 000 − 800) × 80% = 7 360; cash
  // 12 000 − 7 360 = 4 640. As the year's second admission (later-admission rule 500):
  // 500 − 200 = 300; pooled 9 700 × 80% = 7 760; cash 4 240.
  const auto person = Person();
  SettlementInput input = Input(person, BillA());
  input.episode_deductible_fen = Yuan(200);
  ExpectAmounts(Compute(Employee(), input),
                {.deductible = Yuan(800), .pooled = Yuan(7360), .cash = Yuan(4640)});
  ExpectAmounts(Compute(Employee(), input, {{2026, {{"admissions:inpatient", 1}}}}),
                {.deductible = Yuan(300), .pooled = Yuan(7760), .cash = Yuan(4240)});
}

TEST(ReferralTest, Case47ReferredDownPaysNoNewDeductible) {
  // The episode applied 1 000 at level 3; referred down to level 1 (due 200): nothing.
  // Bill A at level 1: pooled 10 000 × 90% = 9 000; cash 3 000. The admission still counts.
  const auto person = Person();
  SettlementInput input = Input(person, BillA(), yidi::v1::HOSPITAL_LEVEL_1);
  input.episode_deductible_fen = Yuan(1000);
  const PolicyOutcome o = Compute(Employee(), input);
  ExpectAmounts(o, {.deductible = 0, .pooled = Yuan(9000), .cash = Yuan(3000)});
  EXPECT_EQ(Delta(o, 2026, "admissions:inpatient"), 1);
  EXPECT_EQ(Delta(o, 2026, "deductible_fen:inpatient"), 0);
}

TEST(ReferralTest, Case48APolicyWithoutContinuityChargesANewDeductible) {
  // The resident policy keeps REFERRAL_DEDUCTIBLE_NEW: as case 36 at level 1 whatever the
  // episode paid: deductible 100, pooled 49 900 × 90% = 44 910, cash 15 090.
  const auto person = Person(yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY);
  SettlementInput input = Input(person, BillR(), yidi::v1::HOSPITAL_LEVEL_1);
  input.episode_deductible_fen = Yuan(600);
  ExpectAmounts(Compute(Resident(), input),
                {.deductible = Yuan(100), .pooled = Yuan(44910), .cash = Yuan(15090)});
}

TEST(ReferralTest, PolicyRefusesContinuityOutsideInpatientAndFamilyPartsOnAStay) {
  auto config = ParsePolicy(kEmployeePolicyText);
  for (auto& benefit : *config.mutable_benefits()) {
    if (benefit.kind() == yidi::v1::BENEFIT_KIND_OUTPATIENT) {
      benefit.set_referral_deductible(yidi::v1::REFERRAL_DEDUCTIBLE_CONTINUOUS);
    }
  }
  auto compiled = CompiledPolicy::Compile(config);
  EXPECT_EQ(compiled.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(compiled.status().message(), HasSubstr("referral_deductible"));
  config = ParsePolicy(kEmployeePolicyText);
  config.mutable_benefits(0)->mutable_personal_account()->add_family_parts_with_consent(
      yidi::v1::BILL_PART_IN_SCOPE);
  compiled = CompiledPolicy::Compile(config);
  EXPECT_EQ(compiled.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(compiled.status().message(), HasSubstr("门诊共济"));
}

}  // namespace
}  // namespace yidi::municipal
