// Monthly clearing (月度清算, RULES.md 5) at the node that clears a pair of regions: national
// for cross-province pairs, a province for its own cities (intra-province clearing, 5.7).
//
// The clearing of month M covers the settlements this node recorded (settlement_record, states
// SETTLED and REVERSED, reversals as negative rows) whose settlement_date falls in M, plus
// late declarations of M−1 and M−2 (at most two months late, 第47条) recorded after the
// previous clearing froze, minus the audit deductions recorded here and not yet applied.
// "Covered" is decided by the freeze timestamps, so no settlement row is updated and a
// refund after clearing simply lands in the month of its reversal (清算后退费).
//
// The result is a list of cells (insured pooling region × treatment pooling region ×
// employee/resident) with fund columns; every table of 附件14–16 is a sum of cells
// (common/clearing_render.h). Conservation is asserted when a clearing is built and checked
// again by CheckConservation.
//
// States and deadlines (docs/CLEARING.md): built on or after the 21st of M+1 (BUILT); replies
// until confirm_by (the 25th, or the next working day); past it silence confirms (CONFIRMED,
// or DISPUTED while a dispute stands); once confirmed the notices are issued (NOTICES_ISSUED)
// and each pair's net becomes a clearing obligation through common/prepayment.h's
// RecordClearing, so usage rates and warnings follow every real clearing.
//
// Each function runs inside the caller's Transaction. Thread safety: as the Transaction.
#ifndef YIDI_COMMON_CLEARING_H_
#define YIDI_COMMON_CLEARING_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/calendar.h"
#include "common/prepayment.h"
#include "common/store/store.h"
#include "yidi/v1/clearing.pb.h"

namespace yidi {

// A trace returns at most this many ids per call (a month's pair can hold millions).
inline constexpr int kTraceIdsMax = 10000;
// Settlements of M−1 and M−2 may still enter the clearing of M (第47条: ≤ 2 months late).
inline constexpr int kClearingMonthsLateMax = 2;
inline constexpr int kClearingBuildDay = 21;    // 第43条 "于每月21日"
inline constexpr int kClearingConfirmDay = 25;  // 第43条; Liaoning 第45–46条

// Schema (versions 320–323).
std::vector<Migration> ClearingMigrations();

// What the clearing needs of its node.
struct ClearingNode {
  std::string region;  // "000000" or the province "xx0000"
  const WorkingDayCalendar* calendar = nullptr;
  // The pooling region of a region code (a county resolves to its prefecture).
  std::function<std::string(const std::string&)> pooling_region_of;
  // For the notices' obligations; its policy and calendar must be set.
  PrepaymentIssuer issuer;
  absl::Time now;

  bool national() const { return region == "000000"; }
  // The matrix region of a pooling region: its province at national, itself at a province.
  std::string MatrixRegionOf(const std::string& pooling_region) const;
};

struct ClearingDates {
  absl::CivilDay built_on;    // the 21st of M+1
  absl::CivilDay confirm_by;  // the 25th of M+1, or the next working day
  absl::CivilDay notices_by;  // the last working day of M+1
};
// OUT_OF_RANGE when the calendar does not hold M+1.
absl::StatusOr<ClearingDates> ComputeClearingDates(const WorkingDayCalendar& calendar,
                                                   absl::CivilMonth month);

// "YYYY-MM" → month; INVALID_ARGUMENT naming `field`.
absl::StatusOr<absl::CivilMonth> ParseClearingMonth(absl::string_view text,
                                                    absl::string_view field);

// Employee or resident table (附件14-2 / 14-3).
bool IsResidentScheme(yidi::v1::InsuranceType type);

// a += b (every column).
void AddFunds(yidi::v1::FundColumns& a, const yidi::v1::FundColumns& b);
// a − b.
yidi::v1::FundColumns SubtractFunds(const yidi::v1::FundColumns& a,
                                    const yidi::v1::FundColumns& b);
// Σ of the itemised columns (everything but total_fen).
int64_t SumOfColumns(const yidi::v1::FundColumns& funds);

// Builds the clearing of `month` if not built yet, then advances it as far as node.now
// allows (see the file comment). FAILED_PRECONDITION before the build day. The same call
// again returns the stored clearing (advanced). INTERNAL when conservation fails.
absl::StatusOr<yidi::v1::Clearing> RunClearing(Transaction& tx, const ClearingNode& node,
                                               absl::string_view month);

// The stored clearing; NOT_FOUND before it is built. With `region`, only the cells where that
// region (or, for a province at national, its cities) pays or receives.
absl::StatusOr<yidi::v1::Clearing> GetClearing(Transaction& tx, absl::string_view month,
                                               absl::string_view region,
                                               const ClearingNode& node);

// A region's confirmation or dispute. Until confirm_by any region of the matrix may reply (a
// later reply replaces an earlier one); after it only a disputing region may confirm (the
// dispute is resolved). The same reply_id again is a replay. INVALID_ARGUMENT naming the
// field; NOT_FOUND before the build; FAILED_PRECONDITION when the window is closed.
absl::StatusOr<yidi::v1::ReplyClearingResponse> ReplyClearing(
    Transaction& tx, const ClearingNode& node, const yidi::v1::ReplyClearingRequest& request);

// Records an audit deduction (itemised; total = Σ columns > 0). The same deduction again is a
// replay; other figures under the same id ALREADY_EXISTS. INVALID_ARGUMENT naming the field
// (a pair this node does not clear is INVALID_ARGUMENT on insured_region).
absl::StatusOr<yidi::v1::RecordDeductionResponse> RecordDeduction(
    Transaction& tx, const ClearingNode& node, const yidi::v1::ClearingDeduction& deduction);

// Records a treatment region's claim, compared with the detail when the month is built.
// FAILED_PRECONDITION once that month is built. Replay / ALREADY_EXISTS as above.
absl::StatusOr<yidi::v1::SubmitClaimResponse> SubmitClaim(Transaction& tx,
                                                          const ClearingNode& node,
                                                          const yidi::v1::ClearingClaim& claim);

// The settlement ids (and deduction ids) behind a cell pair of a built clearing.
absl::StatusOr<yidi::v1::TraceClearingResponse> TraceClearing(
    Transaction& tx, const ClearingNode& node, const yidi::v1::TraceClearingRequest& request);

// Conservation (RULES.md 5; issue 6): Σ payables = Σ receivables; each matrix region's payable
// = Σ of its pooling regions' shares and likewise receivable; matrix row and column totals
// agree with the grand total; each cell's net = covered − deducted; columns sum to totals.
// INTERNAL naming the first broken identity.
absl::Status CheckConservation(const yidi::v1::Clearing& clearing, const ClearingNode& node);

// The SQL condition (over settlement_record's insured_region / treatment_region) selecting the
// pairs this node clears: cross-province at national, its own cities at a province. For the
// year close (common/clearing_year.h) and anything else counting what the clearing covers.
std::string ClearedPairsSql(const ClearingNode& node);

// Matrix view: receiving (treatment) region → paying (insured) region → net fen, at the
// node's matrix level (provinces at national, cities at a province).
std::map<std::string, std::map<std::string, int64_t>> ClearingMatrix(
    const yidi::v1::Clearing& clearing, const ClearingNode& node);

}  // namespace yidi

#endif  // YIDI_COMMON_CLEARING_H_
