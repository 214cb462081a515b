#include "common/outbox.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status_macros.h"

namespace yidi {
namespace {

constexpr int64_t kStatePending = 0;
constexpr int64_t kStateParked = 1;

std::string Truncate(absl::string_view text) {
  if (text.size() <= static_cast<size_t>(kOutboxErrorLengthMax)) return std::string(text);
  // Cut on a UTF-8 boundary: drop continuation bytes at the cut.
  size_t cut = kOutboxErrorLengthMax;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut));
}

// "?, ?, ?" and the ids as parameters.
std::string Placeholders(size_t count) {
  std::vector<std::string> marks(count, "?");
  return absl::StrJoin(marks, ", ");
}

}  // namespace

std::vector<std::string> OutboxSchemaStatements() {
  return {
      "CREATE TABLE outbox ("
      " outbox_id BIGINT NOT NULL PRIMARY KEY,"
      " topic VARCHAR(32) NOT NULL,"
      " payload MEDIUMTEXT NOT NULL,"
      " state INTEGER NOT NULL,"
      " attempts BIGINT NOT NULL,"
      " last_error VARCHAR(400) NOT NULL,"
      " created_at VARCHAR(32) NOT NULL)",
      "CREATE INDEX outbox_by_topic ON outbox (topic, state, outbox_id)",
  };
}

absl::StatusOr<int64_t> EnqueueOutbox(Transaction& tx, absl::string_view topic,
                                      const google::protobuf::Message& payload, absl::Time now) {
  YIDI_CHECK(!topic.empty() && topic.size() <= static_cast<size_t>(kOutboxTopicLengthMax),
             "outbox topics are short constant names");
  std::string bytes;
  YIDI_CHECK(payload.SerializeToString(&bytes), "an outbox payload serialises");
  // Ids come from the table itself (portable SQL has no AUTOINCREMENT); write transactions are
  // serialised, so two writers never take the same one.
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT MAX(outbox_id) FROM outbox"));
  const int64_t id = (rows.empty() || rows.front().IsNull(0)) ? 1 : rows.front().Int(0) + 1;
  RETURN_IF_ERROR(tx.Execute("INSERT INTO outbox (outbox_id, topic, payload, state, attempts, "
                             "last_error, created_at) VALUES (?, ?, ?, ?, 0, '', ?)",
                             {id, std::string(topic), absl::Base64Escape(bytes), kStatePending,
                              FormatCstTimestamp(now)})
                      .status());
  return id;
}

absl::StatusOr<std::vector<OutboxRow>> ReadPendingOutbox(Transaction& tx, absl::string_view topic,
                                                         int limit) {
  YIDI_CHECK(limit > 0 && limit <= kOutboxBatchRowsMax, "a batch is bounded");
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(absl::StrCat("SELECT outbox_id, topic, payload, created_at, attempts "
                                         "FROM outbox WHERE topic = ? AND state = ? "
                                         "ORDER BY outbox_id LIMIT ",
                                         limit),
                            {std::string(topic), kStatePending}));
  std::vector<OutboxRow> pending;
  pending.reserve(rows.size());
  for (const Row& row : rows) {
    OutboxRow out;
    out.outbox_id = row.Int(0);
    out.topic = row.Text(1);
    if (!absl::Base64Unescape(row.Text(2), &out.payload)) {
      return absl::InternalError(absl::StrCat("outbox row ", out.outbox_id, ": corrupt payload"));
    }
    out.created_at = row.Text(3);
    out.attempts = row.Int(4);
    pending.push_back(std::move(out));
  }
  return pending;
}

absl::Status DeleteOutboxRows(Transaction& tx, const std::vector<int64_t>& ids) {
  if (ids.empty()) return absl::OkStatus();
  std::vector<SqlValue> params(ids.begin(), ids.end());
  ASSIGN_OR_RETURN(int64_t deleted,
                   tx.Execute(absl::StrCat("DELETE FROM outbox WHERE outbox_id IN (",
                                           Placeholders(ids.size()), ")"),
                              params));
  YIDI_CHECK(deleted == static_cast<int64_t>(ids.size()),
             "only this node's one sender deletes its rows, once each");
  return absl::OkStatus();
}

absl::Status RecordOutboxFailure(Transaction& tx, const std::vector<int64_t>& ids,
                                 absl::string_view error) {
  if (ids.empty()) return absl::OkStatus();
  std::vector<SqlValue> params = {Truncate(error)};
  params.insert(params.end(), ids.begin(), ids.end());
  return tx.Execute(absl::StrCat("UPDATE outbox SET attempts = attempts + 1, last_error = ? "
                                 "WHERE outbox_id IN (",
                                 Placeholders(ids.size()), ")"),
                    params)
      .status();
}

absl::Status ParkOutboxRow(Transaction& tx, int64_t id, absl::string_view error) {
  return tx.Execute("UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ? "
                    "WHERE outbox_id = ?",
                    {kStateParked, Truncate(error), id})
      .status();
}

absl::StatusOr<OutboxStats> ReadOutboxStats(Transaction& tx, absl::string_view topic) {
  OutboxStats stats;
  ASSIGN_OR_RETURN(auto counts,
                   tx.Query("SELECT state, COUNT(*), MIN(created_at) FROM outbox WHERE topic = ? "
                            "GROUP BY state",
                            {std::string(topic)}));
  for (const Row& row : counts) {
    if (row.Int(0) == kStatePending) {
      stats.pending = row.Int(1);
      stats.oldest_pending_at = row.Text(2);
    } else if (row.Int(0) == kStateParked) {
      stats.parked = row.Int(1);
    }
  }
  ASSIGN_OR_RETURN(auto errors,
                   tx.Query("SELECT last_error FROM outbox WHERE topic = ? AND last_error <> '' "
                            "ORDER BY outbox_id LIMIT 1",
                            {std::string(topic)}));
  if (!errors.empty()) stats.last_error = errors.front().Text(0);
  return stats;
}

OutboxSender::OutboxSender(Store* store, Options options, Deliver deliver)
    : store_(store), options_(std::move(options)), deliver_(std::move(deliver)) {
  YIDI_CHECK(store_ != nullptr && deliver_ != nullptr, "a sender has a store and a receiver");
  YIDI_CHECK(options_.call_deadline > absl::ZeroDuration(), "every call has a deadline");
}

OutboxSender::~OutboxSender() { Stop(); }

void OutboxSender::Start() {
  YIDI_CHECK(!thread_.joinable(), "a sender starts once");
  thread_ = std::thread([this] { Run(); });
}

void OutboxSender::Notify() {
  absl::MutexLock lock(&mutex_);
  notified_ = true;
}

void OutboxSender::Stop() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
    if (in_flight_ != nullptr) in_flight_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

int64_t OutboxSender::delivered_count() const {
  absl::MutexLock lock(&mutex_);
  return delivered_;
}

bool OutboxSender::Woken() const { return stopping_ || (wake_on_notify_ && notified_); }

bool OutboxSender::Wait(absl::Duration timeout, bool wake_on_notify) {
  absl::MutexLock lock(&mutex_);
  wake_on_notify_ = wake_on_notify;
  mutex_.AwaitWithTimeout(absl::Condition(this, &OutboxSender::Woken), timeout);
  notified_ = false;
  return !stopping_;
}

absl::Status OutboxSender::Call(const std::vector<OutboxRow>& rows) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(options_.call_deadline));
  {
    absl::MutexLock lock(&mutex_);
    if (stopping_) return absl::CancelledError("the sender is stopping");
    in_flight_ = &context;
  }
  absl::Status status = deliver_(rows, context);
  absl::MutexLock lock(&mutex_);
  in_flight_ = nullptr;
  return status;
}

void OutboxSender::SendIndividually(const std::vector<OutboxRow>& rows) {
  for (const OutboxRow& row : rows) {
    const absl::Status status = Call({row});
    auto tx = store_->Begin(TransactionMode::kWrite);
    if (!tx.ok()) return;  // the next pass reads the rows again
    absl::Status written;
    if (status.ok()) {
      written = DeleteOutboxRows(**tx, {row.outbox_id});
    } else if (IsDefinitiveRefusal(status.code())) {
      LogError("%s: row %d refused, parked: %s", options_.name, row.outbox_id, status.ToString());
      written = ParkOutboxRow(**tx, row.outbox_id, status.ToString());
    } else {
      (void)RecordOutboxFailure(**tx, {row.outbox_id}, status.ToString());
      (void)(*tx)->Commit();
      return;  // a transient failure: the normal backoff takes over
    }
    if (written.ok()) written = (*tx)->Commit();
    if (!written.ok()) {
      LogWarning("%s: cannot record the outcome of row %d: %s", options_.name, row.outbox_id,
                 written.ToString());
      return;
    }
    if (status.ok()) {
      absl::MutexLock lock(&mutex_);
      ++delivered_;
    }
  }
}

OutboxSender::Pass OutboxSender::SendOnce() {
  std::vector<OutboxRow> rows;
  {
    auto tx = store_->Begin(TransactionMode::kRead);
    if (!tx.ok()) {
      LogWarning("%s: cannot read the outbox: %s", options_.name, tx.status().ToString());
      return Pass::kFailed;
    }
    auto pending = ReadPendingOutbox(**tx, options_.topic, kOutboxBatchRowsMax);
    if (!pending.ok()) {
      LogWarning("%s: cannot read the outbox: %s", options_.name, pending.status().ToString());
      return Pass::kFailed;
    }
    rows = std::move(*pending);
  }
  if (rows.empty()) return Pass::kIdle;
  const absl::Status status = Call(rows);
  if (absl::IsCancelled(status)) return Pass::kFailed;  // stopping, or cancelled mid-call
  std::vector<int64_t> ids;
  for (const OutboxRow& row : rows) ids.push_back(row.outbox_id);
  if (status.ok()) {
    auto tx = store_->Begin(TransactionMode::kWrite);
    absl::Status deleted = tx.ok() ? DeleteOutboxRows(**tx, ids) : tx.status();
    if (deleted.ok()) deleted = (*tx)->Commit();
    if (!deleted.ok()) {
      // Delivered but still listed: they go again, and the receiver sees duplicates.
      LogWarning("%s: cannot remove delivered rows: %s", options_.name, deleted.ToString());
      return Pass::kFailed;
    }
    absl::MutexLock lock(&mutex_);
    delivered_ += static_cast<int64_t>(ids.size());
    return Pass::kSent;
  }
  if (IsDefinitiveRefusal(status.code())) {
    if (rows.size() > 1) {
      LogWarning("%s: a batch of %d rows was refused (%s); sending them one by one",
                 options_.name, rows.size(), status.ToString());
    }
    SendIndividually(rows);  // delivers the good ones, parks each one refused alone
    return Pass::kSent;
  }
  LogWarning("%s: delivery of %d rows failed: %s", options_.name, rows.size(),
             status.ToString());
  if (auto tx = store_->Begin(TransactionMode::kWrite); tx.ok()) {
    if (RecordOutboxFailure(**tx, ids, status.ToString()).ok()) (void)(*tx)->Commit();
  }
  return Pass::kFailed;
}

void OutboxSender::Run() {
  if (options_.start_delay > absl::ZeroDuration() &&
      !Wait(options_.start_delay, /*wake_on_notify=*/true)) {
    return;
  }
  absl::Duration backoff = kOutboxRetryDelayMin;
  absl::Time next_tick = absl::Now();
  for (;;) {
    {
      absl::MutexLock lock(&mutex_);
      if (stopping_) return;
    }
    if (options_.tick && absl::Now() >= next_tick) {
      options_.tick();
      next_tick = absl::Now() + options_.tick_interval;
    }
    absl::Duration wait = kOutboxIdlePoll;
    bool wake_on_notify = true;
    switch (SendOnce()) {
      case Pass::kSent:
        backoff = kOutboxRetryDelayMin;
        continue;
      case Pass::kIdle:
        backoff = kOutboxRetryDelayMin;
        break;
      case Pass::kFailed:
        // The parent is failing: rows committed meanwhile wait for the backoff too.
        wait = backoff;
        wake_on_notify = false;
        backoff = std::min(backoff * 2, kOutboxRetryDelayMax);
        break;
    }
    if (options_.tick) {
      wait = std::min(wait, std::max(absl::ZeroDuration(), next_tick - absl::Now()));
    }
    if (!Wait(wait, wake_on_notify)) return;
  }
}

}  // namespace yidi
