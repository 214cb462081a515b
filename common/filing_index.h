// Filing index: a provincial or national node's copy of the filings (备案) and chronic-disease
// eligibility (门诊慢特病资格) of the insured regions below it. The insured municipal node uploads
// every version of a record through its outbox to its province, which applies it and passes it
// on, through its own outbox, to national (000_… 第11条, 002_… 第14条, 003_… 第10条(五)).
// Applying is idempotent and in version order: a record's row keeps the highest version seen,
// so a duplicate delivery changes nothing and a late, older version never overwrites a newer
// one. The index answers "is this person filed here?" without reaching the insured region,
// saying as of when (docs/FILING.md).
//
// Also here, because the insured region and the indexes must agree on it: what a filing covers
// (FilingInForce, FilingCoversCare), pure functions.
//
// Thread safety: every function is pure or works inside the caller's Transaction.
#ifndef YIDI_COMMON_FILING_INDEX_H_
#define YIDI_COMMON_FILING_INDEX_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/directory.h"
#include "common/outbox.h"
#include "common/routing.h"
#include "common/store/store.h"
#include "yidi/v1/filing.pb.h"
#include "yidi/v1/person.pb.h"

namespace yidi {

// The outbox topic of uploads toward the parent node.
inline constexpr char kFilingUploadTopic[] = "filing-upload";
// "F360100-20261123-000001" is 23 characters; 40 leaves room for regions' own schemes.
inline constexpr int kFilingIdLengthMax = 40;
// One upload carries at most one outbox batch.
inline constexpr int kFilingUploadChangesMax = kOutboxBatchRowsMax;
// A disease code is an ICD-10 style code ("E11.9"); a name is a short text.
inline constexpr int kDiseaseCodeLengthMax = 16;

// The schema of a provincial or national node: the index (110) and the outbox toward the
// parent (111). A node kind without migrations of its own passes these to NodeMain.
std::vector<Migration> FilingIndexMigrations();

// --- What a filing covers ------------------------------------------------------------------

// True when a filing's `target` names the treatment pooling region `treatment_pool`: the same
// code, a county of that city, or any code of a provincial-level pool's province.
bool FilingNamesRegion(absl::string_view target, absl::string_view treatment_pool);

// An undertaking whose materials were due before `day` and never supplied (003_… 第7条).
bool UndertakingLapsed(const yidi::v1::Filing& filing, absl::CivilDay day);

// True when `filing` covers a stay in `treatment_pool` from `admission` to `discharge`:
//  - it names the region;
//  - it started on or before the discharge day (a filing made before discharge settles,
//    22号文 §二(四));
//  - the admission falls within its validity: on or before its end date (admitted within
//    validity settles after expiry, 000_… 第10条), before the day a cancellation took effect,
//    and not after an unmet undertaking's due date.
// A cancelled filing without `cancelled_on` (seeded data) covers nothing.
bool FilingInForce(const yidi::v1::Filing& filing, absl::string_view treatment_pool,
                   absl::CivilDay admission, absl::CivilDay discharge);

// The kind of care of a medical type (RULES.md 2.9); UNSPECIFIED for UNSPECIFIED.
yidi::v1::CareKind CareKindOf(yidi::v1::MedicalType medical_type);

// True when the filing covers `care` (a filing with no covered_care covers everything;
// UNSPECIFIED care is always covered).
bool FilingCoversCare(const yidi::v1::Filing& filing, yidi::v1::CareKind care);

bool ChronicDiseaseInForce(const yidi::v1::ChronicDiseaseEligibility& eligibility,
                           absl::CivilDay day);

// Answers a CheckFiling from a person's records (oldest first): the newest filing in force on
// `date` in `treatment_pool` that covers `care`, and the chronic-disease eligibility in force.
void AnswerCheckFiling(const std::vector<yidi::v1::Filing>& filings,
                       const std::vector<yidi::v1::ChronicDiseaseEligibility>& chronic_diseases,
                       absl::string_view treatment_pool, absl::CivilDay date,
                       yidi::v1::CareKind care, yidi::v1::CheckFilingResponse* response);

// --- Upload path ----------------------------------------------------------------------------

// The node a node uploads to: municipal → its province's node, provincial → national; nullopt
// at national. FAILED_PRECONDITION when the directory lacks that node.
absl::StatusOr<std::optional<Route>> UploadRouteOf(const NodeIdentity& self,
                                                   const DirectoryIndex& directory);

// Adds `change` to this node's upload outbox (in `tx`, the transaction of the change).
absl::Status EnqueueFilingUpload(Transaction& tx, const yidi::v1::FilingChange& change,
                                 absl::Time now);

// --- Down to the treatment province (Liaoning 003_… 第10条(五): "接收省外参保人员备案信息") ---
// National passes every filing it applies that names a treatment region in ANOTHER province
// than the insured region's on to that province's node, through an outbox topic per province
// written in the same transaction (the same at-least-once, version-ordered path as the upload).

// The outbox topic of the filings national passes to `province` ("filing-to-210000").
std::string TreatmentProvinceTopic(absl::string_view province);

// The province (xx0000) whose node should receive `change`: a filing whose treatment region's
// province differs from its insured region's and has a provincial node in `directory`;
// nullopt otherwise (chronic-disease records name no treatment region).
std::optional<std::string> TreatmentProvinceOf(const yidi::v1::FilingChange& change,
                                               const DirectoryIndex& directory);

// An OutboxSender::Deliver that sends rows of kFilingUploadTopic to `address` with
// FilingService.UploadFilingChanges, over a channel of its own: its connection (and the
// reconnect backoff after a failed attempt) is never shared with the node's forwarding channels
// (StubCache), so a retry loop toward a parent that is down cannot make a hospital's call to
// the same parent fail fast once it is back.
// `credentials`: the sending node's TLS client credentials (nullptr = plaintext).
OutboxSender::Deliver MakeFilingUploadDelivery(
    std::string address, std::string sender_name,
    std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);

// --- Receiving ------------------------------------------------------------------------------

// Structure of an upload as `receiver` gets it: 1..kFilingUploadChangesMax changes, each a
// filing or a chronic-disease eligibility with an id, a valid ID number, a version ≥ 1 and an
// insured region that is a pooling region below the receiver, or, at a provincial receiver, a
// filing naming a treatment region in the receiver's province (TreatmentProvinceOf).
// INVALID_ARGUMENT naming `changes[i]…` otherwise.
absl::Status ValidateFilingUpload(const yidi::v1::UploadFilingChangesRequest& request,
                                  const NodeIdentity& receiver, const DirectoryIndex& directory);

enum class ApplyOutcome {
  kApplied,    // newer than the stored version (or the first one)
  kDuplicate,  // the stored version already
  kStale,      // older than the stored version: ignored
};

// Applies one change: stores it when its version is higher than the stored one. REQUIRES: a
// write transaction; the change validated.
absl::StatusOr<ApplyOutcome> ApplyFilingChange(Transaction& tx,
                                               const yidi::v1::FilingChange& change,
                                               absl::Time now);

// True when this node's index holds the records of `insured_region`: a province for its own
// pooling regions, national for all.
bool IndexHolds(const NodeIdentity& self, absl::string_view insured_region);

struct IndexedPerson {
  std::vector<yidi::v1::Filing> filings;  // oldest first (start date, filing id)
  std::vector<yidi::v1::ChronicDiseaseEligibility> chronic_diseases;
  std::string as_of;  // when this index last applied a change for the person; empty = never
};

absl::StatusOr<IndexedPerson> ReadIndexedPerson(Transaction& tx, absl::string_view insured_region,
                                                absl::string_view id_number);

struct FilingIndexStats {
  int64_t filings = 0;
  int64_t chronic_diseases = 0;
  int64_t applied = 0;
  int64_t duplicates = 0;
  int64_t stale = 0;
  std::string last_applied_at;
};

absl::StatusOr<FilingIndexStats> ReadFilingIndexStats(Transaction& tx);

}  // namespace yidi

#endif  // YIDI_COMMON_FILING_INDEX_H_
