// Storage of fee investigations (table `investigation`, common/collaboration_migrations.h):
// one row per investigation_id this node has seen, with the request digest (idempotency of
// OpenInvestigation) and the whole Investigation. Every node on the path keeps one.
// Thread safety: functions run inside the caller's Transaction.
#ifndef YIDI_COMMON_INVESTIGATION_STORE_H_
#define YIDI_COMMON_INVESTIGATION_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/store/store.h"
#include "yidi/v1/investigation.pb.h"

namespace yidi {

struct StoredInvestigation {
  yidi::v1::Investigation investigation;
  std::string request_digest;  // DigestMessage of the OpenInvestigationRequest
};

// nullopt when absent; INTERNAL when the stored body does not parse or disagrees with its
// columns (read-back check).
absl::StatusOr<std::optional<StoredInvestigation>> FindInvestigation(Transaction& tx,
                                                                     absl::string_view id);

// ALREADY_EXISTS when the id is taken.
absl::Status InsertInvestigation(Transaction& tx, const StoredInvestigation& stored,
                                 absl::Time now);

// Rewrites the row. NOT_FOUND when absent.
absl::Status UpdateInvestigation(Transaction& tx, const yidi::v1::Investigation& investigation,
                                 absl::Time now);

// This node's investigations, oldest first: of `period` ("" = all), in `state` (UNSPECIFIED =
// all), at most `limit`.
absl::StatusOr<std::vector<yidi::v1::Investigation>> ListStoredInvestigations(
    Transaction& tx, absl::string_view period, yidi::v1::InvestigationState state, int limit);

}  // namespace yidi

#endif  // YIDI_COMMON_INVESTIGATION_STORE_H_
