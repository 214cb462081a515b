// The audit log (docs/SECURITY.md "What is logged"): an append-only table at every node with
// one row per state-changing call it received (time, caller identity, method, the request's
// ids, outcome), refused calls and every authorization refusal included. ID numbers are masked
// before a row is built. There is no API that changes or deletes a row: AuditLog only appends,
// AuditLogService (security.proto) only lists.
//
// Rows are written by one background thread in batches (group commit), so a settlement does
// not wait for a second write transaction; Flush() waits until every appended row is stored.
// A crash may lose the rows of the last few milliseconds' calls, never the calls themselves.
#ifndef YIDI_COMMON_AUDIT_LOG_H_
#define YIDI_COMMON_AUDIT_LOG_H_

#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/store/store.h"
#include "google/protobuf/message.h"
#include "yidi/v1/security.grpc.pb.h"

namespace yidi {

// Migrations 400–409: the audit_log table.
std::vector<Migration> AuditLogMigrations();

struct AuditEntry {
  absl::Time time;
  std::string caller;
  std::string method;
  std::string ids;
  std::string outcome;  // "OK" or the status code name
  std::string message;
};

// "settlement_id=H36…-0001 visit.institution_code=H36…": the identifiers of a request (string
// fields named *_id, *_code, *_number, at most two levels deep); ID numbers masked.
std::string RequestIds(const google::protobuf::Message& request);

// `text` with every run of 15–18 ID-number characters masked (common/id_number.h).
std::string MaskIdNumbersIn(absl::string_view text);

class AuditLog {
 public:
  // `store` must outlive the log. Starts the writer thread.
  explicit AuditLog(Store* store);
  // Flushes and stops the writer.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Queues one row; never blocks on the database. Masks ID numbers in ids and message.
  void Append(AuditEntry entry);
  // Waits until every row appended before the call is written (or failed: logged).
  void Flush();

 private:
  void WriterLoop();

  Store* const store_;
  absl::Mutex mutex_;
  std::deque<AuditEntry> queue_ ABSL_GUARDED_BY(mutex_);
  int64_t appended_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t written_ ABSL_GUARDED_BY(mutex_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread writer_;
};

// The rows matching `request`'s filters, oldest first. INVALID_ARGUMENT for a bad limit.
absl::StatusOr<std::vector<yidi::v1::AuditRecord>> ListAuditRecords(
    Store& store, const yidi::v1::ListAuditRecordsRequest& request);

// AuditLogService: lists this node's audit log (after a Flush, so a call just made shows).
class AuditLogServiceImpl final : public yidi::v1::AuditLogService::CallbackService {
 public:
  AuditLogServiceImpl(Store* store, AuditLog* log) : store_(store), log_(log) {}
  grpc::ServerUnaryReactor* ListAuditRecords(
      grpc::CallbackServerContext* ctx, const yidi::v1::ListAuditRecordsRequest* request,
      yidi::v1::ListAuditRecordsResponse* response) override;

 private:
  Store* const store_;
  AuditLog* const log_;
};

}  // namespace yidi

#endif  // YIDI_COMMON_AUDIT_LOG_H_
