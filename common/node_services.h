// gRPC handlers every node kind shares:
//  - NodeDirectoryService: regions, institutions, this node's identity and record counts;
//  - RelaySettlementService / RelayPersonService / RelayFilingService: the routed services of a
//    node that owns no insured persons (provincial, national): route, record, forward.
// The municipal node has its own settlement, person and filing handlers (municipal/).
#ifndef YIDI_COMMON_NODE_SERVICES_H_
#define YIDI_COMMON_NODE_SERVICES_H_

#include "common/filing_relay.h"
#include "common/grpc_status.h"
#include "common/node.h"
#include "common/settlement_relay.h"
#include "yidi/v1/directory.grpc.pb.h"
#include "yidi/v1/filing.grpc.pb.h"
#include "yidi/v1/person.grpc.pb.h"
#include "yidi/v1/settlement.grpc.pb.h"

namespace yidi {

// This node's own record of a settlement (SettlementService.GetSettlement on every node).
grpc::Status GetSettlementRecord(NodeContext& context,
                                 const yidi::v1::GetSettlementRequest& request,
                                 yidi::v1::GetSettlementResponse* response);

class NodeDirectoryService final : public yidi::v1::DirectoryService::CallbackService {
 public:
  explicit NodeDirectoryService(NodeContext* context) : context_(context) {}
  grpc::ServerUnaryReactor* ListRegions(grpc::CallbackServerContext* ctx,
                                        const yidi::v1::ListRegionsRequest* request,
                                        yidi::v1::ListRegionsResponse* response) override;
  grpc::ServerUnaryReactor* GetInstitution(grpc::CallbackServerContext* ctx,
                                           const yidi::v1::GetInstitutionRequest* request,
                                           yidi::v1::GetInstitutionResponse* response) override;
  grpc::ServerUnaryReactor* GetNodeInfo(grpc::CallbackServerContext* ctx,
                                        const yidi::v1::GetNodeInfoRequest* request,
                                        yidi::v1::GetNodeInfoResponse* response) override;

 private:
  NodeContext* const context_;
};

class RelaySettlementService final : public yidi::v1::SettlementService::CallbackService {
 public:
  explicit RelaySettlementService(NodeContext* context);
  grpc::ServerUnaryReactor* PreSettle(grpc::CallbackServerContext* ctx,
                                      const yidi::v1::SettleRequest* request,
                                      yidi::v1::SettleResponse* response) override;
  grpc::ServerUnaryReactor* Settle(grpc::CallbackServerContext* ctx,
                                   const yidi::v1::SettleRequest* request,
                                   yidi::v1::SettleResponse* response) override;
  grpc::ServerUnaryReactor* Reverse(grpc::CallbackServerContext* ctx,
                                    const yidi::v1::ReverseRequest* request,
                                    yidi::v1::SettleResponse* response) override;
  grpc::ServerUnaryReactor* Correct(grpc::CallbackServerContext* ctx,
                                    const yidi::v1::CorrectRequest* request,
                                    yidi::v1::CorrectResponse* response) override;
  grpc::ServerUnaryReactor* GetSettlement(grpc::CallbackServerContext* ctx,
                                          const yidi::v1::GetSettlementRequest* request,
                                          yidi::v1::GetSettlementResponse* response) override;

 private:
  NodeContext* const context_;
  SettlementRelay relay_;
};

// Forwards person look-ups toward the insured region; records nothing (reads only).
class RelayPersonService final : public yidi::v1::PersonService::CallbackService {
 public:
  explicit RelayPersonService(NodeContext* context) : context_(context) {}
  grpc::ServerUnaryReactor* GetInsuredPerson(
      grpc::CallbackServerContext* ctx, const yidi::v1::GetInsuredPersonRequest* request,
      yidi::v1::GetInsuredPersonResponse* response) override;

 private:
  NodeContext* const context_;
};

// RelayFilingService (the filing index and the relay of filing calls): common/filing_relay.h.

// Forwards a read-only unary call (person, filing) one hop and finishes `reactor` with the
// answer; a hop that does not answer becomes UNAVAILABLE naming it.
template <typename Request, typename Response, typename AsyncMethod>
void ForwardRead(std::chrono::system_clock::time_point caller_deadline, int forward_deadline_ms,
                 const Route& route, const Request& request, Response* response,
                 AsyncMethod method, grpc::ServerUnaryReactor* reactor) {
  struct Call {
    grpc::ClientContext context;
    Request request;
    Response response;
  };
  auto* call = new Call();
  call->context.set_deadline(ForwardDeadline(caller_deadline, forward_deadline_ms));
  call->request = request;
  method(&call->context, &call->request, &call->response,
         [call, route, response, reactor](grpc::Status status) {
           std::unique_ptr<Call> owned(call);
           if (status.ok()) {
             *response = std::move(call->response);
             reactor->Finish(status);
           } else if (IsDefinitiveRefusal(static_cast<absl::StatusCode>(status.error_code()))) {
             reactor->Finish(status);
           } else {
             reactor->Finish(HopUnavailable(route, status, "the question was not answered"));
           }
         });
}

}  // namespace yidi

#endif  // YIDI_COMMON_NODE_SERVICES_H_
