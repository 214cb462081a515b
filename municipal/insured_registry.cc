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
      {103,
       "门诊共济: whose account a person may use, and what each settlement took from it",
       {"ALTER TABLE insured_person ADD COLUMN family_account_owner VARCHAR(18) NOT NULL "
        "DEFAULT ''",
        "CREATE TABLE family_account_debit ("
        " settlement_id VARCHAR(80) NOT NULL PRIMARY KEY,"
        " owner_id_number VARCHAR(18) NOT NULL,"
        " user_id_number VARCHAR(18) NOT NULL,"
        " amount_fen BIGINT NOT NULL,"
        " created_at VARCHAR(32) NOT NULL)",
        "CREATE INDEX family_account_debit_by_owner ON family_account_debit (owner_id_number)"}},
      {104,
       "referral episodes: the deductible each settled stay of an episode applied",
       {"CREATE TABLE referral_episode ("
        " settlement_id VARCHAR(80) NOT NULL PRIMARY KEY,"
        " episode_id VARCHAR(80) NOT NULL,"
        " id_number VARCHAR(18) NOT NULL,"
        " deductible_fen BIGINT NOT NULL)",
        "CREATE INDEX referral_episode_by_episode ON referral_episode (episode_id)"}},
  };
  // The filing side (municipal/filing_store.cc): versions 110–119.
  for (Migration& migration : FilingMigrations()) migrations.push_back(std::move(migration));
  return migrations;
}

namespace {

// The chronic diseases a seeded person's record lists, as eligibility records (from the
// person's birth date, no end) where no record of that disease exists yet; each uploaded like
// one recorded through RecordChronicDisease.
absl::Status SeedChronicDiseases(Transaction& tx, const yidi::v1::PersonRecord& person,
                                 absl::string_view insured_region, absl::Time now) {
  if (person.chronic_disease_codes().empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(auto existing, LoadChronicDiseases(tx, person.id_number(), insured_region));
  const std::string timestamp = FormatCstTimestamp(now);
  for (const std::string& code : person.chronic_disease_codes()) {
    bool recorded = false;
    for (const auto& record : existing) recorded |= record.disease_code() == code;
    if (recorded) continue;
    yidi::v1::ChronicDiseaseEligibility eligibility;
    ASSIGN_OR_RETURN(std::string id, NextRecordId(tx, 'M', insured_region, CstDay(now)));
    eligibility.set_eligibility_id(id);
    eligibility.set_id_number(person.id_number());
    eligibility.set_insured_region(std::string(insured_region));
    eligibility.set_disease_code(code);
    eligibility.set_start_date(person.birth_date());
    eligibility.set_version(1);
    eligibility.set_created_at(timestamp);
    eligibility.set_updated_at(timestamp);
    RETURN_IF_ERROR(InsertChronicDisease(tx, eligibility));
    yidi::v1::FilingChange change;
    *change.mutable_chronic_disease() = eligibility;
    RETURN_IF_ERROR(EnqueueFilingUpload(tx, change, now));
    existing.push_back(std::move(eligibility));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ChronicDiseasesInForce(Transaction& tx,
                                                                absl::string_view id_number,
                                                                absl::string_view insured_region,
                                                                absl::CivilDay day) {
  ASSIGN_OR_RETURN(auto records, LoadChronicDiseases(tx, id_number, insured_region));
  std::vector<std::string> codes;
  for (const auto& record : records) {
    if (ChronicDiseaseInForce(record, day)) codes.push_back(record.disease_code());
  }
  return codes;
}

bool ChronicDiseaseInForce(const yidi::v1::ChronicDiseaseEligibility& record, absl::CivilDay day) {
  auto start = ParseDate(record.start_date());
  if (!start.ok() || day < *start) return false;
  if (!record.end_date().empty()) {
    auto end = ParseDate(record.end_date());
    if (!end.ok() || day > *end) return false;
  }
  if (record.revoked()) {
    // In force until the day the revocation took effect; a record revoked without a day
    // covers nothing.
    auto revoked_on = ParseDate(record.revoked_on());
    if (!revoked_on.ok() || day >= *revoked_on) return false;
  }
  return true;
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
                    "civil_servant_subsidy, disabled_veteran, supplementary_insurance, "
                    "family_account_owner) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    {person.id_number(), person.name(), int64_t{person.sex()}, person.birth_date(),
                     int64_t{person.insurance_type()}, int64_t{person.person_type()},
                     int64_t{person.status()}, person.personal_account_balance_fen(),
                     absl::StrJoin(person.chronic_disease_codes(), ","), timestamp,
                     int64_t{person.assistance_category()},
                     int64_t{person.civil_servant_subsidy()}, int64_t{person.disabled_veteran()},
                     int64_t{person.supplementary_insurance()},
                     person.family_account_owner_id_number()})
            .status());
  }
  // 门诊共济 owners are checked once every person is in: an employee of this region, not the
  // person themself.
  for (int i = 0; i < registry.persons_size(); ++i) {
    const auto& person = registry.persons(i);
    if (person.family_account_owner_id_number().empty()) continue;
    const std::string field = absl::StrCat("persons[", i, "].family_account_owner_id_number");
    ASSIGN_OR_RETURN(auto owner, FindPerson(*tx, person.family_account_owner_id_number()));
    if (!owner.has_value() || person.family_account_owner_id_number() == person.id_number() ||
        owner->insurance_type() != yidi::v1::INSURANCE_TYPE_EMPLOYEE) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": must be another insured person of this region with employee insurance "
                 "(the account owner, 授权人)"));
    }
  }
  // Chronic diseases certified in the persons file become eligibility records (from the
  // person's first day on record), so settlement reads one source: the records.
  for (int i = 0; i < registry.persons_size(); ++i) {
    RETURN_IF_ERROR(SeedChronicDiseases(*tx, registry.persons(i), insured_region, now));
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
                            "disabled_veteran, supplementary_insurance, family_account_owner "
                            "FROM insured_person WHERE id_number = ?",
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
  person.set_family_account_owner_id_number(row.Text(13));
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
