#include "common/reconciliation_store.h"

#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/reconciliation.h"
#include "common/settlement_record.h"
#include "common/settlement_validation.h"
#include "common/status_macros.h"

namespace yidi {

using yidi::v1::ApplyCorrectionRequest;
using yidi::v1::ApplyCorrectionResponse;
using yidi::v1::DayDetailEntry;
using yidi::v1::SettlementState;

std::vector<Migration> ReconciliationMigrations() {
  return {
      {300,
       "settlement_record: day totals per pair of regions read from the index alone",
       // The daily comparison groups a whole day (a million rows at national) by pair, state
       // and kind and sums the amounts: a covering index makes that one ordered index scan.
       {"CREATE INDEX settlement_record_day_pair ON settlement_record (settlement_date, "
        "insured_region, treatment_region, institution_code, state, kind, total_fen, "
        "fund_total_fen, personal_account_fen, cash_fen)",
        // Records without a result (IN_DOUBT, PENDING, tombstones) count on their creation day.
        "CREATE INDEX settlement_record_day_created ON settlement_record (settlement_date, "
        "created_at)"}},
      {301,
       "reconciliation_correction: every 补正 / 冲减 applied to this node's records (audit)",
       {"CREATE TABLE reconciliation_correction ("
        " correction_id VARCHAR(160) NOT NULL PRIMARY KEY,"
        " settlement_id VARCHAR(64) NOT NULL,"
        " action INTEGER NOT NULL,"
        " previous_state INTEGER NOT NULL,"
        " previous_total_fen BIGINT NOT NULL,"
        " previous_fund_total_fen BIGINT NOT NULL,"
        " previous_personal_account_fen BIGINT NOT NULL,"
        " new_state INTEGER NOT NULL,"
        " new_total_fen BIGINT NOT NULL,"
        " new_fund_total_fen BIGINT NOT NULL,"
        " new_personal_account_fen BIGINT NOT NULL,"
        " reason MEDIUMTEXT NOT NULL,"
        " requested_by VARCHAR(64) NOT NULL,"
        " applied_at VARCHAR(32) NOT NULL)",
        "CREATE INDEX reconciliation_correction_by_settlement ON reconciliation_correction "
        "(settlement_id)"}},
      {302,
       "reconciliation_run, reconciliation_difference: each reconciled day and what differed",
       {"CREATE TABLE reconciliation_run ("
        " day VARCHAR(10) NOT NULL PRIMARY KEY,"
        " status INTEGER NOT NULL,"
        " attempts INTEGER NOT NULL,"
        " last_attempt_at VARCHAR(32) NOT NULL,"
        " pairs_compared INTEGER NOT NULL,"
        " pairs_differing INTEGER NOT NULL,"
        " differences_found INTEGER NOT NULL,"
        " differences_resolved INTEGER NOT NULL,"
        " differences_open INTEGER NOT NULL,"
        " error MEDIUMTEXT NOT NULL)",
        "CREATE TABLE reconciliation_difference ("
        " day VARCHAR(10) NOT NULL,"
        " settlement_id VARCHAR(64) NOT NULL,"
        " kind INTEGER NOT NULL,"
        " insured_region VARCHAR(6) NOT NULL,"
        " treatment_region VARCHAR(6) NOT NULL,"
        " detail MEDIUMTEXT NOT NULL,"
        " resolved INTEGER NOT NULL,"
        " resolution MEDIUMTEXT NOT NULL,"
        " PRIMARY KEY (day, settlement_id))"}},
      {303,
       "institution_day_totals: the institutions' day totals (3201-style), by request_id",
       {"CREATE TABLE institution_day_totals ("
        " request_id VARCHAR(64) NOT NULL PRIMARY KEY,"
        " institution_code VARCHAR(32) NOT NULL,"
        " day VARCHAR(10) NOT NULL,"
        " matched INTEGER NOT NULL,"
        " response MEDIUMTEXT NOT NULL,"
        " submitted_at VARCHAR(32) NOT NULL)",
        "CREATE INDEX institution_day_totals_by_day ON institution_day_totals (day, "
        "institution_code)"}},
  };
}

namespace {

absl::Status Invalid(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

absl::Status ValidateDay(absl::string_view field, const std::string& day) {
  if (day.empty()) return Invalid(field, "required (YYYY-MM-DD)");
  if (!ParseDate(day).ok()) {
    return Invalid(field, absl::StrCat("not a date YYYY-MM-DD: \"", day.substr(0, 16), "\""));
  }
  return absl::OkStatus();
}

// The CST timestamps of a day's records start with the day; the next day bounds them.
std::string NextDay(const std::string& day) {
  auto parsed = ParseDate(day);
  YIDI_CHECK(parsed.ok(), "the day was validated");
  return FormatDate(*parsed + 1);
}

// The two halves of "the day": dated records, and undated ones created that day.
struct DayFilter {
  std::string sql;
  std::vector<SqlValue> params;
};
std::vector<DayFilter> DayFilters(const std::string& day) {
  return {{"settlement_date = ?", {day}},
          {"settlement_date = '' AND created_at >= ? AND created_at < ?", {day, NextDay(day)}}};
}

constexpr char kDetailColumns[] =
    "settlement_id, kind, state, original_settlement_id, insured_region, treatment_region, "
    "institution_code, insurance_type, total_fen, fund_total_fen, personal_account_fen, "
    "cash_fen, institution_confirmed_on";

DayDetailEntry DetailFromRow(const Row& row) {
  DayDetailEntry entry;
  entry.set_settlement_id(row.Text(0));
  entry.set_kind(static_cast<yidi::v1::SettlementKind>(row.Int(1)));
  entry.set_state(static_cast<SettlementState>(row.Int(2)));
  entry.set_original_settlement_id(row.Text(3));
  entry.set_insured_region(row.Text(4));
  entry.set_treatment_region(row.Text(5));
  entry.set_institution_code(row.Text(6));
  entry.set_insurance_type(static_cast<yidi::v1::InsuranceType>(row.Int(7)));
  entry.set_total_fen(row.Int(8));
  entry.set_fund_total_fen(row.Int(9));
  entry.set_personal_account_fen(row.Int(10));
  entry.set_cash_fen(row.Int(11));
  entry.set_institution_confirmed_on(row.Text(12));
  return entry;
}

}  // namespace

std::string DayTotalsPageToken(const TotalsKey& key) {
  return absl::StrCat(std::get<0>(key), "|", std::get<1>(key), "|", std::get<2>(key));
}

absl::StatusOr<std::optional<TotalsKey>> ParseDayTotalsPageToken(const std::string& token) {
  if (token.empty()) return std::optional<TotalsKey>();
  std::vector<std::string> parts = absl::StrSplit(token, '|');
  if (parts.size() != 3 || !IsRegionCode(parts[0]) || !IsRegionCode(parts[1]) ||
      parts[2].size() > static_cast<size_t>(kInstitutionCodeLengthMax)) {
    return Invalid("page_token", "not a token this node gave");
  }
  return std::optional<TotalsKey>(TotalsKey{parts[0], parts[1], parts[2]});
}

absl::Status ValidateGetDayTotals(const yidi::v1::GetDayTotalsRequest& request) {
  RETURN_IF_ERROR(ValidateDay("day", request.day()));
  if (!request.counterparty().empty() && !IsRegionCode(request.counterparty())) {
    return Invalid("counterparty", "a 6-digit region code or empty");
  }
  if (request.page_size() < 0 || request.page_size() > kDayTotalsPageSizeMax) {
    return Invalid("page_size", absl::StrCat("0 to ", kDayTotalsPageSizeMax));
  }
  return ParseDayTotalsPageToken(request.page_token()).status();
}

absl::Status ValidateGetDayDetail(const yidi::v1::GetDayDetailRequest& request) {
  RETURN_IF_ERROR(ValidateDay("day", request.day()));
  if (!IsRegionCode(request.insured_region())) {
    return Invalid("insured_region", "required, a 6-digit region code");
  }
  if (!IsRegionCode(request.treatment_region())) {
    return Invalid("treatment_region", "required, a 6-digit region code");
  }
  if (request.page_size() < 0 || request.page_size() > kReconciliationPageSizeMax) {
    return Invalid("page_size", absl::StrCat("0 to ", kReconciliationPageSizeMax));
  }
  if (request.institution_code().size() > static_cast<size_t>(kInstitutionCodeLengthMax)) {
    return Invalid("institution_code", absl::StrCat("longer than ", kInstitutionCodeLengthMax));
  }
  if (request.page_token().size() > static_cast<size_t>(kSettlementIdLengthMax)) {
    return Invalid("page_token", "not a token this node gave");
  }
  return absl::OkStatus();
}

absl::Status ValidateApplyCorrection(const ApplyCorrectionRequest& request) {
  if (request.correction_id().empty()) return Invalid("correction_id", "required");
  if (request.correction_id().size() > static_cast<size_t>(kCorrectionIdLengthMax)) {
    return Invalid("correction_id", absl::StrCat("longer than ", kCorrectionIdLengthMax));
  }
  if (request.settlement_id().empty()) return Invalid("settlement_id", "required");
  if (request.settlement_id().size() > static_cast<size_t>(kSettlementIdLengthMax)) {
    return Invalid("settlement_id", absl::StrCat("longer than ", kSettlementIdLengthMax));
  }
  if (request.reason().size() > static_cast<size_t>(kReconciliationReasonLengthMax)) {
    return Invalid("reason", absl::StrCat("longer than ", kReconciliationReasonLengthMax));
  }
  if (request.requested_by().size() > 64) return Invalid("requested_by", "longer than 64");
  if (!request.institution_confirmed_on().empty()) {
    RETURN_IF_ERROR(ValidateDay("institution_confirmed_on", request.institution_confirmed_on()));
  }
  for (const auto& [field, value] :
       {std::pair<const char*, const std::string*>{"insured_region", &request.insured_region()},
        {"treatment_region", &request.treatment_region()}}) {
    if (!value->empty() && !IsRegionCode(*value)) return Invalid(field, "a 6-digit region code");
  }
  if (request.institution_code().size() > static_cast<size_t>(kInstitutionCodeLengthMax)) {
    return Invalid("institution_code", "too long");
  }
  switch (request.action()) {
    case yidi::v1::CORRECTION_ACTION_OFFSET:
      return absl::OkStatus();
    case yidi::v1::CORRECTION_ACTION_SUPPLEMENT:
      break;
    default:
      return Invalid("action", "SUPPLEMENT (补正) or OFFSET (冲减)");
  }
  if (!IsDefinitive(request.state())) {
    return Invalid("state", "SETTLED, REVERSED or VOIDED: the outcome the authority knows");
  }
  if (request.state() == yidi::v1::SETTLEMENT_STATE_VOIDED && !request.has_result()) {
    return absl::OkStatus();  // a tombstone
  }
  if (!request.has_result()) return Invalid("result", "required for a SETTLED or REVERSED record");
  const auto& result = request.result();
  if (result.settlement_id() != request.settlement_id()) {
    return Invalid("result.settlement_id", "differs from settlement_id");
  }
  if (!IsRegionCode(result.insured_region())) {
    return Invalid("result.insured_region", "a 6-digit region code");
  }
  if (!IsRegionCode(result.treatment_region())) {
    return Invalid("result.treatment_region", "a 6-digit region code");
  }
  if (absl::Status slip = CheckSlipIdentities(result); !slip.ok()) {
    return Invalid("result", slip.message());
  }
  if (!ParseDate(result.settlement_date()).ok()) {
    return Invalid("result.settlement_date", "not a date YYYY-MM-DD");
  }
  return absl::OkStatus();
}

absl::Status ValidateInstitutionDayTotals(
    const yidi::v1::SubmitInstitutionDayTotalsRequest& request, const DirectoryIndex& directory,
    const std::string& region) {
  if (request.request_id().empty()) return Invalid("request_id", "required");
  if (request.request_id().size() > static_cast<size_t>(kSettlementIdLengthMax)) {
    return Invalid("request_id", absl::StrCat("longer than ", kSettlementIdLengthMax));
  }
  if (request.institution_code().empty()) return Invalid("institution_code", "required");
  const auto* institution = directory.FindInstitution(request.institution_code());
  if (institution == nullptr) {
    return Invalid("institution_code",
                   absl::StrCat("unknown institution ",
                                request.institution_code().substr(0, kInstitutionCodeLengthMax)));
  }
  auto pooled = directory.PoolingRegionFor(institution->region_code());
  if (!pooled.ok() || *pooled != region) {
    return Invalid("institution_code", absl::StrCat("not an institution of region ", region));
  }
  RETURN_IF_ERROR(ValidateDay("day", request.day()));
  if (request.count() < 0) return Invalid("count", "negative");
  if (request.details_size() > kInstitutionDetailsMax) {
    return Invalid("details", absl::StrCat("more than ", kInstitutionDetailsMax));
  }
  for (int i = 0; i < request.details_size(); ++i) {
    const auto& id = request.details(i).settlement_id();
    if (id.empty() || id.size() > static_cast<size_t>(kSettlementIdLengthMax)) {
      return Invalid(absl::StrCat("details[", i, "].settlement_id"), "required, at most 64");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<yidi::v1::GetDayTotalsResponse> ReadDayTotals(
    Transaction& tx, const yidi::v1::GetDayTotalsRequest& request) {
  std::string region_filter;
  std::vector<SqlValue> region_params;
  const std::string& counterparty = request.counterparty();
  if (!counterparty.empty()) {
    if (absl::EndsWith(counterparty, "0000")) {
      const std::string prefix = absl::StrCat(counterparty.substr(0, 2), "%");
      region_filter = " AND (insured_region LIKE ? OR treatment_region LIKE ?)";
      region_params = {prefix, prefix};
    } else {
      region_filter = " AND (insured_region = ? OR treatment_region = ?)";
      region_params = {counterparty, counterparty};
    }
  }
  const int page_size = request.page_size() > 0 ? request.page_size() : kDayTotalsPageSizeDefault;
  ASSIGN_OR_RETURN(std::optional<TotalsKey> after, ParseDayTotalsPageToken(request.page_token()));
  // Keyset paging over (insured, treatment, institution), spelled out instead of a row-value
  // comparison so that it reads the same on SQLite and MySQL.
  auto key_condition = [](const TotalsKey& key, bool greater, std::vector<SqlValue>* params) {
    const char* strict = greater ? ">" : "<";
    const char* last = greater ? ">" : "<=";
    params->insert(params->end(), {std::get<0>(key), std::get<0>(key), std::get<1>(key),
                                   std::get<1>(key), std::get<2>(key)});
    return absl::StrCat(" AND (insured_region ", strict, " ? OR (insured_region = ? AND ",
                        "(treatment_region ", strict, " ? OR (treatment_region = ? AND ",
                        "institution_code ", last, " ?))))");
  };

  // 1. The keys of this page: the first page_size keys after the token, over both halves of
  //    the day (a key may have dated and undated records).
  std::set<TotalsKey> keys;
  for (DayFilter& filter : DayFilters(request.day())) {
    std::vector<SqlValue> params = filter.params;
    params.insert(params.end(), region_params.begin(), region_params.end());
    std::string after_sql = after ? key_condition(*after, true, &params) : "";
    params.push_back(int64_t{page_size + 1});
    ASSIGN_OR_RETURN(
        auto rows,
        tx.Query(absl::StrCat("SELECT DISTINCT insured_region, treatment_region, "
                              "institution_code FROM settlement_record WHERE ",
                              filter.sql, region_filter, after_sql,
                              " ORDER BY insured_region, treatment_region, institution_code "
                              "LIMIT ?"),
                 params));
    for (const Row& row : rows) keys.insert({row.Text(0), row.Text(1), row.Text(2)});
  }
  std::optional<TotalsKey> last;  // the page's last key when more follow
  if (keys.size() > static_cast<size_t>(page_size)) last = *std::next(keys.begin(), page_size - 1);

  // 2. The groups of those keys: (pair, institution, state, kind) → amounts, merged over the
  //    two halves of the day.
  std::map<std::tuple<std::string, std::string, std::string, int64_t, int64_t>,
           yidi::v1::DayTotalsGroup>
      groups;
  for (DayFilter& filter : DayFilters(request.day())) {
    std::vector<SqlValue> params = filter.params;
    params.insert(params.end(), region_params.begin(), region_params.end());
    std::string page_sql = after ? key_condition(*after, true, &params) : "";
    if (last) absl::StrAppend(&page_sql, key_condition(*last, false, &params));
    ASSIGN_OR_RETURN(
        auto rows,
        tx.Query(absl::StrCat("SELECT insured_region, treatment_region, institution_code, "
                              "state, kind, COUNT(*), SUM(total_fen), SUM(fund_total_fen), "
                              "SUM(personal_account_fen), SUM(cash_fen) FROM settlement_record "
                              "WHERE ",
                              filter.sql, region_filter, page_sql,
                              " GROUP BY insured_region, treatment_region, institution_code, "
                              "state, kind"),
                 params));
    for (const Row& row : rows) {
      auto& group = groups[{row.Text(0), row.Text(1), row.Text(2), row.Int(3), row.Int(4)}];
      group.set_insured_region(row.Text(0));
      group.set_treatment_region(row.Text(1));
      group.set_institution_code(row.Text(2));
      group.set_state(static_cast<SettlementState>(row.Int(3)));
      group.set_kind(static_cast<yidi::v1::SettlementKind>(row.Int(4)));
      group.set_count(group.count() + row.Int(5));
      group.set_total_fen(group.total_fen() + row.Int(6));
      group.set_fund_total_fen(group.fund_total_fen() + row.Int(7));
      group.set_personal_account_fen(group.personal_account_fen() + row.Int(8));
      group.set_cash_fen(group.cash_fen() + row.Int(9));
    }
  }
  yidi::v1::GetDayTotalsResponse response;
  response.set_day(request.day());
  std::set<TotalsKey> page_keys;
  for (auto& [key, group] : groups) {
    page_keys.insert({std::get<0>(key), std::get<1>(key), std::get<2>(key)});
    *response.add_groups() = std::move(group);
  }
  YIDI_CHECK(page_keys.size() <= static_cast<size_t>(page_size),
             "a page holds at most page_size keys");
  YIDI_CHECK(!last || page_keys.size() == static_cast<size_t>(page_size),
             "a page that is not the last is full");
  if (last) response.set_next_page_token(DayTotalsPageToken(*last));
  return response;
}

absl::StatusOr<yidi::v1::GetDayDetailResponse> ReadDayDetail(
    Transaction& tx, const yidi::v1::GetDayDetailRequest& request) {
  const int page_size =
      request.page_size() > 0 ? request.page_size() : kReconciliationPageSizeDefault;
  std::map<std::string, DayDetailEntry> merged;
  for (DayFilter& filter : DayFilters(request.day())) {
    std::vector<SqlValue> params = filter.params;
    params.push_back(request.insured_region());
    params.push_back(request.treatment_region());
    std::string institution_filter;
    if (!request.institution_code().empty()) {
      institution_filter = " AND institution_code = ?";
      params.push_back(request.institution_code());
    }
    params.push_back(request.page_token());
    params.push_back(int64_t{page_size + 1});
    ASSIGN_OR_RETURN(
        auto rows,
        tx.Query(absl::StrCat("SELECT ", kDetailColumns, " FROM settlement_record WHERE ",
                              filter.sql,
                              " AND insured_region = ? AND treatment_region = ?",
                              institution_filter,
                              " AND settlement_id > ? ORDER BY settlement_id LIMIT ?"),
                 params));
    for (const Row& row : rows) merged.emplace(row.Text(0), DetailFromRow(row));
  }
  yidi::v1::GetDayDetailResponse response;
  for (auto& [id, entry] : merged) {
    if (response.entries_size() == page_size) {
      response.set_next_page_token(response.entries(page_size - 1).settlement_id());
      break;
    }
    *response.add_entries() = std::move(entry);
  }
  return response;
}

absl::StatusOr<ApplyCorrectionResponse> ApplyCorrectionInTransaction(
    Transaction& tx, const ApplyCorrectionRequest& request, absl::Time now,
    const CorrectionReplayer& replayer) {
  ASSIGN_OR_RETURN(auto done, tx.Query("SELECT settlement_id, action, previous_state, new_state "
                                       "FROM reconciliation_correction WHERE correction_id = ?",
                                       {request.correction_id()}));
  if (!done.empty()) {
    const Row& row = done.front();
    if (row.Text(0) != request.settlement_id() || row.Int(1) != request.action()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "correction_id: ", request.correction_id(), " was used for settlement ", row.Text(0)));
    }
    ApplyCorrectionResponse replay;
    replay.set_replayed(true);
    replay.set_previous_state(static_cast<SettlementState>(row.Int(2)));
    replay.set_state(static_cast<SettlementState>(row.Int(3)));
    return replay;
  }

  ASSIGN_OR_RETURN(auto existing, FindSettlementRecord(tx, request.settlement_id()));
  ASSIGN_OR_RETURN(auto before,
                   tx.Query("SELECT state, total_fen, fund_total_fen, personal_account_fen "
                            "FROM settlement_record WHERE settlement_id = ?",
                            {request.settlement_id()}));
  const SettlementState previous_state =
      existing ? existing->state : yidi::v1::SETTLEMENT_STATE_UNSPECIFIED;
  const bool supplement_with_result = request.action() == yidi::v1::CORRECTION_ACTION_SUPPLEMENT &&
                                      request.has_result();
  const SettlementState new_state = request.action() == yidi::v1::CORRECTION_ACTION_OFFSET
                                        ? yidi::v1::SETTLEMENT_STATE_VOIDED
                                        : request.state();
  const yidi::v1::SettlementResult* result = supplement_with_result ? &request.result() : nullptr;
  // What the record fed at this node follows it, in this transaction (D410); a replay by
  // correction_id returned above, so this runs once per correction.
  if (replayer) RETURN_IF_ERROR(replayer(tx, existing, request, new_state, now));
  if (existing) {
    RETURN_IF_ERROR(UpdateSettlementRecord(tx, request.settlement_id(), new_state, result, now));
  } else {
    SettlementRecord record;
    record.settlement_id = request.settlement_id();
    record.state = new_state;
    record.request_digest = request.request_digest();
    if (result != nullptr) {
      record.kind = result->kind();
      record.original_settlement_id = result->original_settlement_id();
      record.insured_region = result->insured_region();
      record.treatment_region = result->treatment_region();
      record.institution_code = result->institution_code();
      record.insurance_type = result->insurance_type();
      record.result = *result;
    } else {
      record.insured_region = request.insured_region();
      record.treatment_region = request.treatment_region();
      record.institution_code = request.institution_code();
    }
    RETURN_IF_ERROR(InsertSettlementRecord(tx, record, now));
  }
  if (!request.institution_confirmed_on().empty()) {
    RETURN_IF_ERROR(tx.Execute("UPDATE settlement_record SET institution_confirmed_on = ? "
                               "WHERE settlement_id = ?",
                               {request.institution_confirmed_on(), request.settlement_id()})
                        .status());
  }
  ASSIGN_OR_RETURN(auto after,
                   tx.Query("SELECT state, total_fen, fund_total_fen, personal_account_fen "
                            "FROM settlement_record WHERE settlement_id = ?",
                            {request.settlement_id()}));
  YIDI_CHECK(after.size() == 1 && after.front().Int(0) == new_state,
             "a corrected record is there in the state the correction gave it");
  const Row& a = after.front();
  const bool had = !before.empty();
  RETURN_IF_ERROR(
      tx.Execute("INSERT INTO reconciliation_correction (correction_id, settlement_id, action, "
                 "previous_state, previous_total_fen, previous_fund_total_fen, "
                 "previous_personal_account_fen, new_state, new_total_fen, new_fund_total_fen, "
                 "new_personal_account_fen, reason, requested_by, applied_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 {request.correction_id(), request.settlement_id(), int64_t{request.action()},
                  int64_t{previous_state}, had ? before.front().Int(1) : 0,
                  had ? before.front().Int(2) : 0, had ? before.front().Int(3) : 0,
                  int64_t{new_state}, a.Int(1), a.Int(2), a.Int(3), request.reason(),
                  request.requested_by(), FormatCstTimestamp(now)})
          .status());
  ApplyCorrectionResponse response;
  response.set_previous_state(previous_state);
  response.set_state(new_state);
  return response;
}

absl::StatusOr<yidi::v1::SubmitInstitutionDayTotalsResponse>
SubmitInstitutionDayTotalsInTransaction(Transaction& tx,
                                        const yidi::v1::SubmitInstitutionDayTotalsRequest& request,
                                        const std::string& region, absl::Time now) {
  yidi::v1::SubmitInstitutionDayTotalsResponse response;
  ASSIGN_OR_RETURN(auto earlier,
                   tx.Query("SELECT institution_code, day, response FROM institution_day_totals "
                            "WHERE request_id = ?",
                            {request.request_id()}));
  if (!earlier.empty()) {
    const Row& row = earlier.front();
    if (row.Text(0) != request.institution_code() || row.Text(1) != request.day()) {
      return absl::AlreadyExistsError(absl::StrCat("request_id: ", request.request_id(),
                                                   " was used for another institution or day"));
    }
    std::string bytes;
    if (!absl::Base64Unescape(row.Text(2), &bytes) || !response.ParseFromString(bytes)) {
      return absl::InternalError(
          absl::StrCat("institution_day_totals ", request.request_id(), ": stored answer corrupt"));
    }
    response.set_replayed(true);
    return response;
  }
  // What counts: settled, and reversed originals with their (negative) reversals.
  constexpr char kWhere[] =
      " FROM settlement_record WHERE settlement_date = ? AND treatment_region = ? AND "
      "institution_code = ? AND state IN (2, 5)";
  static_assert(yidi::v1::SETTLEMENT_STATE_SETTLED == 2 &&
                yidi::v1::SETTLEMENT_STATE_REVERSED == 5);
  const std::vector<SqlValue> params = {request.day(), region, request.institution_code()};
  ASSIGN_OR_RETURN(auto totals,
                   tx.Query(absl::StrCat("SELECT COUNT(*), SUM(total_fen), SUM(fund_total_fen), "
                                         "SUM(personal_account_fen)",
                                         kWhere),
                            params));
  YIDI_CHECK(totals.size() == 1, "an aggregate without GROUP BY returns one row");
  response.set_count(totals.front().Int(0));
  response.set_total_fen(totals.front().Int(1));
  response.set_fund_total_fen(totals.front().Int(2));
  response.set_personal_account_fen(totals.front().Int(3));
  response.set_matched(response.count() == request.count() &&
                       response.total_fen() == request.total_fen() &&
                       response.fund_total_fen() == request.fund_total_fen() &&
                       response.personal_account_fen() == request.personal_account_fen());
  if (response.matched()) {
    ASSIGN_OR_RETURN(int64_t confirmed,
                     tx.Execute(absl::StrCat("UPDATE settlement_record SET "
                                             "institution_confirmed_on = ? WHERE settlement_date = "
                                             "? AND treatment_region = ? AND institution_code = ? "
                                             "AND state IN (2, 5)"),
                                {request.day(), request.day(), region,
                                 request.institution_code()}));
    response.set_confirmed(confirmed);
  } else if (request.details_size() > 0) {
    ASSIGN_OR_RETURN(auto rows,
                     tx.Query(absl::StrCat("SELECT settlement_id, total_fen, fund_total_fen, "
                                           "personal_account_fen",
                                           kWhere, " ORDER BY settlement_id"),
                              params));
    std::map<std::string, const yidi::v1::InstitutionDetailEntry*> theirs;
    for (const auto& entry : request.details()) theirs[entry.settlement_id()] = &entry;
    for (const Row& row : rows) {
      auto it = theirs.find(row.Text(0));
      if (it == theirs.end()) {
        auto* difference = response.add_differences();
        difference->set_settlement_id(row.Text(0));
        difference->set_reason("missing at the institution");
        difference->set_node_total_fen(row.Int(1));
        continue;
      }
      const auto& entry = *it->second;
      if (entry.total_fen() != row.Int(1) || entry.fund_total_fen() != row.Int(2) ||
          entry.personal_account_fen() != row.Int(3)) {
        auto* difference = response.add_differences();
        difference->set_settlement_id(row.Text(0));
        difference->set_reason("amounts differ");
        difference->set_node_total_fen(row.Int(1));
        difference->set_institution_total_fen(entry.total_fen());
      }
      theirs.erase(it);
    }
    for (const auto& [id, entry] : theirs) {
      auto* difference = response.add_differences();
      difference->set_settlement_id(id);
      difference->set_reason("missing at the node (not settled here that day)");
      difference->set_institution_total_fen(entry->total_fen());
    }
  }
  std::string bytes;
  YIDI_CHECK(response.SerializeToString(&bytes), "an answer serialises");
  RETURN_IF_ERROR(tx.Execute("INSERT INTO institution_day_totals (request_id, institution_code, "
                             "day, matched, response, submitted_at) VALUES (?, ?, ?, ?, ?, ?)",
                             {request.request_id(), request.institution_code(), request.day(),
                              int64_t{response.matched() ? 1 : 0}, absl::Base64Escape(bytes),
                              FormatCstTimestamp(now)})
                      .status());
  return response;
}

absl::Status SaveReconciliationReport(Transaction& tx, yidi::v1::ReconciliationReport report) {
  ASSIGN_OR_RETURN(auto existing, tx.Query("SELECT attempts FROM reconciliation_run WHERE day = ?",
                                           {report.day()}));
  const int64_t attempts = existing.empty() ? 1 : existing.front().Int(0) + 1;
  const std::vector<SqlValue> values = {
      int64_t{report.status()},           attempts,
      report.last_attempt_at(),           int64_t{report.pairs_compared()},
      int64_t{report.pairs_differing()},  int64_t{report.differences_found()},
      int64_t{report.differences_resolved()}, int64_t{report.differences_open()},
      report.error(),                     report.day()};
  if (existing.empty()) {
    RETURN_IF_ERROR(tx.Execute("INSERT INTO reconciliation_run (status, attempts, "
                               "last_attempt_at, pairs_compared, pairs_differing, "
                               "differences_found, differences_resolved, differences_open, error, "
                               "day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               values)
                        .status());
  } else {
    RETURN_IF_ERROR(tx.Execute("UPDATE reconciliation_run SET status = ?, attempts = ?, "
                               "last_attempt_at = ?, pairs_compared = ?, pairs_differing = ?, "
                               "differences_found = ?, differences_resolved = ?, "
                               "differences_open = ?, error = ? WHERE day = ?",
                               values)
                        .status());
  }
  RETURN_IF_ERROR(
      tx.Execute("DELETE FROM reconciliation_difference WHERE day = ?", {report.day()}).status());
  for (const auto& difference : report.differences()) {
    RETURN_IF_ERROR(tx.Execute("INSERT INTO reconciliation_difference (day, settlement_id, kind, "
                               "insured_region, treatment_region, detail, resolved, resolution) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               {report.day(), difference.settlement_id(),
                                int64_t{difference.kind()}, difference.insured_region(),
                                difference.treatment_region(), difference.detail(),
                                int64_t{difference.resolved() ? 1 : 0}, difference.resolution()})
                        .status());
  }
  return absl::OkStatus();
}

absl::StatusOr<yidi::v1::ReconciliationReport> LoadReconciliationReport(Transaction& tx,
                                                                       const std::string& day) {
  ASSIGN_OR_RETURN(auto runs,
                   tx.Query("SELECT status, attempts, last_attempt_at, pairs_compared, "
                            "pairs_differing, differences_found, differences_resolved, "
                            "differences_open, error FROM reconciliation_run WHERE day = ?",
                            {day}));
  if (runs.empty()) return absl::NotFoundError(absl::StrCat("day: ", day, " was not reconciled"));
  const Row& run = runs.front();
  yidi::v1::ReconciliationReport report;
  report.set_day(day);
  report.set_status(static_cast<yidi::v1::RunStatus>(run.Int(0)));
  report.set_attempts(static_cast<int32_t>(run.Int(1)));
  report.set_last_attempt_at(run.Text(2));
  report.set_pairs_compared(static_cast<int32_t>(run.Int(3)));
  report.set_pairs_differing(static_cast<int32_t>(run.Int(4)));
  report.set_differences_found(static_cast<int32_t>(run.Int(5)));
  report.set_differences_resolved(static_cast<int32_t>(run.Int(6)));
  report.set_differences_open(static_cast<int32_t>(run.Int(7)));
  report.set_error(run.Text(8));
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT settlement_id, kind, insured_region, treatment_region, detail, "
                            "resolved, resolution FROM reconciliation_difference WHERE day = ? "
                            "ORDER BY settlement_id",
                            {day}));
  for (const Row& row : rows) {
    auto* difference = report.add_differences();
    difference->set_day(day);
    difference->set_settlement_id(row.Text(0));
    difference->set_kind(static_cast<yidi::v1::DifferenceKind>(row.Int(1)));
    difference->set_insured_region(row.Text(2));
    difference->set_treatment_region(row.Text(3));
    difference->set_detail(row.Text(4));
    difference->set_resolved(row.Int(5) != 0);
    difference->set_resolution(row.Text(6));
  }
  return report;
}

absl::StatusOr<std::vector<std::string>> DaysNotBalanced(Transaction& tx, const std::string& from,
                                                         const std::string& to) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT day FROM reconciliation_run WHERE status <> ? AND "
                                       "day >= ? AND day < ? ORDER BY day",
                                       {int64_t{yidi::v1::RUN_STATUS_BALANCED}, from, to}));
  std::vector<std::string> days;
  for (const Row& row : rows) days.push_back(row.Text(0));
  return days;
}

}  // namespace yidi
