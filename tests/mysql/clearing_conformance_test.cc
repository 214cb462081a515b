// Clearing conformance: the monthly clearing's SQL (common/clearing.cc: the GROUP BY build,
// the too-late count, deductions, tracing), the notices' obligations and usage
// (common/prepayment.cc, common/transfer_obligations.cc: SUM over BIGINT), the forwarding
// (common/clearing_forwarding.cc) and the year close (common/clearing_year.cc: MIN, SUM of a
// sum) on every Store backend: SQLite in memory always, MySQL (MariaDB) when a server is
// configured (CTest starts a throwaway one; common/store/store_test_backends.h). The same
// figures are asserted on each, so a query that reads differently on MySQL (SUM returns
// DECIMAL there) fails here. 1 元 = 100 fen.
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/calendar.h"
#include "common/clearing.h"
#include "common/clearing_forwarding.h"
#include "common/clearing_year.h"
#include "common/clock.h"
#include "common/ledger.h"
#include "common/prepayment.h"
#include "common/settlement_record.h"
#include "common/store/store.h"
#include "common/store/store_test_backends.h"
#include "common/transfer_obligations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using store_testing::Backend;
using store_testing::TestDatabases;
using ::testing::ElementsAre;
using yidi::v1::Clearing;

constexpr int64_t kYuan = 100;

absl::Time At(absl::string_view day) {
  return absl::FromCivil(absl::CivilSecond(*ParseDate(day)) + 10 * 3600, ChinaStandardTime());
}

class ClearingConformanceTest : public ::testing::TestWithParam<Backend> {
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
    std::vector<Migration> all = CommonMigrations();
    for (auto* more : {&LedgerMigrations, &TransferObligationMigrations, &PrepaymentMigrations,
                       &ClearingMigrations, &ClearingCycleMigrations}) {
      for (auto& migration : (*more)()) all.push_back(migration);
    }
    const absl::Status migrated = store_->Migrate(all);
    ASSERT_TRUE(migrated.ok()) << migrated;
    auto calendar = WorkingDayCalendar::LoadFiles(
        {absl::StrCat(YIDI_SOURCE_DIR, "/deploy/calendar/2025.textproto"),
         absl::StrCat(YIDI_SOURCE_DIR, "/deploy/calendar/2026.textproto")},
        &clock_);
    ASSERT_TRUE(calendar.ok()) << calendar.status();
    calendar_ = std::move(*calendar);
    policy_ = NationalPrepaymentPolicy();
    node_.region = "000000";
    node_.calendar = &calendar_;
    node_.pooling_region_of = [](const std::string& code) { return code; };
    node_.issuer.kind = yidi::v1::NODE_KIND_NATIONAL;
    node_.issuer.region = "000000";
    node_.issuer.policy = &policy_;
    node_.issuer.calendar = &calendar_;
    node_.issuer.pooling_region_of = node_.pooling_region_of;
  }

  void TearDown() override { store_.reset(); }  // before its database is dropped

  void Settle(absl::string_view date, absl::string_view insured, absl::string_view treatment,
              int64_t pooled_yuan, int64_t account_yuan, absl::string_view recorded_on = "") {
    SettlementRecord record;
    record.settlement_id = absl::StrCat("S", ++settlements_);
    record.kind =
        pooled_yuan < 0 ? yidi::v1::SETTLEMENT_KIND_REVERSAL : yidi::v1::SETTLEMENT_KIND_NORMAL;
    record.request_digest = "d";
    record.state = yidi::v1::SETTLEMENT_STATE_SETTLED;
    record.insured_region = std::string(insured);
    record.treatment_region = std::string(treatment);
    record.institution_code = "H";
    record.insurance_type = yidi::v1::INSURANCE_TYPE_EMPLOYEE;
    yidi::v1::SettlementResult result;
    result.set_pooled_fund_fen(pooled_yuan * kYuan);
    result.set_fund_total_fen(pooled_yuan * kYuan);
    result.set_personal_account_fen(account_yuan * kYuan);
    result.set_total_fen((pooled_yuan + account_yuan) * kYuan);
    result.set_settlement_date(std::string(date));
    record.result = result;
    clock_.Set(At(recorded_on.empty() ? date : recorded_on));
    auto tx = store_->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok()) << tx.status();
    const absl::Status inserted = InsertSettlementRecord(**tx, record, clock_.Now());
    ASSERT_TRUE(inserted.ok()) << inserted;
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  template <typename Body>
  auto Write(absl::string_view day, Body body) -> decltype(body(std::declval<Transaction&>())) {
    clock_.Set(At(day));
    node_.now = clock_.Now();
    node_.issuer.now = node_.now;
    auto tx = store_->Begin(TransactionMode::kWrite);
    EXPECT_TRUE(tx.ok()) << tx.status();
    auto result = body(**tx);
    if (result.ok()) EXPECT_TRUE((*tx)->Commit().ok());
    return result;
  }

  absl::StatusOr<Clearing> Run(absl::string_view day, absl::string_view month) {
    return Write(day, [&](Transaction& tx) { return RunClearing(tx, node_, month); });
  }

  FakeClock clock_{At("2025-11-01")};
  std::unique_ptr<TestDatabases> databases_;
  std::unique_ptr<Store> store_;
  WorkingDayCalendar calendar_;
  yidi::v1::PrepaymentPolicy policy_;
  ClearingNode node_;
  int settlements_ = 0;
};

TEST_P(ClearingConformanceTest, ACycleFromSettlementsToTheYearClose) {
  // November 2025: Jiangxi patients in Chongqing (one refunded), a Chongqing patient in
  // Shenyang; a personal-account part; a late December stay; one more than 2 months late.
  Settle("2025-11-03", "360100", "500000", 1000, 50);
  Settle("2025-11-04", "360100", "500000", 200, 0);
  Settle("2025-11-20", "360100", "500000", -200, 0);
  Settle("2025-11-05", "500000", "210100", 300, 0);
  Settle("2025-11-06", "360100", "360700", 999, 0);  // intra-province: not national's
  // Chongqing refunds more than it charged Liaoning in December: reverse clearing.
  Settle("2025-12-02", "210100", "500000", 100, 0);
  Settle("2025-12-03", "210100", "500000", -400, 0);
  Settle("2025-12-20", "360100", "500000", 70, 0, "2026-02-05");  // late: January's clearing
  Settle("2025-08-20", "360100", "500000", 40, 0, "2026-02-05");  // too late

  yidi::v1::ClearingDeduction deduction;
  deduction.set_deduction_id("D1");
  deduction.set_clearing_month("2025-11");
  deduction.set_insured_region("360100");
  deduction.set_treatment_region("500000");
  deduction.set_insurance_type(yidi::v1::INSURANCE_TYPE_EMPLOYEE);
  deduction.mutable_amounts()->set_pooled_fund_fen(25 * kYuan);
  deduction.mutable_amounts()->set_total_fen(25 * kYuan);
  deduction.set_reason("超标准收费");
  auto recorded =
      Write("2025-12-10", [&](Transaction& tx) { return RecordDeduction(tx, node_, deduction); });
  ASSERT_TRUE(recorded.ok()) << recorded.status();

  auto november = Run("2025-12-29", "2025-11");
  ASSERT_TRUE(november.ok()) << november.status();
  ASSERT_EQ(november->state(), yidi::v1::CLEARING_STATE_NOTICES_ISSUED);
  ASSERT_EQ(november->cells_size(), 2);
  // Jiangxi → Chongqing: 1000 + 50 + 200 − 200 − 25 deducted.
  EXPECT_EQ(november->cells(0).insured_region(), "360100");
  EXPECT_EQ(november->cells(0).settlement_count(), 3);
  EXPECT_EQ(november->cells(0).covered().total_fen(), 1050 * kYuan);
  EXPECT_EQ(november->cells(0).covered().personal_account_fen(), 50 * kYuan);
  EXPECT_EQ(november->cells(0).deducted().total_fen(), 25 * kYuan);
  EXPECT_EQ(november->cells(0).net_fen(), 1025 * kYuan);
  EXPECT_EQ(november->cells(1).net_fen(), 300 * kYuan);
  EXPECT_TRUE(CheckConservation(*november, node_).ok());
  {
    auto tx = store_->Begin(TransactionMode::kRead);
    ASSERT_TRUE(tx.ok());
    yidi::v1::TraceClearingRequest trace;
    trace.set_clearing_month("2025-11");
    trace.set_insured_region("360100");
    trace.set_treatment_region("500000");
    auto traced = TraceClearing(**tx, node_, trace);
    ASSERT_TRUE(traced.ok()) << traced.status();
    EXPECT_THAT(traced->settlement_ids(), ElementsAre("S1", "S2", "S3"));
    EXPECT_THAT(traced->deduction_ids(), ElementsAre("D1"));
    // The notices' obligations and the usage SUMs.
    auto unpaid = SumUnpaidClearings(**tx, "360000", "500000", yidi::v1::QUOTA_SCOPE_UNSPECIFIED);
    ASSERT_TRUE(unpaid.ok()) << unpaid.status();
    EXPECT_EQ(*unpaid, 1025 * kYuan);
    auto signed_sum = SumObligations(**tx, yidi::v1::NOTICE_KIND_CLEARING, 2025, "500000", "210000",
                                     yidi::v1::QUOTA_SCOPE_UNSPECIFIED, std::nullopt);
    ASSERT_TRUE(signed_sum.ok()) << signed_sum.status();
    EXPECT_EQ(*signed_sum, 300 * kYuan);
  }

  auto december = Run("2026-01-28", "2025-12");
  ASSERT_TRUE(december.ok()) << december.status();
  ASSERT_EQ(december->state(), yidi::v1::CLEARING_STATE_NOTICES_ISSUED);
  ASSERT_EQ(december->cells_size(), 1);
  EXPECT_EQ(december->cells(0).net_fen(), -300 * kYuan);
  {
    auto tx = store_->Begin(TransactionMode::kRead);
    auto obligations = ListObligations(**tx, "210000", 2025);
    ASSERT_TRUE(obligations.ok()) << obligations.status();
    int returned = 0;
    for (const auto& o : *obligations) {
      if (!o.returned()) continue;
      ++returned;
      EXPECT_EQ(o.payer_region(), "500000");
      EXPECT_EQ(o.amount_fen(), 300 * kYuan);
    }
    EXPECT_EQ(returned, 1);
  }

  auto january = Run("2026-02-27", "2026-01");
  ASSERT_TRUE(january.ok()) << january.status();
  EXPECT_EQ(january->late_count(), 1);
  EXPECT_EQ(january->too_late_count(), 1);
  ASSERT_EQ(january->cells_size(), 1);
  EXPECT_EQ(january->cells(0).net_fen(), 70 * kYuan);
  ASSERT_TRUE(Run("2026-03-27", "2026-02").ok());

  // The forwarding of national's November notices at Liaoning (stores and reads a body).
  ForwardingNode province;
  province.province = "210000";
  province.calendar = &calendar_;
  province.policy = NationalForwardingPolicy();
  province.now = At("2026-01-05");
  {
    auto tx = store_->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    auto forwarded = ForwardClearing(**tx, province, *november);
    ASSERT_TRUE(forwarded.ok()) << forwarded.status();
    ASSERT_TRUE((*tx)->Commit().ok());
    auto read = store_->Begin(TransactionMode::kRead);
    auto stored = GetForwarding(**read, "2025-11");
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(stored->receivable_fen(), 300 * kYuan);
  }

  // The year close and its status queries.
  auto closed = Write("2026-03-30", [&](Transaction& tx) { return CloseYear(tx, node_, 2025); });
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->statement().net_fen(), (1025 + 300 - 300) * kYuan);
  Settle("2025-12-30", "360100", "500000", 9, 1, "2026-04-01");
  auto status =
      Write("2026-04-01", [&](Transaction& tx) { return GetYearStatus(tx, node_, 2025); });
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(status->closed());
  EXPECT_EQ(status->too_late_count(), 1);
  EXPECT_EQ(status->too_late_fen(), 10 * kYuan);
  auto open = Write("2026-04-01", [&](Transaction& tx) { return GetYearStatus(tx, node_, 2024); });
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_TRUE(open->overdue());
}

INSTANTIATE_TEST_SUITE_P(Sqlite, ClearingConformanceTest, ::testing::Values(Backend::kSqliteMemory),
                         [](const auto& info) { return store_testing::BackendName(info.param); });
INSTANTIATE_TEST_SUITE_P(Mysql, ClearingConformanceTest, ::testing::Values(Backend::kMysql),
                         [](const auto& info) { return store_testing::BackendName(info.param); });

}  // namespace
}  // namespace yidi
