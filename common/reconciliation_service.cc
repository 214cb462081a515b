#include "common/reconciliation_service.h"

#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/node_services.h"
#include "common/reconciliation_store.h"
#include "common/status_macros.h"

namespace yidi {

using yidi::v1::ApplyCorrectionRequest;
using yidi::v1::ApplyCorrectionResponse;
using yidi::v1::DayDetailEntry;
using yidi::v1::ReconciliationReport;

// ---------------------------------------------------------------------------------------------
// This node's answers.

absl::StatusOr<yidi::v1::GetDayTotalsResponse> HandleGetDayTotals(
    NodeContext& context, const yidi::v1::GetDayTotalsRequest& request) {
  RETURN_IF_ERROR(ValidateGetDayTotals(request));
  ASSIGN_OR_RETURN(auto tx, context.store->Begin(TransactionMode::kRead));
  ASSIGN_OR_RETURN(auto response, ReadDayTotals(*tx, request));
  response.set_node(context.name);
  return response;
}

absl::StatusOr<yidi::v1::GetDayDetailResponse> HandleGetDayDetail(
    NodeContext& context, const yidi::v1::GetDayDetailRequest& request) {
  RETURN_IF_ERROR(ValidateGetDayDetail(request));
  ASSIGN_OR_RETURN(auto tx, context.store->Begin(TransactionMode::kRead));
  return ReadDayDetail(*tx, request);
}

absl::StatusOr<ApplyCorrectionResponse> HandleApplyCorrection(
    NodeContext& context, const ApplyCorrectionRequest& request,
    const CorrectionReplayer& replayer) {
  RETURN_IF_ERROR(ValidateApplyCorrection(request));
  ASSIGN_OR_RETURN(auto tx, context.store->Begin(TransactionMode::kWrite));
  ASSIGN_OR_RETURN(auto response,
                   ApplyCorrectionInTransaction(*tx, request, context.clock->Now(), replayer));
  RETURN_IF_ERROR(tx->Commit());
  if (!response.replayed()) {
    LogInfo("reconciliation: %s corrected settlement %s (%s) for %s: %s -> %s", context.name,
            request.settlement_id(), yidi::v1::CorrectionAction_Name(request.action()),
            request.requested_by(), yidi::v1::SettlementState_Name(response.previous_state()),
            yidi::v1::SettlementState_Name(response.state()));
  }
  return response;
}

// ---------------------------------------------------------------------------------------------
// Reconciler

Reconciler::Reconciler(NodeContext* context, int totals_page_size)
    : context_(context), totals_page_size_(totals_page_size) {
  YIDI_CHECK(totals_page_size > 0 && totals_page_size <= kDayTotalsPageSizeMax,
             "the totals page size is within the limit every node accepts");
}

bool Reconciler::IsSelf(const ReconciliationNode& node) const {
  return node.kind == context_->identity.kind && node.region == context_->identity.region_code;
}

absl::StatusOr<std::string> Reconciler::AddressOf(const ReconciliationNode& node) const {
  const auto* region = context_->directory.FindNode(node.kind, node.region);
  if (region == nullptr || region->address().empty()) {
    return absl::NotFoundError(absl::StrCat(NameOfNode(node), " is not in the directory"));
  }
  return region->address();
}

yidi::v1::ReconciliationService::Stub* Reconciler::StubFor(const std::string& address) {
  absl::MutexLock lock(&stubs_mutex_);
  auto& stub = stubs_[address];
  if (stub == nullptr) {
    // This node's own certificate: the counterparty authorizes the call as from its parent.
    stub = yidi::v1::ReconciliationService::NewStub(
        MakeChannel(address, context_->channel_credentials));
  }
  return stub.get();
}

std::unique_ptr<grpc::ClientContext> Reconciler::CallContext() const {
  auto call = std::make_unique<grpc::ClientContext>();
  const int deadline_ms = context_->config.reconciliation().deadline_ms() > 0
                              ? context_->config.reconciliation().deadline_ms()
                              : kReconciliationCallDeadlineDefaultMs;
  call->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
  return call;
}

namespace {
absl::Status FromCall(const ReconciliationNode& node, const grpc::Status& status) {
  const absl::Status converted = FromGrpcStatus(status);
  return absl::Status(converted.code(), absl::StrCat(NameOfNode(node), ": ", converted.message()));
}
}  // namespace

absl::StatusOr<yidi::v1::GetDayTotalsResponse> Reconciler::Totals(const ReconciliationNode& node,
                                                                  const std::string& day) {
  // Every page of the node's day (D412), concatenated: pages hold whole keys, so the groups of
  // one (pair, institution) never straddle two pages.
  yidi::v1::GetDayTotalsRequest request;
  request.set_day(day);
  request.set_page_size(totals_page_size_);
  yidi::v1::GetDayTotalsResponse all;
  while (true) {
    yidi::v1::GetDayTotalsResponse page;
    if (IsSelf(node)) {
      ASSIGN_OR_RETURN(page, HandleGetDayTotals(*context_, request));
    } else {
      ASSIGN_OR_RETURN(std::string address, AddressOf(node));
      auto call = CallContext();
      grpc::Status status = StubFor(address)->GetDayTotals(call.get(), request, &page);
      if (!status.ok()) return FromCall(node, status);
    }
    all.set_day(page.day());
    all.set_node(page.node());
    for (auto& group : *page.mutable_groups()) *all.add_groups() = std::move(group);
    if (page.next_page_token().empty()) break;
    YIDI_CHECK(page.next_page_token() > request.page_token(), "pages move forward");
    request.set_page_token(page.next_page_token());
  }
  return all;
}

absl::StatusOr<std::map<std::string, DayDetailEntry>> Reconciler::Detail(
    const ReconciliationNode& node, const std::string& day, const PairKey& pair) {
  std::map<std::string, DayDetailEntry> entries;
  yidi::v1::GetDayDetailRequest request;
  request.set_day(day);
  request.set_insured_region(pair.insured_region);
  request.set_treatment_region(pair.treatment_region);
  request.set_institution_code(pair.institution_code);
  request.set_page_size(kReconciliationPageSizeMax);
  while (true) {
    yidi::v1::GetDayDetailResponse response;
    if (IsSelf(node)) {
      ASSIGN_OR_RETURN(response, HandleGetDayDetail(*context_, request));
    } else {
      ASSIGN_OR_RETURN(std::string address, AddressOf(node));
      auto call = CallContext();
      grpc::Status status = StubFor(address)->GetDayDetail(call.get(), request, &response);
      if (!status.ok()) return FromCall(node, status);
    }
    for (auto& entry : *response.mutable_entries()) {
      std::string id = entry.settlement_id();
      entries.emplace(std::move(id), std::move(entry));
    }
    if (response.next_page_token().empty()) break;
    YIDI_CHECK(response.next_page_token() > request.page_token(), "pages move forward");
    request.set_page_token(response.next_page_token());
  }
  return entries;
}

absl::StatusOr<yidi::v1::GetSettlementResponse> Reconciler::Record(
    const ReconciliationNode& node, const std::string& settlement_id) {
  yidi::v1::GetSettlementRequest request;
  request.set_settlement_id(settlement_id);
  yidi::v1::GetSettlementResponse response;
  if (IsSelf(node)) {
    grpc::Status status = GetSettlementRecord(*context_, request, &response);
    if (!status.ok()) return FromCall(node, status);
    return response;
  }
  ASSIGN_OR_RETURN(std::string address, AddressOf(node));
  auto call = CallContext();
  grpc::Status status =
      context_->stubs.Settlement(address)->GetSettlement(call.get(), request, &response);
  if (!status.ok()) return FromCall(node, status);
  return response;
}

absl::StatusOr<ApplyCorrectionResponse> Reconciler::Correct(const ReconciliationNode& node,
                                                            const ApplyCorrectionRequest& request) {
  if (IsSelf(node)) return HandleApplyCorrection(*context_, request);
  ASSIGN_OR_RETURN(std::string address, AddressOf(node));
  ApplyCorrectionResponse response;
  auto call = CallContext();
  grpc::Status status = StubFor(address)->ApplyCorrection(call.get(), request, &response);
  if (!status.ok()) return FromCall(node, status);
  return response;
}

absl::StatusOr<ReconciliationReport> Reconciler::RunDay(const std::string& day) {
  if (context_->identity.kind == yidi::v1::NODE_KIND_MUNICIPAL) {
    return absl::FailedPreconditionError(
        "a municipal node answers reconciliation; its province runs it");
  }
  if (!ParseDate(day).ok()) return absl::InvalidArgumentError("day: not a date YYYY-MM-DD");
  absl::MutexLock lock(&run_mutex_);
  return RunDayLocked(day);
}

namespace {

// The detail of a settlement as the authority's full record says it.
DayDetailEntry EntryFromRecord(const yidi::v1::GetSettlementResponse& record) {
  const auto& result = record.result();
  DayDetailEntry entry;
  entry.set_settlement_id(result.settlement_id());
  entry.set_kind(result.kind());
  entry.set_state(record.state());
  entry.set_original_settlement_id(result.original_settlement_id());
  entry.set_insured_region(result.insured_region());
  entry.set_treatment_region(result.treatment_region());
  entry.set_institution_code(result.institution_code());
  entry.set_insurance_type(result.insurance_type());
  entry.set_total_fen(result.total_fen());
  entry.set_fund_total_fen(result.fund_total_fen());
  entry.set_personal_account_fen(result.personal_account_fen());
  entry.set_cash_fen(result.cash_fen());
  return entry;
}

std::string Truncate(std::string text, size_t max) {
  if (text.size() > max) text.resize(max);
  return text;
}

}  // namespace

void Reconciler::Resolve(const std::string& day, const std::vector<ReconciliationNode>& sides,
                         const PairKey& pair, const Difference& difference,
                         yidi::v1::ReconciliationDifference* out) {
  const std::string& id = difference.settlement_id;
  const Authority authority = ChooseAuthority(difference.records);
  // The record every side must end up agreeing with; nullopt = never committed.
  std::optional<DayDetailEntry> truth;
  std::optional<yidi::v1::GetSettlementResponse> full;  // with the result, for a 补正
  std::string source;
  if (authority.ask_owner) {
    auto owner_region = context_->directory.PoolingRegionFor(pair.insured_region);
    const ReconciliationNode owner{yidi::v1::NODE_KIND_MUNICIPAL,
                                   owner_region.ok() ? *owner_region : pair.insured_region};
    source = absl::StrCat(NameOfNode(owner), " (the owner)");
    auto record = Record(owner, id);
    if (record.ok() && IsDefinitive(record->state())) {
      full = *record;
      truth = EntryFromRecord(*record);
      if (!record->has_result()) truth->set_state(record->state());
    } else if (absl::IsNotFound(record.status())) {
      truth = std::nullopt;  // the call never reached the owner: nothing was committed
      source = absl::StrCat(NameOfNode(owner), " (the owner has no record)");
    } else {
      out->set_resolved(false);
      out->set_resolution(Truncate(
          absl::StrCat("open: nobody on the path knows the outcome and the owner did not tell: ",
                       record.ok() ? "its record is not final" : record.status().message()),
          kReconciliationReasonLengthMax));
      return;
    }
  } else {
    const ReconciliationNode& node = sides[authority.side];
    const DayDetailEntry& entry = *difference.records[authority.side];
    source = absl::StrCat(NameOfNode(node), authority.side == 0 ? " (treatment side)" : "");
    truth = entry;
    if (entry.state() != yidi::v1::SETTLEMENT_STATE_VOIDED) {
      auto record = Record(node, id);
      if (!record.ok()) {
        out->set_resolved(false);
        out->set_resolution(Truncate(absl::StrCat("open: the record of ", source,
                                                  " could not be read: ", record.status().message()),
                                     kReconciliationReasonLengthMax));
        return;
      }
      full = *record;
    }
  }

  std::vector<std::string> done, failed;
  for (size_t i = 0; i < sides.size(); ++i) {
    if (AgreesWith(difference.records[i], truth)) continue;
    ApplyCorrectionRequest request;
    request.set_settlement_id(id);
    request.set_requested_by(context_->name);
    request.set_reason(Truncate(
        absl::StrCat(yidi::v1::DifferenceKind_Name(difference.kind), " on ", day, "; ",
                     difference.detail, "; prevails: ", source),
        kReconciliationReasonLengthMax));
    const bool offset = !truth || truth->state() == yidi::v1::SETTLEMENT_STATE_VOIDED;
    if (offset) {
      request.set_action(yidi::v1::CORRECTION_ACTION_OFFSET);
      request.set_insured_region(pair.insured_region);
      request.set_treatment_region(pair.treatment_region);
      if (difference.records[i]) {
        request.set_institution_code(difference.records[i]->institution_code());
      }
    } else {
      YIDI_CHECK(full.has_value(), "a 补正 copies the authority's full record");
      request.set_action(yidi::v1::CORRECTION_ACTION_SUPPLEMENT);
      request.set_state(full->state());
      if (full->has_result()) *request.mutable_result() = full->result();
      request.mutable_result()->set_state(full->state());
      request.set_request_digest(full->request_digest());
      request.set_institution_confirmed_on(truth->institution_confirmed_on());
    }
    request.set_correction_id(CorrectionIdFor(
        day, id, sides[i], request.action(),
        offset ? yidi::v1::SETTLEMENT_STATE_VOIDED : request.state()));
    auto applied = Correct(sides[i], request);
    const std::string what =
        absl::StrCat(offset ? "冲减 " : "补正 ", NameOfNode(sides[i]));
    if (applied.ok()) {
      done.push_back(what);
    } else {
      failed.push_back(absl::StrCat(what, " failed: ", applied.status().message()));
    }
  }
  out->set_resolved(failed.empty());
  out->set_resolution(Truncate(
      absl::StrCat(failed.empty() ? "resolved: " : "open: ", "prevails ", source, "; ",
                   done.empty() ? std::string("nothing to correct") : absl::StrJoin(done, ", "),
                   failed.empty() ? "" : "; ", absl::StrJoin(failed, "; ")),
      kReconciliationReasonLengthMax));
}

absl::StatusOr<ReconciliationReport> Reconciler::RunDayLocked(const std::string& day) {
  ReconciliationReport report;
  report.set_day(day);
  report.set_node(context_->name);
  report.set_last_attempt_at(FormatCstTimestamp(context_->clock->Now()));

  // Who takes part: this node and every node directly below it.
  std::vector<ReconciliationNode> nodes = {
      {context_->identity.kind, context_->identity.region_code}};
  for (const auto& region : context_->directory.directory().regions()) {
    const bool child =
        context_->identity.kind == yidi::v1::NODE_KIND_NATIONAL
            ? region.kind() == yidi::v1::NODE_KIND_PROVINCIAL
            : region.kind() == yidi::v1::NODE_KIND_MUNICIPAL &&
                  ProvinceCodeOf(region.code()) == context_->identity.region_code;
    if (child) nodes.push_back({region.kind(), region.code()});
  }

  std::map<ReconciliationNode, DayTotals> totals;
  std::set<ReconciliationNode> unreachable;
  std::vector<std::string> errors;
  for (const ReconciliationNode& node : nodes) {
    auto answer = Totals(node, day);
    if (!answer.ok()) {
      if (IsSelf(node)) return answer.status();
      unreachable.insert(node);
      errors.push_back(std::string(answer.status().message()));
      continue;
    }
    totals[node] = DayTotalsFromProto(*answer);
  }

  std::set<PairKey> pairs;
  for (const auto& [node, day_totals] : totals) {
    for (const auto& [pair, unused] : day_totals) pairs.insert(pair);
  }
  int compared = 0, differing = 0, resolved = 0, open = 0;
  for (const PairKey& pair : pairs) {
    const std::vector<ReconciliationNode> sides = PairSides(context_->identity,
                                                            context_->directory, pair);
    if (sides.empty()) continue;
    bool reachable = true;
    std::vector<const PairTotals*> side_totals;
    for (const auto& side : sides) {
      if (unreachable.count(side) > 0) reachable = false;
      auto node_it = totals.find(side);
      const PairTotals* found = nullptr;
      if (node_it != totals.end()) {
        auto pair_it = node_it->second.find(pair);
        if (pair_it != node_it->second.end()) found = &pair_it->second;
      }
      side_totals.push_back(found);
    }
    if (!reachable) continue;  // the day is FAILED; this pair is compared on the re-run
    ++compared;
    if (!PairNeedsDetail(side_totals)) continue;
    ++differing;
    std::vector<std::map<std::string, DayDetailEntry>> details;
    std::vector<std::string> names;
    bool detail_ok = true;
    for (const auto& side : sides) {
      auto detail = Detail(side, day, pair);
      if (!detail.ok()) {
        errors.push_back(std::string(detail.status().message()));
        detail_ok = false;
        break;
      }
      details.push_back(std::move(*detail));
      names.push_back(NameOfNode(side));
    }
    if (!detail_ok) continue;
    std::vector<const std::map<std::string, DayDetailEntry>*> detail_ptrs;
    for (const auto& detail : details) detail_ptrs.push_back(&detail);
    if (sides.size() < 2) continue;  // nothing to compare with (a province with no city node)
    for (const Difference& difference : ClassifyDifferences(detail_ptrs, names)) {
      auto* out = report.add_differences();
      out->set_day(day);
      out->set_settlement_id(difference.settlement_id);
      out->set_kind(difference.kind);
      out->set_insured_region(pair.insured_region);
      out->set_treatment_region(pair.treatment_region);
      out->set_detail(Truncate(difference.detail, 2000));
      Resolve(day, sides, pair, difference, out);
      (out->resolved() ? resolved : open) += 1;
    }
  }
  report.set_pairs_compared(compared);
  report.set_pairs_differing(differing);
  report.set_differences_found(report.differences_size());
  report.set_differences_resolved(resolved);
  report.set_differences_open(open);
  YIDI_CHECK(resolved + open == report.differences_size(), "every difference is counted once");
  report.set_error(Truncate(absl::StrJoin(errors, "; "), 2000));
  report.set_status(!errors.empty() ? yidi::v1::RUN_STATUS_FAILED
                    : open > 0      ? yidi::v1::RUN_STATUS_OPEN
                                    : yidi::v1::RUN_STATUS_BALANCED);
  {
    ASSIGN_OR_RETURN(auto tx, context_->store->Begin(TransactionMode::kWrite));
    RETURN_IF_ERROR(SaveReconciliationReport(*tx, report));
    RETURN_IF_ERROR(tx->Commit());
  }
  ASSIGN_OR_RETURN(auto tx, context_->store->Begin(TransactionMode::kRead));
  ASSIGN_OR_RETURN(ReconciliationReport stored, LoadReconciliationReport(*tx, day));
  stored.set_node(context_->name);
  LogInfo("reconciliation: %s day %s: %s, %d pairs, %d differing, %d differences (%d open)%s",
          context_->name, day, yidi::v1::RunStatus_Name(stored.status()), compared, differing,
          stored.differences_found(), open,
          errors.empty() ? "" : absl::StrCat("; ", stored.error()));
  return stored;
}

// ---------------------------------------------------------------------------------------------
// ReconciliationScheduler

ReconciliationScheduler::ReconciliationScheduler(NodeContext* context, Reconciler* reconciler,
                                                 absl::Duration poll_interval)
    : context_(context), reconciler_(reconciler), poll_interval_(poll_interval) {}

ReconciliationScheduler::~ReconciliationScheduler() { Stop(); }

std::vector<std::string> ReconciliationScheduler::RunDue() {
  const absl::Time now = context_->clock->Now();
  const absl::CivilSecond local = absl::ToCivilSecond(now, ChinaStandardTime());
  std::string run_after = context_->config.reconciliation().run_after();
  if (run_after.empty()) run_after = "01:00";
  const std::string time_of_day = absl::StrFormat("%02d:%02d", local.hour(), local.minute());
  std::vector<std::string> ran;
  if (time_of_day < run_after) return ran;
  const absl::CivilDay today = CstDay(now);
  const std::string today_text = FormatDate(today);
  const std::string yesterday = FormatDate(today - 1);
  std::vector<std::string> due;
  {
    auto tx = context_->store->Begin(TransactionMode::kRead);
    if (!tx.ok()) {
      LogWarning("reconciliation: %s: %s", context_->name, tx.status().ToString());
      return ran;
    }
    auto retry = DaysNotBalanced(**tx, FormatDate(today - kReconciliationRetryDaysMax), yesterday);
    if (retry.ok()) due = *retry;
    due.push_back(yesterday);
    // Run a day once per calendar day at most: skip it when balanced or attempted today.
    std::vector<std::string> keep;
    for (const std::string& day : due) {
      auto report = LoadReconciliationReport(**tx, day);
      if (report.ok() && (report->status() == yidi::v1::RUN_STATUS_BALANCED ||
                          absl::StartsWith(report->last_attempt_at(), today_text))) {
        continue;
      }
      keep.push_back(day);
    }
    due = std::move(keep);
  }
  for (const std::string& day : due) {
    auto report = reconciler_->RunDay(day);
    if (!report.ok()) {
      LogWarning("reconciliation: %s day %s: %s", context_->name, day,
                 report.status().ToString());
      continue;
    }
    ran.push_back(day);
  }
  return ran;
}

void ReconciliationScheduler::Start() {
  YIDI_CHECK(!thread_.joinable(), "a scheduler starts once");
  thread_ = std::thread([this] {
    while (true) {
      {
        absl::MutexLock lock(&mutex_);
        auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) { return stopping_; };
        mutex_.AwaitWithTimeout(absl::Condition(&stopping), poll_interval_);
        if (stopping_) return;
      }
      RunDue();
    }
  });
}

void ReconciliationScheduler::Stop() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

// ---------------------------------------------------------------------------------------------
// NodeReconciliationService

namespace {
grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx, const absl::Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}
}  // namespace

NodeReconciliationService::NodeReconciliationService(NodeContext* context,
                                                     CorrectionReplayer replayer)
    : context_(context), replayer_(std::move(replayer)), reconciler_(context) {
  if (context->config.reconciliation().daily() &&
      context->identity.kind != yidi::v1::NODE_KIND_MUNICIPAL) {
    scheduler_ = std::make_unique<ReconciliationScheduler>(context, &reconciler_);
    scheduler_->Start();
  }
}

NodeReconciliationService::~NodeReconciliationService() {
  if (scheduler_) scheduler_->Stop();
  std::vector<std::thread> runs;
  {
    absl::MutexLock lock(&runs_mutex_);
    runs.swap(runs_);
  }
  for (auto& run : runs) run.join();
}

grpc::ServerUnaryReactor* NodeReconciliationService::GetDayTotals(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetDayTotalsRequest* request,
    yidi::v1::GetDayTotalsResponse* response) {
  auto answer = HandleGetDayTotals(*context_, *request);
  if (answer.ok()) *response = std::move(*answer);
  return FinishNow(ctx, answer.status());
}

grpc::ServerUnaryReactor* NodeReconciliationService::GetDayDetail(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetDayDetailRequest* request,
    yidi::v1::GetDayDetailResponse* response) {
  auto answer = HandleGetDayDetail(*context_, *request);
  if (answer.ok()) *response = std::move(*answer);
  return FinishNow(ctx, answer.status());
}

grpc::ServerUnaryReactor* NodeReconciliationService::ApplyCorrection(
    grpc::CallbackServerContext* ctx, const ApplyCorrectionRequest* request,
    ApplyCorrectionResponse* response) {
  auto answer = HandleApplyCorrection(*context_, *request, replayer_);
  if (answer.ok()) *response = std::move(*answer);
  return FinishNow(ctx, answer.status());
}

grpc::ServerUnaryReactor* NodeReconciliationService::SubmitInstitutionDayTotals(
    grpc::CallbackServerContext* ctx, const yidi::v1::SubmitInstitutionDayTotalsRequest* request,
    yidi::v1::SubmitInstitutionDayTotalsResponse* response) {
  if (context_->identity.kind != yidi::v1::NODE_KIND_MUNICIPAL) {
    return FinishNow(ctx, absl::FailedPreconditionError(
                              "institutions reconcile with their treatment municipal node"));
  }
  const std::string& region = context_->identity.region_code;
  if (absl::Status valid =
          ValidateInstitutionDayTotals(*request, context_->directory, region);
      !valid.ok()) {
    return FinishNow(ctx, valid);
  }
  auto answer = [&]() -> absl::StatusOr<yidi::v1::SubmitInstitutionDayTotalsResponse> {
    ASSIGN_OR_RETURN(auto tx, context_->store->Begin(TransactionMode::kWrite));
    ASSIGN_OR_RETURN(auto result, SubmitInstitutionDayTotalsInTransaction(
                                      *tx, *request, region, context_->clock->Now()));
    RETURN_IF_ERROR(tx->Commit());
    return result;
  }();
  if (answer.ok()) *response = std::move(*answer);
  return FinishNow(ctx, answer.status());
}

grpc::ServerUnaryReactor* NodeReconciliationService::RunReconciliation(
    grpc::CallbackServerContext* ctx, const yidi::v1::RunReconciliationRequest* request,
    yidi::v1::ReconciliationReport* response) {
  if (context_->identity.kind == yidi::v1::NODE_KIND_MUNICIPAL) {
    return FinishNow(ctx, absl::FailedPreconditionError(
                              "a municipal node answers reconciliation; its province runs it"));
  }
  if (request->day().empty()) return FinishNow(ctx, absl::InvalidArgumentError("day: required"));
  if (!ParseDate(request->day()).ok()) {
    return FinishNow(ctx, absl::InvalidArgumentError("day: not a date YYYY-MM-DD"));
  }
  auto* reactor = ctx->DefaultReactor();
  const std::string day = request->day();
  absl::MutexLock lock(&runs_mutex_);
  runs_.emplace_back([this, day, response, reactor] {
    auto report = reconciler_.RunDay(day);
    if (report.ok()) *response = std::move(*report);
    reactor->Finish(ToGrpcStatus(report.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* NodeReconciliationService::GetReconciliationReport(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetReconciliationReportRequest* request,
    yidi::v1::ReconciliationReport* response) {
  if (request->day().empty()) return FinishNow(ctx, absl::InvalidArgumentError("day: required"));
  if (!ParseDate(request->day()).ok()) {
    return FinishNow(ctx, absl::InvalidArgumentError("day: not a date YYYY-MM-DD"));
  }
  auto answer = [&]() -> absl::StatusOr<ReconciliationReport> {
    ASSIGN_OR_RETURN(auto tx, context_->store->Begin(TransactionMode::kRead));
    return LoadReconciliationReport(*tx, request->day());
  }();
  if (answer.ok()) {
    *response = std::move(*answer);
    response->set_node(context_->name);
  }
  return FinishNow(ctx, answer.status());
}

}  // namespace yidi
