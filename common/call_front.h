// The call front of a node (docs/SECURITY.md): the only thing listening on the node's port.
// Every call passes it before any handler runs:
//   1. identity: the peer's verified certificate (common/security.h); a plaintext node
//      (security.allow_plaintext) trusts every caller as "plaintext";
//   2. limits: calls in flight per caller (RESOURCE_EXHAUSTED), the request parsed and every
//      string / repeated field within its limit (INVALID_ARGUMENT naming the limit);
//      messages above kMessageBytesMax are refused by gRPC before they are read;
//   3. authorization: the one table (common/authorization.h), PERMISSION_DENIED, logged;
//   4. the node's call gates (NodeContext::call_gates), in order;
//   5. the handler: the node's services run on an in-process server only the front reaches,
//      and see the authenticated caller in the "yidi-caller" metadata (CallerOf below);
//   6. the audit log (common/audit_log.h): one row per state-changing call and per refusal.
// A refused call never reaches a handler, so nothing is stored.
#ifndef YIDI_COMMON_CALL_FRONT_H_
#define YIDI_COMMON_CALL_FRONT_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/audit_log.h"
#include "common/node.h"
#include "common/security.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace yidi {

// Metadata key carrying the authenticated caller from the front to the handlers.
inline constexpr char kCallerMetadataKey[] = "yidi-caller";

// The authenticated caller of a call a handler is serving ("yidi://institution/…"), as the
// front established it; "" when the call did not come through a front (unit tests).
std::string CallerOf(const grpc::CallbackServerContext& context);

// Checks every string and repeated field of `request` (recursively) against the edge limits
// (common/limits.h). INVALID_ARGUMENT naming the field and the limit.
absl::Status CheckRequestLimits(const google::protobuf::Message& request);

class CallFront final : public grpc::CallbackGenericService {
 public:
  // `context` and `audit` must outlive the front; `inner` is the in-process channel of the
  // server that runs the node's services.
  CallFront(NodeContext* context, AuditLog* audit, std::shared_ptr<grpc::Channel> inner);

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

  // For the reactor: the admission steps 1–4 for a parsed request; OK admits. On OK the
  // caller holds one in-flight slot, released by Release().
  absl::Status Admit(const CallerIdentity& caller, const std::string& method,
                     const google::protobuf::Message* request, bool* counted);
  void Release(const std::string& caller);

  NodeContext& context() { return *context_; }
  AuditLog& audit() { return *audit_; }
  grpc::GenericStub& inner() { return inner_stub_; }
  bool plaintext() const { return plaintext_; }
  int calls_in_flight_max() const { return calls_in_flight_max_; }

 private:
  NodeContext* const context_;
  AuditLog* const audit_;
  std::shared_ptr<grpc::Channel> inner_channel_;
  grpc::GenericStub inner_stub_;
  const bool plaintext_;
  const int calls_in_flight_max_;
  absl::Mutex mutex_;
  std::map<std::string, int> in_flight_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace yidi

#endif  // YIDI_COMMON_CALL_FRONT_H_
