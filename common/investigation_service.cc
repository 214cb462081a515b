#include "common/investigation_service.h"

#include <atomic>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/digest.h"
#include "common/directory.h"
#include "common/grpc_status.h"
#include "common/id_number.h"
#include "common/investigation.h"
#include "common/investigation_store.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/settlement_record.h"
#include "common/settlement_relay.h"
#include "common/settlement_validation.h"
#include "common/status_macros.h"
#include "common/unary_handler.h"

namespace yidi {
namespace {

using yidi::v1::Investigation;

int ForwardDeadlineMs(const NodeContext& context) {
  return context.config.forward_deadline_ms() > 0 ? context.config.forward_deadline_ms()
                                                  : kForwardDeadlineDefaultMs;
}

// Runs `body` in a write transaction and commits.
template <typename T, typename Body>
absl::StatusOr<T> InWrite(NodeContext& context, Body body) {
  ASSIGN_OR_RETURN(auto tx, context.store->Begin(TransactionMode::kWrite));
  ASSIGN_OR_RETURN(T result, body(*tx));
  RETURN_IF_ERROR(tx->Commit());
  return result;
}

absl::StatusOr<StoredInvestigation> FindOrNotFound(Transaction& tx, absl::string_view id) {
  ASSIGN_OR_RETURN(auto found, FindInvestigation(tx, id));
  if (!found.has_value()) {
    return absl::NotFoundError(absl::StrCat("investigation_id: ", id, " is not known here"));
  }
  return *std::move(found);
}

// The acting node must hold the region of that role.
absl::Status CheckActingRegion(const NodeContext& context, absl::string_view region,
                               absl::string_view role) {
  if (context.identity.kind != yidi::v1::NODE_KIND_MUNICIPAL ||
      context.identity.region_code != region) {
    return absl::FailedPreconditionError(
        absl::StrCat("investigation: only the ", role, "'s node (municipal ", region,
                     ") may do this; this is ", context.name));
  }
  return absl::OkStatus();
}

absl::Status CheckNotSummarised(const NodeContext& context, const Investigation& investigation,
                                absl::string_view verb) {
  if (!IsInvestigationSummarised(investigation, context.clock->Now())) return absl::OkStatus();
  auto period = ParseInvestigationPeriod(investigation.period());
  return absl::FailedPreconditionError(absl::StrCat(
      "investigation_id: ", investigation.investigation_id(), " is in the summary of period ",
      investigation.period(), " (closed ", FormatCstTimestamp(InvestigationPeriodCloseTime(*period)),
      "); a summarised request cannot be ", verb, " (000_… 第54条)"));
}

// The stay must be a settled inpatient stay in this node's settlement records, as claimed.
absl::Status CheckSettledStay(Transaction& tx, const NodeContext& context,
                              const yidi::v1::OpenInvestigationRequest& request) {
  const auto& subject = request.subject();
  ASSIGN_OR_RETURN(auto record, FindSettlementRecord(tx, subject.settlement_id()));
  if (!record.has_value() || !record->result.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "subject.settlement_id: ", subject.settlement_id(), " is not a settlement known to ",
        context.name));
  }
  const yidi::v1::SettlementResult& result = *record->result;
  if (record->state != yidi::v1::SETTLEMENT_STATE_SETTLED ||
      record->kind != yidi::v1::SETTLEMENT_KIND_NORMAL) {
    return absl::FailedPreconditionError(absl::StrCat(
        "subject.settlement_id: ", subject.settlement_id(),
        " is not a settled stay (state ", yidi::v1::SettlementState_Name(record->state), ")"));
  }
  if (!IsInpatient(result.medical_type())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "subject.settlement_id: ", subject.settlement_id(),
        " is not an inpatient stay; fee investigations concern inpatient stays"));
  }
  auto treatment_pool = context.directory.PoolingRegionFor(result.treatment_region());
  if (result.insured_region() != request.insured_region() || !treatment_pool.ok() ||
      *treatment_pool != request.treatment_region()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "treatment_region: the settlement was treated in ", result.treatment_region(),
        " for insured region ", result.insured_region()));
  }
  if (result.total_fen() != subject.total_fen()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "subject.total_fen: ", subject.total_fen(), " differs from the settled total ",
        result.total_fen()));
  }
  if (result.id_number() != subject.id_number()) {
    return absl::InvalidArgumentError(
        "subject.id_number: differs from the settled stay's insured person");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<yidi::v1::CollaborationPolicy> LoadCollaborationPolicy(const NodeContext& context) {
  yidi::v1::CollaborationPolicy policy;
  if (context.config.collaboration_policy_file().empty()) return policy;
  RETURN_IF_ERROR(
      LoadTextProtoFile(context.ConfigPath(context.config.collaboration_policy_file()), &policy));
  for (int64_t threshold :
       {policy.cross_province_threshold_fen(), policy.intra_province_threshold_fen()}) {
    if (threshold < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          context.config.collaboration_policy_file(), ": thresholds cannot be negative"));
    }
  }
  if (policy.confirmation_working_days() < 0 ||
      policy.confirmation_working_days() > kWorkingDaysMax) {
    return absl::InvalidArgumentError(absl::StrCat(context.config.collaboration_policy_file(),
                                                   ": confirmation_working_days out of range"));
  }
  return policy;
}

absl::StatusOr<InvestigationOutcome> OpenInvestigationHere(
    NodeContext& context, const yidi::v1::CollaborationPolicy& policy,
    const yidi::v1::OpenInvestigationRequest& request) {
  RETURN_IF_ERROR(ValidateOpenInvestigation(request, policy));
  if (context.identity.kind != yidi::v1::NODE_KIND_MUNICIPAL ||
      context.identity.region_code != request.insured_region()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "insured_region: ", request.insured_region(), " is not served by ", context.name,
        "; the insured region opens an investigation on its own node"));
  }
  auto pool = context.directory.PoolingRegionFor(request.treatment_region());
  if (!pool.ok() || *pool != request.treatment_region()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "treatment_region: ", request.treatment_region(), " is not a pooling region"));
  }
  const std::string digest = DigestMessage(request);
  const absl::Time now = context.clock->Now();
  return InWrite<InvestigationOutcome>(context, [&](Transaction& tx)
                                                    -> absl::StatusOr<InvestigationOutcome> {
    ASSIGN_OR_RETURN(auto found, FindInvestigation(tx, request.investigation_id()));
    if (found.has_value()) {
      if (found->request_digest != digest) {
        return absl::AlreadyExistsError(absl::StrCat(
            "investigation_id: ", request.investigation_id(),
            " was already used for another request"));
      }
      return InvestigationOutcome{found->investigation, true};
    }
    RETURN_IF_ERROR(CheckSettledStay(tx, context, request));
    StoredInvestigation stored;
    stored.investigation = NewInvestigation(request, now);
    stored.investigation.set_version(1);
    stored.request_digest = digest;
    RETURN_IF_ERROR(InsertInvestigation(tx, stored, now));
    LogInfo("investigation %s opened for %s at %s, period %s", request.investigation_id(),
            MaskIdNumber(request.subject().id_number()), request.treatment_region(),
            stored.investigation.period());
    return InvestigationOutcome{stored.investigation, false};
  });
}

absl::StatusOr<InvestigationOutcome> AmendInvestigationHere(
    NodeContext& context, const yidi::v1::AmendInvestigationRequest& request) {
  RETURN_IF_ERROR(ValidateInvestigationId("investigation_id", request.investigation_id()));
  RETURN_IF_ERROR(ValidateInvestigationSubject(request.subject()));
  const absl::Time now = context.clock->Now();
  return InWrite<InvestigationOutcome>(context, [&](Transaction& tx)
                                                    -> absl::StatusOr<InvestigationOutcome> {
    ASSIGN_OR_RETURN(StoredInvestigation stored, FindOrNotFound(tx, request.investigation_id()));
    Investigation& i = stored.investigation;
    RETURN_IF_ERROR(CheckActingRegion(context, i.insured_region(), "insured region"));
    RETURN_IF_ERROR(CheckNotSummarised(context, i, "amended"));
    if (i.state() != yidi::v1::INVESTIGATION_STATE_OPEN) {
      return absl::FailedPreconditionError(absl::StrCat(
          "investigation_id: ", i.investigation_id(), " is ",
          yidi::v1::InvestigationState_Name(i.state()), "; only an open request is amended"));
    }
    // The amended request must still pass the same checks as an opening.
    yidi::v1::OpenInvestigationRequest reopened;
    reopened.set_investigation_id(i.investigation_id());
    reopened.set_insured_region(i.insured_region());
    reopened.set_treatment_region(i.treatment_region());
    *reopened.mutable_subject() = request.subject();
    reopened.set_concern(request.concern());
    RETURN_IF_ERROR(CheckSettledStay(tx, context, reopened));
    if (i.subject().SerializeAsString() == request.subject().SerializeAsString() &&
        i.concern() == request.concern()) {
      return InvestigationOutcome{i, true};
    }
    *i.mutable_subject() = request.subject();
    i.set_concern(request.concern());
    i.set_version(i.version() + 1);
    RETURN_IF_ERROR(UpdateInvestigation(tx, i, now));
    return InvestigationOutcome{i, false};
  });
}

absl::StatusOr<InvestigationOutcome> WithdrawInvestigationHere(
    NodeContext& context, const yidi::v1::WithdrawInvestigationRequest& request) {
  RETURN_IF_ERROR(ValidateInvestigationId("investigation_id", request.investigation_id()));
  const absl::Time now = context.clock->Now();
  return InWrite<InvestigationOutcome>(context, [&](Transaction& tx)
                                                    -> absl::StatusOr<InvestigationOutcome> {
    ASSIGN_OR_RETURN(StoredInvestigation stored, FindOrNotFound(tx, request.investigation_id()));
    Investigation& i = stored.investigation;
    RETURN_IF_ERROR(CheckActingRegion(context, i.insured_region(), "insured region"));
    if (i.state() == yidi::v1::INVESTIGATION_STATE_WITHDRAWN) {
      return InvestigationOutcome{i, true};
    }
    RETURN_IF_ERROR(CheckNotSummarised(context, i, "withdrawn"));
    if (i.state() != yidi::v1::INVESTIGATION_STATE_OPEN) {
      return absl::FailedPreconditionError(absl::StrCat(
          "investigation_id: ", i.investigation_id(), " is ",
          yidi::v1::InvestigationState_Name(i.state()), "; only an open request is withdrawn"));
    }
    i.set_state(yidi::v1::INVESTIGATION_STATE_WITHDRAWN);
    i.set_version(i.version() + 1);
    RETURN_IF_ERROR(UpdateInvestigation(tx, i, now));
    return InvestigationOutcome{i, false};
  });
}

absl::StatusOr<InvestigationOutcome> AnswerInvestigationHere(
    NodeContext& context, const yidi::v1::CollaborationPolicy& policy,
    const yidi::v1::AnswerInvestigationRequest& request) {
  RETURN_IF_ERROR(ValidateInvestigationAnswer(request));
  const absl::Time now = context.clock->Now();
  const absl::CivilDay today = CstDay(now);
  const int confirmation_days = policy.confirmation_working_days() > 0
                                    ? policy.confirmation_working_days()
                                    : kInvestigationConfirmationWorkingDaysDefault;
  return InWrite<InvestigationOutcome>(context, [&](Transaction& tx)
                                                    -> absl::StatusOr<InvestigationOutcome> {
    ASSIGN_OR_RETURN(StoredInvestigation stored, FindOrNotFound(tx, request.investigation_id()));
    Investigation& i = stored.investigation;
    RETURN_IF_ERROR(CheckActingRegion(context, i.treatment_region(), "treatment region"));
    if (i.state() != yidi::v1::INVESTIGATION_STATE_OPEN) {
      if (i.finding() == request.finding() && i.finding_reason() == request.finding_reason()) {
        return InvestigationOutcome{i, true};
      }
      return absl::FailedPreconditionError(absl::StrCat(
          "investigation_id: ", i.investigation_id(), " is ",
          yidi::v1::InvestigationState_Name(i.state()), "; it was answered already"));
    }
    ASSIGN_OR_RETURN(absl::CivilDay confirmation_due,
                     context.calendar.AddWorkingDays(today, confirmation_days));
    auto due = ParseDate(i.answer_due_date());
    YIDI_CHECK(due.ok(), "a stored investigation carries its answer due date");
    i.set_state(yidi::v1::INVESTIGATION_STATE_ANSWERED);
    i.set_finding(request.finding());
    i.set_finding_reason(request.finding_reason());
    i.set_answered_at(FormatCstTimestamp(now));
    i.set_answered_late(today > *due);
    i.set_confirmation_due_date(FormatDate(confirmation_due));
    i.set_version(i.version() + 1);
    RETURN_IF_ERROR(UpdateInvestigation(tx, i, now));
    return InvestigationOutcome{i, false};
  });
}

absl::StatusOr<InvestigationOutcome> ConfirmInvestigationHere(
    NodeContext& context, const yidi::v1::ConfirmInvestigationRequest& request) {
  RETURN_IF_ERROR(ValidateInvestigationConfirmation(request));
  const absl::Time now = context.clock->Now();
  const auto target = request.dispute() ? yidi::v1::INVESTIGATION_STATE_DISPUTED
                                        : yidi::v1::INVESTIGATION_STATE_CONFIRMED;
  return InWrite<InvestigationOutcome>(context, [&](Transaction& tx)
                                                    -> absl::StatusOr<InvestigationOutcome> {
    ASSIGN_OR_RETURN(StoredInvestigation stored, FindOrNotFound(tx, request.investigation_id()));
    Investigation& i = stored.investigation;
    RETURN_IF_ERROR(CheckActingRegion(context, i.insured_region(), "insured region"));
    if (i.state() == target && i.dispute_reason() == request.dispute_reason()) {
      return InvestigationOutcome{i, true};
    }
    if (i.state() != yidi::v1::INVESTIGATION_STATE_ANSWERED) {
      return absl::FailedPreconditionError(absl::StrCat(
          "investigation_id: ", i.investigation_id(), " is ",
          yidi::v1::InvestigationState_Name(i.state()),
          "; only an answered request is confirmed or disputed"));
    }
    i.set_state(target);
    i.set_confirmed_at(FormatCstTimestamp(now));
    i.set_dispute_reason(request.dispute_reason());
    i.set_version(i.version() + 1);
    RETURN_IF_ERROR(UpdateInvestigation(tx, i, now));
    return InvestigationOutcome{i, false};
  });
}

absl::StatusOr<bool> ReplicateInvestigationHere(NodeContext& context,
                                                const Investigation& investigation) {
  RETURN_IF_ERROR(
      ValidateInvestigationId("investigation.investigation_id", investigation.investigation_id()));
  if (!ParseInvestigationPeriod(investigation.period()).ok() || investigation.version() < 1 ||
      !IsRegionCode(investigation.insured_region()) ||
      !IsRegionCode(investigation.treatment_region())) {
    return absl::InvalidArgumentError(
        "investigation: period, version and regions are required on a replicated copy");
  }
  const absl::Time now = context.clock->Now();
  return InWrite<bool>(context, [&](Transaction& tx) -> absl::StatusOr<bool> {
    ASSIGN_OR_RETURN(auto found, FindInvestigation(tx, investigation.investigation_id()));
    if (!found.has_value()) {
      StoredInvestigation stored;
      stored.investigation = investigation;
      RETURN_IF_ERROR(InsertInvestigation(tx, stored, now));
      return true;
    }
    if (found->investigation.version() >= investigation.version()) return false;
    // Keep what this hop learnt from a summary it saw before the change arrived.
    Investigation merged = investigation;
    if (merged.summarised_at().empty()) {
      merged.set_summarised_at(found->investigation.summarised_at());
    }
    if (merged.carried_to_period().empty()) {
      merged.set_carried_to_period(found->investigation.carried_to_period());
    }
    RETURN_IF_ERROR(UpdateInvestigation(tx, merged, now));
    return true;
  });
}

absl::StatusOr<std::vector<yidi::v1::InvestigationSummary>> CloseInvestigationPeriodHere(
    NodeContext& context, absl::string_view period) {
  ASSIGN_OR_RETURN(absl::CivilMonth month, ParseInvestigationPeriod(period));
  const absl::Time now = context.clock->Now();
  const absl::Time close = InvestigationPeriodCloseTime(month);
  if (now < close) {
    return absl::FailedPreconditionError(absl::StrCat("period: ", period, " closes at ",
                                                      FormatCstTimestamp(close)));
  }
  const auto kind = context.identity.kind;
  if (kind == yidi::v1::NODE_KIND_MUNICIPAL) {
    return absl::FailedPreconditionError(
        "period: national (cross-province) and provincial (intra-province) nodes close "
        "investigation periods");
  }
  const std::string self_province = ProvinceCodeOf(context.identity.region_code);
  auto summarised_here = [&](const Investigation& i) {
    if (kind == yidi::v1::NODE_KIND_NATIONAL) {
      return i.scope() == yidi::v1::INVESTIGATION_SCOPE_CROSS_PROVINCE;
    }
    return i.scope() == yidi::v1::INVESTIGATION_SCOPE_INTRA_PROVINCE &&
           ProvinceCodeOf(i.insured_region()) == self_province;
  };
  const std::string at = FormatCstTimestamp(now);
  using Summaries = std::vector<yidi::v1::InvestigationSummary>;
  return InWrite<Summaries>(context, [&](Transaction& tx) -> absl::StatusOr<Summaries> {
    std::map<std::string, yidi::v1::InvestigationSummary> by_region;
    auto summary_of = [&](const std::string& region) -> yidi::v1::InvestigationSummary& {
      auto& summary = by_region[region];
      summary.set_period(std::string(period));
      summary.set_summarising_region(context.identity.region_code);
      summary.set_treatment_region(region);
      return summary;
    };
    ASSIGN_OR_RETURN(auto all, ListStoredInvestigations(tx, "", yidi::v1::INVESTIGATION_STATE_UNSPECIFIED,
                                                        kInvestigationSummaryIdsMax));
    for (Investigation& i : all) {
      if (!summarised_here(i) || i.state() == yidi::v1::INVESTIGATION_STATE_WITHDRAWN) continue;
      auto own = ParseInvestigationPeriod(i.period());
      YIDI_CHECK(own.ok(), "stored periods parse");
      bool changed = false;
      if (*own == month) {
        summary_of(i.treatment_region()).add_investigation_ids(i.investigation_id());
        if (i.summarised_at().empty()) {
          i.set_summarised_at(at);
          changed = true;
        }
      } else if (*own < month && i.state() == yidi::v1::INVESTIGATION_STATE_OPEN) {
        // Unanswered from an earlier period: carried into this summary, still late there.
        summary_of(i.treatment_region()).add_carried_over_ids(i.investigation_id());
        if (i.carried_to_period() != period) {
          i.set_carried_to_period(std::string(period));
          changed = true;
        }
      }
      if (changed) RETURN_IF_ERROR(UpdateInvestigation(tx, i, now));
    }
    Summaries summaries;
    for (auto& [region, summary] : by_region) {
      // The period's own requests first, then the carried ones.
      for (const std::string& id : summary.carried_over_ids()) summary.add_investigation_ids(id);
      ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT request_count FROM investigation_summary "
                                           "WHERE period = ? AND treatment_region = ?",
                                           {std::string(period), region}));
      if (rows.empty()) {
        RETURN_IF_ERROR(tx.Execute("INSERT INTO investigation_summary (period, treatment_region, "
                                   "request_count, delivered, summarised_at) VALUES (?, ?, ?, 0, ?)",
                                   {std::string(period), region,
                                    static_cast<int64_t>(summary.investigation_ids_size()), at})
                            .status());
      }
      summaries.push_back(std::move(summary));
    }
    return summaries;
  });
}

absl::StatusOr<int> MarkInvestigationSummaryHere(NodeContext& context,
                                                 const yidi::v1::InvestigationSummary& summary) {
  RETURN_IF_ERROR(ParseInvestigationPeriod(summary.period()).status());
  if (summary.investigation_ids_size() > kInvestigationSummaryIdsMax) {
    return absl::InvalidArgumentError(absl::StrCat("summary.investigation_ids: more than ",
                                                   kInvestigationSummaryIdsMax));
  }
  const absl::Time now = context.clock->Now();
  const std::string at = FormatCstTimestamp(now);
  return InWrite<int>(context, [&](Transaction& tx) -> absl::StatusOr<int> {
    int marked = 0;
    for (const std::string& id : summary.investigation_ids()) {
      ASSIGN_OR_RETURN(auto found, FindInvestigation(tx, id));
      if (!found.has_value()) continue;  // withdrawn before it reached this hop, or not routed here
      Investigation& i = found->investigation;
      bool changed = false;
      if (i.period() == summary.period() && i.summarised_at().empty()) {
        i.set_summarised_at(at);
        changed = true;
      } else if (i.period() < summary.period() && i.carried_to_period() != summary.period()) {
        i.set_carried_to_period(summary.period());
        changed = true;
      }
      if (changed) {
        RETURN_IF_ERROR(UpdateInvestigation(tx, i, now));
        ++marked;
      }
    }
    return marked;
  });
}

// ---------------------------------------------------------------------------------------------
// Handlers.

NodeInvestigationService::NodeInvestigationService(NodeContext* context,
                                                   yidi::v1::CollaborationPolicy policy,
                                                   absl::Status policy_status)
    : context_(context), policy_(std::move(policy)), policy_status_(std::move(policy_status)) {
  if (policy_status_.ok() && AutomaticInvestigationCloseEnabled(*context_, policy_)) {
    scheduler_ = std::make_unique<InvestigationCloseScheduler>(context_);
    scheduler_->Start();
  }
}

NodeInvestigationService::~NodeInvestigationService() {
  if (scheduler_) scheduler_->Stop();
}

yidi::v1::InvestigationService::Stub* NodeInvestigationService::StubFor(
    const std::string& address) {
  absl::MutexLock lock(&mutex_);
  auto& stub = stubs_[address];
  if (stub == nullptr) {
    stub = yidi::v1::InvestigationService::NewStub(MakeChannel(address, context_->channel_credentials));
  }
  return stub.get();
}

grpc::ServerUnaryReactor* NodeInvestigationService::FinishReplicated(
    grpc::CallbackServerContext* ctx, absl::StatusOr<InvestigationOutcome> outcome,
    yidi::v1::InvestigationResponse* response, bool toward_treatment) {
  if (!outcome.ok()) return FinishUnary(ctx, outcome.status());
  *response->mutable_investigation() = outcome->investigation;
  response->set_replayed(outcome->replayed);
  const Investigation& i = outcome->investigation;
  const std::string toward = toward_treatment ? i.treatment_region() : i.insured_region();
  auto route = RouteToward(context_->identity, context_->directory, toward);
  if (!route.ok()) return FinishUnary(ctx, route.status());
  auto* reactor = ctx->DefaultReactor();
  if (route->handle_locally) {
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  struct Call {
    grpc::ClientContext context;
    yidi::v1::ReplicateInvestigationRequest request;
    yidi::v1::ReplicateInvestigationResponse response;
  };
  auto* call = new Call();
  call->context.set_deadline(ForwardDeadline(ctx->deadline(), ForwardDeadlineMs(*context_)));
  *call->request.mutable_investigation() = i;
  call->request.set_toward_region(toward);
  StubFor(route->next_address)
      ->async()
      ->ReplicateInvestigation(
          &call->context, &call->request, &call->response,
          [call, reactor, route = *route, toward](grpc::Status status) {
            std::unique_ptr<Call> owned(call);
            if (status.ok()) {
              reactor->Finish(status);
            } else {
              reactor->Finish(HopUnavailable(
                  route, status,
                  absl::StrCat("the investigation is stored here but has not reached ", toward,
                               "; repeat the call to deliver it")));
            }
          });
  return reactor;
}

grpc::ServerUnaryReactor* NodeInvestigationService::OpenInvestigation(
    grpc::CallbackServerContext* ctx, const yidi::v1::OpenInvestigationRequest* request,
    yidi::v1::InvestigationResponse* response) {
  if (!policy_status_.ok())
    return FinishUnary(ctx, absl::FailedPreconditionError(policy_status_.message()));
  return FinishReplicated(ctx, OpenInvestigationHere(*context_, policy_, *request), response,
                          true);
}

grpc::ServerUnaryReactor* NodeInvestigationService::AmendInvestigation(
    grpc::CallbackServerContext* ctx, const yidi::v1::AmendInvestigationRequest* request,
    yidi::v1::InvestigationResponse* response) {
  return FinishReplicated(ctx, AmendInvestigationHere(*context_, *request), response, true);
}

grpc::ServerUnaryReactor* NodeInvestigationService::WithdrawInvestigation(
    grpc::CallbackServerContext* ctx, const yidi::v1::WithdrawInvestigationRequest* request,
    yidi::v1::InvestigationResponse* response) {
  return FinishReplicated(ctx, WithdrawInvestigationHere(*context_, *request), response, true);
}

grpc::ServerUnaryReactor* NodeInvestigationService::ConfirmInvestigation(
    grpc::CallbackServerContext* ctx, const yidi::v1::ConfirmInvestigationRequest* request,
    yidi::v1::InvestigationResponse* response) {
  return FinishReplicated(ctx, ConfirmInvestigationHere(*context_, *request), response, true);
}

grpc::ServerUnaryReactor* NodeInvestigationService::AnswerInvestigation(
    grpc::CallbackServerContext* ctx, const yidi::v1::AnswerInvestigationRequest* request,
    yidi::v1::InvestigationResponse* response) {
  if (!policy_status_.ok())
    return FinishUnary(ctx, absl::FailedPreconditionError(policy_status_.message()));
  return FinishReplicated(ctx, AnswerInvestigationHere(*context_, policy_, *request), response,
                          false);
}

grpc::ServerUnaryReactor* NodeInvestigationService::ReplicateInvestigation(
    grpc::CallbackServerContext* ctx, const yidi::v1::ReplicateInvestigationRequest* request,
    yidi::v1::ReplicateInvestigationResponse* response) {
  auto applied = ReplicateInvestigationHere(*context_, request->investigation());
  if (!applied.ok()) return FinishUnary(ctx, applied.status());
  response->set_applied(*applied);
  auto route = RouteToward(context_->identity, context_->directory, request->toward_region());
  if (!route.ok()) return FinishUnary(ctx, route.status());
  auto* reactor = ctx->DefaultReactor();
  if (route->handle_locally) {
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  struct Call {
    grpc::ClientContext context;
    yidi::v1::ReplicateInvestigationResponse response;
  };
  auto* call = new Call();
  call->context.set_deadline(ForwardDeadline(ctx->deadline(), ForwardDeadlineMs(*context_)));
  StubFor(route->next_address)
      ->async()
      ->ReplicateInvestigation(&call->context, request, &call->response,
                               [call, reactor, response, route = *route](grpc::Status status) {
                                 std::unique_ptr<Call> owned(call);
                                 if (status.ok()) {
                                   response->set_applied(call->response.applied());
                                   reactor->Finish(status);
                                 } else {
                                   reactor->Finish(HopUnavailable(
                                       route, status, "the investigation was not passed on"));
                                 }
                               });
  return reactor;
}

grpc::ServerUnaryReactor* NodeInvestigationService::CloseInvestigationPeriod(
    grpc::CallbackServerContext* ctx, const yidi::v1::CloseInvestigationPeriodRequest* request,
    yidi::v1::CloseInvestigationPeriodResponse* response) {
  auto summaries = CloseInvestigationPeriodHere(*context_, request->period());
  if (!summaries.ok()) return FinishUnary(ctx, summaries.status());
  for (auto& summary : *summaries) *response->add_summaries() = summary;
  auto* reactor = ctx->DefaultReactor();
  if (summaries->empty()) {
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  // Publish to every treatment region at once; the last answer finishes the call. A region
  // that does not answer is listed in undelivered_regions (closing again re-publishes).
  struct FanOut {
    absl::Mutex mutex;
    int remaining ABSL_GUARDED_BY(mutex) = 0;
  };
  auto fan_out = std::make_shared<FanOut>();
  fan_out->remaining = static_cast<int>(summaries->size());
  auto done_one = [fan_out, reactor, response](const std::string& undelivered) {
    bool last = false;
    {
      absl::MutexLock lock(&fan_out->mutex);
      if (!undelivered.empty()) response->add_undelivered_regions(undelivered);
      last = --fan_out->remaining == 0;
    }
    if (last) reactor->Finish(grpc::Status::OK);
  };
  for (const auto& summary : *summaries) {
    auto route = RouteToward(context_->identity, context_->directory, summary.treatment_region());
    if (!route.ok() || route->handle_locally) {
      done_one(route.ok() ? "" : summary.treatment_region());
      continue;
    }
    struct Call {
      grpc::ClientContext context;
      yidi::v1::PublishInvestigationSummaryRequest request;
      yidi::v1::PublishInvestigationSummaryResponse response;
    };
    auto* call = new Call();
    call->context.set_deadline(ForwardDeadline(ctx->deadline(), ForwardDeadlineMs(*context_)));
    *call->request.mutable_summary() = summary;
    const std::string region = summary.treatment_region();
    StubFor(route->next_address)
        ->async()
        ->PublishInvestigationSummary(&call->context, &call->request, &call->response,
                                      [call, done_one, region](grpc::Status status) {
                                        std::unique_ptr<Call> owned(call);
                                        done_one(status.ok() ? "" : region);
                                      });
  }
  return reactor;
}

grpc::ServerUnaryReactor* NodeInvestigationService::PublishInvestigationSummary(
    grpc::CallbackServerContext* ctx, const yidi::v1::PublishInvestigationSummaryRequest* request,
    yidi::v1::PublishInvestigationSummaryResponse* response) {
  auto marked = MarkInvestigationSummaryHere(*context_, request->summary());
  if (!marked.ok()) return FinishUnary(ctx, marked.status());
  response->set_marked(*marked);
  auto route =
      RouteToward(context_->identity, context_->directory, request->summary().treatment_region());
  if (!route.ok()) return FinishUnary(ctx, route.status());
  auto* reactor = ctx->DefaultReactor();
  if (route->handle_locally) {
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  struct Call {
    grpc::ClientContext context;
    yidi::v1::PublishInvestigationSummaryResponse response;
  };
  auto* call = new Call();
  call->context.set_deadline(ForwardDeadline(ctx->deadline(), ForwardDeadlineMs(*context_)));
  StubFor(route->next_address)
      ->async()
      ->PublishInvestigationSummary(
          &call->context, request, &call->response,
          [call, reactor, response, route = *route](grpc::Status status) {
            std::unique_ptr<Call> owned(call);
            if (status.ok()) {
              response->set_marked(response->marked() + call->response.marked());
              reactor->Finish(status);
            } else {
              reactor->Finish(HopUnavailable(route, status, "the summary was not passed on"));
            }
          });
  return reactor;
}

grpc::ServerUnaryReactor* NodeInvestigationService::ListInvestigations(
    grpc::CallbackServerContext* ctx, const yidi::v1::ListInvestigationsRequest* request,
    yidi::v1::ListInvestigationsResponse* response) {
  if (!request->period().empty()) {
    if (auto parsed = ParseInvestigationPeriod(request->period()); !parsed.ok()) {
      return FinishUnary(ctx, parsed.status());
    }
  }
  if (request->page_size() < 0 || request->page_size() > kInvestigationPageMax) {
    return FinishUnary(
        ctx, absl::InvalidArgumentError(absl::StrCat("page_size: 0..", kInvestigationPageMax)));
  }
  const int limit = request->page_size() > 0 ? request->page_size() : kInvestigationPageMax;
  auto tx = context_->store->Begin(TransactionMode::kRead);
  if (!tx.ok()) return FinishUnary(ctx, tx.status());
  auto listed = ListStoredInvestigations(**tx, request->period(), request->state(), limit);
  if (!listed.ok()) return FinishUnary(ctx, listed.status());
  for (auto& i : *listed) *response->add_investigations() = std::move(i);
  return FinishUnary(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* NodeInvestigationService::GetInvestigationStatistics(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetInvestigationStatisticsRequest* request,
    yidi::v1::InvestigationStatistics* response) {
  if (auto parsed = ParseInvestigationPeriod(request->period()); !parsed.ok()) {
    return FinishUnary(ctx, parsed.status());
  }
  auto tx = context_->store->Begin(TransactionMode::kRead);
  if (!tx.ok()) return FinishUnary(ctx, tx.status());
  auto listed = ListStoredInvestigations(**tx, request->period(),
                                         yidi::v1::INVESTIGATION_STATE_UNSPECIFIED,
                                         kInvestigationSummaryIdsMax);
  if (!listed.ok()) return FinishUnary(ctx, listed.status());
  *response = ComputeInvestigationStatistics(request->period(), *listed,
                                             CstDay(context_->clock->Now()));
  return FinishUnary(ctx, absl::OkStatus());
}

}  // namespace yidi
