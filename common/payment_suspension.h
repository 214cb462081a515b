// Enforcement of Liaoning's suspensions for non-payment (RULES.md 6.6; 003_8507b755cfadb9d9.txt
// 第28条), where the issuing node's PrepaymentPolicy has `suspension.enabled`. The issuer (a
// province for its cities, national for the provinces) keeps the transfer obligations, so the
// checks run at the issuer, on the two paths the article names:
//  - uploads of NEW filings (version 1) of a city whose emergency-increase notice is unpaid
//    10 WD after signing: the provincial filing receiver (common/filing_relay.cc) holds them;
//  - admissions (入院登记) of the insured persons of a region whose clearing or adjustment
//    notice is unpaid 20 WD after signing without a reported reason: the relay refuses an
//    inpatient Settle / PreSettle of a stay ADMITTED after the suspension began (a stay
//    admitted before it settles as usual).
// Every refusal names the unpaid notice (SuspensionsOf). With the switch off nothing is read.
#ifndef YIDI_COMMON_PAYMENT_SUSPENSION_H_
#define YIDI_COMMON_PAYMENT_SUSPENSION_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/node.h"
#include "common/store/store.h"
#include "yidi/v1/filing.pb.h"
#include "yidi/v1/prepayment.pb.h"
#include "yidi/v1/settlement.pb.h"

namespace yidi {

// OK, or FAILED_PRECONDITION naming the unpaid notice when `region` or its province
// (ProvinceCodeOf) was suspended for `kind` by this node on `day` and the notice is still
// unpaid. OK at once when the policy's switch is off. OUT_OF_RANGE when the calendar lacks a
// year the deadline needs (an explicit error, never a guess).
absl::Status CheckPaymentSuspension(Transaction& tx, const NodeContext& context,
                                    absl::string_view region, yidi::v1::SuspensionKind kind,
                                    absl::CivilDay day);

// The admission path: an inpatient visit (medical types 21–24) admitted on a day its insured
// region was suspended for admissions (and still is unpaid). Other visits and a bad date
// (left to validation) are OK. Opens its own read transaction only when the switch is on.
absl::Status CheckAdmissionNotSuspended(const NodeContext& context,
                                        const yidi::v1::SettleRequest& request);

// The filing-upload path: whether `change` is a new filing (version 1, not cancelled) that
// must be held because its insured region's new-filing uploads are suspended today.
absl::Status CheckFilingUploadNotSuspended(Transaction& tx, const NodeContext& context,
                                           const yidi::v1::FilingChange& change);

}  // namespace yidi

#endif  // YIDI_COMMON_PAYMENT_SUSPENSION_H_
