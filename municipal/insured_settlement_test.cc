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
    ASSERT_TRUE(SeedRegistry(*context_->store, registry, kRegion, clock_.Now()).ok());
    insured_ = std::make_unique<InsuredSettlement>(context_.get(), &policies_);
  }

  void TearDown() override {
    insured_.reset();
    context_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  static void AddPerson(yidi::v1::PersonRegistry* registry, const std::string& id,
                        yidi::v1::InsuranceType type, yidi::v1::PersonType person_type,
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

}  // namespace
}  // namespace yidi::municipal
