#include "common/settlement_relay.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/grpc_status.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/settlement_validation.h"
#include "common/status_macros.h"

namespace yidi {

using yidi::v1::SettlementState;

std::chrono::system_clock::time_point ForwardDeadline(
    std::chrono::system_clock::time_point caller_deadline, int forward_deadline_ms) {
  const auto own = std::chrono::system_clock::now() +
                   std::chrono::milliseconds(forward_deadline_ms > 0 ? forward_deadline_ms
                                                                     : kForwardDeadlineDefaultMs);
  const auto caller = caller_deadline - std::chrono::milliseconds(kForwardDeadlineMarginMs);
  return std::min(own, caller);
}

grpc::Status HopUnavailable(const Route& route, const grpc::Status& cause,
                            absl::string_view detail) {
  if (cause.error_code() == grpc::StatusCode::UNAVAILABLE &&
      absl::StartsWith(cause.error_message(), "yidi: ")) {
    return cause;  // a farther hop already named itself
  }
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      absl::StrCat("yidi: ", route.NextHopName(), " did not answer (",
                                   cause.error_message(), "); ", detail));
}

StubCache::Stubs& StubCache::Get(const std::string& address) {
  absl::MutexLock lock(&mutex_);
  auto& slot = stubs_[address];
  if (slot == nullptr) {
    slot = std::make_unique<Stubs>();
    slot->channel = MakeChannel(address, credentials_);
    slot->settlement = yidi::v1::SettlementService::NewStub(slot->channel);
    slot->person = yidi::v1::PersonService::NewStub(slot->channel);
    slot->filing = yidi::v1::FilingService::NewStub(slot->channel);
  }
  return *slot;
}

yidi::v1::SettlementService::Stub* StubCache::Settlement(const std::string& address) {
  return Get(address).settlement.get();
}
yidi::v1::PersonService::Stub* StubCache::Person(const std::string& address) {
  return Get(address).person.get();
}
yidi::v1::FilingService::Stub* StubCache::Filing(const std::string& address) {
  return Get(address).filing.get();
}

SettlementRelay::SettlementRelay(Store* store, const Clock* clock, StubCache* stubs,
                                 std::string self_name, int forward_deadline_ms,
                                 bool record_before_forward)
    : store_(store),
      clock_(clock),
      stubs_(stubs),
      self_name_(std::move(self_name)),
      forward_deadline_ms_(forward_deadline_ms),
      record_before_forward_(record_before_forward) {}

SettlementRelay::Admission SettlementRelay::Admit(const SettlementRecord& pending,
                                                  yidi::v1::SettleResponse* response) {
  Admission admission;
  // A pure relay only reads here; its one write comes with the outcome.
  auto tx = store_->Begin(record_before_forward_ ? TransactionMode::kWrite : TransactionMode::kRead);
  if (!tx.ok()) {
    admission.status = ToGrpcStatus(tx.status());
    return admission;
  }
  auto existing = FindSettlementRecord(**tx, pending.settlement_id);
  if (!existing.ok()) {
    admission.status = ToGrpcStatus(existing.status());
    return admission;
  }
  if (existing->has_value()) {
    const SettlementRecord& record = **existing;
    // A voided id stays voided whatever is sent under it (a tombstone has no digest).
    if (record.state == SettlementState::SETTLEMENT_STATE_VOIDED) {
      admission.status = grpc::Status(
          grpc::StatusCode::FAILED_PRECONDITION,
          absl::StrCat("settlement_id: ", pending.settlement_id,
                       " was voided by Correct; settle again under a new id"));
      return admission;
    }
    if (record.request_digest != pending.request_digest) {
      admission.status = grpc::Status(
          grpc::StatusCode::ALREADY_EXISTS,
          absl::StrCat("settlement_id: ", pending.settlement_id,
                       " was already used for a different request at ", self_name_));
      return admission;
    }
    if (record.result.has_value() &&
        (record.state == SettlementState::SETTLEMENT_STATE_SETTLED ||
         record.state == SettlementState::SETTLEMENT_STATE_REVERSED)) {
      *response->mutable_result() = *record.result;
      response->mutable_result()->set_state(record.state);
      response->set_replayed(true);
      admission.status = grpc::Status::OK;
      return admission;
    }
    // PENDING, IN_DOUBT, or known to be reversed without our having seen its result: forward
    // again; every hop below is idempotent and returns the stored outcome.
    admission.forward = true;
    return admission;
  }
  if (!record_before_forward_) {
    admission.forward = true;
    return admission;
  }
  if (absl::Status inserted = InsertSettlementRecord(**tx, pending, clock_->Now());
      !inserted.ok()) {
    admission.status = ToGrpcStatus(inserted);
    return admission;
  }
  if (absl::Status committed = (*tx)->Commit(); !committed.ok()) {
    admission.status = ToGrpcStatus(committed);
    return admission;
  }
  admission.forward = true;
  return admission;
}

absl::Status SettlementRelay::Upsert(Transaction& tx, const SettlementRecord& draft,
                                    SettlementState state,
                                    const yidi::v1::SettlementResult* result) {
  absl::Status updated = UpdateSettlementRecord(tx, draft.settlement_id, state, result, clock_->Now());
  if (!absl::IsNotFound(updated)) return updated;
  SettlementRecord record = draft;
  record.state = state;
  if (result != nullptr) record.result = *result;
  return InsertSettlementRecord(tx, record, clock_->Now());
}

void SettlementRelay::RecordOutcome(const SettlementRecord& draft, const Route& route,
                                    const grpc::Status& status,
                                    yidi::v1::SettleResponse* response, DoneCallback done) {
  const std::string& settlement_id = draft.settlement_id;
  const absl::StatusCode code = static_cast<absl::StatusCode>(status.error_code());
  absl::Status stored;
  if (status.ok()) {
    // The reply is another node's input: check it before storing it as settled.
    stored = CheckSlipIdentities(response->result());
    if (stored.ok() && response->result().settlement_id() != settlement_id) {
      stored = absl::InternalError("the result names another settlement_id");
    }
  }
  auto tx = store_->Begin(TransactionMode::kWrite);
  if (tx.ok()) {
    auto existing = FindSettlementRecord(**tx, settlement_id);
    const SettlementState known =
        existing.ok() && existing->has_value() ? (*existing)->state
                                               : SettlementState::SETTLEMENT_STATE_UNSPECIFIED;
    // Another call for the same id may already have learnt the outcome (concurrent retries):
    // a failure of this one must not turn a known outcome back into doubt or delete it.
    const bool outcome_known = known == SettlementState::SETTLEMENT_STATE_SETTLED ||
                               known == SettlementState::SETTLEMENT_STATE_REVERSED ||
                               known == SettlementState::SETTLEMENT_STATE_VOIDED;
    if (!existing.ok()) {
      stored = existing.status();
    } else if (status.ok() && stored.ok()) {
      // Record the state the owner reports: a replay of a settlement reversed meanwhile is
      // REVERSED here too, never SETTLED.
      const SettlementState reported =
          response->result().state() == SettlementState::SETTLEMENT_STATE_REVERSED
              ? SettlementState::SETTLEMENT_STATE_REVERSED
              : SettlementState::SETTLEMENT_STATE_SETTLED;
      stored = Upsert(**tx, draft, reported, &response->result());
      if (stored.ok() && !draft.original_settlement_id.empty()) {
        stored = UpdateSettlementRecord(**tx, draft.original_settlement_id,
                                        SettlementState::SETTLEMENT_STATE_REVERSED, nullptr,
                                        clock_->Now());
        // This hop may never have recorded the original (a crash before its one write); the
        // reversal itself is what counts here, and reconciliation fills the gap.
        if (absl::IsNotFound(stored)) stored = absl::OkStatus();
      }
    } else if (outcome_known) {
      // Leave the known outcome as it is.
    } else if (!status.ok() && IsDefinitiveRefusal(code)) {
      stored = DeleteSettlementRecord(**tx, settlement_id);
    } else {
      absl::Status marked = Upsert(**tx, draft, SettlementState::SETTLEMENT_STATE_IN_DOUBT, nullptr);
      if (stored.ok()) stored = marked;
    }
    absl::Status committed = (*tx)->Commit();
    if (stored.ok()) stored = committed;
  } else {
    stored = tx.status();
  }

  if (status.ok() && stored.ok()) {
    done(grpc::Status::OK);
    return;
  }
  if (status.ok()) {
    // Downstream committed but this hop could not record it: the caller must retry (and gets
    // the stored result from below); until then this hop has no SETTLED record.
    LogError("settlement %s: result not recorded: %s", settlement_id, stored.ToString());
    done(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      absl::StrCat("yidi: ", self_name_, " could not record the result of ",
                                   settlement_id, " (", stored.message(),
                                   "); retry with the same settlement_id")));
    return;
  }
  if (!stored.ok()) {
    LogError("settlement %s: outcome not recorded: %s", settlement_id, stored.ToString());
  }
  if (IsDefinitiveRefusal(code)) {
    done(status);
    return;
  }
  LogWarning("settlement %s in doubt: %s: %s", settlement_id, route.NextHopName(),
             status.error_message());
  done(HopUnavailable(route, status,
                      absl::StrCat("settlement ", settlement_id, " is in doubt at ", self_name_,
                                   ": retry with the same settlement_id or Correct it")));
}

namespace {

// The forward's client side: owned by itself until the callback runs.
template <typename Request, typename Response>
struct ForwardCall {
  grpc::ClientContext context;
  Request request;
  Response response;
};

}  // namespace

void SettlementRelay::Settle(std::chrono::system_clock::time_point caller_deadline,
                             const yidi::v1::SettleRequest& request, const Route& route,
                             yidi::v1::SettleResponse* response, DoneCallback done) {
  yidi::v1::SettleRequest canonical = request;
  canonical.clear_classified_bill();
  SettlementRecord pending;
  pending.settlement_id = request.settlement_id();
  pending.kind = yidi::v1::SETTLEMENT_KIND_NORMAL;
  pending.request_digest = DigestMessage(canonical);
  pending.state = SettlementState::SETTLEMENT_STATE_PENDING;
  pending.insured_region = request.insured_region();
  pending.treatment_region = request.treatment_region();
  pending.institution_code = request.visit().institution_code();
  pending.insurance_type = request.insurance_type();
  Admission admission = Admit(pending, response);
  if (!admission.forward) {
    done(admission.status);
    return;
  }
  auto* call = new ForwardCall<yidi::v1::SettleRequest, yidi::v1::SettleResponse>();
  call->context.set_deadline(ForwardDeadline(caller_deadline, forward_deadline_ms_));
  call->request = request;
  stubs_->Settlement(route.next_address)
      ->async()
      ->Settle(&call->context, &call->request, &call->response,
               [this, call, pending = std::move(pending), route, response,
                done = std::move(done)](grpc::Status status) {
                 std::unique_ptr<ForwardCall<yidi::v1::SettleRequest, yidi::v1::SettleResponse>>
                     owned(call);
                 if (status.ok()) *response = std::move(call->response);
                 RecordOutcome(pending, route, status, response, std::move(done));
               });
}

void SettlementRelay::PreSettle(std::chrono::system_clock::time_point caller_deadline,
                                const yidi::v1::SettleRequest& request, const Route& route,
                                yidi::v1::SettleResponse* response, DoneCallback done) {
  auto* call = new ForwardCall<yidi::v1::SettleRequest, yidi::v1::SettleResponse>();
  call->context.set_deadline(ForwardDeadline(caller_deadline, forward_deadline_ms_));
  call->request = request;
  stubs_->Settlement(route.next_address)
      ->async()
      ->PreSettle(&call->context, &call->request, &call->response,
                  [call, route, response, done = std::move(done)](grpc::Status status) {
                    std::unique_ptr<
                        ForwardCall<yidi::v1::SettleRequest, yidi::v1::SettleResponse>>
                        owned(call);
                    if (status.ok()) {
                      *response = std::move(call->response);
                      done(grpc::Status::OK);
                    } else if (IsDefinitiveRefusal(
                                   static_cast<absl::StatusCode>(status.error_code()))) {
                      done(status);
                    } else {
                      done(HopUnavailable(route, status, "nothing was committed (pre-settle)"));
                    }
                  });
}

void SettlementRelay::Reverse(std::chrono::system_clock::time_point caller_deadline,
                              const yidi::v1::ReverseRequest& request, const Route& route,
                              yidi::v1::SettleResponse* response, DoneCallback done) {
  SettlementRecord pending;
  pending.settlement_id = request.settlement_id();
  pending.kind = yidi::v1::SETTLEMENT_KIND_REVERSAL;
  pending.original_settlement_id = request.original_settlement_id();
  pending.request_digest = DigestMessage(request);
  pending.state = SettlementState::SETTLEMENT_STATE_PENDING;
  pending.insured_region = request.insured_region();
  pending.treatment_region = request.treatment_region();
  pending.institution_code = request.institution_code();
  Admission admission = Admit(pending, response);
  if (!admission.forward) {
    done(admission.status);
    return;
  }
  auto* call = new ForwardCall<yidi::v1::ReverseRequest, yidi::v1::SettleResponse>();
  call->context.set_deadline(ForwardDeadline(caller_deadline, forward_deadline_ms_));
  call->request = request;
  stubs_->Settlement(route.next_address)
      ->async()
      ->Reverse(&call->context, &call->request, &call->response,
                [this, call, pending = std::move(pending), route, response,
                 done = std::move(done)](grpc::Status status) {
                  std::unique_ptr<
                      ForwardCall<yidi::v1::ReverseRequest, yidi::v1::SettleResponse>>
                      owned(call);
                  if (status.ok()) *response = std::move(call->response);
                  RecordOutcome(pending, route, status, response, std::move(done));
                });
}

void SettlementRelay::Correct(std::chrono::system_clock::time_point caller_deadline,
                              const yidi::v1::CorrectRequest& request, const Route& route,
                              yidi::v1::CorrectResponse* response, DoneCallback done) {
  auto* call = new ForwardCall<yidi::v1::CorrectRequest, yidi::v1::CorrectResponse>();
  call->context.set_deadline(ForwardDeadline(caller_deadline, forward_deadline_ms_));
  call->request = request;
  stubs_->Settlement(route.next_address)
      ->async()
      ->Correct(&call->context, &call->request, &call->response,
                [this, call, route, response, done = std::move(done)](grpc::Status status) {
                  std::unique_ptr<
                      ForwardCall<yidi::v1::CorrectRequest, yidi::v1::CorrectResponse>>
                      owned(call);
                  if (!status.ok()) {
                    if (IsDefinitiveRefusal(static_cast<absl::StatusCode>(status.error_code()))) {
                      done(status);
                    } else {
                      done(HopUnavailable(route, status,
                                          "the correction did not reach the insured region; "
                                          "retry it"));
                    }
                    return;
                  }
                  *response = std::move(call->response);
                  absl::Status stored = MarkVoided(call->request);
                  if (!stored.ok()) {
                    done(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                      absl::StrCat("yidi: ", self_name_,
                                                   " could not record the correction (",
                                                   stored.message(), "); retry it")));
                    return;
                  }
                  done(grpc::Status::OK);
                });
}

absl::Status SettlementRelay::MarkVoided(const yidi::v1::CorrectRequest& request) {
  ASSIGN_OR_RETURN(auto tx, store_->Begin(TransactionMode::kWrite));
  ASSIGN_OR_RETURN(auto existing, FindSettlementRecord(*tx, request.settlement_id()));
  if (existing.has_value()) {
    RETURN_IF_ERROR(UpdateSettlementRecord(*tx, request.settlement_id(),
                                           SettlementState::SETTLEMENT_STATE_VOIDED, nullptr,
                                           clock_->Now()));
  } else {
    SettlementRecord tombstone;
    tombstone.settlement_id = request.settlement_id();
    tombstone.state = SettlementState::SETTLEMENT_STATE_VOIDED;
    tombstone.insured_region = request.insured_region();
    tombstone.treatment_region = request.treatment_region();
    tombstone.institution_code = request.institution_code();
    RETURN_IF_ERROR(InsertSettlementRecord(*tx, tombstone, clock_->Now()));
  }
  return tx->Commit();
}

}  // namespace yidi
