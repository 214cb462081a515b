#include "municipal/municipal_services.h"

#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/grpc_status.h"
#include "common/id_number.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/collaboration_services.h"
#include "common/clearing_service.h"
#include "common/ledger_service.h"
#include "common/node_services.h"
#include "common/reconciliation_service.h"
#include "common/prepayment_service.h"
#include "common/settlement_record.h"
#include "common/settlement_validation.h"
#include "common/status_macros.h"
#include "common/filing_index.h"
#include "common/filing_relay.h"
#include "municipal/filing_rules.h"
#include "municipal/insured_registry.h"
#include "municipal/owner_corrections.h"

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
  if (!config.filing_rules_file().empty()) {
    yidi::v1::FilingRules rules;
    RETURN_IF_ERROR(LoadTextProtoFile(context.ConfigPath(config.filing_rules_file()), &rules));
    if (absl::Status valid = ValidateFilingRules(rules, context.identity.region_code);
        !valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(config.filing_rules_file(), ": ", valid.message()));
    }
    // Settlement reads the intra-province flag from the policies (PolicyConfig.remote_care);
    // the filing side refuses intra-province filings by this one. They must agree.
    for (const std::string& file : config.policy_files()) {
      yidi::v1::PolicyConfig policy;
      RETURN_IF_ERROR(LoadTextProtoFile(context.ConfigPath(file), &policy));
      if (policy.remote_care().intra_province_filing_required() !=
          rules.intra_province_filing_required()) {
        return absl::InvalidArgumentError(absl::StrCat(
            config.filing_rules_file(), ": intra_province_filing_required disagrees with ", file,
            " (remote_care.intra_province_filing_required)"));
      }
    }
    data->filing_rules = std::move(rules);
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
      insured_(context, &data->policies,
               data->filing_rules.has_value() ? &*data->filing_rules : nullptr),
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
    : context_(context),
      insured_(context, &data->policies,
               data->filing_rules.has_value() ? &*data->filing_rules : nullptr) {}

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
    : context_(context),
      registry_(context, data->filing_rules.has_value() ? &*data->filing_rules : nullptr,
                [this] {
                  if (upload_ != nullptr) upload_->Notify();
                }) {
  auto upstream = UploadRouteOf(context_->identity, context_->directory);
  if (!upstream.ok() || !upstream->has_value()) {
    LogError("filing uploads will wait in the outbox: %s",
             upstream.ok() ? std::string("no province") : upstream.status().ToString());
    return;
  }
  upstream_name_ = (*upstream)->NextHopName();
  OutboxSender::Options options;
  options.topic = kFilingUploadTopic;
  options.name = absl::StrCat("filing upload to ", upstream_name_);
  options.call_deadline = absl::Milliseconds(context_->config.forward_deadline_ms() > 0
                                                 ? context_->config.forward_deadline_ms()
                                                 : kForwardDeadlineDefaultMs);
  // The undertaking-lapse sweep rides on the sender's thread, once a second (real time; it reads
  // the node's clock for the date).
  options.tick = [this] {
    if (auto lapsed = registry_.SweepLapsed(); !lapsed.ok()) {
      LogWarning("lapse sweep: %s", lapsed.status().ToString());
    }
  };
  upload_ = std::make_unique<OutboxSender>(
      context_->store.get(), std::move(options),
      MakeFilingUploadDelivery((*upstream)->next_address, context_->name,
                               context_->channel_credentials));
  upload_->Start();
}

MunicipalFilingService::~MunicipalFilingService() {
  if (upload_ != nullptr) upload_->Stop();
}

template <typename Request, typename Response, typename Local, typename AsyncMethod>
grpc::ServerUnaryReactor* MunicipalFilingService::Dispatch(grpc::CallbackServerContext* ctx,
                                                           absl::string_view insured_region,
                                                           const Request& request,
                                                           Response* response, Local local,
                                                           AsyncMethod method) {
  if (absl::Status id = ValidateIdNumber(request.id_number()); !id.ok()) {
    return FinishNow(ctx, absl::InvalidArgumentError(absl::StrCat("id_number: ", id.message())));
  }
  auto route = RouteToward(context_->identity, context_->directory, insured_region);
  if (!route.ok()) {
    return FinishNow(ctx, absl::Status(route.status().code(),
                                       absl::StrCat("insured_region: ", route.status().message())));
  }
  if (route->handle_locally) return FinishWith(ctx, local(request), response);
  auto* reactor = ctx->DefaultReactor();
  auto* stub = context_->stubs.Filing(route->next_address);
  ForwardFilingCall(ctx->deadline(), context_->config.forward_deadline_ms(), *route, request,
                    response,
                    [stub, method](auto* c, auto* q, auto* r, auto cb) {
                      method(stub, c, q, r, std::move(cb));
                    },
                    reactor);
  return reactor;
}

grpc::ServerUnaryReactor* MunicipalFilingService::CheckFiling(
    grpc::CallbackServerContext* ctx, const yidi::v1::CheckFilingRequest* request,
    yidi::v1::CheckFilingResponse* response) {
  return Dispatch(
      ctx, request->insured_region(), *request, response,
      [this](const auto& q) { return registry_.Check(q); },
      [](yidi::v1::FilingService::Stub* stub, auto* c, auto* q, auto* r, auto cb) {
        stub->async()->CheckFiling(c, q, r, std::move(cb));
      });
}

grpc::ServerUnaryReactor* MunicipalFilingService::ListFilings(
    grpc::CallbackServerContext* ctx, const yidi::v1::ListFilingsRequest* request,
    yidi::v1::ListFilingsResponse* response) {
  return Dispatch(
      ctx, request->insured_region(), *request, response,
      [this](const auto& q) { return registry_.List(q); },
      [](yidi::v1::FilingService::Stub* stub, auto* c, auto* q, auto* r, auto cb) {
        stub->async()->ListFilings(c, q, r, std::move(cb));
      });
}

grpc::ServerUnaryReactor* MunicipalFilingService::CreateFiling(
    grpc::CallbackServerContext* ctx, const yidi::v1::CreateFilingRequest* request,
    yidi::v1::FilingResponse* response) {
  return Dispatch(
      ctx, request->insured_region(), *request, response,
      [this](const auto& q) { return registry_.Create(q); },
      [](yidi::v1::FilingService::Stub* stub, auto* c, auto* q, auto* r, auto cb) {
        stub->async()->CreateFiling(c, q, r, std::move(cb));
      });
}

grpc::ServerUnaryReactor* MunicipalFilingService::ChangeFiling(
    grpc::CallbackServerContext* ctx, const yidi::v1::ChangeFilingRequest* request,
    yidi::v1::FilingResponse* response) {
  return Dispatch(
      ctx, request->insured_region(), *request, response,
      [this](const auto& q) { return registry_.Change(q); },
      [](yidi::v1::FilingService::Stub* stub, auto* c, auto* q, auto* r, auto cb) {
        stub->async()->ChangeFiling(c, q, r, std::move(cb));
      });
}

grpc::ServerUnaryReactor* MunicipalFilingService::CancelFiling(
    grpc::CallbackServerContext* ctx, const yidi::v1::CancelFilingRequest* request,
    yidi::v1::FilingResponse* response) {
  return Dispatch(
      ctx, request->insured_region(), *request, response,
      [this](const auto& q) { return registry_.Cancel(q); },
      [](yidi::v1::FilingService::Stub* stub, auto* c, auto* q, auto* r, auto cb) {
        stub->async()->CancelFiling(c, q, r, std::move(cb));
      });
}

grpc::ServerUnaryReactor* MunicipalFilingService::RecordChronicDisease(
    grpc::CallbackServerContext* ctx, const yidi::v1::RecordChronicDiseaseRequest* request,
    yidi::v1::ChronicDiseaseResponse* response) {
  return Dispatch(
      ctx, request->insured_region(), *request, response,
      [this](const auto& q) { return registry_.RecordChronicDisease(q); },
      [](yidi::v1::FilingService::Stub* stub, auto* c, auto* q, auto* r, auto cb) {
        stub->async()->RecordChronicDisease(c, q, r, std::move(cb));
      });
}

grpc::ServerUnaryReactor* MunicipalFilingService::RevokeChronicDisease(
    grpc::CallbackServerContext* ctx, const yidi::v1::RevokeChronicDiseaseRequest* request,
    yidi::v1::ChronicDiseaseResponse* response) {
  return Dispatch(
      ctx, request->insured_region(), *request, response,
      [this](const auto& q) { return registry_.RevokeChronicDisease(q); },
      [](yidi::v1::FilingService::Stub* stub, auto* c, auto* q, auto* r, auto cb) {
        stub->async()->RevokeChronicDisease(c, q, r, std::move(cb));
      });
}

grpc::ServerUnaryReactor* MunicipalFilingService::UploadFilingChanges(
    grpc::CallbackServerContext* ctx, const yidi::v1::UploadFilingChangesRequest*,
    yidi::v1::UploadFilingChangesResponse*) {
  return FinishNow(ctx, absl::FailedPreconditionError(absl::StrCat(
                            context_->name, " keeps no filing index; uploads go to a province")));
}

grpc::ServerUnaryReactor* MunicipalFilingService::GetFilingReplication(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetFilingReplicationRequest*,
    yidi::v1::GetFilingReplicationResponse* response) {
  auto tx = context_->store->Begin(TransactionMode::kRead);
  if (!tx.ok()) return FinishNow(ctx, tx.status());
  auto outbox = ReadOutboxStats(**tx, kFilingUploadTopic);
  if (!outbox.ok()) return FinishNow(ctx, outbox.status());
  response->set_node(context_->name);
  response->set_upstream(upstream_name_);
  response->set_outbox_pending(outbox->pending);
  response->set_outbox_parked(outbox->parked);
  response->set_outbox_oldest_pending_at(outbox->oldest_pending_at);
  response->set_outbox_last_error(outbox->last_error);
  return FinishNow(ctx, absl::OkStatus());
}

std::vector<std::unique_ptr<grpc::Service>> MakeMunicipalServices(NodeContext& context,
                                                                  const MunicipalData* data) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<MunicipalSettlementService>(&context, data));
  services.push_back(std::make_unique<MunicipalPersonService>(&context, data));
  services.push_back(std::make_unique<MunicipalFilingService>(&context, data));
  services.push_back(std::make_unique<NodeDirectoryService>(&context));
  services.push_back(std::make_unique<NodeReconciliationService>(
      &context, OwnerCorrectionReplayer(&context)));  // docs/RECONCILIATION.md; D410
  // Back office (docs/LEDGER.md, docs/PREPAYMENT.md).
  services.push_back(std::make_unique<NodeLedgerService>(&context));
  services.push_back(std::make_unique<NodePrepaymentService>(&context));
  services.push_back(std::make_unique<NodeClearingService>(&context));  // claims: docs/CLEARING.md
  for (auto& service : MakeCollaborationServices(context)) services.push_back(std::move(service));
  return services;
}

}  // namespace yidi::municipal
