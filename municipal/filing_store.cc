#include "municipal/filing_store.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/outbox.h"
#include "common/status_macros.h"

namespace yidi::municipal {
namespace {

using yidi::v1::ChronicDiseaseEligibility;
using yidi::v1::Filing;

// Ids per region and day: six digits.
constexpr int kRecordsPerDayMax = 999999;

constexpr char kFilingColumns[] =
    "filing_id, id_number, category, treatment_region, start_date, end_date, cancelled, "
    "undertaking, materials_complete, version, cancelled_on, cancel_reason, materials_due_date, "
    "materials, covered_care, replaces_filing_id, created_at, updated_at";

template <typename Repeated>
std::string JoinEnums(const Repeated& values) {
  std::vector<std::string> parts;
  for (int value : values) parts.push_back(absl::StrCat(value));
  return absl::StrJoin(parts, ",");
}

std::vector<int> SplitEnums(absl::string_view text) {
  std::vector<int> values;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int value = 0;
    if (absl::SimpleAtoi(part, &value)) values.push_back(value);
  }
  return values;
}

Filing FilingOf(const Row& row, absl::string_view insured_region) {
  Filing filing;
  filing.set_filing_id(row.Text(0));
  filing.set_id_number(row.Text(1));
  filing.set_insured_region(std::string(insured_region));
  filing.set_category(static_cast<yidi::v1::FilingCategory>(row.Int(2)));
  filing.set_treatment_region(row.Text(3));
  filing.set_start_date(row.Text(4));
  filing.set_end_date(row.Text(5));
  filing.set_cancelled(row.Int(6) != 0);
  filing.set_undertaking(row.Int(7) != 0);
  filing.set_materials_complete(row.Int(8) != 0);
  filing.set_version(row.Int(9));
  filing.set_cancelled_on(row.Text(10));
  filing.set_cancel_reason(static_cast<yidi::v1::FilingCancelReason>(row.Int(11)));
  filing.set_materials_due_date(row.Text(12));
  for (int material : SplitEnums(row.Text(13))) {
    filing.add_materials(static_cast<yidi::v1::FilingMaterial>(material));
  }
  for (int care : SplitEnums(row.Text(14))) {
    filing.add_covered_care(static_cast<yidi::v1::CareKind>(care));
  }
  filing.set_replaces_filing_id(row.Text(15));
  filing.set_created_at(row.Text(16));
  filing.set_updated_at(row.Text(17));
  return filing;
}

constexpr char kChronicColumns[] =
    "eligibility_id, id_number, disease_code, disease_name, start_date, end_date, revoked, "
    "revoked_on, version, created_at, updated_at";

ChronicDiseaseEligibility ChronicOf(const Row& row, absl::string_view insured_region) {
  ChronicDiseaseEligibility eligibility;
  eligibility.set_eligibility_id(row.Text(0));
  eligibility.set_id_number(row.Text(1));
  eligibility.set_insured_region(std::string(insured_region));
  eligibility.set_disease_code(row.Text(2));
  eligibility.set_disease_name(row.Text(3));
  eligibility.set_start_date(row.Text(4));
  eligibility.set_end_date(row.Text(5));
  eligibility.set_revoked(row.Int(6) != 0);
  eligibility.set_revoked_on(row.Text(7));
  eligibility.set_version(row.Int(8));
  eligibility.set_created_at(row.Text(9));
  eligibility.set_updated_at(row.Text(10));
  return eligibility;
}

}  // namespace

std::vector<Migration> FilingMigrations() {
  return {
      {110,
       "filing life cycle: versions, cancellation, undertakings, materials, coverage",
       // One column per statement: SQLite adds one column per ALTER TABLE. Filings seeded
       // before this step read as version 1 covering every kind of care.
       {"ALTER TABLE filing ADD COLUMN version BIGINT NOT NULL DEFAULT 1",
        "ALTER TABLE filing ADD COLUMN cancelled_on VARCHAR(10) NOT NULL DEFAULT ''",
        "ALTER TABLE filing ADD COLUMN cancel_reason INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE filing ADD COLUMN materials_due_date VARCHAR(10) NOT NULL DEFAULT ''",
        "ALTER TABLE filing ADD COLUMN materials VARCHAR(100) NOT NULL DEFAULT ''",
        "ALTER TABLE filing ADD COLUMN covered_care VARCHAR(40) NOT NULL DEFAULT ''",
        "ALTER TABLE filing ADD COLUMN replaces_filing_id VARCHAR(40) NOT NULL DEFAULT ''",
        "ALTER TABLE filing ADD COLUMN updated_at VARCHAR(32) NOT NULL DEFAULT ''",
        "CREATE INDEX filing_by_due_date ON filing (cancelled, materials_due_date)"}},
      {111,
       "filing requests (idempotency) and chronic-disease eligibility",
       {"CREATE TABLE filing_request ("
        " request_id VARCHAR(64) NOT NULL PRIMARY KEY,"
        " kind INTEGER NOT NULL,"
        " digest VARCHAR(64) NOT NULL,"
        " response MEDIUMTEXT NOT NULL,"
        " created_at VARCHAR(32) NOT NULL)",
        "CREATE TABLE chronic_disease_eligibility ("
        " eligibility_id VARCHAR(40) NOT NULL PRIMARY KEY,"
        " id_number VARCHAR(18) NOT NULL,"
        " disease_code VARCHAR(16) NOT NULL,"
        " disease_name VARCHAR(200) NOT NULL,"
        " start_date VARCHAR(10) NOT NULL,"
        " end_date VARCHAR(10) NOT NULL,"
        " revoked INTEGER NOT NULL,"
        " revoked_on VARCHAR(10) NOT NULL,"
        " version BIGINT NOT NULL,"
        " created_at VARCHAR(32) NOT NULL,"
        " updated_at VARCHAR(32) NOT NULL)",
        "CREATE INDEX chronic_disease_by_person ON chronic_disease_eligibility (id_number)"}},
      {112, "outbox: filing uploads toward the province", OutboxSchemaStatements()},
  };
}

absl::Status InsertFiling(Transaction& tx, const Filing& filing) {
  YIDI_CHECK(!filing.filing_id().empty() && filing.version() >= 1,
             "a stored filing has an id and a version");
  return tx
      .Execute(absl::StrCat("INSERT INTO filing (", kFilingColumns,
                            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
               {filing.filing_id(), filing.id_number(), int64_t{filing.category()},
                filing.treatment_region(), filing.start_date(), filing.end_date(),
                int64_t{filing.cancelled()}, int64_t{filing.undertaking()},
                int64_t{filing.materials_complete()}, filing.version(), filing.cancelled_on(),
                int64_t{filing.cancel_reason()}, filing.materials_due_date(),
                JoinEnums(filing.materials()), JoinEnums(filing.covered_care()),
                filing.replaces_filing_id(), filing.created_at(), filing.updated_at()})
      .status();
}

absl::Status UpdateFiling(Transaction& tx, const Filing& filing) {
  ASSIGN_OR_RETURN(
      int64_t changed,
      tx.Execute("UPDATE filing SET treatment_region = ?, start_date = ?, end_date = ?, "
                 "cancelled = ?, undertaking = ?, materials_complete = ?, version = ?, "
                 "cancelled_on = ?, cancel_reason = ?, materials_due_date = ?, materials = ?, "
                 "covered_care = ?, updated_at = ? WHERE filing_id = ?",
                 {filing.treatment_region(), filing.start_date(), filing.end_date(),
                  int64_t{filing.cancelled()}, int64_t{filing.undertaking()},
                  int64_t{filing.materials_complete()}, filing.version(), filing.cancelled_on(),
                  int64_t{filing.cancel_reason()}, filing.materials_due_date(),
                  JoinEnums(filing.materials()), JoinEnums(filing.covered_care()),
                  filing.updated_at(), filing.filing_id()}));
  if (changed != 1) {
    return absl::InternalError(absl::StrCat("filing ", filing.filing_id(), " is not stored"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Filing>> FindFiling(Transaction& tx, absl::string_view filing_id,
                                                 absl::string_view insured_region) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(absl::StrCat("SELECT ", kFilingColumns,
                                                    " FROM filing WHERE filing_id = ?"),
                                       {std::string(filing_id)}));
  if (rows.empty()) return std::optional<Filing>();
  return std::optional<Filing>(FilingOf(rows.front(), insured_region));
}

absl::StatusOr<std::vector<Filing>> LoadFilings(Transaction& tx, absl::string_view id_number,
                                                absl::string_view insured_region) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(absl::StrCat("SELECT ", kFilingColumns,
                                         " FROM filing WHERE id_number = ? "
                                         "ORDER BY start_date, filing_id"),
                            {std::string(id_number)}));
  std::vector<Filing> filings;
  filings.reserve(rows.size());
  for (const Row& row : rows) filings.push_back(FilingOf(row, insured_region));
  return filings;
}

absl::StatusOr<std::vector<Filing>> LoadLapsedUndertakings(Transaction& tx, absl::CivilDay day,
                                                           absl::string_view insured_region,
                                                           int limit) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(absl::StrCat("SELECT ", kFilingColumns,
                                         " FROM filing WHERE cancelled = 0 AND "
                                         "materials_due_date <> '' AND materials_due_date < ? "
                                         "AND undertaking = 1 AND materials_complete = 0 "
                                         "ORDER BY materials_due_date, filing_id LIMIT ",
                                         limit),
                            {FormatDate(day)}));
  std::vector<Filing> filings;
  for (const Row& row : rows) filings.push_back(FilingOf(row, insured_region));
  return filings;
}

absl::StatusOr<std::string> NextRecordId(Transaction& tx, char prefix, absl::string_view region,
                                         absl::CivilDay day) {
  YIDI_CHECK(prefix == 'F' || prefix == 'M', "filing or chronic-disease ids");
  const std::string stem = absl::StrFormat("%c%s-%04d%02d%02d-", prefix, region, day.year(),
                                           day.month(), day.day());
  const char* sql = prefix == 'F'
                        ? "SELECT COUNT(*) FROM filing WHERE filing_id LIKE ?"
                        : "SELECT COUNT(*) FROM chronic_disease_eligibility WHERE "
                          "eligibility_id LIKE ?";
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, {absl::StrCat(stem, "%")}));
  const int64_t next = (rows.empty() ? 0 : rows.front().Int(0)) + 1;
  if (next > kRecordsPerDayMax) {
    return absl::ResourceExhaustedError(absl::StrCat("more than ", kRecordsPerDayMax,
                                                     " records of region ", region, " today"));
  }
  return absl::StrFormat("%s%06d", stem, next);
}

absl::Status InsertChronicDisease(Transaction& tx, const ChronicDiseaseEligibility& eligibility) {
  YIDI_CHECK(!eligibility.eligibility_id().empty() && eligibility.version() >= 1,
             "a stored eligibility has an id and a version");
  return tx
      .Execute(absl::StrCat("INSERT INTO chronic_disease_eligibility (", kChronicColumns,
                            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
               {eligibility.eligibility_id(), eligibility.id_number(), eligibility.disease_code(),
                eligibility.disease_name(), eligibility.start_date(), eligibility.end_date(),
                int64_t{eligibility.revoked()}, eligibility.revoked_on(), eligibility.version(),
                eligibility.created_at(), eligibility.updated_at()})
      .status();
}

absl::Status UpdateChronicDisease(Transaction& tx, const ChronicDiseaseEligibility& eligibility) {
  ASSIGN_OR_RETURN(int64_t changed,
                   tx.Execute("UPDATE chronic_disease_eligibility SET end_date = ?, revoked = ?, "
                              "revoked_on = ?, version = ?, updated_at = ? WHERE "
                              "eligibility_id = ?",
                              {eligibility.end_date(), int64_t{eligibility.revoked()},
                               eligibility.revoked_on(), eligibility.version(),
                               eligibility.updated_at(), eligibility.eligibility_id()}));
  if (changed != 1) {
    return absl::InternalError(
        absl::StrCat("eligibility ", eligibility.eligibility_id(), " is not stored"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<ChronicDiseaseEligibility>> FindChronicDisease(
    Transaction& tx, absl::string_view eligibility_id, absl::string_view insured_region) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(absl::StrCat("SELECT ", kChronicColumns,
                                         " FROM chronic_disease_eligibility WHERE "
                                         "eligibility_id = ?"),
                            {std::string(eligibility_id)}));
  if (rows.empty()) return std::optional<ChronicDiseaseEligibility>();
  return std::optional<ChronicDiseaseEligibility>(ChronicOf(rows.front(), insured_region));
}

absl::StatusOr<std::vector<ChronicDiseaseEligibility>> LoadChronicDiseases(
    Transaction& tx, absl::string_view id_number, absl::string_view insured_region) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(absl::StrCat("SELECT ", kChronicColumns,
                                         " FROM chronic_disease_eligibility WHERE id_number = ? "
                                         "ORDER BY start_date, eligibility_id"),
                            {std::string(id_number)}));
  std::vector<ChronicDiseaseEligibility> list;
  for (const Row& row : rows) list.push_back(ChronicOf(row, insured_region));
  return list;
}

absl::StatusOr<std::optional<StoredFilingRequest>> FindFilingRequest(
    Transaction& tx, absl::string_view request_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT kind, digest, response FROM filing_request "
                                       "WHERE request_id = ?",
                                       {std::string(request_id)}));
  if (rows.empty()) return std::optional<StoredFilingRequest>();
  StoredFilingRequest stored;
  stored.kind = static_cast<FilingRequestKind>(rows.front().Int(0));
  stored.digest = rows.front().Text(1);
  if (!absl::Base64Unescape(rows.front().Text(2), &stored.response)) {
    return absl::InternalError(absl::StrCat("filing request ", request_id, ": corrupt answer"));
  }
  return std::optional<StoredFilingRequest>(std::move(stored));
}

absl::Status InsertFilingRequest(Transaction& tx, absl::string_view request_id,
                                 const StoredFilingRequest& request,
                                 absl::string_view created_at) {
  return tx
      .Execute("INSERT INTO filing_request (request_id, kind, digest, response, created_at) "
               "VALUES (?, ?, ?, ?, ?)",
               {std::string(request_id), static_cast<int64_t>(request.kind), request.digest,
                absl::Base64Escape(request.response), std::string(created_at)})
      .status();
}

}  // namespace yidi::municipal
