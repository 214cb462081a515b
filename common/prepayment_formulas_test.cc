// Worked examples of every prepayment formula, computed by hand in the comments (元 and 万元;
// 1 万元 = 10,000 元 = 1,000,000 fen).
#include "common/prepayment_formulas.h"

#include "common/money.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

constexpr int64_t kYuan = 100;            // fen per 元
constexpr int64_t kWan = 10'000 * kYuan;  // fen per 万元

MonthlyFen Months(std::initializer_list<int64_t> yuan) {
  MonthlyFen monthly{};
  int i = 0;
  for (int64_t value : yuan) monthly[i++] = value * kYuan;
  return monthly;
}

// National / Chongqing (000_… 第16条, 22号文§四(一)): 2 × the Q4 monthly average.
// Last year's settlements insured in 360000, treated in 210000: Oct 3,000,000 元, Nov 3,300,000,
// Dec 3,600,000 (January–September do not count). Σ Q4 = 9,900,000; average 3,300,000;
// × 2 = 6,600,000 元 = 660 万元. Last year's quota was 400 万元 plus a 100 万元 emergency
// increase = 500 万元 (附件6 注: 上年额度 includes emergency increases), so the adjustment
// notice asks for 660 − 500 = 160 万元.
TEST(PrepaymentFormulasTest, NationalTwiceQ4Average) {
  const MonthlyFen monthly = Months({9'999'999, 1, 1, 1, 1, 1, 1, 1, 1,  // ignored
                                     3'000'000, 3'300'000, 3'600'000});
  const QuotaComputation quota = QuotaFromMonthly(monthly, yidi::v1::QUOTA_BASE_PERIOD_Q4, 2);
  EXPECT_EQ(quota.base_total_fen, 9'900'000 * kYuan);
  EXPECT_EQ(quota.base_months, 3);
  EXPECT_EQ(quota.quota_fen, 660 * kWan);
  EXPECT_EQ(quota.formula, "2 × Q4 monthly average");
  EXPECT_EQ(FormatWanYuan(quota.quota_fen), "660.0000");

  const QuotaAdjustment adjustment = AdjustQuota(quota.quota_fen, 500 * kWan, false);
  EXPECT_EQ(adjustment.quota_fen, 660 * kWan);
  EXPECT_EQ(adjustment.adjustment_fen, 160 * kWan);

  // A smaller quota is returned ("*", RULES.md 5.4): 660 against 700 → −40 万元.
  EXPECT_EQ(AdjustQuota(660 * kWan, 700 * kWan, false).adjustment_fen, -40 * kWan);
}

// Rounding: Q4 of 1.00 + 1.00 + 2.00 元 = 400 fen; 2 × 400 / 3 = 266.67 → 267 fen (half up).
TEST(PrepaymentFormulasTest, RoundsHalfUpOnce) {
  const MonthlyFen monthly = Months({0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2});
  EXPECT_EQ(QuotaFromMonthly(monthly, yidi::v1::QUOTA_BASE_PERIOD_Q4, 2).quota_fen, 267);
  // More reversed than settled gives no quota, not a negative one.
  MonthlyFen negative{};
  negative[11] = -500;
  EXPECT_EQ(QuotaFromMonthly(negative, yidi::v1::QUOTA_BASE_PERIOD_Q4, 2).quota_fen, 0);
}

// Jiangxi (002_… 第22条): payer 4 × its people's Q4 异地 monthly average; receiver 1 × its
// institutions' Q4 monthly average; the rest stays in the provincial account.
// Nanchang 360100 as payer: Oct 1,200,000 元, Nov 900,000, Dec 1,500,000; Σ 3,600,000; average
// 1,200,000; × 4 = 4,800,000 元 = 480 万元.
// Nanchang as receiver: its institutions treated other regions' people for Oct 600,000,
// Nov 600,000, Dec 900,000; Σ 2,100,000; average 700,000; × 1 = 700,000 元 = 70 万元.
// Ganzhou 360700 as payer: Q4 300,000 × 3 → average 300,000; × 4 = 120 万元; as receiver: Q4
// 150,000 + 150,000 + 150,000 → 15 万元. The province keeps (480 + 120) − (70 + 15) = 515 万元.
TEST(PrepaymentFormulasTest, JiangxiFourTimesPayerOnceReceiver) {
  const QuotaComputation nanchang_payer =
      QuotaFromMonthly(Months({0, 0, 0, 0, 0, 0, 0, 0, 0, 1'200'000, 900'000, 1'500'000}),
                       yidi::v1::QUOTA_BASE_PERIOD_Q4, 4);
  EXPECT_EQ(nanchang_payer.quota_fen, 480 * kWan);
  const QuotaComputation nanchang_receiver =
      QuotaFromMonthly(Months({0, 0, 0, 0, 0, 0, 0, 0, 0, 600'000, 600'000, 900'000}),
                       yidi::v1::QUOTA_BASE_PERIOD_Q4, 1);
  EXPECT_EQ(nanchang_receiver.quota_fen, 70 * kWan);
  const QuotaComputation ganzhou_payer =
      QuotaFromMonthly(Months({0, 0, 0, 0, 0, 0, 0, 0, 0, 300'000, 300'000, 300'000}),
                       yidi::v1::QUOTA_BASE_PERIOD_Q4, 4);
  EXPECT_EQ(ganzhou_payer.quota_fen, 120 * kWan);
  const QuotaComputation ganzhou_receiver =
      QuotaFromMonthly(Months({0, 0, 0, 0, 0, 0, 0, 0, 0, 150'000, 150'000, 150'000}),
                       yidi::v1::QUOTA_BASE_PERIOD_Q4, 1);
  EXPECT_EQ(ganzhou_receiver.quota_fen, 15 * kWan);
  EXPECT_EQ(nanchang_payer.quota_fen + ganzhou_payer.quota_fen - nanchang_receiver.quota_fen -
                ganzhou_receiver.quota_fen,
            515 * kWan);
}

// Liaoning (003_… 第19–20条): 4 months of last year's monthly average; adjustment = new − old;
// "当本年预付金额度等于或小于上年额度时，当年不予调整".
// Shenyang 210100 cross-province, last year 3,000,000 元 every month: Σ 36,000,000; average
// 3,000,000; × 4 = 12,000,000 元 = 1,200 万元.
//  - last year 1,000 万元 → adjustment 200 万元, quota 1,200;
//  - last year 1,300 万元 → new ≤ old: no adjustment, the quota stays 1,300;
//  - last year exactly 1,200 万元 → "等于" also means no adjustment.
TEST(PrepaymentFormulasTest, LiaoningFourMonthsNoDecrease) {
  MonthlyFen monthly{};
  monthly.fill(3'000'000 * kYuan);
  const QuotaComputation quota =
      QuotaFromMonthly(monthly, yidi::v1::QUOTA_BASE_PERIOD_WHOLE_YEAR, 4);
  EXPECT_EQ(quota.base_total_fen, 36'000'000 * kYuan);
  EXPECT_EQ(quota.quota_fen, 1'200 * kWan);
  EXPECT_EQ(AdjustQuota(quota.quota_fen, 1'000 * kWan, true).adjustment_fen, 200 * kWan);
  const QuotaAdjustment kept = AdjustQuota(quota.quota_fen, 1'300 * kWan, true);
  EXPECT_EQ(kept.quota_fen, 1'300 * kWan);
  EXPECT_EQ(kept.adjustment_fen, 0);
  EXPECT_EQ(AdjustQuota(quota.quota_fen, 1'200 * kWan, true).adjustment_fen, 0);
}

// Yunnan intra-province (001_… 第22条): 2 × the whole previous year's monthly average.
// Kunming → Dali last year: Σ 24,000,000 元 (uneven months); average 2,000,000; × 2 =
// 4,000,000 元 = 400 万元.
TEST(PrepaymentFormulasTest, YunnanTwiceWholeYearAverage) {
  const MonthlyFen monthly =
      Months({1'000'000, 3'000'000, 2'000'000, 2'000'000, 2'000'000, 2'000'000, 2'000'000,
              2'000'000, 2'000'000, 2'000'000, 2'000'000, 2'000'000});
  const QuotaComputation quota =
      QuotaFromMonthly(monthly, yidi::v1::QUOTA_BASE_PERIOD_WHOLE_YEAR, 2);
  EXPECT_EQ(quota.base_total_fen, 24'000'000 * kYuan);
  EXPECT_EQ(quota.quota_fen, 400 * kWan);
  EXPECT_EQ(quota.formula, "2 × whole-year monthly average");
}

// Usage and warnings (000_… 第21条; 002_… 第27条; 003_… 第23, 26条). Prepayment 660 万元:
//  - clearing 462 万元: 462 / 660 = 70.00% exactly → yellow (达到70%);
//  - clearing 461.99 万元: 69.998…% → none;
//  - clearing 594 万元: 90.00% exactly → red under "达到90%", only yellow under Liaoning
//    第26条 "超过90%";
//  - clearing 600 万元: 90.909…% → 9091 bp, red under both.
TEST(PrepaymentFormulasTest, UsageThresholdsAreExact) {
  const int64_t prepayment = 660 * kWan;
  auto usage = ClassifyUsage(462 * kWan, prepayment, 7000, 9000, false);
  EXPECT_EQ(usage.usage_bp, 7000);
  EXPECT_EQ(usage.level, yidi::v1::WARNING_LEVEL_YELLOW);
  usage = ClassifyUsage(462 * kWan - 100, prepayment, 7000, 9000, false);
  EXPECT_EQ(usage.usage_bp, 7000);  // rounds to 70.00%, yet the exact fraction is below
  EXPECT_EQ(usage.level, yidi::v1::WARNING_LEVEL_NONE);
  EXPECT_EQ(ClassifyUsage(594 * kWan, prepayment, 7000, 9000, false).level,
            yidi::v1::WARNING_LEVEL_RED);
  EXPECT_EQ(ClassifyUsage(594 * kWan, prepayment, 7000, 9000, true).level,
            yidi::v1::WARNING_LEVEL_YELLOW);
  usage = ClassifyUsage(600 * kWan, prepayment, 7000, 9000, true);
  EXPECT_EQ(usage.usage_bp, 9091);
  EXPECT_EQ(usage.level, yidi::v1::WARNING_LEVEL_RED);
  EXPECT_EQ(ClassifyUsage(1, 0, 7000, 9000, false).level, yidi::v1::WARNING_LEVEL_RED);
  EXPECT_EQ(ClassifyUsage(0, 0, 7000, 9000, false).level, yidi::v1::WARNING_LEVEL_NONE);
}

// Jiangxi emergency increase (002_… 第28条), read as 2M − P: monthly settlement M = 450 万元,
// prepayment P = 480 万元. Usage (settlement ÷ prepayment) = 450 / 480 = 93.75% → red; the
// increase is 2 × 450 − 480 = 420 万元, bringing the prepayment to 900 万元 = 2M. (The other
// reading, 2 × (M − P) = −60 万元, would be negative for every usage below 100%.)
TEST(PrepaymentFormulasTest, JiangxiTwiceMonthlyMinusPrepayment) {
  const auto usage = ClassifyUsage(450 * kWan, 480 * kWan, 7000, 9000, false);
  EXPECT_EQ(usage.usage_bp, 9375);
  EXPECT_EQ(usage.level, yidi::v1::WARNING_LEVEL_RED);
  EXPECT_EQ(TwiceMonthlyMinusPrepayment(450 * kWan, 480 * kWan), 420 * kWan);
  EXPECT_EQ(TwiceMonthlyMinusPrepayment(200 * kWan, 480 * kWan), 0);
}

// Liaoning (003_… 第23, 24, 26条). Quota Q = 1,200 万元, added A = 0.
//  - Uncleared U = 800, cleared but unpaid C = 350: usage (800 + 350) / 1,200 = 95.83% → red.
//    Formula |1,200 + 0 − 800 − 350| = 50 万元; this month's clearing M = 700 → cap
//    2 × 700 − 1,200 = 200; the increase is min(50, 200) = 50 万元.
//  - U = 1,000, C = 400: |1,200 − 1,400| = 200 (a negative result applied as its absolute
//    value); M = 650 → cap 2 × 650 − 1,200 = 100 → capped at 100 万元.
//  - M = 550 → cap 2 × 550 − 1,200 = −100 → 0: no increase.
//  - Top-up at yellow (第24条): U = 700, C = 150 (usage 70.8%) → |1,200 − 850| = 350 万元.
TEST(PrepaymentFormulasTest, LiaoningFormulaAndCap) {
  EXPECT_EQ(ClassifyUsage(1'150 * kWan, 1'200 * kWan, 7000, 9000, false).usage_bp, 9583);
  LiaoningIncrease increase =
      LiaoningEmergencyIncrease(1'200 * kWan, 0, 800 * kWan, 350 * kWan, 700 * kWan);
  EXPECT_EQ(increase.formula_fen, 50 * kWan);
  EXPECT_EQ(increase.cap_fen, 200 * kWan);
  EXPECT_EQ(increase.amount_fen, 50 * kWan);
  increase = LiaoningEmergencyIncrease(1'200 * kWan, 0, 1'000 * kWan, 400 * kWan, 650 * kWan);
  EXPECT_EQ(increase.formula_fen, 200 * kWan);
  EXPECT_EQ(increase.cap_fen, 100 * kWan);
  EXPECT_EQ(increase.amount_fen, 100 * kWan);
  increase = LiaoningEmergencyIncrease(1'200 * kWan, 0, 1'000 * kWan, 400 * kWan, 550 * kWan);
  EXPECT_EQ(increase.cap_fen, 0);
  EXPECT_EQ(increase.amount_fen, 0);
  EXPECT_EQ(ClassifyUsage(850 * kWan, 1'200 * kWan, 7000, 9000, false).level,
            yidi::v1::WARNING_LEVEL_YELLOW);
  EXPECT_EQ(LiaoningTopUp(1'200 * kWan, 0, 700 * kWan, 150 * kWan), 350 * kWan);
}

}  // namespace
}  // namespace yidi
