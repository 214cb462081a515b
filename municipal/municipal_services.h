// The municipal node's gRPC handlers. As the treatment region (the hospital's entry) it
// validates the bill, classifies it against its own catalogue and routes it; as the insured
// region it hands routed calls to InsuredSettlement. Handlers translate only: rules live in
// catalogue, eligibility, basic_policy and insured_settlement.
#ifndef YIDI_MUNICIPAL_MUNICIPAL_SERVICES_H_
#define YIDI_MUNICIPAL_MUNICIPAL_SERVICES_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "common/node.h"
#include "common/settlement_relay.h"
#include "municipal/basic_policy.h"
#include "municipal/catalogue.h"
#include "municipal/insured_settlement.h"
#include "yidi/v1/filing.grpc.pb.h"
#include "yidi/v1/person.grpc.pb.h"
#include "yidi/v1/settlement.grpc.pb.h"

namespace yidi::municipal {

// What the municipal node loads from its config besides the NodeContext.
struct MunicipalData {
  CatalogueIndex catalogue;
  PolicySet policies;
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

class MunicipalFilingService final : public yidi::v1::FilingService::CallbackService {
 public:
  MunicipalFilingService(NodeContext* context, const MunicipalData* data);
  grpc::ServerUnaryReactor* CheckFiling(grpc::CallbackServerContext* ctx,
                                        const yidi::v1::CheckFilingRequest* request,
                                        yidi::v1::CheckFilingResponse* response) override;
  grpc::ServerUnaryReactor* ListFilings(grpc::CallbackServerContext* ctx,
                                        const yidi::v1::ListFilingsRequest* request,
                                        yidi::v1::ListFilingsResponse* response) override;

 private:
  NodeContext* const context_;
  InsuredSettlement insured_;
};

// Every service of a municipal node, for NodeMain and the in-process mesh tests.
// `data` must outlive the services.
std::vector<std::unique_ptr<grpc::Service>> MakeMunicipalServices(NodeContext& context,
                                                                  const MunicipalData* data);

}  // namespace yidi::municipal

#endif  // YIDI_MUNICIPAL_MUNICIPAL_SERVICES_H_
