// MysqlStore: URL parsing, connections and their prepared statements, the pool, transactions
// and migrations over MySQL Connector/C++ 1.1. Connector/C++ reports errors by exceptions; they
// are caught here, at the edge of every call into it, and become absl::Status values.
#include "common/store/mysql_store.h"

#include <cppconn/connection.h>
#include <cppconn/datatype.h>
#include <cppconn/exception.h>
#include <cppconn/parameter_metadata.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/resultset_metadata.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <exception>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/status_macros.h"

namespace yidi {
namespace {

constexpr std::string_view kScheme = "mysql://";
// Prepared statements kept per connection. Node code uses a fixed set of SQL strings, far
// fewer than this; the cap stops SQL built at run time from growing memory (and the server's
// max_prepared_stmt_count) without bound.
constexpr size_t kStatementsCachedMax = 256;
// How much of a failing statement an INTERNAL error quotes: enough to find it in the code.
constexpr size_t kSqlQuotedMax = 80;
// MySQL limits identifiers (database names) to 64 characters.
constexpr size_t kIdentifierLengthMax = 64;
// Begin retries a connection that proves dead at its first statement: the first retry opens a
// fresh connection (a dead one drops every idle one); one more covers a connection another
// thread returned in between.
constexpr int kBeginAttemptsMax = 3;

// Session settings of every connection, constants of this file.
// STRICT_ALL_TABLES: a value that does not fit its column is an error, never silently cut.
// NO_BACKSLASH_ESCAPES: a backslash in a literal is a backslash, as in SQLite and standard SQL.
// PIPES_AS_CONCAT: `||` concatenates, as in SQLite, instead of meaning OR.
constexpr std::string_view kSetSqlMode =
    "SET SESSION sql_mode = "
    "'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,NO_BACKSLASH_ESCAPES,PIPES_AS_CONCAT'";
constexpr std::string_view kSetReadIsolation =
    "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ";
constexpr std::string_view kStartRead =
    "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY";
constexpr std::string_view kSetWriteIsolation = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED";
constexpr std::string_view kStartWrite = "START TRANSACTION READ WRITE";
constexpr std::string_view kCommit = "COMMIT";
constexpr std::string_view kRollback = "ROLLBACK";

constexpr std::string_view kLockTableExists =
    "SELECT COUNT(*) FROM information_schema.tables "
    "WHERE table_schema = DATABASE() AND table_name = 'yidi_store_write_lock'";
constexpr std::string_view kCreateLockTable =
    "CREATE TABLE yidi_store_write_lock (id BIGINT NOT NULL PRIMARY KEY)";
constexpr std::string_view kLockRowExists = "SELECT id FROM yidi_store_write_lock WHERE id = 1";
constexpr std::string_view kInsertLockRow =
    "INSERT IGNORE INTO yidi_store_write_lock (id) VALUES (1)";
constexpr std::string_view kLockWriters =
    "SELECT id FROM yidi_store_write_lock WHERE id = 1 FOR UPDATE";

constexpr std::string_view kMigrationsTableExists =
    "SELECT COUNT(*) FROM information_schema.tables "
    "WHERE table_schema = DATABASE() AND table_name = 'schema_migrations'";
constexpr std::string_view kCreateSchemaMigrations =
    "CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, "
    "description TEXT NOT NULL, applied_at VARCHAR(32) NOT NULL)";
// User-level lock names are at most 64 characters: a digest of the database name keeps it so.
constexpr std::string_view kGetMigrationLock =
    "SELECT GET_LOCK(CONCAT('yidi_migrate:', LEFT(SHA1(DATABASE()), 40)), ?)";
constexpr std::string_view kReleaseMigrationLock =
    "SELECT RELEASE_LOCK(CONCAT('yidi_migrate:', LEFT(SHA1(DATABASE()), 40)))";

// Heterogeneous lookup: the cache is searched by string_view without building a std::string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

// Debian's Abseil is built with its own absl::string_view, not std::string_view, so StrCat
// takes no std::string_view directly.
absl::string_view AsAbsl(std::string_view text) { return {text.data(), text.size()}; }

absl::string_view Quoted(std::string_view sql) { return AsAbsl(sql.substr(0, kSqlQuotedMax)); }

sql::SQLString ToSql(std::string_view text) { return sql::SQLString(std::string(text)); }

std::string UtcNowIso8601() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  const size_t length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string(buffer, length);
}

// Error numbers (client errors 2xxx and 5xxx from MariaDB Connector/C, server errors 1xxx and
// 4xxx) that mean the connection is gone or was never made: the server stopped, restarted,
// killed the session, or cannot be reached.
bool IsConnectionLost(int code) {
  switch (code) {
    case 2001:  // CR_SOCKET_CREATE_ERROR
    case 2002:  // CR_CONNECTION_ERROR (local socket)
    case 2003:  // CR_CONN_HOST_ERROR: refused or timed out
    case 2004:  // CR_IPSOCK_ERROR
    case 2005:  // CR_UNKNOWN_HOST
    case 2006:  // CR_SERVER_GONE_ERROR
    case 2012:  // CR_SERVER_HANDSHAKE_ERR
    case 2013:  // CR_SERVER_LOST
    case 2026:  // CR_SSL_CONNECTION_ERROR
    case 2055:  // CR_SERVER_LOST_EXTENDED
    case 5013:  // CR_ERR_NET_READ
    case 5014:  // CR_ERR_NET_WRITE
    case 1040:  // ER_CON_COUNT_ERROR: too many connections
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1077:  // ER_NORMAL_SHUTDOWN
    case 1152:  // ER_ABORTING_CONNECTION
    case 1158:  // ER_NET_READ_ERROR
    case 1159:  // ER_NET_READ_INTERRUPTED
    case 1160:  // ER_NET_ERROR_ON_WRITE
    case 1161:  // ER_NET_WRITE_INTERRUPTED
    case 1927:  // ER_CONNECTION_KILLED (MariaDB)
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
      return true;
    default:
      return false;
  }
}

// Errors after which the caller may retry the operation (UNAVAILABLE) on a working connection.
bool IsRetryable(int code) {
  switch (code) {
    case 1205:  // ER_LOCK_WAIT_TIMEOUT: the writers' lock row was held too long
    case 1213:  // ER_LOCK_DEADLOCK
    case 1290:  // ER_OPTION_PREVENTS_STATEMENT: a --read-only server (a replica, or failover)
    case 1836:  // ER_READ_ONLY_MODE
      return true;
    default:
      return false;
  }
}

bool IsDuplicateKey(int code) {
  return code == 1062 /* ER_DUP_ENTRY */ || code == 1586 /* ER_DUP_ENTRY_WITH_KEY_NAME */ ||
         code == 1022 /* ER_DUP_KEY */ || code == 1169 /* ER_DUP_UNIQUE */;
}

// Percent-decodes a URL part. False on a malformed escape.
bool PercentDecode(std::string_view text, std::string* out) {
  out->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out->push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return false;  // '%' needs two hex digits after it
    int value = 0;
    for (size_t j = i + 1; j <= i + 2; ++j) {
      const char c = text[j];
      int digit = 0;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        return false;
      }
      value = value * 16 + digit;
    }
    out->push_back(static_cast<char>(value));
    i += 2;
  }
  return true;
}

// Statements that end a transaction implicitly on MySQL (DDL, LOCK TABLES, SET autocommit) or
// control it: a caller's transaction would silently stop being one, so they are refused there;
// schema changes belong in migrations.
bool EndsTransactionImplicitly(std::string_view sql) {
  size_t begin = 0;
  while (begin < sql.size() && absl::ascii_isspace(static_cast<unsigned char>(sql[begin]))) {
    ++begin;
  }
  size_t end = begin;
  while (end < sql.size() && absl::ascii_isalpha(static_cast<unsigned char>(sql[end]))) ++end;
  const std::string word = absl::AsciiStrToUpper(AsAbsl(sql.substr(begin, end - begin)));
  for (const char* keyword : {"CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE", "START", "BEGIN",
                              "COMMIT", "ROLLBACK", "LOCK", "UNLOCK", "SET"}) {
    if (word == keyword) return true;
  }
  return false;
}

bool IsIdentifier(std::string_view name) {
  if (name.empty() || name.size() > kIdentifierLengthMax) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// URL

absl::StatusOr<MysqlUrl> ParseMysqlUrl(std::string_view url, bool database_required) {
  const std::string masked = MaskUrlPassword(url);
  auto bad = [&masked](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("store URL '", masked, "': ", why,
                     "; expected mysql://user:password@host:port/database?pool=N"));
  };
  if (!url.starts_with(kScheme)) return bad("not a mysql:// URL");
  const std::string_view rest = url.substr(kScheme.size());
  // The user-info ends at the last '@', as in MaskUrlPassword: a password may hold '@'.
  const size_t at = rest.rfind('@');
  if (at == std::string_view::npos) return bad("names no user (user:password@)");
  const std::string_view userinfo = rest.substr(0, at);
  const std::string_view location = rest.substr(at + 1);

  MysqlUrl parsed;
  const size_t colon = userinfo.find(':');
  if (!PercentDecode(userinfo.substr(0, colon), &parsed.user)) return bad("bad %-escape in user");
  if (colon != std::string_view::npos &&
      !PercentDecode(userinfo.substr(colon + 1), &parsed.password)) {
    return bad("bad %-escape in password");
  }
  if (parsed.user.empty()) return bad("names no user");

  const size_t slash = location.find('/');
  const std::string_view authority = location.substr(0, slash);
  std::string_view path;
  std::string_view query;
  if (slash != std::string_view::npos) {
    path = location.substr(slash + 1);
    const size_t question = path.find('?');
    if (question != std::string_view::npos) {
      query = path.substr(question + 1);
      path = path.substr(0, question);
    }
  }

  std::string_view port_text;
  if (authority.starts_with('[')) {  // [IPv6]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed '[' in host");
    parsed.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) return bad("text after ']' in host");
      port_text = after.substr(1);
    }
  } else {
    const size_t port_colon = authority.find(':');
    parsed.host = std::string(authority.substr(0, port_colon));
    if (port_colon != std::string_view::npos) port_text = authority.substr(port_colon + 1);
  }
  if (parsed.host.empty()) return bad("names no host");
  if (!port_text.empty() || authority.ends_with(':')) {
    int port = 0;
    if (!absl::SimpleAtoi(AsAbsl(port_text), &port) || port < 1 || port > 65535) {
      return bad("port must be 1..65535");
    }
    parsed.port = port;
  }

  if (!PercentDecode(path, &parsed.database)) return bad("bad %-escape in database");
  if (parsed.database.size() > kIdentifierLengthMax) return bad("database name over 64 chars");
  if (database_required && parsed.database.empty()) return bad("names no database");

  parsed.pool_size = MysqlStore::kPoolSizeDefault;
  if (!query.empty()) {
    for (absl::string_view parameter : absl::StrSplit(AsAbsl(query), '&')) {
      const size_t equals = parameter.find('=');
      const absl::string_view key = parameter.substr(0, equals);
      const absl::string_view value =
          equals == absl::string_view::npos ? absl::string_view() : parameter.substr(equals + 1);
      if (key != "pool") {
        return bad(absl::StrCat("unknown parameter '", key, "' (the only one is pool)"));
      }
      int pool = 0;
      if (!absl::SimpleAtoi(value, &pool) || pool < 1 || pool > MysqlStore::kPoolSizeMax) {
        return bad(absl::StrCat("pool must be 1..", MysqlStore::kPoolSizeMax));
      }
      parsed.pool_size = pool;
    }
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// One connection

// One Connector/C++ connection with its prepared statements. Not thread-safe: the store leases
// it to one transaction, hence one thread, at a time. After an error that says the connection
// is gone, lost() is true and the connection must be closed, never reused.
class MysqlConnection {
 public:
  MysqlConnection(std::unique_ptr<sql::Connection> connection, std::string display_url)
      : connection_(std::move(connection)), display_url_(std::move(display_url)) {}

  ~MysqlConnection() {
    // Statements first: each holds a handle on the connection. On a dead connection the close
    // messages fail at once (the socket is closed); nothing here may throw out of a destructor.
    try {
      statements_.clear();
      text_.reset();
      connection_->close();
    } catch (...) {
    }
  }

  MysqlConnection(const MysqlConnection&) = delete;
  MysqlConnection& operator=(const MysqlConnection&) = delete;

  // Session settings every connection of a store has; see the constants above.
  absl::Status Configure() {
    RETURN_IF_ERROR(RunText(kSetSqlMode));
    RETURN_IF_ERROR(RunText(
        absl::StrCat("SET SESSION innodb_lock_wait_timeout = ",
                     std::max(1, MysqlStore::kLockWaitMaxMs / 1000))));
    RETURN_IF_ERROR(RunText(kSetReadIsolation));
    return Guard("SET autocommit", [&] { connection_->setAutoCommit(true); });
  }

  // Rows changed (matched, with CLIENT_FOUND_ROWS: an UPDATE to the same value counts, as on
  // SQLite) by a statement that returns no rows.
  absl::StatusOr<int64_t> Execute(std::string_view sql, const std::vector<SqlValue>& params) {
    int64_t changed = 0;
    ASSIGN_OR_RETURN(sql::PreparedStatement * statement, Prepare(sql));
    RETURN_IF_ERROR(Bind(statement, sql, params));
    RETURN_IF_ERROR(Guard(sql, [&] { changed = statement->executeUpdate(); }));
    return changed;
  }

  absl::StatusOr<std::vector<Row>> Query(std::string_view sql,
                                         const std::vector<SqlValue>& params) {
    ASSIGN_OR_RETURN(sql::PreparedStatement * statement, Prepare(sql));
    RETURN_IF_ERROR(Bind(statement, sql, params));
    std::vector<Row> rows;
    absl::Status read;
    RETURN_IF_ERROR(Guard(sql, [&] {
      std::unique_ptr<sql::ResultSet> result(statement->executeQuery());
      read = ReadRows(*result, sql, &rows);
    }));
    RETURN_IF_ERROR(read);
    return rows;
  }

  // Runs one of this file's constant statements over the text protocol.
  absl::Status RunText(std::string_view constant_sql) {
    return Guard(constant_sql, [&] {
      if (text_ == nullptr) text_.reset(connection_->createStatement());
      text_->execute(ToSql(constant_sql));
    });
  }

  bool lost() const { return lost_; }

 private:
  // Runs `action`, turning a Connector/C++ exception into the Store's error contract.
  template <typename Action>
  absl::Status Guard(std::string_view sql, Action&& action) {
    try {
      action();
      return absl::OkStatus();
    } catch (const sql::SQLException& error) {
      return FromException(error, sql);
    } catch (const std::exception& error) {
      lost_ = true;  // state unknown: never reuse
      return absl::InternalError(
          absl::StrCat("mysql client error: ", error.what(), "; in: ", Quoted(sql)));
    }
  }

  absl::Status FromException(const sql::SQLException& error, std::string_view sql) {
    const int code = error.getErrorCode();
    const std::string message = error.what();
    if (IsDuplicateKey(code)) return absl::AlreadyExistsError(message);
    if (IsConnectionLost(code)) {
      lost_ = true;
      return absl::UnavailableError(absl::StrCat("mysql server of ", display_url_,
                                                 " unreachable or connection lost: ", message,
                                                 " (error ", code, ")"));
    }
    if (IsRetryable(code)) {
      return absl::UnavailableError(absl::StrCat("mysql database ", display_url_, " busy: ",
                                                 message, " (error ", code, ")"));
    }
    return absl::InternalError(absl::StrCat("mysql error ", code, " (SQLSTATE ",
                                            error.getSQLState(), "): ", message,
                                            "; in: ", Quoted(sql)));
  }

  absl::StatusOr<sql::PreparedStatement*> Prepare(std::string_view sql) {
    if (auto cached = statements_.find(sql); cached != statements_.end()) {
      return cached->second.get();
    }
    if (statements_.size() >= kStatementsCachedMax) statements_.clear();  // none is running
    std::unique_ptr<sql::PreparedStatement> statement;
    RETURN_IF_ERROR(
        Guard(sql, [&] { statement.reset(connection_->prepareStatement(ToSql(sql))); }));
    sql::PreparedStatement* raw = statement.get();
    statements_.emplace(std::string(sql), std::move(statement));
    return raw;
  }

  absl::Status Bind(sql::PreparedStatement* statement, std::string_view sql,
                    const std::vector<SqlValue>& params) {
    int expected = 0;
    RETURN_IF_ERROR(Guard(sql, [&] {
      statement->clearParameters();
      expected = statement->getParameterMetaData()->getParameterCount();
    }));
    if (static_cast<size_t>(expected) != params.size()) {
      return absl::InternalError(absl::StrCat("SQL takes ", expected, " parameters, given ",
                                              params.size(), "; in: ", Quoted(sql)));
    }
    return Guard(sql, [&] {
      for (size_t i = 0; i < params.size(); ++i) {
        const unsigned index = static_cast<unsigned>(i) + 1;
        const SqlValue& value = params[i];
        if (std::holds_alternative<std::monostate>(value)) {
          statement->setNull(index, sql::DataType::VARCHAR);
        } else if (std::holds_alternative<int64_t>(value)) {
          statement->setInt64(index, std::get<int64_t>(value));
        } else {
          statement->setString(index, sql::SQLString(std::get<std::string>(value)));
        }
      }
    });
  }

  // Reads every row; called inside Guard (Connector/C++ may throw while reading).
  static absl::Status ReadRows(sql::ResultSet& result, std::string_view sql,
                               std::vector<Row>* rows) {
    sql::ResultSetMetaData* metadata = result.getMetaData();  // owned by `result`
    const unsigned columns = metadata->getColumnCount();
    while (result.next()) {
      std::vector<SqlValue> values;
      values.reserve(columns);
      for (unsigned column = 1; column <= columns; ++column) {
        absl::StatusOr<SqlValue> value = ReadValue(result, *metadata, column, sql);
        if (!value.ok()) return value.status();
        values.push_back(std::move(*value));
      }
      rows->emplace_back(std::move(values));
    }
    return absl::OkStatus();
  }

  static absl::StatusOr<SqlValue> ReadValue(sql::ResultSet& result,
                                            sql::ResultSetMetaData& metadata, unsigned column,
                                            std::string_view sql) {
    if (result.isNull(column)) return SqlValue(std::monostate{});
    auto floating = [&](absl::string_view why) {
      // Money is integer fen; a non-integer reaching us is a schema or query bug, not data
      // to round.
      return absl::InternalError(absl::StrCat(
          "floating-point column ", column - 1, " (", metadata.getColumnLabel(column).asStdString(),
          ", ", why, "); the store holds integers and text only; in: ", Quoted(sql)));
    };
    switch (metadata.getColumnType(column)) {
      case sql::DataType::TINYINT:
      case sql::DataType::SMALLINT:
      case sql::DataType::MEDIUMINT:
      case sql::DataType::INTEGER:
      case sql::DataType::BIGINT:
      case sql::DataType::YEAR:
        if (!metadata.isSigned(column)) {
          const uint64_t unsigned_value = result.getUInt64(column);
          if (unsigned_value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            return absl::InternalError(absl::StrCat("column ", column - 1,
                                                    ": unsigned value beyond int64; in: ",
                                                    Quoted(sql)));
          }
          return SqlValue(static_cast<int64_t>(unsigned_value));
        }
        return SqlValue(static_cast<int64_t>(result.getInt64(column)));
      case sql::DataType::DECIMAL:
      case sql::DataType::NUMERIC: {
        // SUM() of integers comes back as DECIMAL with scale 0: an integer, read exactly.
        if (metadata.getScale(column) != 0) return floating("DECIMAL with a fraction");
        const std::string text = result.getString(column).asStdString();
        int64_t value = 0;
        if (!absl::SimpleAtoi(text, &value)) {
          return absl::InternalError(absl::StrCat("column ", column - 1, ": ", text,
                                                  " does not fit int64; in: ", Quoted(sql)));
        }
        return SqlValue(value);
      }
      case sql::DataType::REAL:
      case sql::DataType::DOUBLE:
        return floating("REAL or DOUBLE");
      case sql::DataType::CHAR:
      case sql::DataType::VARCHAR:
      case sql::DataType::LONGVARCHAR:
      case sql::DataType::BINARY:
      case sql::DataType::VARBINARY:
      case sql::DataType::LONGVARBINARY:
      case sql::DataType::ENUM:
      case sql::DataType::SET:
      case sql::DataType::JSON:
      case sql::DataType::DATE:
      case sql::DataType::TIME:
      case sql::DataType::TIMESTAMP:
        return SqlValue(result.getString(column).asStdString());
      case sql::DataType::SQLNULL:
        return SqlValue(std::monostate{});
      default:
        return absl::InternalError(absl::StrCat(
            "column ", column - 1, " has type ", metadata.getColumnTypeName(column).asStdString(),
            ", which the store does not read; in: ", Quoted(sql)));
    }
  }

  const std::unique_ptr<sql::Connection> connection_;
  const std::string display_url_;
  std::unordered_map<std::string, std::unique_ptr<sql::PreparedStatement>, StringHash,
                     std::equal_to<>>
      statements_;
  std::unique_ptr<sql::Statement> text_;  // for this file's constant statements
  bool lost_ = false;
};

namespace {

sql::mysql::MySQL_Driver* Driver() {
  // Creating the driver initialises the client library, which is not thread-safe; a
  // function-local static is initialised once, by the first caller, before any other.
  static sql::mysql::MySQL_Driver* const driver = sql::mysql::get_mysql_driver_instance();
  return driver;
}

std::string HostForUri(const std::string& host) {
  return host.find(':') != std::string::npos ? absl::StrCat("[", host, "]") : host;
}

// Opens a connection to `url` (database optional) and configures its session.
absl::StatusOr<std::unique_ptr<MysqlConnection>> ConnectTo(const MysqlUrl& url,
                                                           const std::string& display_url,
                                                           int timeout_s) {
  sql::ConnectOptionsMap options;
  options["hostName"] = sql::SQLString(absl::StrCat("tcp://", HostForUri(url.host), ":", url.port));
  options["userName"] = sql::SQLString(url.user);
  options["password"] = sql::SQLString(url.password);
  if (!url.database.empty()) options["schema"] = sql::SQLString(url.database);
  options["OPT_CONNECT_TIMEOUT"] = MysqlStore::kConnectTimeoutS;
  options["OPT_READ_TIMEOUT"] = timeout_s;
  options["OPT_WRITE_TIMEOUT"] = timeout_s;
  // Never reconnect behind our back: a silent reconnect inside a transaction would lose the
  // transaction and run the rest of it in autocommit mode.
  options["OPT_RECONNECT"] = false;
  // Rows matched, not rows changed, as SQLite counts them (an UPDATE to the same value is 1).
  options["CLIENT_FOUND_ROWS"] = true;
  options["CLIENT_MULTI_STATEMENTS"] = false;
  options["OPT_CHARSET_NAME"] = "utf8mb4";
  std::unique_ptr<sql::Connection> connection;
  try {
    connection.reset(Driver()->connect(options));
  } catch (const sql::SQLException& error) {
    return absl::UnavailableError(absl::StrCat(
        "cannot connect to the MySQL server at ", HostForUri(url.host), ":", url.port,
        " as user '", url.user, "'",
        url.database.empty() ? std::string() : absl::StrCat(", database '", url.database, "'"),
        ": ", error.what(), " (error ", error.getErrorCode(), ")"));
  } catch (const std::exception& error) {
    return absl::UnavailableError(absl::StrCat("cannot connect to the MySQL server at ",
                                               HostForUri(url.host), ":", url.port, ": ",
                                               error.what()));
  }
  if (connection == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot connect to the MySQL server at ",
                                               HostForUri(url.host), ":", url.port));
  }
  auto wrapped = std::make_unique<MysqlConnection>(std::move(connection), display_url);
  if (absl::Status configured = wrapped->Configure(); !configured.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot set up a MySQL session: ", configured.message()));
  }
  return wrapped;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Transactions

// A transaction on a leased connection. Belongs to one thread; ends (COMMIT or ROLLBACK) and
// returns the connection, and for a write its writer slot, at Commit or at destruction.
class MysqlTransaction final : public Transaction {
 public:
  MysqlTransaction(MysqlStore* store, MysqlConnection* connection, TransactionMode mode)
      : store_(store),
        connection_(connection),
        mode_(mode),
        owner_(std::this_thread::get_id()) {}

  ~MysqlTransaction() override {
    if (connection_ != nullptr) End(/*committed=*/false);
  }

  MysqlTransaction(const MysqlTransaction&) = delete;
  MysqlTransaction& operator=(const MysqlTransaction&) = delete;

  absl::StatusOr<int64_t> Execute(std::string_view sql,
                                  const std::vector<SqlValue>& params) override {
    RETURN_IF_ERROR(CheckUsable());
    if (EndsTransactionImplicitly(sql)) {
      first_error_ = absl::InternalError(absl::StrCat(
          "statement refused inside a transaction: on MySQL it commits the transaction "
          "implicitly or controls it; schema changes belong in a migration; in: ",
          Quoted(sql)));
      return first_error_;
    }
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
    if (status.ok()) {
      status = connection_->RunText(kCommit);
      if (!status.ok() && connection_->lost()) {
        status = absl::UnavailableError(absl::StrCat(
            "connection lost during COMMIT: the transaction may or may not have been committed; "
            "retry the operation (it must be idempotent): ",
            status.message()));
      }
    }
    End(/*committed=*/status.ok());
    return status;
  }

 private:
  // After an error the transaction is abandoned: a later statement could otherwise run on a
  // half-done transaction (MySQL undoes only the failing statement) and commit it.
  absl::Status CheckUsable() const {
    YIDI_CHECK(connection_ != nullptr, "no Execute, Query or Commit after Commit");
    if (first_error_.ok()) return absl::OkStatus();
    return absl::Status(first_error_.code(),
                        absl::StrCat("transaction abandoned after an earlier error, nothing "
                                     "written: ",
                                     first_error_.message()));
  }

  void End(bool committed) {
    bool reusable = !connection_->lost();
    // A refused or failed COMMIT, an abandoned transaction: roll back whatever is open. A
    // connection that cannot roll back is in an unknown state and is closed (the server then
    // rolls back).
    if (!committed && reusable) reusable = connection_->RunText(kRollback).ok();
    store_->ReleaseConnection(connection_, reusable, connection_->lost());
    if (mode_ == TransactionMode::kWrite) store_->ReleaseWriterSlot(owner_);
    connection_ = nullptr;
  }

  MysqlStore* const store_;
  MysqlConnection* connection_;  // null once ended
  const TransactionMode mode_;
  const std::thread::id owner_;  // the thread that began it, holder of its writer slot
  bool commit_called_ = false;
  absl::Status first_error_;
};

// ---------------------------------------------------------------------------------------------
// The store

MysqlStore::MysqlStore(MysqlUrl url, std::string display_url)
    : url_(std::move(url)), display_url_(std::move(display_url)) {}

MysqlStore::~MysqlStore() {
  absl::MutexLock lock(&mutex_);
  YIDI_CHECK(writer_threads_.empty(), "no transaction outlives its store (writer slot held)");
  YIDI_CHECK(idle_.size() == connections_.size() && connections_opening_ == 0,
             "no transaction outlives its store (connection still leased)");
}

absl::StatusOr<std::unique_ptr<MysqlStore>> MysqlStore::Open(std::string_view url) {
  ASSIGN_OR_RETURN(MysqlUrl parsed, ParseMysqlUrl(url));
  auto store = absl::WrapUnique(new MysqlStore(std::move(parsed), MaskUrlPassword(url)));
  // The first connection proves the server, the user and the database; it stays in the pool.
  ASSIGN_OR_RETURN(std::unique_ptr<MysqlConnection> first, store->Connect(kStatementTimeoutS));
  {
    absl::MutexLock lock(&store->mutex_);
    store->idle_.push_back(first.get());
    store->connections_.push_back(std::move(first));
  }
  RETURN_IF_ERROR(store->CheckCharacterSet());
  RETURN_IF_ERROR(store->EnsureWriteLockTable());
  return store;
}

absl::StatusOr<std::unique_ptr<MysqlConnection>> MysqlStore::Connect(int timeout_s) const {
  return ConnectTo(url_, display_url_, timeout_s);
}

int MysqlStore::OpenConnectionsForTest() {
  absl::MutexLock lock(&mutex_);
  return static_cast<int>(connections_.size());
}

absl::Status MysqlStore::CheckCharacterSet() {
  ASSIGN_OR_RETURN(std::unique_ptr<Transaction> transaction, Begin(TransactionMode::kRead));
  ASSIGN_OR_RETURN(std::vector<Row> rows,
                   transaction->Query("SELECT @@character_set_database, @@collation_database"));
  RETURN_IF_ERROR(transaction->Commit());
  YIDI_CHECK(rows.size() == 1 && rows[0].size() == 2, "a SELECT of two variables gives one row");
  const std::string character_set = rows[0].Text(0);
  const std::string collation = rows[0].Text(1);
  if (character_set != "utf8mb4" || !absl::EndsWith(collation, "_bin")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database '", url_.database, "' uses character set ", character_set, " and collation ",
        collation, "; the node needs utf8mb4 with a binary collation, so that keys compare "
        "exactly: ALTER DATABASE `", url_.database,
        "` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin before the first start (docs/DEPLOY.md)"));
  }
  return absl::OkStatus();
}

absl::Status MysqlStore::EnsureWriteLockTable() {
  ASSIGN_OR_RETURN(std::unique_ptr<MysqlConnection> connection, Connect(kStatementTimeoutS));
  // Checked before created, so that a runtime user without the CREATE privilege opens a
  // database whose table a migration user made.
  ASSIGN_OR_RETURN(std::vector<Row> tables, connection->Query(kLockTableExists, {}));
  if (tables.empty() || tables[0].Int(0) == 0) {
    absl::Status created = connection->Execute(kCreateLockTable, {}).status();
    // Another process may have created it meanwhile: "table exists" is fine, the row below is
    // what matters.
    if (!created.ok() && !absl::StrContains(created.message(), "already exists")) return created;
  }
  ASSIGN_OR_RETURN(std::vector<Row> row, connection->Query(kLockRowExists, {}));
  if (row.empty()) RETURN_IF_ERROR(connection->Execute(kInsertLockRow, {}).status());
  return absl::OkStatus();
}

namespace {

absl::Status InMigration(const Migration& migration, const absl::Status& status) {
  return absl::Status(
      status.code(),
      absl::StrCat("migration ", migration.version, " (", migration.description,
                   "): ", status.message(),
                   " (MySQL commits DDL implicitly: statements of this migration before the "
                   "failing one may remain; the version is not recorded)"));
}

absl::Status ApplyMigration(MysqlConnection& connection, const Migration& migration) {
  ASSIGN_OR_RETURN(std::vector<Row> applied,
                   connection.Query("SELECT version FROM schema_migrations WHERE version = ?",
                                    {int64_t{migration.version}}));
  if (!applied.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(connection.RunText(kStartWrite));
  absl::Status status;
  for (const std::string& statement : migration.statements) {
    status = connection.Execute(statement, {}).status();
    if (!status.ok()) break;
  }
  if (status.ok()) {
    status = connection
                 .Execute("INSERT INTO schema_migrations (version, description, applied_at) "
                          "VALUES (?, ?, ?)",
                          {int64_t{migration.version}, migration.description, UtcNowIso8601()})
                 .status();
  }
  if (status.ok()) status = connection.RunText(kCommit);
  if (!status.ok()) {
    if (!connection.lost()) connection.RunText(kRollback).IgnoreError();  // reported below
    return InMigration(migration, status);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MysqlStore::Migrate(const std::vector<Migration>& migrations) {
  for (size_t i = 1; i < migrations.size(); ++i) {
    YIDI_CHECK(migrations[i - 1].version < migrations[i].version,
               "migration versions are strictly increasing: each step builds on the last");
  }
  // A connection of its own: long timeouts for DDL, and the named lock lives in its session
  // (it is released when the connection closes, whatever happens).
  ASSIGN_OR_RETURN(std::unique_ptr<MysqlConnection> connection, Connect(kMigrationTimeoutS));
  ASSIGN_OR_RETURN(std::vector<Row> locked,
                   connection->Query(kGetMigrationLock, {int64_t{kMigrationLockWaitS}}));
  if (locked.empty() || locked[0].IsNull(0) || locked[0].Int(0) != 1) {
    return absl::UnavailableError(absl::StrCat("database ", display_url_,
                                               ": another process has been migrating it for "
                                               "over ",
                                               kMigrationLockWaitS, " s"));
  }
  ASSIGN_OR_RETURN(std::vector<Row> tables, connection->Query(kMigrationsTableExists, {}));
  if (tables.empty() || tables[0].Int(0) == 0) {
    RETURN_IF_ERROR(connection->Execute(kCreateSchemaMigrations, {}).status());
  }
  for (const Migration& migration : migrations) {
    RETURN_IF_ERROR(ApplyMigration(*connection, migration));
  }
  return connection->Query(kReleaseMigrationLock, {}).status();
}

absl::StatusOr<std::unique_ptr<Transaction>> MysqlStore::Begin(TransactionMode mode) {
  if (mode == TransactionMode::kWrite) RETURN_IF_ERROR(AcquireWriterSlot());
  absl::StatusOr<std::unique_ptr<Transaction>> transaction = BeginOnConnection(mode);
  if (!transaction.ok() && mode == TransactionMode::kWrite) {
    ReleaseWriterSlot(std::this_thread::get_id());
  }
  return transaction;
}

absl::StatusOr<std::unique_ptr<Transaction>> MysqlStore::BeginOnConnection(TransactionMode mode) {
  absl::Status status;
  for (int attempt = 0; attempt < kBeginAttemptsMax; ++attempt) {
    bool fresh = false;
    ASSIGN_OR_RETURN(MysqlConnection * connection, AcquireConnection(&fresh));
    if (mode == TransactionMode::kWrite) {
      status = connection->RunText(kSetWriteIsolation);
      if (status.ok()) status = connection->RunText(kStartWrite);
      if (status.ok()) {
        // The writers' lock: waits for any other writer, in any process, to end.
        absl::StatusOr<std::vector<Row>> locked = connection->Query(kLockWriters, {});
        status = locked.status();
        if (status.ok() && locked->size() != 1) {
          status = absl::InternalError(
              "the row of yidi_store_write_lock is missing; it is created at open");
        }
      }
    } else {
      status = connection->RunText(kStartRead);
    }
    if (status.ok()) {
      return std::unique_ptr<Transaction>(
          std::make_unique<MysqlTransaction>(this, connection, mode));
    }
    const bool lost = connection->lost();
    const bool reusable = !lost && connection->RunText(kRollback).ok();
    ReleaseConnection(connection, reusable, lost);
    // A pooled connection that proves dead at its first statement is stale (the server
    // restarted since it was last used): nothing was done in it, so try again on a new one.
    if (!lost || fresh) break;
  }
  return absl::Status(status.code(), absl::StrCat("begin on ", display_url_, ": ",
                                                  status.message()));
}

absl::Status MysqlStore::AcquireWriterSlot() {
  const std::thread::id self = std::this_thread::get_id();
  {
    absl::MutexLock lock(&mutex_);
    YIDI_CHECK(std::find(writer_threads_.begin(), writer_threads_.end(), self) ==
                   writer_threads_.end(),
               "a thread holding a write transaction begins no second one: it would wait for "
               "itself on the lock row");
  }
  const bool acquired =
      mutex_.LockWhenWithTimeout(absl::Condition(this, &MysqlStore::WriterSlotAvailable),
                                 absl::Milliseconds(kLockWaitMaxMs));
  if (!acquired) {
    mutex_.Unlock();  // LockWhenWithTimeout returns holding the mutex either way
    return absl::UnavailableError(absl::StrCat("store ", display_url_,
                                               ": writers busy for over ", kLockWaitMaxMs,
                                               " ms"));
  }
  writer_threads_.push_back(self);
  mutex_.Unlock();
  return absl::OkStatus();
}

void MysqlStore::ReleaseWriterSlot(std::thread::id owner) {
  absl::MutexLock lock(&mutex_);
  auto held = std::find(writer_threads_.begin(), writer_threads_.end(), owner);
  YIDI_CHECK(held != writer_threads_.end(), "only a held writer slot is released");
  writer_threads_.erase(held);
}

absl::StatusOr<MysqlConnection*> MysqlStore::AcquireConnection(bool* fresh) {
  const bool acquired =
      mutex_.LockWhenWithTimeout(absl::Condition(this, &MysqlStore::ConnectionAvailable),
                                 absl::Milliseconds(kLockWaitMaxMs));
  if (!acquired) {
    mutex_.Unlock();  // LockWhenWithTimeout returns holding the mutex either way
    return absl::UnavailableError(absl::StrCat("store ", display_url_, ": all ", url_.pool_size,
                                               " connections busy for over ", kLockWaitMaxMs,
                                               " ms"));
  }
  if (!idle_.empty()) {
    MysqlConnection* connection = idle_.back();
    idle_.pop_back();
    mutex_.Unlock();
    *fresh = false;
    return connection;
  }
  ++connections_opening_;  // hold the slot while connecting outside the mutex
  mutex_.Unlock();
  absl::StatusOr<std::unique_ptr<MysqlConnection>> opened = Connect(kStatementTimeoutS);
  absl::MutexLock lock(&mutex_);
  --connections_opening_;
  if (!opened.ok()) {
    return absl::Status(opened.status().code(),
                        absl::StrCat("store ", display_url_, ": ", opened.status().message()));
  }
  connections_.push_back(std::move(*opened));
  *fresh = true;
  return connections_.back().get();
}

void MysqlStore::ReleaseConnection(MysqlConnection* connection, bool reusable,
                                   bool connection_lost) {
  std::vector<std::unique_ptr<MysqlConnection>> closing;  // closed outside the mutex
  {
    absl::MutexLock lock(&mutex_);
    auto take = [this, &closing](MysqlConnection* target) {
      for (auto it = connections_.begin(); it != connections_.end(); ++it) {
        if (it->get() == target) {
          closing.push_back(std::move(*it));
          connections_.erase(it);
          return;
        }
      }
      YIDI_CHECK(false, "a released connection belongs to this store");
    };
    if (reusable) {
      idle_.push_back(connection);
    } else {
      take(connection);
    }
    if (connection_lost) {
      // The server went away: the idle connections are dead too. Dropping them now saves each
      // later Begin a failed attempt.
      for (MysqlConnection* idle : idle_) take(idle);
      idle_.clear();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Server administration for tests and tools

namespace {

absl::Status RunAdministration(std::string_view server_url, const std::string& statement) {
  ASSIGN_OR_RETURN(MysqlUrl url, ParseMysqlUrl(server_url, /*database_required=*/false));
  url.database.clear();
  ASSIGN_OR_RETURN(std::unique_ptr<MysqlConnection> connection,
                   ConnectTo(url, MaskUrlPassword(server_url), MysqlStore::kStatementTimeoutS));
  return connection->RunText(statement);
}

}  // namespace

absl::Status CreateMysqlDatabase(std::string_view server_url, std::string_view name,
                                 std::string_view collation) {
  if (!IsIdentifier(name) || !IsIdentifier(collation)) {
    return absl::InvalidArgumentError(absl::StrCat("database name '", AsAbsl(name),
                                                   "' or collation '", AsAbsl(collation),
                                                   "' is not [a-z0-9_]{1,64}"));
  }
  return RunAdministration(server_url,
                           absl::StrCat("CREATE DATABASE `", AsAbsl(name),
                                        "` CHARACTER SET utf8mb4 COLLATE ", AsAbsl(collation)));
}

absl::Status DropMysqlDatabase(std::string_view server_url, std::string_view name) {
  if (!IsIdentifier(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("database name '", AsAbsl(name), "' is not [a-z0-9_]{1,64}"));
  }
  return RunAdministration(server_url, absl::StrCat("DROP DATABASE IF EXISTS `", AsAbsl(name), "`"));
}

absl::Status KillMysqlConnectionForTest(std::string_view server_url, int64_t connection_id) {
  return RunAdministration(server_url, absl::StrCat("KILL CONNECTION ", connection_id));
}

}  // namespace yidi
