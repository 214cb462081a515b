// FilingRegistry: the insured region's side of filings (备案) and chronic-disease eligibility
// (门诊慢特病资格). Each write runs in ONE write transaction: the idempotency check by
// request_id, the rules (filing_rules.h), the stored change, its upload row in the outbox
// (common/filing_index.h) and the stored answer commit together, or nothing does. Reads answer
// live from the node's own tables. SweepLapsed cancels undertakings whose materials deadline
// passed unmet (also done inside every write for the person concerned); coverage never waits
// for the sweep, since FilingInForce already ends a lapsed undertaking at its due date.
//
// Thread-safe: state lives in the Store, whose write transactions are serialised.
#ifndef YIDI_MUNICIPAL_FILING_REGISTRY_H_
#define YIDI_MUNICIPAL_FILING_REGISTRY_H_

#include <functional>

#include "absl/status/statusor.h"
#include "common/node.h"
#include "yidi/v1/filing.pb.h"
#include "yidi/v1/filing_rules.pb.h"

namespace yidi::municipal {

// One sweep pass cancels at most this many filings, so it never holds the write lock long;
// the next pass (a second later) takes the rest.
inline constexpr int kLapseSweepBatchMax = 500;

class FilingRegistry {
 public:
  // `context` and `rules` must outlive the registry. `rules` may be nullptr (no
  // filing_rules_file): the writes are then FAILED_PRECONDITION. `on_commit` runs after every
  // commit that queued uploads (it wakes the outbox sender); it must not block.
  FilingRegistry(NodeContext* context, const yidi::v1::FilingRules* rules,
                 std::function<void()> on_commit);

  // The writes. Errors: INVALID_ARGUMENT (the field and reason), NOT_FOUND (no such person or
  // filing here), FAILED_PRECONDITION (the person's status, a lock, an overlap, a cancelled
  // filing), ALREADY_EXISTS (request_id used for another request), UNAVAILABLE (database).
  // Nothing is stored on error. A repeated request returns the stored answer, `replayed`.
  absl::StatusOr<yidi::v1::FilingResponse> Create(const yidi::v1::CreateFilingRequest& request);
  absl::StatusOr<yidi::v1::FilingResponse> Change(const yidi::v1::ChangeFilingRequest& request);
  absl::StatusOr<yidi::v1::FilingResponse> Cancel(const yidi::v1::CancelFilingRequest& request);
  absl::StatusOr<yidi::v1::ChronicDiseaseResponse> RecordChronicDisease(
      const yidi::v1::RecordChronicDiseaseRequest& request);
  absl::StatusOr<yidi::v1::ChronicDiseaseResponse> RevokeChronicDisease(
      const yidi::v1::RevokeChronicDiseaseRequest& request);

  // Live reads at the insured region (`as_of` = now).
  absl::StatusOr<yidi::v1::ListFilingsResponse> List(const yidi::v1::ListFilingsRequest& request);
  absl::StatusOr<yidi::v1::CheckFilingResponse> Check(const yidi::v1::CheckFilingRequest& request);

  // Cancels (UNDERTAKING_UNMET) up to kLapseSweepBatchMax undertakings whose materials were due
  // before today by the node's clock, and queues their uploads. Returns how many.
  absl::StatusOr<int> SweepLapsed();

 private:
  absl::Status RequireRules() const;
  // INVALID_ARGUMENT unless `insured_region` is this node's pooling region.
  absl::Status CheckOwnRegion(absl::string_view insured_region) const;

  NodeContext* const context_;
  const yidi::v1::FilingRules* const rules_;
  const std::function<void()> on_commit_;
};

}  // namespace yidi::municipal

#endif  // YIDI_MUNICIPAL_FILING_REGISTRY_H_
