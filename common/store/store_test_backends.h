// Test support for the Store conformance suites (common/store/store_test.cc and
// tests/mysql/repository_conformance_test.cc): the backends a suite is instantiated over, and a
// source of fresh, empty databases on each, removed at the end of the test.
//
// The MySQL backend needs a server. It is named by the environment:
//   YIDI_TEST_MYSQL_URL     a server URL, e.g. mysql://yidi:yidi@127.0.0.1:3306/ (the user may
//                           create and drop databases named yidi_test_*), or else
//   YIDI_TEST_MARIADB_STATE the state folder of tests/mysql/mariadb.sh (its `url` file), which
//                           CTest sets for the MySQL tests after starting a throwaway MariaDB.
// With neither, MySQL tests skip (GTEST_SKIP) saying how to run them. With one set but unusable
// (no `url` file, server down) they fail: CI must never pass by skipping.
//
// Thread safety: TestDatabases belongs to the test's thread.
#ifndef YIDI_COMMON_STORE_STORE_TEST_BACKENDS_H_
#define YIDI_COMMON_STORE_STORE_TEST_BACKENDS_H_

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace yidi::store_testing {

enum class Backend {
  kSqliteMemory,  // sqlite::memory:, one private database per open
  kSqliteFile,    // sqlite:///tmp/.../N.db
  kMysql,         // mysql://.../yidi_test_<random>
};

// "sqlite_memory", "sqlite_file", "mysql": test-name suffixes.
std::string BackendName(Backend backend);
// For GoogleTest (and so CTest's test names): the backend's name.
void PrintTo(Backend backend, std::ostream* out);

// What a backend does differently, so one suite can state each property where it holds.
// A failed migration's DDL is rolled back with it (MySQL commits DDL implicitly).
bool HasTransactionalDdl(Backend backend);

// The MySQL test server's URL (ending in '/'), from the environment as described above;
// nullopt when none is configured. Errors: FAILED_PRECONDITION when configured but unreadable.
absl::StatusOr<std::optional<std::string>> MysqlTestServerUrl();

// The message of a MySQL test that skips for want of a server.
std::string MysqlSkipMessage();

// Fresh databases on one backend for one test; dropped (MySQL) or deleted (files) at the end.
class TestDatabases {
 public:
  explicit TestDatabases(Backend backend);
  ~TestDatabases();
  TestDatabases(const TestDatabases&) = delete;
  TestDatabases& operator=(const TestDatabases&) = delete;

  // A URL naming a new, empty database. `query` (e.g. "pool=2") is appended to a MySQL URL.
  // REQUIRES for kMysql: MysqlTestServerUrl() names a server.
  absl::StatusOr<std::string> NewDatabaseUrl(const std::string& query = "");

  Backend backend() const { return backend_; }
  // The server URL of a MySQL backend ("" otherwise), for administration in tests.
  const std::string& server_url() const { return server_url_; }
  // The database names created so far (MySQL).
  const std::vector<std::string>& mysql_databases() const { return mysql_databases_; }

 private:
  const Backend backend_;
  std::string temp_dir_;  // SQLite files
  int files_ = 0;
  std::string server_url_;
  std::vector<std::string> mysql_databases_;
};

}  // namespace yidi::store_testing

#endif  // YIDI_COMMON_STORE_STORE_TEST_BACKENDS_H_
