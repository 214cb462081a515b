#include "municipal/insured_registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/filing_index.h"
#include "common/id_number.h"
#include "common/money.h"
#include "common/status_macros.h"
#include "municipal/filing_store.h"

namespace yidi::municipal {

std::vector<Migration> MunicipalMigrations() {
  std::vector<Migration> migrations = {
      {100,
       "insured_person and filing",
       {"CREATE TABLE insured_person ("
        " id_number VARCHAR(18) NOT NULL PRIMARY KEY,"
        " name VARCHAR(200) NOT NULL,"
        " sex INTEGER NOT NULL,"
        " birth_date VARCHAR(10) NOT NULL,"
        " insurance_type INTEGER NOT NULL,"
        " person_type INTEGER NOT NULL,"
        " status INTEGER NOT NULL,"
        " personal_account_balance_fen BIGINT NOT NULL,"
        " chronic_disease_codes VARCHAR(400) NOT NULL,"
        " updated_at VARCHAR(32) NOT NULL)",
        "CREATE TABLE filing ("
        " filing_id VARCHAR(40) NOT NULL PRIMARY KEY,"
        " id_number VARCHAR(18) NOT NULL,"
        " category INTEGER NOT NULL,"
        " treatment_region VARCHAR(6) NOT NULL,"
        " start_date VARCHAR(10) NOT NULL,"
        " end_date VARCHAR(10) NOT NULL,"
        " cancelled INTEGER NOT NULL,"
        " undertaking INTEGER NOT NULL,"
        " materials_complete INTEGER NOT NULL,"
        " created_at VARCHAR(32) NOT NULL)",
        "CREATE INDEX filing_by_person ON filing (id_number)"}},
      {101,
       "yearly accumulators and the changes each settlement made to them",
       {"CREATE TABLE accumulator ("
        " id_number VARCHAR(18) NOT NULL,"
        " insurance_type INTEGER NOT NULL,"
        " year INTEGER NOT NULL,"
        " name VARCHAR(48) NOT NULL,"
        " amount BIGINT NOT NULL,"
        " PRIMARY KEY (id_number, insurance_type, year, name))",
        "CREATE TABLE accumulator_change ("
        " settlement_id VARCHAR(80) NOT NULL,"
        " id_number VARCHAR(18) NOT NULL,"
        " insurance_type INTEGER NOT NULL,"
        " year INTEGER NOT NULL,"
        " name VARCHAR(48) NOT NULL,"
        " delta BIGINT NOT NULL,"
        " PRIMARY KEY (settlement_id, year, name))"}},
      {102,
       "person attributes the policy engine reads: assistance category, subsidies",
       // One column per statement: SQLite adds one column per ALTER TABLE; MySQL accepts the
       // same. Existing persons read as ordinary people (0 = none / false).
       {"ALTER TABLE insured_person ADD COLUMN assistance_category INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE insured_person ADD COLUMN civil_servant_subsidy INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE insured_person ADD COLUMN disabled_veteran INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE insured_person ADD COLUMN supplementary_insurance INTEGER NOT NULL "
        "DEFAULT 0"}},
  };
  // The filing side (municipal/filing_store.cc): versions 110–119.
  for (Migration& migration : FilingMigrations()) migrations.push_back(std::move(migration));
  return migrations;
}

absl::Status SeedRegistry(Store& store, const yidi::v1::PersonRegistry& registry,
                          absl::string_view insured_region, absl::Time now) {
  const std::string timestamp = FormatCstTimestamp(now);
  ASSIGN_OR_RETURN(auto tx, store.Begin(TransactionMode::kWrite));
  for (int i = 0; i < registry.persons_size(); ++i) {
    const auto& person = registry.persons(i);
    if (absl::Status valid = ValidateIdNumber(person.id_number()); !valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("persons[", i, "].id_number: ", valid.message()));
    }
    ASSIGN_OR_RETURN(auto existing, FindPerson(*tx, person.id_number()));
    if (existing.has_value()) continue;
    if (person.personal_account_balance_fen() < 0 ||
        person.personal_account_balance_fen() > kAmountMaxFen) {
      return absl::InvalidArgumentError(absl::StrCat(
          "persons[", i, "].personal_account_balance_fen: outside 0..", kAmountMaxFen));
    }
    RETURN_IF_ERROR(
        tx->Execute("INSERT INTO insured_person (id_number, name, sex, birth_date, "
                    "insurance_type, person_type, status, personal_account_balance_fen, "
                    "chronic_disease_codes, updated_at, assistance_category, "
                    "civil_servant_subsidy, disabled_veteran, supplementary_insurance) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    {person.id_number(), person.name(), int64_t{person.sex()}, person.birth_date(),
                     int64_t{person.insurance_type()}, int64_t{person.person_type()},
                     int64_t{person.status()}, person.personal_account_balance_fen(),
                     absl::StrJoin(person.chronic_disease_codes(), ","), timestamp,
                     int64_t{person.assistance_category()},
                     int64_t{person.civil_servant_subsidy()}, int64_t{person.disabled_veteran()},
                     int64_t{person.supplementary_insurance()}})
            .status());
  }
  for (int i = 0; i < registry.filings_size(); ++i) {
    const auto& filing = registry.filings(i);
    if (!filing.insured_region().empty() && filing.insured_region() != insured_region) {
      return absl::InvalidArgumentError(
          absl::StrCat("filings[", i, "].insured_region: not this region"));
    }
    ASSIGN_OR_RETURN(auto person, FindPerson(*tx, filing.id_number()));
    if (!person.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("filings[", i, "].id_number: not an insured person of this region"));
    }
    ASSIGN_OR_RETURN(auto stored, FindFiling(*tx, filing.filing_id(), insured_region));
    if (stored.has_value()) continue;
    // Seeded filings are version 1 and reach the indexes like any other (docs/FILING.md).
    yidi::v1::Filing seeded = filing;
    seeded.set_insured_region(std::string(insured_region));
    seeded.set_version(1);
    seeded.set_created_at(timestamp);
    seeded.set_updated_at(timestamp);
    RETURN_IF_ERROR(InsertFiling(*tx, seeded));
    yidi::v1::FilingChange change;
    *change.mutable_filing() = std::move(seeded);
    RETURN_IF_ERROR(EnqueueFilingUpload(*tx, change, now));
  }
  return tx->Commit();
}

absl::StatusOr<std::optional<yidi::v1::PersonRecord>> FindPerson(Transaction& tx,
                                                                  absl::string_view id_number) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT id_number, name, sex, birth_date, insurance_type, "
                            "person_type, status, personal_account_balance_fen, "
                            "chronic_disease_codes, assistance_category, civil_servant_subsidy, "
                            "disabled_veteran, supplementary_insurance FROM insured_person "
                            "WHERE id_number = ?",
                            {std::string(id_number)}));
  if (rows.empty()) return std::optional<yidi::v1::PersonRecord>();
  const Row& row = rows.front();
  yidi::v1::PersonRecord person;
  person.set_id_number(row.Text(0));
  person.set_name(row.Text(1));
  person.set_sex(static_cast<yidi::v1::Sex>(row.Int(2)));
  person.set_birth_date(row.Text(3));
  person.set_insurance_type(static_cast<yidi::v1::InsuranceType>(row.Int(4)));
  person.set_person_type(static_cast<yidi::v1::PersonType>(row.Int(5)));
  person.set_status(static_cast<yidi::v1::InsuredStatus>(row.Int(6)));
  person.set_personal_account_balance_fen(row.Int(7));
  for (absl::string_view code : absl::StrSplit(row.Text(8), ',', absl::SkipEmpty())) {
    person.add_chronic_disease_codes(std::string(code));
  }
  person.set_assistance_category(static_cast<yidi::v1::AssistanceCategory>(row.Int(9)));
  person.set_civil_servant_subsidy(row.Int(10) != 0);
  person.set_disabled_veteran(row.Int(11) != 0);
  person.set_supplementary_insurance(row.Int(12) != 0);
  return std::optional<yidi::v1::PersonRecord>(std::move(person));
}

absl::Status AdjustPersonalAccountBalance(Transaction& tx, absl::string_view id_number,
                                          int64_t delta_fen) {
  if (delta_fen == 0) return absl::OkStatus();
  // The guard keeps the balance ≥ 0 even if a caller computed on a stale read.
  ASSIGN_OR_RETURN(int64_t changed,
                   tx.Execute("UPDATE insured_person SET personal_account_balance_fen = "
                              "personal_account_balance_fen + ? WHERE id_number = ? AND "
                              "personal_account_balance_fen + ? >= 0",
                              {delta_fen, std::string(id_number), delta_fen}));
  if (changed != 1) {
    return absl::InternalError(absl::StrCat(
        "personal account of ", MaskIdNumber(id_number), ": a change of ", delta_fen,
        " fen would leave it below zero or the person is unknown"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<yidi::v1::Filing>> ListFilings(Transaction& tx,
                                                          absl::string_view id_number,
                                                          absl::string_view insured_region) {
  return LoadFilings(tx, id_number, insured_region);
}

}  // namespace yidi::municipal
