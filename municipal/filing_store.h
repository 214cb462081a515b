// Storage of the insured region's filings (table `filing`), chronic-disease eligibility
// (`chronic_disease_eligibility`) and filing requests (`filing_request`, the idempotency table:
// request id → digest and stored answer), in the municipal node's database. Every function works
// inside the caller's Transaction, so a change, its upload (outbox) and its request record
// commit together.
#ifndef YIDI_MUNICIPAL_FILING_STORE_H_
#define YIDI_MUNICIPAL_FILING_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/store/store.h"
#include "yidi/v1/filing.pb.h"
#include "yidi/v1/person.pb.h"

namespace yidi::municipal {

// Schema of the filing side (versions 110–112): the filing table's life-cycle columns, the
// request and chronic-disease tables, the upload outbox.
std::vector<Migration> FilingMigrations();

// REQUIRES: a write transaction; `filing` complete (id, version ≥ 1, timestamps).
absl::Status InsertFiling(Transaction& tx, const yidi::v1::Filing& filing);
// Writes every mutable column of the stored filing with the same id. INTERNAL when none.
absl::Status UpdateFiling(Transaction& tx, const yidi::v1::Filing& filing);

absl::StatusOr<std::optional<yidi::v1::Filing>> FindFiling(Transaction& tx,
                                                           absl::string_view filing_id,
                                                           absl::string_view insured_region);

// All filings of a person, cancelled ones included, oldest first (start date, id).
absl::StatusOr<std::vector<yidi::v1::Filing>> LoadFilings(Transaction& tx,
                                                          absl::string_view id_number,
                                                          absl::string_view insured_region);

// Filings not cancelled whose undertaking's materials were due before `day` and are still
// missing: the lapse sweep's work, at most `limit`.
absl::StatusOr<std::vector<yidi::v1::Filing>> LoadLapsedUndertakings(
    Transaction& tx, absl::CivilDay day, absl::string_view insured_region, int limit);

// "F360100-20261123-000001": the next id of `prefix` ('F' filing, 'M' chronic disease) for
// `region` and `day`. Unique because write transactions are serialised.
absl::StatusOr<std::string> NextRecordId(Transaction& tx, char prefix, absl::string_view region,
                                         absl::CivilDay day);

absl::Status InsertChronicDisease(Transaction& tx,
                                  const yidi::v1::ChronicDiseaseEligibility& eligibility);
absl::Status UpdateChronicDisease(Transaction& tx,
                                  const yidi::v1::ChronicDiseaseEligibility& eligibility);
absl::StatusOr<std::optional<yidi::v1::ChronicDiseaseEligibility>> FindChronicDisease(
    Transaction& tx, absl::string_view eligibility_id, absl::string_view insured_region);
absl::StatusOr<std::vector<yidi::v1::ChronicDiseaseEligibility>> LoadChronicDiseases(
    Transaction& tx, absl::string_view id_number, absl::string_view insured_region);

// A request that changed state, kept so that a retry gets the same answer.
enum class FilingRequestKind {
  kCreate = 1,
  kChange = 2,
  kCancel = 3,
  kRecordChronicDisease = 4,
  kRevokeChronicDisease = 5,
};
struct StoredFilingRequest {
  FilingRequestKind kind;
  std::string digest;
  std::string response;  // serialised response message
};
absl::StatusOr<std::optional<StoredFilingRequest>> FindFilingRequest(Transaction& tx,
                                                                     absl::string_view request_id);
absl::Status InsertFilingRequest(Transaction& tx, absl::string_view request_id,
                                 const StoredFilingRequest& request, absl::string_view created_at);

}  // namespace yidi::municipal

#endif  // YIDI_MUNICIPAL_FILING_STORE_H_
