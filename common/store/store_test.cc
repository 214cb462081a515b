// The Store conformance suite: the contract of store.h (migrations, value round trips, errors,
// rollback, durability across reopen, serialised writers, non-blocking readers), one suite run
// on every backend: SQLite in memory and on file always, MySQL when a server is configured
// (store_test_backends.h; CTest starts a throwaway MariaDB). Each test gets fresh databases.
// What a backend does differently is stated by a property (HasTransactionalDdl), so each
// assertion says where it holds; the tests of a database shared by several stores and
// connections (StoreSharedDatabaseTest) run on every backend but sqlite::memory:. Then the
// tests proper to one backend: SQLite files and URLs, and MySQL URLs, lost connections, the
// pool, the lock row and the character set.
#include "common/store/store.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "common/store/mysql_store.h"
#include "common/store/store_test_backends.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using store_testing::Backend;
using store_testing::TestDatabases;

// A bounded wait for work another thread should finish promptly; nothing asserts on timing.
constexpr auto kPromptly = std::chrono::seconds(10);

std::unique_ptr<Store> MustOpen(const std::string& url) {
  absl::StatusOr<std::unique_ptr<Store>> store = OpenStore(url);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// Portable SQL: BIGINT and VARCHAR keys, as on both backends.
const std::vector<Migration>& TestMigrations() {
  static const auto* const kMigrations = new std::vector<Migration>{
      {1,
       "create item",
       {"CREATE TABLE item (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(64) UNIQUE)"}},
      {2,
       "create counter with its one row",
       {"CREATE TABLE counter (id BIGINT NOT NULL PRIMARY KEY, value BIGINT NOT NULL)",
        "INSERT INTO counter (id, value) VALUES (1, 0)"}},
  };
  return *kMigrations;
}

int64_t CountRows(Store& store, const std::string& table) {
  absl::StatusOr<std::unique_ptr<Transaction>> txn = store.Begin(TransactionMode::kRead);
  EXPECT_TRUE(txn.ok()) << txn.status();
  if (!txn.ok()) return -1;
  absl::StatusOr<std::vector<Row>> rows = (*txn)->Query("SELECT COUNT(*) FROM " + table);
  EXPECT_TRUE(rows.ok()) << rows.status();
  if (!rows.ok()) return -1;
  EXPECT_TRUE((*txn)->Commit().ok());
  return (*rows)[0].Int(0);
}

bool TableExists(Store& store, const std::string& table) {
  auto txn = store.Begin(TransactionMode::kRead);
  EXPECT_TRUE(txn.ok()) << txn.status();
  return txn.ok() && (*txn)->Query("SELECT COUNT(*) FROM " + table).ok();
}

int64_t CounterValue(Transaction& txn) {
  absl::StatusOr<std::vector<Row>> rows = txn.Query("SELECT value FROM counter WHERE id = 1");
  EXPECT_TRUE(rows.ok()) << rows.status();
  return rows.ok() && rows->size() == 1 ? (*rows)[0].Int(0) : -1;
}

// Read-modify-write increments of the counter by `threads` threads of each store, `per_thread`
// each, with no retry: a write transaction must neither fail nor lose an update.
void RunConcurrentIncrements(const std::vector<Store*>& stores, int threads_per_store,
                             int per_thread) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (Store* store : stores) {
    for (int t = 0; t < threads_per_store; ++t) {
      threads.emplace_back([store, per_thread, &failures] {
        for (int i = 0; i < per_thread; ++i) {
          auto txn = store->Begin(TransactionMode::kWrite);
          if (!txn.ok()) {
            ++failures;
            continue;
          }
          auto rows = (*txn)->Query("SELECT value FROM counter WHERE id = 1");
          if (!rows.ok() || rows->size() != 1) {
            ++failures;
            continue;
          }
          const int64_t next = (*rows)[0].Int(0) + 1;
          if (!(*txn)->Execute("UPDATE counter SET value = ? WHERE id = 1", {next}).ok() ||
              !(*txn)->Commit().ok()) {
            ++failures;
          }
        }
      });
    }
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto txn = stores[0]->Begin(TransactionMode::kRead);
  ASSERT_TRUE(txn.ok()) << txn.status();
  EXPECT_EQ(CounterValue(**txn),
            int64_t{threads_per_store} * per_thread * static_cast<int64_t>(stores.size()));
}

// ---------------------------------------------------------------------------------------------
// The conformance suite, on every backend.

class StoreConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kMysql) {
      auto server = store_testing::MysqlTestServerUrl();
      ASSERT_TRUE(server.ok()) << server.status();
      if (!server->has_value()) GTEST_SKIP() << store_testing::MysqlSkipMessage();
    }
    databases_ = std::make_unique<TestDatabases>(GetParam());
  }

  // A URL naming a fresh, empty database.
  std::string NewUrl(const std::string& query = "") {
    auto url = databases_->NewDatabaseUrl(query);
    EXPECT_TRUE(url.ok()) << url.status();
    return url.ok() ? *url : "";
  }

  // A fresh database, opened.
  std::unique_ptr<Store> OpenNew() { return MustOpen(NewUrl()); }

  Backend backend() const { return GetParam(); }

  std::unique_ptr<TestDatabases> databases_;
};

TEST_P(StoreConformanceTest, MigrationsAppliedOnceAndIdempotent) {
  std::unique_ptr<Store> store = OpenNew();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate(TestMigrations()).ok());
  EXPECT_EQ(CountRows(*store, "schema_migrations"), 2);
  EXPECT_EQ(CountRows(*store, "counter"), 1);

  // Again: nothing re-applied (the seed row would be a duplicate primary key otherwise).
  ASSERT_TRUE(store->Migrate(TestMigrations()).ok());
  EXPECT_EQ(CountRows(*store, "schema_migrations"), 2);
  EXPECT_EQ(CountRows(*store, "counter"), 1);

  // A longer list applies only the new step.
  std::vector<Migration> more = TestMigrations();
  more.push_back({3, "index item names", {"CREATE INDEX item_name ON item (name)"}});
  ASSERT_TRUE(store->Migrate(more).ok());
  auto txn = store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(txn.ok());
  auto rows = (*txn)->Query(
      "SELECT version, description, applied_at FROM schema_migrations ORDER BY version");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].Int(0), 1);
  EXPECT_EQ((*rows)[1].Text(1), "create counter with its one row");
  EXPECT_EQ((*rows)[2].Int(0), 3);
  EXPECT_FALSE((*rows)[2].Text(2).empty());
}

TEST_P(StoreConformanceTest, FailedMigrationIsNotRecorded) {
  std::unique_ptr<Store> store = OpenNew();
  ASSERT_NE(store, nullptr);
  std::vector<Migration> broken = {
      {1, "half good", {"CREATE TABLE good (id BIGINT NOT NULL PRIMARY KEY)", "NOT SQL AT ALL"}}};
  const absl::Status status = store->Migrate(broken);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_NE(status.message().find("migration 1 (half good)"), std::string::npos) << status;
  EXPECT_EQ(CountRows(*store, "schema_migrations"), 0);
  if (store_testing::HasTransactionalDdl(backend())) {
    EXPECT_FALSE(TableExists(*store, "good"));  // the DDL was rolled back with the failed step
  } else {
    // MySQL commits DDL implicitly: the step's first statement stays, and the error says so.
    EXPECT_TRUE(TableExists(*store, "good"));
    EXPECT_TRUE(absl::StrContains(status.message(), "commits DDL implicitly")) << status;
  }
}

TEST_P(StoreConformanceTest, ValuesRoundTrip) {
  std::unique_ptr<Store> store = OpenNew();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->Migrate({{1,
                              "values",
                              {"CREATE TABLE v (k BIGINT NOT NULL PRIMARY KEY, i BIGINT, "
                               "t MEDIUMTEXT)"}}})
                  .ok());
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  const std::string chinese = "异地就医直接结算：壹佰元整";
  const std::string quotes_and_backslash = "it's a \\ back'slash; DROP TABLE v; --";
  {
    auto txn = store->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(txn.ok());
    const std::string insert = "INSERT INTO v (k, i, t) VALUES (?, ?, ?)";
    EXPECT_EQ(*(*txn)->Execute(insert, {int64_t{1}, kMax, chinese}), 1);
    EXPECT_EQ(*(*txn)->Execute(insert, {int64_t{2}, kMin, std::string()}), 1);
    EXPECT_EQ(*(*txn)->Execute(insert, {int64_t{3}, int64_t{-42}, std::monostate{}}), 1);
    EXPECT_EQ(*(*txn)->Execute(insert, {int64_t{4}, std::monostate{}, std::string("x")}), 1);
    EXPECT_EQ(*(*txn)->Execute(insert, {int64_t{5}, int64_t{0}, quotes_and_backslash}), 1);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto txn = store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(txn.ok());
  auto rows = (*txn)->Query("SELECT k, i, t FROM v ORDER BY k");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 5u);
  EXPECT_EQ((*rows)[0].Int(1), kMax);
  EXPECT_EQ((*rows)[0].Text(2), chinese);
  EXPECT_EQ((*rows)[1].Int(1), kMin);
  EXPECT_FALSE((*rows)[1].IsNull(2));  // empty text is not NULL
  EXPECT_EQ((*rows)[1].Text(2), "");
  EXPECT_EQ((*rows)[2].Int(1), -42);
  EXPECT_TRUE((*rows)[2].IsNull(2));
  EXPECT_TRUE(std::holds_alternative<std::monostate>((*rows)[2].Value(2)));
  EXPECT_EQ((*rows)[2].Text(2), "");  // NULL reads as ""
  EXPECT_TRUE((*rows)[3].IsNull(1));
  EXPECT_EQ((*rows)[3].Int(1), 0);  // NULL reads as 0
  EXPECT_EQ((*rows)[4].Text(2), quotes_and_backslash);  // a value is data, never SQL
  // A parameter reads back as the same value.
  auto found = (*txn)->Query("SELECT k FROM v WHERE t = ?", {chinese});
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].Int(0), 1);
  // Keys compare exactly: another case is another value (MySQL: a binary collation).
  auto upper = (*txn)->Query("SELECT k FROM v WHERE t = ?", {std::string("X")});
  ASSERT_TRUE(upper.ok());
  EXPECT_TRUE(upper->empty());
  // An integer aggregate reads as an integer (MySQL returns SUM as DECIMAL).
  auto sum = (*txn)->Query("SELECT SUM(i), COUNT(*) FROM v WHERE k IN (3, 5)");
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ((*sum)[0].Int(0), -42);
  EXPECT_EQ((*sum)[0].Int(1), 2);
}

TEST_P(StoreConformanceTest, ExecuteReturnsRowsMatched) {
  std::unique_ptr<Store> store = OpenNew();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->Migrate({{1,
                              "n",
                              {"CREATE TABLE n (id BIGINT NOT NULL PRIMARY KEY, x BIGINT)",
                               "CREATE INDEX n_x ON n (x)"}}})
                  .ok());
  auto txn = store->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(*(*txn)->Execute("INSERT INTO n (id, x) VALUES (1, 1), (2, 1), (3, 2)"), 3);
  EXPECT_EQ(*(*txn)->Execute("UPDATE n SET x = 5 WHERE x = 1"), 2);
  // A row set to the value it has still counts: callers read 0 as "no such row".
  EXPECT_EQ(*(*txn)->Execute("UPDATE n SET x = 5 WHERE id = ?", {int64_t{1}}), 1);
  EXPECT_EQ(*(*txn)->Execute("DELETE FROM n WHERE x = 99"), 0);
  EXPECT_EQ(*(*txn)->Execute("DELETE FROM n WHERE x = 2"), 1);
  EXPECT_TRUE((*txn)->Commit().ok());
}

TEST_P(StoreConformanceTest, WrongParameterCountIsInternal) {
  std::unique_ptr<Store> store = OpenNew();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate(TestMigrations()).ok());
  auto txn = store->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(txn.ok());
  auto changed = (*txn)->Execute("INSERT INTO item (id, name) VALUES (?, ?)", {int64_t{1}});
  EXPECT_EQ(changed.status().code(), absl::StatusCode::kInternal) << changed.status();
}

TEST_P(StoreConformanceTest, FloatingPointColumnIsInternal) {
  std::unique_ptr<Store> store = OpenNew();
  ASSERT_NE(store, nullptr);
  auto txn = store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(txn.ok());
  auto rows = (*txn)->Query("SELECT 1.5");
  EXPECT_EQ(rows.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(rows.status().message().find("floating-point column"), std::string::npos)
      << rows.status();
}

TEST_P(StoreConformanceTest, UniqueViolationIsAlreadyExistsAndWritesNothing) {
  std::unique_ptr<Store> store = OpenNew();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate(TestMigrations()).ok());
  {
    auto txn = store->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->Execute("INSERT INTO item (id, name) VALUES (1, 'a')").ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  {
    auto txn = store->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->Execute("INSERT INTO item (id, name) VALUES (2, 'b')").ok());
    auto duplicate_name = (*txn)->Execute("INSERT INTO item (id, name) VALUES (3, 'a')");
    EXPECT_EQ(duplicate_name.status().code(), absl::StatusCode::kAlreadyExists)
        << duplicate_name.status();
    // The transaction is abandoned: later calls report the first error, Commit writes nothing.
    auto after = (*txn)->Execute("INSERT INTO item (id, name) VALUES (4, 'c')");
    EXPECT_EQ(after.status().code(), absl::StatusCode::kAlreadyExists);
    EXPECT_FALSE((*txn)->Commit().ok());
  }
  {
    auto txn = store->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(txn.ok());
    auto duplicate_key = (*txn)->Execute("INSERT INTO item (id, name) VALUES (1, 'z')");
    EXPECT_EQ(duplicate_key.status().code(), absl::StatusCode::kAlreadyExists)
        << duplicate_key.status();
  }
  EXPECT_EQ(CountRows(*store, "item"), 1);
}

TEST_P(StoreConformanceTest, DestructionWithoutCommitRollsBack) {
  std::unique_ptr<Store> store = OpenNew();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate(TestMigrations()).ok());
  {
    auto txn = store->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->Execute("INSERT INTO item (id, name) VALUES (1, 'a')").ok());
    ASSERT_TRUE((*txn)->Execute("UPDATE counter SET value = 7 WHERE id = 1").ok());
  }
  EXPECT_EQ(CountRows(*store, "item"), 0);
  auto txn = store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(CounterValue(**txn), 0);
}

TEST_P(StoreConformanceTest, ReadTransactionCannotWrite) {
  std::unique_ptr<Store> store = OpenNew();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate(TestMigrations()).ok());
  {
    auto txn = store->Begin(TransactionMode::kRead);
    ASSERT_TRUE(txn.ok());
    EXPECT_FALSE((*txn)->Execute("UPDATE counter SET value = 9").ok());
  }
  // The store still writes after a read refused one.
  auto txn = store->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(*(*txn)->Execute("UPDATE counter SET value = 9"), 1);
  EXPECT_TRUE((*txn)->Commit().ok());
}

// The tests of databases that outlive a store and serve several stores and connections at once:
// every backend but sqlite::memory: (one private connection, gone with its store).
using StoreSharedDatabaseTest = StoreConformanceTest;

TEST_P(StoreSharedDatabaseTest, CommitPersistsAcrossReopen) {
  const std::string url = NewUrl();
  {
    std::unique_ptr<Store> store = MustOpen(url);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->DisplayUrl(), MaskUrlPassword(url));
    ASSERT_TRUE(store->Migrate(TestMigrations()).ok());
    auto txn = store->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->Execute("INSERT INTO item (id, name) VALUES (?, ?)",
                                {int64_t{5}, std::string("五")})
                    .ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  std::unique_ptr<Store> store = MustOpen(url);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate(TestMigrations()).ok());  // already applied: no-op
  auto txn = store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(txn.ok());
  auto rows = (*txn)->Query("SELECT id, name FROM item");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Int(0), 5);
  EXPECT_EQ((*rows)[0].Text(1), "五");
}

// 8 threads x 500 read-modify-write increments: serialised writers lose no update.
TEST_P(StoreConformanceTest, ConcurrentIncrementsLoseNoUpdate) {
  std::unique_ptr<Store> store = OpenNew();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate(TestMigrations()).ok());
  RunConcurrentIncrements({store.get()}, 8, 500);
}

// Two stores on one database, as two processes would have: writers serialise across them too.
TEST_P(StoreSharedDatabaseTest, ConcurrentIncrementsFromTwoStoresLoseNoUpdate) {
  const std::string url = NewUrl();
  std::unique_ptr<Store> first = MustOpen(url);
  std::unique_ptr<Store> second = MustOpen(url);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->Migrate(TestMigrations()).ok());
  RunConcurrentIncrements({first.get(), second.get()}, 4, 250);
}

// Two stores migrating one database at once apply each version once.
TEST_P(StoreSharedDatabaseTest, ConcurrentMigrationsApplyEachVersionOnce) {
  const std::string url = NewUrl();
  std::unique_ptr<Store> first = MustOpen(url);
  std::unique_ptr<Store> second = MustOpen(url);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  auto migrating = std::async(std::launch::async,
                              [&first] { return first->Migrate(TestMigrations()); });
  const absl::Status second_status = second->Migrate(TestMigrations());
  ASSERT_EQ(migrating.wait_for(kPromptly), std::future_status::ready);
  const absl::Status first_status = migrating.get();
  EXPECT_TRUE(first_status.ok()) << first_status;
  EXPECT_TRUE(second_status.ok()) << second_status;
  EXPECT_EQ(CountRows(*first, "schema_migrations"), 2);
  EXPECT_EQ(CountRows(*first, "counter"), 1);
}

TEST_P(StoreSharedDatabaseTest, ReadsRunWhileWriteTransactionOpen) {
  std::unique_ptr<Store> store = OpenNew();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate(TestMigrations()).ok());

  // A reader whose snapshot starts before the write commits.
  auto early_reader = store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(early_reader.ok());
  EXPECT_EQ(CounterValue(**early_reader), 0);

  auto writer = store->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Execute("UPDATE counter SET value = 1 WHERE id = 1").ok());

  // Readers on other threads finish while the write is open, and see the last commit.
  std::vector<std::future<int64_t>> reads;
  for (int i = 0; i < 3; ++i) {
    reads.push_back(std::async(std::launch::async, [&store]() -> int64_t {
      auto txn = store->Begin(TransactionMode::kRead);
      if (!txn.ok()) return -1;
      return CounterValue(**txn);
    }));
  }
  for (std::future<int64_t>& read : reads) {
    ASSERT_EQ(read.wait_for(kPromptly), std::future_status::ready);
    EXPECT_EQ(read.get(), 0);
  }

  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(CounterValue(**early_reader), 0);  // its snapshot holds
  EXPECT_TRUE((*early_reader)->Commit().ok());
  auto late_reader = store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(late_reader.ok());
  EXPECT_EQ(CounterValue(**late_reader), 1);
}

TEST_P(StoreConformanceTest, DisplayUrlMasksThePassword) {
  const std::string url = NewUrl();
  std::unique_ptr<Store> store = MustOpen(url);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->DisplayUrl(), MaskUrlPassword(url));
}

using StoreConformanceDeathTest = StoreConformanceTest;

TEST_P(StoreConformanceDeathTest, CommitTwiceAborts) {
  std::unique_ptr<Store> store = OpenNew();
  ASSERT_NE(store, nullptr);
  auto txn = store->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_DEATH((*txn)->Commit().IgnoreError(), "Commit is called at most once");
}

TEST_P(StoreConformanceDeathTest, MigrationVersionsMustIncrease) {
  std::unique_ptr<Store> store = OpenNew();
  ASSERT_NE(store, nullptr);
  std::vector<Migration> unordered = {{2, "b", {}}, {1, "a", {}}};
  EXPECT_DEATH(store->Migrate(unordered).IgnoreError(), "strictly increasing");
}

TEST_P(StoreConformanceDeathTest, SecondWriteOnSameThreadAborts) {
  std::unique_ptr<Store> store = OpenNew();
  ASSERT_NE(store, nullptr);
  auto txn = store->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(txn.ok());
  EXPECT_DEATH(store->Begin(TransactionMode::kWrite).IgnoreError(), "wait for itself");
}

std::string BackendTestName(const ::testing::TestParamInfo<Backend>& info) {
  return store_testing::BackendName(info.param);
}

// The Sqlite and Mysql prefixes let CTest give the MySQL tests their server (tests/CMakeLists).
INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest,
                         ::testing::Values(Backend::kSqliteMemory, Backend::kSqliteFile),
                         BackendTestName);
INSTANTIATE_TEST_SUITE_P(Mysql, StoreConformanceTest, ::testing::Values(Backend::kMysql),
                         BackendTestName);
INSTANTIATE_TEST_SUITE_P(Sqlite, StoreSharedDatabaseTest, ::testing::Values(Backend::kSqliteFile),
                         BackendTestName);
INSTANTIATE_TEST_SUITE_P(Mysql, StoreSharedDatabaseTest, ::testing::Values(Backend::kMysql),
                         BackendTestName);
INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceDeathTest,
                         ::testing::Values(Backend::kSqliteMemory, Backend::kSqliteFile),
                         BackendTestName);
INSTANTIATE_TEST_SUITE_P(Mysql, StoreConformanceDeathTest, ::testing::Values(Backend::kMysql),
                         BackendTestName);

// ---------------------------------------------------------------------------------------------
// SQLite only: files, paths and URLs.

TEST(SqliteStoreTest, FileIsInWalMode) {
  TestDatabases databases(Backend::kSqliteFile);
  auto url = databases.NewDatabaseUrl();
  ASSERT_TRUE(url.ok());
  std::unique_ptr<Store> store = MustOpen(*url);
  ASSERT_NE(store, nullptr);
  auto txn = store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(txn.ok());
  auto journal = (*txn)->Query("PRAGMA journal_mode");
  ASSERT_TRUE(journal.ok());
  EXPECT_EQ((*journal)[0].Text(0), "wal");
}

TEST(SqliteStoreTest, RelativePathIsFromWorkingDirectory) {
  std::string pattern = "/tmp/yidi_store_test_XXXXXX";
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path dir(pattern);
  const std::filesystem::path relative = std::filesystem::relative(dir / "relative.db");
  ASSERT_FALSE(relative.is_absolute());
  {
    std::unique_ptr<Store> store = MustOpen("sqlite://" + relative.string());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Migrate(TestMigrations()).ok());
    EXPECT_TRUE(std::filesystem::exists(dir / "relative.db"));
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

TEST(SqliteStoreTest, InMemoryStoresArePrivate) {
  std::unique_ptr<Store> first = MustOpen("sqlite::memory:");
  std::unique_ptr<Store> second = MustOpen("sqlite::memory:");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->Migrate(TestMigrations()).ok());
  EXPECT_FALSE(TableExists(*second, "counter"));
}

TEST(SqliteStoreTest, UnopenablePathIsUnavailable) {
  auto store = OpenStore("sqlite:///nonexistent-dir/x.db");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(store.status().message().find("/nonexistent-dir/x.db"), std::string::npos)
      << store.status();
}

TEST(StoreUrlTest, UnknownSchemeIsInvalidArgument) {
  auto store = OpenStore("postgres://user:hunter2@db/x");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(store.status().message().find("postgres://user:***@db/x"), std::string::npos)
      << store.status();
  EXPECT_EQ(store.status().message().find("hunter2"), std::string::npos);
  EXPECT_EQ(OpenStore("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("sqlite:").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("sqlite://").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("sqlite://:memory:").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StoreUrlTest, MaskUrlPassword) {
  EXPECT_EQ(MaskUrlPassword("mysql://user:secret@host:3306/db"), "mysql://user:***@host:3306/db");
  EXPECT_EQ(MaskUrlPassword("mysql://user@host:3306/db"), "mysql://user@host:3306/db");
  EXPECT_EQ(MaskUrlPassword("mysql://host:3306/db"), "mysql://host:3306/db");
  EXPECT_EQ(MaskUrlPassword("mysql://user:@host/db"), "mysql://user:***@host/db");
  EXPECT_EQ(MaskUrlPassword("mysql://u:p@ss/w@rd@host/db"), "mysql://u:***@host/db");
  EXPECT_EQ(MaskUrlPassword("sqlite:///var/lib/yidi/node.db"), "sqlite:///var/lib/yidi/node.db");
  EXPECT_EQ(MaskUrlPassword("sqlite::memory:"), "sqlite::memory:");
  EXPECT_EQ(MaskUrlPassword(""), "");
}

// ---------------------------------------------------------------------------------------------
// MySQL URLs: parsed before any connection, so no server is needed.

TEST(StoreUrlTest, MysqlUrlParts) {
  auto url = ParseMysqlUrl("mysql://yidi:s3cr%40t%2Fx@db.example:3307/yidi_national?pool=16");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->user, "yidi");
  EXPECT_EQ(url->password, "s3cr@t/x");
  EXPECT_EQ(url->host, "db.example");
  EXPECT_EQ(url->port, 3307);
  EXPECT_EQ(url->database, "yidi_national");
  EXPECT_EQ(url->pool_size, 16);

  auto defaults = ParseMysqlUrl("mysql://yidi:p@w@127.0.0.1/db");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->password, "p@w");  // the user-info ends at the last '@'
  EXPECT_EQ(defaults->port, 3306);
  EXPECT_EQ(defaults->pool_size, MysqlStore::kPoolSizeDefault);

  auto ipv6 = ParseMysqlUrl("mysql://u:p@[::1]:3310/db");
  ASSERT_TRUE(ipv6.ok()) << ipv6.status();
  EXPECT_EQ(ipv6->host, "::1");
  EXPECT_EQ(ipv6->port, 3310);

  auto server_only = ParseMysqlUrl("mysql://u:p@127.0.0.1:3306/", /*database_required=*/false);
  ASSERT_TRUE(server_only.ok()) << server_only.status();
  EXPECT_EQ(server_only->database, "");
}

TEST(StoreUrlTest, MalformedMysqlUrlIsInvalidArgumentWithPasswordMasked) {
  for (const char* bad : {
           "mysql://127.0.0.1:3306/db",                  // no user
           "mysql://yidi:hunter2@127.0.0.1:3306/",       // no database
           "mysql://yidi:hunter2@127.0.0.1:3306",        // no database
           "mysql://yidi:hunter2@:3306/db",              // no host
           "mysql://yidi:hunter2@127.0.0.1:0/db",        // port 0
           "mysql://yidi:hunter2@127.0.0.1:70000/db",    // port too big
           "mysql://yidi:hunter2@127.0.0.1:x/db",        // port not a number
           "mysql://yidi:hunter2@127.0.0.1/db?pool=0",   // pool too small
           "mysql://yidi:hunter2@127.0.0.1/db?pool=65",  // pool too big
           "mysql://yidi:hunter2@127.0.0.1/db?size=2",   // unknown parameter
           "mysql://yidi:hunter2%zz@127.0.0.1/db",       // bad escape
       }) {
    auto store = OpenStore(bad);
    EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_FALSE(absl::StrContains(store.status().message(), "hunter2"))
        << bad << ": " << store.status();
  }
}

// A free loopback port with nothing listening on it (bound, read, closed).
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  close(fd);
  return ntohs(address.sin_port);
}

TEST(StoreUrlTest, UnreachableMysqlServerIsUnavailableWithPasswordMasked) {
  const std::string port = std::to_string(ClosedPort());
  auto store = OpenStore("mysql://yidi:hunter2@127.0.0.1:" + port + "/yidi_national");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable) << store.status();
  EXPECT_TRUE(absl::StrContains(store.status().message(), "127.0.0.1:" + port))
      << store.status();
  EXPECT_FALSE(absl::StrContains(store.status().message(), "hunter2")) << store.status();
}

// ---------------------------------------------------------------------------------------------
// MySQL only, on the test server.

class MysqlStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = store_testing::MysqlTestServerUrl();
    ASSERT_TRUE(server.ok()) << server.status();
    if (!server->has_value()) GTEST_SKIP() << store_testing::MysqlSkipMessage();
  }

  std::string NewUrl(const std::string& query = "") {
    auto url = databases_.NewDatabaseUrl(query);
    EXPECT_TRUE(url.ok()) << url.status();
    return url.ok() ? *url : "";
  }

  static int64_t ConnectionId(Transaction& txn) {
    auto rows = txn.Query("SELECT CONNECTION_ID()");
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? (*rows)[0].Int(0) : -1;
  }

  TestDatabases databases_{Backend::kMysql};
};

// A connection killed in the middle of a write transaction: the next statement and the commit
// answer UNAVAILABLE, nothing of the transaction is stored, and the store goes on working.
TEST_F(MysqlStoreTest, LostConnectionMidTransactionIsUnavailableAndWritesNothing) {
  std::unique_ptr<Store> store = MustOpen(NewUrl());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate(TestMigrations()).ok());
  {
    auto txn = store->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(txn.ok()) << txn.status();
    ASSERT_TRUE((*txn)->Execute("INSERT INTO item (id, name) VALUES (1, 'a')").ok());
    ASSERT_TRUE((*txn)->Execute("UPDATE counter SET value = 7 WHERE id = 1").ok());
    const absl::Status killed =
        KillMysqlConnectionForTest(databases_.server_url(), ConnectionId(**txn));
    ASSERT_TRUE(killed.ok()) << killed;
    auto next = (*txn)->Execute("INSERT INTO item (id, name) VALUES (2, 'b')");
    EXPECT_EQ(next.status().code(), absl::StatusCode::kUnavailable) << next.status();
    EXPECT_FALSE(absl::StrContains(next.status().message(), ":yidi@")) << next.status();
    const absl::Status committed = (*txn)->Commit();
    EXPECT_EQ(committed.code(), absl::StatusCode::kUnavailable) << committed;
  }
  EXPECT_EQ(CountRows(*store, "item"), 0);
  auto txn = store->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(txn.ok()) << txn.status();
  EXPECT_EQ(CounterValue(**txn), 0);
  EXPECT_EQ(*(*txn)->Execute("UPDATE counter SET value = 1 WHERE id = 1"), 1);
  EXPECT_TRUE((*txn)->Commit().ok());
}

// An idle pooled connection that died (the server restarted, or killed it) is found at Begin
// and replaced: the caller never sees it.
TEST_F(MysqlStoreTest, DeadIdleConnectionIsReplacedAtBegin) {
  std::unique_ptr<Store> store = MustOpen(NewUrl("pool=1"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate(TestMigrations()).ok());
  int64_t first_id = -1;
  {
    auto txn = store->Begin(TransactionMode::kRead);
    ASSERT_TRUE(txn.ok()) << txn.status();
    first_id = ConnectionId(**txn);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  ASSERT_TRUE(KillMysqlConnectionForTest(databases_.server_url(), first_id).ok());
  for (TransactionMode mode : {TransactionMode::kRead, TransactionMode::kWrite}) {
    auto txn = store->Begin(mode);
    ASSERT_TRUE(txn.ok()) << txn.status();
    EXPECT_NE(ConnectionId(**txn), first_id);
    EXPECT_EQ(CounterValue(**txn), 0);
    EXPECT_TRUE((*txn)->Commit().ok());
    if (mode == TransactionMode::kRead) {
      // Kill the replacement too, so that the write transaction also meets a dead connection.
      auto probe = store->Begin(TransactionMode::kRead);
      ASSERT_TRUE(probe.ok());
      first_id = ConnectionId(**probe);
      ASSERT_TRUE((*probe)->Commit().ok());
      ASSERT_TRUE(KillMysqlConnectionForTest(databases_.server_url(), first_id).ok());
    }
  }
}

// The pool never holds more connections than the URL's `pool`; a Begin beyond it waits for a
// connection to come back.
TEST_F(MysqlStoreTest, PoolSizeBoundsConnections) {
  std::unique_ptr<MysqlStore> store;
  {
    auto opened = MysqlStore::Open(NewUrl("pool=2"));
    ASSERT_TRUE(opened.ok()) << opened.status();
    store = std::move(*opened);
  }
  ASSERT_TRUE(store->Migrate(TestMigrations()).ok());
  auto first = store->Begin(TransactionMode::kRead);
  auto second = store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(first.ok() && second.ok());
  std::atomic<bool> third_begun{false};
  auto third = std::async(std::launch::async, [&store, &third_begun] {
    auto txn = store->Begin(TransactionMode::kRead);
    third_begun = true;
    return txn.ok() ? CounterValue(**txn) : -1;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(third_begun.load());  // both connections are leased
  EXPECT_EQ(store->OpenConnectionsForTest(), 2);
  ASSERT_TRUE((*first)->Commit().ok());
  ASSERT_EQ(third.wait_for(kPromptly), std::future_status::ready);
  EXPECT_EQ(third.get(), 0);
  EXPECT_EQ(store->OpenConnectionsForTest(), 2);
}

// A writer of another process (here: another store) holding the lock row past the lock wait
// limit makes Begin(kWrite) answer UNAVAILABLE, not hang.
TEST_F(MysqlStoreTest, WriterHeldTooLongElsewhereIsUnavailable) {
  const std::string url = NewUrl();
  std::unique_ptr<Store> holder = MustOpen(url);
  std::unique_ptr<Store> waiter = MustOpen(url);
  ASSERT_NE(holder, nullptr);
  ASSERT_NE(waiter, nullptr);
  auto held = holder->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(held.ok()) << held.status();
  auto refused = waiter->Begin(TransactionMode::kWrite);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
  ASSERT_TRUE((*held)->Commit().ok());
  auto after = waiter->Begin(TransactionMode::kWrite);
  EXPECT_TRUE(after.ok()) << after.status();
}

TEST_F(MysqlStoreTest, SchemaChangeInsideTransactionIsRefused) {
  std::unique_ptr<Store> store = MustOpen(NewUrl());
  ASSERT_NE(store, nullptr);
  auto txn = store->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(txn.ok());
  auto created = (*txn)->Execute("  create table x (id BIGINT NOT NULL PRIMARY KEY)");
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInternal) << created.status();
  EXPECT_TRUE(absl::StrContains(created.status().message(), "migration")) << created.status();
}

TEST_F(MysqlStoreTest, DatabaseWithoutBinaryCollationIsRefused) {
  auto server = store_testing::MysqlTestServerUrl();
  ASSERT_TRUE(server.ok() && server->has_value());
  const std::string name = "yidi_test_collation_" + std::to_string(getpid());
  ASSERT_TRUE(CreateMysqlDatabase(**server, name, "utf8mb4_general_ci").ok());
  auto store = OpenStore(**server + name);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << store.status();
  EXPECT_TRUE(absl::StrContains(store.status().message(), "utf8mb4_bin")) << store.status();
  EXPECT_TRUE(DropMysqlDatabase(**server, name).ok());
}

TEST_F(MysqlStoreTest, WrongPasswordIsUnavailableWithoutThePassword) {
  auto parsed = ParseMysqlUrl(NewUrl());
  ASSERT_TRUE(parsed.ok());
  const std::string url = "mysql://" + parsed->user + ":wrong-hunter2@" + parsed->host + ":" +
                          std::to_string(parsed->port) + "/" + parsed->database;
  auto store = OpenStore(url);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable) << store.status();
  EXPECT_TRUE(absl::StrContains(store.status().message(), "Access denied")) << store.status();
  EXPECT_FALSE(absl::StrContains(store.status().message(), "hunter2")) << store.status();
}

}  // namespace
}  // namespace yidi
