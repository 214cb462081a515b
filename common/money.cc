#include "common/money.h"

#include <cstdlib>

#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace yidi {

int64_t MulDivRoundHalfUp(int64_t amount_fen, int64_t numerator, int64_t denominator) {
  YIDI_CHECK(denominator > 0, "a ratio's denominator is positive");
  const __int128 product = static_cast<__int128>(amount_fen) * numerator;
  const bool negative = product < 0;
  const __int128 magnitude = negative ? -product : product;
  __int128 quotient = magnitude / denominator;
  const __int128 remainder = magnitude % denominator;
  if (remainder * 2 >= denominator) ++quotient;  // half up (away from zero)
  const __int128 result = negative ? -quotient : quotient;
  YIDI_CHECK(result <= INT64_MAX && result >= INT64_MIN, "a rounded amount fits in int64");
  return static_cast<int64_t>(result);
}

int64_t ApplyRatio(int64_t amount_fen, int32_t ratio_bp) {
  YIDI_CHECK(ratio_bp >= 0 && ratio_bp <= kRatioFullBp, "a ratio lies within 0..100%");
  return MulDivRoundHalfUp(amount_fen, ratio_bp, kRatioFullBp);
}

absl::StatusOr<int64_t> LineAmountFen(int64_t quantity_milli, int64_t unit_price_fen) {
  if (quantity_milli < 0 || unit_price_fen < 0) {
    return absl::InvalidArgumentError("quantity and unit price must not be negative");
  }
  // Round in 128 bits first, then compare: the limit applies to the amount as billed.
  const __int128 product = static_cast<__int128>(quantity_milli) * unit_price_fen;
  const __int128 rounded = (product + 500) / 1000;
  if (rounded > kAmountMaxFen) {
    return absl::InvalidArgumentError(
        absl::StrFormat("line amount exceeds the limit of %d fen", kAmountMaxFen));
  }
  return static_cast<int64_t>(rounded);
}

std::string FormatYuan(int64_t amount_fen) {
  const bool negative = amount_fen < 0;
  const uint64_t magnitude =
      negative ? static_cast<uint64_t>(-(amount_fen + 1)) + 1 : static_cast<uint64_t>(amount_fen);
  return absl::StrFormat("%s%d.%02d", negative ? "-" : "", magnitude / 100, magnitude % 100);
}

std::string FormatWanYuan(int64_t amount_fen) {
  // 1 万元 = 1,000,000 fen; print whole 元 (4 decimals of 万元).
  const int64_t yuan = MulDivRoundHalfUp(amount_fen, 1, 100);
  const bool negative = yuan < 0;
  const int64_t magnitude = negative ? -yuan : yuan;
  return absl::StrFormat("%s%d.%04d", negative ? "-" : "", magnitude / 10000, magnitude % 10000);
}

}  // namespace yidi
