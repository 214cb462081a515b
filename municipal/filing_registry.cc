#include "municipal/filing_registry.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/digest.h"
#include "common/filing_index.h"
#include "common/id_number.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "municipal/filing_rules.h"
#include "municipal/filing_store.h"
#include "municipal/insured_registry.h"

namespace yidi::municipal {
namespace {

using yidi::v1::ChronicDiseaseEligibility;
using yidi::v1::Filing;

// What a write body gets: its transaction and the moment it runs.
struct WriteScope {
  Transaction& tx;
  absl::Time now;
  absl::CivilDay today;
  std::string timestamp;  // RFC 3339 of `now`
};

absl::Status CheckIdNumber(absl::string_view id_number) {
  if (absl::Status id = ValidateIdNumber(id_number); !id.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("id_number: ", id.message()));
  }
  return absl::OkStatus();
}

absl::Status Upload(WriteScope& scope, const Filing& filing) {
  yidi::v1::FilingChange change;
  *change.mutable_filing() = filing;
  return EnqueueFilingUpload(scope.tx, change, scope.now);
}

absl::Status Upload(WriteScope& scope, const ChronicDiseaseEligibility& eligibility) {
  yidi::v1::FilingChange change;
  *change.mutable_chronic_disease() = eligibility;
  return EnqueueFilingUpload(scope.tx, change, scope.now);
}

// Applies the lapse of every filing of `filings` whose undertaking ran out, in place.
absl::Status LapseDue(WriteScope& scope, std::vector<Filing>& filings) {
  for (Filing& filing : filings) {
    std::optional<Filing> lapsed = DraftLapse(filing, scope.today);
    if (!lapsed.has_value()) continue;
    lapsed->set_updated_at(scope.timestamp);
    RETURN_IF_ERROR(UpdateFiling(scope.tx, *lapsed));
    RETURN_IF_ERROR(Upload(scope, *lapsed));
    LogInfo("filing %s of %s lapsed: undertaking unmet by %s", lapsed->filing_id(),
            MaskIdNumber(lapsed->id_number()), lapsed->materials_due_date());
    filing = std::move(*lapsed);
  }
  return absl::OkStatus();
}

absl::StatusOr<yidi::v1::PersonRecord> ActivePerson(Transaction& tx, absl::string_view id_number,
                                                    absl::string_view region) {
  ASSIGN_OR_RETURN(auto person, FindPerson(tx, id_number));
  if (!person.has_value()) {
    return absl::NotFoundError(absl::StrCat(
        "id_number: no insured person with this ID number in region ", region));
  }
  if (person->status() != yidi::v1::INSURED_STATUS_ACTIVE) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the insured person's status is ", yidi::v1::InsuredStatus_Name(person->status()),
        " in region ", region, ": no filing is made or changed (003_… 第10条(四))"));
  }
  return *std::move(person);
}

// The stored filing `filing_id` of `id_number`, after the lapses due today.
absl::StatusOr<std::pair<Filing, std::vector<Filing>>> PersonsFiling(
    WriteScope& scope, absl::string_view filing_id, absl::string_view id_number,
    absl::string_view region) {
  if (filing_id.empty()) return absl::InvalidArgumentError("filing_id: required");
  ASSIGN_OR_RETURN(auto found, FindFiling(scope.tx, filing_id, region));
  if (!found.has_value() || found->id_number() != id_number) {
    return absl::NotFoundError(absl::StrCat("filing_id: no filing ",
                                            filing_id.substr(0, kFilingIdLengthMax),
                                            " of this person in region ", region));
  }
  ASSIGN_OR_RETURN(std::vector<Filing> filings, LoadFilings(scope.tx, id_number, region));
  RETURN_IF_ERROR(LapseDue(scope, filings));
  for (const Filing& filing : filings) {
    if (filing.filing_id() == filing_id) return std::make_pair(filing, std::move(filings));
  }
  return absl::InternalError("a filing found by id is among its person's filings");
}

}  // namespace

FilingRegistry::FilingRegistry(NodeContext* context, const yidi::v1::FilingRules* rules,
                               std::function<void()> on_commit)
    : context_(context), rules_(rules), on_commit_(std::move(on_commit)) {}

absl::Status FilingRegistry::RequireRules() const {
  if (rules_ != nullptr) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      context_->name, " has no filing rules (NodeConfig.filing_rules_file) and takes no filings"));
}

absl::Status FilingRegistry::CheckOwnRegion(absl::string_view insured_region) const {
  auto pool = context_->directory.PoolingRegionFor(insured_region);
  if (!pool.ok() || *pool != context_->identity.region_code) {
    return absl::InvalidArgumentError(absl::StrCat("insured_region: ",
                                                   insured_region.substr(0, 12),
                                                   " is not region ",
                                                   context_->identity.region_code));
  }
  return absl::OkStatus();
}

namespace {

// Runs `body` in one write transaction under the idempotency of `request_id`, and stores its
// answer with the request. `Response` has a `replayed` field.
template <typename Response, typename Body>
absl::StatusOr<Response> RunIdempotent(NodeContext& context, const std::function<void()>& on_commit,
                                       FilingRequestKind kind, absl::string_view request_id,
                                       const google::protobuf::Message& request, Body body) {
  RETURN_IF_ERROR(ValidateRequestId(request_id));
  const std::string digest = DigestMessage(request);
  ASSIGN_OR_RETURN(auto tx, context.store->Begin(TransactionMode::kWrite));
  ASSIGN_OR_RETURN(auto stored, FindFilingRequest(*tx, request_id));
  if (stored.has_value()) {
    if (stored->kind != kind || stored->digest != digest) {
      return absl::AlreadyExistsError(absl::StrCat(
          "request_id: ", request_id, " was already used for a different request"));
    }
    Response replay;
    if (!replay.ParseFromString(stored->response)) {
      return absl::InternalError(absl::StrCat("request ", request_id, ": stored answer corrupt"));
    }
    replay.set_replayed(true);
    return replay;
  }
  const absl::Time now = context.clock->Now();
  WriteScope scope{*tx, now, CstDay(now), FormatCstTimestamp(now)};
  ASSIGN_OR_RETURN(Response response, body(scope));
  StoredFilingRequest record{kind, digest, ""};
  YIDI_CHECK(response.SerializeToString(&record.response), "an answer serialises");
  RETURN_IF_ERROR(InsertFilingRequest(*tx, request_id, record, scope.timestamp));
  RETURN_IF_ERROR(tx->Commit());
  if (on_commit) on_commit();
  return response;
}

}  // namespace

absl::StatusOr<yidi::v1::FilingResponse> FilingRegistry::Create(
    const yidi::v1::CreateFilingRequest& request) {
  const std::string& region = context_->identity.region_code;
  auto result = RunIdempotent<yidi::v1::FilingResponse>(
      *context_, on_commit_, FilingRequestKind::kCreate, request.request_id(), request,
      [&](WriteScope& scope) -> absl::StatusOr<yidi::v1::FilingResponse> {
        RETURN_IF_ERROR(RequireRules());
        RETURN_IF_ERROR(CheckIdNumber(request.id_number()));
        RETURN_IF_ERROR(CheckOwnRegion(request.insured_region()));
        ASSIGN_OR_RETURN(Filing filing,
                         DraftNewFiling(*rules_, context_->directory, request, scope.today));
        RETURN_IF_ERROR(ActivePerson(scope.tx, request.id_number(), region).status());
        ASSIGN_OR_RETURN(std::vector<Filing> filings,
                         LoadFilings(scope.tx, request.id_number(), region));
        RETURN_IF_ERROR(LapseDue(scope, filings));
        RETURN_IF_ERROR(CheckNoOverlap(filings, filing));
        ASSIGN_OR_RETURN(std::string id, NextRecordId(scope.tx, 'F', region, scope.today));
        filing.set_filing_id(id);
        filing.set_version(1);
        filing.set_created_at(scope.timestamp);
        filing.set_updated_at(scope.timestamp);
        RETURN_IF_ERROR(InsertFiling(scope.tx, filing));
        RETURN_IF_ERROR(Upload(scope, filing));
        yidi::v1::FilingResponse response;
        *response.mutable_filing() = std::move(filing);
        return response;
      });
  if (result.ok() && !result->replayed()) {
    LogInfo("filing %s created for %s: %s to %s", result->filing().filing_id(),
            MaskIdNumber(request.id_number()),
            yidi::v1::FilingCategory_Name(result->filing().category()),
            result->filing().treatment_region());
  }
  return result;
}

absl::StatusOr<yidi::v1::FilingResponse> FilingRegistry::Change(
    const yidi::v1::ChangeFilingRequest& request) {
  const std::string& region = context_->identity.region_code;
  return RunIdempotent<yidi::v1::FilingResponse>(
      *context_, on_commit_, FilingRequestKind::kChange, request.request_id(), request,
      [&](WriteScope& scope) -> absl::StatusOr<yidi::v1::FilingResponse> {
        RETURN_IF_ERROR(RequireRules());
        RETURN_IF_ERROR(CheckIdNumber(request.id_number()));
        RETURN_IF_ERROR(CheckOwnRegion(request.insured_region()));
        RETURN_IF_ERROR(ActivePerson(scope.tx, request.id_number(), region).status());
        ASSIGN_OR_RETURN(auto found, PersonsFiling(scope, request.filing_id(),
                                                   request.id_number(), region));
        auto& [current, filings] = found;
        ASSIGN_OR_RETURN(ChangeDraft draft, DraftChange(*rules_, context_->directory, request,
                                                        current, scope.today));
        yidi::v1::FilingResponse response;
        if (!draft.opened.has_value()) {
          RETURN_IF_ERROR(CheckNoOverlap(filings, draft.changed, current.filing_id()));
        } else {
          RETURN_IF_ERROR(CheckNoOverlap(filings, *draft.opened, current.filing_id()));
        }
        draft.changed.set_updated_at(scope.timestamp);
        RETURN_IF_ERROR(UpdateFiling(scope.tx, draft.changed));
        RETURN_IF_ERROR(Upload(scope, draft.changed));
        if (!draft.opened.has_value()) {
          *response.mutable_filing() = std::move(draft.changed);
          return response;
        }
        Filing& opened = *draft.opened;
        ASSIGN_OR_RETURN(std::string id, NextRecordId(scope.tx, 'F', region, scope.today));
        opened.set_filing_id(id);
        opened.set_version(1);
        opened.set_created_at(scope.timestamp);
        opened.set_updated_at(scope.timestamp);
        RETURN_IF_ERROR(InsertFiling(scope.tx, opened));
        RETURN_IF_ERROR(Upload(scope, opened));
        LogInfo("filing %s of %s moved to %s as %s", current.filing_id(),
                MaskIdNumber(request.id_number()), opened.treatment_region(), id);
        *response.mutable_filing() = std::move(opened);
        *response.mutable_previous() = std::move(draft.changed);
        return response;
      });
}

absl::StatusOr<yidi::v1::FilingResponse> FilingRegistry::Cancel(
    const yidi::v1::CancelFilingRequest& request) {
  const std::string& region = context_->identity.region_code;
  return RunIdempotent<yidi::v1::FilingResponse>(
      *context_, on_commit_, FilingRequestKind::kCancel, request.request_id(), request,
      [&](WriteScope& scope) -> absl::StatusOr<yidi::v1::FilingResponse> {
        RETURN_IF_ERROR(RequireRules());
        RETURN_IF_ERROR(CheckIdNumber(request.id_number()));
        RETURN_IF_ERROR(CheckOwnRegion(request.insured_region()));
        // No status check: a terminated person's filing is ended this way (备案终止).
        ASSIGN_OR_RETURN(auto found, PersonsFiling(scope, request.filing_id(),
                                                   request.id_number(), region));
        ASSIGN_OR_RETURN(Filing cancelled,
                         DraftCancel(*rules_, request, found.first, scope.today));
        cancelled.set_updated_at(scope.timestamp);
        RETURN_IF_ERROR(UpdateFiling(scope.tx, cancelled));
        RETURN_IF_ERROR(Upload(scope, cancelled));
        LogInfo("filing %s of %s cancelled (%s)", cancelled.filing_id(),
                MaskIdNumber(request.id_number()),
                yidi::v1::FilingCancelReason_Name(cancelled.cancel_reason()));
        yidi::v1::FilingResponse response;
        *response.mutable_filing() = std::move(cancelled);
        return response;
      });
}

absl::StatusOr<yidi::v1::ChronicDiseaseResponse> FilingRegistry::RecordChronicDisease(
    const yidi::v1::RecordChronicDiseaseRequest& request) {
  const std::string& region = context_->identity.region_code;
  return RunIdempotent<yidi::v1::ChronicDiseaseResponse>(
      *context_, on_commit_, FilingRequestKind::kRecordChronicDisease, request.request_id(),
      request, [&](WriteScope& scope) -> absl::StatusOr<yidi::v1::ChronicDiseaseResponse> {
        RETURN_IF_ERROR(RequireRules());
        RETURN_IF_ERROR(CheckIdNumber(request.id_number()));
        RETURN_IF_ERROR(CheckOwnRegion(request.insured_region()));
        RETURN_IF_ERROR(ActivePerson(scope.tx, request.id_number(), region).status());
        ASSIGN_OR_RETURN(auto existing,
                         LoadChronicDiseases(scope.tx, request.id_number(), region));
        ASSIGN_OR_RETURN(ChronicDiseaseEligibility eligibility,
                         DraftChronicDisease(request, existing, scope.today));
        ASSIGN_OR_RETURN(std::string id, NextRecordId(scope.tx, 'M', region, scope.today));
        eligibility.set_eligibility_id(id);
        eligibility.set_insured_region(region);
        eligibility.set_version(1);
        eligibility.set_created_at(scope.timestamp);
        eligibility.set_updated_at(scope.timestamp);
        RETURN_IF_ERROR(InsertChronicDisease(scope.tx, eligibility));
        RETURN_IF_ERROR(Upload(scope, eligibility));
        yidi::v1::ChronicDiseaseResponse response;
        *response.mutable_eligibility() = std::move(eligibility);
        return response;
      });
}

absl::StatusOr<yidi::v1::ChronicDiseaseResponse> FilingRegistry::RevokeChronicDisease(
    const yidi::v1::RevokeChronicDiseaseRequest& request) {
  const std::string& region = context_->identity.region_code;
  return RunIdempotent<yidi::v1::ChronicDiseaseResponse>(
      *context_, on_commit_, FilingRequestKind::kRevokeChronicDisease, request.request_id(),
      request, [&](WriteScope& scope) -> absl::StatusOr<yidi::v1::ChronicDiseaseResponse> {
        RETURN_IF_ERROR(RequireRules());
        RETURN_IF_ERROR(CheckIdNumber(request.id_number()));
        RETURN_IF_ERROR(CheckOwnRegion(request.insured_region()));
        if (request.eligibility_id().empty()) {
          return absl::InvalidArgumentError("eligibility_id: required");
        }
        ASSIGN_OR_RETURN(auto found,
                         FindChronicDisease(scope.tx, request.eligibility_id(), region));
        if (!found.has_value() || found->id_number() != request.id_number()) {
          return absl::NotFoundError(absl::StrCat(
              "eligibility_id: no chronic-disease eligibility ",
              request.eligibility_id().substr(0, kFilingIdLengthMax), " of this person"));
        }
        ASSIGN_OR_RETURN(ChronicDiseaseEligibility revoked,
                         DraftRevocation(*found, scope.today));
        revoked.set_updated_at(scope.timestamp);
        RETURN_IF_ERROR(UpdateChronicDisease(scope.tx, revoked));
        RETURN_IF_ERROR(Upload(scope, revoked));
        yidi::v1::ChronicDiseaseResponse response;
        *response.mutable_eligibility() = std::move(revoked);
        return response;
      });
}

absl::StatusOr<yidi::v1::ListFilingsResponse> FilingRegistry::List(
    const yidi::v1::ListFilingsRequest& request) {
  RETURN_IF_ERROR(CheckIdNumber(request.id_number()));
  const std::string& region = context_->identity.region_code;
  ASSIGN_OR_RETURN(auto tx, context_->store->Begin(TransactionMode::kRead));
  ASSIGN_OR_RETURN(auto filings, LoadFilings(*tx, request.id_number(), region));
  ASSIGN_OR_RETURN(auto chronic, LoadChronicDiseases(*tx, request.id_number(), region));
  yidi::v1::ListFilingsResponse response;
  for (auto& filing : filings) *response.add_filings() = std::move(filing);
  for (auto& eligibility : chronic) *response.add_chronic_diseases() = std::move(eligibility);
  response.set_answered_by(context_->name);
  response.set_as_of(FormatCstTimestamp(context_->clock->Now()));
  return response;
}

absl::StatusOr<yidi::v1::CheckFilingResponse> FilingRegistry::Check(
    const yidi::v1::CheckFilingRequest& request) {
  RETURN_IF_ERROR(CheckIdNumber(request.id_number()));
  auto date = ParseDate(request.date());
  if (!date.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("date: ", date.status().message()));
  }
  auto treatment_pool = context_->directory.PoolingRegionFor(request.treatment_region());
  if (!treatment_pool.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("treatment_region: ", treatment_pool.status().message()));
  }
  const std::string& region = context_->identity.region_code;
  ASSIGN_OR_RETURN(auto tx, context_->store->Begin(TransactionMode::kRead));
  ASSIGN_OR_RETURN(auto filings, LoadFilings(*tx, request.id_number(), region));
  ASSIGN_OR_RETURN(auto chronic, LoadChronicDiseases(*tx, request.id_number(), region));
  yidi::v1::CheckFilingResponse response;
  AnswerCheckFiling(filings, chronic, *treatment_pool, *date, CareKindOf(request.medical_type()),
                    &response);
  response.set_answered_by(context_->name);
  response.set_as_of(FormatCstTimestamp(context_->clock->Now()));
  return response;
}

absl::StatusOr<int> FilingRegistry::SweepLapsed() {
  const absl::Time now = context_->clock->Now();
  const absl::CivilDay today = CstDay(now);
  const std::string& region = context_->identity.region_code;
  {
    // Most passes find nothing: look with a read before taking the write lock.
    ASSIGN_OR_RETURN(auto tx, context_->store->Begin(TransactionMode::kRead));
    ASSIGN_OR_RETURN(auto due, LoadLapsedUndertakings(*tx, today, region, 1));
    if (due.empty()) return 0;
  }
  ASSIGN_OR_RETURN(auto tx, context_->store->Begin(TransactionMode::kWrite));
  ASSIGN_OR_RETURN(std::vector<Filing> due,
                   LoadLapsedUndertakings(*tx, today, region, kLapseSweepBatchMax));
  WriteScope scope{*tx, now, today, FormatCstTimestamp(now)};
  RETURN_IF_ERROR(LapseDue(scope, due));
  RETURN_IF_ERROR(tx->Commit());
  if (!due.empty() && on_commit_) on_commit_();
  return static_cast<int>(due.size());
}

}  // namespace yidi::municipal
