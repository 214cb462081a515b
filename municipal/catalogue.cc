#include "municipal/catalogue.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "common/money.h"
#include "common/settlement_validation.h"
#include "common/status_macros.h"

namespace yidi::municipal {

using yidi::v1::CatalogueClass;
using yidi::v1::FeeSplit;

absl::StatusOr<CatalogueIndex> CatalogueIndex::Build(const yidi::v1::Catalogue& catalogue) {
  CatalogueIndex index;
  for (int i = 0; i < catalogue.items_size(); ++i) {
    const auto& item = catalogue.items(i);
    const std::string field = absl::StrCat("catalogue items[", i, "] (", item.code(), ")");
    if (item.code().empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": code required"));
    if (item.catalogue_class() == yidi::v1::CATALOGUE_CLASS_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": catalogue_class unspecified"));
    }
    if (item.fee_category() == yidi::v1::FEE_CATEGORY_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": fee_category unspecified"));
    }
    if (item.class_b_copay_bp() < 0 || item.class_b_copay_bp() > kRatioFullBp) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": class_b_copay_bp outside 0..10000"));
    }
    if (item.price_cap_fen() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": price_cap_fen negative"));
    }
    if (!index.items_.emplace(item.code(), item).second) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": code listed twice"));
    }
  }
  return index;
}

const yidi::v1::CatalogueItem* CatalogueIndex::Find(absl::string_view item_code) const {
  auto it = items_.find(item_code);
  return it == items_.end() ? nullptr : &it->second;
}


FeeSplit ClassifyLine(const yidi::v1::CatalogueItem& item, const yidi::v1::FeeLine& line) {
  FeeSplit split;
  const int64_t amount = line.amount_fen();
  split.set_total_fen(amount);
  int64_t over_cap = 0;
  if (item.price_cap_fen() > 0 && line.unit_price_fen() > item.price_cap_fen()) {
    const int64_t capped = MulDivRoundHalfUp(line.quantity_milli(), item.price_cap_fen(), 1000);
    over_cap = std::max<int64_t>(0, amount - capped);
  }
  const int64_t rest = amount - over_cap;
  split.set_over_cap_fen(over_cap);
  switch (item.catalogue_class()) {
    case CatalogueClass::CATALOGUE_CLASS_A:
      split.set_in_scope_fen(rest);
      break;
    case CatalogueClass::CATALOGUE_CLASS_B: {
      const int64_t copay = ApplyRatio(rest, item.class_b_copay_bp());
      split.set_class_b_copay_fen(copay);
      split.set_in_scope_fen(rest - copay);
      break;
    }
    default:  // class C, and anything the catalogue cannot vouch for: out of scope
      split.set_self_pay_fen(rest);
      break;
  }
  YIDI_CHECK(CheckFeeSplit(split).ok(), "a line's four parts add up to its amount");
  return split;
}

namespace {
void AddSplit(FeeSplit* sum, const FeeSplit& part) {
  sum->set_total_fen(sum->total_fen() + part.total_fen());
  sum->set_in_scope_fen(sum->in_scope_fen() + part.in_scope_fen());
  sum->set_class_b_copay_fen(sum->class_b_copay_fen() + part.class_b_copay_fen());
  sum->set_over_cap_fen(sum->over_cap_fen() + part.over_cap_fen());
  sum->set_self_pay_fen(sum->self_pay_fen() + part.self_pay_fen());
}
}  // namespace

absl::StatusOr<yidi::v1::ClassifiedBill> ClassifyBill(const CatalogueIndex& catalogue,
                                                      const yidi::v1::SettleRequest& request,
                                                      const yidi::v1::Institution& institution) {
  yidi::v1::ClassifiedBill bill;
  bill.set_hospital_level(institution.level());
  bill.set_institution_name(institution.name());
  const bool inpatient = IsInpatient(request.visit().medical_type());
  std::map<int, FeeSplit> by_category;  // ordered: categories print in national order
  for (int i = 0; i < request.fee_lines_size(); ++i) {
    const auto& line = request.fee_lines(i);
    const auto* item = catalogue.Find(line.item_code());
    if (item == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("fee_lines[", i, "].item_code: \"", line.item_code(),
                       "\" is not in the treatment region's catalogue"));
    }
    const FeeSplit split = ClassifyLine(*item, line);
    AddSplit(bill.mutable_split(), split);
    if (inpatient) {
      AddSplit(&by_category[item->fee_category()], split);
    } else {
      auto* classified = bill.add_lines();
      classified->set_line_number(line.line_number());
      classified->set_item_code(line.item_code());
      classified->set_fee_category(item->fee_category());
      classified->set_catalogue_class(item->catalogue_class());
      *classified->mutable_split() = split;
    }
  }
  for (const auto& [category, split] : by_category) {
    auto* summary = bill.add_fee_categories();
    summary->set_fee_category(static_cast<yidi::v1::FeeCategory>(category));
    *summary->mutable_split() = split;
  }
  YIDI_CHECK(CheckFeeSplit(bill.split()).ok(), "the bill's parts add up to its total");
  YIDI_CHECK(bill.split().total_fen() == request.declared_total_fen(),
             "classification neither adds nor loses a fen");
  return bill;
}

}  // namespace yidi::municipal
