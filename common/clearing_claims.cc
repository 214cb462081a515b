#include "common/clearing_claims.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/authorization.h"
#include "common/clock.h"
#include "common/directory.h"
#include "common/prepayment.h"
#include "common/proto_column.h"
#include "common/status_macros.h"

namespace yidi {

using yidi::v1::ClaimBatch;
using yidi::v1::ClaimLine;
using yidi::v1::Clearing;
using yidi::v1::ClearingCell;
using yidi::v1::ClearingClaim;
using yidi::v1::FundColumns;

std::vector<Migration> ClearingClaimsMigrations() {
  return {
      {323,
       "clearing_pending: settlements held out of the clearing until a claim releases them",
       // reason: withheld (not confirmed with the institution), undeclared (no claim yet),
       // excluded (the claim did not match). pended_in / released_in: clearing months.
       {"CREATE TABLE clearing_pending ("
        " settlement_id VARCHAR(64) NOT NULL PRIMARY KEY,"
        " insured_region VARCHAR(6) NOT NULL,"
        " treatment_region VARCHAR(6) NOT NULL,"
        " cost_month VARCHAR(7) NOT NULL,"
        " reason VARCHAR(16) NOT NULL,"
        " pended_in VARCHAR(7) NOT NULL,"
        " released_in VARCHAR(7) NOT NULL DEFAULT '',"
        " claim_id VARCHAR(64) NOT NULL DEFAULT '',"
        " created_at VARCHAR(32) NOT NULL)",
        "CREATE INDEX clearing_pending_by_pair ON clearing_pending "
        "(insured_region, treatment_region, cost_month)",
        "CREATE INDEX clearing_pending_by_release ON clearing_pending (released_in)"}},
      {324,
       "claim_batch: claim batches declared (city), received (above) and frozen (province)",
       {"CREATE TABLE claim_batch ("
        " batch_id VARCHAR(64) NOT NULL PRIMARY KEY,"
        " direction INTEGER NOT NULL,"
        " from_region VARCHAR(6) NOT NULL,"
        " clearing_month VARCHAR(7) NOT NULL,"
        " state INTEGER NOT NULL,"
        " body MEDIUMTEXT NOT NULL,"
        " created_at VARCHAR(32) NOT NULL,"
        " updated_at VARCHAR(32) NOT NULL)",
        "CREATE INDEX claim_batch_by_month ON claim_batch (direction, clearing_month)"}},
      {325,
       "claim_forward (province: cross-province claims to national) and clearing_declarant",
       {"CREATE TABLE claim_forward ("
        " claim_id VARCHAR(64) NOT NULL PRIMARY KEY,"
        " cost_month VARCHAR(7) NOT NULL,"
        " clearing_month VARCHAR(7) NOT NULL,"
        " batch_id VARCHAR(64) NOT NULL,"
        " out_batch VARCHAR(64) NOT NULL DEFAULT '',"
        " body MEDIUMTEXT NOT NULL,"
        " created_at VARCHAR(32) NOT NULL)",
        "CREATE INDEX claim_forward_by_month ON claim_forward (clearing_month)",
        // A treatment city that declared a month: from then on cleared on claims only.
        "CREATE TABLE clearing_declarant ("
        " region VARCHAR(6) NOT NULL,"
        " cost_month VARCHAR(7) NOT NULL,"
        " clearing_month VARCHAR(7) NOT NULL,"
        " forward_month VARCHAR(7) NOT NULL DEFAULT '',"
        " batch_id VARCHAR(64) NOT NULL,"
        " PRIMARY KEY (region, cost_month))",
        "CREATE INDEX clearing_declarant_by_forward ON clearing_declarant (forward_month)"}},
      {326,
       "clearing_pend_pair: the pairs a build held pending whole (undeclared, excluded)",
       // Joined with settlement_record in one pass per build, instead of one pass per pair.
       {"CREATE TABLE clearing_pend_pair ("
        " pend_month VARCHAR(7) NOT NULL,"
        " pend_insured VARCHAR(6) NOT NULL,"
        " pend_treatment VARCHAR(6) NOT NULL,"
        " pend_reason VARCHAR(16) NOT NULL,"
        " pend_late_only INTEGER NOT NULL,"
        " pend_claim VARCHAR(64) NOT NULL,"
        " PRIMARY KEY (pend_month, pend_insured, pend_treatment))"}},
  };
}

namespace {

// claim_batch.direction
constexpr int64_t kDeclared = 1;  // a city's own declaration
constexpr int64_t kReceived = 2;  // from the level below
constexpr int64_t kFrozen = 3;    // a province's batch to national
// claim_batch.state of kDeclared / kFrozen batches
constexpr int64_t kUnsent = 0;
constexpr int64_t kSent = 1;

constexpr char kWithheld[] = "withheld";
constexpr char kUndeclared[] = "undeclared";
constexpr char kExcluded[] = "excluded";

// Rows per IN (...) list: well under SQLite's and MySQL's placeholder limits.
constexpr size_t kInListChunk = 500;

std::string MonthText(absl::CivilMonth month) { return absl::FormatCivilTime(month); }
std::string Compact(absl::CivilMonth month) {
  return absl::StrReplaceAll(MonthText(month), {{"-", ""}});
}
std::string FirstDay(absl::CivilMonth month) { return FormatDate(absl::CivilDay(month)); }

absl::Status MonthIsOver(absl::CivilMonth month, absl::Time now, absl::string_view field) {
  if (CstDay(now) < absl::CivilDay(month + 1)) {
    return absl::FailedPreconditionError(absl::StrCat(
        field, ": ", MonthText(month), " is not over; its claims are declared from ",
        FirstDay(month + 1)));
  }
  return absl::OkStatus();
}

using LineKey = std::pair<std::string, bool>;  // institution, resident
using LineMap = std::map<LineKey, ClaimLine>;
using PairKey = std::pair<std::string, std::string>;  // insured pool, treatment pool

void AddLine(LineMap& lines, const std::string& institution, bool resident, int64_t count,
             int64_t fen) {
  ClaimLine& line = lines[LineKey(institution, resident)];
  line.set_institution_code(institution);
  line.set_resident(resident);
  line.set_settlement_count(line.settlement_count() + count);
  line.set_total_fen(line.total_fen() + fen);
}

void DropEmptyLines(LineMap& lines) {
  for (auto it = lines.begin(); it != lines.end();) {
    if (it->second.settlement_count() == 0 && it->second.total_fen() == 0) {
      it = lines.erase(it);
    } else {
      ++it;
    }
  }
}

std::pair<int64_t, int64_t> Totals(const LineMap& lines) {
  int64_t count = 0;
  int64_t fen = 0;
  for (const auto& [key, line] : lines) {
    count += line.settlement_count();
    fen += line.total_fen();
  }
  return {count, fen};
}

bool IsResident(int64_t insurance_type) {
  return IsResidentScheme(static_cast<yidi::v1::InsuranceType>(insurance_type));
}

// One settlement as the claims see it.
struct ClaimRow {
  std::string id;
  std::string insured;    // raw codes, as recorded
  std::string treatment;
  std::string institution;
  bool resident = false;
  int64_t fen = 0;        // fund_total + personal_account (the clearing's total)
  std::string month;      // of settlement_date
  bool confirmed = false;
  std::string original;   // reversals: the original settlement
  int64_t state = 0;
};

constexpr char kClaimRowColumns[] =
    "s.settlement_id, s.insured_region, s.treatment_region, s.institution_code, "
    "s.insurance_type, s.fund_total_fen + s.personal_account_fen, "
    "SUBSTR(s.settlement_date, 1, 7), s.institution_confirmed_on, s.original_settlement_id, "
    "s.state";

ClaimRow ClaimRowOf(const Row& row, size_t at = 0) {
  ClaimRow r;
  r.id = row.Text(at + 0);
  r.insured = row.Text(at + 1);
  r.treatment = row.Text(at + 2);
  r.institution = row.Text(at + 3);
  r.resident = IsResident(row.Int(at + 4));
  r.fen = row.Int(at + 5);
  r.month = row.Text(at + 6);
  r.confirmed = !row.Text(at + 7).empty();
  r.original = row.Text(at + 8);
  r.state = row.Int(at + 9);
  return r;
}

std::string Placeholders(size_t n) {
  std::string text;
  for (size_t i = 0; i < n; ++i) absl::StrAppend(&text, i == 0 ? "?" : ", ?");
  return text;
}

// The settlement rows of `ids` (those that exist), by id.
absl::StatusOr<std::map<std::string, ClaimRow>> RowsById(Transaction& tx,
                                                        const std::vector<std::string>& ids) {
  std::map<std::string, ClaimRow> rows;
  for (size_t from = 0; from < ids.size(); from += kInListChunk) {
    const size_t n = std::min(kInListChunk, ids.size() - from);
    std::vector<SqlValue> params(ids.begin() + from, ids.begin() + from + n);
    ASSIGN_OR_RETURN(auto found, tx.Query(absl::StrCat("SELECT ", kClaimRowColumns,
                                                       " FROM settlement_record s WHERE "
                                                       "s.settlement_id IN (",
                                                       Placeholders(n), ")"),
                                          params));
    for (const Row& row : found) {
      ClaimRow r = ClaimRowOf(row);
      rows[r.id] = std::move(r);
    }
  }
  return rows;
}

// The fund columns of settlement rows, grouped by raw pair and scheme (as the build groups).
struct FundRow {
  std::string insured;
  std::string treatment;
  bool resident = false;
  int64_t count = 0;
  FundColumns funds;
};

constexpr char kFundSums[] =
    "SELECT insured_region, treatment_region, insurance_type, COUNT(*), SUM(pooled_fund_fen), "
    "SUM(personal_account_fen), SUM(large_expense_fen), SUM(supplementary_fen), "
    "SUM(civil_servant_fen), SUM(disabled_veteran_fen), SUM(critical_illness_fen), "
    "SUM(medical_assistance_fen), SUM(other_fund_fen), SUM(fund_total_fen)";
constexpr char kFundGroup[] = " GROUP BY insured_region, treatment_region, insurance_type";

absl::Status AppendFundRows(Transaction& tx, const std::string& sql,
                            const std::vector<SqlValue>& params, std::vector<FundRow>& out) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  for (const Row& row : rows) {
    FundRow f;
    f.insured = row.Text(0);
    f.treatment = row.Text(1);
    f.resident = IsResident(row.Int(2));
    f.count = row.Int(3);
    f.funds.set_pooled_fund_fen(row.Int(4));
    f.funds.set_personal_account_fen(row.Int(5));
    f.funds.set_large_expense_fen(row.Int(6));
    f.funds.set_supplementary_fen(row.Int(7));
    f.funds.set_civil_servant_fen(row.Int(8));
    f.funds.set_disabled_veteran_fen(row.Int(9));
    f.funds.set_critical_illness_fen(row.Int(10));
    f.funds.set_medical_assistance_fen(row.Int(11));
    f.funds.set_other_fund_fen(row.Int(12));
    f.funds.set_total_fen(row.Int(13) + row.Int(5));
    out.push_back(std::move(f));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<FundRow>> FundRowsOfIds(Transaction& tx,
                                                   const std::vector<std::string>& ids) {
  std::vector<FundRow> out;
  for (size_t from = 0; from < ids.size(); from += kInListChunk) {
    const size_t n = std::min(kInListChunk, ids.size() - from);
    std::vector<SqlValue> params(ids.begin() + from, ids.begin() + from + n);
    RETURN_IF_ERROR(AppendFundRows(
        tx,
        absl::StrCat(kFundSums, " FROM settlement_record WHERE settlement_id IN (",
                     Placeholders(n), ")", kFundGroup),
        params, out));
  }
  return out;
}

// Adds (sign +1) or takes out (−1) fund rows from the cells; returns Σ total_fen moved.
int64_t MoveCells(const ClearingNode& node, const std::vector<FundRow>& rows, int sign,
                  std::map<ClearingCellKey, ClearingCell>& cells) {
  int64_t moved = 0;
  for (const FundRow& f : rows) {
    const std::string insured = node.pooling_region_of(f.insured);
    const std::string treatment = node.pooling_region_of(f.treatment);
    ClearingCell& cell = cells[ClearingCellKey(insured, treatment, f.resident)];
    cell.set_insured_region(insured);
    cell.set_treatment_region(treatment);
    cell.set_resident(f.resident);
    cell.set_settlement_count(cell.settlement_count() + sign * f.count);
    if (sign > 0) {
      AddFunds(*cell.mutable_covered(), f.funds);
    } else {
      *cell.mutable_covered() = SubtractFunds(cell.covered(), f.funds);
    }
    moved += sign * f.funds.total_fen();
  }
  return moved;
}

absl::StatusOr<std::optional<std::pair<int64_t, ClaimBatch>>> FindBatch(Transaction& tx,
                                                                       absl::string_view id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT state, body FROM claim_batch WHERE batch_id = ?",
                                       {std::string(id)}));
  if (rows.empty()) return std::optional<std::pair<int64_t, ClaimBatch>>();
  ASSIGN_OR_RETURN(ClaimBatch batch, DecodeProtoColumn<ClaimBatch>(rows.front().Text(1), "claim batch"));
  return std::optional<std::pair<int64_t, ClaimBatch>>(
      std::make_pair(rows.front().Int(0), std::move(batch)));
}

absl::Status InsertBatch(Transaction& tx, const ClaimBatch& batch, int64_t direction,
                         absl::Time now) {
  const std::string at = FormatCstTimestamp(now);
  return tx
      .Execute("INSERT INTO claim_batch (batch_id, direction, from_region, clearing_month, "
               "state, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               {batch.batch_id(), direction, batch.from_region(), batch.clearing_month(),
                kUnsent, EncodeProtoColumn(batch), at, at})
      .status();
}

void SetTotals(ClaimBatch& batch) {
  int64_t count = 0;
  int64_t fen = 0;
  for (const ClearingClaim& claim : batch.claims()) {
    count += claim.settlement_count();
    fen += claim.total_fen();
  }
  batch.set_settlement_count(count);
  batch.set_total_fen(fen);
}

// The output fields of a claim (set by the node that holds it) are not part of its figures.
ClearingClaim Figures(ClearingClaim claim) {
  claim.clear_cleared_in_month();
  claim.clear_state();
  claim.clear_reason();
  return claim;
}

}  // namespace

// --- Treatment municipal node -------------------------------------------------------------------

absl::StatusOr<Declaration> DeclareClaims(Transaction& tx, const ClaimsNode& node,
                                          absl::string_view month_text) {
  YIDI_CHECK(static_cast<bool>(node.pooling_region_of), "a claims node resolves pooling regions");
  ASSIGN_OR_RETURN(absl::CivilMonth month, ParseClearingMonth(month_text, "clearing_month"));
  const std::string batch_id = absl::StrCat("D", node.region, "-", Compact(month));
  Declaration declaration;
  ASSIGN_OR_RETURN(auto stored, FindBatch(tx, batch_id));
  if (stored.has_value()) {
    declaration.batch = std::move(stored->second);
    declaration.replayed = true;
    declaration.sent = stored->first == kSent;
    return declaration;
  }
  RETURN_IF_ERROR(MonthIsOver(month, node.now, "clearing_month"));
  const std::string m = MonthText(month);
  // Only what this city treated for another pooling region is claimed.
  auto claimable = [&](const std::string& insured, const std::string& treatment) {
    return node.pooling_region_of(treatment) == node.region &&
           node.pooling_region_of(insured) != node.region;
  };
  const std::string confirmed = node.include_unconfirmed ? "" : " AND institution_confirmed_on <> ''";

  std::map<std::string, ClearingClaim> claims;  // insured pool → claim
  std::map<std::string, LineMap> lines;
  auto claim_of = [&](const std::string& insured_pool) -> ClearingClaim& {
    ClearingClaim& claim = claims[insured_pool];
    if (claim.claim_id().empty()) {
      claim.set_claim_id(absl::StrCat(node.region, "-", insured_pool, "-", Compact(month)));
      claim.set_clearing_month(m);
      claim.set_treatment_region(node.region);
      claim.set_insured_region(insured_pool);
    }
    return claim;
  };

  // The month's claimable settlements and reversals (confirmed ones only, unless configured).
  ASSIGN_OR_RETURN(
      auto grouped,
      tx.Query(absl::StrCat("SELECT insured_region, treatment_region, institution_code, "
                            "insurance_type, COUNT(*), SUM(fund_total_fen + personal_account_fen) "
                            "FROM settlement_record WHERE state IN (2, 5) AND settlement_date >= "
                            "? AND settlement_date < ?",
                            confirmed,
                            " GROUP BY insured_region, treatment_region, institution_code, "
                            "insurance_type"),
               {FirstDay(month), FirstDay(month + 1)}));
  for (const Row& row : grouped) {
    if (!claimable(row.Text(0), row.Text(1))) continue;
    const std::string insured = node.pooling_region_of(row.Text(0));
    claim_of(insured);
    AddLine(lines[insured], row.Text(2), IsResident(row.Int(3)), row.Int(4), row.Int(5));
  }

  // Pending from earlier declarations (≤ 2 months back): released when confirmed since.
  std::set<std::string> still_pending;
  std::vector<ClaimRow> releasable;
  {
    ASSIGN_OR_RETURN(auto rows,
                     tx.Query(absl::StrCat("SELECT ", kClaimRowColumns, ", p.cost_month FROM "
                                           "clearing_pending p JOIN settlement_record s ON "
                                           "s.settlement_id = p.settlement_id WHERE "
                                           "p.released_in = '' AND p.pended_in < ? ORDER BY "
                                           "s.settlement_id"),
                              {m}));
    std::vector<ClaimRow> candidates;
    for (const Row& row : rows) {
      ClaimRow r = ClaimRowOf(row);
      const bool in_time = row.Text(10) >= MonthText(month - kClearingMonthsLateMax);
      const bool alive = r.state == 2 || r.state == 5;
      if (in_time && alive && (r.confirmed || node.include_unconfirmed)) {
        candidates.push_back(std::move(r));
      } else {
        still_pending.insert(r.id);
      }
    }
    // A reversal waits for its original.
    for (ClaimRow& r : candidates) {
      if (!r.original.empty() && still_pending.count(r.original) > 0) {
        still_pending.insert(r.id);
      } else {
        releasable.push_back(std::move(r));
      }
    }
  }

  // Withheld: the month's unconfirmed ones, and reversals whose original is withheld.
  std::vector<ClaimRow> withheld;
  if (!node.include_unconfirmed) {
    ASSIGN_OR_RETURN(auto rows,
                     tx.Query(absl::StrCat("SELECT ", kClaimRowColumns,
                                           " FROM settlement_record s WHERE s.state IN (2, 5) "
                                           "AND s.settlement_date >= ? AND s.settlement_date < ? "
                                           "AND (s.institution_confirmed_on = '' OR "
                                           "s.original_settlement_id <> '') ORDER BY "
                                           "s.settlement_id"),
                              {FirstDay(month), FirstDay(month + 1)}));
    std::set<std::string> withheld_ids;
    std::vector<ClaimRow> confirmed_reversals;
    for (const Row& row : rows) {
      ClaimRow r = ClaimRowOf(row);
      if (!claimable(r.insured, r.treatment)) continue;
      if (!r.confirmed) {
        withheld_ids.insert(r.id);
        withheld.push_back(std::move(r));
      } else {
        confirmed_reversals.push_back(std::move(r));
      }
    }
    for (ClaimRow& r : confirmed_reversals) {
      if (withheld_ids.count(r.original) == 0 && still_pending.count(r.original) == 0) continue;
      // Counted among the confirmed lines above: taken back out.
      AddLine(lines[node.pooling_region_of(r.insured)], r.institution, r.resident, -1, -r.fen);
      withheld.push_back(std::move(r));
    }
  }
  for (const ClaimRow& r : withheld) {
    claim_of(node.pooling_region_of(r.insured)).add_withheld_settlement_ids(r.id);
  }
  for (const ClaimRow& r : releasable) {
    const std::string insured = node.pooling_region_of(r.insured);
    claim_of(insured).add_released_settlement_ids(r.id);
    AddLine(lines[insured], r.institution, r.resident, 1, r.fen);
  }

  ClaimBatch& batch = declaration.batch;
  batch.set_batch_id(batch_id);
  batch.set_clearing_month(m);
  batch.set_from_region(node.region);
  batch.set_created_at(FormatCstTimestamp(node.now));
  auto& declared = *batch.add_declarations();
  declared.set_region(node.region);
  declared.set_clearing_month(m);
  for (auto& [insured, claim] : claims) {
    LineMap& detail = lines[insured];
    DropEmptyLines(detail);
    const auto [count, fen] = Totals(detail);
    claim.set_settlement_count(count);
    claim.set_total_fen(fen);
    for (const auto& [key, line] : detail) *claim.add_lines() = line;
    *batch.add_claims() = claim;
  }
  SetTotals(batch);
  if (batch.claims_size() > kClaimBatchClaimsMax) {
    return absl::ResourceExhaustedError(
        absl::StrCat("clearing_month: ", batch.claims_size(), " claims exceed kClaimBatchClaimsMax"));
  }

  RETURN_IF_ERROR(InsertBatch(tx, batch, kDeclared, node.now));
  const std::string at = FormatCstTimestamp(node.now);
  for (const ClaimRow& r : withheld) {
    const std::string claim_id = claims[node.pooling_region_of(r.insured)].claim_id();
    RETURN_IF_ERROR(tx.Execute("INSERT INTO clearing_pending (settlement_id, insured_region, "
                               "treatment_region, cost_month, reason, pended_in, released_in, "
                               "claim_id, created_at) VALUES (?, ?, ?, ?, ?, ?, '', ?, ?)",
                               {r.id, r.insured, r.treatment, r.month, std::string(kWithheld), m,
                                claim_id, at})
                        .status());
  }
  for (const ClaimRow& r : releasable) {
    RETURN_IF_ERROR(tx.Execute("UPDATE clearing_pending SET released_in = ? WHERE "
                               "settlement_id = ?",
                               {m, r.id})
                        .status());
  }
  return declaration;
}

absl::Status MarkClaimsSent(Transaction& tx, absl::string_view batch_id, absl::Time now) {
  return tx
      .Execute("UPDATE claim_batch SET state = ?, updated_at = ? WHERE batch_id = ?",
               {kSent, FormatCstTimestamp(now), std::string(batch_id)})
      .status();
}

// --- Province and national: receiving -----------------------------------------------------------

namespace {

absl::Status ValidateBatch(const ClearingNode& node, const ClaimBatch& batch) {
  if (batch.batch_id().empty() || batch.batch_id().size() > 64) {
    return absl::InvalidArgumentError("batch.batch_id: required, at most 64 characters");
  }
  ASSIGN_OR_RETURN(absl::CivilMonth month,
                   ParseClearingMonth(batch.clearing_month(), "batch.clearing_month"));
  if (!IsRegionCode(batch.from_region())) {
    return absl::InvalidArgumentError("batch.from_region: 6 digits");
  }
  // A province's cities (Chongqing's one city has the province's code); national's provinces.
  const bool from_province = batch.from_region().substr(2) == "0000";
  if (node.national() ? (!from_province || batch.from_region() == node.region)
                      : !RegionWithin(batch.from_region(), node.region)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch.from_region: ", batch.from_region(), " does not submit claims to region ",
        node.region, node.national() ? " (provinces do)" : " (its cities do)"));
  }
  if (batch.claims_size() > kClaimBatchClaimsMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch.claims: at most ", kClaimBatchClaimsMax));
  }
  int64_t count = 0;
  int64_t fen = 0;
  std::set<std::string> ids;
  for (int i = 0; i < batch.claims_size(); ++i) {
    const ClearingClaim& claim = batch.claims(i);
    const std::string field = absl::StrCat("batch.claims[", i, "]");
    if (claim.claim_id().empty() || claim.claim_id().size() > 64) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".claim_id: required, at most 64 characters"));
    }
    if (!ids.insert(claim.claim_id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".claim_id: ", claim.claim_id(), " twice in the batch"));
    }
    ASSIGN_OR_RETURN(absl::CivilMonth cost,
                     ParseClearingMonth(claim.clearing_month(), field + ".clearing_month"));
    if (cost > month || cost < month - kClearingMonthsLateMax) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".clearing_month: ", claim.clearing_month(), " is not the batch's month or up "
          "to 2 months before it (第47条)"));
    }
    if (!IsRegionCode(claim.treatment_region()) ||
        !RegionWithin(claim.treatment_region(), batch.from_region())) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".treatment_region: 6 digits within ", batch.from_region()));
    }
    if (!IsRegionCode(claim.insured_region()) ||
        node.pooling_region_of(claim.insured_region()) ==
            node.pooling_region_of(claim.treatment_region())) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".insured_region: 6 digits, another pooling region"));
    }
    if (node.national() &&
        ProvinceOf(claim.insured_region()) == ProvinceOf(claim.treatment_region())) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".insured_region: ", claim.insured_region(),
          " is in the treatment province: cleared by the province, not national"));
    }
    if (claim.settlement_count() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".settlement_count: not negative"));
    }
    if (claim.lines_size() > kClaimLinesMax) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".lines: at most ", kClaimLinesMax));
    }
    for (int j = 0; j < claim.lines_size(); ++j) {
      const ClaimLine& line = claim.lines(j);
      if (line.institution_code().empty() || line.institution_code().size() > 32) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ".lines[", j, "].institution_code: required, at most 32 characters"));
      }
      if (line.settlement_count() < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".lines[", j, "].settlement_count: not negative"));
      }
    }
    for (const auto* list : {&claim.withheld_settlement_ids(), &claim.released_settlement_ids()}) {
      if (list->size() > kClaimIdsMax) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".withheld/released_settlement_ids: at most ", kClaimIdsMax));
      }
      for (const std::string& id : *list) {
        if (id.empty() || id.size() > 64) {
          return absl::InvalidArgumentError(absl::StrCat(
              field, ".withheld/released_settlement_ids: each 1 to 64 characters"));
        }
      }
    }
    count += claim.settlement_count();
    fen += claim.total_fen();
  }
  for (int i = 0; i < batch.declarations_size(); ++i) {
    const auto& declared = batch.declarations(i);
    const std::string field = absl::StrCat("batch.declarations[", i, "]");
    if (!IsRegionCode(declared.region()) ||
        !RegionWithin(declared.region(), batch.from_region())) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".region: 6 digits within ", batch.from_region()));
    }
    RETURN_IF_ERROR(
        ParseClearingMonth(declared.clearing_month(), field + ".clearing_month").status());
  }
  // Transport integrity: the batch's totals are its claims' (a claim's own lines are checked
  // at the build, where a mismatch is reported rather than refused: Liaoning 第44条).
  if (count != batch.settlement_count() || fen != batch.total_fen()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "batch.total_fen: the batch says %d settlements, %d fen; its claims add up to %d, %d",
        batch.settlement_count(), batch.total_fen(), count, fen));
  }
  return absl::OkStatus();
}

// The first month from `month` on that this node has not built (claims it clears) or not
// frozen (claims it forwards).
absl::StatusOr<absl::CivilMonth> OpenMonth(Transaction& tx, absl::CivilMonth month,
                                           bool forward) {
  for (;; ++month) {
    ASSIGN_OR_RETURN(
        auto rows,
        forward ? tx.Query("SELECT batch_id FROM claim_batch WHERE direction = ? AND "
                           "clearing_month = ?",
                           {kFrozen, MonthText(month)})
                : tx.Query("SELECT clearing_month FROM clearing_run WHERE clearing_month >= ?",
                           {MonthText(month)}));
    if (rows.empty()) return month;
    if (!forward) {
      // Built months are never rebuilt, and a later built month closed the earlier ones.
      std::string latest;
      for (const Row& row : rows) latest = std::max(latest, row.Text(0));
      ASSIGN_OR_RETURN(month, ParseClearingMonth(latest, "clearing_month"));
    }
  }
}

}  // namespace

absl::StatusOr<yidi::v1::SubmitClaimsResponse> ReceiveClaims(Transaction& tx,
                                                             const ClearingNode& node,
                                                             const ClaimBatch& batch) {
  // A municipal node has no issuer policy (ClearingNodeOf), also Chongqing's "500000".
  if (node.region.size() != 6 || node.region.substr(2) != "0000" || !node.pooling_region_of ||
      node.issuer.policy == nullptr) {
    return absl::FailedPreconditionError(
        "SubmitClaims: claims are submitted to a province or to national (RULES.md 5.1)");
  }
  RETURN_IF_ERROR(ValidateBatch(node, batch));
  yidi::v1::SubmitClaimsResponse response;
  response.set_batch_id(batch.batch_id());
  ASSIGN_OR_RETURN(auto stored, FindBatch(tx, batch.batch_id()));
  if (stored.has_value()) {
    if (stored->second.SerializeAsString() != batch.SerializeAsString()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "batch.batch_id: ", batch.batch_id(), " was submitted with other figures"));
    }
    response.set_replayed(true);
    for (const ClearingClaim& claim : batch.claims()) {
      ClearingClaim accepted = claim;
      ASSIGN_OR_RETURN(auto here, tx.Query("SELECT clearing_month FROM clearing_claim WHERE "
                                           "claim_id = ? UNION ALL SELECT clearing_month FROM "
                                           "claim_forward WHERE claim_id = ?",
                                           {claim.claim_id(), claim.claim_id()}));
      if (!here.empty()) accepted.set_cleared_in_month(here.front().Text(0));
      *response.add_accepted() = std::move(accepted);
    }
    return response;
  }
  const absl::CivilMonth month = *ParseClearingMonth(batch.clearing_month(), "");
  ASSIGN_OR_RETURN(absl::CivilMonth here_month, OpenMonth(tx, month, /*forward=*/false));
  absl::CivilMonth forward_month = here_month;
  if (!node.national()) {
    ASSIGN_OR_RETURN(forward_month, OpenMonth(tx, month, /*forward=*/true));
  }
  const std::string at = FormatCstTimestamp(node.now);
  for (int i = 0; i < batch.claims_size(); ++i) {
    const ClearingClaim& claim = Figures(batch.claims(i));
    const bool forwarded = !node.national() && ProvinceOf(claim.insured_region()) !=
                                                   ProvinceOf(claim.treatment_region());
    const absl::CivilMonth assigned = forwarded ? forward_month : here_month;
    const absl::CivilMonth cost = *ParseClearingMonth(claim.clearing_month(), "");
    if (assigned > cost + kClearingMonthsLateMax) {
      return absl::FailedPreconditionError(absl::StrCat(
          "batch.claims[", i, "].clearing_month: the costs of ", claim.clearing_month(),
          " would be cleared in ", MonthText(assigned),
          ", more than 2 months late (000_65644e9492a1c962.txt 第47条): handle manually"));
    }
    const char* table = forwarded ? "claim_forward" : "clearing_claim";
    ASSIGN_OR_RETURN(auto existing, tx.Query(absl::StrCat("SELECT body, clearing_month FROM ",
                                                          table, " WHERE claim_id = ?"),
                                             {claim.claim_id()}));
    ClearingClaim accepted = claim;
    if (!existing.empty()) {
      ASSIGN_OR_RETURN(ClearingClaim before,
                       DecodeProtoColumn<ClearingClaim>(existing.front().Text(0), "claim"));
      if (Figures(before).SerializeAsString() != claim.SerializeAsString()) {
        return absl::AlreadyExistsError(absl::StrCat("batch.claims[", i, "].claim_id: ",
                                                     claim.claim_id(),
                                                     " was submitted with other figures"));
      }
      accepted.set_cleared_in_month(existing.front().Text(1));
    } else if (forwarded) {
      accepted.set_cleared_in_month(MonthText(assigned));
      RETURN_IF_ERROR(tx.Execute("INSERT INTO claim_forward (claim_id, cost_month, "
                                 "clearing_month, batch_id, out_batch, body, created_at) VALUES "
                                 "(?, ?, ?, ?, '', ?, ?)",
                                 {claim.claim_id(), claim.clearing_month(), MonthText(assigned),
                                  batch.batch_id(), EncodeProtoColumn(claim), at})
                          .status());
    } else {
      accepted.set_cleared_in_month(MonthText(assigned));
      RETURN_IF_ERROR(tx.Execute("INSERT INTO clearing_claim (claim_id, clearing_month, body, "
                                 "created_at) VALUES (?, ?, ?, ?)",
                                 {claim.claim_id(), MonthText(assigned), EncodeProtoColumn(claim), at})
                          .status());
    }
    accepted.set_state(forwarded ? yidi::v1::CLAIM_STATE_HELD
                                 : yidi::v1::CLAIM_STATE_AWAITING_BUILD);
    *response.add_accepted() = std::move(accepted);
  }
  for (const auto& declared : batch.declarations()) {
    ASSIGN_OR_RETURN(auto existing, tx.Query("SELECT batch_id FROM clearing_declarant WHERE "
                                             "region = ? AND cost_month = ?",
                                             {declared.region(), declared.clearing_month()}));
    if (!existing.empty()) continue;
    RETURN_IF_ERROR(tx.Execute("INSERT INTO clearing_declarant (region, cost_month, "
                               "clearing_month, forward_month, batch_id) VALUES (?, ?, ?, ?, ?)",
                               {declared.region(), declared.clearing_month(),
                                MonthText(here_month),
                                node.national() ? std::string() : MonthText(forward_month),
                                batch.batch_id()})
                        .status());
  }
  RETURN_IF_ERROR(InsertBatch(tx, batch, kReceived, node.now));
  return response;
}

absl::StatusOr<Freeze> FreezeClaims(Transaction& tx, const ClearingNode& node,
                                    absl::string_view month_text) {
  if (node.national() || node.region.size() != 6 || node.region.substr(2) != "0000" ||
      node.issuer.policy == nullptr) {
    return absl::FailedPreconditionError(
        "ForwardClaims: a province freezes its cities' claims and submits them to national");
  }
  ASSIGN_OR_RETURN(absl::CivilMonth month, ParseClearingMonth(month_text, "clearing_month"));
  const std::string batch_id = absl::StrCat("F", node.region, "-", Compact(month));
  Freeze freeze;
  ASSIGN_OR_RETURN(auto stored, FindBatch(tx, batch_id));
  if (stored.has_value()) {
    freeze.batch = std::move(stored->second);
    freeze.replayed = true;
    freeze.sent = stored->first == kSent;
    return freeze;
  }
  RETURN_IF_ERROR(MonthIsOver(month, node.now, "clearing_month"));
  ClaimBatch& batch = freeze.batch;
  batch.set_batch_id(batch_id);
  batch.set_clearing_month(MonthText(month));
  batch.set_from_region(node.region);
  batch.set_created_at(FormatCstTimestamp(node.now));
  ASSIGN_OR_RETURN(auto claims, tx.Query("SELECT body FROM claim_forward WHERE clearing_month = ? "
                                         "ORDER BY claim_id",
                                         {MonthText(month)}));
  for (const Row& row : claims) {
    ASSIGN_OR_RETURN(*batch.add_claims(), DecodeProtoColumn<ClearingClaim>(row.Text(0), "claim"));
  }
  ASSIGN_OR_RETURN(auto declared, tx.Query("SELECT region, cost_month FROM clearing_declarant "
                                           "WHERE forward_month = ? ORDER BY region, cost_month",
                                           {MonthText(month)}));
  for (const Row& row : declared) {
    auto& d = *batch.add_declarations();
    d.set_region(row.Text(0));
    d.set_clearing_month(row.Text(1));
  }
  SetTotals(batch);
  RETURN_IF_ERROR(InsertBatch(tx, batch, kFrozen, node.now));
  RETURN_IF_ERROR(tx.Execute("UPDATE claim_forward SET out_batch = ? WHERE clearing_month = ?",
                             {batch_id, MonthText(month)})
                      .status());
  return freeze;
}

absl::StatusOr<yidi::v1::ListClaimsResponse> ListClaims(Transaction& tx,
                                                        absl::string_view month_text,
                                                        bool municipal) {
  ASSIGN_OR_RETURN(absl::CivilMonth month, ParseClearingMonth(month_text, "clearing_month"));
  const std::string m = MonthText(month);
  yidi::v1::ListClaimsResponse response;
  if (municipal) {
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT state, body FROM claim_batch WHERE direction = ? "
                                         "AND clearing_month = ?",
                                         {kDeclared, m}));
    for (const Row& row : rows) {
      ASSIGN_OR_RETURN(ClaimBatch batch, DecodeProtoColumn<ClaimBatch>(row.Text(1), "claim batch"));
      for (ClearingClaim claim : batch.claims()) {
        claim.set_state(row.Int(0) == kSent ? yidi::v1::CLAIM_STATE_SENT
                                            : yidi::v1::CLAIM_STATE_DECLARED);
        *response.add_claims() = std::move(claim);
      }
    }
  } else {
    ASSIGN_OR_RETURN(auto forward, tx.Query("SELECT out_batch, body FROM claim_forward WHERE "
                                            "clearing_month = ? ORDER BY claim_id",
                                            {m}));
    for (const Row& row : forward) {
      ASSIGN_OR_RETURN(ClearingClaim claim, DecodeProtoColumn<ClearingClaim>(row.Text(1), "claim"));
      claim.set_cleared_in_month(m);
      claim.set_state(row.Text(0).empty() ? yidi::v1::CLAIM_STATE_HELD
                                          : yidi::v1::CLAIM_STATE_FORWARDED);
      *response.add_claims() = std::move(claim);
    }
    ASSIGN_OR_RETURN(auto run, tx.Query("SELECT body FROM clearing_run WHERE clearing_month = ?",
                                        {m}));
    std::optional<Clearing> built;
    if (!run.empty()) {
      ASSIGN_OR_RETURN(built, DecodeProtoColumn<Clearing>(run.front().Text(0), "clearing"));
    }
    ASSIGN_OR_RETURN(auto held, tx.Query("SELECT body FROM clearing_claim WHERE clearing_month = "
                                         "? ORDER BY claim_id",
                                         {m}));
    for (const Row& row : held) {
      ASSIGN_OR_RETURN(ClearingClaim claim, DecodeProtoColumn<ClearingClaim>(row.Text(0), "claim"));
      claim.set_cleared_in_month(m);
      claim.set_state(built.has_value() ? yidi::v1::CLAIM_STATE_CLEARED
                                        : yidi::v1::CLAIM_STATE_AWAITING_BUILD);
      if (built.has_value()) {
        for (const auto& excluded : built->excluded_claims()) {
          if (excluded.claim().claim_id() != claim.claim_id()) continue;
          claim.set_state(yidi::v1::CLAIM_STATE_EXCLUDED);
          claim.set_reason(excluded.reason());
        }
      }
      *response.add_claims() = std::move(claim);
    }
  }
  ASSIGN_OR_RETURN(auto pending,
                   tx.Query("SELECT COUNT(*) FROM clearing_pending WHERE released_in = ''", {}));
  response.set_pending_count(pending.empty() ? 0 : pending.front().Int(0));
  return response;
}

// --- The build ----------------------------------------------------------------------------------

namespace {

struct PairRows {
  LineMap month_lines;  // settlements of the clearing month
  LineMap all_lines;    // with the late ones of the window
  std::set<std::pair<std::string, std::string>> raws;  // the recorded (insured, treatment) codes
  bool has_late = false;
  std::vector<FundRow> all_funds;   // per raw pair, scheme and month, from the same pass
  std::vector<FundRow> late_funds;  // the late ones only
};

// A pair held pending whole by this build (written in one pass at the end).
struct PairPend {
  std::string reason;
  std::string claim_id;
  bool late_only = false;
};

bool ClearedHere(const ClearingNode& node, const std::string& insured,
                 const std::string& treatment) {
  const bool cross = ProvinceOf(insured) != ProvinceOf(treatment);
  if (node.national()) return cross;
  return !cross && ProvinceOf(insured) == ProvinceOf(node.region);
}

// Holds a pair pending (its late rows only when `late_only`): takes its rows out of the cells
// now, from the build's claims pass; the rows are written to clearing_pending at the end.
// Returns Σ total_fen taken out (negative).
int64_t PendPair(const ClearingNode& node, const PairRows& pair, absl::string_view reason,
                 absl::string_view claim_id, bool late_only,
                 std::map<ClearingCellKey, ClearingCell>& cells,
                 std::map<std::pair<std::string, std::string>, PairPend>& pends) {
  for (const auto& raw : pair.raws) {
    PairPend& pend = pends[raw];
    pend.reason = std::string(reason);
    pend.claim_id = std::string(claim_id);
    pend.late_only = late_only;
  }
  return MoveCells(node, late_only ? pair.late_funds : pair.all_funds, -1, cells);
}

std::string LineText(const ClaimLine& line) {
  return absl::StrFormat("%s %s: %d settlements, %d fen", line.institution_code(),
                         line.resident() ? "居民" : "职工", line.settlement_count(),
                         line.total_fen());
}

// The first line where the claim and the records differ, or "".
std::string FirstDifference(const LineMap& claimed, const LineMap& recorded) {
  std::set<LineKey> keys;
  for (const auto& [key, line] : claimed) keys.insert(key);
  for (const auto& [key, line] : recorded) keys.insert(key);
  for (const LineKey& key : keys) {
    auto c = claimed.find(key);
    auto r = recorded.find(key);
    ClaimLine none;
    none.set_institution_code(key.first);
    none.set_resident(key.second);
    const ClaimLine& cl = c == claimed.end() ? none : c->second;
    const ClaimLine& rl = r == recorded.end() ? none : r->second;
    if (cl.settlement_count() != rl.settlement_count() || cl.total_fen() != rl.total_fen()) {
      return absl::StrCat("the claim has ", LineText(cl), "; recorded here: ",
                          rl.settlement_count(), " settlements, ", rl.total_fen(), " fen");
    }
  }
  return "";
}

}  // namespace

absl::StatusOr<ClaimsApplied> ApplyClaims(Transaction& tx, const ClearingNode& node,
                                          absl::CivilMonth month, const ClaimWindow& window,
                                          std::map<ClearingCellKey, ClearingCell>& cells,
                                          Clearing& clearing) {
  ClaimsApplied applied;
  const std::string m = MonthText(month);
  {
    ASSIGN_OR_RETURN(auto expired, tx.Query("SELECT COUNT(*) FROM clearing_pending WHERE "
                                            "released_in = '' AND cost_month = ?",
                                            {MonthText(month - kClearingMonthsLateMax - 1)}));
    applied.too_late_count = expired.empty() ? 0 : expired.front().Int(0);
  }
  ASSIGN_OR_RETURN(auto claim_rows, tx.Query("SELECT body FROM clearing_claim WHERE "
                                             "clearing_month = ? ORDER BY claim_id",
                                             {m}));
  ASSIGN_OR_RETURN(auto declarant_rows, tx.Query("SELECT DISTINCT region FROM "
                                                 "clearing_declarant WHERE cost_month <= ?",
                                                 {m}));
  if (claim_rows.empty() && declarant_rows.empty()) return applied;
  std::set<std::string> declarants;
  for (const Row& row : declarant_rows) declarants.insert(node.pooling_region_of(row.Text(0)));

  // The window's lines per pair: one more pass over the month, only when there are claims,
  // grouping only the treatment regions that claim or declared (institutions × pairs of the
  // whole month would be a far larger GROUP BY).
  std::set<std::string> concerned = declarants;
  std::vector<ClearingClaim> claims;
  for (const Row& row : claim_rows) {
    ASSIGN_OR_RETURN(ClearingClaim claim, DecodeProtoColumn<ClearingClaim>(row.Text(0), "claim"));
    concerned.insert(node.pooling_region_of(claim.treatment_region()));
    claims.push_back(std::move(claim));
  }
  std::vector<SqlValue> codes;
  for (const std::string& pool : concerned) {
    auto it = window.raw_treatments.find(pool);
    if (it == window.raw_treatments.end()) continue;
    codes.insert(codes.end(), it->second.begin(), it->second.end());
  }
  std::map<PairKey, PairRows> pairs;
  if (!codes.empty()) {
    std::vector<SqlValue> params = window.params;
    params.insert(params.end(), codes.begin(), codes.end());
    ASSIGN_OR_RETURN(
        auto rows,
        tx.Query(absl::StrCat("SELECT insured_region, treatment_region, institution_code, "
                              "insurance_type, SUBSTR(settlement_date, 1, 7), COUNT(*), "
                              "SUM(fund_total_fen + personal_account_fen), SUM(pooled_fund_fen), "
                              "SUM(personal_account_fen), SUM(large_expense_fen), "
                              "SUM(supplementary_fen), SUM(civil_servant_fen), "
                              "SUM(disabled_veteran_fen), SUM(critical_illness_fen), "
                              "SUM(medical_assistance_fen), SUM(other_fund_fen)",
                              window.where, " AND treatment_region IN (",
                              Placeholders(codes.size()),
                              ") GROUP BY insured_region, treatment_region, institution_code, "
                              "insurance_type, SUBSTR(settlement_date, 1, 7)"),
                 params));
    for (const Row& row : rows) {
      if (!ClearedHere(node, row.Text(0), row.Text(1))) continue;
      PairRows& pair = pairs[PairKey(node.pooling_region_of(row.Text(0)),
                                     node.pooling_region_of(row.Text(1)))];
      pair.raws.emplace(row.Text(0), row.Text(1));
      const bool resident = IsResident(row.Int(3));
      AddLine(pair.all_lines, row.Text(2), resident, row.Int(5), row.Int(6));
      FundRow f;
      f.insured = row.Text(0);
      f.treatment = row.Text(1);
      f.resident = resident;
      f.count = row.Int(5);
      f.funds.set_pooled_fund_fen(row.Int(7));
      f.funds.set_personal_account_fen(row.Int(8));
      f.funds.set_large_expense_fen(row.Int(9));
      f.funds.set_supplementary_fen(row.Int(10));
      f.funds.set_civil_servant_fen(row.Int(11));
      f.funds.set_disabled_veteran_fen(row.Int(12));
      f.funds.set_critical_illness_fen(row.Int(13));
      f.funds.set_medical_assistance_fen(row.Int(14));
      f.funds.set_other_fund_fen(row.Int(15));
      f.funds.set_total_fen(row.Int(6));
      pair.all_funds.push_back(f);
      if (row.Text(4) == m) {
        AddLine(pair.month_lines, row.Text(2), resident, row.Int(5), row.Int(6));
      } else {
        pair.has_late = true;
        pair.late_funds.push_back(std::move(f));
      }
    }
  }

  std::set<std::pair<PairKey, std::string>> handled;  // (pair, cost month)
  std::map<std::pair<std::string, std::string>, PairPend> pends;  // raw pair → how
  for (const ClearingClaim& claim : claims) {
    const PairKey key(node.pooling_region_of(claim.insured_region()),
                      node.pooling_region_of(claim.treatment_region()));
    const bool driven = declarants.count(key.second) > 0;
    const bool itemised = claim.lines_size() > 0 || claim.withheld_settlement_ids_size() > 0 ||
                          claim.released_settlement_ids_size() > 0;
    absl::StatusOr<absl::CivilMonth> cost = ParseClearingMonth(claim.clearing_month(), "");
    const bool late = cost.ok() && *cost < month;
    PairRows& pair = pairs[key];
    std::string reason;

    LineMap claimed;
    for (const ClaimLine& line : claim.lines()) {
      AddLine(claimed, line.institution_code(), line.resident(), line.settlement_count(),
              line.total_fen());
    }
    DropEmptyLines(claimed);
    if (itemised) {
      const auto [count, fen] = Totals(claimed);
      if (count != claim.settlement_count() || fen != claim.total_fen()) {
        reason = absl::StrFormat(
            "the detail of claim %s (%d lines: %d settlements, %d fen) does not match its "
            "totals (%d settlements, %d fen): not cleared (Liaoning 第44条)",
            claim.claim_id(), claim.lines_size(), count, fen, claim.settlement_count(),
            claim.total_fen());
      }
    }
    if (reason.empty() && (!cost.ok() || *cost > month)) {
      reason = absl::StrCat("claim ", claim.claim_id(), " is for ", claim.clearing_month(),
                            ", after the clearing month");
    }
    if (reason.empty() && handled.count({key, claim.clearing_month()}) > 0) {
      reason = absl::StrCat("another claim already covers ", key.first, " → ", key.second,
                            " for ", claim.clearing_month());
    }

    // What this node recorded for the claim: the month's rows (or, for a late claim, the
    // pair's rows of that month waiting pending), minus the withheld, plus the released.
    LineMap recorded = driven ? pair.month_lines : pair.all_lines;
    std::vector<std::string> late_ids;  // a late claim's pending rows
    std::map<std::string, ClaimRow> withheld;
    std::map<std::string, ClaimRow> released;
    if (reason.empty() && late) {
      recorded.clear();
      ASSIGN_OR_RETURN(auto rows,
                       tx.Query(absl::StrCat("SELECT ", kClaimRowColumns, " FROM clearing_pending "
                                             "p JOIN settlement_record s ON s.settlement_id = "
                                             "p.settlement_id WHERE p.released_in = '' AND "
                                             "p.cost_month = ? AND p.reason <> ?"),
                                {claim.clearing_month(), std::string(kWithheld)}));
      for (const Row& r : rows) {
        ClaimRow c = ClaimRowOf(r);
        if (node.pooling_region_of(c.insured) != key.first ||
            node.pooling_region_of(c.treatment) != key.second) {
          continue;
        }
        AddLine(recorded, c.institution, c.resident, 1, c.fen);
        late_ids.push_back(c.id);
      }
    }
    if (reason.empty() && claim.withheld_settlement_ids_size() > 0) {
      std::vector<std::string> ids(claim.withheld_settlement_ids().begin(),
                                   claim.withheld_settlement_ids().end());
      ASSIGN_OR_RETURN(auto rows, RowsById(tx, ids));
      const std::set<std::string> pending_late(late_ids.begin(), late_ids.end());
      for (const std::string& id : ids) {
        auto it = rows.find(id);
        const bool ours = it != rows.end() && (it->second.state == 2 || it->second.state == 5) &&
                          node.pooling_region_of(it->second.insured) == key.first &&
                          node.pooling_region_of(it->second.treatment) == key.second &&
                          (late ? pending_late.count(id) > 0 : it->second.month == m);
        if (!ours || withheld.count(id) > 0) {
          reason = absl::StrCat("claim ", claim.claim_id(), " withholds settlement ", id,
                                ", which this node did not record for ", key.first, " → ",
                                key.second, " in ", claim.clearing_month());
          break;
        }
        AddLine(recorded, it->second.institution, it->second.resident, -1, -it->second.fen);
        withheld[id] = it->second;
      }
    }
    if (reason.empty() && claim.released_settlement_ids_size() > 0) {
      std::vector<std::string> ids(claim.released_settlement_ids().begin(),
                                   claim.released_settlement_ids().end());
      ASSIGN_OR_RETURN(auto rows, RowsById(tx, ids));
      for (const std::string& id : ids) {
        ASSIGN_OR_RETURN(auto pend, tx.Query("SELECT cost_month, reason FROM clearing_pending "
                                             "WHERE settlement_id = ? AND released_in = ''",
                                             {id}));
        auto it = rows.find(id);
        const bool ours = it != rows.end() && !pend.empty() &&
                          node.pooling_region_of(it->second.insured) == key.first &&
                          node.pooling_region_of(it->second.treatment) == key.second &&
                          released.count(id) == 0;
        if (!ours) {
          reason = absl::StrCat("claim ", claim.claim_id(), " releases settlement ", id,
                                ", which is not held pending here for ", key.first, " → ",
                                key.second);
          break;
        }
        if (pend.front().Text(0) < MonthText(month - kClearingMonthsLateMax)) {
          reason = absl::StrCat("claim ", claim.claim_id(), " releases settlement ", id, " of ",
                                pend.front().Text(0),
                                ": more than 2 months late (第47条), handle manually");
          break;
        }
        AddLine(recorded, it->second.institution, it->second.resident, 1, it->second.fen);
        released[id] = it->second;
      }
    }
    DropEmptyLines(recorded);
    const auto [recorded_count, recorded_fen] = Totals(recorded);
    if (reason.empty()) {
      if (itemised) {
        const std::string difference = FirstDifference(claimed, recorded);
        if (!difference.empty()) {
          reason = absl::StrCat("claim ", claim.claim_id(), " (", key.first, " → ", key.second,
                                ", ", claim.clearing_month(), ") does not match the detail "
                                "recorded here: ", difference,
                                ": not cleared (Liaoning 第44条)");
        }
      } else if (recorded_count != claim.settlement_count() ||
                 recorded_fen != claim.total_fen()) {
        reason = absl::StrFormat(
            "claim %s says %d settlements, %d fen; the detail recorded here has %d settlements, "
            "%d fen: not cleared this month (Liaoning 第44条)",
            claim.claim_id(), claim.settlement_count(), claim.total_fen(), recorded_count,
            recorded_fen);
      }
    }

    if (!reason.empty()) {
      auto& excluded = *clearing.add_excluded_claims();
      *excluded.mutable_claim() = claim;
      excluded.set_detail_count(recorded_count);
      excluded.set_detail_fen(recorded_fen);
      excluded.set_reason(reason);
      if (!late && cost.ok() && *cost == month && handled.count({key, m}) == 0) {
        // The pair's rows wait for a corrected (late) claim.
        applied.covered_delta_fen +=
            PendPair(node, pair, kExcluded, claim.claim_id(), false, cells, pends);
        applied.not_cleared.insert(key);
        handled.insert({key, m});
      }
      continue;
    }
    handled.insert({key, claim.clearing_month()});
    const std::string at = FormatCstTimestamp(node.now);
    // Withheld: out of this month, pending.
    if (!withheld.empty()) {
      std::vector<std::string> ids;
      for (const auto& [id, r] : withheld) ids.push_back(id);
      if (!late) {
        ASSIGN_OR_RETURN(auto rows, FundRowsOfIds(tx, ids));
        applied.covered_delta_fen += MoveCells(node, rows, -1, cells);
      }
      for (const auto& [id, r] : withheld) {
        RETURN_IF_ERROR(
            (late ? tx.Execute("UPDATE clearing_pending SET reason = ?, claim_id = ? WHERE "
                               "settlement_id = ?",
                               {std::string(kWithheld), claim.claim_id(), id})
                  : tx.Execute("INSERT INTO clearing_pending (settlement_id, insured_region, "
                               "treatment_region, cost_month, reason, pended_in, released_in, "
                               "claim_id, created_at) VALUES (?, ?, ?, ?, ?, ?, '', ?, ?)",
                               {id, r.insured, r.treatment, r.month, std::string(kWithheld), m,
                                claim.claim_id(), at}))
                .status());
      }
    }
    // Released (and a late claim's rows): into this month.
    std::vector<std::string> into;
    for (const auto& [id, r] : released) into.push_back(id);
    for (const std::string& id : late_ids) {
      if (withheld.count(id) == 0) into.push_back(id);
    }
    if (!into.empty()) {
      ASSIGN_OR_RETURN(auto rows, FundRowsOfIds(tx, into));
      applied.covered_delta_fen += MoveCells(node, rows, +1, cells);
      for (const std::string& id : into) {
        RETURN_IF_ERROR(tx.Execute("UPDATE clearing_pending SET released_in = ? WHERE "
                                   "settlement_id = ?",
                                   {m, id})
                            .status());
      }
    }
    // A declaring city's late rows in the window need their own (late) claim.
    if (!late && driven && pair.has_late) {
      applied.covered_delta_fen += PendPair(node, pair, kUndeclared, "", true, cells, pends);
    }
  }

  // A declaring city's pairs without a claim for the month wait for their late claim.
  for (const auto& [key, pair] : pairs) {
    if (declarants.count(key.second) == 0 || handled.count({key, m}) > 0 || pair.raws.empty()) {
      continue;
    }
    applied.covered_delta_fen += PendPair(node, pair, kUndeclared, "", false, cells, pends);
    applied.not_cleared.insert(key);
  }
  // The pairs held whole: their rows into clearing_pending in one pass over the month.
  if (!pends.empty()) {
    for (const auto& [raw, pend] : pends) {
      RETURN_IF_ERROR(tx.Execute("INSERT INTO clearing_pend_pair (pend_month, pend_insured, "
                                 "pend_treatment, pend_reason, pend_late_only, pend_claim) "
                                 "VALUES (?, ?, ?, ?, ?, ?)",
                                 {m, raw.first, raw.second, pend.reason,
                                  int64_t{pend.late_only ? 1 : 0}, pend.claim_id})
                          .status());
    }
    constexpr absl::string_view kFrom = " FROM settlement_record WHERE ";
    YIDI_CHECK(absl::StartsWith(window.where, kFrom), "the window is a settlement_record scan");
    std::vector<SqlValue> params = {FormatCstTimestamp(node.now), m, FirstDay(month)};
    params.insert(params.end(), window.params.begin(), window.params.end());
    RETURN_IF_ERROR(
        tx.Execute(absl::StrCat("INSERT INTO clearing_pending (settlement_id, insured_region, "
                                "treatment_region, cost_month, reason, pended_in, released_in, "
                                "claim_id, created_at) SELECT settlement_id, insured_region, "
                                "treatment_region, SUBSTR(settlement_date, 1, 7), pend_reason, "
                                "pend_month, '', pend_claim, ? FROM settlement_record JOIN "
                                "clearing_pend_pair ON pend_insured = insured_region AND "
                                "pend_treatment = treatment_region AND pend_month = ? AND "
                                "(pend_late_only = 0 OR settlement_date < ?) WHERE ",
                                window.where.substr(kFrom.size())),
                   params)
            .status());
  }
  // Cells emptied by the above are dropped (they would show a region with nothing).
  for (auto it = cells.begin(); it != cells.end();) {
    const ClearingCell& cell = it->second;
    if (cell.settlement_count() == 0 && cell.covered().ByteSizeLong() == 0 &&
        cell.deducted().ByteSizeLong() == 0) {
      it = cells.erase(it);
    } else {
      ++it;
    }
  }
  return applied;
}

absl::Status AdjustTraceIds(Transaction& tx, absl::CivilMonth month, absl::string_view insured,
                            absl::string_view treatment, int limit,
                            std::vector<std::string>& ids, bool& truncated) {
  const std::string m = MonthText(month);
  ASSIGN_OR_RETURN(auto held, tx.Query("SELECT settlement_id FROM clearing_pending WHERE "
                                       "insured_region = ? AND treatment_region = ? AND "
                                       "pended_in <= ? AND (released_in = '' OR released_in > ?)",
                                       {std::string(insured), std::string(treatment), m, m}));
  std::set<std::string> out;
  for (const Row& row : held) out.insert(row.Text(0));
  ids.erase(std::remove_if(ids.begin(), ids.end(),
                           [&](const std::string& id) { return out.count(id) > 0; }),
            ids.end());
  ASSIGN_OR_RETURN(auto released, tx.Query("SELECT settlement_id FROM clearing_pending WHERE "
                                           "insured_region = ? AND treatment_region = ? AND "
                                           "released_in = ? ORDER BY settlement_id",
                                           {std::string(insured), std::string(treatment), m}));
  std::set<std::string> have(ids.begin(), ids.end());
  for (const Row& row : released) {
    if (have.count(row.Text(0)) > 0) continue;
    if (static_cast<int>(ids.size()) >= limit) {
      truncated = true;
      break;
    }
    ids.push_back(row.Text(0));
  }
  std::sort(ids.begin(), ids.end());
  return absl::OkStatus();
}

}  // namespace yidi
