// SqliteStore: the embedded SQLite backend of Store (store.h), opened by OpenStore for
// `sqlite://...` and `sqlite::memory:` URLs; node code should use OpenStore, not this header.
//
// Connections: one writer connection, and for a file database a pool of up to
// kReadConnectionsMax read-only connections created on demand. Under WAL a reader sees the
// last committed snapshot and never waits for the writer, so reads keep flowing while a write
// transaction is open. An in-memory database lives in one connection, so there every
// transaction, read or write, takes the writer connection in turn.
//
// Thread safety: thread-safe. A write transaction holds the writer connection from Begin until
// Commit or destruction (BEGIN IMMEDIATE): write transactions run one at a time, in this
// process and, through SQLite's file lock, across processes. REQUIRES: a thread holding a
// write transaction (or, in memory, any transaction) does not begin another one on this
// store; it would wait for itself, so it is checked and aborts.
#ifndef YIDI_COMMON_STORE_SQLITE_STORE_H_
#define YIDI_COMMON_STORE_SQLITE_STORE_H_

#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/store/store.h"

namespace yidi {

class SqliteConnection;   // one sqlite3 handle and its statement cache; sqlite_store.cc
class SqliteTransaction;  // sqlite_store.cc

class SqliteStore final : public Store {
 public:
  // Read connections of a file database. Each costs a file handle and a page cache; four
  // cover the node's concurrent readers on two cores, and beyond that readers queue.
  static constexpr int kReadConnectionsMax = 4;
  // The longest a Begin waits for the writer (another thread's write transaction) or for a
  // free read connection, and SQLite's busy_timeout for another process's lock. Past it the
  // store is overloaded or a transaction is stuck: UNAVAILABLE, the caller retries or sheds.
  static constexpr int kLockWaitMaxMs = 5000;

  // Opens (creating if missing) the database file at `path`, relative to the working
  // directory unless absolute; always a plain file name (a path starting "file:" is not read
  // as an SQLite URI). `url` is kept for DisplayUrl. Errors: INVALID_ARGUMENT for an
  // empty path or ":memory:" (use sqlite::memory:), UNAVAILABLE when the file cannot be
  // opened or put in WAL mode (the message names the path).
  static absl::StatusOr<std::unique_ptr<SqliteStore>> OpenFile(std::string_view url,
                                                               std::string_view path);

  // Opens a fresh private in-memory database; it vanishes with the store.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> OpenInMemory(std::string_view url);

  // REQUIRES: no transaction of this store is alive.
  ~SqliteStore() override;

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  absl::Status Migrate(const std::vector<Migration>& migrations) override;
  absl::StatusOr<std::unique_ptr<Transaction>> Begin(TransactionMode mode) override;
  std::string DisplayUrl() const override { return url_; }

 private:
  friend class SqliteTransaction;

  SqliteStore(std::string_view url, std::string path, bool in_memory,
              std::unique_ptr<SqliteConnection> writer);

  // Waits up to kLockWaitMaxMs for the writer connection; on success the caller holds the
  // writer lease until ReleaseWriter.
  absl::StatusOr<SqliteConnection*> AcquireWriter();
  void ReleaseWriter();
  // Takes an idle read connection, opening one when fewer than kReadConnectionsMax exist.
  absl::StatusOr<SqliteConnection*> AcquireReader();
  // Returns `reader` to the pool, or closes it when `reusable` is false (its transaction
  // could not be ended, so its state is unknown).
  void ReleaseReader(SqliteConnection* reader, bool reusable);

  bool WriterAvailable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return !writer_busy_; }
  bool ReaderAvailable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return !idle_readers_.empty() ||
           readers_.size() + readers_opening_ < static_cast<size_t>(kReadConnectionsMax);
  }

  // Constant after construction.
  const std::string url_;
  const std::string path_;
  const bool in_memory_;
  // Used only by the transaction that holds the writer lease (writer_busy_).
  const std::unique_ptr<SqliteConnection> writer_;

  // Guards the leases, not the connections: it is held for a few instructions at Begin and at
  // the end of a transaction, while the lease (writer_busy_, a reader off idle_readers_) is
  // held for the transaction's life. Waiting on a condition lets that wait have a deadline.
  absl::Mutex mutex_;
  bool writer_busy_ ABSL_GUARDED_BY(mutex_) = false;
  // The thread holding the writer lease, to turn a self-deadlock into a check failure.
  std::thread::id writer_thread_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::unique_ptr<SqliteConnection>> readers_ ABSL_GUARDED_BY(mutex_);
  std::vector<SqliteConnection*> idle_readers_ ABSL_GUARDED_BY(mutex_);
  size_t readers_opening_ ABSL_GUARDED_BY(mutex_) = 0;  // slots taken, connection not yet open
};

}  // namespace yidi

#endif  // YIDI_COMMON_STORE_SQLITE_STORE_H_
