// SqliteStore: connections, statement cache, transactions and migrations over SQLite 3.
#include "common/store/sqlite_store.h"

#include <sqlite3.h>

#include <chrono>
#include <climits>
#include <cstdint>
#include <ctime>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/status_macros.h"

namespace yidi {
namespace {

// Prepared statements kept per connection. Node code uses a fixed set of SQL strings, far
// fewer than this; the cap only stops SQL built at run time from growing memory unbounded.
constexpr size_t kStatementsCachedMax = 256;
// How much of a failing statement an INTERNAL error quotes: enough to find it in the code.
constexpr size_t kSqlQuotedMax = 80;

constexpr std::string_view kInMemoryPath = ":memory:";

constexpr std::string_view kCreateSchemaMigrations =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)";

// Heterogeneous lookup: the cache is searched by string_view without building a std::string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

// Debian's Abseil is built with its own absl::string_view, not std::string_view, so StrCat
// takes no std::string_view directly.
absl::string_view AsAbsl(std::string_view text) { return {text.data(), text.size()}; }

absl::string_view Quoted(std::string_view sql) { return AsAbsl(sql.substr(0, kSqlQuotedMax)); }

// Maps an SQLite result code (extended codes are on) to the Store error contract.
absl::Status SqliteError(sqlite3* db, int result_code, std::string_view sql) {
  const std::string message = sqlite3_errmsg(db);
  if (result_code == SQLITE_CONSTRAINT_UNIQUE || result_code == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return absl::AlreadyExistsError(message);
  }
  const int primary_code = result_code & 0xff;
  if (primary_code == SQLITE_BUSY || primary_code == SQLITE_LOCKED) {
    return absl::UnavailableError(absl::StrCat("sqlite database busy: ", message));
  }
  return absl::InternalError(
      absl::StrCat("sqlite error ", result_code, ": ", message, "; in: ", Quoted(sql)));
}

std::string UtcNowIso8601() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  const size_t length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string(buffer, length);
}

// Resets a statement when leaving scope, so that it holds no snapshot, lock or pointer into
// the caller's parameters (text is bound SQLITE_STATIC) once Execute or Query returns.
class StatementReset {
 public:
  explicit StatementReset(sqlite3_stmt* statement) : statement_(statement) {}
  ~StatementReset() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  StatementReset(const StatementReset&) = delete;
  StatementReset& operator=(const StatementReset&) = delete;

 private:
  sqlite3_stmt* const statement_;
};

absl::Status Bind(sqlite3* db, sqlite3_stmt* statement, std::string_view sql,
                  const std::vector<SqlValue>& params) {
  const int expected = sqlite3_bind_parameter_count(statement);
  if (static_cast<size_t>(expected) != params.size()) {
    return absl::InternalError(absl::StrCat("SQL takes ", expected, " parameters, given ",
                                            params.size(), "; in: ", Quoted(sql)));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    const SqlValue& value = params[i];
    int result_code = SQLITE_OK;
    if (std::holds_alternative<std::monostate>(value)) {
      result_code = sqlite3_bind_null(statement, index);
    } else if (std::holds_alternative<int64_t>(value)) {
      result_code = sqlite3_bind_int64(statement, index, std::get<int64_t>(value));
    } else {
      const std::string& text = std::get<std::string>(value);
      result_code = sqlite3_bind_text64(statement, index, text.data(), text.size(),
                                        SQLITE_STATIC, SQLITE_UTF8);
    }
    if (result_code != SQLITE_OK) return SqliteError(db, result_code, sql);
  }
  return absl::OkStatus();
}

absl::StatusOr<Row> ReadRow(sqlite3_stmt* statement, std::string_view sql) {
  const int columns = sqlite3_column_count(statement);
  std::vector<SqlValue> values;
  values.reserve(static_cast<size_t>(columns));
  for (int column = 0; column < columns; ++column) {
    switch (sqlite3_column_type(statement, column)) {
      case SQLITE_INTEGER:
        values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(statement, column)));
        break;
      case SQLITE_TEXT:
      case SQLITE_BLOB: {
        // column_blob gives the bytes of a TEXT value too; it is null for an empty value.
        const auto* bytes = static_cast<const char*>(sqlite3_column_blob(statement, column));
        const int length = sqlite3_column_bytes(statement, column);
        values.emplace_back(bytes == nullptr ? std::string() : std::string(bytes, length));
        break;
      }
      case SQLITE_NULL:
        values.emplace_back(std::monostate{});
        break;
      case SQLITE_FLOAT:
        // Money is integer fen; a REAL reaching us is a schema or query bug, not data to round.
        return absl::InternalError(absl::StrCat(
            "floating-point column ", column, " (", sqlite3_column_name(statement, column),
            "); the store holds integers and text only; in: ", Quoted(sql)));
      default:
        return absl::InternalError(absl::StrCat("unknown sqlite column type in column ", column,
                                                "; in: ", Quoted(sql)));
    }
  }
  return Row(std::move(values));
}

}  // namespace

// One sqlite3 handle with its prepared statements. Not thread-safe: the store leases it to one
// transaction, hence one thread, at a time (and opens it SQLITE_OPEN_NOMUTEX accordingly).
class SqliteConnection {
 public:
  enum class Role {
    kWriter,  // creates the file and sets WAL mode
    kReader,  // query_only: a read transaction cannot write by mistake
  };

  static absl::StatusOr<std::unique_ptr<SqliteConnection>> Open(const std::string& path,
                                                                Role role);

  ~SqliteConnection() {
    FinalizeStatements();
    sqlite3_close(db_);  // every statement is finalized, so it closes now
  }

  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  // Returns the rows changed by `sql`: 0 for a statement that is not INSERT, UPDATE or DELETE.
  absl::StatusOr<int64_t> Execute(std::string_view sql, const std::vector<SqlValue>& params) {
    // sqlite3_changes() keeps the count of the last INSERT/UPDATE/DELETE, so DDL or a PRAGMA
    // would report a stale count; an unchanged total tells us nothing was changed.
    const int64_t total_before = sqlite3_total_changes64(db_);
    RETURN_IF_ERROR(Run(sql, params, nullptr));
    if (sqlite3_total_changes64(db_) == total_before) return int64_t{0};
    return static_cast<int64_t>(sqlite3_changes64(db_));
  }

  absl::StatusOr<std::vector<Row>> Query(std::string_view sql,
                                         const std::vector<SqlValue>& params) {
    std::vector<Row> rows;
    RETURN_IF_ERROR(Run(sql, params, &rows));
    return rows;
  }

  // False outside BEGIN ... COMMIT/ROLLBACK, including after SQLite rolled back by itself.
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}

  absl::Status Configure(Role role);
  absl::StatusOr<sqlite3_stmt*> Prepare(std::string_view sql);
  absl::Status Run(std::string_view sql, const std::vector<SqlValue>& params,
                   std::vector<Row>* rows);

  void FinalizeStatements() {
    for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
    statements_.clear();
  }

  sqlite3* const db_;
  std::unordered_map<std::string, sqlite3_stmt*, StringHash, std::equal_to<>> statements_;
};

absl::StatusOr<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path,
                                                                         Role role) {
  // NOMUTEX: our leases already give a connection to one thread at a time.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (role == Role::kWriter) flags |= SQLITE_OPEN_CREATE;
  sqlite3* db = nullptr;
  const int result_code = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (result_code != SQLITE_OK) {
    const std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(result_code);
    sqlite3_close(db);  // a handle is returned even on failure; close(nullptr) is a no-op
    return absl::UnavailableError(
        absl::StrCat("cannot open sqlite database '", path, "': ", message));
  }
  auto connection = absl::WrapUnique(new SqliteConnection(db));
  const absl::Status status = connection->Configure(role);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot set up sqlite database '", path, "': ", status.message()));
  }
  return connection;
}

absl::Status SqliteConnection::Configure(Role role) {
  sqlite3_extended_result_codes(db_, 1);  // tells a unique violation from other constraints
  sqlite3_busy_timeout(db_, SqliteStore::kLockWaitMaxMs);  // another process's lock
  if (role == Role::kWriter) {
    // WAL: readers see the last commit and never block the writer, nor it them. The mode is
    // stored in the file; an in-memory database answers "memory", which is fine alone.
    ASSIGN_OR_RETURN(std::vector<Row> mode, Query("PRAGMA journal_mode=WAL", {}));
    const std::string journal_mode = mode.empty() ? "" : absl::AsciiStrToLower(mode[0].Text(0));
    if (journal_mode != "wal" && journal_mode != "memory") {
      return absl::UnavailableError(
          absl::StrCat("cannot enable WAL journal mode, got '", journal_mode, "'"));
    }
  }
  // synchronous=NORMAL under WAL: a commit is written to the WAL but not fsynced; the WAL is
  // fsynced at checkpoints. The database never corrupts; a process crash loses nothing
  // committed (the OS holds the writes); a power loss or OS crash can lose the last commits.
  // FULL would fsync every commit: about 7,000 commits/s here against 120,000 (TOOLCHAIN.md).
  RETURN_IF_ERROR(Execute("PRAGMA synchronous=NORMAL", {}).status());
  // SQLite leaves foreign keys off for compatibility; our schemas rely on them.
  RETURN_IF_ERROR(Execute("PRAGMA foreign_keys=ON", {}).status());
  if (role == Role::kReader) RETURN_IF_ERROR(Execute("PRAGMA query_only=ON", {}).status());
  return absl::OkStatus();
}

absl::StatusOr<sqlite3_stmt*> SqliteConnection::Prepare(std::string_view sql) {
  if (auto cached = statements_.find(sql); cached != statements_.end()) {
    sqlite3_reset(cached->second);
    sqlite3_clear_bindings(cached->second);
    return cached->second;
  }
  YIDI_CHECK(sql.size() < static_cast<size_t>(INT_MAX), "SQL text is far below 2 GiB");
  if (statements_.size() >= kStatementsCachedMax) FinalizeStatements();  // none is running
  sqlite3_stmt* statement = nullptr;
  const char* tail = nullptr;
  int result_code = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                       SQLITE_PREPARE_PERSISTENT, &statement, &tail);
  if (result_code != SQLITE_OK) return SqliteError(db_, result_code, sql);
  if (statement == nullptr) return absl::InternalError("empty SQL statement");
  // SQLite would silently ignore a second statement; prepare the rest to see if it is one.
  const int tail_length = static_cast<int>(sql.data() + sql.size() - tail);
  sqlite3_stmt* next = nullptr;
  result_code = sqlite3_prepare_v2(db_, tail, tail_length, &next, nullptr);
  sqlite3_finalize(next);
  if (result_code != SQLITE_OK || next != nullptr) {
    sqlite3_finalize(statement);
    return absl::InternalError(
        absl::StrCat("one SQL statement per call, found more; in: ", Quoted(sql)));
  }
  statements_.emplace(std::string(sql), statement);
  return statement;
}

absl::Status SqliteConnection::Run(std::string_view sql, const std::vector<SqlValue>& params,
                                   std::vector<Row>* rows) {
  ASSIGN_OR_RETURN(sqlite3_stmt * statement, Prepare(sql));
  StatementReset reset(statement);
  RETURN_IF_ERROR(Bind(db_, statement, sql, params));
  while (true) {
    const int result_code = sqlite3_step(statement);
    if (result_code == SQLITE_DONE) return absl::OkStatus();
    if (result_code != SQLITE_ROW) return SqliteError(db_, result_code, sql);
    if (rows != nullptr) {
      ASSIGN_OR_RETURN(Row row, ReadRow(statement, sql));
      rows->push_back(std::move(row));
    }
  }
}

// A transaction on a leased connection. Belongs to one thread; ends (COMMIT or ROLLBACK) and
// returns the lease at Commit or at destruction, whichever comes first.
class SqliteTransaction final : public Transaction {
 public:
  enum class Lease { kWriter, kReader };

  SqliteTransaction(SqliteStore* store, SqliteConnection* connection, Lease lease,
                    TransactionMode mode)
      : store_(store), connection_(connection), lease_(lease), mode_(mode) {}

  ~SqliteTransaction() override {
    if (connection_ != nullptr) End();
  }

  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;

  absl::Status Start() {
    if (ReadsOnWriter()) RETURN_IF_ERROR(connection_->Execute("PRAGMA query_only=ON", {}).status());
    // IMMEDIATE takes the write lock now: two writers that both read first and then write
    // would otherwise deadlock on the upgrade, one failing with SQLITE_BUSY.
    const std::string_view begin = mode_ == TransactionMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN";
    return connection_->Execute(begin, {}).status();
  }

  absl::StatusOr<int64_t> Execute(std::string_view sql,
                                  const std::vector<SqlValue>& params) override {
    RETURN_IF_ERROR(CheckUsable());
    absl::StatusOr<int64_t> changed = connection_->Execute(sql, params);
    if (!changed.ok()) first_error_ = changed.status();
    return changed;
  }

  absl::StatusOr<std::vector<Row>> Query(std::string_view sql,
                                         const std::vector<SqlValue>& params) override {
    RETURN_IF_ERROR(CheckUsable());
    absl::StatusOr<std::vector<Row>> rows = connection_->Query(sql, params);
    if (!rows.ok()) first_error_ = rows.status();
    return rows;
  }

  absl::Status Commit() override {
    YIDI_CHECK(!commit_called_, "Commit is called at most once per transaction");
    commit_called_ = true;
    absl::Status status = CheckUsable();
    if (status.ok()) status = connection_->Execute("COMMIT", {}).status();
    End();  // rolls back whatever a refused or failed COMMIT left open: nothing is written
    return status;
  }

 private:
  // An in-memory store reads on the writer connection, which query_only guards meanwhile.
  bool ReadsOnWriter() const {
    return lease_ == Lease::kWriter && mode_ == TransactionMode::kRead;
  }

  // After an error SQLite may have rolled the transaction back by itself, and a later
  // statement would then run, and commit, on its own; so the first error sticks.
  absl::Status CheckUsable() const {
    YIDI_CHECK(connection_ != nullptr, "no Execute, Query or Commit after Commit");
    if (first_error_.ok()) return absl::OkStatus();
    return absl::Status(first_error_.code(),
                        absl::StrCat("transaction abandoned after an earlier error, nothing "
                                     "written: ",
                                     first_error_.message()));
  }

  void End() {
    bool reusable = true;
    if (connection_->InTransaction()) {
      // Fails only on a broken connection: every statement is reset after use.
      reusable = connection_->Execute("ROLLBACK", {}).ok() && !connection_->InTransaction();
    }
    if (ReadsOnWriter()) {
      reusable = connection_->Execute("PRAGMA query_only=OFF", {}).ok() && reusable;
    }
    if (lease_ == Lease::kReader) {
      store_->ReleaseReader(connection_, reusable);
    } else {
      // The writer cannot be replaced (an in-memory database lives in it); one stuck in a
      // transaction or read-only would fail every later write, so stop here instead.
      YIDI_CHECK(reusable, "the writer connection ends each transaction cleanly");
      store_->ReleaseWriter();
    }
    connection_ = nullptr;
  }

  SqliteStore* const store_;
  SqliteConnection* connection_;  // null once ended
  const Lease lease_;
  const TransactionMode mode_;
  bool commit_called_ = false;
  absl::Status first_error_;
};

namespace {

absl::Status InMigration(const Migration& migration, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("migration ", migration.version, " (",
                                                  migration.description,
                                                  "): ", status.message()));
}

// Applies `migration` unless recorded. The check runs inside the write transaction, so two
// processes migrating the same file at once apply each version once.
absl::Status ApplyMigration(Store& store, const Migration& migration) {
  ASSIGN_OR_RETURN(std::unique_ptr<Transaction> transaction,
                   store.Begin(TransactionMode::kWrite));
  ASSIGN_OR_RETURN(std::vector<Row> applied,
                   transaction->Query("SELECT version FROM schema_migrations WHERE version = ?",
                                      {int64_t{migration.version}}));
  if (!applied.empty()) return absl::OkStatus();
  for (const std::string& statement : migration.statements) {
    const absl::StatusOr<int64_t> changed = transaction->Execute(statement);
    if (!changed.ok()) return InMigration(migration, changed.status());
  }
  const absl::StatusOr<int64_t> recorded = transaction->Execute(
      "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
      {int64_t{migration.version}, migration.description, UtcNowIso8601()});
  if (!recorded.ok()) return InMigration(migration, recorded.status());
  const absl::Status committed = transaction->Commit();
  if (!committed.ok()) return InMigration(migration, committed);
  return absl::OkStatus();
}

}  // namespace

SqliteStore::SqliteStore(std::string_view url, std::string path, bool in_memory,
                         std::unique_ptr<SqliteConnection> writer)
    : url_(url), path_(std::move(path)), in_memory_(in_memory), writer_(std::move(writer)) {}

SqliteStore::~SqliteStore() {
  absl::MutexLock lock(&mutex_);
  YIDI_CHECK(!writer_busy_, "no transaction outlives its store (writer still leased)");
  YIDI_CHECK(idle_readers_.size() == readers_.size() && readers_opening_ == 0,
             "no transaction outlives its store (reader still leased)");
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::OpenFile(std::string_view url,
                                                                   std::string_view path) {
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("store URL '", AsAbsl(url), "' names no file"));
  }
  if (path == kInMemoryPath) {
    return absl::InvalidArgumentError(
        absl::StrCat("store URL '", AsAbsl(url), "': an in-memory database is sqlite::memory:"));
  }
  // This SQLite is built with SQLITE_USE_URI, so "file:..." would be parsed as a URI (and
  // "file::memory:" would give every connection its own database); "./" keeps it a file name.
  std::string file_path(path);
  if (file_path.starts_with("file:")) file_path.insert(0, "./");
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> writer,
                   SqliteConnection::Open(file_path, SqliteConnection::Role::kWriter));
  return absl::WrapUnique(new SqliteStore(url, std::move(file_path), false, std::move(writer)));
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::OpenInMemory(std::string_view url) {
  // Each ":memory:" open is a new private database; all its transactions share this one.
  ASSIGN_OR_RETURN(
      std::unique_ptr<SqliteConnection> writer,
      SqliteConnection::Open(std::string(kInMemoryPath), SqliteConnection::Role::kWriter));
  return absl::WrapUnique(
      new SqliteStore(url, std::string(kInMemoryPath), true, std::move(writer)));
}

absl::Status SqliteStore::Migrate(const std::vector<Migration>& migrations) {
  for (size_t i = 1; i < migrations.size(); ++i) {
    YIDI_CHECK(migrations[i - 1].version < migrations[i].version,
               "migration versions are strictly increasing: each step builds on the last");
  }
  {
    ASSIGN_OR_RETURN(std::unique_ptr<Transaction> transaction, Begin(TransactionMode::kWrite));
    RETURN_IF_ERROR(transaction->Execute(kCreateSchemaMigrations).status());
    RETURN_IF_ERROR(transaction->Commit());
  }
  for (const Migration& migration : migrations) {
    RETURN_IF_ERROR(ApplyMigration(*this, migration));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Transaction>> SqliteStore::Begin(TransactionMode mode) {
  const bool on_writer = mode == TransactionMode::kWrite || in_memory_;
  SqliteConnection* connection = nullptr;
  if (on_writer) {
    ASSIGN_OR_RETURN(connection, AcquireWriter());
  } else {
    ASSIGN_OR_RETURN(connection, AcquireReader());
  }
  auto transaction = std::make_unique<SqliteTransaction>(
      this, connection,
      on_writer ? SqliteTransaction::Lease::kWriter : SqliteTransaction::Lease::kReader, mode);
  RETURN_IF_ERROR(transaction->Start());  // on failure its destructor returns the lease
  return std::unique_ptr<Transaction>(std::move(transaction));
}

absl::StatusOr<SqliteConnection*> SqliteStore::AcquireWriter() {
  {
    absl::MutexLock lock(&mutex_);
    YIDI_CHECK(!writer_busy_ || writer_thread_ != std::this_thread::get_id(),
               "a thread holding the writer begins no second transaction on it: it would "
               "wait for itself");
  }
  const bool acquired = mutex_.LockWhenWithTimeout(
      absl::Condition(this, &SqliteStore::WriterAvailable), absl::Milliseconds(kLockWaitMaxMs));
  if (!acquired) {
    mutex_.Unlock();  // LockWhenWithTimeout returns holding the mutex either way
    return absl::UnavailableError(absl::StrCat("store ", url_, ": writer busy for over ",
                                               kLockWaitMaxMs, " ms"));
  }
  writer_busy_ = true;
  writer_thread_ = std::this_thread::get_id();
  mutex_.Unlock();
  return writer_.get();
}

void SqliteStore::ReleaseWriter() {
  absl::MutexLock lock(&mutex_);
  YIDI_CHECK(writer_busy_, "only a leased writer is released");
  writer_busy_ = false;
  writer_thread_ = std::thread::id();
}

absl::StatusOr<SqliteConnection*> SqliteStore::AcquireReader() {
  const bool acquired = mutex_.LockWhenWithTimeout(
      absl::Condition(this, &SqliteStore::ReaderAvailable), absl::Milliseconds(kLockWaitMaxMs));
  if (!acquired) {
    mutex_.Unlock();  // LockWhenWithTimeout returns holding the mutex either way
    return absl::UnavailableError(absl::StrCat("store ", url_, ": all ", kReadConnectionsMax,
                                               " read connections busy for over ",
                                               kLockWaitMaxMs, " ms"));
  }
  if (!idle_readers_.empty()) {
    SqliteConnection* reader = idle_readers_.back();
    idle_readers_.pop_back();
    mutex_.Unlock();
    return reader;
  }
  ++readers_opening_;  // hold the slot while opening outside the mutex: opening does file I/O
  mutex_.Unlock();
  absl::StatusOr<std::unique_ptr<SqliteConnection>> opened =
      SqliteConnection::Open(path_, SqliteConnection::Role::kReader);
  absl::MutexLock lock(&mutex_);
  --readers_opening_;
  if (!opened.ok()) return opened.status();
  readers_.push_back(std::move(*opened));
  return readers_.back().get();
}

void SqliteStore::ReleaseReader(SqliteConnection* reader, bool reusable) {
  absl::MutexLock lock(&mutex_);
  if (reusable) {
    idle_readers_.push_back(reader);
    return;
  }
  for (auto it = readers_.begin(); it != readers_.end(); ++it) {
    if (it->get() == reader) {
      readers_.erase(it);  // closes it
      return;
    }
  }
  YIDI_CHECK(false, "a released reader belongs to this store");
}

}  // namespace yidi
