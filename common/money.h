// Money: every amount is an integer number of fen (分) in int64; every ratio is basis points
// (1 bp = 0.01%). Rounding happens here and nowhere else: half up to the fen, once per
// computed amount (docs/DECISIONS.md). No floating point touches money.
#ifndef YIDI_COMMON_MONEY_H_
#define YIDI_COMMON_MONEY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace yidi {

// 100% in basis points.
inline constexpr int32_t kRatioFullBp = 10000;

// The largest amount one bill, line or accumulator may carry: 10^12 fen = 100 亿元. Far above
// any real bill, far below int64 overflow even when a year of bills is summed.
inline constexpr int64_t kAmountMaxFen = 1'000'000'000'000;

// round_half_up(amount_fen * numerator / denominator), exact for all int64 inputs (the
// product is computed in 128 bits). Half rounds away from zero, so negating the input negates
// the output: a reversal rounds exactly like the original.
// REQUIRES: denominator > 0 and the result fits in int64.
int64_t MulDivRoundHalfUp(int64_t amount_fen, int64_t numerator, int64_t denominator);

// amount_fen × ratio_bp / 10000, rounded half up. REQUIRES: 0 <= ratio_bp <= 10000.
int64_t ApplyRatio(int64_t amount_fen, int32_t ratio_bp);

// A fee line's amount: quantity in thousandths × unit price, rounded half up.
// INVALID_ARGUMENT when negative inputs or the result exceeds kAmountMaxFen.
absl::StatusOr<int64_t> LineAmountFen(int64_t quantity_milli, int64_t unit_price_fen);

// "1234.56" (元 with two decimals, as the clearing tables print); negative as "-1234.56".
std::string FormatYuan(int64_t amount_fen);

// "12.3456" 万元 with four decimals (one fen = 0.000001 万元 is below print resolution; the
// prepayment forms print 万元 and we keep 4 decimals, i.e. whole 元). Rounds half up.
std::string FormatWanYuan(int64_t amount_fen);

}  // namespace yidi

#endif  // YIDI_COMMON_MONEY_H_
