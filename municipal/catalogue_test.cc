// Tests for municipal/catalogue.h: fee splitting of single lines (amounts computed by hand),
// whole bills summarised by category or kept line by line, the catalogue's own validation, and
// a seeded property: the four parts always add up to the amount and are never negative.
#include "municipal/catalogue.h"

#include <cstdint>
#include <iostream>
#include <random>
#include <string>

#include "common/money.h"
#include "common/settlement_validation.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace yidi::municipal {
namespace {

using ::testing::HasSubstr;
using yidi::v1::CatalogueItem;
using yidi::v1::FeeLine;
using yidi::v1::FeeSplit;

// A01 class A western medicine; A02 class A bed, cap 50.00 元; B01 class B 10% co-pay western
// medicine; B02 class B 5% co-pay examination, cap 10.00 元; C01 class C materials; C02 class C
// materials, cap 1.00 元.
constexpr char kCatalogueText[] = R"pb(
  region_code: "360100"
  effective_from: "2026-01-01"
  items { code: "A01" fee_category: FEE_CATEGORY_WESTERN_MEDICINE catalogue_class: CATALOGUE_CLASS_A }
  items { code: "A02" fee_category: FEE_CATEGORY_BED catalogue_class: CATALOGUE_CLASS_A price_cap_fen: 5000 }
  items { code: "B01" fee_category: FEE_CATEGORY_WESTERN_MEDICINE catalogue_class: CATALOGUE_CLASS_B class_b_copay_bp: 1000 }
  items { code: "B02" fee_category: FEE_CATEGORY_EXAMINATION catalogue_class: CATALOGUE_CLASS_B class_b_copay_bp: 500 price_cap_fen: 1000 }
  items { code: "C01" fee_category: FEE_CATEGORY_MEDICAL_MATERIALS catalogue_class: CATALOGUE_CLASS_C }
  items { code: "C02" fee_category: FEE_CATEGORY_MEDICAL_MATERIALS catalogue_class: CATALOGUE_CLASS_C price_cap_fen: 100 }
)pb";

yidi::v1::Catalogue ParseCatalogue(const char* text) {
  yidi::v1::Catalogue catalogue;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &catalogue)) << text;
  return catalogue;
}

CatalogueIndex MakeIndex() {
  auto index = CatalogueIndex::Build(ParseCatalogue(kCatalogueText));
  EXPECT_TRUE(index.ok()) << index.status();
  return *std::move(index);
}

// A line whose amount is computed as the validator requires.
FeeLine Line(int number, const std::string& item, int64_t quantity_milli, int64_t unit_price_fen) {
  FeeLine line;
  line.set_line_number(number);
  line.set_item_code(item);
  line.set_quantity_milli(quantity_milli);
  line.set_unit_price_fen(unit_price_fen);
  line.set_amount_fen(LineAmountFen(quantity_milli, unit_price_fen).value());
  return line;
}

CatalogueItem Item(yidi::v1::CatalogueClass klass, int32_t copay_bp, int64_t cap_fen) {
  CatalogueItem item;
  item.set_code("I");
  item.set_fee_category(yidi::v1::FEE_CATEGORY_OTHER);
  item.set_catalogue_class(klass);
  item.set_class_b_copay_bp(copay_bp);
  item.set_price_cap_fen(cap_fen);
  return item;
}

void ExpectSplit(const FeeSplit& split, int64_t total, int64_t in_scope, int64_t copay,
                 int64_t over_cap, int64_t self_pay) {
  EXPECT_EQ(split.total_fen(), total);
  EXPECT_EQ(split.in_scope_fen(), in_scope);
  EXPECT_EQ(split.class_b_copay_fen(), copay);
  EXPECT_EQ(split.over_cap_fen(), over_cap);
  EXPECT_EQ(split.self_pay_fen(), self_pay);
}

class CatalogueTest : public ::testing::Test {
 protected:
  CatalogueTest() : index_(MakeIndex()) {}
  const CatalogueItem& Find(const std::string& code) {
    const CatalogueItem* item = index_.Find(code);
    EXPECT_NE(item, nullptr) << code;
    return *item;
  }
  CatalogueIndex index_;
};

// ---------------------------------------------------------------------------------------------
// ClassifyLine

TEST_F(CatalogueTest, ClassAIsFullyInScope) {
  // 2 × 12.34 = 24.68 元
  ExpectSplit(ClassifyLine(Find("A01"), Line(1, "A01", 2000, 1234)), 2468, 2468, 0, 0, 0);
}

TEST_F(CatalogueTest, ClassBCopayRoundsHalfUp) {
  // 123.45 元 × 10% = 12.345 元 → 1235 fen (half up); in scope 12345 − 1235 = 11110.
  ExpectSplit(ClassifyLine(Find("B01"), Line(1, "B01", 1000, 12345)), 12345, 11110, 1235, 0, 0);
  // 123.44 元 × 10% = 12.344 → 1234; in scope 11110.
  ExpectSplit(ClassifyLine(Find("B01"), Line(1, "B01", 1000, 12344)), 12344, 11110, 1234, 0, 0);
  // 100.00 元 × 10% = 10.00 exactly.
  ExpectSplit(ClassifyLine(Find("B01"), Line(1, "B01", 1000, 10000)), 10000, 9000, 1000, 0, 0);
  // 0.05 元 × 10% = 0.5 fen → 1 fen; in scope 4.
  ExpectSplit(ClassifyLine(Find("B01"), Line(1, "B01", 1000, 5)), 5, 4, 1, 0, 0);
}

TEST_F(CatalogueTest, ClassBCopayAtTheEdgesOfTheRatio) {
  ExpectSplit(ClassifyLine(Item(yidi::v1::CATALOGUE_CLASS_B, 0, 0), Line(1, "I", 1000, 777)),
              777, 777, 0, 0, 0);
  ExpectSplit(
      ClassifyLine(Item(yidi::v1::CATALOGUE_CLASS_B, 10000, 0), Line(1, "I", 1000, 777)), 777,
      0, 777, 0, 0);
}

TEST_F(CatalogueTest, ClassCIsSelfPay) {
  ExpectSplit(ClassifyLine(Find("C01"), Line(1, "C01", 1000, 5000)), 5000, 0, 0, 0, 5000);
}

TEST_F(CatalogueTest, PriceCapOverAndUnder) {
  // Over: 3 × 60.00 = 180.00 元; capped 3 × 50.00 = 150.00; over cap 30.00; in scope 150.00.
  ExpectSplit(ClassifyLine(Find("A02"), Line(1, "A02", 3000, 6000)), 18000, 15000, 0, 3000, 0);
  // Under: 3 × 40.00 = 120.00, no over-cap part.
  ExpectSplit(ClassifyLine(Find("A02"), Line(1, "A02", 3000, 4000)), 12000, 12000, 0, 0, 0);
  // At the cap exactly: nothing over.
  ExpectSplit(ClassifyLine(Find("A02"), Line(1, "A02", 3000, 5000)), 15000, 15000, 0, 0, 0);
  // One fen over: 3 × 50.01 = 150.03; capped 150.00; over cap 3 fen.
  ExpectSplit(ClassifyLine(Find("A02"), Line(1, "A02", 3000, 5001)), 15003, 15000, 0, 3, 0);
}

TEST_F(CatalogueTest, PriceCapAndClassBTogether) {
  // 2.5 × 15.00 = 37.50 元; capped 2.5 × 10.00 = 25.00; over cap 12.50; rest 25.00;
  // co-pay 25.00 × 5% = 1.25; in scope 23.75.
  ExpectSplit(ClassifyLine(Find("B02"), Line(1, "B02", 2500, 1500)), 3750, 2375, 125, 1250, 0);
}

TEST_F(CatalogueTest, FractionalQuantityRoundsEachPart) {
  // 0.333 × 15.01 = 4.99833 元 → 500 fen; capped 0.333 × 10.00 = 3.33 → 333; over cap 167;
  // rest 333; co-pay 333 × 5% = 16.65 → 17; in scope 316. 316 + 17 + 167 = 500.
  ExpectSplit(ClassifyLine(Find("B02"), Line(1, "B02", 333, 1501)), 500, 316, 17, 167, 0);
  // 1.5 × 3.33 = 4.995 元 → 500 fen, class A: all in scope.
  ExpectSplit(ClassifyLine(Find("A01"), Line(1, "A01", 1500, 333)), 500, 500, 0, 0, 0);
}

TEST_F(CatalogueTest, ClassCWithCapSplitsOverCapFromSelfPay) {
  // 1.50 元 against a 1.00 元 cap: over cap 50, the remaining 100 is self-pay.
  ExpectSplit(ClassifyLine(Find("C02"), Line(1, "C02", 1000, 150)), 150, 0, 0, 50, 100);
}

TEST_F(CatalogueTest, FreeLineIsAllZero) {
  ExpectSplit(ClassifyLine(Find("B02"), Line(1, "B02", 1000, 0)), 0, 0, 0, 0, 0);
}

// ---------------------------------------------------------------------------------------------
// ClassifyBill

yidi::v1::Institution Nanchang() {
  yidi::v1::Institution institution;
  institution.set_code("H36010000001");
  institution.set_name("南昌一院");
  institution.set_region_code("360100");
  institution.set_level(yidi::v1::HOSPITAL_LEVEL_3);
  institution.set_networked(true);
  return institution;
}

// Lines in an order different from category order:
//   1 B01 (09 western)  1 × 123.45   = 12345: in 11110, co-pay 1235
//   2 A01 (09 western)  2 × 12.34    =  2468: in 2468
//   3 A02 (01 bed)      3 × 60.00    = 18000: in 15000, over cap 3000
//   4 C01 (08 material) 1 × 50.00    =  5000: self 5000
//   5 B02 (03 exam)     2.5 × 15.00  =  3750: in 2375, co-pay 125, over cap 1250
// Total 41563 = in 30953 + co-pay 1360 + over cap 4250 + self 5000.
yidi::v1::SettleRequest Bill(yidi::v1::MedicalType type) {
  yidi::v1::SettleRequest request;
  request.mutable_visit()->set_medical_type(type);
  *request.add_fee_lines() = Line(1, "B01", 1000, 12345);
  *request.add_fee_lines() = Line(2, "A01", 2000, 1234);
  *request.add_fee_lines() = Line(3, "A02", 3000, 6000);
  *request.add_fee_lines() = Line(4, "C01", 1000, 5000);
  *request.add_fee_lines() = Line(5, "B02", 2500, 1500);
  request.set_declared_total_fen(41563);
  return request;
}

TEST_F(CatalogueTest, InpatientBillSummedByCategoryInOrder) {
  auto bill = ClassifyBill(index_, Bill(yidi::v1::MEDICAL_TYPE_INPATIENT), Nanchang());
  ASSERT_TRUE(bill.ok()) << bill.status();
  ExpectSplit(bill->split(), 41563, 30953, 1360, 4250, 5000);
  EXPECT_EQ(bill->hospital_level(), yidi::v1::HOSPITAL_LEVEL_3);
  EXPECT_EQ(bill->institution_name(), "南昌一院");
  EXPECT_TRUE(bill->lines().empty());
  ASSERT_EQ(bill->fee_categories_size(), 4);
  EXPECT_EQ(bill->fee_categories(0).fee_category(), yidi::v1::FEE_CATEGORY_BED);
  ExpectSplit(bill->fee_categories(0).split(), 18000, 15000, 0, 3000, 0);
  EXPECT_EQ(bill->fee_categories(1).fee_category(), yidi::v1::FEE_CATEGORY_EXAMINATION);
  ExpectSplit(bill->fee_categories(1).split(), 3750, 2375, 125, 1250, 0);
  EXPECT_EQ(bill->fee_categories(2).fee_category(), yidi::v1::FEE_CATEGORY_MEDICAL_MATERIALS);
  ExpectSplit(bill->fee_categories(2).split(), 5000, 0, 0, 0, 5000);
  EXPECT_EQ(bill->fee_categories(3).fee_category(), yidi::v1::FEE_CATEGORY_WESTERN_MEDICINE);
  // 12345 + 2468 = 14813: in 11110 + 2468 = 13578, co-pay 1235.
  ExpectSplit(bill->fee_categories(3).split(), 14813, 13578, 1235, 0, 0);
}

TEST_F(CatalogueTest, EveryInpatientTypeIsSummarised) {
  for (auto type : {yidi::v1::MEDICAL_TYPE_INPATIENT, yidi::v1::MEDICAL_TYPE_TRAUMA_INPATIENT,
                    yidi::v1::MEDICAL_TYPE_REFERRED_OUT_INPATIENT,
                    yidi::v1::MEDICAL_TYPE_EMERGENCY_INPATIENT}) {
    SCOPED_TRACE(yidi::v1::MedicalType_Name(type));
    EXPECT_TRUE(IsInpatient(type));
    auto bill = ClassifyBill(index_, Bill(type), Nanchang());
    ASSERT_TRUE(bill.ok()) << bill.status();
    EXPECT_EQ(bill->fee_categories_size(), 4);
    EXPECT_TRUE(bill->lines().empty());
  }
}

TEST_F(CatalogueTest, OutpatientBillKeepsEveryLine) {
  auto bill = ClassifyBill(index_, Bill(yidi::v1::MEDICAL_TYPE_OUTPATIENT), Nanchang());
  ASSERT_TRUE(bill.ok()) << bill.status();
  ExpectSplit(bill->split(), 41563, 30953, 1360, 4250, 5000);
  EXPECT_TRUE(bill->fee_categories().empty());
  ASSERT_EQ(bill->lines_size(), 5);
  // In request order, each with its own number, code, category, class and split.
  EXPECT_EQ(bill->lines(0).line_number(), 1);
  EXPECT_EQ(bill->lines(0).item_code(), "B01");
  EXPECT_EQ(bill->lines(0).fee_category(), yidi::v1::FEE_CATEGORY_WESTERN_MEDICINE);
  EXPECT_EQ(bill->lines(0).catalogue_class(), yidi::v1::CATALOGUE_CLASS_B);
  ExpectSplit(bill->lines(0).split(), 12345, 11110, 1235, 0, 0);
  EXPECT_EQ(bill->lines(1).item_code(), "A01");
  ExpectSplit(bill->lines(1).split(), 2468, 2468, 0, 0, 0);
  EXPECT_EQ(bill->lines(2).item_code(), "A02");
  EXPECT_EQ(bill->lines(2).fee_category(), yidi::v1::FEE_CATEGORY_BED);
  ExpectSplit(bill->lines(2).split(), 18000, 15000, 0, 3000, 0);
  EXPECT_EQ(bill->lines(3).item_code(), "C01");
  EXPECT_EQ(bill->lines(3).catalogue_class(), yidi::v1::CATALOGUE_CLASS_C);
  ExpectSplit(bill->lines(3).split(), 5000, 0, 0, 0, 5000);
  EXPECT_EQ(bill->lines(4).line_number(), 5);
  EXPECT_EQ(bill->lines(4).fee_category(), yidi::v1::FEE_CATEGORY_EXAMINATION);
  ExpectSplit(bill->lines(4).split(), 3750, 2375, 125, 1250, 0);
}

TEST_F(CatalogueTest, NonInpatientTypesKeepLines) {
  for (auto type : {yidi::v1::MEDICAL_TYPE_OUTPATIENT, yidi::v1::MEDICAL_TYPE_EMERGENCY_OUTPATIENT,
                    yidi::v1::MEDICAL_TYPE_CHRONIC_OUTPATIENT, yidi::v1::MEDICAL_TYPE_PHARMACY}) {
    SCOPED_TRACE(yidi::v1::MedicalType_Name(type));
    EXPECT_FALSE(IsInpatient(type));
    auto bill = ClassifyBill(index_, Bill(type), Nanchang());
    ASSERT_TRUE(bill.ok()) << bill.status();
    EXPECT_EQ(bill->lines_size(), 5);
    EXPECT_TRUE(bill->fee_categories().empty());
  }
  EXPECT_FALSE(IsInpatient(yidi::v1::MEDICAL_TYPE_UNSPECIFIED));
}

TEST_F(CatalogueTest, UnknownItemNamesTheLine) {
  yidi::v1::SettleRequest request = Bill(yidi::v1::MEDICAL_TYPE_INPATIENT);
  request.mutable_fee_lines(2)->set_item_code("Z999");
  auto bill = ClassifyBill(index_, request, Nanchang());
  ASSERT_EQ(bill.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bill.status().message()),
              ::testing::StartsWith("fee_lines[2].item_code"));
  EXPECT_THAT(bill.status().message(), HasSubstr("Z999"));
}

// ---------------------------------------------------------------------------------------------
// CatalogueIndex::Build

TEST(CatalogueIndexTest, FindsItemsAndCounts) {
  const CatalogueIndex index = MakeIndex();
  EXPECT_EQ(index.size(), 6u);
  ASSERT_NE(index.Find("B02"), nullptr);
  EXPECT_EQ(index.Find("B02")->class_b_copay_bp(), 500);
  EXPECT_EQ(index.Find("B02")->price_cap_fen(), 1000);
  EXPECT_EQ(index.Find("Z999"), nullptr);
  EXPECT_EQ(index.Find(""), nullptr);
}

TEST(CatalogueIndexTest, AcceptsRatioBounds) {
  EXPECT_TRUE(CatalogueIndex::Build(ParseCatalogue(R"pb(
    items { code: "B0" fee_category: FEE_CATEGORY_OTHER catalogue_class: CATALOGUE_CLASS_B class_b_copay_bp: 0 }
    items { code: "B1" fee_category: FEE_CATEGORY_OTHER catalogue_class: CATALOGUE_CLASS_B class_b_copay_bp: 10000 }
  )pb")).ok());
}

struct BadCatalogueCase {
  const char* name;
  const char* text;
  const char* message_part;
};

TEST(CatalogueIndexTest, RejectsBadCatalogues) {
  const BadCatalogueCase cases[] = {
      {"duplicate code",
       R"pb(items { code: "A01" fee_category: FEE_CATEGORY_BED catalogue_class: CATALOGUE_CLASS_A }
            items { code: "A01" fee_category: FEE_CATEGORY_BED catalogue_class: CATALOGUE_CLASS_C })pb",
       "listed twice"},
      {"unspecified class",
       R"pb(items { code: "X01" fee_category: FEE_CATEGORY_BED })pb", "catalogue_class"},
      {"unspecified category",
       R"pb(items { code: "X01" catalogue_class: CATALOGUE_CLASS_A })pb", "fee_category"},
      {"co-pay above 100%",
       R"pb(items { code: "X01" fee_category: FEE_CATEGORY_BED catalogue_class: CATALOGUE_CLASS_B class_b_copay_bp: 10001 })pb",
       "class_b_copay_bp"},
      {"negative co-pay",
       R"pb(items { code: "X01" fee_category: FEE_CATEGORY_BED catalogue_class: CATALOGUE_CLASS_B class_b_copay_bp: -1 })pb",
       "class_b_copay_bp"},
      {"negative price cap",
       R"pb(items { code: "X01" fee_category: FEE_CATEGORY_BED catalogue_class: CATALOGUE_CLASS_A price_cap_fen: -1 })pb",
       "price_cap_fen"},
      {"empty code",
       R"pb(items { fee_category: FEE_CATEGORY_BED catalogue_class: CATALOGUE_CLASS_A })pb",
       "code required"},
  };
  for (const BadCatalogueCase& c : cases) {
    SCOPED_TRACE(c.name);
    const auto index = CatalogueIndex::Build(ParseCatalogue(c.text));
    ASSERT_EQ(index.status().code(), absl::StatusCode::kInvalidArgument) << index.status();
    EXPECT_THAT(index.status().message(), HasSubstr(c.message_part));
  }
  // The message names the item.
  const auto duplicate = CatalogueIndex::Build(ParseCatalogue(cases[0].text));
  EXPECT_THAT(duplicate.status().message(), HasSubstr("A01"));
}

// ---------------------------------------------------------------------------------------------
// Property: the four parts add up and are never negative.

TEST(ClassifyLinePropertyTest, PartsAddUpAndAreNonNegative) {
  const uint64_t seed = 0x59494449'20260105ULL;  // "YIDI" 2026-01-05
  std::cout << "ClassifyLinePropertyTest seed=" << seed << "\n";
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int> classes(1, 3);
  std::uniform_int_distribution<int32_t> copays(0, kRatioFullBp);
  std::uniform_int_distribution<int64_t> quantities(1, 200'000);    // 0.001 .. 200 units
  std::uniform_int_distribution<int64_t> prices(0, 10'000'000);     // up to 100 000 元
  std::uniform_int_distribution<int> cap_kind(0, 2);                // none, below, above
  for (int i = 0; i < 10000; ++i) {
    const auto klass = static_cast<yidi::v1::CatalogueClass>(classes(random));
    const int64_t price = prices(random);
    int64_t cap = 0;
    switch (cap_kind(random)) {
      case 1:
        cap = std::uniform_int_distribution<int64_t>(1, price + 1)(random);
        break;
      case 2:
        cap = std::uniform_int_distribution<int64_t>(price + 1, price + 100'000)(random);
        break;
      default:
        break;
    }
    const CatalogueItem item = Item(klass, copays(random), cap);
    const FeeLine line = Line(1, "I", quantities(random), price);
    const FeeSplit split = ClassifyLine(item, line);
    SCOPED_TRACE(::testing::Message() << "seed=" << seed << " i=" << i << " item={"
                                      << item.ShortDebugString() << "} line={"
                                      << line.ShortDebugString() << "}");
    ASSERT_EQ(split.total_fen(), line.amount_fen());
    ASSERT_EQ(split.in_scope_fen() + split.class_b_copay_fen() + split.over_cap_fen() +
                  split.self_pay_fen(),
              line.amount_fen());
    ASSERT_GE(split.in_scope_fen(), 0);
    ASSERT_GE(split.class_b_copay_fen(), 0);
    ASSERT_GE(split.over_cap_fen(), 0);
    ASSERT_GE(split.self_pay_fen(), 0);
    // Over cap only when a cap exists and the price exceeds it.
    if (cap == 0 || price <= cap) ASSERT_EQ(split.over_cap_fen(), 0);
    // Each class uses only its own parts.
    if (klass == yidi::v1::CATALOGUE_CLASS_A) {
      ASSERT_EQ(split.class_b_copay_fen(), 0);
      ASSERT_EQ(split.self_pay_fen(), 0);
    } else if (klass == yidi::v1::CATALOGUE_CLASS_B) {
      ASSERT_EQ(split.self_pay_fen(), 0);
      ASSERT_EQ(split.class_b_copay_fen(),
                ApplyRatio(line.amount_fen() - split.over_cap_fen(), item.class_b_copay_bp()));
    } else {
      ASSERT_EQ(split.in_scope_fen(), 0);
      ASSERT_EQ(split.class_b_copay_fen(), 0);
    }
  }
}

}  // namespace
}  // namespace yidi::municipal
