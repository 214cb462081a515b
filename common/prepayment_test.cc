// Prepayment at the issuing node, on a real Store: quotas from recorded settlements for the
// national, Jiangxi and Liaoning policies (figures by hand in the comments), adjustments
// against last year including emergency increases, clearings with their usage and warnings,
// emergency increases and their deadlines, obligations, payments, lateness and Liaoning's
// suspensions. 1 万元 = 1,000,000 fen.
#include "common/prepayment.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/config.h"
#include "common/ledger.h"
#include "common/settlement_record.h"
#include "common/status_macros.h"
#include "common/transfer_obligations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using ::testing::HasSubstr;
using yidi::v1::PrepaymentQuota;
using yidi::v1::TransferObligation;

constexpr int64_t kYuan = 100;
constexpr int64_t kWan = 1'000'000;

absl::CivilDay Day(absl::string_view text) { return *ParseDate(text); }

absl::Time At(absl::string_view day) {
  return absl::FromCivil(absl::CivilSecond(Day(day)) + 10 * 3600, ChinaStandardTime());
}

class PrepaymentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenStore("sqlite::memory:");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    std::vector<Migration> all = CommonMigrations();
    for (auto* more : {&LedgerMigrations, &TransferObligationMigrations, &PrepaymentMigrations}) {
      for (auto& migration : (*more)()) all.push_back(migration);
    }
    ASSERT_TRUE(store_->Migrate(all).ok());
    auto calendar = WorkingDayCalendar::LoadFiles(
        {absl::StrCat(YIDI_SOURCE_DIR, "/deploy/calendar/2025.textproto"),
         absl::StrCat(YIDI_SOURCE_DIR, "/deploy/calendar/2026.textproto")},
        &clock_);
    ASSERT_TRUE(calendar.ok()) << calendar.status();
    calendar_ = std::move(*calendar);
  }

  void UsePolicy(absl::string_view file, yidi::v1::NodeKind kind, absl::string_view region,
                 std::vector<std::string> cities = {}) {
    yidi::v1::PrepaymentPolicy policy;
    ASSERT_TRUE(
        LoadTextProtoFile(absl::StrCat(YIDI_SOURCE_DIR, "/deploy/prepayment/", file), &policy)
            .ok());
    policy_ = WithNationalDefaults(policy);
    ASSERT_TRUE(ValidatePrepaymentPolicy(policy_).ok());
    issuer_.kind = kind;
    issuer_.region = std::string(region);
    issuer_.policy = &policy_;
    issuer_.calendar = &calendar_;
    issuer_.pooling_region_of = [](const std::string& code) { return code; };
    issuer_.cities = std::move(cities);
  }

  // One recorded settlement of `fund_yuan` (pooled fund) + `account_yuan` (personal account).
  void Settled(absl::string_view date, absl::string_view insured, absl::string_view treatment,
               int64_t fund_yuan, int64_t account_yuan = 0,
               yidi::v1::SettlementState state = yidi::v1::SETTLEMENT_STATE_SETTLED) {
    SettlementRecord record;
    record.settlement_id = absl::StrCat("S", ++settlements_);
    record.kind =
        fund_yuan < 0 ? yidi::v1::SETTLEMENT_KIND_REVERSAL : yidi::v1::SETTLEMENT_KIND_NORMAL;
    record.request_digest = "d";
    record.state = state;
    record.insured_region = std::string(insured);
    record.treatment_region = std::string(treatment);
    record.institution_code = "H";
    yidi::v1::SettlementResult result;
    result.set_fund_total_fen(fund_yuan * kYuan);
    result.set_personal_account_fen(account_yuan * kYuan);
    result.set_settlement_date(std::string(date));
    record.result = result;
    auto tx = store_->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(InsertSettlementRecord(**tx, record, clock_.Now()).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  // Runs `body` in a write transaction at `day` 10:00 CST and commits it when it succeeds.
  template <typename Body>
  auto Write(absl::string_view day, Body body) -> decltype(body(std::declval<Transaction&>())) {
    clock_.Set(At(day));
    issuer_.now = clock_.Now();
    auto tx = store_->Begin(TransactionMode::kWrite);
    EXPECT_TRUE(tx.ok());
    auto result = body(**tx);
    if (result.ok()) EXPECT_TRUE((*tx)->Commit().ok());
    return result;
  }

  absl::StatusOr<yidi::v1::ComputeQuotasResponse> Compute(
      absl::string_view day, int year, std::vector<yidi::v1::PreviousQuota> previous = {}) {
    yidi::v1::ComputeQuotasRequest request;
    request.set_year(year);
    request.set_signed_date(std::string(day));
    for (auto& quota : previous) *request.add_previous_quotas() = quota;
    return Write(day, [&](Transaction& tx) { return ComputeQuotas(tx, issuer_, request); });
  }

  absl::StatusOr<yidi::v1::RecordClearingResponse> Clear(
      absl::string_view day, absl::string_view month, absl::string_view payer,
      absl::string_view receiver, int64_t clearing_fen, int64_t settlement_fen = 0,
      int64_t uncleared_fen = 0, yidi::v1::QuotaScope scope = yidi::v1::QUOTA_SCOPE_UNSPECIFIED) {
    yidi::v1::RecordClearingRequest request;
    request.set_clearing_month(std::string(month));
    request.set_payer_region(std::string(payer));
    request.set_receiver_region(std::string(receiver));
    request.set_clearing_fen(clearing_fen);
    request.set_settlement_fen(settlement_fen);
    request.set_uncleared_fen(uncleared_fen);
    request.set_signed_date(std::string(day));
    request.set_scope(scope);
    return Write(day, [&](Transaction& tx) { return RecordClearing(tx, issuer_, request); });
  }

  absl::StatusOr<yidi::v1::RequestEmergencyIncreaseResponse> Apply(
      absl::string_view day, absl::string_view month, absl::string_view payer,
      absl::string_view receiver, int64_t requested_fen,
      yidi::v1::QuotaScope scope = yidi::v1::QUOTA_SCOPE_UNSPECIFIED) {
    yidi::v1::RequestEmergencyIncreaseRequest request;
    request.set_clearing_month(std::string(month));
    request.set_payer_region(std::string(payer));
    request.set_receiver_region(std::string(receiver));
    request.set_requested_fen(requested_fen);
    request.set_applied_date(std::string(day));
    request.set_scope(scope);
    return Write(day,
                 [&](Transaction& tx) { return RequestEmergencyIncrease(tx, issuer_, request); });
  }

  TransferObligation Obligation(absl::string_view id) {
    auto tx = store_->Begin(TransactionMode::kRead);
    EXPECT_TRUE(tx.ok());
    auto found = FindObligation(**tx, id);
    EXPECT_TRUE(found.ok() && found->has_value()) << id;
    return found.ok() && found->has_value() ? **found : TransferObligation();
  }

  static const PrepaymentQuota* Find(const yidi::v1::ComputeQuotasResponse& response,
                                     absl::string_view payer, absl::string_view receiver,
                                     yidi::v1::QuotaScope scope) {
    for (const auto& quota : response.quotas()) {
      if (quota.payer_region() == payer && quota.receiver_region() == receiver &&
          quota.scope() == scope) {
        return &quota;
      }
    }
    return nullptr;
  }

  FakeClock clock_{At("2026-01-05")};
  std::unique_ptr<Store> store_;
  WorkingDayCalendar calendar_;
  yidi::v1::PrepaymentPolicy policy_;
  PrepaymentIssuer issuer_;
  int settlements_ = 0;
};

yidi::v1::PreviousQuota Previous(absl::string_view payer, absl::string_view receiver,
                                 yidi::v1::QuotaScope scope, int64_t fen) {
  yidi::v1::PreviousQuota previous;
  previous.set_payer_region(std::string(payer));
  previous.set_receiver_region(std::string(receiver));
  previous.set_scope(scope);
  previous.set_quota_fen(fen);
  return previous;
}

// National, 2026 from the 2025 settlements recorded at the national node.
//  360000 → 210000 (Nanchang people treated in Shenyang): Oct 2,800,000 fund + 200,000
//  account = 3,000,000 元; Nov 3,300,000; Dec 3,600,000; September's 9,999 and the voided and
//  in-doubt rows do not count; a 100,000 settlement reversed in December nets to 0.
//  Q4 = 9,900,000 → average 3,300,000 → × 2 = 6,600,000 元 = 660 万元. Last year's quota,
//  given (first year on Yidi), 500 万元 → adjustment 160 万元, due by the end of February.
//  210000 → 500000: 300,000 a month in Q4 → 2 × 300,000 = 60 万元; no previous quota: an
//  initial notice, due within 15 WD of signing (附件3): signed Friday 2026-01-30 → 2026-02-27.
TEST_F(PrepaymentTest, NationalQuotasFromRecordedSettlements) {
  UsePolicy("national.textproto", yidi::v1::NODE_KIND_NATIONAL, "000000");
  Settled("2025-09-30", "360100", "210100", 9'999);
  Settled("2025-10-08", "360100", "210100", 2'800'000, 200'000);
  Settled("2025-11-11", "360700", "210100", 3'300'000);
  Settled("2025-12-01", "360100", "210100", 3'600'000);
  Settled("2025-12-02", "360100", "210100", 100'000, 0, yidi::v1::SETTLEMENT_STATE_REVERSED);
  Settled("2025-12-03", "360100", "210100", -100'000);
  Settled("2025-12-04", "360100", "210100", 777'777, 0, yidi::v1::SETTLEMENT_STATE_VOIDED);
  Settled("2025-12-05", "360100", "210100", 888'888, 0, yidi::v1::SETTLEMENT_STATE_IN_DOUBT);
  for (const char* day : {"2025-10-10", "2025-11-10", "2025-12-10"}) {
    Settled(day, "210100", "500000", 300'000);
  }
  auto response =
      Compute("2026-01-30", 2026,
              {Previous("360000", "210000", yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE, 500 * kWan)});
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->quotas_size(), 2);
  const PrepaymentQuota* jx =
      Find(*response, "360000", "210000", yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE);
  ASSERT_NE(jx, nullptr);
  EXPECT_EQ(jx->base_total_fen(), 9'900'000 * kYuan);
  EXPECT_EQ(jx->quota_fen(), 660 * kWan);
  EXPECT_EQ(jx->previous_quota_fen(), 500 * kWan);
  EXPECT_EQ(jx->adjustment_fen(), 160 * kWan);
  EXPECT_FALSE(jx->first_year());
  const TransferObligation adjustment = Obligation(jx->obligation_id());
  EXPECT_EQ(adjustment.notice_kind(), yidi::v1::NOTICE_KIND_PREPAYMENT_ADJUSTMENT);
  EXPECT_EQ(adjustment.amount_fen(), 160 * kWan);
  EXPECT_EQ(adjustment.payer_region(), "360000");
  EXPECT_EQ(adjustment.pay_by(), "2026-02-28");
  // 5 WD after Friday 01-30: 02-02..02-06. 10 more: 02-09..13 (5), Saturday 02-14 (6), 02-24..27
  // (10). 5 more: Saturday 02-28 (1), 03-02..05 (5).
  EXPECT_EQ(adjustment.agency_to_finance_due(), "2026-02-06");
  EXPECT_EQ(adjustment.finance_transfer_due(), "2026-02-27");
  EXPECT_EQ(adjustment.feedback_due(), "2026-03-05");

  const PrepaymentQuota* ln =
      Find(*response, "210000", "500000", yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE);
  ASSERT_NE(ln, nullptr);
  EXPECT_TRUE(ln->first_year());
  EXPECT_EQ(ln->quota_fen(), 60 * kWan);
  const TransferObligation initial = Obligation(ln->obligation_id());
  EXPECT_EQ(initial.notice_kind(), yidi::v1::NOTICE_KIND_INITIAL_PREPAYMENT);
  EXPECT_EQ(initial.pay_by(), "2026-02-27");

  // Computing again returns what was issued.
  auto again = Compute("2026-02-02", 2026);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed());
  EXPECT_EQ(again->quotas_size(), 2);
  EXPECT_EQ(again->obligations_size(), 2);
}

// Last year's quota includes its emergency increases (附件6 注), and a smaller quota is returned
// by the treatment side ("*"). 2025: 360000 → 210000 quota 300 万元 (2024 Q4 of 150 万元 a
// month); a red clearing in 2025 brought an emergency increase of 200 万元: previous = 500.
// 2025 Q4 is 120 万元 a month → 2026 quota 240 万元 → adjustment −260 万元: 210000 returns 260.
TEST_F(PrepaymentTest, AdjustmentIncludesEmergencyIncreasesAndReturnsASmallerQuota) {
  UsePolicy("national.textproto", yidi::v1::NODE_KIND_NATIONAL, "000000");
  for (const char* day : {"2024-10-10", "2024-11-10", "2024-12-10"}) {
    Settled(day, "360100", "210100", 1'500'000);
  }
  // 2024's dates are outside the loaded calendar: the initial notice's deadline cannot be
  // computed for a signing in 2024, but quotas of 2025 are signed in 2025.
  auto quotas_2025 = Compute("2025-01-24", 2025);
  ASSERT_TRUE(quotas_2025.ok()) << quotas_2025.status();
  ASSERT_EQ(quotas_2025->quotas(0).quota_fen(), 300 * kWan);
  auto clearing = Clear("2025-06-25", "2025-05", "360000", "210000", 280 * kWan);
  ASSERT_TRUE(clearing.ok()) << clearing.status();
  EXPECT_EQ(clearing->usage().level(), yidi::v1::WARNING_LEVEL_RED);  // 280 / 300 = 93.33%
  // Liaoning is the receiver: national applies its formula. Uncleared 0, cleared unpaid 280:
  // |300 − 280| = 20 万元; cap 2 × 280 − 300 = 260 → 20. To reach 200 we apply for another pair
  // below; here just check the formula's figure.
  EXPECT_EQ(clearing->usage().suggested_increase_fen(), 20 * kWan);
  EXPECT_TRUE(clearing->usage().increase_mandatory());
  // Record a 200 万元 increase of 2025 directly (as national would have issued it).
  ASSERT_TRUE(Write("2025-06-26", [&](Transaction& tx) -> absl::Status {
                TransferObligation increase;
                increase.set_obligation_id("EI-2025-05-360000-210000-X");
                increase.set_notice_kind(yidi::v1::NOTICE_KIND_EMERGENCY_INCREASE);
                increase.set_state(yidi::v1::OBLIGATION_STATE_OPEN);
                increase.set_issuer_region("000000");
                increase.set_payer_region("360000");
                increase.set_receiver_region("210000");
                increase.set_amount_fen(200 * kWan);
                increase.set_year(2025);
                increase.set_scope(yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE);
                increase.set_signed_date("2025-06-26");
                RETURN_IF_ERROR(
                    SetObligationDates(calendar_, policy_, Day("2025-07-25"), &increase));
                return InsertObligation(tx, increase, clock_.Now());
              }).ok());
  for (const char* day : {"2025-10-10", "2025-11-10", "2025-12-10"}) {
    Settled(day, "360100", "210100", 1'200'000);
  }
  auto quotas_2026 = Compute("2026-01-30", 2026);
  ASSERT_TRUE(quotas_2026.ok()) << quotas_2026.status();
  const PrepaymentQuota& quota = quotas_2026->quotas(0);
  EXPECT_EQ(quota.previous_quota_fen(), 500 * kWan);
  EXPECT_EQ(quota.quota_fen(), 240 * kWan);
  EXPECT_EQ(quota.adjustment_fen(), -260 * kWan);
  const TransferObligation returned = Obligation(quota.obligation_id());
  EXPECT_TRUE(returned.returned());
  EXPECT_EQ(returned.payer_region(), "210000");
  EXPECT_EQ(returned.receiver_region(), "360000");
  EXPECT_EQ(returned.amount_fen(), 260 * kWan);
}

// Jiangxi, its cities' 2026 quotas from the 2025 settlements recorded at the province.
//  Nanchang 360100 as payer (its people, anywhere): to 210100 Oct 1,000,000, Nov 700,000,
//  Dec 1,300,000; to 360700 200,000 a month. Q4 = 3,600,000 → 4 × 1,200,000 = 480 万元.
//  Nanchang as receiver (its institutions): from 360700 300,000 a month; from 500000 Oct
//  300,000, Nov 300,000, Dec 600,000. Q4 = 2,100,000 → 1 × 700,000 = 70 万元.
//  Ganzhou 360700 as payer: 300,000 a month to 360100 → 4 × 300,000 = 120 万元; as receiver:
//  200,000 a month from 360100 → 20 万元. The province keeps 480 + 120 − 70 − 20 = 510 万元.
//  Usage (第27条, settlement ÷ prepayment): costs of 2026-03, Nanchang's settlement 450 万元
//  against 480 万元 = 93.75% → red; the province computes 2 × 450 − 480 = 420 万元 (第28条).
TEST_F(PrepaymentTest, JiangxiPayerReceiverAndTwiceMonthlyMinusPrepayment) {
  UsePolicy("jiangxi.textproto", yidi::v1::NODE_KIND_PROVINCIAL, "360000", {"360100", "360700"});
  const char* days[] = {"2025-10-15", "2025-11-15", "2025-12-15"};
  const int64_t to_shenyang[] = {1'000'000, 700'000, 1'300'000};
  const int64_t from_chongqing[] = {300'000, 300'000, 600'000};
  for (int i = 0; i < 3; ++i) {
    Settled(days[i], "360100", "210100", to_shenyang[i]);
    Settled(days[i], "360100", "360700", 200'000);
    Settled(days[i], "360700", "360100", 300'000);
    Settled(days[i], "500000", "360100", from_chongqing[i]);
  }
  auto response = Compute("2026-01-29", 2026);
  ASSERT_TRUE(response.ok()) << response.status();
  auto quota = [&](absl::string_view payer, absl::string_view receiver) {
    const PrepaymentQuota* found = Find(*response, payer, receiver, yidi::v1::QUOTA_SCOPE_ALL);
    EXPECT_NE(found, nullptr) << payer << "→" << receiver;
    return found == nullptr ? int64_t{-1} : found->quota_fen();
  };
  EXPECT_EQ(quota("360100", "360000"), 480 * kWan);
  EXPECT_EQ(quota("360700", "360000"), 120 * kWan);
  EXPECT_EQ(quota("360000", "360100"), 70 * kWan);
  EXPECT_EQ(quota("360000", "360700"), 20 * kWan);
  EXPECT_EQ(response->province_reserve_fen(), 510 * kWan);
  EXPECT_EQ(response->obligations_size(), 4);

  // No settlement figure under the settlement policy is refused.
  auto missing = Clear("2026-04-24", "2026-03", "360100", "360000", 400 * kWan);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("settlement_fen"));
  auto clearing = Clear("2026-04-24", "2026-03", "360100", "360000", 400 * kWan, 450 * kWan);
  ASSERT_TRUE(clearing.ok()) << clearing.status();
  EXPECT_EQ(clearing->usage().usage_bp(), 9375);
  EXPECT_EQ(clearing->usage().level(), yidi::v1::WARNING_LEVEL_RED);
  EXPECT_EQ(clearing->usage().suggested_increase_fen(), 420 * kWan);
  // Apply within 3 WD of Friday 04-24: 04-27, 04-28, 04-29.
  EXPECT_EQ(clearing->usage().apply_by(), "2026-04-29");
  auto increase = Apply("2026-04-27", "2026-03", "360100", "360000", /*ignored*/ 1);
  ASSERT_TRUE(increase.ok()) << increase.status();
  EXPECT_EQ(increase->obligation().amount_fen(), 420 * kWan);
  EXPECT_THAT(increase->computation(), HasSubstr("2 × 450.0000 − 480.0000 = 420.0000"));
}

// Liaoning, cross- and intra-province quotas of Shenyang 210100 from 2025:
//  cross: 3,000,000 元 every month to 360100 → Σ 36,000,000 → 4 × 3,000,000 = 1,200 万元;
//   last year 1,300 万元 → not larger: no adjustment, the quota stays 1,300 (第20条).
//  intra: 500,000 a month to 210200 → 4 × 500,000 = 200 万元; last year 100 → adjustment 100,
//   due 20 January (第20条: 各市于1月20日前上解).
// Costs of 2026-03, signed 2026-04-24: clearing 700 万元 (cross), uncleared 550 万元; cleared
// unpaid = the 700 just signed: usage (550 + 700) / 1,300 = 96.15% → red, mandatory.
// Increase (第26条): |1,300 + 0 − 550 − 700| = 50 万元; cap 2 × 700 − 1,300 = 100 → 50 万元.
TEST_F(PrepaymentTest, LiaoningNoDecreaseOutstandingUsageCappedIncreaseAndSuspensions) {
  UsePolicy("liaoning.textproto", yidi::v1::NODE_KIND_PROVINCIAL, "210000", {"210100"});
  for (int month = 1; month <= 12; ++month) {
    const std::string day = absl::StrFormat("2025-%02d-15", month);
    Settled(day, "210100", "360100", 3'000'000);
    Settled(day, "210100", "210200", 500'000);
  }
  auto response =
      Compute("2026-01-06", 2026,
              {Previous("210100", "210000", yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE, 1'300 * kWan),
               Previous("210100", "210000", yidi::v1::QUOTA_SCOPE_INTRA_PROVINCE, 100 * kWan)});
  ASSERT_TRUE(response.ok()) << response.status();
  const PrepaymentQuota* cross =
      Find(*response, "210100", "210000", yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE);
  const PrepaymentQuota* intra =
      Find(*response, "210100", "210000", yidi::v1::QUOTA_SCOPE_INTRA_PROVINCE);
  ASSERT_NE(cross, nullptr);
  ASSERT_NE(intra, nullptr);
  EXPECT_EQ(cross->formula_quota_fen(), 1'200 * kWan);
  EXPECT_EQ(cross->quota_fen(), 1'300 * kWan);
  EXPECT_EQ(cross->adjustment_fen(), 0);
  EXPECT_TRUE(cross->obligation_id().empty());
  EXPECT_EQ(intra->quota_fen(), 200 * kWan);
  EXPECT_EQ(intra->adjustment_fen(), 100 * kWan);
  EXPECT_EQ(Obligation(intra->obligation_id()).pay_by(), "2026-01-20");
  yidi::v1::PaymentConfirmation payment;
  payment.set_bank_name("盛京银行");
  payment.set_transaction_serial_number("SJ2026011900001");
  payment.set_transaction_date("2026-01-19");
  ASSERT_TRUE(Write("2026-01-19", [&](Transaction& tx) {
                return MarkObligationPaid(tx, intra->obligation_id(), payment, clock_.Now());
              }).ok());

  auto clearing = Clear("2026-04-24", "2026-03", "210100", "210000", 700 * kWan, 0, 550 * kWan,
                        yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE);
  ASSERT_TRUE(clearing.ok()) << clearing.status();
  EXPECT_EQ(clearing->usage().numerator_fen(), 1'250 * kWan);
  EXPECT_EQ(clearing->usage().usage_bp(), 9615);
  EXPECT_EQ(clearing->usage().level(), yidi::v1::WARNING_LEVEL_RED);
  EXPECT_TRUE(clearing->usage().increase_mandatory());
  EXPECT_EQ(clearing->usage().suggested_increase_fen(), 50 * kWan);
  // Signed Friday 04-24, 5 WD → 05-06 (劳动节 05-01..05), 10 WD → 05-19 (Saturday 05-09
  // works); next clearing 05-24 (Sunday) → the working day before is Friday 05-22; the earlier
  // of the two: 05-19.
  const TransferObligation cleared = clearing->obligation();
  EXPECT_EQ(cleared.agency_to_finance_due(), "2026-05-06");
  EXPECT_EQ(cleared.finance_transfer_due(), "2026-05-19");
  EXPECT_EQ(cleared.pay_by(), "2026-05-19");

  // Applying on the fourth working day is too late.
  EXPECT_TRUE(absl::IsFailedPrecondition(
      Apply("2026-04-30", "2026-03", "210100", "210000", 0, yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE)
          .status()));
  auto increase =
      Apply("2026-04-27", "2026-03", "210100", "210000", 0, yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE);
  ASSERT_TRUE(increase.ok()) << increase.status();
  EXPECT_EQ(increase->obligation().amount_fen(), 50 * kWan);
  // The same application again is a replay.
  auto replay =
      Apply("2026-04-28", "2026-03", "210100", "210000", 0, yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE);
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed());

  // Suspensions (第28条): the increase signed 04-27 unpaid 10 WD later (05-13) suspends new
  // filings from 05-14; the clearing signed 04-24 unpaid 20 WD later (05-26) may suspend
  // admissions from 05-27, unless a reason for the delay is reported.
  auto suspensions_on = [&](absl::string_view day) {
    auto tx = store_->Begin(TransactionMode::kRead);
    auto obligations = ListObligations(**tx, "210100", 0);
    EXPECT_TRUE(obligations.ok());
    auto suspensions = SuspensionsOf(*obligations, "210100", policy_, calendar_, Day(day));
    EXPECT_TRUE(suspensions.ok()) << suspensions.status();
    return *suspensions;
  };
  EXPECT_TRUE(suspensions_on("2026-05-13").empty());
  auto filings = suspensions_on("2026-05-14");
  ASSERT_EQ(filings.size(), 1u);
  EXPECT_EQ(filings[0].kind(), yidi::v1::SUSPENSION_KIND_NEW_FILINGS);
  absl::Status refused =
      CheckNotSuspended(filings, "210100", yidi::v1::SUSPENSION_KIND_NEW_FILINGS);
  EXPECT_TRUE(absl::IsFailedPrecondition(refused));
  EXPECT_THAT(std::string(refused.message()), HasSubstr("EI-2026-03-210100-210000-X"));
  EXPECT_EQ(suspensions_on("2026-05-26").size(), 1u);
  EXPECT_EQ(suspensions_on("2026-05-27").size(), 2u);  // + admissions for the clearing
  ASSERT_TRUE(Write("2026-05-27", [&](Transaction& tx) {
                return SetDelayReason(tx, cleared.obligation_id(), "财政划拨延迟").status();
              }).ok());
  EXPECT_EQ(suspensions_on("2026-05-27").size(), 1u);
}

// National, the treatment side applies for an amount after red; the increase counts in the
// next clearing's prepayment; payment needs all three bank fields; lateness in working days.
// Quota 660 万元 (2 × Q4 3,300,000). Costs of 2026-03 cleared 600 万元, signed Friday 04-24:
// 600 / 660 = 90.91% → red. 210000 applies on 04-28 for 300 万元: notice signed 04-28, 5 WD
// → 05-08, 10 WD → 05-21 (Saturday 05-09 works); next clearing 05-24 → before it: 05-22; pay
// by 05-21. Costs of 2026-04 cleared 500 万元 on 05-25: (660 + 300) → 52.08%, none.
TEST_F(PrepaymentTest, NationalEmergencyIncreasePaymentAndLateness) {
  UsePolicy("national.textproto", yidi::v1::NODE_KIND_NATIONAL, "000000");
  for (const char* day : {"2025-10-10", "2025-11-10", "2025-12-10"}) {
    Settled(day, "360100", "500000", 3'300'000);
  }
  ASSERT_TRUE(Compute("2026-01-30", 2026).ok());
  auto too_early = Clear("2026-03-31", "2026-03", "360000", "500000", 600 * kWan);
  EXPECT_THAT(std::string(too_early.status().message()), HasSubstr("signed_date"));
  auto red = Clear("2026-04-24", "2026-03", "360000", "500000", 600 * kWan);
  ASSERT_TRUE(red.ok()) << red.status();
  EXPECT_EQ(red->usage().usage_bp(), 9091);
  EXPECT_EQ(red->usage().level(), yidi::v1::WARNING_LEVEL_RED);
  EXPECT_FALSE(red->usage().increase_mandatory());
  // Recording the same clearing again is a replay; other figures are refused.
  EXPECT_TRUE(Clear("2026-04-24", "2026-03", "360000", "500000", 600 * kWan)->replayed());
  EXPECT_TRUE(absl::IsAlreadyExists(
      Clear("2026-04-24", "2026-03", "360000", "500000", 601 * kWan).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      Apply("2026-04-28", "2026-03", "360000", "500000", 0).status()));  // amount required
  auto increase = Apply("2026-04-28", "2026-03", "360000", "500000", 300 * kWan);
  ASSERT_TRUE(increase.ok()) << increase.status();
  const TransferObligation& notice = increase->obligation();
  EXPECT_EQ(notice.payer_region(), "360000");
  EXPECT_EQ(notice.agency_to_finance_due(), "2026-05-08");
  EXPECT_EQ(notice.finance_transfer_due(), "2026-05-21");
  EXPECT_EQ(notice.pay_by(), "2026-05-21");
  EXPECT_TRUE(absl::IsAlreadyExists(
      Apply("2026-04-28", "2026-03", "360000", "500000", 301 * kWan).status()));

  auto next = Clear("2026-05-25", "2026-04", "360000", "500000", 500 * kWan);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->usage().increases_fen(), 300 * kWan);
  EXPECT_EQ(next->usage().prepayment_fen(), 960 * kWan);
  EXPECT_EQ(next->usage().level(), yidi::v1::WARNING_LEVEL_NONE);

  // On 05-25 the increase is 2 working days late (05-22, 05-25).
  auto tx = store_->Begin(TransactionMode::kRead);
  EXPECT_TRUE(IsOverdue(notice, Day("2026-05-25")));
  EXPECT_EQ(*WorkingDaysLate(calendar_, notice, Day("2026-05-25")), 2);
  tx->reset();

  yidi::v1::PaymentConfirmation payment;
  auto pay = [&](const yidi::v1::PaymentConfirmation& confirmation) {
    return Write("2026-05-26", [&](Transaction& t) {
      return MarkObligationPaid(t, notice.obligation_id(), confirmation, clock_.Now());
    });
  };
  EXPECT_THAT(std::string(pay(payment).status().message()), HasSubstr("payment.bank_name"));
  payment.set_bank_name("中国工商银行南昌分行");
  EXPECT_THAT(std::string(pay(payment).status().message()),
              HasSubstr("payment.transaction_serial_number"));
  payment.set_transaction_serial_number("20260526-000123");
  EXPECT_THAT(std::string(pay(payment).status().message()), HasSubstr("payment.transaction_date"));
  payment.set_transaction_date("2026-05-26");
  auto paid = pay(payment);
  ASSERT_TRUE(paid.ok()) << paid.status();
  EXPECT_FALSE(paid->replayed);
  EXPECT_EQ(*WorkingDaysLate(calendar_, paid->obligation, Day("2026-06-30")), 3);
  EXPECT_TRUE(pay(payment)->replayed);
  payment.set_transaction_serial_number("other");
  EXPECT_THAT(std::string(pay(payment).status().message()),
              HasSubstr("payment.transaction_serial_number"));
  // Receipt before payment is refused; after, confirmed once.
  auto received = Write("2026-05-27", [&](Transaction& t) {
    return MarkObligationReceived(t, notice.obligation_id(), "2026-05-27", clock_.Now());
  });
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(received->obligation.state(), yidi::v1::OBLIGATION_STATE_RECEIVED);
  auto open_receipt = Write("2026-05-27", [&](Transaction& t) {
    return MarkObligationReceived(t, next->obligation().obligation_id(), "2026-05-27",
                                  clock_.Now());
  });
  EXPECT_TRUE(absl::IsFailedPrecondition(open_receipt.status()));
}

TEST_F(PrepaymentTest, DeadlinesOutsideTheCalendarAreErrors) {
  UsePolicy("national.textproto", yidi::v1::NODE_KIND_NATIONAL, "000000");
  Settled("2026-12-10", "360100", "500000", 3'300'000);
  // Before the base year has ended its settlements are not all known.
  auto premature = Compute("2026-11-23", 2027);
  EXPECT_TRUE(absl::IsFailedPrecondition(premature.status())) << premature.status();
  auto response = Compute("2027-01-29", 2027);
  EXPECT_TRUE(absl::IsOutOfRange(response.status())) << response.status();
  EXPECT_THAT(std::string(response.status().message()), HasSubstr("2027"));
}

TEST_F(PrepaymentTest, MunicipalNodesIssueNothingAndPairsBelongToTheirIssuer) {
  UsePolicy("national.textproto", yidi::v1::NODE_KIND_MUNICIPAL, "210100");
  EXPECT_TRUE(absl::IsFailedPrecondition(Compute("2026-01-30", 2026).status()));
  UsePolicy("national.textproto", yidi::v1::NODE_KIND_NATIONAL, "000000");
  EXPECT_THAT(std::string(Clear("2026-04-24", "2026-03", "210100", "210200", 1).status().message()),
              HasSubstr("issued by region 210000"));
  EXPECT_TRUE(
      absl::IsInvalidArgument(Clear("2026-04-24", "2026-13", "360000", "500000", 1).status()));
}

TEST(PrepaymentPolicyTest, ShippedPoliciesAreValid) {
  for (const char* file : {"national", "jiangxi", "liaoning", "yunnan"}) {
    yidi::v1::PrepaymentPolicy policy;
    ASSERT_TRUE(
        LoadTextProtoFile(absl::StrCat(YIDI_SOURCE_DIR, "/deploy/prepayment/", file, ".textproto"),
                          &policy)
            .ok())
        << file;
    EXPECT_TRUE(ValidatePrepaymentPolicy(WithNationalDefaults(policy)).ok()) << file;
  }
  EXPECT_TRUE(ValidatePrepaymentPolicy(NationalPrepaymentPolicy()).ok());
  yidi::v1::PrepaymentPolicy bad = NationalPrepaymentPolicy();
  bad.set_yellow_bp(9500);
  EXPECT_THAT(std::string(ValidatePrepaymentPolicy(bad).message()), HasSubstr("yellow_bp"));
}

}  // namespace
}  // namespace yidi
