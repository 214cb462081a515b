// The year close (第47条) and reverse-clearing obligations (RULES.md 5.4) on real national
// clearings: a Store (SQLite in memory), the shipped 2025–2026 calendars and a FakeClock.
// The year closed is 2025: closing 2026 needs the 2027 calendar, which is not shipped (its
// dates are OUT_OF_RANGE, checked below). 1 元 = 100 fen.
#include "common/clearing_year.h"

#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/clearing.h"
#include "common/clearing_forwarding.h"
#include "common/clearing_render.h"
#include "common/clock.h"
#include "common/ledger.h"
#include "common/prepayment.h"
#include "common/settlement_record.h"
#include "common/status_macros.h"
#include "common/transfer_obligations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using yidi::v1::Clearing;
using yidi::v1::TransferObligation;

constexpr int64_t kYuan = 100;

absl::Time At(absl::string_view day) {
  return absl::FromCivil(absl::CivilSecond(*ParseDate(day)) + 10 * 3600, ChinaStandardTime());
}

class ClearingYearTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenStore("sqlite::memory:");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    std::vector<Migration> all = CommonMigrations();
    for (auto* more : {&LedgerMigrations, &TransferObligationMigrations, &PrepaymentMigrations,
                       &ClearingMigrations, &ClearingCycleMigrations}) {
      for (auto& migration : (*more)()) all.push_back(migration);
    }
    ASSERT_TRUE(store_->Migrate(all).ok());
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

  // A settlement of `pooled_yuan` (negative: a refund) dated `date`, recorded on `recorded_on`.
  void Settle(absl::string_view date, absl::string_view insured, absl::string_view treatment,
              int64_t pooled_yuan, absl::string_view recorded_on = "") {
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
    result.set_total_fen(pooled_yuan * kYuan);
    result.set_settlement_date(std::string(date));
    record.result = result;
    clock_.Set(At(recorded_on.empty() ? date : recorded_on));
    auto tx = store_->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(InsertSettlementRecord(**tx, record, clock_.Now()).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  template <typename Body>
  auto Write(absl::string_view day, Body body) -> decltype(body(std::declval<Transaction&>())) {
    clock_.Set(At(day));
    node_.now = clock_.Now();
    node_.issuer.now = node_.now;
    auto tx = store_->Begin(TransactionMode::kWrite);
    EXPECT_TRUE(tx.ok());
    auto result = body(**tx);
    if (result.ok()) EXPECT_TRUE((*tx)->Commit().ok());
    return result;
  }

  absl::StatusOr<Clearing> Run(absl::string_view day, absl::string_view month) {
    return Write(day, [&](Transaction& tx) { return RunClearing(tx, node_, month); });
  }
  absl::StatusOr<yidi::v1::CloseYearResponse> Close(absl::string_view day, int year) {
    return Write(day, [&](Transaction& tx) { return CloseYear(tx, node_, year); });
  }
  absl::StatusOr<yidi::v1::GetYearStatusResponse> Status(absl::string_view day, int year) {
    return Write(day, [&](Transaction& tx) { return GetYearStatus(tx, node_, year); });
  }
  std::vector<TransferObligation> Obligations() {
    auto tx = store_->Begin(TransactionMode::kRead);
    EXPECT_TRUE(tx.ok());
    auto obligations = ListObligations(**tx, "", 0);
    EXPECT_TRUE(obligations.ok());
    return *obligations;
  }

  FakeClock clock_{At("2025-11-01")};
  std::unique_ptr<Store> store_;
  WorkingDayCalendar calendar_;
  yidi::v1::PrepaymentPolicy policy_;
  ClearingNode node_;
  int settlements_ = 0;
};

TEST_F(ClearingYearTest, ClosesOnceTheLateWindowIsClearedAndSumsTheMonths) {
  // This node starts clearing in November 2025.
  Settle("2025-11-10", "360100", "500000", 100);
  Settle("2025-11-12", "500000", "210100", 50);
  Settle("2025-12-05", "360100", "500000", 200);
  // December's stay declared late: January 2026's clearing takes it (第47条).
  Settle("2025-12-20", "210100", "500000", 30, "2026-02-05");
  Settle("2026-01-15", "360100", "500000", 40);
  Settle("2026-02-10", "500000", "360100", 10);
  yidi::v1::ClearingDeduction deduction;
  deduction.set_deduction_id("D1");
  deduction.set_clearing_month("2025-12");
  deduction.set_insured_region("360100");
  deduction.set_treatment_region("500000");
  deduction.set_insurance_type(yidi::v1::INSURANCE_TYPE_EMPLOYEE);
  deduction.mutable_amounts()->set_pooled_fund_fen(20 * kYuan);
  deduction.mutable_amounts()->set_total_fen(20 * kYuan);
  deduction.set_reason("超标准收费");
  ASSERT_TRUE(Write("2026-01-05", [&](Transaction& tx) {
                return RecordDeduction(tx, node_, deduction);
              }).ok());

  ASSERT_EQ(Run("2025-12-29", "2025-11")->state(), yidi::v1::CLEARING_STATE_NOTICES_ISSUED);
  ASSERT_EQ(Run("2026-01-28", "2025-12")->state(), yidi::v1::CLEARING_STATE_NOTICES_ISSUED);
  // Before January and February of 2026 are cleared, 2025 cannot close.
  auto early = Close("2026-02-02", 2025);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(early.status().message(), HasSubstr("2026-01: not built"));
  EXPECT_THAT(early.status().message(), HasSubstr("2026-02: not built"));
  ASSERT_EQ(Run("2026-02-27", "2026-01")->state(), yidi::v1::CLEARING_STATE_NOTICES_ISSUED);
  // February built but still open for replies.
  ASSERT_EQ(Run("2026-03-23", "2026-02")->state(), yidi::v1::CLEARING_STATE_BUILT);
  auto built_only = Close("2026-03-23", 2025);
  EXPECT_EQ(built_only.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(built_only.status().message(), HasSubstr("2026-02: CLEARING_STATE_BUILT"));
  auto open = Status("2026-03-23", 2025);
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_FALSE(open->closed());
  EXPECT_FALSE(open->overdue());
  EXPECT_EQ(open->close_by(), "2026-03-31");  // a Tuesday: the last working day of March
  EXPECT_THAT(open->missing(), ElementsAre("2026-02: CLEARING_STATE_BUILT"));
  ASSERT_EQ(Run("2026-03-27", "2026-02")->state(), yidi::v1::CLEARING_STATE_NOTICES_ISSUED);

  auto closed = Close("2026-03-30", 2025);
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_FALSE(closed->replayed());
  const yidi::v1::YearStatement& statement = closed->statement();
  EXPECT_THAT(statement.clearing_months(), ElementsAre("2025-11", "2025-12"));
  EXPECT_EQ(statement.closed_on(), "2026-03-30");
  // The statement equals the sum of the monthly clearings, pair by pair.
  std::map<std::pair<std::string, std::string>, int64_t> monthly;
  int64_t monthly_total = 0;
  for (const char* month : {"2025-11", "2025-12"}) {
    auto tx = store_->Begin(TransactionMode::kRead);
    auto clearing = GetClearing(**tx, month, "", node_);
    ASSERT_TRUE(clearing.ok());
    for (const auto& cell : clearing->cells()) {
      monthly[{cell.insured_region(), cell.treatment_region()}] += cell.net_fen();
      monthly_total += cell.net_fen();
    }
  }
  ASSERT_EQ(statement.pairs_size(), static_cast<int>(monthly.size()));
  for (const auto& pair : statement.pairs()) {
    EXPECT_EQ(pair.net_fen(), (monthly[{pair.insured_region(), pair.treatment_region()}]));
  }
  EXPECT_EQ(statement.net_fen(), monthly_total);
  // By hand: Jiangxi → Chongqing 100 + 200 − 20 deducted; Chongqing → Liaoning 50. The late
  // December stay went into January 2026's clearing, not into 2025's months.
  EXPECT_EQ(statement.net_fen(), (100 + 200 - 20 + 50) * kYuan);
  EXPECT_EQ(statement.pairs(0).insured_region(), "360100");
  EXPECT_EQ(statement.pairs(0).covered_fen(), 300 * kYuan);
  EXPECT_EQ(statement.pairs(0).deducted_fen(), 20 * kYuan);
  EXPECT_EQ(statement.pairs(0).settlement_count(), 2);

  // Again: the stored statement, nothing new.
  auto again = Close("2026-03-31", 2025);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->statement().closed_on(), "2026-03-30");

  // A 2025 stay arriving after the close is too late: reported, never cleared.
  Settle("2025-12-28", "360100", "500000", 7, "2026-04-02");
  auto status = Status("2026-04-02", 2025);
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->closed());
  EXPECT_FALSE(status->overdue());
  EXPECT_EQ(status->too_late_count(), 1);
  EXPECT_EQ(status->too_late_fen(), 7 * kYuan);
  auto march = Run("2026-04-27", "2026-03");
  ASSERT_TRUE(march.ok()) << march.status();
  EXPECT_EQ(march->too_late_count(), 1);
  EXPECT_EQ(march->cells_size(), 0);
}

TEST_F(ClearingYearTest, AYearStillOpenAfterMarchIsOverdue) {
  auto status = Status("2026-04-01", 2025);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_FALSE(status->closed());
  EXPECT_TRUE(status->overdue());
  EXPECT_EQ(status->missing_size(), 14);  // January 2025 … February 2026, none cleared
  EXPECT_THAT(status->missing(), Contains("2025-01: not built"));
  EXPECT_THAT(status->missing(), Contains("2026-02: not built"));
  EXPECT_FALSE(Status("2026-03-31", 2025)->overdue());  // the last day is still in time
}

TEST_F(ClearingYearTest, BadYearsAndTheMissingCalendar) {
  EXPECT_EQ(Close("2026-03-30", 1999).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Status("2026-03-30", 3000).status().message(), HasSubstr("year"));
  // Closing 2026 is due in March 2027: the calendar ships 2025–2026 only.
  EXPECT_EQ(Status("2026-12-30", 2026).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(Close("2026-12-30", 2026).status().code(), absl::StatusCode::kOutOfRange);
}

// Reverse clearing: a pair whose net runs back is its own obligation with `returned`, beside
// the normal flow of the same direction, and the notices' "*" marks exactly those.
TEST_F(ClearingYearTest, ReverseClearingObligationsCarryReturned) {
  // Jiangxi insured, treated in Chongqing: 70 − 400 refunded = −330: Chongqing returns 330.
  Settle("2026-09-01", "360100", "500000", 70);
  Settle("2026-09-02", "360100", "500000", -400);
  // Chongqing insured, treated in Jiangxi: 10, the normal flow Chongqing → Jiangxi.
  Settle("2026-09-03", "500000", "360100", 10);
  auto issued = Run("2026-10-27", "2026-09");
  ASSERT_TRUE(issued.ok()) << issued.status();
  ASSERT_EQ(issued->state(), yidi::v1::CLEARING_STATE_NOTICES_ISSUED);
  std::vector<TransferObligation> obligations = Obligations();
  ASSERT_EQ(obligations.size(), 2u);
  const TransferObligation* normal = nullptr;
  const TransferObligation* returned = nullptr;
  for (const auto& o : obligations) (o.returned() ? returned : normal) = &o;
  ASSERT_NE(normal, nullptr);
  ASSERT_NE(returned, nullptr);
  EXPECT_EQ(normal->payer_region(), "500000");
  EXPECT_EQ(normal->receiver_region(), "360000");
  EXPECT_EQ(normal->amount_fen(), 10 * kYuan);
  EXPECT_EQ(returned->payer_region(), "500000");
  EXPECT_EQ(returned->receiver_region(), "360000");
  EXPECT_EQ(returned->amount_fen(), 330 * kYuan);
  EXPECT_THAT(returned->obligation_id(), HasSubstr("-R"));
  EXPECT_EQ(returned->pay_by(), normal->pay_by());  // same deadlines (003_… 第51条)
  // The notices' "*" agrees: Chongqing's payment notice marks Jiangxi on the 330, not the 10.
  const auto tables = ClearingTables(
      *issued, node_, yidi::v1::CLEARING_DOCUMENT_KIND_PAYMENT_NOTICE, "500000",
      [](const std::string& c) { return c; }, "2026-10-27");
  ASSERT_EQ(tables.size(), 1u);
  const std::string csv = RenderCsv(tables[0]);
  EXPECT_THAT(csv, HasSubstr("*360000,330.00"));
  EXPECT_THAT(csv, HasSubstr("\n360000,10.00"));
  // Running the month again creates nothing.
  ASSERT_TRUE(Run("2026-10-28", "2026-09").ok());
  EXPECT_EQ(Obligations().size(), 2u);

  // The return directly: a replay, or ALREADY_EXISTS with other figures; and it is no use
  // of prepayment (no usage level).
  yidi::v1::RecordClearingRequest request;
  request.set_clearing_month("2026-09");
  request.set_payer_region("500000");
  request.set_receiver_region("360000");
  request.set_clearing_fen(330 * kYuan);
  request.set_settlement_fen(330 * kYuan);
  request.set_signed_date("2026-10-27");
  request.set_next_clearing_date("2026-11-21");
  auto replay = Write("2026-10-29", [&](Transaction& tx) {
    return RecordClearing(tx, node_.issuer, request, /*returned=*/true);
  });
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->replayed());
  EXPECT_TRUE(replay->obligation().returned());
  EXPECT_EQ(replay->usage().level(), yidi::v1::WARNING_LEVEL_UNSPECIFIED);
  request.set_clearing_fen(331 * kYuan);
  auto other = Write("2026-10-29", [&](Transaction& tx) {
    return RecordClearing(tx, node_.issuer, request, /*returned=*/true);
  });
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(other.status().message(), HasSubstr("clearing_fen"));
  // The return is not counted as the payer's unpaid clearing (its prepayment's usage).
  auto tx = store_->Begin(TransactionMode::kRead);
  auto unpaid = SumUnpaidClearings(**tx, "500000", "360000", yidi::v1::QUOTA_SCOPE_UNSPECIFIED);
  ASSERT_TRUE(unpaid.ok());
  EXPECT_EQ(*unpaid, 10 * kYuan);
}

}  // namespace
}  // namespace yidi
