// Prepayment (预付金) at the node that issues the notices: national for cross-province pairs, a
// province for its own cities. Computes the year's quotas from last year's recorded
// settlements (settlement_record) with the node's PrepaymentPolicy, the adjustment against
// last year's quota including emergency increases, and the obligations the notices create;
// takes each month's signed clearing as an input (monthly clearing is its own issue), computes
// the usage rate and warning level, and issues emergency increases with the policy's formula
// and deadlines. Tables prepayment_quota and prepayment_clearing; obligations in
// transfer_obligation (common/transfer_obligations.h). See docs/PREPAYMENT.md.
//
// Each function runs inside the caller's write or read Transaction. Thread safety: as the
// Transaction; the policy and calendar are immutable.
#ifndef YIDI_COMMON_PREPAYMENT_H_
#define YIDI_COMMON_PREPAYMENT_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/calendar.h"
#include "common/store/store.h"
#include "yidi/v1/common.pb.h"
#include "yidi/v1/prepayment.pb.h"

namespace yidi {

// Schema (versions 23–24 of the common range).
std::vector<Migration> PrepaymentMigrations();

// The national rules (000_… 第16–24条): pairwise, 2 × Q4 monthly average, usage = monthly
// clearing, yellow >= 70%, red >= 90%, the increase as requested, 3 WD to apply, 5 / 10 / 5 WD,
// initial payment within 15 WD, adjustments by the end of February, no suspensions.
yidi::v1::PrepaymentPolicy NationalPrepaymentPolicy();

// INVALID_ARGUMENT naming the field of a policy that cannot work (months outside 1..12,
// thresholds out of order, a chain step outside 0..kWorkingDaysMax, …).
absl::Status ValidatePrepaymentPolicy(const yidi::v1::PrepaymentPolicy& policy);

// Fields left zero or unspecified in `policy` take the national rule's value.
yidi::v1::PrepaymentPolicy WithNationalDefaults(yidi::v1::PrepaymentPolicy policy);

// What the functions below need of the issuing node.
struct PrepaymentIssuer {
  yidi::v1::NodeKind kind = yidi::v1::NODE_KIND_UNSPECIFIED;
  std::string region;  // "000000" or the province's "xx0000"
  const yidi::v1::PrepaymentPolicy* policy = nullptr;
  const WorkingDayCalendar* calendar = nullptr;
  // The pooling region of a settlement's region code (a county resolves to its prefecture).
  std::function<std::string(const std::string&)> pooling_region_of;
  // The province's pooling regions (its municipal nodes), for quotas of cities without data.
  std::vector<std::string> cities;
  absl::Time now;
};

// The province code "xx0000" of a region code.
std::string ProvinceOf(absl::string_view region_code);

// The node that issues the notices of a payer → receiver pair: national when the two are in
// different provinces, else their province.
std::string IssuerOf(absl::string_view payer_region, absl::string_view receiver_region);

// January: the year's quotas from the settlements of year − 1 and their notices. A year
// already computed returns the stored quotas and obligations (replayed); quotas once issued
// change only through a new flow, never by recomputing. INVALID_ARGUMENT for a bad year or
// date; FAILED_PRECONDITION on a municipal node; OUT_OF_RANGE from the calendar.
absl::StatusOr<yidi::v1::ComputeQuotasResponse> ComputeQuotas(
    Transaction& tx, const PrepaymentIssuer& issuer, const yidi::v1::ComputeQuotasRequest& request);

// The stored quotas of `year` where `region` pays or receives (all when empty).
absl::StatusOr<std::vector<yidi::v1::PrepaymentQuota>> GetQuotas(Transaction& tx, int year,
                                                                 absl::string_view region);

// One signed clearing of a pair: records it, creates its clearing obligation, and returns the
// usage report with its warning level (red opens the emergency increase until apply_by).
// The same clearing again is a replay; other figures for the same month and pair are
// ALREADY_EXISTS naming clearing_fen. INVALID_ARGUMENT naming the field.
//
// `returned`: reverse clearing (RULES.md 5.4; 000_… 第48条, 003_… 第51条): the payer is the
// treatment side giving money back to the insured side. Its obligation ("CL-…-R") carries
// TransferObligation.returned ("*" on the notices) with the same deadlines as a normal one;
// it is a return, not a use of the receiver's prepayment, so no usage is assessed (the
// report's level stays UNSPECIFIED) and it lives beside a normal clearing of the same
// direction and month. Replay / ALREADY_EXISTS as above, by the obligation.
absl::StatusOr<yidi::v1::RecordClearingResponse> RecordClearing(
    Transaction& tx, const PrepaymentIssuer& issuer,
    const yidi::v1::RecordClearingRequest& request, bool returned = false);

// Usage reports of `year`'s clearings where `region` pays or receives (all when empty).
absl::StatusOr<std::vector<yidi::v1::UsageReport>> GetUsage(Transaction& tx, int year,
                                                            absl::string_view region);

// The treatment side's application after a red warning (or the province's own computation in
// Jiangxi): the amount by the policy's formula for the receiving region, an obligation payer →
// receiver due before the next clearing. FAILED_PRECONDITION when the clearing was not red,
// the window (apply_by) has closed, or the formula gives nothing; NOT_FOUND without the
// clearing; INVALID_ARGUMENT when an as-requested amount is missing. The same application again
// is a replay; another amount ALREADY_EXISTS naming requested_fen.
absl::StatusOr<yidi::v1::RequestEmergencyIncreaseResponse> RequestEmergencyIncrease(
    Transaction& tx, const PrepaymentIssuer& issuer,
    const yidi::v1::RequestEmergencyIncreaseRequest& request);

}  // namespace yidi

#endif  // YIDI_COMMON_PREPAYMENT_H_
