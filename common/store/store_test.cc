// Tests of the Store contract on the SQLite backend: migrations, value round trips, errors,
// rollback, durability across reopen, serialised writers and non-blocking readers.
#include "common/store/store.h"

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

// A fresh directory under /tmp, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/yidi_store_test_XXXXXX";
    const char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string FileUrl(const std::string& name) const { return "sqlite://" + path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<Store> MustOpen(const std::string& url) {
  absl::StatusOr<std::unique_ptr<Store>> store = OpenStore(url);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

const std::vector<Migration>& TestMigrations() {
  static const auto* const kMigrations = new std::vector<Migration>{
      {1, "create item", {"CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"}},
      {2,
       "create counter with its one row",
       {"CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)",
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

int64_t CounterValue(Transaction& txn) {
  absl::StatusOr<std::vector<Row>> rows = txn.Query("SELECT value FROM counter WHERE id = 1");
  EXPECT_TRUE(rows.ok()) << rows.status();
  return rows.ok() && rows->size() == 1 ? (*rows)[0].Int(0) : -1;
}

TEST(StoreTest, MigrationsAppliedOnceAndIdempotent) {
  std::unique_ptr<Store> store = MustOpen("sqlite::memory:");
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

TEST(StoreTest, FailedMigrationLeavesNothingAndIsNotRecorded) {
  std::unique_ptr<Store> store = MustOpen("sqlite::memory:");
  ASSERT_NE(store, nullptr);
  std::vector<Migration> broken = {
      {1, "half good", {"CREATE TABLE good (id INTEGER PRIMARY KEY)", "NOT SQL AT ALL"}}};
  const absl::Status status = store->Migrate(broken);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_NE(status.message().find("migration 1 (half good)"), std::string::npos) << status;
  EXPECT_EQ(CountRows(*store, "schema_migrations"), 0);
  auto txn = store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(txn.ok());
  auto tables = (*txn)->Query("SELECT name FROM sqlite_master WHERE name = 'good'");
  ASSERT_TRUE(tables.ok());
  EXPECT_TRUE(tables->empty());  // the DDL was rolled back with the failed step
}

TEST(StoreTest, ValuesRoundTrip) {
  std::unique_ptr<Store> store = MustOpen("sqlite::memory:");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate({{1, "values", {"CREATE TABLE v (k INTEGER PRIMARY KEY, "
                                             "i INTEGER, t TEXT)"}}})
                  .ok());
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  const std::string chinese = "异地就医直接结算：壹佰元整";
  {
    auto txn = store->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(txn.ok());
    const std::string insert = "INSERT INTO v (k, i, t) VALUES (?, ?, ?)";
    EXPECT_EQ(*(*txn)->Execute(insert, {int64_t{1}, kMax, chinese}), 1);
    EXPECT_EQ(*(*txn)->Execute(insert, {int64_t{2}, kMin, std::string()}), 1);
    EXPECT_EQ(*(*txn)->Execute(insert, {int64_t{3}, int64_t{-42}, std::monostate{}}), 1);
    EXPECT_EQ(*(*txn)->Execute(insert, {int64_t{4}, std::monostate{}, std::string("x")}), 1);
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto txn = store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(txn.ok());
  auto rows = (*txn)->Query("SELECT k, i, t FROM v ORDER BY k");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 4u);
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
  // A parameter reads back as the same value.
  auto found = (*txn)->Query("SELECT k FROM v WHERE t = ?", {chinese});
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].Int(0), 1);
}

TEST(StoreTest, ExecuteReturnsRowsChanged) {
  std::unique_ptr<Store> store = MustOpen("sqlite::memory:");
  ASSERT_NE(store, nullptr);
  auto txn = store->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(*(*txn)->Execute("CREATE TABLE n (id INTEGER PRIMARY KEY, x INTEGER)"), 0);
  EXPECT_EQ(*(*txn)->Execute("INSERT INTO n (x) VALUES (1), (1), (2)"), 3);
  EXPECT_EQ(*(*txn)->Execute("CREATE INDEX n_x ON n (x)"), 0);  // not the stale 3
  EXPECT_EQ(*(*txn)->Execute("UPDATE n SET x = 5 WHERE x = 1"), 2);
  EXPECT_EQ(*(*txn)->Execute("DELETE FROM n WHERE x = 99"), 0);
  EXPECT_TRUE((*txn)->Commit().ok());
}

TEST(StoreTest, FloatingPointColumnIsInternal) {
  std::unique_ptr<Store> store = MustOpen("sqlite::memory:");
  ASSERT_NE(store, nullptr);
  auto txn = store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(txn.ok());
  auto rows = (*txn)->Query("SELECT 1.5");
  EXPECT_EQ(rows.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(rows.status().message().find("floating-point column"), std::string::npos);
}

TEST(StoreTest, UniqueViolationIsAlreadyExistsAndWritesNothing) {
  std::unique_ptr<Store> store = MustOpen("sqlite::memory:");
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

TEST(StoreTest, DestructionWithoutCommitRollsBack) {
  std::unique_ptr<Store> store = MustOpen("sqlite::memory:");
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

TEST(StoreTest, ReadTransactionCannotWrite) {
  TempDir dir;
  for (const std::string& url : {std::string("sqlite::memory:"), dir.FileUrl("ro.db")}) {
    std::unique_ptr<Store> store = MustOpen(url);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Migrate(TestMigrations()).ok());
    {
      auto txn = store->Begin(TransactionMode::kRead);
      ASSERT_TRUE(txn.ok());
      EXPECT_FALSE((*txn)->Execute("UPDATE counter SET value = 9").ok()) << url;
    }
    // The writer still writes after an in-memory read guarded it.
    auto txn = store->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(txn.ok());
    EXPECT_EQ(*(*txn)->Execute("UPDATE counter SET value = 9"), 1) << url;
    EXPECT_TRUE((*txn)->Commit().ok());
  }
}

TEST(StoreTest, CommitPersistsAcrossReopen) {
  TempDir dir;
  const std::string url = dir.FileUrl("persist.db");
  {
    std::unique_ptr<Store> store = MustOpen(url);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->DisplayUrl(), url);
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
  auto journal = (*txn)->Query("PRAGMA journal_mode");
  ASSERT_TRUE(journal.ok());
  EXPECT_EQ((*journal)[0].Text(0), "wal");
}

TEST(StoreTest, RelativePathIsFromWorkingDirectory) {
  TempDir dir;
  const std::filesystem::path relative =
      std::filesystem::relative(std::filesystem::path(dir.path()) / "relative.db");
  ASSERT_FALSE(relative.is_absolute());
  std::unique_ptr<Store> store = MustOpen("sqlite://" + relative.string());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate(TestMigrations()).ok());
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(dir.path()) / "relative.db"));
}

TEST(StoreTest, InMemoryStoresArePrivate) {
  std::unique_ptr<Store> first = MustOpen("sqlite::memory:");
  std::unique_ptr<Store> second = MustOpen("sqlite::memory:");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->Migrate(TestMigrations()).ok());
  auto txn = second->Begin(TransactionMode::kRead);
  ASSERT_TRUE(txn.ok());
  auto tables = (*txn)->Query("SELECT name FROM sqlite_master WHERE name = 'counter'");
  ASSERT_TRUE(tables.ok());
  EXPECT_TRUE(tables->empty());
}

// 8 threads x 500 read-modify-write increments: serialised writers lose no update.
void RunConcurrentIncrements(const std::string& url) {
  std::unique_ptr<Store> store = MustOpen(url);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate(TestMigrations()).ok());
  constexpr int kThreads = 8;
  constexpr int kIncrementsPerThread = 500;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, &failures] {
      for (int i = 0; i < kIncrementsPerThread; ++i) {
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
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto txn = store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(CounterValue(**txn), int64_t{kThreads} * kIncrementsPerThread) << url;
}

TEST(StoreTest, ConcurrentIncrementsLoseNoUpdateInMemory) {
  RunConcurrentIncrements("sqlite::memory:");
}

TEST(StoreTest, ConcurrentIncrementsLoseNoUpdateOnFile) {
  TempDir dir;
  RunConcurrentIncrements(dir.FileUrl("counter.db"));
}

TEST(StoreTest, ReadsRunWhileWriteTransactionOpen) {
  TempDir dir;
  std::unique_ptr<Store> store = MustOpen(dir.FileUrl("readers.db"));
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
    ASSERT_EQ(read.wait_for(std::chrono::seconds(3)), std::future_status::ready);
    EXPECT_EQ(read.get(), 0);
  }

  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(CounterValue(**early_reader), 0);  // its snapshot holds
  EXPECT_TRUE((*early_reader)->Commit().ok());
  auto late_reader = store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(late_reader.ok());
  EXPECT_EQ(CounterValue(**late_reader), 1);
}

TEST(StoreTest, UnknownSchemeIsInvalidArgument) {
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

TEST(StoreTest, MysqlIsNotBuiltYet) {
  auto store = OpenStore("mysql://user:secret@127.0.0.1:3306/yidi");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(store.status().message().find("secret"), std::string::npos);
}

TEST(StoreTest, UnopenablePathIsUnavailable) {
  auto store = OpenStore("sqlite:///nonexistent-dir/x.db");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(store.status().message().find("/nonexistent-dir/x.db"), std::string::npos)
      << store.status();
}

TEST(StoreTest, MaskUrlPassword) {
  EXPECT_EQ(MaskUrlPassword("mysql://user:secret@host:3306/db"), "mysql://user:***@host:3306/db");
  EXPECT_EQ(MaskUrlPassword("mysql://user@host:3306/db"), "mysql://user@host:3306/db");
  EXPECT_EQ(MaskUrlPassword("mysql://host:3306/db"), "mysql://host:3306/db");
  EXPECT_EQ(MaskUrlPassword("mysql://user:@host/db"), "mysql://user:***@host/db");
  EXPECT_EQ(MaskUrlPassword("mysql://u:p@ss/w@rd@host/db"), "mysql://u:***@host/db");
  EXPECT_EQ(MaskUrlPassword("sqlite:///var/lib/yidi/node.db"), "sqlite:///var/lib/yidi/node.db");
  EXPECT_EQ(MaskUrlPassword("sqlite::memory:"), "sqlite::memory:");
  EXPECT_EQ(MaskUrlPassword(""), "");
}

TEST(StoreDeathTest, CommitTwiceAborts) {
  std::unique_ptr<Store> store = MustOpen("sqlite::memory:");
  ASSERT_NE(store, nullptr);
  auto txn = store->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_DEATH((*txn)->Commit().IgnoreError(), "Commit is called at most once");
}

TEST(StoreDeathTest, MigrationVersionsMustIncrease) {
  std::unique_ptr<Store> store = MustOpen("sqlite::memory:");
  ASSERT_NE(store, nullptr);
  std::vector<Migration> unordered = {{2, "b", {}}, {1, "a", {}}};
  EXPECT_DEATH(store->Migrate(unordered).IgnoreError(), "strictly increasing");
}

TEST(StoreDeathTest, SecondWriteOnSameThreadAborts) {
  std::unique_ptr<Store> store = MustOpen("sqlite::memory:");
  ASSERT_NE(store, nullptr);
  auto txn = store->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(txn.ok());
  EXPECT_DEATH(store->Begin(TransactionMode::kWrite).IgnoreError(), "wait for itself");
}

}  // namespace
}  // namespace yidi
