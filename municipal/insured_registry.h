// The insured region's registry: insured persons, their filings (备案) and chronic-disease
// eligibility, in the municipal node's own database: persons and filings are read here and
// seeded from the node's persons file; the filing life cycle is municipal/filing_registry.h and
// the filing table itself municipal/filing_store.h.
// Functions take the caller's Transaction, so a settlement reads them in its own transaction.
#ifndef YIDI_MUNICIPAL_INSURED_REGISTRY_H_
#define YIDI_MUNICIPAL_INSURED_REGISTRY_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/store/store.h"
#include "yidi/v1/config.pb.h"
#include "yidi/v1/filing.pb.h"
#include "yidi/v1/person.pb.h"

namespace yidi::municipal {

// Schema of the municipal node (versions 100–199).
std::vector<Migration> MunicipalMigrations();

// Inserts the persons and filings of `registry` that are not yet stored; never overwrites or
// deletes (what the node changed at run time wins). INVALID_ARGUMENT naming the entry when an ID
// number fails its check or a filing names an unknown person.
// A filing inserted here is version 1 and gets its upload row in the outbox (docs/FILING.md).
absl::Status SeedRegistry(Store& store, const yidi::v1::PersonRegistry& registry,
                          absl::string_view insured_region, absl::Time now);

absl::StatusOr<std::optional<yidi::v1::PersonRecord>> FindPerson(Transaction& tx,
                                                                  absl::string_view id_number);

// Adds `delta_fen` to the person's personal-account balance (negative: a debit by a
// settlement; positive: restored by Reverse or Correct), inside the caller's write transaction.
// INTERNAL when the person is unknown or the balance would go below zero (nothing changed).
absl::Status AdjustPersonalAccountBalance(Transaction& tx, absl::string_view id_number,
                                          int64_t delta_fen);

// The disease codes of the person's chronic-disease eligibility records (门诊慢特病资格,
// recorded by RecordChronicDisease or seeded) in force on `day`: started, not ended, not
// revoked before it. Settlement reads chronic eligibility here (RULES.md 3.14), not from
// PersonRecord.chronic_disease_codes, which only seeds the records.
absl::StatusOr<std::vector<std::string>> ChronicDiseasesInForce(Transaction& tx,
                                                                absl::string_view id_number,
                                                                absl::string_view insured_region,
                                                                absl::CivilDay day);
bool ChronicDiseaseInForce(const yidi::v1::ChronicDiseaseEligibility& record, absl::CivilDay day);

// All filings of a person, cancelled ones included, oldest first.
absl::StatusOr<std::vector<yidi::v1::Filing>> ListFilings(Transaction& tx,
                                                          absl::string_view id_number,
                                                          absl::string_view insured_region);

}  // namespace yidi::municipal

#endif  // YIDI_MUNICIPAL_INSURED_REGISTRY_H_
