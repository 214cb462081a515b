// SettlementRecord: what every hop (treatment municipal, both provinces, national, insured
// municipal) stores of each settlement that passed through it: the request digest, the state,
// and the result it saw. This is what three-way reconciliation compares. One table,
// `settlement_record`, keyed by settlement_id, the idempotency key on every hop.
#ifndef YIDI_COMMON_SETTLEMENT_RECORD_H_
#define YIDI_COMMON_SETTLEMENT_RECORD_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/store/store.h"
#include "yidi/v1/common.pb.h"

namespace yidi {

struct SettlementRecord {
  std::string settlement_id;
  yidi::v1::SettlementKind kind = yidi::v1::SETTLEMENT_KIND_NORMAL;
  std::string original_settlement_id;  // reversal only
  std::string request_digest;
  yidi::v1::SettlementState state = yidi::v1::SETTLEMENT_STATE_PENDING;
  std::string insured_region;
  std::string treatment_region;
  std::string institution_code;
  yidi::v1::InsuranceType insurance_type = yidi::v1::INSURANCE_TYPE_UNSPECIFIED;
  // Present once the outcome is known (SETTLED, REVERSED, and VOIDED after a commit).
  std::optional<yidi::v1::SettlementResult> result;
};

// Schema migrations every node kind applies (versions 1–99 belong to common/).
std::vector<Migration> CommonMigrations();

// nullopt when absent. INTERNAL when a stored result does not parse or breaks the slip
// identities (read-back check).
absl::StatusOr<std::optional<SettlementRecord>> FindSettlementRecord(Transaction& tx,
                                                                     absl::string_view id);

// ALREADY_EXISTS when the id is taken.
absl::Status InsertSettlementRecord(Transaction& tx, const SettlementRecord& record,
                                    absl::Time now);

// Sets state and, when given, the result; the insurance type follows the result when it carries
// one (the insured region decides it; a hop may have recorded the request without). NOT_FOUND
// when absent.
absl::Status UpdateSettlementRecord(Transaction& tx, absl::string_view id,
                                    yidi::v1::SettlementState state,
                                    const yidi::v1::SettlementResult* result, absl::Time now);

absl::Status DeleteSettlementRecord(Transaction& tx, absl::string_view id);

// (state, count) for every state present.
absl::StatusOr<std::vector<std::pair<yidi::v1::SettlementState, int64_t>>>
CountSettlementRecords(Transaction& tx);

}  // namespace yidi

#endif  // YIDI_COMMON_SETTLEMENT_RECORD_H_
