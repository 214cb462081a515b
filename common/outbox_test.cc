// Tests for common/outbox.h: rows written in the caller's transaction (and gone with it on
// rollback), delivered at least once in order, retried after transient failures, parked when
// the receiver refuses one on its merits, and kept when the sender stops.
#include "common/outbox.h"

#include <atomic>
#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "yidi/v1/person.pb.h"

namespace yidi {
namespace {

constexpr char kTopic[] = "test-topic";
// How long a test waits for the background thread: far above what it needs.
constexpr absl::Duration kWaitMax = absl::Seconds(20);

std::unique_ptr<Store> OpenOutboxStore() {
  auto store = OpenStore("sqlite::memory:");
  EXPECT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->Migrate({{1, "outbox", OutboxSchemaStatements()}}).ok());
  return *std::move(store);
}

yidi::v1::Filing Payload(int n) {
  yidi::v1::Filing filing;
  filing.set_filing_id(absl::StrCat("F-", n));
  filing.set_version(n);
  return filing;
}

void Enqueue(Store& store, int n) {
  auto tx = store.Begin(TransactionMode::kWrite);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE(EnqueueOutbox(**tx, kTopic, Payload(n), absl::Now()).ok());
  ASSERT_TRUE((*tx)->Commit().ok());
}

OutboxStats Stats(Store& store) {
  auto tx = store.Begin(TransactionMode::kRead);
  EXPECT_TRUE(tx.ok());
  auto stats = ReadOutboxStats(**tx, kTopic);
  EXPECT_TRUE(stats.ok()) << stats.status();
  return *stats;
}

bool WaitFor(const std::function<bool()>& done) {
  const absl::Time give_up = absl::Now() + kWaitMax;
  while (absl::Now() < give_up) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return done();
}

// A receiver that records what it got and fails as told.
class FakeReceiver {
 public:
  absl::Status Deliver(const std::vector<OutboxRow>& rows) {
    absl::MutexLock lock(&mutex_);
    ++calls_;
    if (failures_left_ > 0) {
      --failures_left_;
      return absl::UnavailableError("parent down");
    }
    for (const OutboxRow& row : rows) {
      yidi::v1::Filing filing;
      EXPECT_TRUE(filing.ParseFromString(row.payload));
      if (filing.filing_id() == poison_) return absl::InvalidArgumentError("refused on merits");
    }
    for (const OutboxRow& row : rows) {
      yidi::v1::Filing filing;
      filing.ParseFromString(row.payload);
      received_.push_back(filing.filing_id());
    }
    return absl::OkStatus();
  }
  void FailNext(int count) {
    absl::MutexLock lock(&mutex_);
    failures_left_ = count;
  }
  void Poison(std::string id) {
    absl::MutexLock lock(&mutex_);
    poison_ = std::move(id);
  }
  std::vector<std::string> received() {
    absl::MutexLock lock(&mutex_);
    return received_;
  }
  int calls() {
    absl::MutexLock lock(&mutex_);
    return calls_;
  }

 private:
  absl::Mutex mutex_;
  int failures_left_ = 0;
  int calls_ = 0;
  std::string poison_;
  std::vector<std::string> received_;
};

OutboxSender::Options TestOptions() {
  OutboxSender::Options options;
  options.topic = kTopic;
  options.name = "test sender";
  options.call_deadline = absl::Seconds(1);
  options.start_delay = absl::ZeroDuration();
  return options;
}

TEST(OutboxTest, RowsBelongToTheirTransaction) {
  auto store = OpenOutboxStore();
  {
    auto tx = store->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(EnqueueOutbox(**tx, kTopic, Payload(1), absl::Now()).ok());
    // Destroyed without Commit: rolled back with the change it announced.
  }
  EXPECT_EQ(Stats(*store).pending, 0);
  Enqueue(*store, 1);
  Enqueue(*store, 2);
  auto tx = store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(tx.ok());
  auto rows = ReadPendingOutbox(**tx, kTopic, kOutboxBatchRowsMax);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_LT((*rows)[0].outbox_id, (*rows)[1].outbox_id);
  yidi::v1::Filing first;
  ASSERT_TRUE(first.ParseFromString((*rows)[0].payload));
  EXPECT_EQ(first.filing_id(), "F-1");
  auto other = ReadPendingOutbox(**tx, "other-topic", kOutboxBatchRowsMax);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());
}

TEST(OutboxSenderTest, DeliversInOrderAndDeletes) {
  auto store = OpenOutboxStore();
  for (int i = 1; i <= 5; ++i) Enqueue(*store, i);
  FakeReceiver receiver;
  OutboxSender sender(store.get(), TestOptions(),
                      [&](const std::vector<OutboxRow>& rows, grpc::ClientContext&) {
                        return receiver.Deliver(rows);
                      });
  sender.Start();
  ASSERT_TRUE(WaitFor([&] { return Stats(*store).pending == 0; }));
  EXPECT_THAT(receiver.received(),
              ::testing::ElementsAre("F-1", "F-2", "F-3", "F-4", "F-5"));
  EXPECT_EQ(sender.delivered_count(), 5);
  // A row committed later is picked up on Notify.
  Enqueue(*store, 6);
  sender.Notify();
  ASSERT_TRUE(WaitFor([&] { return receiver.received().size() == 6; }));
}

TEST(OutboxSenderTest, RetriesTransientFailuresWithBackoff) {
  auto store = OpenOutboxStore();
  Enqueue(*store, 1);
  FakeReceiver receiver;
  receiver.FailNext(3);
  OutboxSender sender(store.get(), TestOptions(),
                      [&](const std::vector<OutboxRow>& rows, grpc::ClientContext&) {
                        return receiver.Deliver(rows);
                      });
  const absl::Time started = absl::Now();
  sender.Start();
  ASSERT_TRUE(WaitFor([&] { return Stats(*store).pending == 0; }));
  // Three failures wait 100 + 200 + 400 ms before the fourth call succeeds.
  EXPECT_GE(absl::Now() - started, absl::Milliseconds(600));
  EXPECT_EQ(receiver.calls(), 4);
  EXPECT_THAT(receiver.received(), ::testing::ElementsAre("F-1"));
}

TEST(OutboxSenderTest, ParksWhatTheReceiverRefusesAndDeliversTheRest) {
  auto store = OpenOutboxStore();
  for (int i = 1; i <= 3; ++i) Enqueue(*store, i);
  FakeReceiver receiver;
  receiver.Poison("F-2");
  OutboxSender sender(store.get(), TestOptions(),
                      [&](const std::vector<OutboxRow>& rows, grpc::ClientContext&) {
                        return receiver.Deliver(rows);
                      });
  sender.Start();
  ASSERT_TRUE(WaitFor([&] { return Stats(*store).pending == 0; }));
  EXPECT_THAT(receiver.received(), ::testing::ElementsAre("F-1", "F-3"));
  const OutboxStats stats = Stats(*store);
  EXPECT_EQ(stats.parked, 1);
  EXPECT_THAT(stats.last_error, ::testing::HasSubstr("refused on merits"));
}

TEST(OutboxSenderTest, StopKeepsUndeliveredRowsForTheNextStart) {
  auto store = OpenOutboxStore();
  Enqueue(*store, 1);
  FakeReceiver receiver;
  receiver.FailNext(1000);
  {
    OutboxSender sender(store.get(), TestOptions(),
                        [&](const std::vector<OutboxRow>& rows, grpc::ClientContext&) {
                          return receiver.Deliver(rows);
                        });
    sender.Start();
    ASSERT_TRUE(WaitFor([&] { return receiver.calls() >= 2; }));
  }  // stopped while retrying
  OutboxStats stats = Stats(*store);
  EXPECT_EQ(stats.pending, 1);
  EXPECT_THAT(stats.last_error, ::testing::HasSubstr("parent down"));
  receiver.FailNext(0);
  OutboxSender again(store.get(), TestOptions(),
                     [&](const std::vector<OutboxRow>& rows, grpc::ClientContext&) {
                       return receiver.Deliver(rows);
                     });
  again.Start();
  ASSERT_TRUE(WaitFor([&] { return Stats(*store).pending == 0; }));
  EXPECT_THAT(receiver.received(), ::testing::ElementsAre("F-1"));
}

TEST(OutboxSenderTest, TickRunsOnTheSendingThread) {
  auto store = OpenOutboxStore();
  std::atomic<int> ticks{0};
  OutboxSender::Options options = TestOptions();
  options.tick = [&] { ++ticks; };
  options.tick_interval = absl::Milliseconds(20);
  OutboxSender sender(store.get(), options,
                      [](const std::vector<OutboxRow>&, grpc::ClientContext&) {
                        return absl::OkStatus();
                      });
  sender.Start();
  EXPECT_TRUE(WaitFor([&] { return ticks.load() >= 3; }));
}

}  // namespace
}  // namespace yidi
