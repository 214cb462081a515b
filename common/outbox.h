// Outbox: a write to another node that need not be synchronous (a filing's upload to the
// provincial and national indexes) is a row of this node's `outbox` table, inserted in the SAME
// transaction as the change it announces, and delivered at least once by an OutboxSender. A row
// leaves the table only after the receiver acknowledged it, so a crash, a lost reply or a parent
// that is down delays a delivery and never loses one; receivers must be idempotent
// (docs/ARCHITECTURE.md section 4, docs/FILING.md).
//
// Thread safety: the free functions work inside the caller's Transaction. An OutboxSender runs
// one sending thread of its own; Notify() may be called from any thread.
#ifndef YIDI_COMMON_OUTBOX_H_
#define YIDI_COMMON_OUTBOX_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/store/store.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"

namespace yidi {

// One call carries at most this many rows: a filing version is well under 1 KiB, so a batch
// stays far below gRPC's 4 MiB message limit and a receiver's write transaction stays short.
inline constexpr int kOutboxBatchRowsMax = 100;
// Backoff after a failed delivery: doubles from the minimum to the maximum and stays there
// (retries never stop: delivery is at least once), back to the minimum after a success.
inline constexpr absl::Duration kOutboxRetryDelayMin = absl::Milliseconds(100);
inline constexpr absl::Duration kOutboxRetryDelayMax = absl::Seconds(5);
// An idle sender looks at the table at least this often even without Notify(): rows left by an
// earlier run, or written by a path that does not notify.
inline constexpr absl::Duration kOutboxIdlePoll = absl::Seconds(1);
// A sender waits this long after Start before its first look at the table (a Notify ends the
// wait): a node starting with a backlog lets its parent, often starting at the same moment,
// come up first instead of meeting a refused connection and its reconnect backoff.
inline constexpr absl::Duration kOutboxStartDelay = absl::Seconds(1);
// Deadline of one delivery call when the sender is given none.
inline constexpr absl::Duration kOutboxCallDeadlineDefault = absl::Seconds(2);
// The last error kept on a row, in bytes.
inline constexpr int kOutboxErrorLengthMax = 400;
inline constexpr int kOutboxTopicLengthMax = 32;

// The DDL of the outbox table, for a node kind's migration list (each kind numbers its own).
std::vector<std::string> OutboxSchemaStatements();

struct OutboxRow {
  int64_t outbox_id = 0;  // increasing in insertion order
  std::string topic;
  std::string payload;    // the serialised message given to EnqueueOutbox
  std::string created_at;
  int64_t attempts = 0;
};

// Appends `payload` for `topic`. REQUIRES: `tx` is a write transaction; topic non-empty and at
// most kOutboxTopicLengthMax. Returns the row's id.
absl::StatusOr<int64_t> EnqueueOutbox(Transaction& tx, absl::string_view topic,
                                      const google::protobuf::Message& payload, absl::Time now);

// The oldest pending (not parked) rows of `topic`, at most `limit`, in id order.
absl::StatusOr<std::vector<OutboxRow>> ReadPendingOutbox(Transaction& tx, absl::string_view topic,
                                                         int limit);

// Removes delivered rows.
absl::Status DeleteOutboxRows(Transaction& tx, const std::vector<int64_t>& ids);

// Counts one more failed attempt on each row, keeping `error` (truncated).
absl::Status RecordOutboxFailure(Transaction& tx, const std::vector<int64_t>& ids,
                                 absl::string_view error);

// Sets a row aside: the receiver refused it on its merits, so resending cannot help. It stays
// in the table, counted by ReadOutboxStats, for an operator.
absl::Status ParkOutboxRow(Transaction& tx, int64_t id, absl::string_view error);

struct OutboxStats {
  int64_t pending = 0;
  int64_t parked = 0;
  std::string oldest_pending_at;  // empty when none is pending
  std::string last_error;         // of the oldest row that has one
};
absl::StatusOr<OutboxStats> ReadOutboxStats(Transaction& tx, absl::string_view topic);

// Delivers the rows of one topic from a background thread, oldest first, in batches of at most
// kOutboxBatchRowsMax, each call with a deadline. OK from `deliver` deletes the batch. A
// definitive refusal (common/grpc_status.h IsDefinitiveRefusal) of a batch is retried row by
// row, and a row refused alone is parked. Any other failure is retried after the backoff.
class OutboxSender {
 public:
  // Sends `rows` within `context` (deadline set; the sender may cancel it when stopping).
  using Deliver =
      std::function<absl::Status(const std::vector<OutboxRow>& rows, grpc::ClientContext& context)>;

  struct Options {
    std::string topic;
    std::string name;  // for logs: "filing upload to provincial 360000"
    absl::Duration call_deadline = kOutboxCallDeadlineDefault;
    absl::Duration start_delay = kOutboxStartDelay;
    // Optional periodic work on the sending thread, at most every `tick_interval` (real time),
    // e.g. the undertaking-lapse sweep. It runs before each look at the table.
    std::function<void()> tick;
    absl::Duration tick_interval = absl::Seconds(1);
  };

  // `store` must outlive the sender. Call Start() to begin.
  OutboxSender(Store* store, Options options, Deliver deliver);
  // Stops (Stop()).
  ~OutboxSender();

  OutboxSender(const OutboxSender&) = delete;
  OutboxSender& operator=(const OutboxSender&) = delete;

  // Starts the sending thread. REQUIRES: not started.
  void Start();
  // Wakes the thread now: a row was just committed. Cheap; never blocks on the network.
  void Notify();
  // Cancels a call in flight and joins the thread. Rows not yet acknowledged stay in the table.
  // Idempotent.
  void Stop();

  // Rows deleted after an acknowledgement since Start (tests and logs).
  int64_t delivered_count() const;

 private:
  enum class Pass {
    kSent,    // a batch went (or was sorted out row by row): look again at once
    kIdle,    // nothing pending
    kFailed,  // the parent or the database failed: back off
  };
  void Run();
  // One pass: read a batch, deliver it, delete it (or park what was refused).
  Pass SendOnce();
  // Delivers `rows` one by one after a definitive refusal of the batch.
  void SendIndividually(const std::vector<OutboxRow>& rows);
  absl::Status Call(const std::vector<OutboxRow>& rows);
  // Waits up to `timeout` or until Notify (when `wake_on_notify`) or Stop. False when stopping.
  bool Wait(absl::Duration timeout, bool wake_on_notify);
  bool Woken() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  Store* const store_;
  const Options options_;
  const Deliver deliver_;

  mutable absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  bool notified_ ABSL_GUARDED_BY(mutex_) = false;
  bool wake_on_notify_ ABSL_GUARDED_BY(mutex_) = true;
  grpc::ClientContext* in_flight_ ABSL_GUARDED_BY(mutex_) = nullptr;
  int64_t delivered_ ABSL_GUARDED_BY(mutex_) = 0;
  std::thread thread_;
};

}  // namespace yidi

#endif  // YIDI_COMMON_OUTBOX_H_
