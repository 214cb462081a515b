// Validation of settlement requests at the edge, and the slip identities every result obeys.
// Validation happens before anything is stored; each error is INVALID_ARGUMENT naming the
// field ("fee_lines[3].amount_fen: ...").
#ifndef YIDI_COMMON_SETTLEMENT_VALIDATION_H_
#define YIDI_COMMON_SETTLEMENT_VALIDATION_H_

#include "absl/status/status.h"
#include "common/directory.h"
#include "yidi/v1/settlement.pb.h"

namespace yidi {

// The hospital's request as the treatment municipal node receives it: structure, ID check
// digit, regions and institution known to `directory`, dates in order, every line's amount
// = quantity × unit price, lines adding up to declared_total_fen, no classified_bill.
absl::Status ValidateHospitalSettleRequest(const yidi::v1::SettleRequest& request,
                                           const DirectoryIndex& directory);

// A routed request as a relay or the insured node receives it: the hospital checks again
// (cheap, and no node trusts its neighbour's input), plus a classified bill whose parts add up
// to the declared total.
absl::Status ValidateRoutedSettleRequest(const yidi::v1::SettleRequest& request,
                                         const DirectoryIndex& directory);

absl::Status ValidateReverseRequest(const yidi::v1::ReverseRequest& request,
                                    const DirectoryIndex& directory);
absl::Status ValidateCorrectRequest(const yidi::v1::CorrectRequest& request,
                                    const DirectoryIndex& directory);

// OK when `split` adds up: total = in_scope + class_b_copay + over_cap + self_pay, and every
// part has the sign of the total (all ≥ 0, or all ≤ 0 on a reversal).
absl::Status CheckFeeSplit(const yidi::v1::FeeSplit& split);

// True for the medical types of a stay (住院: inpatient, trauma, referred-out, emergency
// inpatient): bills summarised by fee category, admission rules, suspensions.
bool IsInpatient(yidi::v1::MedicalType type);

// The slip identities (RULES.md 3.10; docs/API.md):
//   total = in_scope + class_b_copay + over_cap + self_pay
//   fund_total = sum of the fund columns;  total = fund_total + personal_account + cash
//   person_part = personal_account + cash; slip_fund_total = fund_total + personal_account
//   fund_payments sum to fund_total + personal_account
// and every amount has the settlement's sign (≥ 0 normal, ≤ 0 reversal). INTERNAL otherwise,
// naming the identity that failed.
absl::Status CheckSlipIdentities(const yidi::v1::SettlementResult& result);

}  // namespace yidi

#endif  // YIDI_COMMON_SETTLEMENT_VALIDATION_H_
