// The treatment side's claims (申报), up the hierarchy: treatment city → province → national
// (docs/CLEARING.md "Claims"; RULES.md 4 and 5.2; 000_65644e9492a1c962.txt 第47条; Liaoning
// 003_8507b755cfadb9d9.txt 第44条; Yunnan 001_3a9ac0cfb3167a7f.txt 第40–41条, 通知§六(一)).
//
// 1. The treatment municipal node declares a month (DeclareClaims): one ClearingClaim per
//    insured pooling region, with its detail (one ClaimLine per institution × scheme) and its
//    totals, from its own settlement_record: settlements and reversals of the month whose
//    institution confirmed them (institution_confirmed_on; ClaimsConfig.include_unconfirmed
//    off). The unconfirmed ones are WITHHELD: listed by id, stored here as pending, and
//    RELEASED by the first later declaration after the institution confirmed them (≤ 2 months
//    late; older ones stay pending, too late). A reversal whose original is withheld is
//    withheld with it. The batch is stored before it is sent, so a retry resends the same
//    figures under the same ids.
// 2. The province stores each city batch (SubmitClaims, idempotent by batch_id and claim_id).
//    Intra-province claims are its own (it clears them); cross-province ones wait for the
//    freeze (ForwardClaims), which puts them in one batch to national. A batch arriving after
//    the freeze (or, for intra-province claims, after the build) of its month goes to the next
//    month not frozen: a late declaration, at most kClearingMonthsLateMax months late.
// 3. The clearing node (national, or the province for its cities) compares each claim at the
//    build (ApplyClaims, called by RunClearing): its detail against its totals, and against
//    what this node recorded for the pair (the month's rows, minus the withheld, plus the
//    released). A claim that does not match is NOT cleared (excluded_claims, with the reason)
//    and the pair's rows wait pending for a later declaration. A treatment city that has
//    declared once is cleared on claims only: a pair of it without a claim waits pending
//    (undeclared) until its late claim comes. Conservation holds because pending rows are
//    simply not covered, and TraceClearing applies the same filter (AdjustTraceIds).
//
// Each function runs inside the caller's Transaction. Thread safety: as the Transaction.
#ifndef YIDI_COMMON_CLEARING_CLAIMS_H_
#define YIDI_COMMON_CLEARING_CLAIMS_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/clearing.h"
#include "common/store/store.h"
#include "yidi/v1/clearing.pb.h"

namespace yidi {

// A claim lists at most this many withheld and released ids each (the unconfirmed settlements
// of a pair and month are few: the institution confirms its days within the month).
inline constexpr int kClaimIdsMax = 5000;
// A claim has at most this many lines (institutions × 2 schemes of one treatment city).
inline constexpr int kClaimLinesMax = 20000;
// A batch carries at most this many claims (the insured pooling regions of one province's
// cities: ~400 regions × a few cities).
inline constexpr int kClaimBatchClaimsMax = 20000;

// Schema (versions 323–326): clearing_pending, claim_batch, claim_forward, clearing_declarant,
// clearing_pend_pair.
std::vector<Migration> ClearingClaimsMigrations();

// What the treatment municipal node needs to declare.
struct ClaimsNode {
  std::string region;  // this city's pooling region
  std::function<std::string(const std::string&)> pooling_region_of;
  bool include_unconfirmed = false;  // ClaimsConfig.include_unconfirmed
  absl::Time now;
};

struct Declaration {
  yidi::v1::ClaimBatch batch;
  bool replayed = false;  // the month was declared before: the stored batch
  bool sent = false;      // the province acknowledged it
};

// Builds, stores and returns the month's claims (one batch), or the stored batch when the
// month was declared before. INVALID_ARGUMENT on the month; FAILED_PRECONDITION before the
// month is over (a month is declared from the 1st of the next).
absl::StatusOr<Declaration> DeclareClaims(Transaction& tx, const ClaimsNode& node,
                                          absl::string_view month);
// Marks a declared batch acknowledged by the province.
absl::Status MarkClaimsSent(Transaction& tx, absl::string_view batch_id, absl::Time now);

// Province or national: stores a batch from the level below (province: its cities' batches;
// national: provinces' frozen batches). The same batch again is a replay; a batch or claim id
// reused with other figures ALREADY_EXISTS; malformed input INVALID_ARGUMENT naming the field
// (nothing stored); more than 2 months late FAILED_PRECONDITION. A claim whose lines do not
// add up to its totals is stored: it is excluded, with the reason, at the build.
absl::StatusOr<yidi::v1::SubmitClaimsResponse> ReceiveClaims(Transaction& tx,
                                                             const ClearingNode& node,
                                                             const yidi::v1::ClaimBatch& batch);

struct Freeze {
  yidi::v1::ClaimBatch batch;
  bool replayed = false;
  bool sent = false;
};
// Province: freezes the cross-province claims assigned to `month` into one batch for national
// (stored; the same call again returns it). FAILED_PRECONDITION before the month is over.
absl::StatusOr<Freeze> FreezeClaims(Transaction& tx, const ClearingNode& node,
                                    absl::string_view month);

// The claims this node holds for `month`, each with its state.
absl::StatusOr<yidi::v1::ListClaimsResponse> ListClaims(Transaction& tx, absl::string_view month,
                                                        bool municipal);

// --- Hooks of the build (common/clearing.cc) --------------------------------------------------

// (insured pooling region, treatment pooling region, resident): the key of a clearing cell.
using ClearingCellKey = std::tuple<std::string, std::string, bool>;

// The rows the clearing of a month covers before claims: `where` follows "FROM
// settlement_record WHERE " and takes `params`.
struct ClaimWindow {
  std::string where;
  std::vector<SqlValue> params;
  // Treatment pooling region → the treatment codes recorded for it in the window (from the
  // build's own pass): the claims' pass reads only the treatment regions claims concern.
  std::map<std::string, std::set<std::string>> raw_treatments;
};

struct ClaimsApplied {
  // Σ total_fen taken out of (negative) or added to the cells, computed from the rows.
  int64_t covered_delta_fen = 0;
  // Pooling pairs not cleared this month (excluded or undeclared): their deductions wait.
  std::set<std::pair<std::string, std::string>> not_cleared;
  int64_t too_late_count = 0;  // pending settlements that passed the 2-month limit now
};

// Compares the claims assigned to `month` with this node's records and adjusts `cells`
// (withheld and undeclared rows out, released rows in); records excluded claims in `clearing`.
absl::StatusOr<ClaimsApplied> ApplyClaims(Transaction& tx, const ClearingNode& node,
                                          absl::CivilMonth month, const ClaimWindow& window,
                                          std::map<ClearingCellKey, yidi::v1::ClearingCell>& cells,
                                          yidi::v1::Clearing& clearing);

// The ids of a pair's trace, as the clearing of `month` covered them: removes the ones held
// pending at that build and adds the ones released into it. `limit` as TraceClearing's.
absl::Status AdjustTraceIds(Transaction& tx, absl::CivilMonth month, absl::string_view insured,
                            absl::string_view treatment, int limit,
                            std::vector<std::string>& ids, bool& truncated);

}  // namespace yidi

#endif  // YIDI_COMMON_CLEARING_CLAIMS_H_
