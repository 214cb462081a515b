// The automatic close of fee investigation periods ("每月26日零时", 000_… 第54条; D564).
//
// On a national node (cross-province requests) and a provincial node (its intra-province
// requests) a background thread looks at the node's Clock: once it has passed 00:00 CST on the
// 26th, the period ending then is closed through the same path as CloseInvestigationPeriod
// (CloseInvestigationPeriodHere, then PublishInvestigationSummary toward each treatment
// region), unless this node has already closed and delivered it.
//
// Durability. Table `investigation_close` (migration 502) holds one row per period handled
// here: `complete` once every summary was delivered. A summary a treatment region did not take
// (a hop down) leaves the row incomplete and is published again on the next tick; delivered
// regions are marked in `investigation_summary.delivered` and not sent twice. A node that was
// down at 00:00 closes at its first tick after it starts; the last kInvestigationCloseCatchUp
// periods are looked at, oldest first, so a node down over several 26ths closes each of them.
//
// Thread safety: RunDue() may be called from any thread; runs are serialised. The thread ticks
// every `poll_interval` of real time (the decision uses the injectable Clock, so a FakeClock
// moved by a test is seen at the next tick).
#ifndef YIDI_COMMON_INVESTIGATION_SCHEDULER_H_
#define YIDI_COMMON_INVESTIGATION_SCHEDULER_H_

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/node.h"
#include "yidi/v1/investigation.grpc.pb.h"

namespace yidi {

// Real-time interval between two looks at the clock. A look is an in-memory comparison unless
// a period became due (then one read transaction), so it can be short.
inline constexpr absl::Duration kInvestigationClosePollInterval = absl::Seconds(1);
// How many periods back (the due one included) a tick considers: a node down for up to three
// 26ths still closes each period on its own.
inline constexpr int kInvestigationCloseCatchUp = 3;

// The latest period whose close time (00:00 CST on its 26th) is at or before `now`.
absl::CivilMonth LatestClosedInvestigationPeriod(absl::Time now);

// True when the automatic close runs on this node under `policy`: national and provincial
// nodes, unless the policy sets automatic_close: false.
bool AutomaticInvestigationCloseEnabled(const NodeContext& context,
                                        const yidi::v1::CollaborationPolicy& policy);

class InvestigationCloseScheduler {
 public:
  // REQUIRES: `context` outlives the scheduler. Call Start() to run the thread.
  explicit InvestigationCloseScheduler(NodeContext* context,
                                       absl::Duration poll_interval = kInvestigationClosePollInterval);
  ~InvestigationCloseScheduler();  // Stop()

  InvestigationCloseScheduler(const InvestigationCloseScheduler&) = delete;
  InvestigationCloseScheduler& operator=(const InvestigationCloseScheduler&) = delete;

  // One tick: closes (or re-publishes) every due period not yet complete here. Returns the
  // periods for which something was done (closed, or a publication retried); empty when all
  // due periods were already complete. Errors are logged, the period is retried next tick.
  // Public for tests (FakeClock).
  std::vector<std::string> RunDue();

  void Start();  // REQUIRES: not started. The first tick runs at once.
  void Stop();   // idempotent; joins the thread

 private:
  // Closes `period`, publishes the undelivered summaries, records the outcome. OK when this
  // period is complete afterwards.
  absl::Status ClosePeriod(absl::CivilMonth period) ABSL_EXCLUSIVE_LOCKS_REQUIRED(run_mutex_);
  // Sends one summary toward its treatment region and waits for the answer.
  absl::Status Publish(const yidi::v1::InvestigationSummary& summary)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(run_mutex_);
  yidi::v1::InvestigationService::Stub* StubFor(const std::string& address)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(run_mutex_);

  NodeContext* const context_;
  const absl::Duration poll_interval_;
  absl::Mutex run_mutex_;
  // Every period up to this one is complete here (a cache of the table: saves the read).
  absl::CivilMonth complete_through_ ABSL_GUARDED_BY(run_mutex_) = absl::CivilMonth(1970, 1);
  std::map<std::string, std::unique_ptr<yidi::v1::InvestigationService::Stub>> stubs_
      ABSL_GUARDED_BY(run_mutex_);
  absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace yidi

#endif  // YIDI_COMMON_INVESTIGATION_SCHEDULER_H_
