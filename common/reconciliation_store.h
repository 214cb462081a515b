// Daily reconciliation, the storage part: SQL over `settlement_record` (owned by
// common/settlement_record.cc; read here, written only through its functions plus the
// `institution_confirmed_on` column this area owns) and the reconciliation tables:
//   reconciliation_correction   one row per applied correction_id (补正 / 冲减), the audit trail
//   reconciliation_run          one row per reconciled day: status, attempts, counts
//   reconciliation_difference   the differences of a day's latest attempt and their resolution
//   institution_day_totals      one row per institution submission (request_id), for replay
// Migrations 300–319 (docs/RECONCILIATION.md).
//
// The day of a record is its settlement_date (from the owner's result) or, for a record that
// has no result (IN_DOUBT, PENDING, a tombstone), the CST day of its creation.
//
// Every function works inside the caller's Transaction; validation is done before (edge).
#ifndef YIDI_COMMON_RECONCILIATION_STORE_H_
#define YIDI_COMMON_RECONCILIATION_STORE_H_

#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/directory.h"
#include "common/settlement_record.h"
#include "common/store/store.h"
#include "yidi/v1/reconciliation.pb.h"

namespace yidi {

// At most this many detail lines in one institution submission (about 40 bytes each).
inline constexpr int kInstitutionDetailsMax = 50000;

std::vector<Migration> ReconciliationMigrations();

// INVALID_ARGUMENT naming the field: day (a real YYYY-MM-DD), counterparty (6 digits or empty),
// page_size (0 to kDayTotalsPageSizeMax), page_token (one this node gave).
absl::Status ValidateGetDayTotals(const yidi::v1::GetDayTotalsRequest& request);
absl::Status ValidateGetDayDetail(const yidi::v1::GetDayDetailRequest& request);
absl::Status ValidateApplyCorrection(const yidi::v1::ApplyCorrectionRequest& request);
// `region` is this (treatment municipal) node's region: the institution must be one of its own.
absl::Status ValidateInstitutionDayTotals(
    const yidi::v1::SubmitInstitutionDayTotalsRequest& request, const DirectoryIndex& directory,
    const std::string& region);

// One page of the day's totals (D412): the groups of at most page_size (insured, treatment,
// institution) keys after page_token, in key order; next_page_token names the page's last key
// when more follow. REQUIRES: ValidateGetDayTotals passed.
absl::StatusOr<yidi::v1::GetDayTotalsResponse> ReadDayTotals(
    Transaction& tx, const yidi::v1::GetDayTotalsRequest& request);

// The page token of GetDayTotals: "insured|treatment|institution" of the previous page's last
// key. INVALID_ARGUMENT naming page_token when `token` is not one; nullopt for the first page.
using TotalsKey = std::tuple<std::string, std::string, std::string>;
std::string DayTotalsPageToken(const TotalsKey& key);
absl::StatusOr<std::optional<TotalsKey>> ParseDayTotalsPageToken(const std::string& token);

absl::StatusOr<yidi::v1::GetDayDetailResponse> ReadDayDetail(
    Transaction& tx, const yidi::v1::GetDayDetailRequest& request);

// What a correction must replay at the node where it lands, besides the record (D410): the
// node's bookkeeping fed by the record (at the owner, the insured municipal node: the year
// accumulators, the personal and family accounts, the referral episode; municipal/
// owner_corrections.h). Called inside the correction's transaction, before the record is
// rewritten, with the record as it was (nullopt: missing) and the state it is about to get. An
// error aborts the correction (nothing is stored) and is returned to the caller:
// FAILED_PRECONDITION when the node cannot replay it exactly (the difference stays open for an
// operator). Empty: the record feeds nothing at this node (relays, national, provinces).
using CorrectionReplayer = std::function<absl::Status(
    Transaction& tx, const std::optional<SettlementRecord>& before,
    const yidi::v1::ApplyCorrectionRequest& request, yidi::v1::SettlementState new_state,
    absl::Time now)>;

// Applies a correction to this node's record (and `replayer`'s bookkeeping) and stores its audit
// row, or replays the answer of an earlier application of the same correction_id, replaying
// nothing. ALREADY_EXISTS (naming correction_id) when the id was used for another settlement or
// action; the replayer's errors. REQUIRES: tx is a write transaction; ValidateApplyCorrection
// passed.
absl::StatusOr<yidi::v1::ApplyCorrectionResponse> ApplyCorrectionInTransaction(
    Transaction& tx, const yidi::v1::ApplyCorrectionRequest& request, absl::Time now,
    const CorrectionReplayer& replayer = nullptr);

// Compares the institution's totals with this node's (records treated in `region` at the
// institution on the day, SETTLED or REVERSED, reversals negative) and on a match sets
// institution_confirmed_on = day on them. Replays by request_id. REQUIRES: write transaction,
// validated.
absl::StatusOr<yidi::v1::SubmitInstitutionDayTotalsResponse> SubmitInstitutionDayTotalsInTransaction(
    Transaction& tx, const yidi::v1::SubmitInstitutionDayTotalsRequest& request,
    const std::string& region, absl::Time now);

// Replaces the day's report (run row and differences); attempts counts up.
absl::Status SaveReconciliationReport(Transaction& tx, yidi::v1::ReconciliationReport report);
// NOT_FOUND (naming day) when the day was never run.
absl::StatusOr<yidi::v1::ReconciliationReport> LoadReconciliationReport(Transaction& tx,
                                                                       const std::string& day);
// Days in [from, to) whose run is not BALANCED, oldest first.
absl::StatusOr<std::vector<std::string>> DaysNotBalanced(Transaction& tx, const std::string& from,
                                                         const std::string& to);

}  // namespace yidi

#endif  // YIDI_COMMON_RECONCILIATION_STORE_H_
