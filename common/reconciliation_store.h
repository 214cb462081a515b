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

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/directory.h"
#include "common/store/store.h"
#include "yidi/v1/reconciliation.pb.h"

namespace yidi {

// At most this many detail lines in one institution submission (about 40 bytes each).
inline constexpr int kInstitutionDetailsMax = 50000;

std::vector<Migration> ReconciliationMigrations();

// INVALID_ARGUMENT naming the field: day (a real YYYY-MM-DD), counterparty (6 digits or empty).
absl::Status ValidateGetDayTotals(const yidi::v1::GetDayTotalsRequest& request);
absl::Status ValidateGetDayDetail(const yidi::v1::GetDayDetailRequest& request);
absl::Status ValidateApplyCorrection(const yidi::v1::ApplyCorrectionRequest& request);
// `region` is this (treatment municipal) node's region: the institution must be one of its own.
absl::Status ValidateInstitutionDayTotals(
    const yidi::v1::SubmitInstitutionDayTotalsRequest& request, const DirectoryIndex& directory,
    const std::string& region);

absl::StatusOr<yidi::v1::GetDayTotalsResponse> ReadDayTotals(
    Transaction& tx, const yidi::v1::GetDayTotalsRequest& request);

absl::StatusOr<yidi::v1::GetDayDetailResponse> ReadDayDetail(
    Transaction& tx, const yidi::v1::GetDayDetailRequest& request);

// Applies a correction to this node's record and stores its audit row, or replays the answer of
// an earlier application of the same correction_id. ALREADY_EXISTS (naming correction_id) when
// the id was used for another settlement or action. REQUIRES: tx is a write transaction;
// ValidateApplyCorrection passed.
absl::StatusOr<yidi::v1::ApplyCorrectionResponse> ApplyCorrectionInTransaction(
    Transaction& tx, const yidi::v1::ApplyCorrectionRequest& request, absl::Time now);

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
