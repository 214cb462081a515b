#include "common/filing_index.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/grpc_status.h"
#include "common/id_number.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "yidi/v1/filing.grpc.pb.h"

namespace yidi {
namespace {

using yidi::v1::CareKind;
using yidi::v1::ChronicDiseaseEligibility;
using yidi::v1::Filing;
using yidi::v1::FilingChange;

// filing_index.kind
constexpr int64_t kKindFiling = 1;
constexpr int64_t kKindChronicDisease = 2;

bool IsRecordId(absl::string_view id) {
  if (id.empty() || id.size() > static_cast<size_t>(kFilingIdLengthMax)) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::string Encode(const FilingChange& change) {
  std::string bytes;
  YIDI_CHECK(change.SerializeToString(&bytes), "a filing change serialises");
  return absl::Base64Escape(bytes);
}

// Counts one more of `name`; the row appears with the first one.
absl::Status AddToCounter(Transaction& tx, absl::string_view name) {
  ASSIGN_OR_RETURN(int64_t changed,
                   tx.Execute("UPDATE filing_index_counter SET counter_value = counter_value + 1 "
                              "WHERE name = ?",
                              {std::string(name)}));
  if (changed == 1) return absl::OkStatus();
  return tx.Execute("INSERT INTO filing_index_counter (name, counter_value) VALUES (?, 1)",
                    {std::string(name)})
      .status();
}

}  // namespace

std::vector<Migration> FilingIndexMigrations() {
  return {
      {110,
       "filing_index: the filings and chronic-disease eligibility uploaded from below",
       {"CREATE TABLE filing_index ("
        " insured_region VARCHAR(6) NOT NULL,"
        " kind INTEGER NOT NULL,"
        " record_id VARCHAR(40) NOT NULL,"
        " id_number VARCHAR(18) NOT NULL,"
        " version BIGINT NOT NULL,"
        " record MEDIUMTEXT NOT NULL,"
        " committed_at VARCHAR(32) NOT NULL,"
        " applied_at VARCHAR(32) NOT NULL,"
        " PRIMARY KEY (insured_region, kind, record_id))",
        "CREATE INDEX filing_index_by_person ON filing_index (id_number, insured_region)",
        "CREATE TABLE filing_index_counter ("
        " name VARCHAR(32) NOT NULL PRIMARY KEY,"
        " counter_value BIGINT NOT NULL)"}},
      {111, "outbox: uploads toward the parent node", OutboxSchemaStatements()},
  };
}

bool FilingNamesRegion(absl::string_view target, absl::string_view treatment_pool) {
  if (target == treatment_pool) return true;
  if (target.size() != 6) return false;
  // A county of the city, or any code in a provincial-level pool's province (its pool code is
  // the province's xx0000).
  return absl::StrCat(target.substr(0, 4), "00") == treatment_pool ||
         ProvinceCodeOf(target) == treatment_pool;
}

bool UndertakingLapsed(const Filing& filing, absl::CivilDay day) {
  if (!filing.undertaking() || filing.materials_complete() || filing.materials_due_date().empty()) {
    return false;
  }
  auto due = ParseDate(filing.materials_due_date());
  return due.ok() && day > *due;
}

bool FilingInForce(const Filing& filing, absl::string_view treatment_pool,
                   absl::CivilDay admission, absl::CivilDay discharge) {
  if (!FilingNamesRegion(filing.treatment_region(), treatment_pool)) return false;
  auto start = ParseDate(filing.start_date());
  if (!start.ok() || *start > discharge) return false;  // filed after discharge: manual claim
  if (!filing.end_date().empty()) {
    auto end = ParseDate(filing.end_date());
    if (!end.ok() || admission > *end) return false;  // admitted after it expired
  }
  if (filing.cancelled()) {
    if (filing.cancelled_on().empty()) return false;
    auto cancelled_on = ParseDate(filing.cancelled_on());
    if (!cancelled_on.ok() || admission >= *cancelled_on) return false;
  }
  return !UndertakingLapsed(filing, admission);
}

CareKind CareKindOf(yidi::v1::MedicalType medical_type) {
  switch (medical_type) {
    case yidi::v1::MEDICAL_TYPE_INPATIENT:
    case yidi::v1::MEDICAL_TYPE_TRAUMA_INPATIENT:
    case yidi::v1::MEDICAL_TYPE_REFERRED_OUT_INPATIENT:
    case yidi::v1::MEDICAL_TYPE_EMERGENCY_INPATIENT:
      return yidi::v1::CARE_KIND_INPATIENT;
    case yidi::v1::MEDICAL_TYPE_OUTPATIENT:
    case yidi::v1::MEDICAL_TYPE_EMERGENCY_OUTPATIENT:
      return yidi::v1::CARE_KIND_OUTPATIENT;
    case yidi::v1::MEDICAL_TYPE_CHRONIC_OUTPATIENT:
      return yidi::v1::CARE_KIND_CHRONIC_OUTPATIENT;
    case yidi::v1::MEDICAL_TYPE_PHARMACY:
      return yidi::v1::CARE_KIND_PHARMACY;
    default:
      return yidi::v1::CARE_KIND_UNSPECIFIED;
  }
}

bool FilingCoversCare(const Filing& filing, CareKind care) {
  if (care == yidi::v1::CARE_KIND_UNSPECIFIED || filing.covered_care().empty()) return true;
  return std::find(filing.covered_care().begin(), filing.covered_care().end(), care) !=
         filing.covered_care().end();
}

bool ChronicDiseaseInForce(const ChronicDiseaseEligibility& eligibility, absl::CivilDay day) {
  auto start = ParseDate(eligibility.start_date());
  if (!start.ok() || day < *start) return false;
  if (!eligibility.end_date().empty()) {
    auto end = ParseDate(eligibility.end_date());
    if (!end.ok() || day > *end) return false;
  }
  if (eligibility.revoked()) {
    auto revoked_on = ParseDate(eligibility.revoked_on());
    if (!revoked_on.ok() || day >= *revoked_on) return false;
  }
  return true;
}

void AnswerCheckFiling(const std::vector<Filing>& filings,
                       const std::vector<ChronicDiseaseEligibility>& chronic_diseases,
                       absl::string_view treatment_pool, absl::CivilDay date, CareKind care,
                       yidi::v1::CheckFilingResponse* response) {
  for (auto it = filings.rbegin(); it != filings.rend(); ++it) {  // newest first
    if (FilingInForce(*it, treatment_pool, date, date) && FilingCoversCare(*it, care)) {
      response->set_filed(true);
      *response->mutable_filing() = *it;
      break;
    }
  }
  for (const auto& eligibility : chronic_diseases) {
    if (ChronicDiseaseInForce(eligibility, date)) *response->add_chronic_diseases() = eligibility;
  }
}

absl::StatusOr<std::optional<Route>> UploadRouteOf(const NodeIdentity& self,
                                                   const DirectoryIndex& directory) {
  Route route;
  switch (self.kind) {
    case yidi::v1::NODE_KIND_MUNICIPAL:
      route.next_kind = yidi::v1::NODE_KIND_PROVINCIAL;
      route.next_region_code = ProvinceCodeOf(self.region_code);
      break;
    case yidi::v1::NODE_KIND_PROVINCIAL:
      route.next_kind = yidi::v1::NODE_KIND_NATIONAL;
      route.next_region_code = std::string(kNationalRegionCode);
      break;
    default:
      return std::optional<Route>();
  }
  const auto* next = directory.FindNode(route.next_kind, route.next_region_code);
  if (next == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("the directory has no ", NodeName(route.next_kind, route.next_region_code),
                     " node to upload filings to"));
  }
  route.next_address = next->address();
  return std::optional<Route>(std::move(route));
}

absl::Status EnqueueFilingUpload(Transaction& tx, const FilingChange& change, absl::Time now) {
  return EnqueueOutbox(tx, kFilingUploadTopic, change, now).status();
}

std::string TreatmentProvinceTopic(absl::string_view province) {
  return absl::StrCat("filing-to-", province);
}

std::optional<std::string> TreatmentProvinceOf(const FilingChange& change,
                                               const DirectoryIndex& directory) {
  if (!change.has_filing()) return std::nullopt;
  const Filing& filing = change.filing();
  if (!IsRegionCode(filing.treatment_region()) || !IsRegionCode(filing.insured_region())) {
    return std::nullopt;
  }
  const std::string province = ProvinceCodeOf(filing.treatment_region());
  if (province == ProvinceCodeOf(filing.insured_region()) ||
      directory.FindNode(yidi::v1::NODE_KIND_PROVINCIAL, province) == nullptr) {
    return std::nullopt;
  }
  return province;
}

OutboxSender::Deliver MakeFilingUploadDelivery(
    std::string address, std::string sender_name,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  // As common/grpc_status.cc MakeChannel (no proxy, 1 s reconnect), plus a local subchannel pool:
  // gRPC otherwise shares one subchannel, and its backoff state, between channels to one target.
  grpc::ChannelArguments args = NodeChannelArguments();
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (credentials == nullptr) credentials = grpc::InsecureChannelCredentials();
  std::shared_ptr<yidi::v1::FilingService::Stub> stub = yidi::v1::FilingService::NewStub(
      grpc::CreateCustomChannel(address, credentials, args));
  return [stub, sender_name = std::move(sender_name)](
             const std::vector<OutboxRow>& rows, grpc::ClientContext& context) -> absl::Status {
    yidi::v1::UploadFilingChangesRequest request;
    request.set_sender(sender_name);
    for (const OutboxRow& row : rows) {
      if (!request.add_changes()->ParseFromString(row.payload)) {
        // Written by this node; a row that no longer parses is a broken invariant, and
        // refusing it definitively parks it instead of blocking the queue.
        return absl::InvalidArgumentError(
            absl::StrCat("outbox row ", row.outbox_id, " does not parse as a FilingChange"));
      }
    }
    yidi::v1::UploadFilingChangesResponse response;
    return FromGrpcStatus(stub->UploadFilingChanges(&context, request, &response));
  };
}

absl::Status ValidateFilingUpload(const yidi::v1::UploadFilingChangesRequest& request,
                                  const NodeIdentity& receiver, const DirectoryIndex& directory) {
  if (request.changes().empty() || request.changes_size() > kFilingUploadChangesMax) {
    return absl::InvalidArgumentError(absl::StrCat("changes: between 1 and ",
                                                   kFilingUploadChangesMax, " per upload"));
  }
  for (int i = 0; i < request.changes_size(); ++i) {
    const FilingChange& change = request.changes(i);
    const std::string where = absl::StrCat("changes[", i, "]");
    std::string id;
    std::string id_number;
    std::string insured_region;
    int64_t version = 0;
    switch (change.record_case()) {
      case FilingChange::kFiling:
        id = change.filing().filing_id();
        id_number = change.filing().id_number();
        insured_region = change.filing().insured_region();
        version = change.filing().version();
        break;
      case FilingChange::kChronicDisease:
        id = change.chronic_disease().eligibility_id();
        id_number = change.chronic_disease().id_number();
        insured_region = change.chronic_disease().insured_region();
        version = change.chronic_disease().version();
        break;
      default:
        return absl::InvalidArgumentError(absl::StrCat(where, ": neither a filing nor a "
                                                              "chronic-disease eligibility"));
    }
    if (!IsRecordId(id)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": the record id must be 1 to ",
                                                     kFilingIdLengthMax,
                                                     " letters, digits, '-', '_' or '.'"));
    }
    if (absl::Status valid = ValidateIdNumber(id_number); !valid.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".id_number: ", valid.message()));
    }
    if (version < 1) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".version: must be at least 1"));
    }
    if (!IsRegionCode(insured_region) ||
        directory.FindNode(yidi::v1::NODE_KIND_MUNICIPAL, insured_region) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".insured_region: ",
                                                     insured_region.substr(0, 12),
                                                     " is not a pooling region of the directory"));
    }
    const bool names_receiver =
        receiver.kind == yidi::v1::NODE_KIND_PROVINCIAL &&
        TreatmentProvinceOf(change, directory) == std::optional<std::string>(receiver.region_code);
    if (!IndexHolds(receiver, insured_region) && !names_receiver) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ".insured_region: ", insured_region, " does not upload to ",
          NodeName(receiver.kind, receiver.region_code)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ApplyOutcome> ApplyFilingChange(Transaction& tx, const FilingChange& change,
                                               absl::Time now) {
  int64_t kind = 0;
  std::string id;
  std::string id_number;
  std::string insured_region;
  std::string committed_at;
  int64_t version = 0;
  if (change.has_filing()) {
    const Filing& filing = change.filing();
    kind = kKindFiling;
    id = filing.filing_id();
    id_number = filing.id_number();
    insured_region = filing.insured_region();
    committed_at = filing.updated_at();
    version = filing.version();
  } else {
    YIDI_CHECK(change.has_chronic_disease(), "a validated change holds a record");
    const ChronicDiseaseEligibility& eligibility = change.chronic_disease();
    kind = kKindChronicDisease;
    id = eligibility.eligibility_id();
    id_number = eligibility.id_number();
    insured_region = eligibility.insured_region();
    committed_at = eligibility.updated_at();
    version = eligibility.version();
  }
  YIDI_CHECK(version >= 1, "a validated change has a version");
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT version FROM filing_index WHERE "
                                       "insured_region = ? AND kind = ? AND record_id = ?",
                                       {insured_region, kind, id}));
  const std::string applied_at = FormatCstTimestamp(now);
  ApplyOutcome outcome = ApplyOutcome::kApplied;
  if (rows.empty()) {
    RETURN_IF_ERROR(tx.Execute("INSERT INTO filing_index (insured_region, kind, record_id, "
                               "id_number, version, record, committed_at, applied_at) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               {insured_region, kind, id, id_number, version, Encode(change),
                                committed_at, applied_at})
                        .status());
  } else {
    const int64_t stored = rows.front().Int(0);
    if (version == stored) {
      outcome = ApplyOutcome::kDuplicate;
    } else if (version < stored) {
      outcome = ApplyOutcome::kStale;
    } else {
      RETURN_IF_ERROR(tx.Execute("UPDATE filing_index SET id_number = ?, version = ?, record = ?, "
                                 "committed_at = ?, applied_at = ? WHERE insured_region = ? AND "
                                 "kind = ? AND record_id = ?",
                                 {id_number, version, Encode(change), committed_at, applied_at,
                                  insured_region, kind, id})
                          .status());
    }
  }
  switch (outcome) {
    case ApplyOutcome::kApplied:
      RETURN_IF_ERROR(AddToCounter(tx, "applied"));
      break;
    case ApplyOutcome::kDuplicate:
      RETURN_IF_ERROR(AddToCounter(tx, "duplicates"));
      break;
    case ApplyOutcome::kStale:
      RETURN_IF_ERROR(AddToCounter(tx, "stale"));
      break;
  }
  return outcome;
}

bool IndexHolds(const NodeIdentity& self, absl::string_view insured_region) {
  switch (self.kind) {
    case yidi::v1::NODE_KIND_NATIONAL:
      return true;
    case yidi::v1::NODE_KIND_PROVINCIAL:
      return insured_region.size() >= 2 && ProvinceCodeOf(insured_region) == self.region_code;
    default:
      return false;
  }
}

absl::StatusOr<IndexedPerson> ReadIndexedPerson(Transaction& tx, absl::string_view insured_region,
                                                absl::string_view id_number) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT kind, record_id, record, applied_at FROM "
                                       "filing_index WHERE id_number = ? AND insured_region = ?",
                                       {std::string(id_number), std::string(insured_region)}));
  IndexedPerson person;
  for (const Row& row : rows) {
    std::string bytes;
    FilingChange change;
    if (!absl::Base64Unescape(row.Text(2), &bytes) || !change.ParseFromString(bytes)) {
      return absl::InternalError(absl::StrCat("filing index ", row.Text(1), ": corrupt record"));
    }
    if (row.Int(0) == kKindFiling && change.has_filing()) {
      person.filings.push_back(std::move(*change.mutable_filing()));
    } else if (row.Int(0) == kKindChronicDisease && change.has_chronic_disease()) {
      person.chronic_diseases.push_back(std::move(*change.mutable_chronic_disease()));
    } else {
      return absl::InternalError(absl::StrCat("filing index ", row.Text(1), ": kind mismatch"));
    }
    person.as_of = std::max(person.as_of, row.Text(3));  // same format and zone: text order
  }
  std::sort(person.filings.begin(), person.filings.end(), [](const Filing& a, const Filing& b) {
    return std::tie(a.start_date(), a.filing_id()) < std::tie(b.start_date(), b.filing_id());
  });
  std::sort(person.chronic_diseases.begin(), person.chronic_diseases.end(),
            [](const ChronicDiseaseEligibility& a, const ChronicDiseaseEligibility& b) {
              return std::tie(a.start_date(), a.eligibility_id()) <
                     std::tie(b.start_date(), b.eligibility_id());
            });
  return person;
}

absl::StatusOr<FilingIndexStats> ReadFilingIndexStats(Transaction& tx) {
  FilingIndexStats stats;
  ASSIGN_OR_RETURN(auto counts, tx.Query("SELECT kind, COUNT(*), MAX(applied_at) FROM "
                                         "filing_index GROUP BY kind"));
  for (const Row& row : counts) {
    if (row.Int(0) == kKindFiling) stats.filings = row.Int(1);
    if (row.Int(0) == kKindChronicDisease) stats.chronic_diseases = row.Int(1);
    stats.last_applied_at = std::max(stats.last_applied_at, row.Text(2));
  }
  ASSIGN_OR_RETURN(auto counters,
                   tx.Query("SELECT name, counter_value FROM filing_index_counter"));
  for (const Row& row : counters) {
    if (row.Text(0) == "applied") stats.applied = row.Int(1);
    if (row.Text(0) == "duplicates") stats.duplicates = row.Int(1);
    if (row.Text(0) == "stale") stats.stale = row.Int(1);
  }
  return stats;
}

}  // namespace yidi
