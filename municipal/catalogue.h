// Catalogue and fee splitting (费用分割): the treatment region classifies every fee line against
// its own catalogue (就医地目录) into four parts that add up to the line's amount:
//   over_cap       = amount − round(quantity × price cap)      when the unit price exceeds a cap
//   class C        → the rest is out-of-scope self-pay (自费)
//   class B        → class_b_copay = round(rest × co-pay ratio), in_scope = rest − co-pay
//   class A        → in_scope = rest
// Inpatient bills are summarised into the 14 national fee categories; outpatient bills travel
// line by line (RULES.md 3.2). Pure functions over an immutable index: thread-safe.
#ifndef YIDI_MUNICIPAL_CATALOGUE_H_
#define YIDI_MUNICIPAL_CATALOGUE_H_

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "yidi/v1/config.pb.h"
#include "yidi/v1/directory.pb.h"
#include "yidi/v1/settlement.pb.h"

namespace yidi::municipal {

class CatalogueIndex {
 public:
  // INVALID_ARGUMENT naming the item when a code repeats, a class or category is unspecified,
  // a co-pay ratio lies outside 0..10000 bp or a price cap is negative.
  static absl::StatusOr<CatalogueIndex> Build(const yidi::v1::Catalogue& catalogue);

  const yidi::v1::CatalogueItem* Find(absl::string_view item_code) const;
  size_t size() const { return items_.size(); }

 private:
  absl::flat_hash_map<std::string, yidi::v1::CatalogueItem> items_;
};


// Splits one line. REQUIRES: the line's amount is consistent with quantity × unit price.
yidi::v1::FeeSplit ClassifyLine(const yidi::v1::CatalogueItem& item, const yidi::v1::FeeLine& line);

// Classifies the whole bill. INVALID_ARGUMENT "fee_lines[i].item_code: ..." for an item the
// catalogue does not list.
absl::StatusOr<yidi::v1::ClassifiedBill> ClassifyBill(const CatalogueIndex& catalogue,
                                                      const yidi::v1::SettleRequest& request,
                                                      const yidi::v1::Institution& institution);

}  // namespace yidi::municipal

#endif  // YIDI_MUNICIPAL_CATALOGUE_H_
