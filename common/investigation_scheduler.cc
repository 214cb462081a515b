#include "common/investigation_scheduler.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/grpc_status.h"
#include "common/investigation.h"
#include "common/investigation_service.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/routing.h"
#include "common/status_macros.h"

namespace yidi {
namespace {

struct CloseRow {
  bool found = false;
  bool complete = false;
};

absl::StatusOr<CloseRow> LoadCloseRow(Transaction& tx, const std::string& period) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT complete FROM investigation_close WHERE period = ?",
                                       {period}));
  CloseRow row;
  if (!rows.empty()) {
    row.found = true;
    row.complete = rows[0].Int(0) != 0;
  }
  return row;
}

}  // namespace

absl::CivilMonth LatestClosedInvestigationPeriod(absl::Time now) {
  const absl::CivilSecond local = absl::ToCivilSecond(now, ChinaStandardTime());
  absl::CivilMonth month(local);
  if (local.day() < kInvestigationCloseDayOfMonth) month -= 1;
  YIDI_CHECK(InvestigationPeriodCloseTime(month) <= now, "the latest closed period has closed");
  return month;
}

bool AutomaticInvestigationCloseEnabled(const NodeContext& context,
                                        const yidi::v1::CollaborationPolicy& policy) {
  if (context.identity.kind != yidi::v1::NODE_KIND_NATIONAL &&
      context.identity.kind != yidi::v1::NODE_KIND_PROVINCIAL) {
    return false;
  }
  return !policy.has_automatic_close() || policy.automatic_close();
}

InvestigationCloseScheduler::InvestigationCloseScheduler(NodeContext* context,
                                                         absl::Duration poll_interval)
    : context_(context), poll_interval_(poll_interval) {}

InvestigationCloseScheduler::~InvestigationCloseScheduler() { Stop(); }

std::vector<std::string> InvestigationCloseScheduler::RunDue() {
  absl::MutexLock run(&run_mutex_);
  std::vector<std::string> done;
  const absl::CivilMonth latest = LatestClosedInvestigationPeriod(context_->clock->Now());
  if (latest <= complete_through_) return done;  // the usual tick: nothing became due
  std::vector<absl::CivilMonth> due;
  {
    auto tx = context_->store->Begin(TransactionMode::kRead);
    if (!tx.ok()) {
      LogWarning("investigation close: %s: %s", context_->name, tx.status().ToString());
      return done;
    }
    for (absl::CivilMonth period = latest - (kInvestigationCloseCatchUp - 1); period <= latest;
         period += 1) {
      auto row = LoadCloseRow(**tx, FormatInvestigationPeriod(period));
      if (!row.ok()) {
        LogWarning("investigation close: %s: %s", context_->name, row.status().ToString());
        return done;
      }
      if (!row->complete) due.push_back(period);
    }
  }
  bool all_complete = true;
  for (absl::CivilMonth period : due) {
    const std::string text = FormatInvestigationPeriod(period);
    done.push_back(text);
    absl::Status closed = ClosePeriod(period);
    if (!closed.ok()) {
      all_complete = false;
      LogWarning("investigation close: %s period %s: %s (retried next tick)", context_->name,
                 text, closed.ToString());
    }
  }
  if (all_complete) complete_through_ = latest;
  return done;
}

absl::Status InvestigationCloseScheduler::ClosePeriod(absl::CivilMonth period) {
  const std::string text = FormatInvestigationPeriod(period);
  // The same close as the RPC: idempotent, it marks nothing twice.
  ASSIGN_OR_RETURN(std::vector<yidi::v1::InvestigationSummary> summaries,
                   CloseInvestigationPeriodHere(*context_, text));
  const std::string at = FormatCstTimestamp(context_->clock->Now());
  absl::Status first_error;
  for (const auto& summary : summaries) {
    {
      ASSIGN_OR_RETURN(auto tx, context_->store->Begin(TransactionMode::kRead));
      ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT delivered FROM investigation_summary "
                                            "WHERE period = ? AND treatment_region = ?",
                                            {text, summary.treatment_region()}));
      if (!rows.empty() && rows[0].Int(0) != 0) continue;  // delivered on an earlier tick
    }
    absl::Status published = Publish(summary);
    if (!published.ok()) {
      if (first_error.ok()) first_error = published;
      continue;
    }
    ASSIGN_OR_RETURN(auto tx, context_->store->Begin(TransactionMode::kWrite));
    RETURN_IF_ERROR(tx->Execute("UPDATE investigation_summary SET delivered = 1 "
                                "WHERE period = ? AND treatment_region = ?",
                                {text, summary.treatment_region()})
                        .status());
    RETURN_IF_ERROR(tx->Commit());
    LogInfo("investigation close: %s published period %s to %s (%d requests)", context_->name,
            text, summary.treatment_region(), summary.investigation_ids_size());
  }
  const int64_t complete = first_error.ok() ? 1 : 0;
  ASSIGN_OR_RETURN(auto tx, context_->store->Begin(TransactionMode::kWrite));
  ASSIGN_OR_RETURN(CloseRow row, LoadCloseRow(*tx, text));
  if (row.found) {
    RETURN_IF_ERROR(tx->Execute("UPDATE investigation_close SET complete = ?, "
                                "attempts = attempts + 1, last_attempt_at = ? WHERE period = ?",
                                {complete, at, text})
                        .status());
  } else {
    RETURN_IF_ERROR(tx->Execute("INSERT INTO investigation_close (period, complete, attempts, "
                                "closed_at, last_attempt_at) VALUES (?, ?, 1, ?, ?)",
                                {text, complete, at, at})
                        .status());
  }
  RETURN_IF_ERROR(tx->Commit());
  if (complete != 0) {
    LogInfo("investigation close: %s closed period %s (%d treatment regions)", context_->name,
            text, static_cast<int>(summaries.size()));
  }
  return first_error;
}

absl::Status InvestigationCloseScheduler::Publish(const yidi::v1::InvestigationSummary& summary) {
  ASSIGN_OR_RETURN(Route route,
                   RouteToward(context_->identity, context_->directory, summary.treatment_region()));
  if (route.handle_locally) {
    return MarkInvestigationSummaryHere(*context_, summary).status();
  }
  yidi::v1::PublishInvestigationSummaryRequest request;
  *request.mutable_summary() = summary;
  yidi::v1::PublishInvestigationSummaryResponse response;
  grpc::ClientContext call;
  const int deadline_ms = context_->config.forward_deadline_ms() > 0
                              ? context_->config.forward_deadline_ms()
                              : kForwardDeadlineDefaultMs;
  call.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
  const grpc::Status status =
      StubFor(route.next_address)->PublishInvestigationSummary(&call, request, &response);
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat("summary for ", summary.treatment_region(),
                                               " not taken by ", route.NextHopName(), ": ",
                                               status.error_message()));
  }
  return absl::OkStatus();
}

yidi::v1::InvestigationService::Stub* InvestigationCloseScheduler::StubFor(
    const std::string& address) {
  auto& stub = stubs_[address];
  if (stub == nullptr) {
    stub = yidi::v1::InvestigationService::NewStub(
        MakeChannel(address, context_->channel_credentials));
  }
  return stub.get();
}

void InvestigationCloseScheduler::Start() {
  YIDI_CHECK(!thread_.joinable(), "a scheduler starts once");
  thread_ = std::thread([this] {
    while (true) {
      RunDue();
      absl::MutexLock lock(&mutex_);
      auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) { return stopping_; };
      mutex_.AwaitWithTimeout(absl::Condition(&stopping), poll_interval_);
      if (stopping_) return;
    }
  });
}

void InvestigationCloseScheduler::Stop() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace yidi
