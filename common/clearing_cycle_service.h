// ClearingCycleService (api/yidi/v1/clearing_cycle.proto): a province forwarding national's
// clearing to its cities (common/clearing_forwarding.h) and the year close of a clearing node
// (common/clearing_year.h). Handlers translate only. Every write runs in one Store
// transaction, so a failed call stores nothing; every write is idempotent.
//
// Forwarding pulls: the province asks national for its cells (ClearingService.GetClearing with
// the province as region) over the province's own mutual-TLS channel, with a deadline, when
// its operator or scheduler runs ForwardClearing, on a channel made for the call (a monthly
// call: no cached channel whose reconnect backoff would outlive a restart of national, which is
// exactly when the operator retries). National does not push (docs/DECISIONS.md
// D470): issuing national's notices then never depends on 31 provinces being up, and a
// province that was down simply forwards when it is back, idempotently.
#ifndef YIDI_COMMON_CLEARING_CYCLE_SERVICE_H_
#define YIDI_COMMON_CLEARING_CYCLE_SERVICE_H_

#include <memory>
#include <string>

#include "common/clearing_forwarding.h"
#include "common/node.h"
#include "yidi/v1/clearing.grpc.pb.h"
#include "yidi/v1/clearing_cycle.grpc.pb.h"

namespace yidi {

// The province's forwarding node from its context (policy: config.clearing_cycle.forwarding
// with the national defaults).
ForwardingNode ForwardingNodeOf(const NodeContext& context);

class NodeClearingCycleService final : public yidi::v1::ClearingCycleService::CallbackService {
 public:
  explicit NodeClearingCycleService(NodeContext* context) : context_(context) {}

  grpc::ServerUnaryReactor* ForwardClearing(grpc::CallbackServerContext* ctx,
                                            const yidi::v1::ForwardClearingRequest* request,
                                            yidi::v1::ForwardClearingResponse* response) override;
  grpc::ServerUnaryReactor* GetForwardedNotices(
      grpc::CallbackServerContext* ctx, const yidi::v1::GetForwardedNoticesRequest* request,
      yidi::v1::GetForwardedNoticesResponse* response) override;
  grpc::ServerUnaryReactor* CloseYear(grpc::CallbackServerContext* ctx,
                                      const yidi::v1::CloseYearRequest* request,
                                      yidi::v1::CloseYearResponse* response) override;
  grpc::ServerUnaryReactor* GetYearStatus(grpc::CallbackServerContext* ctx,
                                          const yidi::v1::GetYearStatusRequest* request,
                                          yidi::v1::GetYearStatusResponse* response) override;

 private:
  NodeContext* const context_;
};

}  // namespace yidi

#endif  // YIDI_COMMON_CLEARING_CYCLE_SERVICE_H_
