// Node bootstrap shared by the three node kinds: the loaded configuration, the directory, the
// store and the clock (NodeContext), and the gRPC server around a node's services
// (NodeServer: callback API, health checking, server reflection). Handlers live in each node
// kind's folder; this file only wires them.
#ifndef YIDI_COMMON_NODE_H_
#define YIDI_COMMON_NODE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/calendar.h"
#include "common/clock.h"
#include "common/directory.h"
#include "common/routing.h"
#include "common/settlement_relay.h"
#include "common/store/store.h"
#include "grpcpp/grpcpp.h"
#include "yidi/v1/config.pb.h"
#include "yidi/v1/prepayment.pb.h"

namespace yidi {

// What a call gate sees of an incoming call, before its handler runs.
struct CallInfo {
  std::string method;  // full gRPC method name: "/yidi.v1.SettlementService/Settle"
  std::string caller;  // the authenticated caller's identity ("" when not known)
};
// A check every incoming call passes before its handler runs (downtime announcements, payment
// suspensions, …). A non-OK status is returned to the caller as is; nothing is stored.
using CallGate = std::function<absl::Status(const CallInfo& call)>;

// Everything a node's handlers share. Built once at start; the members are constant after
// construction except what the Store and StubCache guard themselves.
struct NodeContext {
  yidi::v1::NodeConfig config;
  std::string config_dir;  // relative config paths resolve here
  std::string data_dir;    // relative sqlite paths resolve here (defaults to config_dir)
  NodeIdentity identity;
  std::string name;        // "municipal 360100"
  DirectoryIndex directory;
  std::unique_ptr<Store> store;
  const Clock* clock = nullptr;
  StubCache stubs;
  absl::Time started_at;
  // Working days from config.calendar_files, "today" from `clock`. Without files every
  // working-day question is OUT_OF_RANGE (common/calendar.h).
  WorkingDayCalendar calendar;
  // From config.prepayment_policy_file; the national rules when none is given.
  yidi::v1::PrepaymentPolicy prepayment_policy;

  // TLS from config.security (docs/SECURITY.md): what this node listens with and what it
  // presents when it calls another node (pass to MakeChannel). Both null when `plaintext`
  // (security.allow_plaintext, or the deprecated `plaintext: true`).
  bool plaintext = false;
  std::shared_ptr<grpc::ServerCredentials> server_credentials;
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials;

  // Consulted in order for every incoming call (NodeServer); registered by the service
  // factories at start, before the server starts, and constant after.
  std::vector<CallGate> call_gates;

  // A path from the config, resolved against config_dir.
  std::string ConfigPath(absl::string_view path) const;
};

// Reads the node config and the directory, checks the node's kind, opens the database named by
// `database_url` (a relative sqlite path resolves against `data_dir`, else the config folder)
// and applies CommonMigrations() plus `migrations`.
// Errors: NOT_FOUND / INVALID_ARGUMENT for config problems (with file:line), UNAVAILABLE when
// the database cannot be opened (the URL named, password masked).
absl::StatusOr<std::unique_ptr<NodeContext>> LoadNodeContext(
    const std::string& config_path, const std::string& data_dir,
    yidi::v1::NodeKind expected_kind, const Clock* clock,
    const std::vector<Migration>& migrations);

// Same, from an already-parsed config (in-process tests).
absl::StatusOr<std::unique_ptr<NodeContext>> MakeNodeContext(
    const yidi::v1::NodeConfig& config, const yidi::v1::Directory& directory,
    const std::string& config_dir, const std::string& data_dir, const Clock* clock,
    const std::vector<Migration>& migrations);

class AuditLog;
class CallFront;

// The gRPC server of one node.
class NodeServer {
 public:
  // The node's server: `services` (not owned; must outlive the server) behind the call front
  // (common/call_front.h: TLS identity, limits, authorization, context.call_gates, audit
  // log), on context.config.listen_address with context.server_credentials (plaintext when
  // context.plaintext), plus health, reflection and the audit log's AuditLogService.
  // Port 0 picks a free port (see port()). UNAVAILABLE when it cannot bind.
  static absl::StatusOr<std::unique_ptr<NodeServer>> Start(
      NodeContext& context, const std::vector<grpc::Service*>& services);

  // A bare plaintext server of `services` on `address` with health and reflection, without
  // the front: for unit tests of one service, never for a node.
  static absl::StatusOr<std::unique_ptr<NodeServer>> Start(
      const std::string& address, const std::vector<grpc::Service*>& services,
      int server_threads);

  ~NodeServer();
  int port() const { return port_; }
  // Stops accepting calls and waits up to `grace` for calls in flight. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(2));
  // Blocks until SIGTERM or SIGINT, then shuts down. For main().
  void ServeUntilSignalled();

 private:
  // Destroyed bottom-up: the listening server first, then the front, the services' in-process
  // server, and the audit log last (flushed).
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<grpc::Service> audit_service_;
  std::unique_ptr<grpc::Server> inner_;
  std::unique_ptr<CallFront> front_;
  std::vector<std::unique_ptr<grpc::Service>> shadows_;  // for reflection (node.cc)
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

// A common main() for the three binaries: flags --config and --data_dir, --help.
// `make_services` builds the kind's handlers over the context.
using ServiceFactory = std::function<absl::StatusOr<std::vector<std::unique_ptr<grpc::Service>>>(
    NodeContext& context)>;
int NodeMain(int argc, char** argv, yidi::v1::NodeKind kind, const char* usage,
             const std::vector<Migration>& migrations, const ServiceFactory& make_services);

}  // namespace yidi

#endif  // YIDI_COMMON_NODE_H_
