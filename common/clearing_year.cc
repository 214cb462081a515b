#include "common/clearing_year.h"

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "common/status_macros.h"

namespace yidi {

using yidi::v1::Clearing;
using yidi::v1::ClearingCell;
using yidi::v1::YearStatement;
using yidi::v1::YearStatementPair;

std::vector<Migration> ClearingYearMigrations() {
  return {
      {331,
       "clearing_year: closed clearing years (第47条) with their year statements",
       {"CREATE TABLE clearing_year ("
        " year INTEGER NOT NULL PRIMARY KEY,"
        " issuer_region VARCHAR(6) NOT NULL,"
        " closed_at VARCHAR(32) NOT NULL,"
        " body MEDIUMTEXT NOT NULL)"}},
  };
}

absl::StatusOr<absl::CivilDay> YearCloseBy(const WorkingDayCalendar& calendar, int year) {
  return calendar.WorkingDayOnOrBefore(absl::CivilDay(year + 1, 3, 31));
}

namespace {

absl::Status CheckYear(int year) {
  if (year < kClearingYearMin || year > kClearingYearMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("year: ", year, " is outside ", kClearingYearMin, "..", kClearingYearMax));
  }
  return absl::OkStatus();
}

absl::StatusOr<Clearing> DecodeClearing(const std::string& text) {
  std::string bytes;
  Clearing clearing;
  if (!absl::Base64Unescape(text, &bytes) || !clearing.ParseFromString(bytes)) {
    return absl::InternalError("clearing_run: stored body is corrupt");
  }
  return clearing;
}

absl::StatusOr<std::optional<YearStatement>> FindStatement(Transaction& tx, int year) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT body FROM clearing_year WHERE year = ?", {int64_t{year}}));
  if (rows.empty()) return std::optional<YearStatement>();
  std::string bytes;
  YearStatement statement;
  if (!absl::Base64Unescape(rows.front().Text(0), &bytes) || !statement.ParseFromString(bytes)) {
    return absl::InternalError("clearing_year: stored body is corrupt");
  }
  return std::optional<YearStatement>(std::move(statement));
}

// The clearings of [from, to] this node holds, by month.
absl::StatusOr<std::map<std::string, Clearing>> ClearingsBetween(Transaction& tx,
                                                                 absl::CivilMonth from,
                                                                 absl::CivilMonth to) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT clearing_month, body FROM clearing_run WHERE "
                                       "clearing_month >= ? AND clearing_month <= ? ORDER BY "
                                       "clearing_month",
                                       {absl::FormatCivilTime(from), absl::FormatCivilTime(to)}));
  std::map<std::string, Clearing> clearings;
  for (const Row& row : rows) {
    ASSIGN_OR_RETURN(clearings[row.Text(0)], DecodeClearing(row.Text(1)));
  }
  return clearings;
}

struct Coverage {
  std::vector<std::string> missing;           // what blocks the close
  std::map<std::string, Clearing> clearings;  // Jan of Y … Feb of Y+1 that exist
};

// Every month from January of `year` (or this node's first clearing, when later) to February
// of year + 1 must be cleared and its notices issued.
absl::StatusOr<Coverage> CoverageOf(Transaction& tx, int year) {
  const absl::CivilMonth first_month(year, 1);
  const absl::CivilMonth last_month = absl::CivilMonth(year + 1, 1) + kClearingMonthsLateMax - 1;
  ASSIGN_OR_RETURN(auto first, tx.Query("SELECT MIN(clearing_month) FROM clearing_run", {}));
  absl::CivilMonth from = first_month;
  if (!first.empty() && !first.front().IsNull(0)) {
    ASSIGN_OR_RETURN(absl::CivilMonth earliest,
                     ParseClearingMonth(first.front().Text(0), "clearing_month"));
    // A node that started clearing during the year closes from its first clearing on.
    if (earliest > from && earliest <= absl::CivilMonth(year, 12)) from = earliest;
  }
  Coverage coverage;
  ASSIGN_OR_RETURN(coverage.clearings, ClearingsBetween(tx, first_month, last_month));
  for (absl::CivilMonth month = from; month <= last_month; ++month) {
    const std::string text = absl::FormatCivilTime(month);
    auto it = coverage.clearings.find(text);
    if (it == coverage.clearings.end()) {
      coverage.missing.push_back(absl::StrCat(text, ": not built"));
    } else if (it->second.state() != yidi::v1::CLEARING_STATE_NOTICES_ISSUED) {
      coverage.missing.push_back(
          absl::StrCat(text, ": ", yidi::v1::ClearingState_Name(it->second.state())));
    }
  }
  return coverage;
}

}  // namespace

absl::StatusOr<yidi::v1::CloseYearResponse> CloseYear(Transaction& tx, const ClearingNode& node,
                                                      int year) {
  RETURN_IF_ERROR(CheckYear(year));
  if (node.calendar == nullptr) {
    return absl::FailedPreconditionError("clearing: this node is not set up to clear");
  }
  yidi::v1::CloseYearResponse response;
  ASSIGN_OR_RETURN(std::optional<YearStatement> stored, FindStatement(tx, year));
  if (stored.has_value()) {
    *response.mutable_statement() = std::move(*stored);
    response.set_replayed(true);
    return response;
  }
  ASSIGN_OR_RETURN(const absl::CivilDay close_by, YearCloseBy(*node.calendar, year));
  ASSIGN_OR_RETURN(Coverage coverage, CoverageOf(tx, year));
  if (!coverage.missing.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "year: ", year, " cannot be closed until every clearing that may cover it is issued (",
        absl::StrJoin(coverage.missing, "; "), ")"));
  }
  YearStatement& statement = *response.mutable_statement();
  statement.set_year(year);
  statement.set_issuer_region(node.region);
  statement.set_closed_on(FormatDate(CstDay(node.now)));
  statement.set_close_by(FormatDate(close_by));
  statement.set_closed_at(FormatCstTimestamp(node.now));
  using PairKey = std::pair<std::string, std::string>;
  std::map<PairKey, YearStatementPair> pairs;
  int64_t months_net = 0;  // Σ of the monthly clearings, summed apart from the pairs
  for (const auto& [month, clearing] : coverage.clearings) {
    if (month.substr(0, 4) != absl::StrCat(year)) continue;  // Jan/Feb of Y+1: only required
    statement.add_clearing_months(month);
    int64_t clearing_net = 0;
    for (const ClearingCell& cell : clearing.cells()) {
      YearStatementPair& pair = pairs[{cell.insured_region(), cell.treatment_region()}];
      pair.set_insured_region(cell.insured_region());
      pair.set_treatment_region(cell.treatment_region());
      pair.set_settlement_count(pair.settlement_count() + cell.settlement_count());
      pair.set_covered_fen(pair.covered_fen() + cell.covered().total_fen());
      pair.set_deducted_fen(pair.deducted_fen() + cell.deducted().total_fen());
      pair.set_net_fen(pair.net_fen() + cell.net_fen());
      clearing_net += cell.net_fen();
    }
    months_net += clearing_net;
  }
  int64_t net = 0;
  for (auto& [key, pair] : pairs) {
    YIDI_CHECK(pair.net_fen() == pair.covered_fen() - pair.deducted_fen(),
               "a pair's year net is what its clearings covered minus their deductions");
    net += pair.net_fen();
    *statement.add_pairs() = std::move(pair);
  }
  YIDI_CHECK(net == months_net, "the year statement equals the sum of the monthly clearings");
  statement.set_net_fen(net);
  std::string bytes;
  YIDI_CHECK(statement.SerializeToString(&bytes), "a message serialises");
  RETURN_IF_ERROR(
      tx.Execute("INSERT INTO clearing_year (year, issuer_region, closed_at, body) "
                 "VALUES (?, ?, ?, ?)",
                 {int64_t{year}, node.region, statement.closed_at(), absl::Base64Escape(bytes)})
          .status());
  return response;
}

absl::StatusOr<yidi::v1::GetYearStatusResponse> GetYearStatus(Transaction& tx,
                                                              const ClearingNode& node, int year) {
  RETURN_IF_ERROR(CheckYear(year));
  if (node.calendar == nullptr) {
    return absl::FailedPreconditionError("clearing: this node is not set up to clear");
  }
  yidi::v1::GetYearStatusResponse response;
  response.set_year(year);
  ASSIGN_OR_RETURN(const absl::CivilDay close_by, YearCloseBy(*node.calendar, year));
  response.set_close_by(FormatDate(close_by));
  ASSIGN_OR_RETURN(std::optional<YearStatement> stored, FindStatement(tx, year));
  if (stored.has_value()) {
    response.set_closed(true);
    // Settlements of the year recorded after the close: no clearing will take them.
    ASSIGN_OR_RETURN(
        auto rows,
        tx.Query(
            absl::StrCat("SELECT COUNT(*), COALESCE(SUM(fund_total_fen + "
                         "personal_account_fen), 0) FROM settlement_record WHERE state IN "
                         "(2, 5) AND settlement_date >= ? AND settlement_date < ? AND "
                         "created_at > ? AND ",
                         ClearedPairsSql(node)),
            {absl::StrCat(year, "-01-01"), absl::StrCat(year + 1, "-01-01"), stored->closed_at()}));
    response.set_too_late_count(rows.front().Int(0));
    response.set_too_late_fen(rows.front().Int(1));
    *response.mutable_statement() = std::move(*stored);
    return response;
  }
  ASSIGN_OR_RETURN(Coverage coverage, CoverageOf(tx, year));
  for (std::string& missing : coverage.missing) response.add_missing(std::move(missing));
  response.set_overdue(CstDay(node.now) > close_by);
  return response;
}

}  // namespace yidi
