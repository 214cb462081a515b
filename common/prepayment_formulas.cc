#include "common/prepayment_formulas.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/money.h"
#include "common/status_macros.h"

namespace yidi {

QuotaComputation QuotaFromMonthly(const MonthlyFen& monthly, yidi::v1::QuotaBasePeriod period,
                                  int months) {
  YIDI_CHECK(months >= 1 && months <= 12, "a quota covers 1 to 12 months");
  QuotaComputation computation;
  const bool q4 = period == yidi::v1::QUOTA_BASE_PERIOD_Q4;
  YIDI_CHECK(q4 || period == yidi::v1::QUOTA_BASE_PERIOD_WHOLE_YEAR, "a base period is set");
  computation.base_months = q4 ? 3 : 12;
  for (int month = q4 ? 9 : 0; month < 12; ++month) {
    YIDI_CHECK(monthly[month] >= -kAmountMaxFen && monthly[month] <= kAmountMaxFen,
               "a month's fund payments are bounded, so 12 of them cannot overflow");
    computation.base_total_fen += monthly[month];
  }
  const int64_t base = std::max<int64_t>(0, computation.base_total_fen);
  computation.quota_fen = MulDivRoundHalfUp(base, months, computation.base_months);
  computation.formula = absl::StrCat(months, " × ", q4 ? "Q4" : "whole-year", " monthly average");
  YIDI_CHECK(computation.quota_fen >= 0, "a quota is never negative");
  return computation;
}

QuotaAdjustment AdjustQuota(int64_t formula_quota_fen, int64_t previous_quota_fen,
                            bool no_decrease) {
  YIDI_CHECK(formula_quota_fen >= 0 && previous_quota_fen >= 0, "quotas are never negative");
  if (no_decrease && formula_quota_fen <= previous_quota_fen) {
    return {previous_quota_fen, 0};
  }
  return {formula_quota_fen, formula_quota_fen - previous_quota_fen};
}

UsageFigures ClassifyUsage(int64_t numerator_fen, int64_t prepayment_fen, int32_t yellow_bp,
                           int32_t red_bp, bool red_strictly_above) {
  YIDI_CHECK(numerator_fen >= 0 && prepayment_fen >= 0, "usage inputs are never negative");
  YIDI_CHECK(yellow_bp > 0 && yellow_bp <= red_bp, "thresholds: 0 < yellow <= red");
  UsageFigures figures;
  if (prepayment_fen == 0) {
    figures.level = numerator_fen > 0 ? yidi::v1::WARNING_LEVEL_RED : yidi::v1::WARNING_LEVEL_NONE;
    return figures;
  }
  const __int128 scaled = static_cast<__int128>(numerator_fen) * kRatioFullBp;
  const __int128 red_line = static_cast<__int128>(red_bp) * prepayment_fen;
  const __int128 yellow_line = static_cast<__int128>(yellow_bp) * prepayment_fen;
  const bool red = red_strictly_above ? scaled > red_line : scaled >= red_line;
  if (red) {
    figures.level = yidi::v1::WARNING_LEVEL_RED;
  } else if (scaled >= yellow_line) {
    figures.level = yidi::v1::WARNING_LEVEL_YELLOW;
  }
  const int64_t usage = MulDivRoundHalfUp(numerator_fen, kRatioFullBp, prepayment_fen);
  figures.usage_bp = static_cast<int32_t>(std::min<int64_t>(usage, INT32_MAX));
  return figures;
}

int64_t TwiceMonthlyMinusPrepayment(int64_t monthly_fen, int64_t prepayment_fen) {
  YIDI_CHECK(monthly_fen >= 0 && prepayment_fen >= 0, "inputs are never negative");
  return std::max<int64_t>(0, 2 * monthly_fen - prepayment_fen);
}

int64_t LiaoningTopUp(int64_t quota_fen, int64_t added_fen, int64_t uncleared_fen,
                      int64_t cleared_unpaid_fen) {
  YIDI_CHECK(quota_fen >= 0 && added_fen >= 0 && uncleared_fen >= 0 && cleared_unpaid_fen >= 0,
             "inputs are never negative");
  const int64_t value = quota_fen + added_fen - uncleared_fen - cleared_unpaid_fen;
  return value < 0 ? -value : value;
}

LiaoningIncrease LiaoningEmergencyIncrease(int64_t quota_fen, int64_t added_fen,
                                           int64_t uncleared_fen, int64_t cleared_unpaid_fen,
                                           int64_t monthly_clearing_fen) {
  YIDI_CHECK(monthly_clearing_fen >= 0, "a clearing is never negative");
  LiaoningIncrease increase;
  increase.formula_fen = LiaoningTopUp(quota_fen, added_fen, uncleared_fen, cleared_unpaid_fen);
  increase.cap_fen = std::max<int64_t>(0, 2 * monthly_clearing_fen - quota_fen);
  increase.amount_fen = std::min(increase.formula_fen, increase.cap_fen);
  return increase;
}

}  // namespace yidi
