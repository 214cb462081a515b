// PrepaymentService (api/yidi/v1/prepayment.proto) on national, provincial and municipal
// nodes. The issuing node (national for cross-province pairs, a province for its cities) keeps
// quotas, clearings, usage and obligations (common/prepayment.h, transfer_obligations.h). A
// payment or receipt recorded at a node that did not issue the obligation is forwarded one hop
// up (municipal → its province → national) until the issuer records it; then the node posts
// its own side to its ledger (common/ledger.h) when it is the payer or the receiver. Every
// step is idempotent, so a retry after UNAVAILABLE is safe. Handlers translate only.
#ifndef YIDI_COMMON_PREPAYMENT_SERVICE_H_
#define YIDI_COMMON_PREPAYMENT_SERVICE_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/node.h"
#include "common/prepayment.h"
#include "yidi/v1/prepayment.grpc.pb.h"

namespace yidi {

// What PrepaymentService needs of the node, built from its context.
PrepaymentIssuer IssuerOfNode(const NodeContext& context);

class NodePrepaymentService final : public yidi::v1::PrepaymentService::CallbackService {
 public:
  explicit NodePrepaymentService(NodeContext* context) : context_(context) {}

  grpc::ServerUnaryReactor* ComputeQuotas(grpc::CallbackServerContext* ctx,
                                          const yidi::v1::ComputeQuotasRequest* request,
                                          yidi::v1::ComputeQuotasResponse* response) override;
  grpc::ServerUnaryReactor* GetQuotas(grpc::CallbackServerContext* ctx,
                                      const yidi::v1::GetQuotasRequest* request,
                                      yidi::v1::GetQuotasResponse* response) override;
  grpc::ServerUnaryReactor* GetNotices(grpc::CallbackServerContext* ctx,
                                       const yidi::v1::GetNoticesRequest* request,
                                       yidi::v1::GetNoticesResponse* response) override;
  grpc::ServerUnaryReactor* RecordClearing(grpc::CallbackServerContext* ctx,
                                           const yidi::v1::RecordClearingRequest* request,
                                           yidi::v1::RecordClearingResponse* response) override;
  grpc::ServerUnaryReactor* GetUsage(grpc::CallbackServerContext* ctx,
                                     const yidi::v1::GetUsageRequest* request,
                                     yidi::v1::GetUsageResponse* response) override;
  grpc::ServerUnaryReactor* ListWarnings(grpc::CallbackServerContext* ctx,
                                         const yidi::v1::ListWarningsRequest* request,
                                         yidi::v1::ListWarningsResponse* response) override;
  grpc::ServerUnaryReactor* RequestEmergencyIncrease(
      grpc::CallbackServerContext* ctx, const yidi::v1::RequestEmergencyIncreaseRequest* request,
      yidi::v1::RequestEmergencyIncreaseResponse* response) override;
  grpc::ServerUnaryReactor* ListObligations(grpc::CallbackServerContext* ctx,
                                            const yidi::v1::ListObligationsRequest* request,
                                            yidi::v1::ListObligationsResponse* response) override;
  grpc::ServerUnaryReactor* RecordPayment(grpc::CallbackServerContext* ctx,
                                          const yidi::v1::RecordPaymentRequest* request,
                                          yidi::v1::RecordPaymentResponse* response) override;
  grpc::ServerUnaryReactor* RecordReceipt(grpc::CallbackServerContext* ctx,
                                          const yidi::v1::RecordReceiptRequest* request,
                                          yidi::v1::RecordReceiptResponse* response) override;
  grpc::ServerUnaryReactor* RecordDelayReason(
      grpc::CallbackServerContext* ctx, const yidi::v1::RecordDelayReasonRequest* request,
      yidi::v1::RecordDelayReasonResponse* response) override;
  grpc::ServerUnaryReactor* GetSuspensions(grpc::CallbackServerContext* ctx,
                                           const yidi::v1::GetSuspensionsRequest* request,
                                           yidi::v1::GetSuspensionsResponse* response) override;

 private:
  // The node one hop up (municipal → province → national), or nullptr at national.
  yidi::v1::PrepaymentService::Stub* Parent(std::string* address);

  NodeContext* const context_;
  absl::Mutex mutex_;
  std::unique_ptr<yidi::v1::PrepaymentService::Stub> parent_ ABSL_GUARDED_BY(mutex_);
  std::string parent_address_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace yidi

#endif  // YIDI_COMMON_PREPAYMENT_SERVICE_H_
