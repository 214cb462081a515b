// Monthly clearing at the national node on a real Store (SQLite in memory) and the shipped
// 2025–2026 calendars: the dates across weekends, holidays and make-up days; the matrix and
// its conservation; deductions, claims, late declarations, refunds after clearing and reverse
// clearing; the confirm / dispute / silence state machine with FakeClock; the notices'
// obligations and usage reports; tracing; the rendered tables. 1 元 = 100 fen.
#include "common/clearing.h"

#include <map>
#include <memory>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
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

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using yidi::v1::Clearing;
using yidi::v1::ClearingCell;

constexpr int64_t kYuan = 100;

absl::CivilDay Day(absl::string_view text) { return *ParseDate(text); }

absl::Time At(absl::string_view day, int hour = 10) {
  return absl::FromCivil(absl::CivilSecond(Day(day)) + hour * 3600, ChinaStandardTime());
}

class ClearingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenStore("sqlite::memory:");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    std::vector<Migration> all = CommonMigrations();
    for (auto* more : {&LedgerMigrations, &TransferObligationMigrations, &PrepaymentMigrations,
                       &ClearingMigrations}) {
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

  // One settlement recorded at `recorded_on`: `pooled_yuan` from the pooled fund,
  // `account_yuan` from the personal account, `assistance_yuan` from medical assistance.
  // Negative amounts make a reversal (kind REVERSAL, as the relay records it).
  std::string Settle(absl::string_view date, absl::string_view insured,
                     absl::string_view treatment, int64_t pooled_yuan, int64_t account_yuan = 0,
                     bool resident = false, absl::string_view recorded_on = "",
                     int64_t assistance_yuan = 0) {
    SettlementRecord record;
    record.settlement_id = absl::StrCat("S", ++settlements_);
    record.kind = pooled_yuan < 0 ? yidi::v1::SETTLEMENT_KIND_REVERSAL
                                  : yidi::v1::SETTLEMENT_KIND_NORMAL;
    record.request_digest = "d";
    record.state = yidi::v1::SETTLEMENT_STATE_SETTLED;
    record.insured_region = std::string(insured);
    record.treatment_region = std::string(treatment);
    record.institution_code = "H";
    record.insurance_type =
        resident ? yidi::v1::INSURANCE_TYPE_RESIDENT : yidi::v1::INSURANCE_TYPE_EMPLOYEE;
    yidi::v1::SettlementResult result;
    result.set_pooled_fund_fen(pooled_yuan * kYuan);
    result.set_medical_assistance_fen(assistance_yuan * kYuan);
    result.set_fund_total_fen((pooled_yuan + assistance_yuan) * kYuan);
    result.set_personal_account_fen(account_yuan * kYuan);
    result.set_total_fen((pooled_yuan + assistance_yuan + account_yuan) * kYuan);
    result.set_settlement_date(std::string(date));
    record.result = result;
    clock_.Set(At(recorded_on.empty() ? date : recorded_on));
    auto tx = store_->Begin(TransactionMode::kWrite);
    EXPECT_TRUE(tx.ok());
    EXPECT_TRUE(InsertSettlementRecord(**tx, record, clock_.Now()).ok());
    EXPECT_TRUE((*tx)->Commit().ok());
    return record.settlement_id;
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

  absl::StatusOr<yidi::v1::ReplyClearingResponse> Reply(absl::string_view day,
                                                        absl::string_view month,
                                                        absl::string_view region, bool confirm,
                                                        absl::string_view id,
                                                        absl::string_view reason = "") {
    yidi::v1::ReplyClearingRequest request;
    request.set_clearing_month(std::string(month));
    request.set_region(std::string(region));
    request.set_kind(confirm ? yidi::v1::CLEARING_REPLY_KIND_CONFIRMED
                             : yidi::v1::CLEARING_REPLY_KIND_DISPUTED);
    request.set_reason(std::string(reason));
    request.set_reply_id(std::string(id));
    return Write(day, [&](Transaction& tx) { return ReplyClearing(tx, node_, request); });
  }

  yidi::v1::ClearingDeduction Deduction(absl::string_view id, absl::string_view month,
                                        absl::string_view insured, absl::string_view treatment,
                                        int64_t pooled_yuan) {
    yidi::v1::ClearingDeduction deduction;
    deduction.set_deduction_id(std::string(id));
    deduction.set_clearing_month(std::string(month));
    deduction.set_insured_region(std::string(insured));
    deduction.set_treatment_region(std::string(treatment));
    deduction.set_insurance_type(yidi::v1::INSURANCE_TYPE_EMPLOYEE);
    deduction.mutable_amounts()->set_pooled_fund_fen(pooled_yuan * kYuan);
    deduction.mutable_amounts()->set_total_fen(pooled_yuan * kYuan);
    deduction.set_reason("超限用药");
    return deduction;
  }

  absl::StatusOr<yidi::v1::RecordDeductionResponse> Deduct(absl::string_view day,
                                                           const yidi::v1::ClearingDeduction& d) {
    return Write(day, [&](Transaction& tx) { return RecordDeduction(tx, node_, d); });
  }

  int64_t Net(const Clearing& clearing, absl::string_view insured, absl::string_view treatment) {
    int64_t fen = 0;
    for (const ClearingCell& cell : clearing.cells()) {
      if (cell.insured_region() == insured && cell.treatment_region() == treatment) {
        fen += cell.net_fen();
      }
    }
    return fen;
  }

  FakeClock clock_{At("2026-09-01")};
  std::unique_ptr<Store> store_;
  WorkingDayCalendar calendar_;
  yidi::v1::PrepaymentPolicy policy_;
  ClearingNode node_;
  int settlements_ = 0;
};

TEST_F(ClearingTest, DatesFollowTheCalendarAcrossWeekendsHolidaysAndMakeUpDays) {
  // October 2026: the 25th is a Sunday → Monday 26th; the 31st a Saturday → Friday 30th.
  auto october = ComputeClearingDates(calendar_, absl::CivilMonth(2026, 9));
  ASSERT_TRUE(october.ok()) << october.status();
  EXPECT_EQ(october->built_on, Day("2026-10-21"));
  EXPECT_EQ(october->confirm_by, Day("2026-10-26"));
  EXPECT_EQ(october->notices_by, Day("2026-10-30"));
  // February 2026: after the Spring Festival; Saturday the 28th is a make-up working day.
  auto february = ComputeClearingDates(calendar_, absl::CivilMonth(2026, 1));
  ASSERT_TRUE(february.ok());
  EXPECT_EQ(february->confirm_by, Day("2026-02-25"));
  EXPECT_EQ(february->notices_by, Day("2026-02-28"));
  // A month whose clearing falls outside the loaded years.
  EXPECT_EQ(ComputeClearingDates(calendar_, absl::CivilMonth(2026, 12)).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST_F(ClearingTest, BuildsTheMatrixOnTheTwentyFirstAndConservesMoney) {
  Settle("2026-09-03", "360100", "500000", 1000, 200);          // Jiangxi → Chongqing
  Settle("2026-09-04", "360700", "500000", 500, 0, true, "", 50);  // resident, 救助 50
  Settle("2026-09-10", "210100", "360100", 300);                // Liaoning → Jiangxi
  Settle("2026-09-11", "500000", "210100", 700, 100);           // Chongqing → Liaoning
  Settle("2026-09-12", "360100", "360700", 999);                // intra-Jiangxi: not national's
  Settle("2026-08-30", "360100", "500000", 111);                // August: not this month

  auto early = Run("2026-10-20", "2026-09");
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(early.status().message(), HasSubstr("2026-10-21"));

  auto clearing = Run("2026-10-21", "2026-09");
  ASSERT_TRUE(clearing.ok()) << clearing.status();
  EXPECT_EQ(clearing->state(), yidi::v1::CLEARING_STATE_BUILT);
  EXPECT_EQ(clearing->confirm_by(), "2026-10-26");
  EXPECT_EQ(clearing->notices_by(), "2026-10-30");
  // The first clearing on this node also takes August's settlements as late declarations.
  EXPECT_EQ(clearing->late_count(), 1);
  EXPECT_EQ(Net(*clearing, "360100", "500000"), (1000 + 200 + 111) * kYuan);
  EXPECT_EQ(Net(*clearing, "360700", "500000"), 550 * kYuan);
  EXPECT_EQ(Net(*clearing, "360100", "360700"), 0);
  EXPECT_TRUE(CheckConservation(*clearing, node_).ok());

  const auto matrix = ClearingMatrix(*clearing, node_);
  // Row = receiving province, column = paying province.
  EXPECT_EQ(matrix.at("500000").at("360000"), (1311 + 550) * kYuan);
  EXPECT_EQ(matrix.at("360000").at("210000"), 300 * kYuan);
  EXPECT_EQ(matrix.at("210000").at("500000"), 800 * kYuan);

  // A broken cell is caught by the check.
  Clearing broken = *clearing;
  broken.mutable_cells(0)->set_net_fen(broken.cells(0).net_fen() + 1);
  EXPECT_EQ(CheckConservation(broken, node_).code(), absl::StatusCode::kInternal);

  // Running again returns the same clearing.
  auto again = Run("2026-10-22", "2026-09");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->frozen_at(), clearing->frozen_at());
}

TEST_F(ClearingTest, SilenceConfirmsAndNoticesBecomeObligationsWithUsage) {
  Settle("2026-09-03", "360100", "500000", 1000);
  Settle("2026-09-04", "210100", "500000", 400);
  ASSERT_TRUE(Run("2026-10-21", "2026-09").ok());
  ASSERT_TRUE(Reply("2026-10-23", "2026-09", "360000", true, "R1").ok());
  // The confirm day is Monday the 26th: still BUILT then.
  auto monday = Run("2026-10-26", "2026-09");
  ASSERT_TRUE(monday.ok());
  EXPECT_EQ(monday->state(), yidi::v1::CLEARING_STATE_BUILT);
  auto tuesday = Run("2026-10-27", "2026-09");
  ASSERT_TRUE(tuesday.ok()) << tuesday.status();
  EXPECT_EQ(tuesday->state(), yidi::v1::CLEARING_STATE_NOTICES_ISSUED);
  ASSERT_EQ(tuesday->replies_size(), 3);
  int silent = 0;
  for (const auto& reply : tuesday->replies()) {
    silent += reply.kind() == yidi::v1::CLEARING_REPLY_KIND_SILENT;
  }
  EXPECT_EQ(silent, 2);  // 210000 and 500000 did not answer
  ASSERT_EQ(tuesday->obligation_ids_size(), 2);

  // The obligations and the usage reports the prepayment module computed.
  {
  auto tx = store_->Begin(TransactionMode::kRead);
  ASSERT_TRUE(tx.ok());
  auto obligations = ListObligations(**tx, "", 0);
  ASSERT_TRUE(obligations.ok());
  int64_t total = 0;
  for (const auto& obligation : *obligations) {
    EXPECT_EQ(obligation.notice_kind(), yidi::v1::NOTICE_KIND_CLEARING);
    total += obligation.amount_fen();
  }
  EXPECT_EQ(total, 1400 * kYuan);
  auto usage = GetUsage(**tx, 2026, "500000");
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ(usage->size(), 2u);
  EXPECT_EQ((*usage)[0].clearing_month(), "2026-09");
  }

  // Replies after the window are refused.
  auto late = Reply("2026-10-28", "2026-09", "210000", false, "R2", "数字不符");
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ClearingTest, ADisputeHoldsTheNoticesUntilResolved) {
  Settle("2026-09-03", "360100", "500000", 1000);
  ASSERT_TRUE(Run("2026-10-21", "2026-09").ok());
  // Bad replies name the field.
  auto no_reason = Reply("2026-10-22", "2026-09", "360000", false, "D1");
  EXPECT_EQ(no_reason.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_reason.status().message(), HasSubstr("reason"));
  auto stranger = Reply("2026-10-22", "2026-09", "210000", true, "X1");
  EXPECT_THAT(stranger.status().message(), HasSubstr("region"));

  ASSERT_TRUE(Reply("2026-10-22", "2026-09", "360000", false, "D1", "金额不符").ok());
  auto replay = Reply("2026-10-22", "2026-09", "360000", false, "D1", "金额不符");
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed());
  auto clash = Reply("2026-10-22", "2026-09", "360000", true, "D1");
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kAlreadyExists);

  auto held = Run("2026-10-27", "2026-09");
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->state(), yidi::v1::CLEARING_STATE_DISPUTED);
  EXPECT_EQ(held->obligation_ids_size(), 0);
  // The disputing province confirms after review: the notices go out.
  auto resolved = Reply("2026-10-28", "2026-09", "360000", true, "D2");
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  auto issued = Run("2026-10-28", "2026-09");
  ASSERT_TRUE(issued.ok());
  EXPECT_EQ(issued->state(), yidi::v1::CLEARING_STATE_NOTICES_ISSUED);
  EXPECT_EQ(issued->obligation_ids_size(), 1);
}

TEST_F(ClearingTest, DeductionsReduceTheInsuredSideAndLateOnesRollToTheNextMonth) {
  const std::string kept = Settle("2026-09-03", "360100", "500000", 1000);
  // Validation names the field; nothing is stored.
  auto bad = Deduction("K0", "2026-09", "360100", "500000", 10);
  bad.mutable_amounts()->set_total_fen(999);
  EXPECT_THAT(Deduct("2026-10-10", bad).status().message(), HasSubstr("total_fen"));
  auto intra = Deduction("K0", "2026-09", "360100", "360700", 10);
  EXPECT_THAT(Deduct("2026-10-10", intra).status().message(), HasSubstr("insured_region"));

  ASSERT_TRUE(Deduct("2026-10-10", Deduction("K1", "2026-09", "360100", "500000", 80)).ok());
  auto replay = Deduct("2026-10-11", Deduction("K1", "2026-09", "360100", "500000", 80));
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed());
  EXPECT_EQ(Deduct("2026-10-11", Deduction("K1", "2026-09", "360100", "500000", 81))
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);

  auto september = Run("2026-10-21", "2026-09");
  ASSERT_TRUE(september.ok());
  EXPECT_EQ(Net(*september, "360100", "500000"), (1000 - 80) * kYuan);
  EXPECT_THAT(september->deduction_ids(), ElementsAre("K1"));

  // Recorded after September was built: it lands in October's clearing.
  ASSERT_TRUE(Deduct("2026-10-22", Deduction("K2", "2026-09", "360100", "500000", 30)).ok());
  Settle("2026-10-05", "360100", "500000", 500, 0, false, "2026-10-09");
  auto october = Run("2026-11-23", "2026-10");
  ASSERT_TRUE(october.ok()) << october.status();
  EXPECT_EQ(Net(*october, "360100", "500000"), (500 - 30) * kYuan);
  EXPECT_THAT(october->deduction_ids(), ElementsAre("K2"));

  // Trace: the ids behind the September pair.
  yidi::v1::TraceClearingRequest trace;
  trace.set_clearing_month("2026-09");
  trace.set_insured_region("360100");
  trace.set_treatment_region("500000");
  auto traced = Write("2026-11-23", [&](Transaction& tx) { return TraceClearing(tx, node_, trace); });
  ASSERT_TRUE(traced.ok());
  EXPECT_THAT(traced->settlement_ids(), ElementsAre(kept));
  EXPECT_THAT(traced->deduction_ids(), ElementsAre("K1"));
}

TEST_F(ClearingTest, LateDeclarationsRollForwardAtMostTwoMonthsAndRefundsLandNextMonth) {
  Settle("2026-07-15", "360100", "500000", 100);  // cleared in July
  ASSERT_TRUE(Run("2026-08-21", "2026-07").ok());
  const std::string original = Settle("2026-08-10", "360100", "500000", 400);
  ASSERT_TRUE(Run("2026-09-21", "2026-08").ok());
  // Declared late: a July stay recorded in September; an April one (too late).
  Settle("2026-07-20", "360100", "500000", 70, 0, false, "2026-09-25");
  Settle("2026-04-20", "360100", "500000", 40, 0, false, "2026-09-25");
  // The August settlement refunded in September (清算后退费): -400.
  Settle("2026-09-02", "360100", "500000", -400);
  Settle("2026-09-03", "500000", "360100", 10);
  auto september = Run("2026-10-21", "2026-09");
  ASSERT_TRUE(september.ok()) << september.status();
  EXPECT_EQ(september->late_count(), 1);
  EXPECT_EQ(september->too_late_count(), 1);
  // 70 − 400: the treatment side returns 330 元 — reverse clearing.
  EXPECT_EQ(Net(*september, "360100", "500000"), -330 * kYuan);
  EXPECT_TRUE(CheckConservation(*september, node_).ok());
  (void)original;

  auto issued = Run("2026-10-27", "2026-09");
  ASSERT_TRUE(issued.ok());
  const auto tables = ClearingTables(*issued, node_,
                                     yidi::v1::CLEARING_DOCUMENT_KIND_PAYMENT_NOTICE, "500000",
                                     [](const std::string& c) { return c; }, "2026-10-27");
  ASSERT_EQ(tables.size(), 1u);
  const std::string csv = RenderCsv(tables[0]);
  // Chongqing returns 330 元 to Jiangxi: "*" by the insured province on its payment notice.
  EXPECT_THAT(csv, HasSubstr("*360000,330.00"));
  const auto receipts = ClearingTables(*issued, node_,
                                       yidi::v1::CLEARING_DOCUMENT_KIND_RECEIPT_NOTICE, "360000",
                                       [](const std::string& c) { return c; }, "2026-10-27");
  EXPECT_THAT(RenderCsv(receipts[0]), HasSubstr("*500000,330.00"));
  // Building August again, or a month before a built one, is refused.
  EXPECT_EQ(Run("2026-10-27", "2026-06").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ClearingTest, AClaimThatDoesNotMatchTheDetailIsNotCleared) {
  Settle("2026-09-03", "360100", "500000", 1000);
  Settle("2026-09-04", "210100", "500000", 200);
  yidi::v1::ClearingClaim claim;
  claim.set_claim_id("C1");
  claim.set_clearing_month("2026-09");
  claim.set_treatment_region("500000");
  claim.set_insured_region("360100");
  claim.set_settlement_count(2);
  claim.set_total_fen(1000 * kYuan);
  ASSERT_TRUE(Write("2026-10-15", [&](Transaction& tx) { return SubmitClaim(tx, node_, claim); })
                  .ok());
  yidi::v1::ClearingClaim good = claim;
  good.set_claim_id("C2");
  good.set_insured_region("210100");
  good.set_settlement_count(1);
  good.set_total_fen(200 * kYuan);
  ASSERT_TRUE(Write("2026-10-15", [&](Transaction& tx) { return SubmitClaim(tx, node_, good); })
                  .ok());
  auto clearing = Run("2026-10-21", "2026-09");
  ASSERT_TRUE(clearing.ok());
  ASSERT_EQ(clearing->excluded_claims_size(), 1);
  EXPECT_THAT(clearing->excluded_claims(0).reason(), HasSubstr("2 settlements"));
  EXPECT_EQ(Net(*clearing, "360100", "500000"), 0);
  EXPECT_EQ(Net(*clearing, "210100", "500000"), 200 * kYuan);
  EXPECT_TRUE(CheckConservation(*clearing, node_).ok());
  auto after = Write("2026-10-22", [&](Transaction& tx) { return SubmitClaim(tx, node_, [&] {
    auto late = claim;
    late.set_claim_id("C3");
    return late;
  }()); });
  EXPECT_EQ(after.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ClearingTest, TablesRenderInYuanWithTwoDecimals) {
  Settle("2026-09-03", "360100", "500000", 1000, 234);
  Settle("2026-09-04", "360700", "210100", 100, 0, true, "", 5);
  ASSERT_TRUE(Deduct("2026-10-10", Deduction("K1", "2026-09", "360100", "500000", 1)).ok());
  auto clearing = Run("2026-10-21", "2026-09");
  ASSERT_TRUE(clearing.ok());
  auto name = [](const std::string& code) {
    return code == "500000" ? "重庆市" : code == "360000" ? "江西省" : code;
  };
  const auto tables = ClearingTables(*clearing, node_, yidi::v1::CLEARING_DOCUMENT_KIND_UNSPECIFIED,
                                     "", name, "2026-10-21");
  ASSERT_GE(tables.size(), 8u);
  const std::string matrix = RenderCsv(tables[0]);
  EXPECT_THAT(matrix, HasSubstr("全国跨省异地就医费用清算表"));
  EXPECT_THAT(matrix, HasSubstr("清算所属月份：2026年09月"));
  // Row 重庆市 receives 1233.00 from 江西省; the diagonal is "——".
  EXPECT_THAT(matrix, HasSubstr("重庆市,0.00,1233.00,——,1233.00"));
  EXPECT_THAT(matrix, HasSubstr("合计,0.00,1338.00,0.00,1338.00"));
  const std::string employee = RenderCsv(tables[2]);
  EXPECT_THAT(employee, HasSubstr("统筹基金,个人账户"));
  EXPECT_THAT(employee, HasSubstr("江西省,1000.00,234.00"));
  const std::string resident = RenderCsv(tables[3]);
  EXPECT_THAT(resident, HasSubstr("江西省,100.00,0.00,5.00,0.00,105.00"));
  const std::string html = RenderHtml(tables[0]);
  EXPECT_THAT(html, HasSubstr("<td class=\"n\">1233.00</td>"));
  EXPECT_THAT(html, HasSubstr("制表日期：2026-10-21"));
}

// A seeded month: 2,000 settlements among six cities of three provinces over September, a
// tenth of them reversed (some in September, some refunded in October), late declarations of
// August, deductions before and after the build. Every cell is checked against sums kept by
// the test itself, and every invariant after each step; the notices' obligations add up.
TEST_F(ClearingTest, ASeededMonthKeepsEveryInvariant) {
  std::mt19937 random(20261021);
  const std::vector<std::string> cities = {"360100", "360700", "210100", "210200", "500000",
                                           "500100"};
  std::map<std::tuple<std::string, std::string, bool>, int64_t> expected_sep;
  std::map<std::tuple<std::string, std::string, bool>, int64_t> expected_oct;
  auto cross = [](const std::string& a, const std::string& b) {
    return a.substr(0, 2) != b.substr(0, 2);
  };
  // The August clearing first, so that late August rows are late declarations.
  Settle("2026-08-10", "360100", "500000", 10);
  expected_sep.clear();
  ASSERT_TRUE(Run("2026-09-21", "2026-08").ok());
  for (int i = 0; i < 2000; ++i) {
    const std::string insured = cities[random() % cities.size()];
    const std::string treatment = cities[random() % cities.size()];
    const bool resident = random() % 3 == 0;
    const int64_t pooled = 1 + random() % 5000;
    const int64_t account = random() % 200;
    const int64_t assistance = random() % 10 == 0 ? random() % 100 : 0;
    const bool late = random() % 20 == 0;
    const std::string date = late ? absl::StrCat("2026-08-", 10 + random() % 20)
                                  : absl::StrCat("2026-09-", 10 + random() % 20);
    Settle(date, insured, treatment, pooled, account, resident, late ? "2026-09-25" : "",
           assistance);
    const int64_t owed = (pooled + account + assistance) * kYuan;
    if (cross(insured, treatment)) expected_sep[{insured, treatment, resident}] += owed;
    const int reversal = random() % 10;
    if (reversal == 0) {  // reversed in September
      Settle("2026-09-30", insured, treatment, -pooled, -account, resident, "", -assistance);
      if (cross(insured, treatment)) expected_sep[{insured, treatment, resident}] -= owed;
    } else if (reversal == 1) {  // refunded after clearing: October
      Settle("2026-10-05", insured, treatment, -pooled, -account, resident, "", -assistance);
      if (cross(insured, treatment)) expected_oct[{insured, treatment, resident}] -= owed;
    }
  }
  ASSERT_TRUE(Deduct("2026-10-10", Deduction("S1", "2026-09", "210100", "360100", 7)).ok());
  expected_sep[{"210100", "360100", false}] -= 7 * kYuan;
  auto september = Run("2026-10-21", "2026-09");
  ASSERT_TRUE(september.ok()) << september.status();
  ASSERT_TRUE(CheckConservation(*september, node_).ok());
  std::map<std::tuple<std::string, std::string, bool>, int64_t> got;
  for (const ClearingCell& cell : september->cells()) {
    got[{cell.insured_region(), cell.treatment_region(), cell.resident()}] += cell.net_fen();
  }
  for (const auto& [key, fen] : expected_sep) EXPECT_EQ(got[key], fen);
  for (const auto& [key, fen] : got) EXPECT_EQ(expected_sep[key], fen);
  EXPECT_GT(september->late_count(), 0);

  // Notices: the obligations carry every flow (normal and reverse) of the month.
  auto issued = Run("2026-10-27", "2026-09");
  ASSERT_TRUE(issued.ok());
  EXPECT_EQ(issued->state(), yidi::v1::CLEARING_STATE_NOTICES_ISSUED);
  std::map<std::pair<std::string, std::string>, int64_t> pair_net;
  for (const ClearingCell& cell : issued->cells()) {
    pair_net[{ProvinceOf(cell.insured_region()), ProvinceOf(cell.treatment_region())}] +=
        cell.net_fen();
  }
  int64_t flows = 0;
  for (const auto& [pair, fen] : pair_net) flows += fen > 0 ? fen : -fen;
  {
    auto tx = store_->Begin(TransactionMode::kRead);
    ASSERT_TRUE(tx.ok());
    auto obligations = ListObligations(**tx, "", 0);
    ASSERT_TRUE(obligations.ok());
    int64_t obligated = 0;
    for (const auto& obligation : *obligations) {
      if (obligation.clearing_month() == "2026-09") obligated += obligation.amount_fen();
    }
    EXPECT_EQ(obligated, flows);
  }

  // October: the refunds and a deduction recorded after September's build.
  ASSERT_TRUE(Deduct("2026-10-22", Deduction("S2", "2026-09", "500000", "210200", 3)).ok());
  expected_oct[{"500000", "210200", false}] -= 3 * kYuan;
  auto october = Run("2026-11-23", "2026-10");
  ASSERT_TRUE(october.ok()) << october.status();
  ASSERT_TRUE(CheckConservation(*october, node_).ok());
  got.clear();
  for (const ClearingCell& cell : october->cells()) {
    got[{cell.insured_region(), cell.treatment_region(), cell.resident()}] += cell.net_fen();
  }
  for (const auto& [key, fen] : expected_oct) EXPECT_EQ(got[key], fen);
  for (const auto& [key, fen] : got) EXPECT_EQ(expected_oct[key], fen);
}

TEST_F(ClearingTest, JiangxisCombinedTableAndTheCitySplit) {
  // Cross-province at national: Nanchang patients in Chongqing, Chongqing patients in Ji'an.
  Settle("2026-09-03", "360100", "500000", 1000);
  Settle("2026-09-04", "500000", "360700", 300);
  auto national = Run("2026-10-21", "2026-09");
  ASSERT_TRUE(national.ok());
  // The city split of Jiangxi: payable per insured city, receivable per treatment city.
  const auto split = ClearingTables(*national, node_, yidi::v1::CLEARING_DOCUMENT_KIND_CITY_SPLIT,
                                    "360000", [](const std::string& c) { return c; },
                                    "2026-10-21");
  ASSERT_EQ(split.size(), 1u);
  const std::string csv = RenderCsv(split[0]);
  EXPECT_THAT(csv, HasSubstr("360100,1000.00,0.00"));
  EXPECT_THAT(csv, HasSubstr("360700,0.00,300.00"));
  EXPECT_THAT(csv, HasSubstr("合计,1000.00,300.00"));
  // The province's own clearing: a Ji'an patient in Nanchang (intra-province).
  yidi::v1::Clearing intra;
  intra.set_clearing_month("2026-09");
  auto& cell = *intra.add_cells();
  cell.set_insured_region("360700");
  cell.set_treatment_region("360100");
  cell.set_net_fen(5000);
  const ClearingTable combined = CombinedProvinceTable(
      *national, intra, "360000", [](const std::string& c) { return c; }, "2026-10-21");
  const std::string table = RenderCsv(combined);
  // 360100: cross payable 1000, cross receivable 0, intra payable 0, intra receivable 50.
  EXPECT_THAT(table, HasSubstr("360100,1000.00,0.00,0.00,50.00,1000.00,50.00"));
  EXPECT_THAT(table, HasSubstr("360700,0.00,300.00,50.00,0.00,50.00,300.00"));
  EXPECT_THAT(table, HasSubstr("合计,1000.00,300.00,50.00,50.00,1050.00,350.00"));
}

}  // namespace
}  // namespace yidi
