// Yearly accumulators (per person, insurance type and year, by name) and the exact change each
// settlement made to them, so that Reverse and Correct restore precisely what a settlement
// added, also when later settlements exist (隔笔退费) and across a year end (跨年退费).
// Every function runs inside the caller's write transaction: the read-modify-write is
// serialised by the Store, so two settlements of one person cannot lose an update.
#ifndef YIDI_MUNICIPAL_ACCUMULATORS_H_
#define YIDI_MUNICIPAL_ACCUMULATORS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/store/store.h"
#include "municipal/policy_engine.h"
#include "yidi/v1/common.pb.h"

namespace yidi::municipal {

struct AccumulatorChange {
  std::string id_number;
  yidi::v1::InsuranceType insurance_type = yidi::v1::INSURANCE_TYPE_UNSPECIFIED;
  int year = 0;
  std::string name;
  int64_t delta = 0;
};

absl::StatusOr<AccumulatorValues> LoadAccumulators(Transaction& tx, absl::string_view id_number,
                                                   yidi::v1::InsuranceType type, int year);

// Adds each change to its accumulator and records it under `change_key` (a settlement id, or
// "<id>#void" for a correction). ALREADY_EXISTS when `change_key` was used before.
absl::Status ApplyAccumulatorChanges(Transaction& tx, absl::string_view change_key,
                                     const std::vector<AccumulatorChange>& changes);

// The changes recorded under `change_key`.
absl::StatusOr<std::vector<AccumulatorChange>> LoadAccumulatorChanges(
    Transaction& tx, absl::string_view change_key);

// The same changes with every delta negated.
std::vector<AccumulatorChange> Negated(std::vector<AccumulatorChange> changes);

}  // namespace yidi::municipal

#endif  // YIDI_MUNICIPAL_ACCUMULATORS_H_
