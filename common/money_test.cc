// Tests for common/money.h: half-up rounding away from zero, exact 128-bit intermediates,
// fee-line amounts and their limits, and the printed forms of amounts.
#include "common/money.h"

#include <cstdint>
#include <iostream>
#include <limits>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();  // 9223372036854775807
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();  // -9223372036854775808

// ---------------------------------------------------------------------------------------------
// MulDivRoundHalfUp

TEST(MulDivRoundHalfUpTest, ExactQuotientsNeedNoRounding) {
  EXPECT_EQ(MulDivRoundHalfUp(0, 7, 3), 0);
  EXPECT_EQ(MulDivRoundHalfUp(10000, 8000, 10000), 8000);  // 100.00 元 × 80%
  EXPECT_EQ(MulDivRoundHalfUp(6, 1, 3), 2);
  EXPECT_EQ(MulDivRoundHalfUp(-6, 1, 3), -2);
}

TEST(MulDivRoundHalfUpTest, BelowHalfRoundsDownAboveHalfRoundsUp) {
  EXPECT_EQ(MulDivRoundHalfUp(4, 1, 3), 1);         // 1.333 → 1
  EXPECT_EQ(MulDivRoundHalfUp(5, 1, 3), 2);         // 1.667 → 2
  EXPECT_EQ(MulDivRoundHalfUp(1, 1, 3), 0);         // 0.333 → 0
  EXPECT_EQ(MulDivRoundHalfUp(2, 1, 3), 1);         // 0.667 → 1
  EXPECT_EQ(MulDivRoundHalfUp(1, 4999, 10000), 0);  // 0.4999 → 0
  EXPECT_EQ(MulDivRoundHalfUp(1, 5001, 10000), 1);  // 0.5001 → 1
}

TEST(MulDivRoundHalfUpTest, ExactHalfRoundsUp) {
  EXPECT_EQ(MulDivRoundHalfUp(1, 1, 2), 1);            // 0.5 → 1
  EXPECT_EQ(MulDivRoundHalfUp(5, 1, 2), 3);            // 2.5 → 3 (not banker's 2)
  EXPECT_EQ(MulDivRoundHalfUp(7, 5000, 10000), 4);     // 3.5 → 4
  EXPECT_EQ(MulDivRoundHalfUp(12345, 5000, 10000), 6173);  // 6172.5 → 6173
  EXPECT_EQ(MulDivRoundHalfUp(1500, 333, 1000), 500);  // 499.5 → 500
}

TEST(MulDivRoundHalfUpTest, NegativeRoundsAwayFromZeroSymmetrically) {
  EXPECT_EQ(MulDivRoundHalfUp(-1, 1, 2), -1);           // -0.5 → -1
  EXPECT_EQ(MulDivRoundHalfUp(-5, 1, 2), -3);           // -2.5 → -3 (not -2)
  EXPECT_EQ(MulDivRoundHalfUp(-7, 5000, 10000), -4);    // -3.5 → -4
  EXPECT_EQ(MulDivRoundHalfUp(-4, 1, 3), -1);           // -1.333 → -1
  EXPECT_EQ(MulDivRoundHalfUp(-5, 1, 3), -2);           // -1.667 → -2
  EXPECT_EQ(MulDivRoundHalfUp(-12345, 5000, 10000), -6173);
  // A negative numerator negates the same way as a negative amount.
  EXPECT_EQ(MulDivRoundHalfUp(5, -1, 2), -3);
  EXPECT_EQ(MulDivRoundHalfUp(-5, -1, 2), 3);
}

TEST(MulDivRoundHalfUpTest, ReversalRoundsLikeOriginalForSeededRandomInputs) {
  const uint64_t seed = 20260105;
  std::cout << "seed=" << seed << "\n";
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int64_t> amounts(0, 1'000'000'000'000);
  std::uniform_int_distribution<int64_t> ratios(0, 10000);
  std::uniform_int_distribution<int64_t> denominators(1, 100000);
  for (int i = 0; i < 10000; ++i) {
    const int64_t amount = amounts(random);
    const int64_t numerator = ratios(random);
    const int64_t denominator = denominators(random);
    const int64_t original = MulDivRoundHalfUp(amount, numerator, denominator);
    ASSERT_EQ(MulDivRoundHalfUp(-amount, numerator, denominator), -original)
        << "seed=" << seed << " amount=" << amount << " numerator=" << numerator
        << " denominator=" << denominator;
    // Half up: the result lies within half a unit of the exact quotient, checked without
    // rounding: |2·(result·d − a·n)| ≤ d, and exactly d only when rounding up.
    const __int128 difference =
        static_cast<__int128>(original) * denominator - static_cast<__int128>(amount) * numerator;
    ASSERT_LE(2 * difference, denominator) << "seed=" << seed << " i=" << i;
    ASSERT_GT(2 * difference, -denominator) << "seed=" << seed << " i=" << i;
  }
}

TEST(MulDivRoundHalfUpTest, ProductIsExactBeyondInt64) {
  // INT64_MAX × 10000 overflows int64 by far; the 128-bit product keeps it exact.
  EXPECT_EQ(MulDivRoundHalfUp(kInt64Max, 10000, 10000), kInt64Max);
  EXPECT_EQ(MulDivRoundHalfUp(kInt64Min, 10000, 10000), kInt64Min);
  EXPECT_EQ(MulDivRoundHalfUp(-kInt64Max, 10000, 10000), -kInt64Max);
  EXPECT_EQ(MulDivRoundHalfUp(kInt64Max, kInt64Max, kInt64Max), kInt64Max);
  // 9223372036854775807 × 0.9999 = 9222449699651090329.4193 → ...329
  EXPECT_EQ(MulDivRoundHalfUp(kInt64Max, 9999, 10000), 9222449699651090329);
  EXPECT_EQ(MulDivRoundHalfUp(-kInt64Max, 9999, 10000), -9222449699651090329);
  // 9223372036854775807 / 2 = 4611686018427387903.5 → ...904, and symmetric.
  EXPECT_EQ(MulDivRoundHalfUp(kInt64Max, 1, 2), 4611686018427387904);
  EXPECT_EQ(MulDivRoundHalfUp(-kInt64Max, 1, 2), -4611686018427387904);
  // INT64_MIN / 2 is exact.
  EXPECT_EQ(MulDivRoundHalfUp(kInt64Min, 1, 2), -4611686018427387904);
  // 10^15 × 9999 / 10000 = 999 900 000 000 000 exactly.
  EXPECT_EQ(MulDivRoundHalfUp(1'000'000'000'000'000, 9999, 10000), 999'900'000'000'000);
}

// ---------------------------------------------------------------------------------------------
// ApplyRatio

TEST(ApplyRatioTest, ZeroAndFullRatio) {
  EXPECT_EQ(ApplyRatio(12345, 0), 0);
  EXPECT_EQ(ApplyRatio(12345, kRatioFullBp), 12345);
  EXPECT_EQ(ApplyRatio(-12345, 0), 0);
  EXPECT_EQ(ApplyRatio(-12345, kRatioFullBp), -12345);
  EXPECT_EQ(ApplyRatio(kAmountMaxFen, kRatioFullBp), kAmountMaxFen);
  EXPECT_EQ(ApplyRatio(kInt64Max, kRatioFullBp), kInt64Max);
  EXPECT_EQ(ApplyRatio(0, 8000), 0);
}

TEST(ApplyRatioTest, RoundsHalfUpSymmetrically) {
  EXPECT_EQ(ApplyRatio(12345, 5000), 6173);    // 6172.5 → 6173
  EXPECT_EQ(ApplyRatio(-12345, 5000), -6173);  // -6172.5 → -6173
  EXPECT_EQ(ApplyRatio(12345, 1000), 1235);    // 1234.5 → 1235
  EXPECT_EQ(ApplyRatio(12344, 1000), 1234);    // 1234.4 → 1234
  EXPECT_EQ(ApplyRatio(900000, 8000), 720000);
  EXPECT_EQ(ApplyRatio(5, 7000), 4);           // 3.5 → 4
  EXPECT_EQ(ApplyRatio(1, 1), 0);              // 0.0001 → 0
}

// ---------------------------------------------------------------------------------------------
// LineAmountFen

TEST(LineAmountFenTest, QuantityInThousandthsTimesPrice) {
  EXPECT_EQ(LineAmountFen(1000, 12345).value(), 12345);  // 1 × 123.45 元
  EXPECT_EQ(LineAmountFen(2000, 12345).value(), 24690);
  EXPECT_EQ(LineAmountFen(1500, 333).value(), 500);      // 1.5 × 333 = 499.5 → 500
  EXPECT_EQ(LineAmountFen(1500, 331).value(), 497);      // 496.5 → 497
  EXPECT_EQ(LineAmountFen(333, 1501).value(), 500);      // 0.333 × 1501 = 499.833 → 500
  EXPECT_EQ(LineAmountFen(500, 1).value(), 1);           // 0.5 → 1
  EXPECT_EQ(LineAmountFen(499, 1).value(), 0);           // 0.499 → 0
  EXPECT_EQ(LineAmountFen(1, 1).value(), 0);             // 0.001 → 0
  EXPECT_EQ(LineAmountFen(0, 12345).value(), 0);
  EXPECT_EQ(LineAmountFen(1000, 0).value(), 0);
}

TEST(LineAmountFenTest, NegativeInputsAreInvalid) {
  EXPECT_EQ(LineAmountFen(-1000, 100).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LineAmountFen(1000, -100).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LineAmountFen(-1000, -100).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LineAmountFen(-1, 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LineAmountFenTest, LimitIsInclusive) {
  EXPECT_EQ(LineAmountFen(1000, kAmountMaxFen).value(), kAmountMaxFen);
  EXPECT_EQ(LineAmountFen(1, kAmountMaxFen * 1000).value(), kAmountMaxFen);
  // 0.001 × (10^15 + 499) = 10^12 + 0.499 → 10^12: still within the limit.
  EXPECT_EQ(LineAmountFen(1, kAmountMaxFen * 1000 + 499).value(), kAmountMaxFen);
}

TEST(LineAmountFenTest, BeyondLimitIsInvalid) {
  auto over = LineAmountFen(1000, kAmountMaxFen + 1);
  ASSERT_EQ(over.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(over.status().message(), HasSubstr("1000000000000"));
  EXPECT_EQ(LineAmountFen(2000, kAmountMaxFen).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LineAmountFen(1001, kAmountMaxFen).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Far beyond int64 when multiplied: must not wrap around into a small valid amount.
  EXPECT_EQ(LineAmountFen(kInt64Max, kInt64Max).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LineAmountFen(kInt64Max, 2).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LineAmountFenTest, RoundingAcrossLimitIsInvalid) {
  // 0.001 × (10^15 + 500) = 10^12 + 0.5 → rounds to 10^12 + 1 fen, above kAmountMaxFen: the
  // limit applies to the rounded amount (once a bug: the truncated quotient was compared).
  EXPECT_EQ(LineAmountFen(1, kAmountMaxFen * 1000 + 500).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// FormatYuan

TEST(FormatYuanTest, TwoDecimals) {
  EXPECT_EQ(FormatYuan(0), "0.00");
  EXPECT_EQ(FormatYuan(5), "0.05");
  EXPECT_EQ(FormatYuan(50), "0.50");
  EXPECT_EQ(FormatYuan(100), "1.00");
  EXPECT_EQ(FormatYuan(123456), "1234.56");
  EXPECT_EQ(FormatYuan(kAmountMaxFen), "10000000000.00");
}

TEST(FormatYuanTest, Negative) {
  EXPECT_EQ(FormatYuan(-12345), "-123.45");
  EXPECT_EQ(FormatYuan(-5), "-0.05");
  EXPECT_EQ(FormatYuan(-100), "-1.00");
}

TEST(FormatYuanTest, Int64Extremes) {
  EXPECT_EQ(FormatYuan(kInt64Max), "92233720368547758.07");
  // -INT64_MIN does not fit in int64; the magnitude must still be exact.
  EXPECT_EQ(FormatYuan(kInt64Min), "-92233720368547758.08");
}

// ---------------------------------------------------------------------------------------------
// FormatWanYuan

TEST(FormatWanYuanTest, FourDecimalsOfWanYuan) {
  EXPECT_EQ(FormatWanYuan(0), "0.0000");
  EXPECT_EQ(FormatWanYuan(1'000'000), "1.0000");      // 1 万元 = 10^6 fen
  EXPECT_EQ(FormatWanYuan(12'345'600), "12.3456");    // 123456 元
  EXPECT_EQ(FormatWanYuan(100), "0.0001");            // 1 元
  EXPECT_EQ(FormatWanYuan(kAmountMaxFen), "1000000.0000");  // 100 亿元
}

TEST(FormatWanYuanTest, RoundsToWholeYuanHalfUp) {
  EXPECT_EQ(FormatWanYuan(49), "0.0000");             // 0.49 元 → 0
  EXPECT_EQ(FormatWanYuan(50), "0.0001");             // 0.50 元 → 1 元
  EXPECT_EQ(FormatWanYuan(123'456'789), "123.4568");  // 1234567.89 元 → 1234568 元
  EXPECT_EQ(FormatWanYuan(123'456'749), "123.4567");  // 1234567.49 元 → 1234567 元
}

TEST(FormatWanYuanTest, NegativeSymmetricAndNoNegativeZero) {
  EXPECT_EQ(FormatWanYuan(-50), "-0.0001");
  EXPECT_EQ(FormatWanYuan(-123'456'789), "-123.4568");
  EXPECT_EQ(FormatWanYuan(-49), "0.0000");  // rounds to 0 元: no "-0.0000"
}

TEST(FormatWanYuanTest, Int64Extremes) {
  // 92233720368547758.07 元 → 92233720368547758 元 = 9223372036854.7758 万元
  EXPECT_EQ(FormatWanYuan(kInt64Max), "9223372036854.7758");
  EXPECT_EQ(FormatWanYuan(kInt64Min), "-9223372036854.7758");  // ...58.08 元 → ...58 元
}

}  // namespace
}  // namespace yidi
