// The municipal node's gRPC handlers. As the treatment region (the hospital's entry) it
// validates the bill, classifies it against its own catalogue and routes it; as the insured
// region it hands routed calls to InsuredSettlement. Handlers translate only: rules live in
// catalogue, eligibility, policy_set / policy_engine and insured_settlement.
#ifndef YIDI_MUNICIPAL_MUNICIPAL_SERVICES_H_
#define YIDI_MUNICIPAL_MUNICIPAL_SERVICES_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/node.h"
#include "common/settlement_relay.h"
#include "common/outbox.h"
#include "municipal/catalogue.h"
#include "municipal/filing_registry.h"
#include "municipal/insured_settlement.h"
#include "municipal/policy_set.h"
#include "yidi/v1/filing.grpc.pb.h"
#include "yidi/v1/filing_rules.pb.h"
#include "yidi/v1/person.grpc.pb.h"
#include "yidi/v1/settlement.grpc.pb.h"

namespace yidi::municipal {

// What the municipal node loads from its config besides the NodeContext.
struct MunicipalData {
  CatalogueIndex catalogue;
  PolicySet policies;
  // The insured region's filing rules (NodeConfig.filing_rules_file); none = no filings taken.
  std::optional<yidi::v1::FilingRules> filing_rules;
};

// Loads the catalogue, the policies and seeds the persons file named by the node config.
absl::StatusOr<std::unique_ptr<MunicipalData>> LoadMunicipalData(NodeContext& context);

class MunicipalSettlementService final : public yidi::v1::SettlementService::CallbackService {
 public:
  MunicipalSettlementService(NodeContext* context, const MunicipalData* data);
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
  // PreSettle and Settle share everything but the commit.
  grpc::ServerUnaryReactor* HandleSettle(grpc::CallbackServerContext* ctx,
                                         const yidi::v1::SettleRequest* request,
                                         yidi::v1::SettleResponse* response, bool commit);

  NodeContext* const context_;
  const MunicipalData* const data_;
  InsuredSettlement insured_;
  SettlementRelay relay_;
};

class MunicipalPersonService final : public yidi::v1::PersonService::CallbackService {
 public:
  MunicipalPersonService(NodeContext* context, const MunicipalData* data);
  grpc::ServerUnaryReactor* GetInsuredPerson(
      grpc::CallbackServerContext* ctx, const yidi::v1::GetInsuredPersonRequest* request,
      yidi::v1::GetInsuredPersonResponse* response) override;

 private:
  NodeContext* const context_;
  InsuredSettlement insured_;
};

// The insured region's filings: the writes and live reads go to FilingRegistry, calls for another
// insured region are forwarded toward it; the outbox sender uploads every change to the
// province (and runs the undertaking-lapse sweep each second on the same thread).
class MunicipalFilingService final : public yidi::v1::FilingService::CallbackService {
 public:
  // Starts the upload sender. `context` and `data` must outlive the service.
  MunicipalFilingService(NodeContext* context, const MunicipalData* data);
  // Stops the sender; what it has not delivered stays in the outbox for the next start.
  ~MunicipalFilingService() override;
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
  // Handles a call for `insured_region` here (`local`) or forwards it toward that region.
  template <typename Request, typename Response, typename Local, typename AsyncMethod>
  grpc::ServerUnaryReactor* Dispatch(grpc::CallbackServerContext* ctx,
                                     absl::string_view insured_region, const Request& request,
                                     Response* response, Local local, AsyncMethod method);

  NodeContext* const context_;
  FilingRegistry registry_;
  std::string upstream_name_;             // "provincial 360000 (127.0.0.1:17036)"
  std::unique_ptr<OutboxSender> upload_;  // toward the province; null if the directory lacks it
};

// Every service of a municipal node, for NodeMain and the in-process mesh tests.
// `data` must outlive the services.
std::vector<std::unique_ptr<grpc::Service>> MakeMunicipalServices(NodeContext& context,
                                                                  const MunicipalData* data);

}  // namespace yidi::municipal

#endif  // YIDI_MUNICIPAL_MUNICIPAL_SERVICES_H_
