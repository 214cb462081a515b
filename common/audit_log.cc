#include "common/audit_log.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/id_number.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"

namespace yidi {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Rows per write transaction: bounds the time one batch holds the write lock.
constexpr size_t kAuditBatchRowsMax = 256;
constexpr int kAuditListLimitDefault = 100;
constexpr int kAuditListLimitMax = 1000;
// Column widths (portable VARCHAR); longer values are cut, never refused: the call happened.
constexpr size_t kAuditIdsLengthMax = 400;
constexpr size_t kAuditMessageLengthMax = 400;
constexpr size_t kAuditCallerLengthMax = 200;
constexpr size_t kAuditMethodLengthMax = 200;

std::string Cut(std::string text, size_t max) {
  if (text.size() <= max) return text;
  // Do not cut a UTF-8 sequence in half.
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

bool IsIdField(absl::string_view name) {
  return absl::EndsWith(name, "_id") || absl::EndsWith(name, "_code") ||
         absl::EndsWith(name, "_number") || name == "region";
}

void CollectIds(const Message& message, const std::string& prefix, int depth, std::string* out) {
  const auto* descriptor = message.GetDescriptor();
  const auto* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (field->is_repeated()) continue;
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING && IsIdField(field->name())) {
      std::string value = reflection->GetString(message, field);
      if (value.empty()) continue;
      if (field->name() == "id_number") value = MaskIdNumber(value);
      if (!out->empty()) out->push_back(' ');
      absl::StrAppend(out, prefix, field->name(), "=", value);
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && depth < 2 &&
               reflection->HasField(message, field)) {
      CollectIds(reflection->GetMessage(message, field),
                 absl::StrCat(prefix, field->name(), "."), depth + 1, out);
    }
  }
}

}  // namespace

std::vector<Migration> AuditLogMigrations() {
  return {{400,
           "audit_log: one row per state-changing call and per refusal",
           {"CREATE TABLE audit_log ("
            " sequence BIGINT NOT NULL PRIMARY KEY,"
            " logged_at VARCHAR(32) NOT NULL,"
            " caller VARCHAR(200) NOT NULL,"
            " method VARCHAR(200) NOT NULL,"
            " ids VARCHAR(400) NOT NULL,"
            " outcome VARCHAR(32) NOT NULL,"
            " message VARCHAR(400) NOT NULL)",
            "CREATE INDEX audit_log_by_caller ON audit_log (caller, sequence)"}}};
}

std::string MaskIdNumbersIn(absl::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && (absl::ascii_isdigit(static_cast<unsigned char>(text[j])) ||
                               text[j] == 'X' || text[j] == 'x')) {
      ++j;
    }
    const size_t run = j - i;
    if (run >= 15 && run <= 18) {
      absl::StrAppend(&out, MaskIdNumber(text.substr(i, run)));
      i = j;
    } else if (run > 0) {
      absl::StrAppend(&out, text.substr(i, run));
      i = j;
    } else {
      out.push_back(text[i]);
      ++i;
    }
  }
  return out;
}

std::string RequestIds(const Message& request) {
  std::string out;
  CollectIds(request, "", 0, &out);
  return out;
}

AuditLog::AuditLog(Store* store) : store_(store) {
  writer_ = std::thread([this] { WriterLoop(); });
}

AuditLog::~AuditLog() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  writer_.join();
}

void AuditLog::Append(AuditEntry entry) {
  entry.ids = Cut(MaskIdNumbersIn(entry.ids), kAuditIdsLengthMax);
  entry.message = Cut(MaskIdNumbersIn(entry.message), kAuditMessageLengthMax);
  entry.caller = Cut(std::move(entry.caller), kAuditCallerLengthMax);
  entry.method = Cut(std::move(entry.method), kAuditMethodLengthMax);
  absl::MutexLock lock(&mutex_);
  queue_.push_back(std::move(entry));
  ++appended_;
}

void AuditLog::Flush() {
  absl::MutexLock lock(&mutex_);
  const int64_t target = appended_;
  auto done = [this, target]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return written_ >= target;
  };
  mutex_.Await(absl::Condition(&done));
}

void AuditLog::WriterLoop() {
  for (;;) {
    std::vector<AuditEntry> batch;
    {
      absl::MutexLock lock(&mutex_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
        return stopping_ || !queue_.empty();
      };
      mutex_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, and everything is written
      while (!queue_.empty() && batch.size() < kAuditBatchRowsMax) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    absl::Status written = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(auto tx, store_->Begin(TransactionMode::kWrite));
      ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT MAX(sequence) FROM audit_log"));
      int64_t next = (rows.empty() || rows.front().IsNull(0)) ? 1 : rows.front().Int(0) + 1;
      for (const AuditEntry& entry : batch) {
        RETURN_IF_ERROR(tx->Execute(
                              "INSERT INTO audit_log (sequence, logged_at, caller, method, ids, "
                              "outcome, message) VALUES (?, ?, ?, ?, ?, ?, ?)",
                              {next++, FormatCstTimestamp(entry.time), entry.caller,
                               entry.method, entry.ids, entry.outcome, entry.message})
                            .status());
      }
      return tx->Commit();
    }();
    if (!written.ok()) {
      // The calls themselves are stored; say loudly that their audit rows are not.
      LogError("audit log: %d rows not written: %s", static_cast<int>(batch.size()),
               std::string(written.message()));
    }
    absl::MutexLock lock(&mutex_);
    written_ += static_cast<int64_t>(batch.size());
  }
}

absl::StatusOr<std::vector<yidi::v1::AuditRecord>> ListAuditRecords(
    Store& store, const yidi::v1::ListAuditRecordsRequest& request) {
  int limit = request.limit() == 0 ? kAuditListLimitDefault : request.limit();
  if (limit < 0 || limit > kAuditListLimitMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit: must be 0..", kAuditListLimitMax, ", is ", request.limit()));
  }
  std::string sql =
      "SELECT sequence, logged_at, caller, method, ids, outcome, message FROM audit_log "
      "WHERE sequence > ?";
  std::vector<SqlValue> params = {request.after_sequence()};
  if (!request.caller().empty()) {
    sql += " AND caller = ?";
    params.push_back(request.caller());
  }
  // Substring filters in C++: LIKE escapes differ between SQLite and MySQL.
  sql += " ORDER BY sequence";
  ASSIGN_OR_RETURN(auto tx, store.Begin(TransactionMode::kRead));
  ASSIGN_OR_RETURN(auto rows, tx->Query(sql, params));
  std::vector<yidi::v1::AuditRecord> records;
  for (const Row& row : rows) {
    if (static_cast<int>(records.size()) >= limit) break;
    const std::string& method = row.Text(3);
    const std::string& ids = row.Text(4);
    const std::string& outcome = row.Text(5);
    if (!request.method_contains().empty() &&
        !absl::StrContains(method, request.method_contains())) {
      continue;
    }
    if (!request.id_contains().empty() && !absl::StrContains(ids, request.id_contains())) {
      continue;
    }
    if (request.refused_only() && outcome == "OK") continue;
    yidi::v1::AuditRecord record;
    record.set_sequence(row.Int(0));
    record.set_time(row.Text(1));
    record.set_caller(row.Text(2));
    record.set_method(method);
    record.set_ids(ids);
    record.set_outcome(outcome);
    record.set_message(row.Text(6));
    records.push_back(std::move(record));
  }
  return records;
}

grpc::ServerUnaryReactor* AuditLogServiceImpl::ListAuditRecords(
    grpc::CallbackServerContext* ctx, const yidi::v1::ListAuditRecordsRequest* request,
    yidi::v1::ListAuditRecordsResponse* response) {
  auto* reactor = ctx->DefaultReactor();
  log_->Flush();
  auto records = yidi::ListAuditRecords(*store_, *request);
  if (!records.ok()) {
    reactor->Finish(ToGrpcStatus(records.status()));
    return reactor;
  }
  for (auto& record : *records) *response->add_records() = std::move(record);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace yidi
