// ClearingService and AuditService (api/yidi/v1/clearing.proto) on the national node (cross-
// province clearing) and provincial nodes (intra-province clearing). Handlers translate only:
// the logic is common/clearing.h, the documents common/clearing_render.h. Every write runs in
// one Store transaction, so a failed call stores nothing; every write is idempotent by its id.
#ifndef YIDI_COMMON_CLEARING_SERVICE_H_
#define YIDI_COMMON_CLEARING_SERVICE_H_

#include <string>

#include "common/clearing.h"
#include "common/clearing_render.h"
#include "common/node.h"
#include "yidi/v1/clearing.grpc.pb.h"

namespace yidi {

// A claim batch sent to the level above waits at most this long for its answer.
inline constexpr int kClaimsCallDeadlineMs = 10000;

// What the clearing needs of the node, built from its context at the time of the call.
ClearingNode ClearingNodeOf(const NodeContext& context);
// Region code → its name in the directory (province names for province codes).
ClearingNamer ClearingNamerOf(const NodeContext& context);

class NodeClearingService final : public yidi::v1::ClearingService::CallbackService {
 public:
  explicit NodeClearingService(NodeContext* context) : context_(context) {}

  grpc::ServerUnaryReactor* RunClearing(grpc::CallbackServerContext* ctx,
                                        const yidi::v1::RunClearingRequest* request,
                                        yidi::v1::RunClearingResponse* response) override;
  grpc::ServerUnaryReactor* GetClearing(grpc::CallbackServerContext* ctx,
                                        const yidi::v1::GetClearingRequest* request,
                                        yidi::v1::GetClearingResponse* response) override;
  grpc::ServerUnaryReactor* ReplyClearing(grpc::CallbackServerContext* ctx,
                                          const yidi::v1::ReplyClearingRequest* request,
                                          yidi::v1::ReplyClearingResponse* response) override;
  grpc::ServerUnaryReactor* SubmitClaim(grpc::CallbackServerContext* ctx,
                                        const yidi::v1::SubmitClaimRequest* request,
                                        yidi::v1::SubmitClaimResponse* response) override;
  grpc::ServerUnaryReactor* GetClearingDocuments(
      grpc::CallbackServerContext* ctx, const yidi::v1::GetClearingDocumentsRequest* request,
      yidi::v1::GetClearingDocumentsResponse* response) override;
  grpc::ServerUnaryReactor* TraceClearing(grpc::CallbackServerContext* ctx,
                                          const yidi::v1::TraceClearingRequest* request,
                                          yidi::v1::TraceClearingResponse* response) override;
  // Claims up the hierarchy (common/clearing_claims.h). DeclareClaims at a treatment city and
  // ForwardClaims at a province store their batch first, then send it up (deadline
  // kClaimsCallDeadlineMs); when the level above does not answer they fail UNAVAILABLE with the
  // batch kept, and the same call again resends it (same ids: no double counting).
  grpc::ServerUnaryReactor* DeclareClaims(grpc::CallbackServerContext* ctx,
                                          const yidi::v1::DeclareClaimsRequest* request,
                                          yidi::v1::DeclareClaimsResponse* response) override;
  grpc::ServerUnaryReactor* SubmitClaims(grpc::CallbackServerContext* ctx,
                                         const yidi::v1::SubmitClaimsRequest* request,
                                         yidi::v1::SubmitClaimsResponse* response) override;
  grpc::ServerUnaryReactor* ForwardClaims(grpc::CallbackServerContext* ctx,
                                          const yidi::v1::ForwardClaimsRequest* request,
                                          yidi::v1::ForwardClaimsResponse* response) override;
  grpc::ServerUnaryReactor* ListClaims(grpc::CallbackServerContext* ctx,
                                       const yidi::v1::ListClaimsRequest* request,
                                       yidi::v1::ListClaimsResponse* response) override;

 private:
  NodeContext* const context_;
};

class NodeAuditService final : public yidi::v1::AuditService::CallbackService {
 public:
  explicit NodeAuditService(NodeContext* context) : context_(context) {}

  grpc::ServerUnaryReactor* RecordDeduction(grpc::CallbackServerContext* ctx,
                                            const yidi::v1::RecordDeductionRequest* request,
                                            yidi::v1::RecordDeductionResponse* response) override;

 private:
  NodeContext* const context_;
};

}  // namespace yidi

#endif  // YIDI_COMMON_CLEARING_SERVICE_H_
