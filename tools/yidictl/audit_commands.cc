// yidictl commands of a node's audit log (AuditLogService, docs/SECURITY.md):
//   audit [--audit_caller=URI] [--audit_method=TEXT] [--audit_id=TEXT] [--refused_only]
//         [--audit_after=SEQ] [--audit_limit=N]
// Lists the rows oldest first: sequence, time, caller, method, outcome, ids, message. Needs an
// operator certificate with role auditor or admin.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "grpcpp/grpcpp.h"
#include "tools/yidictl/command.h"
#include "yidi/v1/security.grpc.pb.h"

ABSL_FLAG(std::string, audit_caller, "", "audit: only calls of this identity (exact URI)");
ABSL_FLAG(std::string, audit_method, "", "audit: only methods containing this text");
ABSL_FLAG(std::string, audit_id, "", "audit: only rows whose ids contain this text");
ABSL_FLAG(bool, refused_only, false, "audit: only refused or failed calls");
ABSL_FLAG(int64_t, audit_after, 0, "audit: rows after this sequence number");
ABSL_FLAG(int, audit_limit, 100, "audit: at most this many rows (<= 1000)");

namespace {

int Audit(const std::shared_ptr<grpc::Channel>& channel, const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "audit takes no arguments, only flags\n";
    return yidictl::kExitUsage;
  }
  auto stub = yidi::v1::AuditLogService::NewStub(channel);
  yidi::v1::ListAuditRecordsRequest request;
  request.set_caller(absl::GetFlag(FLAGS_audit_caller));
  request.set_method_contains(absl::GetFlag(FLAGS_audit_method));
  request.set_id_contains(absl::GetFlag(FLAGS_audit_id));
  request.set_refused_only(absl::GetFlag(FLAGS_refused_only));
  request.set_after_sequence(absl::GetFlag(FLAGS_audit_after));
  request.set_limit(absl::GetFlag(FLAGS_audit_limit));
  yidi::v1::ListAuditRecordsResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->ListAuditRecords(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  if (absl::GetFlag(FLAGS_text)) {
    std::cout << response.DebugString();
    return yidictl::kExitOk;
  }
  for (const auto& record : response.records()) {
    std::cout << absl::StrFormat("%6d %s %-20s %s %s\n       ids: %s\n", record.sequence(),
                                 record.time(), record.outcome(), record.caller(),
                                 record.method(), record.ids());
    if (!record.message().empty()) std::cout << "       " << record.message() << "\n";
  }
  std::cout << response.records_size() << " rows\n";
  return yidictl::kExitOk;
}

}  // namespace

YIDICTL_COMMAND("audit",
                "audit [--audit_caller=URI] [--audit_method=TEXT] [--audit_id=TEXT] "
                "[--refused_only] [--audit_after=SEQ] [--audit_limit=N]   this node's audit log",
                Audit);
