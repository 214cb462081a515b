#include "common/node_services.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/id_number.h"
#include "common/log.h"
#include "common/payment_suspension.h"
#include "common/settlement_record.h"
#include "common/settlement_validation.h"

namespace yidi {
namespace {

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, const grpc::Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, const absl::Status& status) {
  return FinishNow(ctx, ToGrpcStatus(status));
}

// The route toward `insured_region`, or the status to answer with.
absl::StatusOr<Route> RouteToInsured(const NodeContext& context, absl::string_view insured_region) {
  auto route = RouteToward(context.identity, context.directory, insured_region);
  if (!route.ok()) {
    if (absl::IsInvalidArgument(route.status())) {
      return absl::InvalidArgumentError(absl::StrCat("insured_region: ", route.status().message()));
    }
    return route.status();
  }
  if (route->handle_locally) {
    // A provincial or national node owns no insured persons.
    return absl::InternalError(absl::StrCat(context.name, " cannot own region ", insured_region));
  }
  return route;
}

}  // namespace

grpc::Status GetSettlementRecord(NodeContext& context,
                                 const yidi::v1::GetSettlementRequest& request,
                                 yidi::v1::GetSettlementResponse* response) {
  if (request.settlement_id().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "settlement_id: required");
  }
  auto tx = context.store->Begin(TransactionMode::kRead);
  if (!tx.ok()) return ToGrpcStatus(tx.status());
  auto record = FindSettlementRecord(**tx, request.settlement_id());
  if (!record.ok()) return ToGrpcStatus(record.status());
  if (!record->has_value()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        absl::StrCat("settlement_id: ", request.settlement_id(),
                                     " is not recorded at ", context.name));
  }
  const SettlementRecord& found = **record;
  if (found.result) *response->mutable_result() = *found.result;
  response->mutable_result()->set_settlement_id(found.settlement_id);
  response->mutable_result()->set_state(found.state);
  response->set_state(found.state);
  response->set_request_digest(found.request_digest);
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* NodeDirectoryService::ListRegions(
    grpc::CallbackServerContext* ctx, const yidi::v1::ListRegionsRequest*,
    yidi::v1::ListRegionsResponse* response) {
  *response->mutable_regions() = context_->directory.directory().regions();
  return FinishNow(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* NodeDirectoryService::GetInstitution(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetInstitutionRequest* request,
    yidi::v1::GetInstitutionResponse* response) {
  const auto* institution = context_->directory.FindInstitution(request->code());
  if (institution == nullptr) {
    return FinishNow(ctx, grpc::Status(grpc::StatusCode::NOT_FOUND,
                                       absl::StrCat("code: unknown institution ",
                                                    request->code().substr(0, 32))));
  }
  *response->mutable_institution() = *institution;
  return FinishNow(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* NodeDirectoryService::GetNodeInfo(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetNodeInfoRequest*,
    yidi::v1::GetNodeInfoResponse* response) {
  response->set_name(context_->config.name().empty() ? context_->name : context_->config.name());
  response->set_kind(context_->identity.kind);
  response->set_region_code(context_->identity.region_code);
  response->set_address(context_->config.listen_address());
  response->set_started_at(FormatCstTimestamp(context_->started_at));
  auto tx = context_->store->Begin(TransactionMode::kRead);
  if (!tx.ok()) return FinishNow(ctx, tx.status());
  auto counts = CountSettlementRecords(**tx);
  if (!counts.ok()) return FinishNow(ctx, counts.status());
  for (const auto& [state, count] : *counts) {
    auto* entry = response->add_settlement_records();
    entry->set_state(state);
    entry->set_count(count);
  }
  return FinishNow(ctx, grpc::Status::OK);
}

RelaySettlementService::RelaySettlementService(NodeContext* context)
    : context_(context),
      relay_(context->store.get(), context->clock, &context->stubs, context->name,
             context->config.forward_deadline_ms(), /*record_before_forward=*/false) {}

grpc::ServerUnaryReactor* RelaySettlementService::PreSettle(
    grpc::CallbackServerContext* ctx, const yidi::v1::SettleRequest* request,
    yidi::v1::SettleResponse* response) {
  if (absl::Status valid = ValidateRoutedSettleRequest(*request, context_->directory); !valid.ok()) {
    return FinishNow(ctx, valid);
  }
  auto route = RouteToInsured(*context_, request->insured_region());
  if (!route.ok()) return FinishNow(ctx, route.status());
  // Liaoning 第28条: admissions of a region unpaid past the deadline (common/payment_suspension.h).
  if (absl::Status open = CheckAdmissionNotSuspended(*context_, *request); !open.ok()) {
    return FinishNow(ctx, open);
  }
  auto* reactor = ctx->DefaultReactor();
  relay_.PreSettle(ctx->deadline(), *request, *route, response,
                   [reactor](grpc::Status status) { reactor->Finish(status); });
  return reactor;
}

grpc::ServerUnaryReactor* RelaySettlementService::Settle(grpc::CallbackServerContext* ctx,
                                                         const yidi::v1::SettleRequest* request,
                                                         yidi::v1::SettleResponse* response) {
  if (absl::Status valid = ValidateRoutedSettleRequest(*request, context_->directory); !valid.ok()) {
    return FinishNow(ctx, valid);
  }
  auto route = RouteToInsured(*context_, request->insured_region());
  if (!route.ok()) return FinishNow(ctx, route.status());
  // Liaoning 第28条: admissions of a region unpaid past the deadline (common/payment_suspension.h).
  if (absl::Status open = CheckAdmissionNotSuspended(*context_, *request); !open.ok()) {
    return FinishNow(ctx, open);
  }
  auto* reactor = ctx->DefaultReactor();
  relay_.Settle(ctx->deadline(), *request, *route, response,
                [reactor](grpc::Status status) { reactor->Finish(status); });
  return reactor;
}

grpc::ServerUnaryReactor* RelaySettlementService::Reverse(grpc::CallbackServerContext* ctx,
                                                          const yidi::v1::ReverseRequest* request,
                                                          yidi::v1::SettleResponse* response) {
  if (absl::Status valid = ValidateReverseRequest(*request, context_->directory); !valid.ok()) {
    return FinishNow(ctx, valid);
  }
  auto route = RouteToInsured(*context_, request->insured_region());
  if (!route.ok()) return FinishNow(ctx, route.status());
  auto* reactor = ctx->DefaultReactor();
  relay_.Reverse(ctx->deadline(), *request, *route, response,
                 [reactor](grpc::Status status) { reactor->Finish(status); });
  return reactor;
}

grpc::ServerUnaryReactor* RelaySettlementService::Correct(grpc::CallbackServerContext* ctx,
                                                          const yidi::v1::CorrectRequest* request,
                                                          yidi::v1::CorrectResponse* response) {
  if (absl::Status valid = ValidateCorrectRequest(*request, context_->directory); !valid.ok()) {
    return FinishNow(ctx, valid);
  }
  auto route = RouteToInsured(*context_, request->insured_region());
  if (!route.ok()) return FinishNow(ctx, route.status());
  auto* reactor = ctx->DefaultReactor();
  relay_.Correct(ctx->deadline(), *request, *route, response,
                 [reactor](grpc::Status status) { reactor->Finish(status); });
  return reactor;
}

grpc::ServerUnaryReactor* RelaySettlementService::GetSettlement(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetSettlementRequest* request,
    yidi::v1::GetSettlementResponse* response) {
  return FinishNow(ctx, GetSettlementRecord(*context_, *request, response));
}

grpc::ServerUnaryReactor* RelayPersonService::GetInsuredPerson(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetInsuredPersonRequest* request,
    yidi::v1::GetInsuredPersonResponse* response) {
  if (absl::Status id = ValidateIdNumber(request->id_number()); !id.ok()) {
    return FinishNow(ctx, absl::InvalidArgumentError(absl::StrCat("id_number: ", id.message())));
  }
  auto route = RouteToInsured(*context_, request->insured_region());
  if (!route.ok()) return FinishNow(ctx, route.status());
  auto* reactor = ctx->DefaultReactor();
  auto* stub = context_->stubs.Person(route->next_address);
  ForwardRead(ctx->deadline(), context_->config.forward_deadline_ms(), *route, *request, response,
              [stub](auto* c, auto* q, auto* r, auto cb) {
                stub->async()->GetInsuredPerson(c, q, r, std::move(cb));
              },
              reactor);
  return reactor;
}

}  // namespace yidi
