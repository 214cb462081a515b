#include "common/settlement_record.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/settlement_validation.h"
#include "common/status_macros.h"

namespace yidi {

std::vector<Migration> CommonMigrations() {
  return {
      {1,
       "settlement_record: every settlement seen by this node",
       {"CREATE TABLE settlement_record ("
        " settlement_id VARCHAR(64) NOT NULL PRIMARY KEY,"
        " kind INTEGER NOT NULL,"
        " original_settlement_id VARCHAR(64) NOT NULL DEFAULT '',"
        " request_digest VARCHAR(64) NOT NULL,"
        " state INTEGER NOT NULL,"
        " insured_region VARCHAR(6) NOT NULL,"
        " treatment_region VARCHAR(6) NOT NULL,"
        " institution_code VARCHAR(32) NOT NULL,"
        " insurance_type INTEGER NOT NULL,"
        " total_fen BIGINT NOT NULL DEFAULT 0,"
        " fund_total_fen BIGINT NOT NULL DEFAULT 0,"
        " personal_account_fen BIGINT NOT NULL DEFAULT 0,"
        " cash_fen BIGINT NOT NULL DEFAULT 0,"
        " settlement_date VARCHAR(10) NOT NULL DEFAULT '',"
        " result MEDIUMTEXT NOT NULL,"
        " created_at VARCHAR(32) NOT NULL,"
        " updated_at VARCHAR(32) NOT NULL)",
        "CREATE INDEX settlement_record_by_date ON settlement_record (settlement_date, state)",
        "CREATE INDEX settlement_record_by_original ON settlement_record "
        "(original_settlement_id)"}},
      {2,
       "settlement_record: the day the institution confirmed it (daily reconciliation)",
       // Empty until the treatment institution's day totals matched (docs/RECONCILIATION.md);
       // only confirmed settlements enter a clearing claim.
       {"ALTER TABLE settlement_record ADD COLUMN institution_confirmed_on VARCHAR(10) NOT NULL "
        "DEFAULT ''"}},
      {3,
       "settlement_record: the fund columns of the clearing tables (RULES.md 3.11)",
       // Real columns so the monthly clearing is one GROUP BY, not a decode of every slip
       // (docs/CLEARING.md). ALTER TABLE ADD COLUMN works on SQLite and MariaDB alike.
       {"ALTER TABLE settlement_record ADD COLUMN pooled_fund_fen BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE settlement_record ADD COLUMN large_expense_fen BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE settlement_record ADD COLUMN civil_servant_fen BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE settlement_record ADD COLUMN supplementary_fen BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE settlement_record ADD COLUMN disabled_veteran_fen BIGINT NOT NULL "
        "DEFAULT 0",
        "ALTER TABLE settlement_record ADD COLUMN critical_illness_fen BIGINT NOT NULL "
        "DEFAULT 0",
        "ALTER TABLE settlement_record ADD COLUMN medical_assistance_fen BIGINT NOT NULL "
        "DEFAULT 0",
        "ALTER TABLE settlement_record ADD COLUMN other_fund_fen BIGINT NOT NULL DEFAULT 0"}},
  };
}

namespace {

constexpr char kColumns[] =
    "settlement_id, kind, original_settlement_id, request_digest, state, insured_region, "
    "treatment_region, institution_code, insurance_type, result";

std::string EncodeResult(const yidi::v1::SettlementResult* result) {
  if (result == nullptr) return "";
  std::string bytes;
  YIDI_CHECK(result->SerializeToString(&bytes), "a result serialises");
  return absl::Base64Escape(bytes);
}

}  // namespace

absl::StatusOr<std::optional<SettlementRecord>> FindSettlementRecord(Transaction& tx,
                                                                     absl::string_view id) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(absl::StrCat("SELECT ", kColumns,
                                         " FROM settlement_record WHERE settlement_id = ?"),
                            {std::string(id)}));
  if (rows.empty()) return std::optional<SettlementRecord>();
  const Row& row = rows.front();
  SettlementRecord record;
  record.settlement_id = row.Text(0);
  record.kind = static_cast<yidi::v1::SettlementKind>(row.Int(1));
  record.original_settlement_id = row.Text(2);
  record.request_digest = row.Text(3);
  record.state = static_cast<yidi::v1::SettlementState>(row.Int(4));
  record.insured_region = row.Text(5);
  record.treatment_region = row.Text(6);
  record.institution_code = row.Text(7);
  record.insurance_type = static_cast<yidi::v1::InsuranceType>(row.Int(8));
  if (!row.Text(9).empty()) {
    std::string bytes;
    yidi::v1::SettlementResult result;
    if (!absl::Base64Unescape(row.Text(9), &bytes) || !result.ParseFromString(bytes)) {
      return absl::InternalError(absl::StrCat("settlement ", id, ": stored result is corrupt"));
    }
    // Read-back check: what we stored obeys the identities, or something broke in between.
    if (absl::Status identities = CheckSlipIdentities(result); !identities.ok()) {
      return absl::InternalError(
          absl::StrCat("settlement ", id, ": stored result breaks ", identities.message()));
    }
    record.result = std::move(result);
  }
  return std::optional<SettlementRecord>(std::move(record));
}

absl::Status InsertSettlementRecord(Transaction& tx, const SettlementRecord& record,
                                    absl::Time now) {
  const std::string timestamp = FormatCstTimestamp(now);
  const auto* result = record.result ? &*record.result : nullptr;
  auto inserted = tx.Execute(
      "INSERT INTO settlement_record (settlement_id, kind, original_settlement_id, "
      "request_digest, state, insured_region, treatment_region, institution_code, "
      "insurance_type, total_fen, fund_total_fen, personal_account_fen, cash_fen, "
      "settlement_date, result, created_at, updated_at, pooled_fund_fen, large_expense_fen, "
      "civil_servant_fen, supplementary_fen, disabled_veteran_fen, critical_illness_fen, "
      "medical_assistance_fen, other_fund_fen) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {record.settlement_id, int64_t{record.kind}, record.original_settlement_id,
       record.request_digest, int64_t{record.state}, record.insured_region,
       record.treatment_region, record.institution_code,
       int64_t{result != nullptr && result->insurance_type() != 0 ? result->insurance_type()
                                                                  : record.insurance_type},
       result ? result->total_fen() : 0, result ? result->fund_total_fen() : 0,
       result ? result->personal_account_fen() : 0, result ? result->cash_fen() : 0,
       result ? result->settlement_date() : "", EncodeResult(result), timestamp, timestamp,
       result ? result->pooled_fund_fen() : 0, result ? result->large_expense_fen() : 0,
       result ? result->civil_servant_fen() : 0, result ? result->supplementary_fen() : 0,
       result ? result->disabled_veteran_fen() : 0, result ? result->critical_illness_fen() : 0,
       result ? result->medical_assistance_fen() : 0, result ? result->other_fund_fen() : 0});
  return inserted.status();
}

absl::Status UpdateSettlementRecord(Transaction& tx, absl::string_view id,
                                    yidi::v1::SettlementState state,
                                    const yidi::v1::SettlementResult* result, absl::Time now) {
  absl::StatusOr<int64_t> changed;
  if (result != nullptr) {
    changed = tx.Execute(
        "UPDATE settlement_record SET state = ?, total_fen = ?, fund_total_fen = ?, "
        "personal_account_fen = ?, cash_fen = ?, settlement_date = ?, result = ?, "
        "updated_at = ?, pooled_fund_fen = ?, large_expense_fen = ?, civil_servant_fen = ?, "
        "supplementary_fen = ?, disabled_veteran_fen = ?, critical_illness_fen = ?, "
        "medical_assistance_fen = ?, other_fund_fen = ?, "
        // The insured region's result is the authority on the insurance type: a hop that
        // recorded the request before forwarding may have had none (the hospital need not
        // send it), and the clearing files each settlement under 职工 or 居民 by this column.
        "insurance_type = CASE WHEN ? = 0 THEN insurance_type ELSE ? END "
        "WHERE settlement_id = ?",
        {int64_t{state}, result->total_fen(), result->fund_total_fen(),
         result->personal_account_fen(), result->cash_fen(), result->settlement_date(),
         EncodeResult(result), FormatCstTimestamp(now), result->pooled_fund_fen(),
         result->large_expense_fen(), result->civil_servant_fen(), result->supplementary_fen(),
         result->disabled_veteran_fen(), result->critical_illness_fen(),
         result->medical_assistance_fen(), result->other_fund_fen(),
         int64_t{result->insurance_type()}, int64_t{result->insurance_type()}, std::string(id)});
  } else {
    changed = tx.Execute(
        "UPDATE settlement_record SET state = ?, updated_at = ? WHERE settlement_id = ?",
        {int64_t{state}, FormatCstTimestamp(now), std::string(id)});
  }
  if (!changed.ok()) return changed.status();
  if (*changed == 0) return absl::NotFoundError(absl::StrCat("settlement ", id, " not recorded"));
  return absl::OkStatus();
}

absl::Status DeleteSettlementRecord(Transaction& tx, absl::string_view id) {
  return tx.Execute("DELETE FROM settlement_record WHERE settlement_id = ?", {std::string(id)})
      .status();
}

absl::StatusOr<std::vector<std::pair<yidi::v1::SettlementState, int64_t>>>
CountSettlementRecords(Transaction& tx) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT state, COUNT(*) FROM settlement_record "
                                       "GROUP BY state ORDER BY state"));
  std::vector<std::pair<yidi::v1::SettlementState, int64_t>> counts;
  for (const Row& row : rows) {
    counts.emplace_back(static_cast<yidi::v1::SettlementState>(row.Int(0)), row.Int(1));
  }
  return counts;
}

}  // namespace yidi
