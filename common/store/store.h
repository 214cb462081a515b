// Store: the one storage interface every node uses. A node owns one Store (one database);
// node code speaks portable SQL with `?` placeholders through transactions and never knows
// the backend. Backends: SQLite (embedded default, `sqlite://...`, sqlite_store.h) and MySQL
// (`mysql://...`, mysql_store.h). Portable SQL means: types INTEGER/BIGINT, VARCHAR(n) for keys
// and MEDIUMTEXT/TEXT for long text (no TEXT key), no AUTOINCREMENT, no INSERT OR IGNORE/ON
// CONFLICT, no SQLite-only functions; and schema changes (DDL) only in migrations, because MySQL
// commits a transaction implicitly at DDL (MysqlStore refuses DDL inside a transaction).
//
// Thread safety: a Store is shared by all threads of a node. A Transaction belongs to the
// thread that began it and must not outlive the Store.
//
// Isolation: write transactions are serialisable with respect to each other (SQLite: one
// writer at a time, BEGIN IMMEDIATE; MySQL: a write lease plus a lock row taken at Begin, see
// mysql_store.h), so a read-modify-write of an accumulator inside one write transaction cannot
// lose an update. A read transaction sees one consistent snapshot and never waits for writers
// (except on an in-memory SQLite database, which has one connection).
#ifndef YIDI_COMMON_STORE_STORE_H_
#define YIDI_COMMON_STORE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace yidi {

// A SQL value: NULL, a 64-bit integer (money in fen, counts, enums) or text. No floating point.
using SqlValue = std::variant<std::monostate, int64_t, std::string>;

// One result row. Column accessors REQUIRE the index to be in range; reading a column as the
// wrong type is a programmer error (checked, aborts).
class Row {
 public:
  explicit Row(std::vector<SqlValue> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  bool IsNull(size_t i) const;
  int64_t Int(size_t i) const;              // NULL reads as 0
  const std::string& Text(size_t i) const;  // NULL reads as ""
  const SqlValue& Value(size_t i) const;

 private:
  std::vector<SqlValue> values_;
};

enum class TransactionMode {
  kRead,   // a consistent snapshot for reads only
  kWrite,  // takes the write lock at begin (no upgrade deadlocks)
};

// A database transaction. Destroying it without Commit() rolls back.
class Transaction {
 public:
  virtual ~Transaction() = default;

  // Executes a statement that returns no rows; returns the number of rows changed.
  // Errors: ALREADY_EXISTS on a unique-key violation, UNAVAILABLE when the database cannot be
  // reached, INTERNAL otherwise. After an error the transaction must be abandoned.
  virtual absl::StatusOr<int64_t> Execute(std::string_view sql,
                                          const std::vector<SqlValue>& params = {}) = 0;

  // Runs a query and returns every row.
  virtual absl::StatusOr<std::vector<Row>> Query(std::string_view sql,
                                                 const std::vector<SqlValue>& params = {}) = 0;

  // Commits. REQUIRES: not yet committed. UNAVAILABLE or INTERNAL leave nothing written, with
  // one exception no database client can avoid: a connection lost during COMMIT itself (MySQL)
  // leaves the outcome unknown; that UNAVAILABLE says so, and the caller retries an idempotent
  // operation (every settlement write is keyed by settlement_id).
  virtual absl::Status Commit() = 0;
};

// One schema step. Migrations are applied in `version` order, each in its own transaction,
// and recorded in `schema_migrations`; an applied version is never applied again.
struct Migration {
  int version;
  std::string description;
  std::vector<std::string> statements;  // portable SQL (SQLite and MySQL)
};

class Store {
 public:
  virtual ~Store() = default;

  // Applies the migrations not yet applied. REQUIRES: versions strictly increasing.
  virtual absl::Status Migrate(const std::vector<Migration>& migrations) = 0;

  virtual absl::StatusOr<std::unique_ptr<Transaction>> Begin(TransactionMode mode) = 0;

  // The URL with any password masked, for logs and errors.
  virtual std::string DisplayUrl() const = 0;
};

// Opens the store named by `url`:
//   sqlite:///abs/path.db, sqlite://relative/path.db, sqlite::memory:
//   mysql://user:password@host:port/database?pool=N   (mysql_store.h)
// Errors: INVALID_ARGUMENT for an unknown scheme or a malformed URL, UNAVAILABLE when it cannot
// be opened (server unreachable, user or database refused), FAILED_PRECONDITION when a MySQL
// database is not utf8mb4 with a binary collation. Messages never hold the password.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(std::string_view url);

// Returns `url` with the password of its user-info replaced by "***", so the URL can go into
// logs and error messages: "mysql://user:secret@host:3306/db" -> "mysql://user:***@host:3306/db".
// A URL without "://", without '@' or without a password comes back unchanged. The user-info
// ends at the LAST '@', so a password holding '@' or '/' is still masked whole; if a later part
// of the URL holds an '@', more is masked, never less.
std::string MaskUrlPassword(std::string_view url);

}  // namespace yidi

#endif  // YIDI_COMMON_STORE_STORE_H_
