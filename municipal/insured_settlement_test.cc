// InsuredSettlement over a real SQLite store (a temporary file): the policy engine's
// accumulators and the personal account move with the settlement in one transaction; Reverse
// restores exactly what a settlement added, also out of order (隔笔退费, Yunnan 001 第37条: the
// later settlements stay as they were) and across a year end (跨年退费); concurrent
// settlements of one person lose no update; unfiled settlement where the policy allows it.
// Amounts by hand (元) in the comments; the test policies are policy_engine_testing.h with the
// insured region set to 360100 (Nanchang in the demo directory).
#include "municipal/insured_settlement.h"

#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/settlement_record.h"
#include "common/settlement_validation.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "municipal/accumulators.h"
#include "municipal/eligibility.h"
#include "municipal/filing_store.h"
#include "municipal/insured_registry.h"
#include "municipal/policy_engine_testing.h"

#ifndef YIDI_SOURCE_DIR
#define YIDI_SOURCE_DIR "."
#endif

namespace yidi::municipal {
namespace {

using ::testing::HasSubstr;
using testing::kEmployeePolicyText;
using testing::kResidentPolicyText;
using testing::ParsePolicy;
using testing::TestIdNumber;

constexpr char kRegion[] = "360100";
constexpr char kInstitution[] = "H36010000001";
constexpr int64_t Yuan(int64_t yuan) { return yuan * 100; }

const std::string& WorkerId() {
  static const std::string* id = new std::string(TestIdNumber("360102", "19700101", 11));
  return *id;
}
const std::string& SaverId() {  // employee with a personal-account balance of 5 000
  static const std::string* id = new std::string(TestIdNumber("360102", "19750505", 21));
  return *id;
}
const std::string& ResidentId() {
  static const std::string* id = new std::string(TestIdNumber("360103", "19600303", 32));
  return *id;
}
// A resident child who may use SaverId's account (门诊共济), and is a 低保边缘 person.
const std::string& RelativeId() {
  static const std::string* id = new std::string(TestIdNumber("360102", "20100707", 42));
  return *id;
}
// An employee certified for I10 in the persons file (seeded as an eligibility record).
const std::string& ChronicId() {
  static const std::string* id = new std::string(TestIdNumber("360102", "19580808", 51));
  return *id;
}

// A bill as the treatment region classified it.
struct Bill {
  int64_t in_scope = 0;
  int64_t class_b = 0;
  int64_t over_cap = 0;
  int64_t self_pay = 0;
};
// Bill A: 12 000 = in scope 10 000, class B 800, over cap 200, self-pay 1 000.
constexpr Bill kBillA = {Yuan(10000), Yuan(800), Yuan(200), Yuan(1000)};

class InsuredSettlementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/yidi-insured-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    yidi::v1::Directory directory;
    ASSERT_TRUE(
        LoadTextProtoFile(std::string(YIDI_SOURCE_DIR) + "/deploy/demo/directory.textproto",
                          &directory)
            .ok());
    yidi::v1::NodeConfig config;
    config.set_name("test municipal 360100");
    config.set_kind(yidi::v1::NODE_KIND_MUNICIPAL);
    config.set_region_code(kRegion);
    config.set_database_url("sqlite://insured.db");
    config.mutable_security()->set_allow_plaintext(true);  // no TLS in a unit test
    auto context = MakeNodeContext(config, directory, dir_, dir_, &clock_, MunicipalMigrations());
    ASSERT_TRUE(context.ok()) << context.status();
    context_ = std::move(*context);
    ASSERT_TRUE(policies_.Add(ParsePolicy(kEmployeePolicyText, kRegion), kRegion).ok());
    ASSERT_TRUE(policies_.Add(ParsePolicy(kResidentPolicyText, kRegion), kRegion).ok());
    yidi::v1::PersonRegistry registry;
    AddPerson(&registry, WorkerId(), yidi::v1::INSURANCE_TYPE_EMPLOYEE,
              yidi::v1::PERSON_TYPE_EMPLOYEE_WORKING, 0);
    AddPerson(&registry, SaverId(), yidi::v1::INSURANCE_TYPE_EMPLOYEE,
              yidi::v1::PERSON_TYPE_EMPLOYEE_WORKING, Yuan(5000));
    AddPerson(&registry, ResidentId(), yidi::v1::INSURANCE_TYPE_RESIDENT,
              yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY, 0);
    auto* relative = AddPerson(&registry, RelativeId(), yidi::v1::INSURANCE_TYPE_RESIDENT,
                               yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY, 0);
    relative->set_family_account_owner_id_number(SaverId());
    relative->set_assistance_category(yidi::v1::ASSISTANCE_CATEGORY_LOW_INCOME_MARGINAL);
    AddPerson(&registry, ChronicId(), yidi::v1::INSURANCE_TYPE_EMPLOYEE,
              yidi::v1::PERSON_TYPE_EMPLOYEE_RETIRED, 0)
        ->add_chronic_disease_codes("I10");
    ASSERT_TRUE(SeedRegistry(*context_->store, registry, kRegion, clock_.Now()).ok());
    insured_ = std::make_unique<InsuredSettlement>(context_.get(), &policies_);
  }

  void TearDown() override {
    insured_.reset();
    context_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  static yidi::v1::PersonRecord* AddPerson(yidi::v1::PersonRegistry* registry,
                                           const std::string& id,
                                           yidi::v1::InsuranceType type,
                                           yidi::v1::PersonType person_type,
                                           int64_t balance_fen) {
    auto* person = registry->add_persons();
    person->set_id_number(id);
    person->set_name("测试");
    person->set_sex(yidi::v1::SEX_MALE);
    person->set_birth_date(absl::StrCat(id.substr(6, 4), "-", id.substr(10, 2), "-",
                                        id.substr(12, 2)));
    person->set_insurance_type(type);
    person->set_person_type(person_type);
    person->set_status(yidi::v1::INSURED_STATUS_ACTIVE);
    person->set_personal_account_balance_fen(balance_fen);
    return person;
  }

  static yidi::v1::SettleRequest Request(const std::string& settlement_id,
                                         const std::string& id_number,
                                         yidi::v1::InsuranceType type, const Bill& bill,
                                         const std::string& admission,
                                         const std::string& discharge,
                                         const std::string& treatment_region = kRegion) {
    yidi::v1::SettleRequest request;
    request.set_settlement_id(settlement_id);
    request.set_insured_region(kRegion);
    request.set_treatment_region(treatment_region);
    request.set_id_number(id_number);
    request.set_insurance_type(type);
    auto* visit = request.mutable_visit();
    visit->set_medical_type(yidi::v1::MEDICAL_TYPE_INPATIENT);
    visit->set_institution_code(kInstitution);
    visit->set_admission_number(settlement_id);
    visit->set_admission_date(admission);
    visit->set_discharge_date(discharge);
    auto* split = request.mutable_classified_bill()->mutable_split();
    split->set_in_scope_fen(bill.in_scope);
    split->set_class_b_copay_fen(bill.class_b);
    split->set_over_cap_fen(bill.over_cap);
    split->set_self_pay_fen(bill.self_pay);
    split->set_total_fen(bill.in_scope + bill.class_b + bill.over_cap + bill.self_pay);
    request.mutable_classified_bill()->set_hospital_level(yidi::v1::HOSPITAL_LEVEL_3);
    request.set_declared_total_fen(split->total_fen());
    return request;
  }

  yidi::v1::SettlementResult Settle(const yidi::v1::SettleRequest& request) {
    auto response = insured_->Settle(request, /*commit=*/true);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return {};
    EXPECT_TRUE(CheckSlipIdentities(response->result()).ok());
    return response->result();
  }

  yidi::v1::SettlementResult Reverse(const std::string& reversal_id,
                                     const std::string& original_id) {
    yidi::v1::ReverseRequest request;
    request.set_settlement_id(reversal_id);
    request.set_original_settlement_id(original_id);
    request.set_insured_region(kRegion);
    request.set_treatment_region(kRegion);
    request.set_institution_code(kInstitution);
    auto response = insured_->Reverse(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->result() : yidi::v1::SettlementResult();
  }

  AccumulatorValues Accumulators(const std::string& id_number, yidi::v1::InsuranceType type,
                                 int year) {
    auto tx = context_->store->Begin(TransactionMode::kRead);
    EXPECT_TRUE(tx.ok());
    auto values = LoadAccumulators(**tx, id_number, type, year);
    EXPECT_TRUE(values.ok());
    AccumulatorValues nonzero;  // a restored accumulator reads 0; compare what is non-zero
    for (const auto& [name, amount] : *values) {
      if (amount != 0) nonzero[name] = amount;
    }
    return nonzero;
  }

  int64_t Balance(const std::string& id_number) {
    auto tx = context_->store->Begin(TransactionMode::kRead);
    EXPECT_TRUE(tx.ok());
    auto person = FindPerson(**tx, id_number);
    EXPECT_TRUE(person.ok() && person->has_value());
    return (*person)->personal_account_balance_fen();
  }

  yidi::v1::SettlementState StateOf(const std::string& settlement_id) {
    auto tx = context_->store->Begin(TransactionMode::kRead);
    EXPECT_TRUE(tx.ok());
    auto record = FindSettlementRecord(**tx, settlement_id);
    EXPECT_TRUE(record.ok() && record->has_value());
    return (*record)->state;
  }

  std::string dir_;
  FakeClock clock_{absl::FromCivil(absl::CivilSecond(2026, 11, 23, 10, 0, 0), ChinaStandardTime())};
  std::unique_ptr<NodeContext> context_;
  PolicySet policies_;
  std::unique_ptr<InsuredSettlement> insured_;
};

const auto kEmployee = yidi::v1::INSURANCE_TYPE_EMPLOYEE;

TEST_F(InsuredSettlementTest, ReversalOutOfOrderRestoresOnlyWhatItAdded) {
  // Three level-3 admissions in 2026 with bill A:
  //   S1 first admission: deductible 1 000, pooled (10 000 − 1 000) × 80% = 7 200
  //   S2 later admission: deductible 500, pooled 9 500 × 80% = 7 600
  //   S3 later admission: deductible 500, pooled 7 600
  const auto s1 = Settle(Request("S1", WorkerId(), kEmployee, kBillA, "2026-03-01", "2026-03-10"));
  const auto s2 = Settle(Request("S2", WorkerId(), kEmployee, kBillA, "2026-05-01", "2026-05-10"));
  const auto s3 = Settle(Request("S3", WorkerId(), kEmployee, kBillA, "2026-07-01", "2026-07-10"));
  EXPECT_EQ(s1.pooled_fund_fen(), Yuan(7200));
  EXPECT_EQ(s2.pooled_fund_fen(), Yuan(7600));
  EXPECT_EQ(s3.deductible_applied_fen(), Yuan(500));
  // 2026: 3 admissions; deductible 1 000 + 500 + 500 = 2 000; pooled 7 200 + 7 600 + 7 600 =
  // 22 400 on a base of 9 000 + 9 500 + 9 500 = 28 000; in-scope burden 2 800 + 2 400 + 2 400.
  EXPECT_EQ(Accumulators(WorkerId(), kEmployee, 2026),
            (AccumulatorValues{{"admissions:inpatient", 3},
                               {"base_fen:pooled_inpatient", Yuan(28000)},
                               {"deductible_fen:inpatient", Yuan(2000)},
                               {"in_scope_personal_burden_fen", Yuan(7600)},
                               {"paid_fen:pooled_inpatient", Yuan(22400)}}));

  // Refund S1 although S2 and S3 came later (隔笔退费): only S1's own changes go. What is left
  // is exactly S2 + S3: 2 admissions, deductible 1 000, pooled 15 200 on 19 000, burden 4 800.
  const auto r1 = Reverse("R1", "S1");
  EXPECT_EQ(r1.pooled_fund_fen(), -Yuan(7200));
  EXPECT_EQ(Accumulators(WorkerId(), kEmployee, 2026),
            (AccumulatorValues{{"admissions:inpatient", 2},
                               {"base_fen:pooled_inpatient", Yuan(19000)},
                               {"deductible_fen:inpatient", Yuan(1000)},
                               {"in_scope_personal_burden_fen", Yuan(4800)},
                               {"paid_fen:pooled_inpatient", Yuan(15200)}}));
  // Settled benefits stay as they were (Yunnan 第37条): S2 and S3 are untouched.
  EXPECT_EQ(StateOf("S1"), yidi::v1::SETTLEMENT_STATE_REVERSED);
  EXPECT_EQ(StateOf("S2"), yidi::v1::SETTLEMENT_STATE_SETTLED);
  EXPECT_EQ(StateOf("S3"), yidi::v1::SETTLEMENT_STATE_SETTLED);
  // Later costs are computed on what is left: S4 is the third admission counted, so the later
  // deductible 500 and 7 600 again.
  const auto s4 = Settle(Request("S4", WorkerId(), kEmployee, kBillA, "2026-09-01", "2026-09-10"));
  EXPECT_EQ(s4.deductible_applied_fen(), Yuan(500));
  EXPECT_EQ(s4.pooled_fund_fen(), Yuan(7600));
}

TEST_F(InsuredSettlementTest, ReversalAcrossTheYearEndRestoresBothYears) {
  // S5: admitted 2026-12-27, discharged 2027-01-06; the employee policy splits by days (5 + 5
  // nights). 2026: deductible 1 000, pooled (5 000 − 1 000) × 80% = 3 200; 2027: pooled
  // 5 000 × 80% = 4 000. S6 in 2027 is that year's first admission (S5 counted in 2026):
  // deductible 1 000, pooled 7 200.
  const auto s5 = Settle(Request("S5", WorkerId(), kEmployee, kBillA, "2026-12-27", "2027-01-06"));
  EXPECT_EQ(s5.pooled_fund_fen(), Yuan(7200));
  EXPECT_EQ(Accumulators(WorkerId(), kEmployee, 2026)["paid_fen:pooled_inpatient"], Yuan(3200));
  const auto s6 = Settle(Request("S6", WorkerId(), kEmployee, kBillA, "2027-02-01", "2027-02-10"));
  EXPECT_EQ(s6.deductible_applied_fen(), Yuan(1000));
  EXPECT_EQ(s6.pooled_fund_fen(), Yuan(7200));
  EXPECT_EQ(Accumulators(WorkerId(), kEmployee, 2027)["paid_fen:pooled_inpatient"], Yuan(11200));

  // Refund S5 in March 2027 (跨年退费): 2026 goes back to nothing; 2027 keeps only S6.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2027, 3, 1, 9, 0, 0), ChinaStandardTime()));
  Reverse("R5", "S5");
  EXPECT_TRUE(Accumulators(WorkerId(), kEmployee, 2026).empty());
  EXPECT_EQ(Accumulators(WorkerId(), kEmployee, 2027),
            (AccumulatorValues{{"admissions:inpatient", 1},
                               {"base_fen:pooled_inpatient", Yuan(9000)},
                               {"deductible_fen:inpatient", Yuan(1000)},
                               {"in_scope_personal_burden_fen", Yuan(2800)},
                               {"paid_fen:pooled_inpatient", Yuan(7200)}}));
}

TEST_F(InsuredSettlementTest, PersonalAccountIsDebitedAndRestoredByReverseAndCorrect) {
  // Balance 5 000, consent: the account pays in scope 2 800 + class B 800 + self-pay 1 000 =
  // 4 600; 400 remain. Reverse gives the 4 600 back.
  auto request = Request("P1", SaverId(), kEmployee, kBillA, "2026-04-01", "2026-04-05");
  request.set_personal_account_consent(true);
  const auto p1 = Settle(request);
  EXPECT_EQ(p1.personal_account_fen(), Yuan(4600));
  EXPECT_EQ(p1.cash_fen(), Yuan(200));
  EXPECT_EQ(Balance(SaverId()), Yuan(400));
  EXPECT_EQ(Accumulators(SaverId(), kEmployee, 2026)["personal_account_fen"], Yuan(4600));
  Reverse("RP1", "P1");
  EXPECT_EQ(Balance(SaverId()), Yuan(5000));
  EXPECT_EQ(Accumulators(SaverId(), kEmployee, 2026)["personal_account_fen"], 0);

  // A PreSettle computes the same and debits nothing.
  request.set_settlement_id("P2");
  auto estimate = insured_->Settle(request, /*commit=*/false);
  ASSERT_TRUE(estimate.ok()) << estimate.status();
  EXPECT_EQ(estimate->result().personal_account_fen(), Yuan(4600));
  EXPECT_EQ(Balance(SaverId()), Yuan(5000));

  // Settled again under a new id, then voided by Correct: the balance comes back too.
  Settle(request);
  EXPECT_EQ(Balance(SaverId()), Yuan(400));
  yidi::v1::CorrectRequest correct;
  correct.set_settlement_id("P2");
  correct.set_insured_region(kRegion);
  correct.set_treatment_region(kRegion);
  correct.set_institution_code(kInstitution);
  auto corrected = insured_->Correct(correct);
  ASSERT_TRUE(corrected.ok()) << corrected.status();
  EXPECT_TRUE(corrected->was_committed());
  EXPECT_EQ(Balance(SaverId()), Yuan(5000));
  EXPECT_TRUE(Accumulators(SaverId(), kEmployee, 2026).empty());
}

TEST_F(InsuredSettlementTest, ConcurrentSettlementsOfOnePersonLoseNoUpdate) {
  // 8 bills of one person at once, each in scope 1 000 + 100·i, level 3. Whatever the order,
  // one is the first admission (deductible 1 000) and seven are later ones (500); the
  // accumulators and the account end at the exact sums of what the results say.
  constexpr int kSenders = 8;
  std::vector<yidi::v1::SettlementResult> results(kSenders);
  std::latch start(kSenders);
  std::vector<std::thread> threads;
  for (int i = 0; i < kSenders; ++i) {
    threads.emplace_back([&, i] {
      auto request = Request(absl::StrCat("C", i), SaverId(), kEmployee,
                             Bill{Yuan(1000 + 100 * i), Yuan(100), 0, 0}, "2026-06-01",
                             "2026-06-03");
      request.set_personal_account_consent(true);
      start.arrive_and_wait();
      auto response = insured_->Settle(request, /*commit=*/true);
      ASSERT_TRUE(response.ok()) << response.status();
      results[i] = response->result();
    });
  }
  for (auto& thread : threads) thread.join();
  int64_t pooled = 0;
  int64_t account = 0;
  int64_t deductible = 0;
  int first_admissions = 0;
  for (const auto& result : results) {
    pooled += result.pooled_fund_fen();
    account += result.personal_account_fen();
    deductible += result.deductible_applied_fen();
    first_admissions += result.deductible_applied_fen() == Yuan(1000) ? 1 : 0;
  }
  EXPECT_EQ(first_admissions, 1);
  const AccumulatorValues values = Accumulators(SaverId(), kEmployee, 2026);
  EXPECT_EQ(values.at("admissions:inpatient"), kSenders);
  EXPECT_EQ(values.at("paid_fen:pooled_inpatient"), pooled);
  EXPECT_EQ(values.at("deductible_fen:inpatient"), deductible);
  EXPECT_EQ(values.at("personal_account_fen"), account);
  EXPECT_EQ(Balance(SaverId()), Yuan(5000) - account);
  EXPECT_GE(Balance(SaverId()), 0);
}

TEST_F(InsuredSettlementTest, UnfiledDirectSettlementWhereThePolicyAllowsIt) {
  // Treated in Shenyang (210100, another province), no filing, not an emergency. The employee
  // policy settles it with the unfiled reduction: 80% − 35 points = 45% < floor 50%: 50%:
  // (10 000 − 1 000) × 50% = 4 500; cash 12 000 − 4 500 = 7 500.
  const auto s = Settle(Request("U1", WorkerId(), kEmployee, kBillA, "2026-04-01", "2026-04-05",
                                "210100"));
  EXPECT_EQ(s.pooled_fund_fen(), Yuan(4500));
  EXPECT_EQ(s.cash_fen(), Yuan(7500));
  EXPECT_FALSE(s.deemed_filed());
  // The resident policy does not allow it: refused, as before.
  auto refused = insured_->Settle(Request("U2", ResidentId(), yidi::v1::INSURANCE_TYPE_RESIDENT,
                                          kBillA, "2026-04-01", "2026-04-05", "210100"),
                                  /*commit=*/true);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("not filed"));
}

TEST_F(InsuredSettlementTest, SeededSettlementsAndReversalsThroughTheStoreRestoreEverything) {
  // Random bills of the three persons (inpatient, some across the year end, and outpatient),
  // each settled through the store; a random third reversed at once, out of order; then every
  // settlement still standing reversed in a random order. Afterwards every accumulator row is
  // zero and every account balance is where it started. The seed is printed.
  uint64_t seed = std::random_device{}();
  if (const char* env = std::getenv("YIDI_PROPERTY_SEED")) seed = std::strtoull(env, nullptr, 10);
  std::cout << "store round trip: seed " << seed << " (YIDI_PROPERTY_SEED replays)" << std::endl;
  std::mt19937_64 rng(seed);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const std::pair<std::string, yidi::v1::InsuranceType> persons[] = {
      {WorkerId(), kEmployee}, {SaverId(), kEmployee},
      {ResidentId(), yidi::v1::INSURANCE_TYPE_RESIDENT}};
  const int64_t saver_balance = Balance(SaverId());
  std::vector<std::string> standing;
  for (int i = 0; i < 200; ++i) {
    SCOPED_TRACE(absl::StrCat("seed ", seed, ", settlement ", i));
    const auto& [id_number, type] = persons[uniform(0, 2)];
    const absl::CivilDay admission = absl::CivilDay(2026, 1, 1) + uniform(0, 420);
    const absl::CivilDay discharge = admission + uniform(0, 20);
    Bill bill{uniform(0, Yuan(80000)), uniform(0, Yuan(3000)), uniform(0, Yuan(500)),
              uniform(0, Yuan(2000))};
    if (bill.in_scope + bill.class_b + bill.over_cap + bill.self_pay == 0) bill.self_pay = 1;
    auto request = Request(absl::StrCat("R-", i), id_number, type, bill,
                           FormatDate(admission), FormatDate(discharge));
    if (uniform(0, 3) == 0) {
      request.mutable_visit()->set_medical_type(yidi::v1::MEDICAL_TYPE_OUTPATIENT);
      request.mutable_visit()->set_discharge_date(FormatDate(admission));
    }
    request.set_personal_account_consent(uniform(0, 1) == 1);
    Settle(request);
    standing.push_back(request.settlement_id());
    if (uniform(0, 2) == 0) {  // an out-of-order refund of any standing settlement
      const size_t pick =
          static_cast<size_t>(uniform(0, static_cast<int64_t>(standing.size()) - 1));
      Reverse(absl::StrCat("X-", standing[pick]), standing[pick]);
      standing.erase(standing.begin() + static_cast<std::ptrdiff_t>(pick));
    }
  }
  std::shuffle(standing.begin(), standing.end(), rng);
  for (const std::string& id : standing) Reverse(absl::StrCat("X-", id), id);
  auto tx = context_->store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(tx.ok());
  auto rows =
      (*tx)->Query("SELECT id_number, year, name, amount FROM accumulator WHERE amount <> 0");
  ASSERT_TRUE(rows.ok()) << rows.status();
  for (const Row& row : *rows) {
    ADD_FAILURE() << row.Text(2) << " of " << row.Int(1) << " left at " << row.Int(3);
  }
  tx->reset();
  EXPECT_EQ(Balance(SaverId()), saver_balance);
}

TEST(UnfiledEligibilityTest, TheSwitchTurnsARefusalIntoAReducedSettlement) {
  yidi::v1::PersonRecord person;
  person.set_status(yidi::v1::INSURED_STATUS_ACTIVE);
  person.set_insurance_type(yidi::v1::INSURANCE_TYPE_EMPLOYEE);
  EligibilityInput input;
  input.insured_region = "530100";
  input.treatment_region = "210100";
  input.insurance_type = yidi::v1::INSURANCE_TYPE_EMPLOYEE;
  input.admission_date = absl::CivilDay(2026, 4, 1);
  input.discharge_date = absl::CivilDay(2026, 4, 5);
  EXPECT_EQ(DecideEligibility(input, person, {}).status.code(),
            absl::StatusCode::kFailedPrecondition);
  input.unfiled_direct_settlement = true;
  const Eligibility allowed = DecideEligibility(input, person, {});
  EXPECT_TRUE(allowed.status.ok());
  EXPECT_EQ(allowed.remote_care, RemoteCare::kUnfiled);
  // An emergency stays deemed filed (the smaller reduction) even where unfiled is allowed.
  input.emergency = true;
  const Eligibility emergency = DecideEligibility(input, person, {});
  EXPECT_TRUE(emergency.deemed_filed);
  EXPECT_EQ(emergency.remote_care, RemoteCare::kReferredOrEmergency);
}

// ---------------------------------------------------------------------------------------------
// 门诊共济, referral episodes, chronic eligibility records, GetInsuredPerson.

// Bill O: outpatient 800 = in scope 700, class B 50, self-pay 50.
constexpr Bill kBillO = {Yuan(700), Yuan(50), 0, Yuan(50)};
const auto kResident = yidi::v1::INSURANCE_TYPE_RESIDENT;

yidi::v1::SettleRequest Outpatient(yidi::v1::SettleRequest request,
                                   yidi::v1::MedicalType type = yidi::v1::MEDICAL_TYPE_OUTPATIENT) {
  request.mutable_visit()->set_medical_type(type);
  request.mutable_visit()->set_discharge_date(request.visit().admission_date());
  return request;
}

TEST_F(InsuredSettlementTest, FamilyAccountDebitsTheOwnerAndReversalAndCorrectRestoreIt) {
  // The resident child RelativeId may use SaverId's account (balance 5 000). Outpatient O at
  // level 3 with consent: deductible 200, pooled (700 − 200) × 50% = 250; the relative's
  // account pays the in-scope burden 450; cash 100. The owner's balance goes to 4 550; the
  // patient's accumulators record 450 under family_account_fen.
  auto request = Outpatient(Request("F1", RelativeId(), kResident, kBillO, "2026-04-01", ""));
  request.set_personal_account_consent(true);
  const auto f1 = Settle(request);
  EXPECT_EQ(f1.pooled_fund_fen(), Yuan(250));
  EXPECT_EQ(f1.personal_account_fen(), Yuan(450));
  EXPECT_EQ(f1.cash_fen(), Yuan(100));
  EXPECT_EQ(Balance(SaverId()), Yuan(4550));
  EXPECT_EQ(Balance(RelativeId()), 0);
  EXPECT_EQ(Accumulators(RelativeId(), kResident, 2026)[kAccFamilyAccountFen], Yuan(450));
  EXPECT_TRUE(Accumulators(SaverId(), kEmployee, 2026).empty());  // not the owner's benefits
  // The reversal gives the owner back exactly 450 and nothing to the patient's own account.
  const auto r = Reverse("RF1", "F1");
  EXPECT_EQ(r.personal_account_fen(), -Yuan(450));
  EXPECT_EQ(Balance(SaverId()), Yuan(5000));
  EXPECT_EQ(Balance(RelativeId()), 0);
  EXPECT_TRUE(Accumulators(RelativeId(), kResident, 2026).empty());

  // Without consent the owner's account is not touched: cash 550.
  request.set_settlement_id("F2");
  request.set_personal_account_consent(false);
  EXPECT_EQ(Settle(request).cash_fen(), Yuan(550));
  EXPECT_EQ(Balance(SaverId()), Yuan(5000));

  // Settled with consent, then voided by Correct: restored too.
  request.set_settlement_id("F3");
  request.set_personal_account_consent(true);
  request.mutable_visit()->set_admission_date("2026-04-02");
  request.mutable_visit()->set_discharge_date("2026-04-02");
  // The year's deductible (200) was met by F2: pooled 700 × 50% = 350; family 350; cash 100.
  const auto f3 = Settle(request);
  EXPECT_EQ(f3.pooled_fund_fen(), Yuan(350));
  EXPECT_EQ(f3.personal_account_fen(), Yuan(350));
  EXPECT_EQ(Balance(SaverId()), Yuan(4650));
  yidi::v1::CorrectRequest correct;
  correct.set_settlement_id("F3");
  correct.set_insured_region(kRegion);
  correct.set_treatment_region(kRegion);
  correct.set_institution_code(kInstitution);
  ASSERT_TRUE(insured_->Correct(correct).ok());
  EXPECT_EQ(Balance(SaverId()), Yuan(5000));
}

TEST_F(InsuredSettlementTest, FamilyAccountWithinTheOwnersBalanceWhileTheOwnerSpendsToo) {
  // The owner spends 4 600 of 5 000 on their own stay (as PersonalAccountIsDebited…): 400 left.
  // The relative's outpatient O then takes 400 (of a 450 burden); cash 150.
  auto own = Request("O1", SaverId(), kEmployee, kBillA, "2026-04-01", "2026-04-05");
  own.set_personal_account_consent(true);
  Settle(own);
  EXPECT_EQ(Balance(SaverId()), Yuan(400));
  auto request = Outpatient(Request("F4", RelativeId(), kResident, kBillO, "2026-04-06", ""));
  request.set_personal_account_consent(true);
  const auto f4 = Settle(request);
  EXPECT_EQ(f4.personal_account_fen(), Yuan(400));
  EXPECT_EQ(f4.cash_fen(), Yuan(150));
  EXPECT_EQ(Balance(SaverId()), 0);
  // Reversing the owner's own stay restores only the owner's 4 600.
  Reverse("RO1", "O1");
  EXPECT_EQ(Balance(SaverId()), Yuan(4600));
  Reverse("RF4", "F4");
  EXPECT_EQ(Balance(SaverId()), Yuan(5000));
}

TEST_F(InsuredSettlementTest, ReferralEpisodeCarriesTheDeductibleAcrossStays) {
  // The employee policy counts an episode's deductibles (REFERRAL_DEDUCTIBLE_CONTINUOUS).
  //   E1 level 1, first admission: deductible 200; pooled 9 800 × 90% = 8 820.
  //   E2 referred up from E1 to level 3, second admission (later rule 500): 500 − 200 = 300;
  //      pooled 9 700 × 80% = 7 760.
  //   E3 referred down from E2 to level 1 (later rule 100): 100 − 500 < 0 → 0; pooled 9 000.
  auto e1 = Request("E1", WorkerId(), kEmployee, kBillA, "2026-03-01", "2026-03-10");
  e1.mutable_classified_bill()->set_hospital_level(yidi::v1::HOSPITAL_LEVEL_1);
  EXPECT_EQ(Settle(e1).deductible_applied_fen(), Yuan(200));
  auto e2 = Request("E2", WorkerId(), kEmployee, kBillA, "2026-03-10", "2026-03-20");
  e2.mutable_visit()->set_referral(true);
  e2.mutable_visit()->set_referral_from_settlement_id("E1");
  const auto s2 = Settle(e2);
  EXPECT_EQ(s2.deductible_applied_fen(), Yuan(300));
  EXPECT_EQ(s2.pooled_fund_fen(), Yuan(7760));
  auto e3 = Request("E3", WorkerId(), kEmployee, kBillA, "2026-03-21", "2026-03-30");
  e3.mutable_classified_bill()->set_hospital_level(yidi::v1::HOSPITAL_LEVEL_1);
  e3.mutable_visit()->set_referral_from_settlement_id("E2");
  const auto s3 = Settle(e3);
  EXPECT_EQ(s3.deductible_applied_fen(), 0);
  EXPECT_EQ(s3.pooled_fund_fen(), Yuan(9000));
  // E2 refunded: its 300 leaves the episode. E4 referred from E3 to level 3 is the third
  // admission counted (E1, E3): 500 − (200 + 0) = 300 (with E2 still in: 0).
  Reverse("RE2", "E2");
  auto e4 = Request("E4", WorkerId(), kEmployee, kBillA, "2026-04-01", "2026-04-10");
  e4.mutable_visit()->set_referral_from_settlement_id("E3");
  EXPECT_EQ(Settle(e4).deductible_applied_fen(), Yuan(300));
  // The same request again is a replay, not a second episode entry.
  EXPECT_TRUE(insured_->Settle(e4, true)->replayed());
}

TEST_F(InsuredSettlementTest, ReferralFromAnUnusableSettlementIsRefusedAndNothingStored) {
  Settle(Request("E1", WorkerId(), kEmployee, kBillA, "2026-03-01", "2026-03-10"));
  Settle(Request("X1", SaverId(), kEmployee, kBillA, "2026-03-01", "2026-03-10"));
  struct Case {
    const char* from;
    const char* admission;
    const char* expect;
  };
  for (const Case& c : {Case{"NOPE", "2026-03-11", "not a settlement of this insured region"},
                        Case{"X1", "2026-03-11", "another person"},
                        Case{"E1", "2026-03-05", "discharged after this admission"}}) {
    SCOPED_TRACE(c.from);
    auto request = Request("E9", WorkerId(), kEmployee, kBillA, c.admission, "2026-03-20");
    request.mutable_visit()->set_referral_from_settlement_id(c.from);
    auto refused = insured_->Settle(request, true);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(refused.status().message(), HasSubstr("visit.referral_from_settlement_id"));
    EXPECT_THAT(refused.status().message(), HasSubstr(c.expect));
  }
  auto outpatient = Outpatient(Request("E9", WorkerId(), kEmployee, kBillO, "2026-03-11", ""));
  outpatient.mutable_visit()->set_referral_from_settlement_id("E1");
  EXPECT_THAT(insured_->Settle(outpatient, true).status().message(),
              HasSubstr("not an inpatient stay"));
  Reverse("RE1", "E1");
  auto after_refund = Request("E9", WorkerId(), kEmployee, kBillA, "2026-03-11", "2026-03-20");
  after_refund.mutable_visit()->set_referral_from_settlement_id("E1");
  EXPECT_THAT(insured_->Settle(after_refund, true).status().message(),
              HasSubstr("not a settled, unreversed stay"));
  // Nothing stored under E9: the accumulators hold nothing of it (E1 reversed: empty).
  EXPECT_TRUE(Accumulators(WorkerId(), kEmployee, 2026).empty());
}

TEST_F(InsuredSettlementTest, ChronicEligibilityComesFromTheRecordsInForce) {
  // ChronicId's persons-file I10 became an eligibility record at seeding. I10 at level 3 for a
  // retiree: no deductible, 80%: 700 × 80% = 560; cash 240.
  auto i10 = Outpatient(Request("C1", ChronicId(), kEmployee, kBillO, "2026-06-15", ""),
                        yidi::v1::MEDICAL_TYPE_CHRONIC_OUTPATIENT);
  i10.mutable_visit()->set_chronic_disease_code("I10");
  EXPECT_EQ(Settle(i10).pooled_fund_fen(), Yuan(560));
  // E11.9 recorded for 2026-01-01…06-30 only, and not on the person record: it settles on
  // 06-15 ((700 − 100) × 70% = 420; cash 380) and is refused on 07-01. A record revoked from
  // 06-01 covers 05-31 and not 06-01.
  {
    auto tx = context_->store->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    yidi::v1::ChronicDiseaseEligibility e11;
    e11.set_eligibility_id("M360100-20260101-000901");
    e11.set_id_number(ChronicId());
    e11.set_insured_region(kRegion);
    e11.set_disease_code("E11.9");
    e11.set_start_date("2026-01-01");
    e11.set_end_date("2026-06-30");
    e11.set_version(1);
    ASSERT_TRUE(InsertChronicDisease(**tx, e11).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  auto e11 = Outpatient(Request("C2", ChronicId(), kEmployee, kBillO, "2026-06-15", ""),
                        yidi::v1::MEDICAL_TYPE_CHRONIC_OUTPATIENT);
  e11.mutable_visit()->set_chronic_disease_code("E11.9");
  const auto c2 = Settle(e11);
  EXPECT_EQ(c2.pooled_fund_fen(), Yuan(420));
  EXPECT_EQ(c2.cash_fen(), Yuan(380));
  e11.set_settlement_id("C3");
  e11.mutable_visit()->set_admission_date("2026-07-01");
  e11.mutable_visit()->set_discharge_date("2026-07-01");
  auto refused = insured_->Settle(e11, true);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("E11.9 is not on the person's record"));

  yidi::v1::ChronicDiseaseEligibility revoked;
  revoked.set_start_date("2026-01-01");
  revoked.set_revoked(true);
  revoked.set_revoked_on("2026-06-01");
  EXPECT_TRUE(ChronicDiseaseInForce(revoked, absl::CivilDay(2026, 5, 31)));
  EXPECT_FALSE(ChronicDiseaseInForce(revoked, absl::CivilDay(2026, 6, 1)));
  EXPECT_FALSE(ChronicDiseaseInForce(revoked, absl::CivilDay(2025, 12, 31)));
}

TEST_F(InsuredSettlementTest, GetInsuredPersonReturnsWhatThePolicyReads) {
  yidi::v1::GetInsuredPersonRequest request;
  request.set_id_number(RelativeId());
  request.set_insured_region(kRegion);
  request.set_date("2026-06-01");
  auto answer = insured_->GetInsuredPerson(request);
  ASSERT_TRUE(answer.ok()) << answer.status();
  const auto& person = answer->person();
  EXPECT_EQ(person.assistance_category(), yidi::v1::ASSISTANCE_CATEGORY_LOW_INCOME_MARGINAL);
  EXPECT_EQ(person.family_account_owner_id_number(), SaverId());
  EXPECT_EQ(person.family_account_balance_fen(), Yuan(5000));
  EXPECT_EQ(person.personal_account_balance_fen(), 0);
  EXPECT_FALSE(person.civil_servant_subsidy());

  request.set_id_number(ChronicId());
  answer = insured_->GetInsuredPerson(request);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_THAT(answer->person().chronic_disease_codes(), ::testing::ElementsAre("I10"));
  EXPECT_EQ(answer->person().person_type(), yidi::v1::PERSON_TYPE_EMPLOYEE_RETIRED);
  request.set_id_number(SaverId());
  answer = insured_->GetInsuredPerson(request);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->person().personal_account_balance_fen(), Yuan(5000));
  EXPECT_TRUE(answer->person().family_account_owner_id_number().empty());
}

TEST(FamilyAccountSeedTest, AnOwnerMustBeAnotherEmployeeOfTheRegion) {
  char pattern[] = "/tmp/yidi-family-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  auto store = OpenStore(absl::StrCat("sqlite://", pattern, "/f.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Migrate(CommonMigrations()).ok());
  ASSERT_TRUE((*store)->Migrate(MunicipalMigrations()).ok());
  yidi::v1::PersonRegistry registry;
  auto* resident = registry.add_persons();
  resident->set_id_number(ResidentId());
  resident->set_birth_date("1960-03-03");
  resident->set_insurance_type(yidi::v1::INSURANCE_TYPE_RESIDENT);
  resident->set_status(yidi::v1::INSURED_STATUS_ACTIVE);
  auto* user = registry.add_persons();
  *user = *resident;
  user->set_id_number(RelativeId());
  user->set_family_account_owner_id_number(ResidentId());  // a resident has no account
  const absl::Status seeded = SeedRegistry(**store, registry, kRegion, absl::Now());
  EXPECT_EQ(seeded.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(seeded.message(), HasSubstr("persons[1].family_account_owner_id_number"));
  std::error_code ignored;
  std::filesystem::remove_all(pattern, ignored);
}

}  // namespace
}  // namespace yidi::municipal
