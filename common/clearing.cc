#include "common/clearing.h"

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clearing_claims.h"
#include "common/clock.h"
#include "common/directory.h"
#include "common/proto_column.h"
#include "common/status_macros.h"
#include "yidi/v1/prepayment.pb.h"

namespace yidi {

using yidi::v1::Clearing;
using yidi::v1::ClearingCell;
using yidi::v1::ClearingClaim;
using yidi::v1::ClearingDeduction;
using yidi::v1::ClearingReply;
using yidi::v1::FundColumns;

std::vector<Migration> ClearingMigrations() {
  std::vector<Migration> migrations = {
      {320,
       "clearing_run: one monthly clearing per row, the Clearing message as base64",
       {"CREATE TABLE clearing_run ("
        " clearing_month VARCHAR(7) NOT NULL PRIMARY KEY,"
        " issuer_region VARCHAR(6) NOT NULL,"
        " state INTEGER NOT NULL,"
        " frozen_at VARCHAR(32) NOT NULL,"
        " body MEDIUMTEXT NOT NULL,"
        " updated_at VARCHAR(32) NOT NULL)"}},
      {321,
       "clearing_deduction: audit deductions (审核扣款) awaiting or applied to a clearing",
       {"CREATE TABLE clearing_deduction ("
        " deduction_id VARCHAR(64) NOT NULL PRIMARY KEY,"
        " clearing_month VARCHAR(7) NOT NULL,"
        " insured_region VARCHAR(6) NOT NULL,"
        " treatment_region VARCHAR(6) NOT NULL,"
        " total_fen BIGINT NOT NULL,"
        " applied_month VARCHAR(7) NOT NULL DEFAULT '',"
        " body MEDIUMTEXT NOT NULL,"
        " created_at VARCHAR(32) NOT NULL)",
        "CREATE INDEX clearing_deduction_by_applied ON clearing_deduction (applied_month)"}},
      {322,
       "clearing_claim: treatment regions' claims, compared with the detail at the build",
       {"CREATE TABLE clearing_claim ("
        " claim_id VARCHAR(64) NOT NULL PRIMARY KEY,"
        " clearing_month VARCHAR(7) NOT NULL,"
        " body MEDIUMTEXT NOT NULL,"
        " created_at VARCHAR(32) NOT NULL)",
        "CREATE INDEX clearing_claim_by_month ON clearing_claim (clearing_month)"}},
  };
  // Claims up the hierarchy (common/clearing_claims.h): 323–326.
  for (Migration& migration : ClearingClaimsMigrations()) migrations.push_back(std::move(migration));
  return migrations;
}

std::string ClearingNode::MatrixRegionOf(const std::string& pooling_region) const {
  return national() ? ProvinceOf(pooling_region) : pooling_region;
}

absl::StatusOr<absl::CivilMonth> ParseClearingMonth(absl::string_view text,
                                                    absl::string_view field) {
  absl::CivilMonth month;
  if (text.size() != 7 || !absl::ParseCivilTime(text, &month)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": \"", text.substr(0, 16),
                                                   "\" is not a month of the form YYYY-MM"));
  }
  return month;
}

absl::StatusOr<ClearingDates> ComputeClearingDates(const WorkingDayCalendar& calendar,
                                                   absl::CivilMonth month) {
  const absl::CivilMonth next = month + 1;
  ClearingDates dates;
  dates.built_on = absl::CivilDay(next.year(), next.month(), kClearingBuildDay);
  // "By the 25th": a 25th that is not a working day moves to the next working day.
  ASSIGN_OR_RETURN(dates.confirm_by,
                   calendar.AddWorkingDays(
                       absl::CivilDay(next.year(), next.month(), kClearingConfirmDay - 1), 1));
  ASSIGN_OR_RETURN(dates.notices_by,
                   calendar.WorkingDayOnOrBefore(LastDayOfMonth(absl::CivilDay(next))));
  return dates;
}

bool IsResidentScheme(yidi::v1::InsuranceType type) {
  return type == yidi::v1::INSURANCE_TYPE_RESIDENT ||
         type == yidi::v1::INSURANCE_TYPE_RESIDENT_CRITICAL_ILLNESS;
}

void AddFunds(FundColumns& a, const FundColumns& b) {
  a.set_pooled_fund_fen(a.pooled_fund_fen() + b.pooled_fund_fen());
  a.set_personal_account_fen(a.personal_account_fen() + b.personal_account_fen());
  a.set_large_expense_fen(a.large_expense_fen() + b.large_expense_fen());
  a.set_supplementary_fen(a.supplementary_fen() + b.supplementary_fen());
  a.set_civil_servant_fen(a.civil_servant_fen() + b.civil_servant_fen());
  a.set_disabled_veteran_fen(a.disabled_veteran_fen() + b.disabled_veteran_fen());
  a.set_critical_illness_fen(a.critical_illness_fen() + b.critical_illness_fen());
  a.set_medical_assistance_fen(a.medical_assistance_fen() + b.medical_assistance_fen());
  a.set_other_fund_fen(a.other_fund_fen() + b.other_fund_fen());
  a.set_total_fen(a.total_fen() + b.total_fen());
}

FundColumns SubtractFunds(const FundColumns& a, const FundColumns& b) {
  FundColumns negated;
  negated.set_pooled_fund_fen(-b.pooled_fund_fen());
  negated.set_personal_account_fen(-b.personal_account_fen());
  negated.set_large_expense_fen(-b.large_expense_fen());
  negated.set_supplementary_fen(-b.supplementary_fen());
  negated.set_civil_servant_fen(-b.civil_servant_fen());
  negated.set_disabled_veteran_fen(-b.disabled_veteran_fen());
  negated.set_critical_illness_fen(-b.critical_illness_fen());
  negated.set_medical_assistance_fen(-b.medical_assistance_fen());
  negated.set_other_fund_fen(-b.other_fund_fen());
  negated.set_total_fen(-b.total_fen());
  FundColumns result = a;
  AddFunds(result, negated);
  return result;
}

int64_t SumOfColumns(const FundColumns& f) {
  return f.pooled_fund_fen() + f.personal_account_fen() + f.large_expense_fen() +
         f.supplementary_fen() + f.civil_servant_fen() + f.disabled_veteran_fen() +
         f.critical_illness_fen() + f.medical_assistance_fen() + f.other_fund_fen();
}

namespace {

std::string MonthText(absl::CivilMonth month) { return absl::FormatCivilTime(month); }
std::string DayText(absl::CivilMonth month) { return FormatDate(absl::CivilDay(month)); }

// The settlements this node clears: cross-province at national, its own cities at a province.
std::string PairFilter(const ClearingNode& node) {
  if (node.national()) return "SUBSTR(insured_region, 1, 2) <> SUBSTR(treatment_region, 1, 2)";
  const std::string prefix = node.region.substr(0, 2);
  return absl::StrCat("SUBSTR(insured_region, 1, 2) = '", prefix,
                      "' AND SUBSTR(treatment_region, 1, 2) = '", prefix, "'");
}

bool NodeClearsPair(const ClearingNode& node, absl::string_view insured,
                    absl::string_view treatment) {
  const bool cross = insured.substr(0, 2) != treatment.substr(0, 2);
  if (node.national()) return cross;
  return !cross && insured.substr(0, 2) == absl::string_view(node.region).substr(0, 2);
}

// The covering window of `month` given the freeze of the latest earlier clearing.
struct Window {
  std::string late_from;     // first day of M−2
  std::string month_from;    // first day of M
  std::string month_to;      // first day of M+1 (exclusive)
  std::string frozen_at;     // this clearing's freeze (inclusive)
  std::string prev_frozen;   // the previous clearing's freeze ("" when none)
};

constexpr char kCovered[] =
    " FROM settlement_record WHERE state IN (2, 5) AND settlement_date >= ? AND "
    "settlement_date < ? AND created_at <= ? AND NOT (settlement_date < ? AND created_at <= ?) "
    "AND ";

// The same window for the build, written so that neither SQLite nor MySQL walks the date
// index: the month is most of the table (the bench: all of it), and a scan reads it in order
// where the index would fetch each row by key — 260 s instead of under 60 for 20 million rows
// (docs/PERFORMANCE.md, "Monthly clearing").
constexpr char kCoveredScan[] =
    " FROM settlement_record WHERE state IN (2, 5) AND SUBSTR(settlement_date, 1, 7) >= ? AND "
    "SUBSTR(settlement_date, 1, 7) <= ? AND created_at <= ? AND "
    "NOT (settlement_date < ? AND created_at <= ?) AND ";

std::vector<SqlValue> CoveredParams(const Window& w) {
  return {w.late_from, w.month_to, w.frozen_at, w.month_from, w.prev_frozen};
}

absl::StatusOr<std::string> PreviousFreeze(Transaction& tx, absl::CivilMonth month) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT frozen_at FROM clearing_run WHERE "
                                       "clearing_month < ? ORDER BY clearing_month DESC LIMIT 1",
                                       {MonthText(month)}));
  return rows.empty() ? std::string() : rows.front().Text(0);
}

Window WindowOf(absl::CivilMonth month, std::string frozen_at, std::string prev_frozen) {
  Window w;
  w.late_from = DayText(month - kClearingMonthsLateMax);
  w.month_from = DayText(month);
  w.month_to = DayText(month + 1);
  w.frozen_at = std::move(frozen_at);
  w.prev_frozen = std::move(prev_frozen);
  return w;
}

using CellKey = ClearingCellKey;

ClearingCell& CellOf(std::map<CellKey, ClearingCell>& cells, const std::string& insured,
                     const std::string& treatment, bool resident) {
  ClearingCell& cell = cells[CellKey(insured, treatment, resident)];
  cell.set_insured_region(insured);
  cell.set_treatment_region(treatment);
  cell.set_resident(resident);
  return cell;
}

absl::StatusOr<std::optional<Clearing>> FindClearing(Transaction& tx, absl::CivilMonth month) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT body FROM clearing_run WHERE clearing_month = ?",
                                       {MonthText(month)}));
  if (rows.empty()) return std::optional<Clearing>();
  ASSIGN_OR_RETURN(Clearing clearing,
                   DecodeProtoColumn<Clearing>(rows.front().Text(0), "clearing " + MonthText(month)));
  return std::optional<Clearing>(std::move(clearing));
}

absl::Status SaveClearing(Transaction& tx, const Clearing& clearing, absl::Time now,
                          bool insert) {
  if (insert) {
    return tx
        .Execute("INSERT INTO clearing_run (clearing_month, issuer_region, state, frozen_at, "
                 "body, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                 {clearing.clearing_month(), clearing.issuer_region(), int64_t{clearing.state()},
                  clearing.frozen_at(), EncodeProtoColumn(clearing), FormatCstTimestamp(now)})
        .status();
  }
  return tx
      .Execute("UPDATE clearing_run SET state = ?, body = ?, updated_at = ? WHERE "
               "clearing_month = ?",
               {int64_t{clearing.state()}, EncodeProtoColumn(clearing), FormatCstTimestamp(now),
                clearing.clearing_month()})
      .status();
}

// Builds the cells of `month` from the covered settlements, the deductions not yet applied
// and the claims; marks the deductions applied.
absl::StatusOr<Clearing> Build(Transaction& tx, const ClearingNode& node, absl::CivilMonth month,
                               const ClearingDates& dates) {
  Clearing clearing;
  clearing.set_clearing_month(MonthText(month));
  clearing.set_issuer_region(node.region);
  clearing.set_state(yidi::v1::CLEARING_STATE_BUILT);
  clearing.set_built_on(FormatDate(CstDay(node.now)));
  clearing.set_confirm_by(FormatDate(dates.confirm_by));
  clearing.set_notices_by(FormatDate(dates.notices_by));
  clearing.set_frozen_at(FormatCstTimestamp(node.now));
  ASSIGN_OR_RETURN(std::string prev_frozen, PreviousFreeze(tx, month));
  const Window window = WindowOf(month, clearing.frozen_at(), prev_frozen);

  // One pass over the month: the GROUP BY is the whole cost of a national clearing.
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(absl::StrCat(
                   "SELECT insured_region, treatment_region, insurance_type, COUNT(*), "
                   "SUM(pooled_fund_fen), SUM(personal_account_fen), SUM(large_expense_fen), "
                   "SUM(supplementary_fen), SUM(civil_servant_fen), SUM(disabled_veteran_fen), "
                   "SUM(critical_illness_fen), SUM(medical_assistance_fen), "
                   "SUM(other_fund_fen), SUM(fund_total_fen), "
                   "SUM(CASE WHEN settlement_date < ? THEN 1 ELSE 0 END)",
                   kCoveredScan,
                   // The pair filter is applied per group below, not per row: a few thousand
                   // groups instead of 20 million SUBSTR pairs.
                   "1 = 1 GROUP BY insured_region, treatment_region, insurance_type"),
               {window.month_from, window.late_from.substr(0, 7), MonthText(month),
                window.frozen_at, window.month_from, window.prev_frozen}));
  std::map<CellKey, ClearingCell> cells;
  std::map<std::string, std::set<std::string>> raw_treatments;  // pooling → recorded codes
  int64_t grand_total = 0;
  int64_t late = 0;
  for (const Row& row : rows) {
    if (!NodeClearsPair(node, row.Text(0), row.Text(1))) continue;
    const std::string insured = node.pooling_region_of(row.Text(0));
    const std::string treatment = node.pooling_region_of(row.Text(1));
    raw_treatments[treatment].insert(row.Text(1));  // for the claims' pass (ApplyClaims)
    const bool resident = IsResidentScheme(static_cast<yidi::v1::InsuranceType>(row.Int(2)));
    ClearingCell& cell = CellOf(cells, insured, treatment, resident);
    cell.set_settlement_count(cell.settlement_count() + row.Int(3));
    FundColumns funds;
    // Residents' 基本医疗保险 column includes the account (附件14-3 has no account column);
    // it is kept apart here and merged when rendering.
    funds.set_pooled_fund_fen(row.Int(4));
    funds.set_personal_account_fen(row.Int(5));
    funds.set_large_expense_fen(row.Int(6));
    funds.set_supplementary_fen(row.Int(7));
    funds.set_civil_servant_fen(row.Int(8));
    funds.set_disabled_veteran_fen(row.Int(9));
    funds.set_critical_illness_fen(row.Int(10));
    funds.set_medical_assistance_fen(row.Int(11));
    funds.set_other_fund_fen(row.Int(12));
    funds.set_total_fen(row.Int(13) + row.Int(5));  // fund_total + personal_account
    // Slips obey fund_total = Σ fund columns (CheckSlipIdentities); rows that do not were
    // written around the validation: refuse to clear on them rather than guess.
    if (SumOfColumns(funds) != funds.total_fen()) {
      return absl::InternalError(absl::StrCat(
          "settlements ", row.Text(0), " → ", row.Text(1),
          ": the fund columns do not add up to fund_total + personal_account; fix the records "
          "before clearing"));
    }
    AddFunds(*cell.mutable_covered(), funds);
    grand_total += funds.total_fen();
    late += row.Int(14);
  }
  clearing.set_late_count(late);
  {
    ASSIGN_OR_RETURN(
        auto too_late,
        tx.Query(absl::StrCat("SELECT COUNT(*) FROM settlement_record WHERE state IN (2, 5) AND "
                              "settlement_date < ? AND created_at <= ? AND created_at > ? AND ",
                              PairFilter(node)),
                 {window.late_from, window.frozen_at, window.prev_frozen}));
    clearing.set_too_late_count(too_late.empty() ? 0 : too_late.front().Int(0));
  }

  // Claims (common/clearing_claims.h): a pair whose claim does not match its detail or this
  // node's records is not cleared (Liaoning 第44条); withheld and undeclared rows wait pending.
  ASSIGN_OR_RETURN(ClaimsApplied claims,
                   ApplyClaims(tx, node, month,
                               // The scan form, as above: ApplyClaims makes at most two
                               // more passes over the month, and only with claims.
                               ClaimWindow{absl::StrCat(kCoveredScan, "1 = 1"),
                                           {window.late_from.substr(0, 7), MonthText(month),
                                            window.frozen_at, window.month_from,
                                            window.prev_frozen},
                                           std::move(raw_treatments)},
                               cells, clearing));
  grand_total += claims.covered_delta_fen;
  clearing.set_too_late_count(clearing.too_late_count() + claims.too_late_count);

  // Deductions recorded for this month or earlier and not applied yet (a deduction recorded
  // after its month was built lands in the next clearing; so does one on a pair not cleared).
  ASSIGN_OR_RETURN(auto deductions,
                   tx.Query("SELECT body FROM clearing_deduction WHERE applied_month = '' AND "
                            "clearing_month <= ? ORDER BY deduction_id",
                            {MonthText(month)}));
  int64_t deducted_total = 0;
  for (const Row& row : deductions) {
    ASSIGN_OR_RETURN(ClearingDeduction deduction,
                     DecodeProtoColumn<ClearingDeduction>(row.Text(0), "deduction"));
    if (claims.not_cleared.count({node.pooling_region_of(deduction.insured_region()),
                                  node.pooling_region_of(deduction.treatment_region())}) > 0) {
      continue;
    }
    ClearingCell& cell =
        CellOf(cells, node.pooling_region_of(deduction.insured_region()),
               node.pooling_region_of(deduction.treatment_region()),
               IsResidentScheme(deduction.insurance_type()));
    AddFunds(*cell.mutable_deducted(), deduction.amounts());
    deducted_total += deduction.amounts().total_fen();
    clearing.add_deduction_ids(deduction.deduction_id());
    RETURN_IF_ERROR(tx.Execute("UPDATE clearing_deduction SET applied_month = ? WHERE "
                               "deduction_id = ?",
                               {MonthText(month), deduction.deduction_id()})
                        .status());
  }

  int64_t net_total = 0;
  for (auto& [key, cell] : cells) {
    cell.set_net_fen(cell.covered().total_fen() - cell.deducted().total_fen());
    net_total += cell.net_fen();
    *clearing.add_cells() = std::move(cell);
  }
  // Matrix = settlements covered − deductions.
  YIDI_CHECK(net_total == grand_total - deducted_total,
             "the matrix is the settlements it covers minus the deductions");
  return clearing;
}

std::set<std::string> MatrixRegions(const Clearing& clearing, const ClearingNode& node) {
  std::set<std::string> regions;
  for (const ClearingCell& cell : clearing.cells()) {
    regions.insert(node.MatrixRegionOf(cell.insured_region()));
    regions.insert(node.MatrixRegionOf(cell.treatment_region()));
  }
  return regions;
}

// Issues the notices: each matrix pair's net becomes a clearing obligation (reverse clearing,
// "*", when the net runs back to the insured side).
absl::Status IssueNotices(Transaction& tx, const ClearingNode& node, absl::CivilMonth month,
                          Clearing& clearing) {
  std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> pairs;
  for (const ClearingCell& cell : clearing.cells()) {
    auto& [net, covered] = pairs[{node.MatrixRegionOf(cell.insured_region()),
                                  node.MatrixRegionOf(cell.treatment_region())}];
    net += cell.net_fen();
    covered += cell.covered().total_fen();
  }
  // Money flows per ordered pair: a normal net runs insured → treatment; a negative one runs
  // back (reverse clearing). Both directions of one pair are separate obligations (全额, not
  // netted across the pair); a reverse flow is its own obligation too, `returned` ("*"),
  // beside the normal flow of the same direction (RecordClearing, common/prepayment.h).
  struct Flow {
    int64_t fen = 0;
    int64_t settlement_fen = 0;
  };
  std::map<std::tuple<std::string, std::string, bool>, Flow> flows;  // payer, receiver, returned
  for (const auto& [pair, sums] : pairs) {
    const auto& [net, covered] = sums;
    if (net > 0) {
      Flow& flow = flows[{pair.first, pair.second, false}];
      flow.fen += net;
      flow.settlement_fen += std::max<int64_t>(covered, 0);
    } else if (net < 0) {
      Flow& flow = flows[{pair.second, pair.first, true}];
      flow.fen += -net;
      flow.settlement_fen += -net;
    }
  }
  const absl::CivilMonth after = month + 2;
  const absl::CivilDay next_clearing(after.year(), after.month(), kClearingBuildDay);
  for (const auto& [key, flow] : flows) {
    const auto& [payer, receiver, returned] = key;
    yidi::v1::RecordClearingRequest request;
    request.set_clearing_month(MonthText(month));
    request.set_payer_region(payer);
    request.set_receiver_region(receiver);
    request.set_clearing_fen(flow.fen);
    request.set_settlement_fen(flow.settlement_fen);
    request.set_signed_date(FormatDate(CstDay(node.now)));
    request.set_next_clearing_date(FormatDate(next_clearing));
    ASSIGN_OR_RETURN(yidi::v1::RecordClearingResponse response,
                     RecordClearing(tx, node.issuer, request, returned));
    if (!response.obligation().obligation_id().empty()) {
      clearing.add_obligation_ids(response.obligation().obligation_id());
    }
  }
  clearing.set_state(yidi::v1::CLEARING_STATE_NOTICES_ISSUED);
  clearing.set_notices_issued_on(FormatDate(CstDay(node.now)));
  return absl::OkStatus();
}

// Moves a clearing forward as far as `today` allows. Returns whether it changed.
absl::StatusOr<bool> Advance(Transaction& tx, const ClearingNode& node, absl::CivilMonth month,
                             Clearing& clearing) {
  const absl::CivilDay today = CstDay(node.now);
  ASSIGN_OR_RETURN(absl::CivilDay confirm_by, ParseDate(clearing.confirm_by()));
  bool changed = false;
  if (clearing.state() == yidi::v1::CLEARING_STATE_BUILT && today > confirm_by) {
    std::set<std::string> replied;
    for (const ClearingReply& reply : clearing.replies()) replied.insert(reply.region());
    for (const std::string& region : MatrixRegions(clearing, node)) {
      if (replied.count(region) > 0) continue;
      ClearingReply& silent = *clearing.add_replies();
      silent.set_region(region);
      silent.set_kind(yidi::v1::CLEARING_REPLY_KIND_SILENT);
      silent.set_replied_on(FormatDate(confirm_by));
    }
    clearing.set_state(yidi::v1::CLEARING_STATE_CONFIRMED);
    changed = true;
  }
  if (clearing.state() == yidi::v1::CLEARING_STATE_CONFIRMED ||
      clearing.state() == yidi::v1::CLEARING_STATE_DISPUTED) {
    bool disputed = false;
    for (const ClearingReply& reply : clearing.replies()) {
      disputed |= reply.kind() == yidi::v1::CLEARING_REPLY_KIND_DISPUTED;
    }
    const auto state =
        disputed ? yidi::v1::CLEARING_STATE_DISPUTED : yidi::v1::CLEARING_STATE_CONFIRMED;
    changed |= state != clearing.state();
    clearing.set_state(state);
  }
  if (clearing.state() == yidi::v1::CLEARING_STATE_CONFIRMED) {
    RETURN_IF_ERROR(IssueNotices(tx, node, month, clearing));
    changed = true;
  }
  return changed;
}

absl::Status CheckNode(const ClearingNode& node) {
  if (node.calendar == nullptr || !node.pooling_region_of || node.issuer.policy == nullptr) {
    return absl::FailedPreconditionError("clearing: this node is not set up to clear");
  }
  if (node.region.size() != 6 || node.region.substr(2) != "0000") {
    return absl::FailedPreconditionError(
        "clearing: only the national node and provincial nodes clear (RULES.md 5.1)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Clearing> RunClearing(Transaction& tx, const ClearingNode& node,
                                     absl::string_view month_text) {
  RETURN_IF_ERROR(CheckNode(node));
  ASSIGN_OR_RETURN(absl::CivilMonth month, ParseClearingMonth(month_text, "clearing_month"));
  ASSIGN_OR_RETURN(std::optional<Clearing> stored, FindClearing(tx, month));
  Clearing clearing;
  if (stored.has_value()) {
    clearing = std::move(*stored);
  } else {
    // A later month already built covered this month's settlements as late declarations.
    ASSIGN_OR_RETURN(auto later, tx.Query("SELECT clearing_month FROM clearing_run WHERE "
                                          "clearing_month > ? ORDER BY clearing_month LIMIT 1",
                                          {MonthText(month)}));
    if (!later.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "clearing_month: the clearing of ", later.front().Text(0),
          " is already built and covered ", MonthText(month), "'s settlements as late ones"));
    }
    ASSIGN_OR_RETURN(ClearingDates dates, ComputeClearingDates(*node.calendar, month));
    const absl::CivilDay today = CstDay(node.now);
    if (today < dates.built_on) {
      return absl::FailedPreconditionError(absl::StrCat(
          "clearing_month: the clearing of ", MonthText(month), " is built on ",
          FormatDate(dates.built_on), " (RULES.md 5.2: declarations close on the 20th), not on ",
          FormatDate(today)));
    }
    ASSIGN_OR_RETURN(clearing, Build(tx, node, month, dates));
    absl::Status conserved = CheckConservation(clearing, node);
    YIDI_CHECK(conserved.ok(), "a clearing just built conserves money (CheckConservation)");
    RETURN_IF_ERROR(SaveClearing(tx, clearing, node.now, /*insert=*/true));
  }
  ASSIGN_OR_RETURN(bool changed, Advance(tx, node, month, clearing));
  if (changed) RETURN_IF_ERROR(SaveClearing(tx, clearing, node.now, /*insert=*/false));
  return clearing;
}

absl::StatusOr<Clearing> GetClearing(Transaction& tx, absl::string_view month_text,
                                     absl::string_view region, const ClearingNode& node) {
  ASSIGN_OR_RETURN(absl::CivilMonth month, ParseClearingMonth(month_text, "clearing_month"));
  ASSIGN_OR_RETURN(std::optional<Clearing> stored, FindClearing(tx, month));
  if (!stored.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("clearing_month: the clearing of ", month_text, " is not built yet"));
  }
  if (region.empty()) return std::move(*stored);
  if (!IsRegionCode(region)) return absl::InvalidArgumentError("region: 6 digits");
  Clearing filtered = *stored;
  filtered.clear_cells();
  for (const ClearingCell& cell : stored->cells()) {
    auto concerns = [&](const std::string& pooled) {
      return pooled == region || node.MatrixRegionOf(pooled) == region;
    };
    if (concerns(cell.insured_region()) || concerns(cell.treatment_region())) {
      *filtered.add_cells() = cell;
    }
  }
  return filtered;
}

absl::StatusOr<yidi::v1::ReplyClearingResponse> ReplyClearing(
    Transaction& tx, const ClearingNode& node, const yidi::v1::ReplyClearingRequest& request) {
  RETURN_IF_ERROR(CheckNode(node));
  ASSIGN_OR_RETURN(absl::CivilMonth month,
                   ParseClearingMonth(request.clearing_month(), "clearing_month"));
  if (request.reply_id().empty() || request.reply_id().size() > 64) {
    return absl::InvalidArgumentError("reply_id: required, at most 64 characters");
  }
  if (request.kind() != yidi::v1::CLEARING_REPLY_KIND_CONFIRMED &&
      request.kind() != yidi::v1::CLEARING_REPLY_KIND_DISPUTED) {
    return absl::InvalidArgumentError("kind: CONFIRMED or DISPUTED");
  }
  if (request.kind() == yidi::v1::CLEARING_REPLY_KIND_DISPUTED &&
      (request.reason().empty() || request.reason().size() > 200)) {
    return absl::InvalidArgumentError("reason: a dispute states why (at most 200 bytes)");
  }
  ASSIGN_OR_RETURN(std::optional<Clearing> stored, FindClearing(tx, month));
  if (!stored.has_value()) {
    return absl::NotFoundError(absl::StrCat("clearing_month: the clearing of ",
                                            request.clearing_month(), " is not built yet"));
  }
  Clearing& clearing = *stored;
  const std::set<std::string> regions = MatrixRegions(clearing, node);
  if (regions.count(request.region()) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "region: ", request.region(), " is not a region of the ", request.clearing_month(),
        " clearing"));
  }
  yidi::v1::ReplyClearingResponse response;
  ClearingReply* existing = nullptr;
  for (ClearingReply& reply : *clearing.mutable_replies()) {
    if (reply.region() == request.region()) existing = &reply;
  }
  if (existing != nullptr && existing->reply_id() == request.reply_id()) {
    if (existing->kind() != request.kind() || existing->reason() != request.reason()) {
      return absl::AlreadyExistsError(
          "reply_id: already used for another reply; use a new reply_id");
    }
    *response.mutable_reply() = *existing;
    response.set_replayed(true);
    return response;
  }
  ASSIGN_OR_RETURN(absl::CivilDay confirm_by, ParseDate(clearing.confirm_by()));
  const absl::CivilDay today = CstDay(node.now);
  const bool open = clearing.state() == yidi::v1::CLEARING_STATE_BUILT && today <= confirm_by;
  const bool resolving = existing != nullptr &&
                         existing->kind() == yidi::v1::CLEARING_REPLY_KIND_DISPUTED &&
                         request.kind() == yidi::v1::CLEARING_REPLY_KIND_CONFIRMED &&
                         clearing.state() != yidi::v1::CLEARING_STATE_NOTICES_ISSUED;
  if (!open && !resolving) {
    return absl::FailedPreconditionError(absl::StrCat(
        "clearing_month: replies to the ", request.clearing_month(), " clearing closed on ",
        clearing.confirm_by(), "; silence confirmed it (RULES.md 5.2)"));
  }
  ClearingReply reply;
  reply.set_region(request.region());
  reply.set_kind(request.kind());
  reply.set_reason(request.reason());
  reply.set_replied_on(FormatDate(today));
  reply.set_reply_id(request.reply_id());
  if (existing != nullptr) {
    *existing = reply;
  } else {
    *clearing.add_replies() = reply;
  }
  ASSIGN_OR_RETURN(bool changed, Advance(tx, node, month, clearing));
  (void)changed;
  RETURN_IF_ERROR(SaveClearing(tx, clearing, node.now, /*insert=*/false));
  *response.mutable_reply() = reply;
  return response;
}

absl::StatusOr<yidi::v1::RecordDeductionResponse> RecordDeduction(
    Transaction& tx, const ClearingNode& node, const ClearingDeduction& deduction) {
  RETURN_IF_ERROR(CheckNode(node));
  if (deduction.deduction_id().empty() || deduction.deduction_id().size() > 64) {
    return absl::InvalidArgumentError("deduction.deduction_id: required, at most 64 characters");
  }
  RETURN_IF_ERROR(
      ParseClearingMonth(deduction.clearing_month(), "deduction.clearing_month").status());
  if (!IsRegionCode(deduction.insured_region())) {
    return absl::InvalidArgumentError("deduction.insured_region: 6 digits");
  }
  if (!IsRegionCode(deduction.treatment_region())) {
    return absl::InvalidArgumentError("deduction.treatment_region: 6 digits");
  }
  if (!NodeClearsPair(node, deduction.insured_region(), deduction.treatment_region())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "deduction.insured_region: ", deduction.insured_region(), " → ",
        deduction.treatment_region(), " is not cleared by region ", node.region));
  }
  if (deduction.insurance_type() == yidi::v1::INSURANCE_TYPE_UNSPECIFIED) {
    return absl::InvalidArgumentError("deduction.insurance_type: required");
  }
  const FundColumns& a = deduction.amounts();
  for (int64_t column :
       {a.pooled_fund_fen(), a.personal_account_fen(), a.large_expense_fen(),
        a.supplementary_fen(), a.civil_servant_fen(), a.disabled_veteran_fen(),
        a.critical_illness_fen(), a.medical_assistance_fen(), a.other_fund_fen()}) {
    if (column < 0) return absl::InvalidArgumentError("deduction.amounts: no column is negative");
  }
  if (a.total_fen() <= 0 || SumOfColumns(a) != a.total_fen()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "deduction.amounts.total_fen: must be > 0 and equal the sum of the columns (",
        SumOfColumns(a), ")"));
  }
  if (deduction.reason().empty() || deduction.reason().size() > 200) {
    return absl::InvalidArgumentError("deduction.reason: required, at most 200 bytes");
  }
  if (deduction.settlement_ids_size() > 1000) {
    return absl::InvalidArgumentError("deduction.settlement_ids: at most 1000");
  }
  ClearingDeduction clean = deduction;
  clean.clear_applied_month();
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT body FROM clearing_deduction WHERE "
                                       "deduction_id = ?",
                                       {deduction.deduction_id()}));
  yidi::v1::RecordDeductionResponse response;
  if (!rows.empty()) {
    ASSIGN_OR_RETURN(ClearingDeduction stored,
                     DecodeProtoColumn<ClearingDeduction>(rows.front().Text(0), "deduction"));
    ClearingDeduction compare = stored;
    compare.clear_applied_month();
    if (compare.SerializeAsString() != clean.SerializeAsString()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "deduction.deduction_id: ", deduction.deduction_id(),
          " was recorded with other figures; use a new id"));
    }
    ASSIGN_OR_RETURN(auto applied, tx.Query("SELECT applied_month FROM clearing_deduction "
                                            "WHERE deduction_id = ?",
                                            {deduction.deduction_id()}));
    stored.set_applied_month(applied.front().Text(0));
    *response.mutable_deduction() = stored;
    response.set_replayed(true);
    return response;
  }
  RETURN_IF_ERROR(tx.Execute("INSERT INTO clearing_deduction (deduction_id, clearing_month, "
                             "insured_region, treatment_region, total_fen, applied_month, body, "
                             "created_at) VALUES (?, ?, ?, ?, ?, '', ?, ?)",
                             {clean.deduction_id(), clean.clearing_month(),
                              clean.insured_region(), clean.treatment_region(), a.total_fen(),
                              EncodeProtoColumn(clean), FormatCstTimestamp(node.now)})
                      .status());
  *response.mutable_deduction() = clean;
  return response;
}

absl::StatusOr<yidi::v1::SubmitClaimResponse> SubmitClaim(Transaction& tx,
                                                          const ClearingNode& node,
                                                          const ClearingClaim& claim) {
  RETURN_IF_ERROR(CheckNode(node));
  if (claim.claim_id().empty() || claim.claim_id().size() > 64) {
    return absl::InvalidArgumentError("claim.claim_id: required, at most 64 characters");
  }
  ASSIGN_OR_RETURN(absl::CivilMonth month,
                   ParseClearingMonth(claim.clearing_month(), "claim.clearing_month"));
  if (!IsRegionCode(claim.insured_region())) {
    return absl::InvalidArgumentError("claim.insured_region: 6 digits");
  }
  if (!IsRegionCode(claim.treatment_region())) {
    return absl::InvalidArgumentError("claim.treatment_region: 6 digits");
  }
  if (!NodeClearsPair(node, claim.insured_region(), claim.treatment_region())) {
    return absl::InvalidArgumentError(absl::StrCat("claim.insured_region: ",
                                                   claim.insured_region(), " → ",
                                                   claim.treatment_region(),
                                                   " is not cleared by region ", node.region));
  }
  if (claim.settlement_count() < 0) {
    return absl::InvalidArgumentError("claim.settlement_count: not negative");
  }
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT body FROM clearing_claim WHERE claim_id = ?",
                                       {claim.claim_id()}));
  yidi::v1::SubmitClaimResponse response;
  if (!rows.empty()) {
    ASSIGN_OR_RETURN(ClearingClaim stored, DecodeProtoColumn<ClearingClaim>(rows.front().Text(0), "claim"));
    if (stored.SerializeAsString() != claim.SerializeAsString()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "claim.claim_id: ", claim.claim_id(), " was submitted with other figures"));
    }
    *response.mutable_claim() = stored;
    response.set_replayed(true);
    return response;
  }
  ASSIGN_OR_RETURN(std::optional<Clearing> built, FindClearing(tx, month));
  if (built.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "claim.clearing_month: the clearing of ", claim.clearing_month(),
        " is already built (frozen at ", built->frozen_at(), "); declare it for a later month"));
  }
  RETURN_IF_ERROR(tx.Execute("INSERT INTO clearing_claim (claim_id, clearing_month, body, "
                             "created_at) VALUES (?, ?, ?, ?)",
                             {claim.claim_id(), claim.clearing_month(), EncodeProtoColumn(claim),
                              FormatCstTimestamp(node.now)})
                      .status());
  *response.mutable_claim() = claim;
  return response;
}

absl::StatusOr<yidi::v1::TraceClearingResponse> TraceClearing(
    Transaction& tx, const ClearingNode& node, const yidi::v1::TraceClearingRequest& request) {
  ASSIGN_OR_RETURN(absl::CivilMonth month,
                   ParseClearingMonth(request.clearing_month(), "clearing_month"));
  if (!IsRegionCode(request.insured_region())) {
    return absl::InvalidArgumentError("insured_region: 6 digits");
  }
  if (!IsRegionCode(request.treatment_region())) {
    return absl::InvalidArgumentError("treatment_region: 6 digits");
  }
  if (request.limit() < 0 || request.limit() > kTraceIdsMax) {
    return absl::InvalidArgumentError(absl::StrCat("limit: 0..", kTraceIdsMax));
  }
  const int limit = request.limit() == 0 ? kTraceIdsMax : request.limit();
  ASSIGN_OR_RETURN(std::optional<Clearing> stored, FindClearing(tx, month));
  if (!stored.has_value()) {
    return absl::NotFoundError(absl::StrCat("clearing_month: the clearing of ",
                                            request.clearing_month(), " is not built yet"));
  }
  ASSIGN_OR_RETURN(std::string prev_frozen, PreviousFreeze(tx, month));
  const Window window = WindowOf(month, stored->frozen_at(), prev_frozen);
  std::vector<SqlValue> params = CoveredParams(window);
  params.push_back(request.insured_region());
  params.push_back(request.treatment_region());
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(absl::StrCat("SELECT settlement_id", kCovered, PairFilter(node),
                                         " AND insured_region = ? AND treatment_region = ? "
                                         "ORDER BY settlement_id LIMIT ",
                                         limit + 1),
                            params));
  yidi::v1::TraceClearingResponse response;
  std::vector<std::string> ids;
  bool truncated = false;
  for (const Row& row : rows) {
    if (static_cast<int>(ids.size()) == limit) {
      truncated = true;
      break;
    }
    ids.push_back(row.Text(0));
  }
  // Rows held pending at that build are out; rows released into it are in.
  RETURN_IF_ERROR(AdjustTraceIds(tx, month, request.insured_region(),
                                 request.treatment_region(), limit, ids, truncated));
  for (std::string& id : ids) response.add_settlement_ids(std::move(id));
  response.set_truncated(truncated);
  ASSIGN_OR_RETURN(auto deductions,
                   tx.Query("SELECT deduction_id FROM clearing_deduction WHERE applied_month = ? "
                            "AND insured_region = ? AND treatment_region = ? ORDER BY "
                            "deduction_id",
                            {MonthText(month), request.insured_region(),
                             request.treatment_region()}));
  for (const Row& row : deductions) response.add_deduction_ids(row.Text(0));
  return response;
}

std::string ClearedPairsSql(const ClearingNode& node) { return PairFilter(node); }

std::map<std::string, std::map<std::string, int64_t>> ClearingMatrix(const Clearing& clearing,
                                                                     const ClearingNode& node) {
  std::map<std::string, std::map<std::string, int64_t>> matrix;
  for (const ClearingCell& cell : clearing.cells()) {
    matrix[node.MatrixRegionOf(cell.treatment_region())]
          [node.MatrixRegionOf(cell.insured_region())] += cell.net_fen();
  }
  return matrix;
}

absl::Status CheckConservation(const Clearing& clearing, const ClearingNode& node) {
  int64_t grand = 0;
  std::map<std::string, int64_t> payable;     // matrix region → Σ net it pays
  std::map<std::string, int64_t> receivable;  // matrix region → Σ net it receives
  std::map<std::string, int64_t> city_payable_sum;
  std::map<std::string, int64_t> city_receivable_sum;
  for (const ClearingCell& cell : clearing.cells()) {
    for (const FundColumns* funds : {&cell.covered(), &cell.deducted()}) {
      if (SumOfColumns(*funds) != funds->total_fen()) {
        return absl::InternalError(absl::StrCat("cell ", cell.insured_region(), " → ",
                                                cell.treatment_region(),
                                                ": fund columns do not sum to the total"));
      }
    }
    if (cell.net_fen() != cell.covered().total_fen() - cell.deducted().total_fen()) {
      return absl::InternalError(absl::StrCat("cell ", cell.insured_region(), " → ",
                                              cell.treatment_region(),
                                              ": net != covered − deducted"));
    }
    grand += cell.net_fen();
    payable[node.MatrixRegionOf(cell.insured_region())] += cell.net_fen();
    receivable[node.MatrixRegionOf(cell.treatment_region())] += cell.net_fen();
  }
  // The split down to pooling regions, computed independently per pooling region.
  std::map<std::string, int64_t> by_insured_city;
  std::map<std::string, int64_t> by_treatment_city;
  for (const ClearingCell& cell : clearing.cells()) {
    by_insured_city[cell.insured_region()] += cell.net_fen();
    by_treatment_city[cell.treatment_region()] += cell.net_fen();
  }
  for (const auto& [city, fen] : by_insured_city) city_payable_sum[node.MatrixRegionOf(city)] += fen;
  for (const auto& [city, fen] : by_treatment_city) {
    city_receivable_sum[node.MatrixRegionOf(city)] += fen;
  }
  if (city_payable_sum != payable) {
    return absl::InternalError("a region's payable differs from the sum of its cities' shares");
  }
  if (city_receivable_sum != receivable) {
    return absl::InternalError(
        "a region's receivable differs from the sum of its cities' shares");
  }
  int64_t payables = 0;
  int64_t receivables = 0;
  for (const auto& [region, fen] : payable) payables += fen;
  for (const auto& [region, fen] : receivable) receivables += fen;
  if (payables != receivables || payables != grand) {
    return absl::InternalError(absl::StrCat("Σ payables ", payables, " != Σ receivables ",
                                            receivables, " (grand total ", grand, ")"));
  }
  // Matrix rows (receiving) and columns (paying) against the same totals.
  const auto matrix = ClearingMatrix(clearing, node);
  std::map<std::string, int64_t> column_totals;
  int64_t row_sum = 0;
  for (const auto& [receiver, row] : matrix) {
    int64_t row_total = 0;
    for (const auto& [payer, fen] : row) {
      if (receiver == payer && node.national()) {
        return absl::InternalError(absl::StrCat("the diagonal of ", receiver, " is not empty"));
      }
      row_total += fen;
      column_totals[payer] += fen;
    }
    if (row_total != receivable[receiver]) {
      return absl::InternalError(absl::StrCat("row ", receiver, " totals ", row_total,
                                              ", its receivable is ", receivable[receiver]));
    }
    row_sum += row_total;
  }
  for (const auto& [payer, fen] : column_totals) {
    if (fen != payable[payer]) {
      return absl::InternalError(absl::StrCat("column ", payer, " totals ", fen,
                                              ", its payable is ", payable[payer]));
    }
  }
  if (row_sum != grand) return absl::InternalError("row totals do not add up to the total");
  return absl::OkStatus();
}

}  // namespace yidi
