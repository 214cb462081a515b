// Prepayment (预付金) formulas as pure functions: quotas from last year's monthly fund payments,
// the yearly adjustment, the usage rate and its warning level, and each jurisdiction's
// emergency increase (RULES.md 6.2, 6.4, 6.5). Amounts in fen, rates in basis points; every
// division rounds half up to the fen once (common/money.h). No I/O; safe from any thread.
// Worked examples, computed by hand: prepayment_formulas_test.cc.
#ifndef YIDI_COMMON_PREPAYMENT_FORMULAS_H_
#define YIDI_COMMON_PREPAYMENT_FORMULAS_H_

#include <array>
#include <cstdint>
#include <string>

#include "yidi/v1/prepayment.pb.h"

namespace yidi {

// One year's fund payments of a pair (or a region), index 0 = January.
using MonthlyFen = std::array<int64_t, 12>;

struct QuotaComputation {
  int64_t base_total_fen = 0;  // Σ over the base period
  int base_months = 0;         // 3 (Q4) or 12 (whole year)
  int64_t quota_fen = 0;       // months × base_total / base_months, half up
  std::string formula;         // "2 × Q4 monthly average"
};

// quota = `months` × the monthly average of the base period of `monthly` (last year's).
// National and Chongqing: Q4, 2 (第16条); Jiangxi: Q4, 4 for the payer and 1 for the receiver
// (第22条); Liaoning: whole year, 4 (第19条: "可支付上年平均4个月"); Yunnan: whole year, 2
// (第22条). REQUIRES: months in [1, 12]; every monthly amount in [-kAmountMaxFen, kAmountMaxFen]. A
// negative base (more reversed than settled) gives a quota of 0.
QuotaComputation QuotaFromMonthly(const MonthlyFen& monthly, yidi::v1::QuotaBasePeriod period,
                                  int months);

struct QuotaAdjustment {
  int64_t quota_fen = 0;       // 本年核定额度 as it stands
  int64_t adjustment_fen = 0;  // 实际划款额度 = quota − previous; negative is money returned
};

// The adjustment against last year's quota, where `previous_quota_fen` includes last year's
// emergency increases (附件6 注). With `no_decrease` (Liaoning 第20条) a new quota that is not
// larger leaves last year's quota in place and moves nothing. REQUIRES: both >= 0.
QuotaAdjustment AdjustQuota(int64_t formula_quota_fen, int64_t previous_quota_fen,
                            bool no_decrease);

struct UsageFigures {
  int32_t usage_bp = 0;  // numerator ÷ prepayment, half up; 0 when the prepayment is 0
  yidi::v1::WarningLevel level = yidi::v1::WARNING_LEVEL_NONE;
};

// The usage rate and its level: yellow at >= yellow_bp, red at >= red_bp (or > red_bp when
// `red_strictly_above`, Liaoning 第26条 "超过90%"). The comparison is exact (128-bit cross
// multiplication), never on the rounded rate. No prepayment at all with something to pay is
// red. REQUIRES: numerator >= 0, prepayment >= 0, 0 < yellow_bp <= red_bp.
UsageFigures ClassifyUsage(int64_t numerator_fen, int64_t prepayment_fen, int32_t yellow_bp,
                           int32_t red_bp, bool red_strictly_above);

// Jiangxi 第28条 "月度结算资金与预付金的二倍差额", read as 2 × monthly settlement − prepayment
// (docs/DECISIONS.md D104); never negative. REQUIRES: both >= 0.
int64_t TwiceMonthlyMinusPrepayment(int64_t monthly_fen, int64_t prepayment_fen);

struct LiaoningIncrease {
  int64_t formula_fen = 0;  // |quota + added − uncleared − cleared unpaid| (第26条)
  int64_t cap_fen = 0;      // max(0, 2 × this month's clearing − the annual quota)
  int64_t amount_fen = 0;   // min(formula, cap)
};

// Liaoning as treatment province (第26条): 调增金额 = 本年度核定预付金 + 本年已追加 − 未清算应支付
// − 已清算未拨付, a negative result applied as its absolute value, capped at 当期月度清算资金两倍
// 与年度预付金的差额 (docs/DECISIONS.md D105). REQUIRES: all >= 0.
LiaoningIncrease LiaoningEmergencyIncrease(int64_t quota_fen, int64_t added_fen,
                                           int64_t uncleared_fen, int64_t cleared_unpaid_fen,
                                           int64_t monthly_clearing_fen);

// Liaoning 第24条 at yellow: 追加金额 = the same expression, absolute value, no cap.
int64_t LiaoningTopUp(int64_t quota_fen, int64_t added_fen, int64_t uncleared_fen,
                      int64_t cleared_unpaid_fen);

}  // namespace yidi

#endif  // YIDI_COMMON_PREPAYMENT_FORMULAS_H_
