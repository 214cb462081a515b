// The FilingService of a node that owns no insured persons (provincial, national):
//  - keeps the filing index (common/filing_index.h): applies the uploads of the nodes below it
//    and, at a provincial node, passes every applied change on to national through its own
//    outbox, written in the same transaction; national passes each filing naming a treatment
//    region in another province down to that province's node the same way (the treatment
//    province receives the filings naming it, Liaoning 003_… 第10条(五));
//  - answers CheckFiling / ListFilings with `from_index` from that index when it holds the
//    insured region's records, else forwards them one hop toward the insured region;
//  - forwards the writes (create, change, cancel, chronic disease) toward the insured region.
// Also the forwarding helper the municipal node uses for filing calls it does not own.
//
// Thread-safe: handlers run on gRPC's callback threads; the upload sender on its own thread.
#ifndef YIDI_COMMON_FILING_RELAY_H_
#define YIDI_COMMON_FILING_RELAY_H_

#include <chrono>
#include <map>
#include <memory>
#include <utility>

#include "absl/strings/string_view.h"
#include "common/grpc_status.h"
#include "common/node.h"
#include "common/outbox.h"
#include "common/routing.h"
#include "common/settlement_relay.h"
#include "grpcpp/grpcpp.h"
#include "yidi/v1/filing.grpc.pb.h"

namespace yidi {

// Forwards a filing call one hop along `route` and finishes `reactor` with the answer. A
// refusal on the merits passes through unchanged; a hop that does not answer becomes
// UNAVAILABLE naming it: for a write the outcome is then unknown, and a retry with the same
// request_id is safe.
template <typename Request, typename Response, typename AsyncMethod>
void ForwardFilingCall(std::chrono::system_clock::time_point caller_deadline,
                       int forward_deadline_ms, const Route& route, const Request& request,
                       Response* response, AsyncMethod method, grpc::ServerUnaryReactor* reactor) {
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
             reactor->Finish(HopUnavailable(
                 route, status, "the filing call's outcome is unknown; retrying with the same "
                                "request_id is safe"));
           }
         });
}

class RelayFilingService final : public yidi::v1::FilingService::CallbackService {
 public:
  // `context` must outlive the service. A provincial node starts its upload sender here.
  explicit RelayFilingService(NodeContext* context);
  // Stops the upload sender (rows not yet delivered stay in the outbox).
  ~RelayFilingService() override;

  grpc::ServerUnaryReactor* CheckFiling(grpc::CallbackServerContext* ctx,
                                        const yidi::v1::CheckFilingRequest* request,
                                        yidi::v1::CheckFilingResponse* response) override;
  grpc::ServerUnaryReactor* ListFilings(grpc::CallbackServerContext* ctx,
                                        const yidi::v1::ListFilingsRequest* request,
                                        yidi::v1::ListFilingsResponse* response) override;
  grpc::ServerUnaryReactor* CreateFiling(grpc::CallbackServerContext* ctx,
                                         const yidi::v1::CreateFilingRequest* request,
                                         yidi::v1::FilingResponse* response) override;
  grpc::ServerUnaryReactor* ChangeFiling(grpc::CallbackServerContext* ctx,
                                         const yidi::v1::ChangeFilingRequest* request,
                                         yidi::v1::FilingResponse* response) override;
  grpc::ServerUnaryReactor* CancelFiling(grpc::CallbackServerContext* ctx,
                                         const yidi::v1::CancelFilingRequest* request,
                                         yidi::v1::FilingResponse* response) override;
  grpc::ServerUnaryReactor* RecordChronicDisease(
      grpc::CallbackServerContext* ctx, const yidi::v1::RecordChronicDiseaseRequest* request,
      yidi::v1::ChronicDiseaseResponse* response) override;
  grpc::ServerUnaryReactor* RevokeChronicDisease(
      grpc::CallbackServerContext* ctx, const yidi::v1::RevokeChronicDiseaseRequest* request,
      yidi::v1::ChronicDiseaseResponse* response) override;
  grpc::ServerUnaryReactor* UploadFilingChanges(
      grpc::CallbackServerContext* ctx, const yidi::v1::UploadFilingChangesRequest* request,
      yidi::v1::UploadFilingChangesResponse* response) override;
  grpc::ServerUnaryReactor* GetFilingReplication(
      grpc::CallbackServerContext* ctx, const yidi::v1::GetFilingReplicationRequest* request,
      yidi::v1::GetFilingReplicationResponse* response) override;

 private:
  // Forwards a routed write toward `insured_region`.
  template <typename Request, typename Response, typename AsyncMethod>
  grpc::ServerUnaryReactor* ForwardWrite(grpc::CallbackServerContext* ctx,
                                         absl::string_view insured_region, const Request& request,
                                         Response* response, AsyncMethod method);

  // National: one outbox sender per provincial node of the directory.
  void StartTreatmentProvinceSenders();

  NodeContext* const context_;
  std::string upstream_name_;              // "national (127.0.0.1:17000)"; empty at national
  std::unique_ptr<OutboxSender> upload_;   // provincial: toward national
  // National: one sender per provincial node, passing down the filings naming that province
  // as treatment region (TreatmentProvinceOf), by province code.
  std::map<std::string, std::unique_ptr<OutboxSender>> to_treatment_province_;
};

}  // namespace yidi

#endif  // YIDI_COMMON_FILING_RELAY_H_
