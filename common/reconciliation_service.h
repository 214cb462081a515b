// Daily reconciliation, the running part (RULES.md section 4, docs/RECONCILIATION.md):
//  - Reconciler: runs one day at a provincial or national node. It asks itself and every node
//    directly below it (national: the provinces; a province: its cities) for the day's totals
//    per pair of regions (GetDayTotals), compares each pair among the sides that must agree on it
//    (common/reconciliation.h PairSides), fetches detail only for pairs whose totals differ or
//    hold an IN_DOUBT record, classifies every differing settlement, decides whose record
//    prevails (ChooseAuthority; the owner is asked when no side knows) and corrects every side
//    in error through ApplyCorrection (idempotent by a deterministic correction id). What cannot
//    be resolved stays open in the day's report. A counterparty that does not answer makes the
//    day FAILED; FAILED and OPEN days are re-run daily (Jiangxi 002 第42条).
//  - ReconciliationScheduler: the daily run on the node's injectable clock.
//  - NodeReconciliationService: the gRPC service of every node kind.
//
// Thread safety: RunDay may be called from any thread; runs of one node are serialised.
#ifndef YIDI_COMMON_RECONCILIATION_SERVICE_H_
#define YIDI_COMMON_RECONCILIATION_SERVICE_H_

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/node.h"
#include "common/reconciliation.h"
#include "common/reconciliation_store.h"
#include "yidi/v1/reconciliation.grpc.pb.h"
#include "yidi/v1/settlement.grpc.pb.h"

namespace yidi {

inline constexpr int kReconciliationCallDeadlineDefaultMs = 10000;
// The scheduler looks at the clock this often (real time).
inline constexpr absl::Duration kReconciliationPollInterval = absl::Seconds(30);

class Reconciler {
 public:
  // `context` must outlive the reconciler. `totals_page_size`: the page size it asks
  // GetDayTotals for (tests use a small one to walk many pages). REQUIRES: 1 to
  // kDayTotalsPageSizeMax.
  explicit Reconciler(NodeContext* context, int totals_page_size = kDayTotalsPageSizeDefault);

  // Reconciles `day` (validated YYYY-MM-DD) and stores the report. FAILED_PRECONDITION at a
  // municipal node; the store's errors. A counterparty that does not answer is not an error: the
  // report says FAILED and names it.
  absl::StatusOr<yidi::v1::ReconciliationReport> RunDay(const std::string& day);

 private:
  absl::StatusOr<yidi::v1::ReconciliationReport> RunDayLocked(const std::string& day)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(run_mutex_);
  // Resolves one difference; fills resolved/resolution.
  void Resolve(const std::string& day, const std::vector<ReconciliationNode>& sides,
               const PairKey& pair, const Difference& difference,
               yidi::v1::ReconciliationDifference* out);

  // Calls on one node: this node's own store, or the node's ReconciliationService.
  absl::StatusOr<yidi::v1::GetDayTotalsResponse> Totals(const ReconciliationNode& node,
                                                        const std::string& day);
  absl::StatusOr<std::map<std::string, yidi::v1::DayDetailEntry>> Detail(
      const ReconciliationNode& node, const std::string& day, const PairKey& pair);
  absl::StatusOr<yidi::v1::GetSettlementResponse> Record(const ReconciliationNode& node,
                                                         const std::string& settlement_id);
  absl::StatusOr<yidi::v1::ApplyCorrectionResponse> Correct(
      const ReconciliationNode& node, const yidi::v1::ApplyCorrectionRequest& request);

  bool IsSelf(const ReconciliationNode& node) const;
  absl::StatusOr<std::string> AddressOf(const ReconciliationNode& node) const;
  yidi::v1::ReconciliationService::Stub* StubFor(const std::string& address);
  std::unique_ptr<grpc::ClientContext> CallContext() const;

  NodeContext* const context_;
  const int totals_page_size_;
  absl::Mutex run_mutex_;
  absl::Mutex stubs_mutex_;
  std::map<std::string, std::unique_ptr<yidi::v1::ReconciliationService::Stub>> stubs_
      ABSL_GUARDED_BY(stubs_mutex_);
};

class ReconciliationScheduler {
 public:
  // `context` and `reconciler` must outlive the scheduler. Call Start() to begin.
  ReconciliationScheduler(NodeContext* context, Reconciler* reconciler,
                          absl::Duration poll_interval = kReconciliationPollInterval);
  ~ReconciliationScheduler();  // Stop()

  // One look at the clock: when the CST time of day has reached run_after, reconciles the
  // previous day (unless balanced or already attempted today) and re-runs every earlier day
  // of the last kReconciliationRetryDaysMax that is not balanced and was not attempted today.
  // Returns the days run. Public for tests (FakeClock).
  std::vector<std::string> RunDue();

  void Start();
  void Stop();  // idempotent; joins the thread

 private:
  NodeContext* const context_;
  Reconciler* const reconciler_;
  const absl::Duration poll_interval_;
  absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

class NodeReconciliationService final : public yidi::v1::ReconciliationService::CallbackService {
 public:
  // Starts the daily scheduler when the config asks for it (provincial and national nodes).
  // `replayer`: what a correction replays at this node besides the record (D410; the municipal
  // node passes municipal::OwnerCorrectionReplayer); empty elsewhere.
  explicit NodeReconciliationService(NodeContext* context, CorrectionReplayer replayer = nullptr);
  ~NodeReconciliationService() override;

  grpc::ServerUnaryReactor* GetDayTotals(grpc::CallbackServerContext* ctx,
                                         const yidi::v1::GetDayTotalsRequest* request,
                                         yidi::v1::GetDayTotalsResponse* response) override;
  grpc::ServerUnaryReactor* GetDayDetail(grpc::CallbackServerContext* ctx,
                                         const yidi::v1::GetDayDetailRequest* request,
                                         yidi::v1::GetDayDetailResponse* response) override;
  grpc::ServerUnaryReactor* ApplyCorrection(grpc::CallbackServerContext* ctx,
                                            const yidi::v1::ApplyCorrectionRequest* request,
                                            yidi::v1::ApplyCorrectionResponse* response) override;
  grpc::ServerUnaryReactor* SubmitInstitutionDayTotals(
      grpc::CallbackServerContext* ctx,
      const yidi::v1::SubmitInstitutionDayTotalsRequest* request,
      yidi::v1::SubmitInstitutionDayTotalsResponse* response) override;
  grpc::ServerUnaryReactor* RunReconciliation(grpc::CallbackServerContext* ctx,
                                              const yidi::v1::RunReconciliationRequest* request,
                                              yidi::v1::ReconciliationReport* response) override;
  grpc::ServerUnaryReactor* GetReconciliationReport(
      grpc::CallbackServerContext* ctx, const yidi::v1::GetReconciliationReportRequest* request,
      yidi::v1::ReconciliationReport* response) override;

 private:
  NodeContext* const context_;
  const CorrectionReplayer replayer_;
  Reconciler reconciler_;
  std::unique_ptr<ReconciliationScheduler> scheduler_;
  // Operator runs work on their own threads (they call other nodes; a callback thread must not
  // block on that), joined at destruction.
  absl::Mutex runs_mutex_;
  std::vector<std::thread> runs_ ABSL_GUARDED_BY(runs_mutex_);
};

// The store-level handlers, shared with tests: this node's answer to each call.
absl::StatusOr<yidi::v1::GetDayTotalsResponse> HandleGetDayTotals(
    NodeContext& context, const yidi::v1::GetDayTotalsRequest& request);
absl::StatusOr<yidi::v1::GetDayDetailResponse> HandleGetDayDetail(
    NodeContext& context, const yidi::v1::GetDayDetailRequest& request);
absl::StatusOr<yidi::v1::ApplyCorrectionResponse> HandleApplyCorrection(
    NodeContext& context, const yidi::v1::ApplyCorrectionRequest& request,
    const CorrectionReplayer& replayer = nullptr);

}  // namespace yidi

#endif  // YIDI_COMMON_RECONCILIATION_SERVICE_H_
