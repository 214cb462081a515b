#include "municipal/municipal_services.h"

#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/grpc_status.h"
#include "common/id_number.h"
#include "common/log.h"
#include "common/node_services.h"
#include "common/settlement_record.h"
#include "common/settlement_validation.h"
#include "common/status_macros.h"
#include "municipal/insured_registry.h"

namespace yidi::municipal {
namespace {

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, const absl::Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

template <typename Response>
grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* ctx,
                                     absl::StatusOr<Response> result, Response* response) {
  if (result.ok()) *response = std::move(*result);
  return FinishNow(ctx, result.status());
}

// The hospital must call the node of its own treatment region.
absl::Status CheckTreatmentRegion(const NodeContext& context, absl::string_view treatment_region) {
  auto pool = context.directory.PoolingRegionFor(treatment_region);
  if (!pool.ok() || *pool != context.identity.region_code) {
    return absl::InvalidArgumentError(
        absl::StrCat("treatment_region: ", treatment_region, " is not served by ", context.name,
                     "; an institution calls the node of its own region"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<MunicipalData>> LoadMunicipalData(NodeContext& context) {
  auto data = std::make_unique<MunicipalData>();
  const auto& config = context.config;
  if (config.catalogue_file().empty()) {
    return absl::InvalidArgumentError("catalogue_file: required for a municipal node");
  }
  yidi::v1::Catalogue catalogue;
  RETURN_IF_ERROR(LoadTextProtoFile(context.ConfigPath(config.catalogue_file()), &catalogue));
  ASSIGN_OR_RETURN(data->catalogue, CatalogueIndex::Build(catalogue));
  if (config.policy_files().empty()) {
    return absl::InvalidArgumentError("policy_files: a municipal node needs its policies");
  }
  for (const std::string& file : config.policy_files()) {
    yidi::v1::PolicyConfig policy;
    RETURN_IF_ERROR(LoadTextProtoFile(context.ConfigPath(file), &policy));
    if (absl::Status added = data->policies.Add(policy, context.identity.region_code); !added.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(file, ": ", added.message()));
    }
  }
  if (!config.persons_file().empty()) {
    yidi::v1::PersonRegistry registry;
    RETURN_IF_ERROR(LoadTextProtoFile(context.ConfigPath(config.persons_file()), &registry));
    if (absl::Status seeded = SeedRegistry(*context.store, registry, context.identity.region_code,
                                           context.clock->Now());
        !seeded.ok()) {
      return absl::Status(seeded.code(), absl::StrCat(config.persons_file(), ": ", seeded.message()));
    }
  }
  return data;
}

MunicipalSettlementService::MunicipalSettlementService(NodeContext* context,
                                                       const MunicipalData* data)
    : context_(context),
      data_(data),
      insured_(context, &data->policies),
      relay_(context->store.get(), context->clock, &context->stubs, context->name,
             context->config.forward_deadline_ms(), /*record_before_forward=*/true) {}

grpc::ServerUnaryReactor* MunicipalSettlementService::HandleSettle(
    grpc::CallbackServerContext* ctx, const yidi::v1::SettleRequest* request,
    yidi::v1::SettleResponse* response, bool commit) {
  const yidi::v1::SettleRequest* routed = request;
  yidi::v1::SettleRequest classified;
  if (!request->has_classified_bill()) {
    // From a hospital: this node is the treatment region.
    if (absl::Status valid = ValidateHospitalSettleRequest(*request, context_->directory);
        !valid.ok()) {
      return FinishNow(ctx, valid);
    }
    if (absl::Status own = CheckTreatmentRegion(*context_, request->treatment_region()); !own.ok()) {
      return FinishNow(ctx, own);
    }
    const auto* institution = context_->directory.FindInstitution(request->visit().institution_code());
    // "Networked" enables cross-region settlement; a local patient needs no such enablement.
    const auto insured_pool = context_->directory.PoolingRegionFor(request->insured_region());
    const bool cross_region = !insured_pool.ok() || *insured_pool != context_->identity.region_code;
    if (cross_region && !institution->networked()) {
      return FinishNow(ctx, absl::FailedPreconditionError(absl::StrCat(
                                "visit.institution_code: ", institution->code(),
                                " is not networked for cross-region direct settlement")));
    }
    auto bill = ClassifyBill(data_->catalogue, *request, *institution);
    if (!bill.ok()) return FinishNow(ctx, bill.status());
    classified = *request;
    *classified.mutable_classified_bill() = std::move(*bill);
    routed = &classified;
  } else if (absl::Status valid = ValidateRoutedSettleRequest(*request, context_->directory);
             !valid.ok()) {
    return FinishNow(ctx, valid);
  } else if (CheckTreatmentRegion(*context_, request->treatment_region()).ok()) {
    // A routed call always comes from another treatment region; a classified bill whose
    // treatment region is ours can only come from a hospital classifying its own bill.
    return FinishNow(ctx, absl::InvalidArgumentError(
                              "classified_bill: set by the treatment region's node; a hospital "
                              "leaves it empty"));
  }

  auto route = RouteToward(context_->identity, context_->directory, routed->insured_region());
  if (!route.ok()) {
    return FinishNow(ctx, absl::Status(route.status().code(),
                                       absl::StrCat("insured_region: ", route.status().message())));
  }
  if (route->handle_locally) return FinishWith(ctx, insured_.Settle(*routed, commit), response);
  if (request->has_classified_bill()) {
    // A routed call that is not ours: a directory mismatch between nodes.
    return FinishNow(ctx, absl::FailedPreconditionError(absl::StrCat(
                              "insured_region: ", request->insured_region(), " is not owned by ",
                              context_->name, " (misrouted)")));
  }
  auto* reactor = ctx->DefaultReactor();
  auto done = [reactor](grpc::Status status) { reactor->Finish(status); };
  if (commit) {
    relay_.Settle(ctx->deadline(), *routed, *route, response, std::move(done));
  } else {
    relay_.PreSettle(ctx->deadline(), *routed, *route, response, std::move(done));
  }
  return reactor;
}

grpc::ServerUnaryReactor* MunicipalSettlementService::PreSettle(
    grpc::CallbackServerContext* ctx, const yidi::v1::SettleRequest* request,
    yidi::v1::SettleResponse* response) {
  return HandleSettle(ctx, request, response, /*commit=*/false);
}

grpc::ServerUnaryReactor* MunicipalSettlementService::Settle(
    grpc::CallbackServerContext* ctx, const yidi::v1::SettleRequest* request,
    yidi::v1::SettleResponse* response) {
  return HandleSettle(ctx, request, response, /*commit=*/true);
}

grpc::ServerUnaryReactor* MunicipalSettlementService::Reverse(
    grpc::CallbackServerContext* ctx, const yidi::v1::ReverseRequest* request,
    yidi::v1::SettleResponse* response) {
  if (absl::Status valid = ValidateReverseRequest(*request, context_->directory); !valid.ok()) {
    return FinishNow(ctx, valid);
  }
  auto route = RouteToward(context_->identity, context_->directory, request->insured_region());
  if (!route.ok()) return FinishNow(ctx, route.status());
  if (route->handle_locally) return FinishWith(ctx, insured_.Reverse(*request), response);
  if (absl::Status own = CheckTreatmentRegion(*context_, request->treatment_region()); !own.ok()) {
    return FinishNow(ctx, own);
  }
  auto* reactor = ctx->DefaultReactor();
  relay_.Reverse(ctx->deadline(), *request, *route, response,
                 [reactor](grpc::Status status) { reactor->Finish(status); });
  return reactor;
}

grpc::ServerUnaryReactor* MunicipalSettlementService::Correct(
    grpc::CallbackServerContext* ctx, const yidi::v1::CorrectRequest* request,
    yidi::v1::CorrectResponse* response) {
  if (absl::Status valid = ValidateCorrectRequest(*request, context_->directory); !valid.ok()) {
    return FinishNow(ctx, valid);
  }
  auto route = RouteToward(context_->identity, context_->directory, request->insured_region());
  if (!route.ok()) return FinishNow(ctx, route.status());
  if (route->handle_locally) return FinishWith(ctx, insured_.Correct(*request), response);
  if (absl::Status own = CheckTreatmentRegion(*context_, request->treatment_region()); !own.ok()) {
    return FinishNow(ctx, own);
  }
  auto* reactor = ctx->DefaultReactor();
  relay_.Correct(ctx->deadline(), *request, *route, response,
                 [reactor](grpc::Status status) { reactor->Finish(status); });
  return reactor;
}

grpc::ServerUnaryReactor* MunicipalSettlementService::GetSettlement(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetSettlementRequest* request,
    yidi::v1::GetSettlementResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(GetSettlementRecord(*context_, *request, response));
  return reactor;
}

MunicipalPersonService::MunicipalPersonService(NodeContext* context, const MunicipalData* data)
    : context_(context), insured_(context, &data->policies) {}

grpc::ServerUnaryReactor* MunicipalPersonService::GetInsuredPerson(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetInsuredPersonRequest* request,
    yidi::v1::GetInsuredPersonResponse* response) {
  if (absl::Status id = ValidateIdNumber(request->id_number()); !id.ok()) {
    return FinishNow(ctx, absl::InvalidArgumentError(absl::StrCat("id_number: ", id.message())));
  }
  auto route = RouteToward(context_->identity, context_->directory, request->insured_region());
  if (!route.ok()) return FinishNow(ctx, route.status());
  if (route->handle_locally) return FinishWith(ctx, insured_.GetInsuredPerson(*request), response);
  auto* reactor = ctx->DefaultReactor();
  auto* stub = context_->stubs.Person(route->next_address);
  ForwardRead(ctx->deadline(), context_->config.forward_deadline_ms(), *route, *request, response,
              [stub](auto* c, auto* q, auto* r, auto cb) {
                stub->async()->GetInsuredPerson(c, q, r, std::move(cb));
              },
              reactor);
  return reactor;
}

MunicipalFilingService::MunicipalFilingService(NodeContext* context, const MunicipalData* data)
    : context_(context), insured_(context, &data->policies) {}

grpc::ServerUnaryReactor* MunicipalFilingService::CheckFiling(
    grpc::CallbackServerContext* ctx, const yidi::v1::CheckFilingRequest* request,
    yidi::v1::CheckFilingResponse* response) {
  if (absl::Status id = ValidateIdNumber(request->id_number()); !id.ok()) {
    return FinishNow(ctx, absl::InvalidArgumentError(absl::StrCat("id_number: ", id.message())));
  }
  auto route = RouteToward(context_->identity, context_->directory, request->insured_region());
  if (!route.ok()) return FinishNow(ctx, route.status());
  if (route->handle_locally) return FinishWith(ctx, insured_.CheckFiling(*request), response);
  auto* reactor = ctx->DefaultReactor();
  auto* stub = context_->stubs.Filing(route->next_address);
  ForwardRead(ctx->deadline(), context_->config.forward_deadline_ms(), *route, *request, response,
              [stub](auto* c, auto* q, auto* r, auto cb) {
                stub->async()->CheckFiling(c, q, r, std::move(cb));
              },
              reactor);
  return reactor;
}

grpc::ServerUnaryReactor* MunicipalFilingService::ListFilings(
    grpc::CallbackServerContext* ctx, const yidi::v1::ListFilingsRequest* request,
    yidi::v1::ListFilingsResponse* response) {
  if (absl::Status id = ValidateIdNumber(request->id_number()); !id.ok()) {
    return FinishNow(ctx, absl::InvalidArgumentError(absl::StrCat("id_number: ", id.message())));
  }
  auto route = RouteToward(context_->identity, context_->directory, request->insured_region());
  if (!route.ok()) return FinishNow(ctx, route.status());
  if (route->handle_locally) return FinishWith(ctx, insured_.ListFilings(*request), response);
  auto* reactor = ctx->DefaultReactor();
  auto* stub = context_->stubs.Filing(route->next_address);
  ForwardRead(ctx->deadline(), context_->config.forward_deadline_ms(), *route, *request, response,
              [stub](auto* c, auto* q, auto* r, auto cb) {
                stub->async()->ListFilings(c, q, r, std::move(cb));
              },
              reactor);
  return reactor;
}

std::vector<std::unique_ptr<grpc::Service>> MakeMunicipalServices(NodeContext& context,
                                                                  const MunicipalData* data) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<MunicipalSettlementService>(&context, data));
  services.push_back(std::make_unique<MunicipalPersonService>(&context, data));
  services.push_back(std::make_unique<MunicipalFilingService>(&context, data));
  services.push_back(std::make_unique<NodeDirectoryService>(&context));
  return services;
}

}  // namespace yidi::municipal
