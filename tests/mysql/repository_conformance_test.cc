// Repository conformance: the node's own tables through the node's own functions, on every
// Store backend (SQLite in memory and on file always; MySQL when a server is configured, see
// common/store/store_test_backends.h; CTest starts a throwaway MariaDB). The same assertions on
// each: the migrations create the schema (and are idempotent), settlement records insert, find,
// update and count, the insured registry seeds and reads, accumulators change, reverse and
// never lose an update under concurrent settlements of one person. It lives in tests/mysql
// because it needs a MySQL server to mean anything beyond the SQLite unit tests.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/config.h"
#include "common/settlement_record.h"
#include "common/settlement_validation.h"
#include "common/store/store.h"
#include "common/store/store_test_backends.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "municipal/accumulators.h"
#include "municipal/insured_registry.h"
#include "yidi/v1/person.pb.h"

namespace yidi {
namespace {

using store_testing::Backend;
using store_testing::TestDatabases;
using yidi::v1::SettlementState;

// Demo person N1 (万国华) of Nanchang and the first filing of deploy/demo/persons_360100.
constexpr char kPersonN1[] = "360102195604120138";
constexpr char kFilingN1[] = "F360100-0001";

// 2026-11-23 10:00 CST, the demo's "today".
absl::Time DemoNow() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 23, 10, 0, 0),
                         absl::FixedTimeZone(8 * 60 * 60));
}

std::vector<Migration> NodeMigrations() {
  std::vector<Migration> all = CommonMigrations();
  for (Migration& migration : municipal::MunicipalMigrations()) all.push_back(migration);
  return all;
}

// A settled result that obeys the slip identities (FindSettlementRecord checks them).
yidi::v1::SettlementResult SettledResult(const std::string& settlement_id) {
  yidi::v1::SettlementResult result;
  result.set_settlement_id(settlement_id);
  result.set_kind(yidi::v1::SETTLEMENT_KIND_NORMAL);
  result.set_state(SettlementState::SETTLEMENT_STATE_SETTLED);
  result.set_id_number(kPersonN1);
  result.set_name("万国华");
  result.set_insured_region("360100");
  result.set_treatment_region("500000");
  result.set_institution_code("H50000000001");
  result.set_total_fen(10000);
  result.set_in_scope_fen(8000);
  result.set_class_b_copay_fen(1000);
  result.set_self_pay_fen(1000);
  result.set_pooled_fund_fen(6000);
  result.set_fund_total_fen(6000);
  result.set_cash_fen(4000);
  result.set_person_part_fen(4000);
  result.set_slip_fund_total_fen(6000);
  auto* payment = result.add_fund_payments();
  payment->set_fund_payment_type(yidi::v1::FUND_PAYMENT_TYPE_EMPLOYEE_POOLED_FUND);
  payment->set_name("职工基本医疗保险统筹基金");
  payment->set_amount_fen(6000);
  result.set_settlement_date("2026-11-23");
  EXPECT_TRUE(CheckSlipIdentities(result).ok());
  return result;
}

SettlementRecord PendingRecord(const std::string& settlement_id) {
  SettlementRecord record;
  record.settlement_id = settlement_id;
  record.kind = yidi::v1::SETTLEMENT_KIND_NORMAL;
  record.request_digest = std::string(64, 'a');
  record.state = SettlementState::SETTLEMENT_STATE_PENDING;
  record.insured_region = "360100";
  record.treatment_region = "500000";
  record.institution_code = "H50000000001";
  record.insurance_type = yidi::v1::INSURANCE_TYPE_EMPLOYEE;
  return record;
}

class RepositoryConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kMysql) {
      auto server = store_testing::MysqlTestServerUrl();
      ASSERT_TRUE(server.ok()) << server.status();
      if (!server->has_value()) GTEST_SKIP() << store_testing::MysqlSkipMessage();
    }
    databases_ = std::make_unique<TestDatabases>(GetParam());
    auto url = databases_->NewDatabaseUrl();
    ASSERT_TRUE(url.ok()) << url.status();
    auto store = OpenStore(*url);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    const absl::Status migrated = store_->Migrate(NodeMigrations());
    ASSERT_TRUE(migrated.ok()) << migrated;
  }

  void TearDown() override { store_.reset(); }  // before its database is dropped

  std::unique_ptr<Transaction> Begin(TransactionMode mode) {
    auto tx = store_->Begin(mode);
    EXPECT_TRUE(tx.ok()) << tx.status();
    return tx.ok() ? std::move(*tx) : nullptr;
  }

  void SeedDemoRegistry() {
    yidi::v1::PersonRegistry registry;
    const absl::Status loaded = LoadTextProtoFile(
        std::string(YIDI_SOURCE_DIR) + "/deploy/demo/persons_360100.textproto", &registry);
    ASSERT_TRUE(loaded.ok()) << loaded;
    ASSERT_GT(registry.persons_size(), 0);
    const absl::Status seeded = municipal::SeedRegistry(*store_, registry, "360100", DemoNow());
    ASSERT_TRUE(seeded.ok()) << seeded;
  }

  int64_t Count(const std::string& sql, const std::vector<SqlValue>& params = {}) {
    auto tx = Begin(TransactionMode::kRead);
    if (tx == nullptr) return -1;
    auto rows = tx->Query(sql, params);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() && !rows->empty() ? (*rows)[0].Int(0) : -1;
  }

  std::unique_ptr<TestDatabases> databases_;
  std::unique_ptr<Store> store_;
};

// Every table and column the node code names exists, on each backend, and migrating again is a
// no-op.
TEST_P(RepositoryConformanceTest, MigrationsCreateTheNodeSchemaOnce) {
  const char* const kSelects[] = {
      "SELECT settlement_id, kind, original_settlement_id, request_digest, state, "
      "insured_region, treatment_region, institution_code, insurance_type, total_fen, "
      "fund_total_fen, personal_account_fen, cash_fen, settlement_date, result, created_at, "
      "updated_at FROM settlement_record",
      "SELECT id_number, name, sex, birth_date, insurance_type, person_type, status, "
      "personal_account_balance_fen, chronic_disease_codes, updated_at FROM insured_person",
      "SELECT filing_id, id_number, category, treatment_region, start_date, end_date, "
      "cancelled, undertaking, materials_complete, created_at FROM filing",
      "SELECT id_number, insurance_type, year, name, amount FROM accumulator",
      "SELECT settlement_id, id_number, insurance_type, year, name, delta FROM "
      "accumulator_change",
  };
  {
    auto tx = Begin(TransactionMode::kRead);
    ASSERT_NE(tx, nullptr);
    for (const char* select : kSelects) {
      auto rows = tx->Query(select);
      EXPECT_TRUE(rows.ok()) << select << ": " << rows.status();
    }
  }
  const int64_t versions = Count("SELECT COUNT(*) FROM schema_migrations");
  EXPECT_EQ(versions, static_cast<int64_t>(NodeMigrations().size()));
  const absl::Status again = store_->Migrate(NodeMigrations());
  EXPECT_TRUE(again.ok()) << again;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM schema_migrations"), versions);
}

TEST_P(RepositoryConformanceTest, SettlementRecordInsertFindUpdateCount) {
  const std::string id = "H50000000001-20261123-0001";
  {
    auto tx = Begin(TransactionMode::kWrite);
    ASSERT_NE(tx, nullptr);
    ASSERT_TRUE(InsertSettlementRecord(*tx, PendingRecord(id), DemoNow()).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  {
    auto tx = Begin(TransactionMode::kWrite);
    ASSERT_NE(tx, nullptr);
    const absl::Status duplicate = InsertSettlementRecord(*tx, PendingRecord(id), DemoNow());
    EXPECT_EQ(duplicate.code(), absl::StatusCode::kAlreadyExists) << duplicate;
  }
  {
    auto tx = Begin(TransactionMode::kRead);
    ASSERT_NE(tx, nullptr);
    auto found = FindSettlementRecord(*tx, id);
    ASSERT_TRUE(found.ok()) << found.status();
    ASSERT_TRUE(found->has_value());
    const SettlementRecord& record = **found;
    EXPECT_EQ(record.settlement_id, id);
    EXPECT_EQ(record.state, SettlementState::SETTLEMENT_STATE_PENDING);
    EXPECT_EQ(record.request_digest, std::string(64, 'a'));
    EXPECT_EQ(record.insured_region, "360100");
    EXPECT_EQ(record.treatment_region, "500000");
    EXPECT_EQ(record.institution_code, "H50000000001");
    EXPECT_EQ(record.insurance_type, yidi::v1::INSURANCE_TYPE_EMPLOYEE);
    EXPECT_FALSE(record.result.has_value());
    // Ids compare exactly: another case is another id.
    auto lower = FindSettlementRecord(*tx, "h50000000001-20261123-0001");
    ASSERT_TRUE(lower.ok());
    EXPECT_FALSE(lower->has_value());
  }
  const yidi::v1::SettlementResult result = SettledResult(id);
  for (int round = 0; round < 2; ++round) {  // the second update writes identical values
    auto tx = Begin(TransactionMode::kWrite);
    ASSERT_NE(tx, nullptr);
    const absl::Status updated = UpdateSettlementRecord(
        *tx, id, SettlementState::SETTLEMENT_STATE_SETTLED, &result, DemoNow());
    ASSERT_TRUE(updated.ok()) << "round " << round << ": " << updated;
    ASSERT_TRUE(tx->Commit().ok());
  }
  {
    auto tx = Begin(TransactionMode::kWrite);
    ASSERT_NE(tx, nullptr);
    const absl::Status missing = UpdateSettlementRecord(
        *tx, "H50000000001-20261123-9999", SettlementState::SETTLEMENT_STATE_SETTLED, nullptr,
        DemoNow());
    EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
    ASSERT_TRUE(InsertSettlementRecord(*tx, PendingRecord("H50000000001-20261123-0002"),
                                       DemoNow())
                    .ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  {
    auto tx = Begin(TransactionMode::kRead);
    ASSERT_NE(tx, nullptr);
    auto found = FindSettlementRecord(*tx, id);
    ASSERT_TRUE(found.ok() && found->has_value()) << found.status();
    EXPECT_EQ((*found)->state, SettlementState::SETTLEMENT_STATE_SETTLED);
    ASSERT_TRUE((*found)->result.has_value());
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*(*found)->result, result))
        << (*found)->result->DebugString();
    auto counts = CountSettlementRecords(*tx);
    ASSERT_TRUE(counts.ok()) << counts.status();
    const std::vector<std::pair<SettlementState, int64_t>> expected = {
        {SettlementState::SETTLEMENT_STATE_PENDING, 1},
        {SettlementState::SETTLEMENT_STATE_SETTLED, 1}};
    EXPECT_EQ(*counts, expected);
  }
  EXPECT_EQ(Count("SELECT total_fen FROM settlement_record WHERE settlement_id = ?", {id}), 10000);
  {
    auto tx = Begin(TransactionMode::kWrite);
    ASSERT_NE(tx, nullptr);
    ASSERT_TRUE(DeleteSettlementRecord(*tx, "H50000000001-20261123-0002").ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM settlement_record"), 1);
}

TEST_P(RepositoryConformanceTest, RegistrySeedsOnceAndReads) {
  SeedDemoRegistry();
  const int64_t persons = Count("SELECT COUNT(*) FROM insured_person");
  const int64_t filings = Count("SELECT COUNT(*) FROM filing");
  EXPECT_GT(persons, 0);
  EXPECT_GT(filings, 0);
  SeedDemoRegistry();  // never overwrites nor duplicates
  EXPECT_EQ(Count("SELECT COUNT(*) FROM insured_person"), persons);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM filing"), filings);

  auto tx = Begin(TransactionMode::kRead);
  ASSERT_NE(tx, nullptr);
  auto person = municipal::FindPerson(*tx, kPersonN1);
  ASSERT_TRUE(person.ok()) << person.status();
  ASSERT_TRUE(person->has_value());
  EXPECT_EQ((*person)->name(), "万国华");
  EXPECT_EQ((*person)->birth_date(), "1956-04-12");
  EXPECT_EQ((*person)->insurance_type(), yidi::v1::INSURANCE_TYPE_EMPLOYEE);
  EXPECT_EQ((*person)->personal_account_balance_fen(), 486000);
  ASSERT_EQ((*person)->chronic_disease_codes_size(), 2);
  EXPECT_EQ((*person)->chronic_disease_codes(0), "I10");
  EXPECT_EQ((*person)->chronic_disease_codes(1), "E11.9");
  auto nobody = municipal::FindPerson(*tx, "360102195604120146");
  ASSERT_TRUE(nobody.ok());
  EXPECT_FALSE(nobody->has_value());
  auto listed = municipal::ListFilings(*tx, kPersonN1, "360100");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_FALSE(listed->empty());
  EXPECT_EQ(listed->front().filing_id(), kFilingN1);
  EXPECT_EQ(listed->front().treatment_region(), "500000");
  EXPECT_EQ(listed->front().insured_region(), "360100");
  EXPECT_TRUE(listed->front().materials_complete());
}

TEST_P(RepositoryConformanceTest, AccumulatorChangesApplyOnceAndReverse) {
  const std::vector<municipal::AccumulatorChange> changes = {
      {kPersonN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026, "deductible_fen", 80000},
      {kPersonN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026, "pooled_fund_fen", 123456},
      {kPersonN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026, "zero", 0},  // skipped
  };
  {
    auto tx = Begin(TransactionMode::kWrite);
    ASSERT_NE(tx, nullptr);
    ASSERT_TRUE(municipal::ApplyAccumulatorChanges(*tx, "S1", changes).ok());
    ASSERT_TRUE(municipal::ApplyAccumulatorChanges(*tx, "S2", {changes[1]}).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  {
    auto tx = Begin(TransactionMode::kWrite);
    ASSERT_NE(tx, nullptr);
    const absl::Status again = municipal::ApplyAccumulatorChanges(*tx, "S1", changes);
    EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  }
  {
    auto tx = Begin(TransactionMode::kRead);
    ASSERT_NE(tx, nullptr);
    auto values =
        municipal::LoadAccumulators(*tx, kPersonN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026);
    ASSERT_TRUE(values.ok()) << values.status();
    EXPECT_EQ(values->size(), 2u);
    EXPECT_EQ((*values)["deductible_fen"], 80000);
    EXPECT_EQ((*values)["pooled_fund_fen"], 2 * 123456);
    auto other_year =
        municipal::LoadAccumulators(*tx, kPersonN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2025);
    ASSERT_TRUE(other_year.ok());
    EXPECT_TRUE(other_year->empty());
    auto recorded = municipal::LoadAccumulatorChanges(*tx, "S1");
    ASSERT_TRUE(recorded.ok()) << recorded.status();
    ASSERT_EQ(recorded->size(), 2u);  // ordered by year, name
    EXPECT_EQ((*recorded)[0].name, "deductible_fen");
    EXPECT_EQ((*recorded)[0].delta, 80000);
    EXPECT_EQ((*recorded)[1].name, "pooled_fund_fen");
    EXPECT_EQ((*recorded)[1].year, 2026);
  }
  {
    // A reversal applies the negation of what S1 recorded.
    auto tx = Begin(TransactionMode::kWrite);
    ASSERT_NE(tx, nullptr);
    auto recorded = municipal::LoadAccumulatorChanges(*tx, "S1");
    ASSERT_TRUE(recorded.ok());
    ASSERT_TRUE(
        municipal::ApplyAccumulatorChanges(*tx, "R1", municipal::Negated(*recorded)).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  auto tx = Begin(TransactionMode::kRead);
  ASSERT_NE(tx, nullptr);
  auto values =
      municipal::LoadAccumulators(*tx, kPersonN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026);
  ASSERT_TRUE(values.ok());
  EXPECT_EQ((*values)["deductible_fen"], 0);
  EXPECT_EQ((*values)["pooled_fund_fen"], 123456);
}

// Concurrent settlements of one person, each its own write transaction that reads the
// accumulators and applies its change, as InsuredSettlement::Settle does: none is lost, and the
// accumulator equals the sum of the recorded changes.
TEST_P(RepositoryConformanceTest, ConcurrentSettlementsOfOnePersonLoseNoUpdate) {
  constexpr int kThreads = 6;
  constexpr int kSettlementsPerThread = 40;
  constexpr int64_t kDeltaFen = 137;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &failures] {
      for (int i = 0; i < kSettlementsPerThread; ++i) {
        auto tx = store_->Begin(TransactionMode::kWrite);
        if (!tx.ok()) {
          ++failures;
          continue;
        }
        auto before = municipal::LoadAccumulators(**tx, kPersonN1,
                                                  yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026);
        const std::string key = absl::StrCat("H36010000001-T", t, "-", i);
        const absl::Status applied = municipal::ApplyAccumulatorChanges(
            **tx, key,
            {{kPersonN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026, "pooled_fund_fen",
              kDeltaFen}});
        if (!before.ok() || !applied.ok() || !(*tx)->Commit().ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  const int64_t expected = int64_t{kThreads} * kSettlementsPerThread * kDeltaFen;
  EXPECT_EQ(Count("SELECT amount FROM accumulator WHERE id_number = ? AND name = ?",
                  {std::string(kPersonN1), std::string("pooled_fund_fen")}),
            expected);
  EXPECT_EQ(Count("SELECT SUM(delta) FROM accumulator_change WHERE id_number = ?",
                  {std::string(kPersonN1)}),
            expected);
}

std::string BackendTestName(const ::testing::TestParamInfo<Backend>& info) {
  return store_testing::BackendName(info.param);
}

// The Sqlite and Mysql prefixes let CTest give the MySQL tests their server.
INSTANTIATE_TEST_SUITE_P(Sqlite, RepositoryConformanceTest,
                         ::testing::Values(Backend::kSqliteMemory, Backend::kSqliteFile),
                         BackendTestName);
INSTANTIATE_TEST_SUITE_P(Mysql, RepositoryConformanceTest, ::testing::Values(Backend::kMysql),
                         BackendTestName);

}  // namespace
}  // namespace yidi
