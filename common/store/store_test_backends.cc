#include "common/store/store_test_backends.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "common/store/mysql_store.h"

namespace yidi::store_testing {

std::string BackendName(Backend backend) {
  switch (backend) {
    case Backend::kSqliteMemory:
      return "sqlite_memory";
    case Backend::kSqliteFile:
      return "sqlite_file";
    case Backend::kMysql:
      return "mysql";
  }
  YIDI_CHECK(false, "every Backend has a name");
  return "";
}

void PrintTo(Backend backend, std::ostream* out) { *out << BackendName(backend); }

bool HasTransactionalDdl(Backend backend) { return backend != Backend::kMysql; }

absl::StatusOr<std::optional<std::string>> MysqlTestServerUrl() {
  std::string url;
  if (const char* direct = getenv("YIDI_TEST_MYSQL_URL"); direct != nullptr && *direct != 0) {
    url = direct;
  } else if (const char* state = getenv("YIDI_TEST_MARIADB_STATE");
             state != nullptr && *state != 0) {
    const std::string path = absl::StrCat(state, "/url");
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    url = std::string(absl::StripAsciiWhitespace(text.str()));
    if (!in || url.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "YIDI_TEST_MARIADB_STATE is set but ", path,
          " cannot be read: did `tests/mysql/mariadb.sh start` (the CTest fixture) fail?"));
    }
  } else {
    return std::optional<std::string>();
  }
  if (!url.ends_with('/')) url.push_back('/');
  return std::optional<std::string>(url);
}

std::string MysqlSkipMessage() {
  return "no MySQL server configured: set YIDI_TEST_MYSQL_URL=mysql://user:password@127.0.0.1:"
         "PORT/ (a user that may create databases yidi_test_*), or run the tests through ctest, "
         "which starts a throwaway MariaDB (tests/mysql/mariadb.sh)";
}

TestDatabases::TestDatabases(Backend backend) : backend_(backend) {}

TestDatabases::~TestDatabases() {
  for (const std::string& name : mysql_databases_) {
    if (absl::Status dropped = DropMysqlDatabase(server_url_, name); !dropped.ok()) {
      std::fprintf(stderr, "store_test_backends: cannot drop database %s: %s\n", name.c_str(),
                   dropped.ToString().c_str());
    }
  }
  if (!temp_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir_, ignored);
  }
}

absl::StatusOr<std::string> TestDatabases::NewDatabaseUrl(const std::string& query) {
  switch (backend_) {
    case Backend::kSqliteMemory:
      return std::string("sqlite::memory:");
    case Backend::kSqliteFile: {
      if (temp_dir_.empty()) {
        std::string pattern = "/tmp/yidi_store_test_XXXXXX";
        if (mkdtemp(pattern.data()) == nullptr) {
          return absl::InternalError("mkdtemp under /tmp failed");
        }
        temp_dir_ = pattern;
      }
      return absl::StrCat("sqlite://", temp_dir_, "/", ++files_, ".db");
    }
    case Backend::kMysql: {
      if (server_url_.empty()) {
        ASSIGN_OR_RETURN(std::optional<std::string> server, MysqlTestServerUrl());
        if (!server.has_value()) return absl::FailedPreconditionError(MysqlSkipMessage());
        server_url_ = *server;
      }
      // Random, so that test binaries running at once (ctest -j) never share a database.
      static std::mt19937_64 random{std::random_device{}()};
      const std::string name =
          absl::StrFormat("yidi_test_%d_%016x", getpid(), static_cast<uint64_t>(random()));
      RETURN_IF_ERROR(CreateMysqlDatabase(server_url_, name));
      mysql_databases_.push_back(name);
      return absl::StrCat(server_url_, name, query.empty() ? "" : "?", query);
    }
  }
  return absl::InternalError("unknown backend");
}

}  // namespace yidi::store_testing
