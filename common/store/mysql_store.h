// MysqlStore: the MySQL backend of Store (store.h) over MySQL Connector/C++ 1.1, opened by
// OpenStore for `mysql://user:password@host:port/database?pool=N`; node code should use
// OpenStore, not this header. Tested on MariaDB 10.11 (Debian 12); written for MySQL 5.7/8 and
// MySQL-compatible engines (TiDB in pessimistic mode) too: see docs/DEPLOY.md.
//
// Isolation: write transactions are serialised with respect to each other, as on SQLite's one
// writer, by the one row of `yidi_store_write_lock`: every write transaction locks it (SELECT
// ... FOR UPDATE) as its first statement, and the server holds the lock until COMMIT or
// ROLLBACK, or until the connection dies. The lock lives in the database, so it serialises
// writers across processes too: two node processes, or a node and an operator's migration,
// pointed at one database. InnoDB releases row locks as a commit becomes visible, before it
// flushes its log, so the next writer proceeds while the last commit is made durable and one
// log flush (group commit) serves several commits: about 6x the write rate of a lock released
// only after COMMIT returns (measured while writing this: about 270 against 1,500
// read-modify-write transactions/s from 8 threads, a log flush per commit).
// Waiting writers wait in the server, each on a connection; so that readers always find one,
// at most max(1, pool - 1) write transactions of a store hold a connection at once (its writer
// slots); the others wait in the process, up to kLockWaitMaxMs.
// A write transaction runs at READ COMMITTED: each statement reads the latest committed rows,
// and no other writer commits while this one holds the lock, so a read-modify-write (a yearly
// accumulator) cannot lose an update. READ COMMITTED rather than REPEATABLE READ because the
// snapshot of REPEATABLE READ may be older than the lock: on TiDB it is taken at BEGIN, before
// the wait, and a writer would then compute from values another writer has since replaced.
// (SERIALIZABLE is not used: it would turn the settlement path's plain reads into shared locks
// and conflicts into deadlock errors that no Begin/Commit can retry transparently.)
// A read transaction runs at REPEATABLE READ, START TRANSACTION WITH CONSISTENT SNAPSHOT, READ
// ONLY: one snapshot for all its reads; it never waits for the writer, and a write in it fails.
//
// Connections: a pool of up to `pool` connections (URL query, default kPoolSizeDefault), opened
// on demand and reused. Every statement of a caller runs as a server-side prepared statement
// with its values bound; no SQL is ever built from values. The only text-protocol statements
// are the backend's own constants (START TRANSACTION, SET TRANSACTION ..., COMMIT, ROLLBACK).
//
// Failure: a lost connection (server stopped, restarted or unreachable) makes the operation
// answer UNAVAILABLE; the server rolls back the transaction of a connection that dies, so
// nothing is half-written. The dead connection is closed, never returned to the pool, and the
// idle connections are dropped with it (after a server restart they are all dead); the next
// Begin opens fresh ones, so work resumes by itself once the server answers again. A Begin
// whose pooled connection turns out dead at its first statement retries on a new connection
// (nothing was sent in that transaction yet). A connection lost during COMMIT itself leaves
// the outcome unknown (the server may have committed just before): UNAVAILABLE, and the message
// says so; node code retries such an operation under the same settlement_id, which is
// idempotent on every hop.
//
// Schema: migrations run on a connection of their own under a per-database named lock
// (GET_LOCK), so two processes migrating one database apply each version once. MySQL commits
// each DDL statement implicitly, so a migration that fails part-way keeps the DDL statements
// before the failing one (its version is not recorded); SQLite rolls back the whole step.
//
// The database must use CHARACTER SET utf8mb4 with a binary collation (utf8mb4_bin), so that
// keys compare exactly as on SQLite ("ABC" != "abc"); Open checks.
//
// Thread safety: thread-safe. REQUIRES: a thread holding a write transaction does not begin
// another write transaction on this store (it would wait for itself; checked, aborts).
#ifndef YIDI_COMMON_STORE_MYSQL_STORE_H_
#define YIDI_COMMON_STORE_MYSQL_STORE_H_

#include <algorithm>
#include <cstdint>
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

class MysqlConnection;   // one Connector/C++ connection and its statements; mysql_store.cc
class MysqlTransaction;  // mysql_store.cc

// The parts of a `mysql://` URL. Exposed for tests and tools.
struct MysqlUrl {
  std::string user;
  std::string password;  // never logged: DisplayUrl and every message mask it
  std::string host;      // "127.0.0.1", "db.example", or an IPv6 address without brackets
  int port = 3306;
  std::string database;
  int pool_size = 0;  // connections at most
};

// Parses `mysql://user[:password]@host[:port]/database[?pool=N]`. User, password and database
// are percent-decoded (a password holding '@', ':' or '/' is written %40, %3A, %2F). The only
// query parameter is `pool` (1..MysqlStore::kPoolSizeMax, default kPoolSizeDefault). When
// `database_required` is false the database may be empty (a URL naming only a server, for
// tools that create databases). Errors: INVALID_ARGUMENT naming the part that is wrong, with
// the password masked.
absl::StatusOr<MysqlUrl> ParseMysqlUrl(std::string_view url, bool database_required = true);

class MysqlStore final : public Store {
 public:
  // Connections when the URL says nothing: the node's concurrent transactions on two cores
  // (gRPC's callback threads and the writers waiting for the lock row) rarely exceed this.
  static constexpr int kPoolSizeDefault = 8;
  // Each connection is a server thread and memory on the agency's MySQL server, shared with
  // other clients; more than this is a configuration mistake, not a tuning.
  static constexpr int kPoolSizeMax = 64;
  // The longest Begin waits for a writer slot, a free connection, or the lock row (as
  // innodb_lock_wait_timeout, in whole seconds). Past it the store is overloaded or a
  // transaction is stuck: UNAVAILABLE, as on SQLite.
  static constexpr int kLockWaitMaxMs = 5000;
  // Connecting to a server that does not answer: a node reports its database down quickly
  // rather than holding a hospital's call.
  static constexpr int kConnectTimeoutS = 2;
  // One statement's network read or write on a working connection; a server hung longer than
  // this is treated as lost (UNAVAILABLE). Statements of the settlement path take milliseconds.
  static constexpr int kStatementTimeoutS = 10;
  // A migration's statements (an index build on a large table) may take long.
  static constexpr int kMigrationTimeoutS = 3600;
  // How long Migrate waits for another process's migration of the same database.
  static constexpr int kMigrationLockWaitS = 60;

  // Connects (one connection, kept in the pool), checks the database's character set and
  // collation and creates the lock row's table when missing. Errors: INVALID_ARGUMENT for a
  // malformed URL; UNAVAILABLE when the server cannot be reached or refuses the user or the
  // database (the message names server, user and database, never the password);
  // FAILED_PRECONDITION when the database is not utf8mb4 with a binary collation.
  static absl::StatusOr<std::unique_ptr<MysqlStore>> Open(std::string_view url);

  // REQUIRES: no transaction of this store is alive.
  ~MysqlStore() override;

  MysqlStore(const MysqlStore&) = delete;
  MysqlStore& operator=(const MysqlStore&) = delete;

  absl::Status Migrate(const std::vector<Migration>& migrations) override;
  absl::StatusOr<std::unique_ptr<Transaction>> Begin(TransactionMode mode) override;
  std::string DisplayUrl() const override { return display_url_; }

  // Connections open now, idle or leased. For tests.
  int OpenConnectionsForTest();

 private:
  friend class MysqlTransaction;

  MysqlStore(MysqlUrl url, std::string display_url);

  // Opens one connection with the given network timeouts. UNAVAILABLE naming the server.
  absl::StatusOr<std::unique_ptr<MysqlConnection>> Connect(int timeout_s) const;

  // Begins on a leased connection; on a dead pooled connection retries with a new one.
  absl::StatusOr<std::unique_ptr<Transaction>> BeginOnConnection(TransactionMode mode);

  absl::Status AcquireWriterSlot();
  // `owner` is the thread that acquired the slot.
  void ReleaseWriterSlot(std::thread::id owner);
  // Takes an idle connection, or opens one when fewer than pool_size are open. `fresh` tells
  // whether it was opened for this call (a failure on it is not a stale connection).
  absl::StatusOr<MysqlConnection*> AcquireConnection(bool* fresh);
  // Returns `connection` to the idle list, or closes it when `reusable` is false; a connection
  // found dead also drops every idle one (after a server restart they are all dead).
  void ReleaseConnection(MysqlConnection* connection, bool reusable, bool connection_lost);

  absl::Status EnsureWriteLockTable();
  absl::Status CheckCharacterSet();

  bool WriterSlotAvailable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return writer_threads_.size() < static_cast<size_t>(std::max(1, url_.pool_size - 1));
  }
  bool ConnectionAvailable() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return !idle_.empty() ||
           connections_.size() + connections_opening_ < static_cast<size_t>(url_.pool_size);
  }

  // Constant after construction.
  const MysqlUrl url_;
  const std::string display_url_;

  // Guards the leases, not the connections: a leased connection is used by its transaction's
  // thread alone. Held for a few instructions; closing a connection happens outside it.
  absl::Mutex mutex_;
  // The threads holding a writer slot: at most pool - 1, so a short list.
  std::vector<std::thread::id> writer_threads_ ABSL_GUARDED_BY(mutex_);
  std::vector<std::unique_ptr<MysqlConnection>> connections_ ABSL_GUARDED_BY(mutex_);
  std::vector<MysqlConnection*> idle_ ABSL_GUARDED_BY(mutex_);
  size_t connections_opening_ ABSL_GUARDED_BY(mutex_) = 0;
};

// Test and tooling support over a server URL (`mysql://user:password@host:port/`, database
// part ignored). `name` and `collation` must match [a-z0-9_]{1,64}: they are identifiers, which
// no prepared statement can bind, so they are checked and quoted instead. The database is
// created with CHARACTER SET utf8mb4 and `collation`. UNAVAILABLE when the server cannot be
// reached, INVALID_ARGUMENT for a bad name, INTERNAL for other refusals.
absl::Status CreateMysqlDatabase(std::string_view server_url, std::string_view name,
                                 std::string_view collation = "utf8mb4_bin");
absl::Status DropMysqlDatabase(std::string_view server_url, std::string_view name);
// Kills connection `connection_id` on the server (KILL CONNECTION): a lost connection, for tests.
absl::Status KillMysqlConnectionForTest(std::string_view server_url, int64_t connection_id);

}  // namespace yidi

#endif  // YIDI_COMMON_STORE_MYSQL_STORE_H_
