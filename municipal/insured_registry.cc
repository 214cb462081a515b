#include "municipal/insured_registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/id_number.h"
#include "common/status_macros.h"

namespace yidi::municipal {

std::vector<Migration> MunicipalMigrations() {
  return {
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
  };
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
    RETURN_IF_ERROR(
        tx->Execute("INSERT INTO insured_person (id_number, name, sex, birth_date, "
                    "insurance_type, person_type, status, personal_account_balance_fen, "
                    "chronic_disease_codes, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    {person.id_number(), person.name(), int64_t{person.sex()}, person.birth_date(),
                     int64_t{person.insurance_type()}, int64_t{person.person_type()},
                     int64_t{person.status()}, person.personal_account_balance_fen(),
                     absl::StrJoin(person.chronic_disease_codes(), ","), timestamp})
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
    ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT 1 FROM filing WHERE filing_id = ?",
                                          {filing.filing_id()}));
    if (!rows.empty()) continue;
    RETURN_IF_ERROR(
        tx->Execute("INSERT INTO filing (filing_id, id_number, category, treatment_region, "
                    "start_date, end_date, cancelled, undertaking, materials_complete, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    {filing.filing_id(), filing.id_number(), int64_t{filing.category()},
                     filing.treatment_region(), filing.start_date(), filing.end_date(),
                     int64_t{filing.cancelled()}, int64_t{filing.undertaking()},
                     int64_t{filing.materials_complete()}, timestamp})
            .status());
  }
  return tx->Commit();
}

absl::StatusOr<std::optional<yidi::v1::PersonRecord>> FindPerson(Transaction& tx,
                                                                  absl::string_view id_number) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT id_number, name, sex, birth_date, insurance_type, "
                            "person_type, status, personal_account_balance_fen, "
                            "chronic_disease_codes FROM insured_person WHERE id_number = ?",
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
  return std::optional<yidi::v1::PersonRecord>(std::move(person));
}

absl::StatusOr<std::vector<yidi::v1::Filing>> ListFilings(Transaction& tx,
                                                          absl::string_view id_number,
                                                          absl::string_view insured_region) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT filing_id, category, treatment_region, start_date, end_date, "
                            "cancelled, undertaking, materials_complete FROM filing "
                            "WHERE id_number = ? ORDER BY start_date, filing_id",
                            {std::string(id_number)}));
  std::vector<yidi::v1::Filing> filings;
  for (const Row& row : rows) {
    yidi::v1::Filing filing;
    filing.set_filing_id(row.Text(0));
    filing.set_id_number(std::string(id_number));
    filing.set_insured_region(std::string(insured_region));
    filing.set_category(static_cast<yidi::v1::FilingCategory>(row.Int(1)));
    filing.set_treatment_region(row.Text(2));
    filing.set_start_date(row.Text(3));
    filing.set_end_date(row.Text(4));
    filing.set_cancelled(row.Int(5) != 0);
    filing.set_undertaking(row.Int(6) != 0);
    filing.set_materials_complete(row.Int(7) != 0);
    filings.push_back(std::move(filing));
  }
  return filings;
}

}  // namespace yidi::municipal
