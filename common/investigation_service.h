// InvestigationService (api/yidi/v1/investigation.proto) on every node kind.
//
// The acting node applies a change in one write transaction, then replicates the changed
// Investigation along the settlement route toward the other end (insured ⇄ treatment region);
// every hop keeps the highest version. A hop that does not answer leaves the change stored at
// the acting node and returns UNAVAILABLE naming the hop; repeating the same call replays the
// stored result and replicates again (idempotent by investigation_id).
//
// Who acts: the insured region's municipal node opens, amends, withdraws and confirms; the
// treatment region's municipal node answers; national (cross-province) and the province
// (intra-province) close a period and publish its summary to each treatment region.
// Thread safety: handlers may run concurrently; the store serialises writes.
#ifndef YIDI_COMMON_INVESTIGATION_SERVICE_H_
#define YIDI_COMMON_INVESTIGATION_SERVICE_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/investigation_scheduler.h"
#include "common/node.h"
#include "yidi/v1/investigation.grpc.pb.h"

namespace yidi {

// Reads config.collaboration_policy_file (text CollaborationPolicy); the national defaults when
// the field is empty. NOT_FOUND / INVALID_ARGUMENT "path:line:col" for a bad file.
absl::StatusOr<yidi::v1::CollaborationPolicy> LoadCollaborationPolicy(const NodeContext& context);

// What the acting node does, one write transaction each (the handlers call these; tests may
// call them directly). Each returns the investigation as stored and whether it was a replay.
struct InvestigationOutcome {
  yidi::v1::Investigation investigation;
  bool replayed = false;
};

// Errors: INVALID_ARGUMENT naming the field (bad input, below threshold, not this node's
// region, mismatch with the settlement record); FAILED_PRECONDITION when the stay is not a
// settled inpatient stay here; ALREADY_EXISTS when the id was used for another request.
absl::StatusOr<InvestigationOutcome> OpenInvestigationHere(
    NodeContext& context, const yidi::v1::CollaborationPolicy& policy,
    const yidi::v1::OpenInvestigationRequest& request);
// FAILED_PRECONDITION once the period is summarised, or when not OPEN.
absl::StatusOr<InvestigationOutcome> AmendInvestigationHere(
    NodeContext& context, const yidi::v1::AmendInvestigationRequest& request);
absl::StatusOr<InvestigationOutcome> WithdrawInvestigationHere(
    NodeContext& context, const yidi::v1::WithdrawInvestigationRequest& request);
// On the treatment region's node. Late answers are accepted and marked answered_late.
// OUT_OF_RANGE when the calendar lacks the year of the confirmation due date.
absl::StatusOr<InvestigationOutcome> AnswerInvestigationHere(
    NodeContext& context, const yidi::v1::CollaborationPolicy& policy,
    const yidi::v1::AnswerInvestigationRequest& request);
absl::StatusOr<InvestigationOutcome> ConfirmInvestigationHere(
    NodeContext& context, const yidi::v1::ConfirmInvestigationRequest& request);

// Keeps `investigation` when newer than this node's copy. Returns whether it was applied.
absl::StatusOr<bool> ReplicateInvestigationHere(NodeContext& context,
                                                const yidi::v1::Investigation& investigation);

// The summarising node's close of `period`: the summaries per treatment region (requests of
// the period, then unanswered ones carried from earlier periods), recorded and marked here.
// FAILED_PRECONDITION before 00:00 CST on the period's 26th, or on a municipal node.
absl::StatusOr<std::vector<yidi::v1::InvestigationSummary>> CloseInvestigationPeriodHere(
    NodeContext& context, absl::string_view period);

// Marks the summary's requests that this node holds. Returns how many it marked.
absl::StatusOr<int> MarkInvestigationSummaryHere(NodeContext& context,
                                                 const yidi::v1::InvestigationSummary& summary);

class NodeInvestigationService final
    : public yidi::v1::InvestigationService::CallbackService {
 public:
  // REQUIRES: `context` outlives the service. The policy is read once (LoadCollaborationPolicy).
  // `policy_status`: how loading the policy went; when not OK the calls that need the policy
  // answer FAILED_PRECONDITION with it.
  // Starts the automatic close (investigation_scheduler.h) on national and provincial nodes
  // unless the policy turns it off or could not be loaded (D564).
  NodeInvestigationService(NodeContext* context, yidi::v1::CollaborationPolicy policy,
                           absl::Status policy_status = absl::OkStatus());
  ~NodeInvestigationService() override;  // stops the automatic close

  grpc::ServerUnaryReactor* OpenInvestigation(
      grpc::CallbackServerContext* ctx, const yidi::v1::OpenInvestigationRequest* request,
      yidi::v1::InvestigationResponse* response) override;
  grpc::ServerUnaryReactor* AmendInvestigation(
      grpc::CallbackServerContext* ctx, const yidi::v1::AmendInvestigationRequest* request,
      yidi::v1::InvestigationResponse* response) override;
  grpc::ServerUnaryReactor* WithdrawInvestigation(
      grpc::CallbackServerContext* ctx, const yidi::v1::WithdrawInvestigationRequest* request,
      yidi::v1::InvestigationResponse* response) override;
  grpc::ServerUnaryReactor* ConfirmInvestigation(
      grpc::CallbackServerContext* ctx, const yidi::v1::ConfirmInvestigationRequest* request,
      yidi::v1::InvestigationResponse* response) override;
  grpc::ServerUnaryReactor* AnswerInvestigation(
      grpc::CallbackServerContext* ctx, const yidi::v1::AnswerInvestigationRequest* request,
      yidi::v1::InvestigationResponse* response) override;
  grpc::ServerUnaryReactor* ReplicateInvestigation(
      grpc::CallbackServerContext* ctx, const yidi::v1::ReplicateInvestigationRequest* request,
      yidi::v1::ReplicateInvestigationResponse* response) override;
  grpc::ServerUnaryReactor* CloseInvestigationPeriod(
      grpc::CallbackServerContext* ctx, const yidi::v1::CloseInvestigationPeriodRequest* request,
      yidi::v1::CloseInvestigationPeriodResponse* response) override;
  grpc::ServerUnaryReactor* PublishInvestigationSummary(
      grpc::CallbackServerContext* ctx,
      const yidi::v1::PublishInvestigationSummaryRequest* request,
      yidi::v1::PublishInvestigationSummaryResponse* response) override;
  grpc::ServerUnaryReactor* ListInvestigations(
      grpc::CallbackServerContext* ctx, const yidi::v1::ListInvestigationsRequest* request,
      yidi::v1::ListInvestigationsResponse* response) override;
  grpc::ServerUnaryReactor* GetInvestigationStatistics(
      grpc::CallbackServerContext* ctx,
      const yidi::v1::GetInvestigationStatisticsRequest* request,
      yidi::v1::InvestigationStatistics* response) override;

 private:
  // Finishes `reactor` with the outcome after replicating it toward `toward_region`.
  grpc::ServerUnaryReactor* FinishReplicated(grpc::CallbackServerContext* ctx,
                                             absl::StatusOr<InvestigationOutcome> outcome,
                                             yidi::v1::InvestigationResponse* response,
                                             bool toward_treatment);
  yidi::v1::InvestigationService::Stub* StubFor(const std::string& address);

  NodeContext* const context_;
  const yidi::v1::CollaborationPolicy policy_;
  const absl::Status policy_status_;
  absl::Mutex mutex_;
  absl::flat_hash_map<std::string, std::unique_ptr<yidi::v1::InvestigationService::Stub>> stubs_
      ABSL_GUARDED_BY(mutex_);
  std::unique_ptr<InvestigationCloseScheduler> scheduler_;  // null when not enabled here
};

}  // namespace yidi

#endif  // YIDI_COMMON_INVESTIGATION_SERVICE_H_
