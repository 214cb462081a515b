#include "common/filing_relay.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/filing_index.h"
#include "common/id_number.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/payment_suspension.h"
#include "common/status_macros.h"

namespace yidi {
namespace {

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, const absl::Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

absl::Status CheckIdNumber(absl::string_view id_number) {
  if (absl::Status id = ValidateIdNumber(id_number); !id.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("id_number: ", id.message()));
  }
  return absl::OkStatus();
}

// The route toward the insured region; a provincial or national node never owns it.
absl::StatusOr<Route> RouteToInsured(const NodeContext& context, absl::string_view insured_region) {
  auto route = RouteToward(context.identity, context.directory, insured_region);
  if (!route.ok()) {
    if (absl::IsInvalidArgument(route.status())) {
      return absl::InvalidArgumentError(absl::StrCat("insured_region: ", route.status().message()));
    }
    return route.status();
  }
  if (route->handle_locally) {
    return absl::InternalError(absl::StrCat(context.name, " cannot own region ", insured_region));
  }
  return route;
}

// The insured pooling region when this node's index holds it and the caller asked for the
// index; nullopt when the call goes on toward the insured region.
absl::StatusOr<std::optional<std::string>> IndexedRegion(const NodeContext& context,
                                                         bool from_index,
                                                         absl::string_view insured_region) {
  auto pool = context.directory.PoolingRegionFor(insured_region);
  if (!pool.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("insured_region: unknown region ",
                                                   insured_region.substr(0, 12)));
  }
  if (from_index && IndexHolds(context.identity, *pool)) return std::optional<std::string>(*pool);
  return std::optional<std::string>();
}

}  // namespace

RelayFilingService::RelayFilingService(NodeContext* context) : context_(context) {
  auto upstream = UploadRouteOf(context_->identity, context_->directory);
  if (!upstream.ok()) {
    LogError("filing uploads will wait in the outbox: %s", upstream.status().ToString());
    return;
  }
  if (!upstream->has_value()) {  // national: the top of the tree
    StartTreatmentProvinceSenders();
    return;
  }
  upstream_name_ = (*upstream)->NextHopName();
  OutboxSender::Options options;
  options.topic = kFilingUploadTopic;
  options.name = absl::StrCat("filing upload to ", upstream_name_);
  options.call_deadline = absl::Milliseconds(context_->config.forward_deadline_ms() > 0
                                                 ? context_->config.forward_deadline_ms()
                                                 : kForwardDeadlineDefaultMs);
  upload_ = std::make_unique<OutboxSender>(
      context_->store.get(), std::move(options),
      MakeFilingUploadDelivery((*upstream)->next_address, context_->name,
                               context_->channel_credentials));
  upload_->Start();
}

void RelayFilingService::StartTreatmentProvinceSenders() {
  for (const yidi::v1::Region& region : context_->directory.directory().regions()) {
    if (region.kind() != yidi::v1::NODE_KIND_PROVINCIAL || region.address().empty()) continue;
    OutboxSender::Options options;
    options.topic = TreatmentProvinceTopic(region.code());
    options.name = absl::StrCat("filings to treatment province ", region.code());
    options.call_deadline = absl::Milliseconds(context_->config.forward_deadline_ms() > 0
                                                   ? context_->config.forward_deadline_ms()
                                                   : kForwardDeadlineDefaultMs);
    auto sender = std::make_unique<OutboxSender>(
        context_->store.get(), std::move(options),
        MakeFilingUploadDelivery(region.address(), context_->name,
                                 context_->channel_credentials));
    sender->Start();
    to_treatment_province_[region.code()] = std::move(sender);
  }
}

RelayFilingService::~RelayFilingService() {
  if (upload_ != nullptr) upload_->Stop();
  for (auto& [province, sender] : to_treatment_province_) sender->Stop();
}

template <typename Request, typename Response, typename AsyncMethod>
grpc::ServerUnaryReactor* RelayFilingService::ForwardWrite(grpc::CallbackServerContext* ctx,
                                                           absl::string_view insured_region,
                                                           const Request& request,
                                                           Response* response,
                                                           AsyncMethod method) {
  if (request.request_id().empty()) {
    return FinishNow(ctx, absl::InvalidArgumentError("request_id: required"));
  }
  if (absl::Status id = CheckIdNumber(request.id_number()); !id.ok()) return FinishNow(ctx, id);
  auto route = RouteToInsured(*context_, insured_region);
  if (!route.ok()) return FinishNow(ctx, route.status());
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

grpc::ServerUnaryReactor* RelayFilingService::CheckFiling(
    grpc::CallbackServerContext* ctx, const yidi::v1::CheckFilingRequest* request,
    yidi::v1::CheckFilingResponse* response) {
  if (absl::Status id = CheckIdNumber(request->id_number()); !id.ok()) return FinishNow(ctx, id);
  auto indexed = IndexedRegion(*context_, request->from_index(), request->insured_region());
  if (!indexed.ok()) return FinishNow(ctx, indexed.status());
  if (indexed->has_value()) {
    auto date = ParseDate(request->date());
    if (!date.ok()) {
      return FinishNow(ctx, absl::InvalidArgumentError(
                                absl::StrCat("date: ", date.status().message())));
    }
    auto treatment_pool = context_->directory.PoolingRegionFor(request->treatment_region());
    if (!treatment_pool.ok()) {
      return FinishNow(ctx, absl::InvalidArgumentError(absl::StrCat(
                                "treatment_region: ", treatment_pool.status().message())));
    }
    auto tx = context_->store->Begin(TransactionMode::kRead);
    if (!tx.ok()) return FinishNow(ctx, tx.status());
    auto person = ReadIndexedPerson(**tx, **indexed, request->id_number());
    if (!person.ok()) return FinishNow(ctx, person.status());
    AnswerCheckFiling(person->filings, person->chronic_diseases, *treatment_pool, *date,
                      CareKindOf(request->medical_type()), response);
    response->set_answered_by(context_->name);
    response->set_as_of(person->as_of);
    response->set_from_index(true);
    return FinishNow(ctx, absl::OkStatus());
  }
  auto route = RouteToInsured(*context_, request->insured_region());
  if (!route.ok()) return FinishNow(ctx, route.status());
  auto* reactor = ctx->DefaultReactor();
  auto* stub = context_->stubs.Filing(route->next_address);
  ForwardFilingCall(ctx->deadline(), context_->config.forward_deadline_ms(), *route, *request,
                    response,
                    [stub](auto* c, auto* q, auto* r, auto cb) {
                      stub->async()->CheckFiling(c, q, r, std::move(cb));
                    },
                    reactor);
  return reactor;
}

grpc::ServerUnaryReactor* RelayFilingService::ListFilings(
    grpc::CallbackServerContext* ctx, const yidi::v1::ListFilingsRequest* request,
    yidi::v1::ListFilingsResponse* response) {
  if (absl::Status id = CheckIdNumber(request->id_number()); !id.ok()) return FinishNow(ctx, id);
  auto indexed = IndexedRegion(*context_, request->from_index(), request->insured_region());
  if (!indexed.ok()) return FinishNow(ctx, indexed.status());
  if (indexed->has_value()) {
    auto tx = context_->store->Begin(TransactionMode::kRead);
    if (!tx.ok()) return FinishNow(ctx, tx.status());
    auto person = ReadIndexedPerson(**tx, **indexed, request->id_number());
    if (!person.ok()) return FinishNow(ctx, person.status());
    for (auto& filing : person->filings) *response->add_filings() = std::move(filing);
    for (auto& chronic : person->chronic_diseases) {
      *response->add_chronic_diseases() = std::move(chronic);
    }
    response->set_answered_by(context_->name);
    response->set_as_of(person->as_of);
    return FinishNow(ctx, absl::OkStatus());
  }
  auto route = RouteToInsured(*context_, request->insured_region());
  if (!route.ok()) return FinishNow(ctx, route.status());
  auto* reactor = ctx->DefaultReactor();
  auto* stub = context_->stubs.Filing(route->next_address);
  ForwardFilingCall(ctx->deadline(), context_->config.forward_deadline_ms(), *route, *request,
                    response,
                    [stub](auto* c, auto* q, auto* r, auto cb) {
                      stub->async()->ListFilings(c, q, r, std::move(cb));
                    },
                    reactor);
  return reactor;
}

grpc::ServerUnaryReactor* RelayFilingService::CreateFiling(
    grpc::CallbackServerContext* ctx, const yidi::v1::CreateFilingRequest* request,
    yidi::v1::FilingResponse* response) {
  return ForwardWrite(ctx, request->insured_region(), *request, response,
                      [](yidi::v1::FilingService::Stub* stub, auto* c, auto* q, auto* r,
                         auto cb) { stub->async()->CreateFiling(c, q, r, std::move(cb)); });
}

grpc::ServerUnaryReactor* RelayFilingService::ChangeFiling(
    grpc::CallbackServerContext* ctx, const yidi::v1::ChangeFilingRequest* request,
    yidi::v1::FilingResponse* response) {
  return ForwardWrite(ctx, request->insured_region(), *request, response,
                      [](yidi::v1::FilingService::Stub* stub, auto* c, auto* q, auto* r,
                         auto cb) { stub->async()->ChangeFiling(c, q, r, std::move(cb)); });
}

grpc::ServerUnaryReactor* RelayFilingService::CancelFiling(
    grpc::CallbackServerContext* ctx, const yidi::v1::CancelFilingRequest* request,
    yidi::v1::FilingResponse* response) {
  return ForwardWrite(ctx, request->insured_region(), *request, response,
                      [](yidi::v1::FilingService::Stub* stub, auto* c, auto* q, auto* r,
                         auto cb) { stub->async()->CancelFiling(c, q, r, std::move(cb)); });
}

grpc::ServerUnaryReactor* RelayFilingService::RecordChronicDisease(
    grpc::CallbackServerContext* ctx, const yidi::v1::RecordChronicDiseaseRequest* request,
    yidi::v1::ChronicDiseaseResponse* response) {
  return ForwardWrite(ctx, request->insured_region(), *request, response,
                      [](yidi::v1::FilingService::Stub* stub, auto* c, auto* q, auto* r,
                         auto cb) { stub->async()->RecordChronicDisease(c, q, r, std::move(cb)); });
}

grpc::ServerUnaryReactor* RelayFilingService::RevokeChronicDisease(
    grpc::CallbackServerContext* ctx, const yidi::v1::RevokeChronicDiseaseRequest* request,
    yidi::v1::ChronicDiseaseResponse* response) {
  return ForwardWrite(ctx, request->insured_region(), *request, response,
                      [](yidi::v1::FilingService::Stub* stub, auto* c, auto* q, auto* r,
                         auto cb) { stub->async()->RevokeChronicDisease(c, q, r, std::move(cb)); });
}

grpc::ServerUnaryReactor* RelayFilingService::UploadFilingChanges(
    grpc::CallbackServerContext* ctx, const yidi::v1::UploadFilingChangesRequest* request,
    yidi::v1::UploadFilingChangesResponse* response) {
  if (absl::Status valid = ValidateFilingUpload(*request, context_->identity, context_->directory);
      !valid.ok()) {
    LogWarning("upload from %s refused: %s", request->sender().substr(0, 64), valid.ToString());
    return FinishNow(ctx, valid);
  }
  const absl::Time now = context_->clock->Now();
  auto tx = context_->store->Begin(TransactionMode::kWrite);
  if (!tx.ok()) return FinishNow(ctx, tx.status());
  int32_t applied = 0;
  int32_t duplicates = 0;
  int32_t stale = 0;
  absl::Status held = absl::OkStatus();  // new filings of a suspended region (RULES.md 6.6)
  std::set<std::string> notify;           // treatment provinces with new rows (national)
  for (const auto& change : request->changes()) {
    if (absl::Status allowed = CheckFilingUploadNotSuspended(**tx, *context_, change);
        !allowed.ok()) {
      if (allowed.code() != absl::StatusCode::kFailedPrecondition) return FinishNow(ctx, allowed);
      held = allowed;
      continue;
    }
    auto outcome = ApplyFilingChange(**tx, change, now);
    if (!outcome.ok()) return FinishNow(ctx, outcome.status());
    switch (*outcome) {
      case ApplyOutcome::kApplied: {
        ++applied;
        // Passed on only when it changed this index: a duplicate or stale version was passed on
        // (or superseded) when it first arrived. A province passes up only its own regions'
        // records, not those national passed down to it as treatment province.
        const std::string& insured = change.has_filing() ? change.filing().insured_region()
                                                         : change.chronic_disease().insured_region();
        if (upload_ != nullptr && IndexHolds(context_->identity, insured)) {
          if (absl::Status queued = EnqueueFilingUpload(**tx, change, now); !queued.ok()) {
            return FinishNow(ctx, queued);
          }
        }
        if (!to_treatment_province_.empty()) {
          const auto province = TreatmentProvinceOf(change, context_->directory);
          if (province.has_value() && to_treatment_province_.contains(*province)) {
            auto queued = EnqueueOutbox(**tx, TreatmentProvinceTopic(*province), change, now);
            if (!queued.ok()) return FinishNow(ctx, queued.status());
            notify.insert(*province);
          }
        }
        break;
      }
      case ApplyOutcome::kDuplicate:
        ++duplicates;
        break;
      case ApplyOutcome::kStale:
        ++stale;
        break;
    }
  }
  if (absl::Status committed = (*tx)->Commit(); !committed.ok()) return FinishNow(ctx, committed);
  if (applied > 0 && upload_ != nullptr) upload_->Notify();
  for (const std::string& province : notify) to_treatment_province_[province]->Notify();
  if (!held.ok()) {
    // The rest of the batch is applied; the held new filings stay in the sender's outbox, which
    // retries (UNAVAILABLE is not a refusal, so nothing is parked or lost) and delivers them
    // once the notice is paid. A retried batch's other changes are duplicates here.
    LogWarning("upload from %s: new filings held: %s", request->sender().substr(0, 64),
               held.message());
    return FinishNow(ctx, absl::UnavailableError(absl::StrCat(
                              "new filings held, retry after payment: ", held.message())));
  }
  response->set_applied(applied);
  response->set_duplicates(duplicates);
  response->set_stale(stale);
  LogDebug("upload from %s: %d applied, %d duplicates, %d stale", request->sender().substr(0, 64),
           applied, duplicates, stale);
  return FinishNow(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* RelayFilingService::GetFilingReplication(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetFilingReplicationRequest*,
    yidi::v1::GetFilingReplicationResponse* response) {
  auto tx = context_->store->Begin(TransactionMode::kRead);
  if (!tx.ok()) return FinishNow(ctx, tx.status());
  response->set_node(context_->name);
  response->set_upstream(upstream_name_);
  auto outbox = ReadOutboxStats(**tx, kFilingUploadTopic);
  if (!outbox.ok()) return FinishNow(ctx, outbox.status());
  response->set_outbox_pending(outbox->pending);
  response->set_outbox_parked(outbox->parked);
  response->set_outbox_oldest_pending_at(outbox->oldest_pending_at);
  response->set_outbox_last_error(outbox->last_error);
  auto index = ReadFilingIndexStats(**tx);
  if (!index.ok()) return FinishNow(ctx, index.status());
  response->set_index_filings(index->filings);
  response->set_index_chronic_diseases(index->chronic_diseases);
  response->set_index_applied(index->applied);
  response->set_index_duplicates(index->duplicates);
  response->set_index_stale(index->stale);
  response->set_index_last_applied_at(index->last_applied_at);
  return FinishNow(ctx, absl::OkStatus());
}

}  // namespace yidi
