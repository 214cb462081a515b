// InsuredSettlement: what the insured region (参保地) does with a settlement routed to it.
// Checks eligibility, applies its own policy (municipal/policy_engine.h) on the treatment
// region's classification, and, for Settle, commits the result, the settlement record, the
// accumulator changes and the personal-account debit in ONE write transaction. Reverse undoes a
// settlement by a linked negative one and restores exactly the accumulator changes it made and
// the account balance it debited; Correct voids a settlement whose reply was lost (restoring the
// same), or leaves a tombstone so that a late copy of it is refused.
//
// Thread-safe: state lives in the Store; write transactions are serialised there.
#ifndef YIDI_MUNICIPAL_INSURED_SETTLEMENT_H_
#define YIDI_MUNICIPAL_INSURED_SETTLEMENT_H_

#include "absl/status/statusor.h"
#include "common/node.h"
#include "municipal/policy_set.h"
#include "yidi/v1/filing.pb.h"
#include "yidi/v1/filing_rules.pb.h"
#include "yidi/v1/person.pb.h"
#include "yidi/v1/settlement.pb.h"

namespace yidi::municipal {

class InsuredSettlement {
 public:
  // `context` and `policies` must outlive this object.
  // `filing_rules` (may be nullptr: none loaded) decide what a filing covers (eligibility.h).
  InsuredSettlement(NodeContext* context, const PolicySet* policies,
                    const yidi::v1::FilingRules* filing_rules = nullptr);

  // REQUIRES: `request` validated as routed (classified bill present) and insured here.
  // commit=false is PreSettle: the same computation, nothing written.
  // Errors: ALREADY_EXISTS (id reused for another request), NOT_FOUND (no such person),
  // FAILED_PRECONDITION (inactive, not filed, voided id), UNAVAILABLE (database).
  absl::StatusOr<yidi::v1::SettleResponse> Settle(const yidi::v1::SettleRequest& request,
                                                  bool commit);

  // NOT_FOUND when the original is unknown here; FAILED_PRECONDITION when it is not settled
  // (already reversed, voided) or belongs to another institution.
  absl::StatusOr<yidi::v1::SettleResponse> Reverse(const yidi::v1::ReverseRequest& request);

  absl::StatusOr<yidi::v1::CorrectResponse> Correct(const yidi::v1::CorrectRequest& request);

  absl::StatusOr<yidi::v1::GetInsuredPersonResponse> GetInsuredPerson(
      const yidi::v1::GetInsuredPersonRequest& request);
  absl::StatusOr<yidi::v1::CheckFilingResponse> CheckFiling(
      const yidi::v1::CheckFilingRequest& request);
  absl::StatusOr<yidi::v1::ListFilingsResponse> ListFilings(
      const yidi::v1::ListFilingsRequest& request);

 private:
  NodeContext* const context_;
  const PolicySet* const policies_;
  const yidi::v1::FilingRules* const filing_rules_;
};

// Every amount of `result` negated (a reversal's slip).
void NegateAmounts(yidi::v1::SettlementResult* result);

}  // namespace yidi::municipal

#endif  // YIDI_MUNICIPAL_INSURED_SETTLEMENT_H_
