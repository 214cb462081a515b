#include "municipal/owner_corrections.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/settlement_record.h"
#include "common/status_macros.h"
#include "municipal/accumulators.h"
#include "municipal/insured_registry.h"
#include "municipal/settlement_links.h"

namespace yidi::municipal {
namespace {

using yidi::v1::SettlementState;

bool SameAmounts(const yidi::v1::SettlementResult& a, const yidi::v1::SettlementResult& b) {
  return a.total_fen() == b.total_fen() && a.fund_total_fen() == b.fund_total_fen() &&
         a.personal_account_fen() == b.personal_account_fen() && a.cash_fen() == b.cash_fen();
}

absl::Status Refuse(const std::string& id, absl::string_view why) {
  return absl::FailedPreconditionError(absl::StrCat(
      "settlement_id: ", id, " ", why,
      "; the owner's accumulators cannot follow it exactly, so it is left for an operator"));
}

// Undoes what a committed settlement applied (as InsuredSettlement::Correct does).
absl::Status UndoCommitted(Transaction& tx, const SettlementRecord& record) {
  const std::string& id = record.settlement_id;
  ASSIGN_OR_RETURN(auto changes, LoadAccumulatorChanges(tx, id));
  RETURN_IF_ERROR(ApplyAccumulatorChanges(tx, absl::StrCat(id, "#void"), Negated(changes)));
  ASSIGN_OR_RETURN(int64_t family_restored, RestoreFamilyAccountDebit(tx, id));
  RETURN_IF_ERROR(AdjustPersonalAccountBalance(
      tx, record.result->id_number(), record.result->personal_account_fen() - family_restored));
  return LeaveEpisode(tx, id);
}

// Applies a reversal the owner lacks (as InsuredSettlement::Reverse does).
absl::Status ApplyMissingReversal(Transaction& tx, const yidi::v1::ApplyCorrectionRequest& request,
                                  absl::Time now) {
  const std::string& id = request.settlement_id();
  const std::string& original_id = request.result().original_settlement_id();
  ASSIGN_OR_RETURN(auto original, FindSettlementRecord(tx, original_id));
  if (!original.has_value() || !original->result.has_value() ||
      original->kind != yidi::v1::SETTLEMENT_KIND_NORMAL ||
      (original->state != SettlementState::SETTLEMENT_STATE_SETTLED &&
       original->state != SettlementState::SETTLEMENT_STATE_REVERSED)) {
    return Refuse(id, absl::StrCat("is a reversal of ", original_id,
                                   ", which this owner did not commit"));
  }
  ASSIGN_OR_RETURN(auto already, LoadAccumulatorChanges(tx, id));
  if (!already.empty()) {
    return absl::InternalError(absl::StrCat("settlement_id: ", id, " is missing here but its "
                                            "accumulator changes are recorded"));
  }
  ASSIGN_OR_RETURN(auto changes, LoadAccumulatorChanges(tx, original_id));
  RETURN_IF_ERROR(ApplyAccumulatorChanges(tx, id, Negated(changes)));
  ASSIGN_OR_RETURN(int64_t family_restored, RestoreFamilyAccountDebit(tx, original_id));
  RETURN_IF_ERROR(AdjustPersonalAccountBalance(
      tx, original->result->id_number(),
      original->result->personal_account_fen() - family_restored));
  RETURN_IF_ERROR(LeaveEpisode(tx, original_id));
  if (original->state != SettlementState::SETTLEMENT_STATE_REVERSED) {
    RETURN_IF_ERROR(UpdateSettlementRecord(tx, original_id,
                                           SettlementState::SETTLEMENT_STATE_REVERSED, nullptr,
                                           now));
  }
  return absl::OkStatus();
}

absl::Status Replay(const NodeContext& context, Transaction& tx,
                    const std::optional<SettlementRecord>& before,
                    const yidi::v1::ApplyCorrectionRequest& request, SettlementState new_state,
                    absl::Time now) {
  // Whose settlement: the record's insured region, or the correction's.
  std::string insured = before ? before->insured_region : "";
  if (insured.empty() && request.has_result()) insured = request.result().insured_region();
  if (insured.empty()) insured = request.insured_region();
  auto pool = context.directory.PoolingRegionFor(insured);
  if (!pool.ok() || *pool != context.identity.region_code) return absl::OkStatus();

  const std::string& id = request.settlement_id();
  const bool committed = before && before->result.has_value() &&
                         before->state == SettlementState::SETTLEMENT_STATE_SETTLED;
  const bool reversed = before && before->result.has_value() &&
                        before->state == SettlementState::SETTLEMENT_STATE_REVERSED;
  const bool is_reversal =
      before ? before->kind == yidi::v1::SETTLEMENT_KIND_REVERSAL
             : request.has_result() &&
                   request.result().kind() == yidi::v1::SETTLEMENT_KIND_REVERSAL;

  if (new_state == SettlementState::SETTLEMENT_STATE_VOIDED) {
    if (!committed && !reversed) return absl::OkStatus();  // never counted here: a tombstone
    if (reversed) return Refuse(id, "is reversed here; voiding it would undo its refund too");
    if (is_reversal) return Refuse(id, "is a refund this owner committed");
    LogInfo("reconciliation: owner %s replays the 冲减 of %s (accumulators and accounts undone)",
            context.name, id);
    return UndoCommitted(tx, *before);
  }
  // 补正 to SETTLED or REVERSED with the authority's result.
  if (committed || reversed) {
    if (request.has_result() && !SameAmounts(*before->result, request.result())) {
      return Refuse(id, "was committed here with other amounts");
    }
    if (reversed && new_state == SettlementState::SETTLEMENT_STATE_SETTLED) {
      return Refuse(id, "is reversed here; un-reversing it would re-apply it");
    }
    return absl::OkStatus();  // the same commitment; a REVERSED state comes with its reversal
  }
  if (is_reversal && new_state == SettlementState::SETTLEMENT_STATE_SETTLED &&
      request.has_result()) {
    LogInfo("reconciliation: owner %s replays the missing reversal %s", context.name, id);
    return ApplyMissingReversal(tx, request, now);
  }
  return Refuse(id, "was never committed by this owner");
}

}  // namespace

CorrectionReplayer OwnerCorrectionReplayer(const NodeContext* context) {
  return [context](Transaction& tx, const std::optional<SettlementRecord>& before,
                   const yidi::v1::ApplyCorrectionRequest& request, SettlementState new_state,
                   absl::Time now) {
    return Replay(*context, tx, before, request, new_state, now);
  };
}

}  // namespace yidi::municipal
