// A province forwarding national's clearing to its cities, on a real Store (SQLite in memory)
// and the shipped 2025–2026 calendars. National's clearing is written by hand so every share
// is known: Liaoning's cities 210100 and 210200 pay Chongqing (500000) and Nanchang (360100),
// one pair nets negative (reverse clearing), one city's payment notice nets negative (a
// return), and Chongqing and Nanchang pay Liaoning's cities back. National issued its notices
// on Monday 30 November 2026. 1 元 = 100 fen.
#include "common/clearing_forwarding.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
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

using ::testing::HasSubstr;
using yidi::v1::Clearing;
using yidi::v1::ClearingForwarding;
using yidi::v1::ForwardedNotice;
using yidi::v1::TransferObligation;

constexpr int64_t kYuan = 100;

absl::Time At(absl::string_view day) {
  return absl::FromCivil(absl::CivilSecond(*ParseDate(day)) + 10 * 3600, ChinaStandardTime());
}

void AddCell(Clearing& clearing, const std::string& insured, const std::string& treatment,
             int64_t net_yuan) {
  auto& cell = *clearing.add_cells();
  cell.set_insured_region(insured);
  cell.set_treatment_region(treatment);
  cell.set_settlement_count(1);
  // Negative nets come from refunds (negative covered), positive ones from settlements.
  cell.mutable_covered()->set_pooled_fund_fen(net_yuan * kYuan);
  cell.mutable_covered()->set_total_fen(net_yuan * kYuan);
  cell.set_net_fen(net_yuan * kYuan);
}

// National's October 2026 clearing, with a cell between two other provinces that Liaoning
// must ignore.
Clearing NationalClearing() {
  Clearing clearing;
  clearing.set_clearing_month("2026-10");
  clearing.set_issuer_region("000000");
  clearing.set_state(yidi::v1::CLEARING_STATE_NOTICES_ISSUED);
  clearing.set_notices_issued_on("2026-11-30");
  // Liaoning → Chongqing: 1000 + 300 − 800 = 500, a normal line.
  AddCell(clearing, "210100", "500000", 1000);
  AddCell(clearing, "210200", "500000", 300);
  AddCell(clearing, "210200", "500000", -800);
  // Liaoning → Jiangxi: 200 − 500 = −300: Jiangxi returns 300 (reverse, "*").
  AddCell(clearing, "210100", "360100", 200);
  AddCell(clearing, "210200", "360100", -500);
  // Chongqing → Liaoning: 700, normal.
  AddCell(clearing, "500000", "210100", 700);
  // Jiangxi → Liaoning: −100: Liaoning returns 100 to Jiangxi (reverse, "*").
  AddCell(clearing, "360100", "210200", -100);
  // Chongqing → Jiangxi: not Liaoning's business.
  AddCell(clearing, "500000", "360100", 4000);
  return clearing;
}

const ForwardedNotice* Find(const ClearingForwarding& forwarding, const std::string& city,
                            yidi::v1::ForwardedNoticeKind kind) {
  for (const auto& notice : forwarding.notices()) {
    if (notice.city() == city && notice.kind() == kind) return &notice;
  }
  return nullptr;
}

class ClearingForwardingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenStore("sqlite::memory:");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    std::vector<Migration> all = CommonMigrations();
    for (auto* more : {&LedgerMigrations, &TransferObligationMigrations, &PrepaymentMigrations,
                       &ClearingCycleMigrations}) {
      for (auto& migration : (*more)()) all.push_back(migration);
    }
    ASSERT_TRUE(store_->Migrate(all).ok());
    auto calendar = WorkingDayCalendar::LoadFiles(
        {absl::StrCat(YIDI_SOURCE_DIR, "/deploy/calendar/2025.textproto"),
         absl::StrCat(YIDI_SOURCE_DIR, "/deploy/calendar/2026.textproto")});
    ASSERT_TRUE(calendar.ok()) << calendar.status();
    calendar_ = std::move(*calendar);
    node_.province = "210000";
    node_.calendar = &calendar_;
    node_.policy = NationalForwardingPolicy();
    node_.now = At("2026-12-01");
  }

  absl::StatusOr<yidi::v1::ForwardClearingResponse> Forward(const Clearing& national) {
    auto tx = store_->Begin(TransactionMode::kWrite);
    EXPECT_TRUE(tx.ok());
    auto response = ForwardClearing(**tx, node_, national);
    if (response.ok()) EXPECT_TRUE((*tx)->Commit().ok());
    return response;
  }

  std::vector<TransferObligation> Obligations() {
    auto tx = store_->Begin(TransactionMode::kRead);
    EXPECT_TRUE(tx.ok());
    auto obligations = ListObligations(**tx, "", 0);
    EXPECT_TRUE(obligations.ok()) << obligations.status();
    return *obligations;
  }

  std::unique_ptr<Store> store_;
  WorkingDayCalendar calendar_;
  ForwardingNode node_;
};

TEST_F(ClearingForwardingTest, CitiesShareNationalNoticesAndSumToThem) {
  auto forwarding = PlanForwarding(NationalClearing(), node_);
  ASSERT_TRUE(forwarding.ok()) << forwarding.status();
  // National's payment notice to Liaoning: 500 to Chongqing + *100 returned to Jiangxi = 600;
  // its receipt notice: 700 from Chongqing + *300 returned by Jiangxi = 1000.
  EXPECT_EQ(forwarding->payable_fen(), (1000 + 300 - 800 + 200 - 500) * kYuan);
  EXPECT_EQ(forwarding->receivable_fen(), (700 - 100) * kYuan);
  EXPECT_EQ(forwarding->cells_size(), 7);  // Chongqing → Jiangxi left out
  using K = yidi::v1::ForwardedNoticeKind;
  const ForwardedNotice* pay_100 = Find(*forwarding, "210100", K::FORWARDED_NOTICE_KIND_PAYMENT);
  const ForwardedNotice* pay_200 = Find(*forwarding, "210200", K::FORWARDED_NOTICE_KIND_PAYMENT);
  const ForwardedNotice* get_100 = Find(*forwarding, "210100", K::FORWARDED_NOTICE_KIND_RECEIPT);
  const ForwardedNotice* get_200 = Find(*forwarding, "210200", K::FORWARDED_NOTICE_KIND_RECEIPT);
  ASSERT_NE(pay_100, nullptr);
  ASSERT_NE(pay_200, nullptr);
  ASSERT_NE(get_100, nullptr);
  ASSERT_NE(get_200, nullptr);
  // Shenyang pays its 1000 to Chongqing.
  EXPECT_EQ(pay_100->net_fen(), 1000 * kYuan);
  // Dalian: −500 with Chongqing, +100 of Liaoning's return to Jiangxi: −400, a return to it.
  EXPECT_EQ(pay_200->net_fen(), -400 * kYuan);
  ASSERT_EQ(pay_200->lines_size(), 2);
  EXPECT_EQ(pay_200->lines(0).counterparty_region(), "360000");
  EXPECT_TRUE(pay_200->lines(0).returned());
  EXPECT_EQ(pay_200->lines(0).net_fen(), 100 * kYuan);
  EXPECT_EQ(pay_200->lines(1).counterparty_region(), "500000");
  EXPECT_FALSE(pay_200->lines(1).returned());
  // Receipts: Shenyang 700 from Chongqing − 200 of Jiangxi's return; Dalian 500 of it.
  EXPECT_EQ(get_100->net_fen(), (700 - 200) * kYuan);
  EXPECT_EQ(get_200->net_fen(), 500 * kYuan);
  // Conservation against national's notices.
  EXPECT_EQ(pay_100->net_fen() + pay_200->net_fen(), 600 * kYuan);
  EXPECT_EQ(get_100->net_fen() + get_200->net_fen(), 1000 * kYuan);
  // National rule: 5 WD from Monday 30 November both ways.
  EXPECT_EQ(pay_100->pay_by(), "2026-12-07");
  EXPECT_EQ(get_100->pay_by(), "2026-12-07");
  EXPECT_EQ(pay_200->pay_by(), "2026-12-07");  // the province returns: a distribution
  EXPECT_EQ(forwarding->forward_by(), "2026-12-07");
}

TEST_F(ClearingForwardingTest, LiaoningDeadlinesChainRemitForwardDistribute) {
  node_.policy = LiaoningForwardingPolicy();
  auto forwarding = PlanForwarding(NationalClearing(), node_);
  ASSERT_TRUE(forwarding.ok()) << forwarding.status();
  using K = yidi::v1::ForwardedNoticeKind;
  // Cities remit within 10 WD (14 Dec), the province forwards within 5 more (21 Dec) and
  // distributes within 5 WD of the funds (28 Dec); no holidays in December 2026.
  EXPECT_EQ(Find(*forwarding, "210100", K::FORWARDED_NOTICE_KIND_PAYMENT)->pay_by(), "2026-12-14");
  EXPECT_EQ(forwarding->forward_by(), "2026-12-21");
  EXPECT_EQ(Find(*forwarding, "210100", K::FORWARDED_NOTICE_KIND_RECEIPT)->pay_by(), "2026-12-28");
  EXPECT_EQ(Find(*forwarding, "210200", K::FORWARDED_NOTICE_KIND_PAYMENT)->pay_by(), "2026-12-28");
}

TEST_F(ClearingForwardingTest, ObligationsCarryDirectionAndReturnedAndRunOnce) {
  auto first = Forward(NationalClearing());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->replayed());
  std::vector<TransferObligation> obligations = Obligations();
  ASSERT_EQ(obligations.size(), 4u);
  std::map<std::string, TransferObligation> by_id;
  for (const auto& o : obligations) by_id[o.obligation_id()] = o;
  const TransferObligation& shenyang_pays = by_id.at("FW-2026-10-210100-P");
  EXPECT_EQ(shenyang_pays.payer_region(), "210100");
  EXPECT_EQ(shenyang_pays.receiver_region(), "210000");
  EXPECT_EQ(shenyang_pays.amount_fen(), 1000 * kYuan);
  EXPECT_FALSE(shenyang_pays.returned());
  EXPECT_EQ(shenyang_pays.pay_by(), "2026-12-07");
  EXPECT_EQ(shenyang_pays.issuer_region(), "210000");
  EXPECT_EQ(shenyang_pays.notice_kind(), yidi::v1::NOTICE_KIND_CLEARING);
  // Dalian's payment notice nets −400: the province returns it (reverse clearing).
  const TransferObligation& dalian_back = by_id.at("FW-2026-10-210200-P");
  EXPECT_EQ(dalian_back.payer_region(), "210000");
  EXPECT_EQ(dalian_back.receiver_region(), "210200");
  EXPECT_EQ(dalian_back.amount_fen(), 400 * kYuan);
  EXPECT_TRUE(dalian_back.returned());
  const TransferObligation& shenyang_gets = by_id.at("FW-2026-10-210100-R");
  EXPECT_EQ(shenyang_gets.payer_region(), "210000");
  EXPECT_EQ(shenyang_gets.receiver_region(), "210100");
  EXPECT_EQ(shenyang_gets.amount_fen(), 500 * kYuan);
  EXPECT_FALSE(shenyang_gets.returned());

  // Again (a scheduler retry, an operator twice): the stored forwarding, nothing new.
  node_.now = At("2026-12-02");
  auto again = Forward(NationalClearing());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->forwarding().forwarded_on(), "2026-12-01");
  EXPECT_EQ(Obligations().size(), 4u);
  {
    auto tx = store_->Begin(TransactionMode::kRead);
    auto stored = GetForwarding(**tx, "2026-10");
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored->notices(0).obligation_id(), first->forwarding().notices(0).obligation_id());
  }

  // National's figures changed after its notices: refused, nothing re-issued.
  Clearing changed = NationalClearing();
  AddCell(changed, "210100", "500000", 1);
  auto refused = Forward(changed);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Obligations().size(), 4u);
}

TEST_F(ClearingForwardingTest, RefusedBeforeNationalIssuedItsNotices) {
  Clearing built = NationalClearing();
  built.set_state(yidi::v1::CLEARING_STATE_CONFIRMED);
  auto refused = Forward(built);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("第46条"));
  EXPECT_TRUE(Obligations().empty());
  auto tx = store_->Begin(TransactionMode::kRead);
  EXPECT_EQ(GetForwarding(**tx, "2026-10").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(GetForwarding(**tx, "2026-13").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ClearingForwardingTest, RefusedAtNationalAndForAProvincialClearing) {
  node_.province = "000000";
  EXPECT_EQ(Forward(NationalClearing()).status().code(), absl::StatusCode::kFailedPrecondition);
  node_.province = "210000";
  Clearing provincial = NationalClearing();
  provincial.set_issuer_region("360000");
  EXPECT_EQ(Forward(provincial).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Obligations().empty());
}

TEST_F(ClearingForwardingTest, APlainAndAStarredLineWithTheSameProvinceStayApart) {
  // Shenyang's patients owe Chongqing 100; Chongqing's patients refunded more than they were
  // charged in Shenyang, so Liaoning returns 30: both are on Liaoning's payment notice, one
  // plain and one "*", and so on Shenyang's.
  Clearing national;
  national.set_clearing_month("2026-10");
  national.set_issuer_region("000000");
  national.set_state(yidi::v1::CLEARING_STATE_NOTICES_ISSUED);
  national.set_notices_issued_on("2026-11-30");
  AddCell(national, "210100", "500000", 100);
  AddCell(national, "500000", "210100", -30);
  auto forwarding = PlanForwarding(national, node_);
  ASSERT_TRUE(forwarding.ok()) << forwarding.status();
  ASSERT_EQ(forwarding->notices_size(), 1);
  const ForwardedNotice& notice = forwarding->notices(0);
  EXPECT_EQ(notice.kind(), yidi::v1::FORWARDED_NOTICE_KIND_PAYMENT);
  EXPECT_EQ(notice.net_fen(), 130 * kYuan);
  ASSERT_EQ(notice.lines_size(), 2);
  EXPECT_EQ(notice.lines(0).counterparty_region(), "500000");
  EXPECT_FALSE(notice.lines(0).returned());
  EXPECT_EQ(notice.lines(0).net_fen(), 100 * kYuan);
  EXPECT_EQ(notice.lines(1).counterparty_region(), "500000");
  EXPECT_TRUE(notice.lines(1).returned());
  EXPECT_EQ(notice.lines(1).net_fen(), 30 * kYuan);
}

TEST_F(ClearingForwardingTest, AProvinceLevelPoolingRegionGetsNoticesButNoObligation) {
  // Chongqing (500000) is both the province and its only pooling region.
  node_.province = "500000";
  auto forwarded = Forward(NationalClearing());
  ASSERT_TRUE(forwarded.ok()) << forwarded.status();
  const ClearingForwarding& forwarding = forwarded->forwarding();
  const ForwardedNotice* pays = Find(forwarding, "500000", yidi::v1::FORWARDED_NOTICE_KIND_PAYMENT);
  const ForwardedNotice* gets = Find(forwarding, "500000", yidi::v1::FORWARDED_NOTICE_KIND_RECEIPT);
  ASSERT_NE(pays, nullptr);
  ASSERT_NE(gets, nullptr);
  EXPECT_EQ(pays->net_fen(), 700 * kYuan + 4000 * kYuan);  // to Liaoning and to Jiangxi
  EXPECT_EQ(gets->net_fen(), 500 * kYuan);                 // Liaoning's net to Chongqing
  EXPECT_TRUE(pays->obligation_id().empty());
  EXPECT_TRUE(gets->obligation_id().empty());
  EXPECT_TRUE(Obligations().empty());
}

TEST_F(ClearingForwardingTest, PolicyIsValidatedAndDefaulted) {
  yidi::v1::ForwardingPolicy policy;
  policy.set_city_remit_working_days(-1);
  absl::Status status = ValidateForwardingPolicy(policy);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("forwarding.city_remit_working_days"));
  node_.policy = policy;
  EXPECT_EQ(Forward(NationalClearing()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Obligations().empty());
  const yidi::v1::ForwardingPolicy defaulted =
      WithNationalForwardingDefaults(yidi::v1::ForwardingPolicy());
  EXPECT_EQ(defaulted.city_remit_working_days(), 5);
  EXPECT_EQ(defaulted.distribute_working_days(), 5);
  EXPECT_TRUE(ValidateForwardingPolicy(LiaoningForwardingPolicy()).ok());
}

TEST_F(ClearingForwardingTest, NoticesRenderWithStarsAndTotals) {
  auto forwarding = PlanForwarding(NationalClearing(), node_);
  ASSERT_TRUE(forwarding.ok());
  const ClearingNamer name_of = [](const std::string& code) {
    if (code == "360000") return std::string("江西省");
    if (code == "500000") return std::string("重庆市");
    if (code == "210000") return std::string("辽宁省");
    if (code == "210200") return std::string("大连市");
    return code;
  };
  auto tables = ForwardedNoticeTables(*forwarding, "210200", name_of, "2026-12-01");
  ASSERT_EQ(tables.size(), 2u);  // Dalian's payment and receipt notices
  const std::string csv = RenderCsv(tables[0]);
  EXPECT_THAT(csv, HasSubstr("*江西省,100.00"));
  EXPECT_THAT(csv, HasSubstr("重庆市,-500.00"));
  EXPECT_THAT(csv, HasSubstr("合计,-400.00"));
  EXPECT_THAT(csv, HasSubstr("由省级经办机构返还你单位"));
  EXPECT_THAT(RenderHtml(tables[1]), HasSubstr("500.00"));
  EXPECT_EQ(ForwardedNoticeTables(*forwarding, "", name_of, "2026-12-01").size(), 4u);
}

}  // namespace
}  // namespace yidi
