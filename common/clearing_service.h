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
