#include "common/node.h"

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/str_cat.h"
#include "common/clearing.h"
#include "common/clearing_forwarding.h"
#include "common/collaboration_migrations.h"
#include "common/audit_log.h"
#include "common/call_front.h"
#include "common/config.h"
#include "common/security.h"
#include "common/ledger.h"
#include "common/log.h"
#include "common/prepayment.h"
#include "common/reconciliation_store.h"
#include "common/transfer_obligations.h"
#include "common/settlement_record.h"
#include "common/status_macros.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_initializer.h"
#include "absl/base/call_once.h"
#include "common/limits.h"

namespace yidi {

std::string NodeContext::ConfigPath(absl::string_view path) const {
  return ResolvePath(config_dir, path);
}

namespace {

// sqlite://relative.db → sqlite:///<data_dir>/relative.db
std::string ResolveDatabaseUrl(const std::string& url, const std::string& data_dir) {
  constexpr absl::string_view kSqlite = "sqlite://";
  if (!absl::StartsWith(url, kSqlite) || absl::StartsWith(url, "sqlite::")) return url;
  const std::string path = url.substr(kSqlite.size());
  if (path.empty() || path.front() == '/') return url;
  return absl::StrCat(kSqlite, ResolvePath(data_dir, path));
}

}  // namespace

absl::StatusOr<std::unique_ptr<NodeContext>> MakeNodeContext(
    const yidi::v1::NodeConfig& config, const yidi::v1::Directory& directory,
    const std::string& config_dir, const std::string& data_dir, const Clock* clock,
    const std::vector<Migration>& migrations) {
  auto context = std::make_unique<NodeContext>();
  context->config = config;
  context->config_dir = config_dir;
  context->data_dir = data_dir.empty() ? config_dir : data_dir;
  context->identity.kind = config.kind();
  context->identity.region_code = config.region_code();
  context->name = NodeName(config.kind(), config.region_code());
  context->clock = clock;
  context->started_at = clock->Now();
  ASSIGN_OR_RETURN(context->directory, DirectoryIndex::Build(directory));
  {
    std::vector<std::string> calendar_paths;
    for (const std::string& file : config.calendar_files()) {
      calendar_paths.push_back(context->ConfigPath(file));
    }
    auto calendar = WorkingDayCalendar::LoadFiles(calendar_paths, clock);
    if (!calendar.ok()) {
      return absl::Status(calendar.status().code(),
                          absl::StrCat("calendar_files: ", calendar.status().message()));
    }
    context->calendar = std::move(*calendar);
  }
  context->prepayment_policy = NationalPrepaymentPolicy();
  if (!config.prepayment_policy_file().empty()) {
    yidi::v1::PrepaymentPolicy policy;
    RETURN_IF_ERROR(
        LoadTextProtoFile(context->ConfigPath(config.prepayment_policy_file()), &policy));
    policy = WithNationalDefaults(std::move(policy));
    if (absl::Status valid = ValidatePrepaymentPolicy(policy); !valid.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(config.prepayment_policy_file(), ": ",
                                                     valid.message()));
    }
    context->prepayment_policy = std::move(policy);
  }
  // TLS before the database: a node that cannot prove who it is must not touch its data.
  context->plaintext = config.security().allow_plaintext() || config.plaintext();
  if (!context->plaintext) {
    const auto& security = config.security();
    if (security.cert_file().empty() || security.key_file().empty() ||
        security.ca_file().empty()) {
      return absl::InvalidArgumentError(
          "security: cert_file, key_file and ca_file are required (or allow_plaintext: true "
          "on a closed test network)");
    }
    auto files = ReadTlsFiles(context->ConfigPath(security.cert_file()),
                              context->ConfigPath(security.key_file()),
                              context->ConfigPath(security.ca_file()));
    if (!files.ok()) {
      return absl::Status(files.status().code(),
                          absl::StrCat("security: ", files.status().message()));
    }
    context->server_credentials = MakeServerCredentials(*files);
    context->channel_credentials = MakeChannelCredentials(*files);
  }
  context->stubs.set_credentials(context->channel_credentials);
  if (context->directory.FindNode(config.kind(), config.region_code()) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("region_code: the directory has no ", context->name, " node"));
  }
  if (config.database_url().empty()) {
    return absl::InvalidArgumentError("database_url: required");
  }
  const std::string url = ResolveDatabaseUrl(config.database_url(), context->data_dir);
  auto store = OpenStore(url);
  if (!store.ok()) {
    return absl::Status(store.status().code(),
                        absl::StrCat("database ", MaskUrlPassword(url), ": ",
                                     store.status().message()));
  }
  context->store = std::move(*store);
  std::vector<Migration> all = CommonMigrations();
  for (auto* back_office :
       {&LedgerMigrations, &TransferObligationMigrations, &PrepaymentMigrations}) {
    for (Migration& migration : (*back_office)()) all.push_back(std::move(migration));
  }
  all.insert(all.end(), migrations.begin(), migrations.end());
  for (Migration& m : ReconciliationMigrations()) all.push_back(std::move(m));  // 300–319
  for (Migration& migration : ClearingMigrations()) all.push_back(std::move(migration));  // 320+
  for (Migration& migration : ClearingCycleMigrations()) all.push_back(std::move(migration));  // 330+
  for (Migration& migration : CollaborationMigrations()) all.push_back(std::move(migration));
  for (Migration& migration : AuditLogMigrations()) all.push_back(std::move(migration));  // 400+
  // Every range in version order, wherever its function sits in the lists above.
  std::sort(all.begin(), all.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  if (absl::Status migrated = context->store->Migrate(all); !migrated.ok()) {
    return absl::Status(migrated.code(), absl::StrCat("database ", context->store->DisplayUrl(),
                                                      ": migration failed: ",
                                                      migrated.message()));
  }
  return context;
}

absl::StatusOr<std::unique_ptr<NodeContext>> LoadNodeContext(
    const std::string& config_path, const std::string& data_dir,
    yidi::v1::NodeKind expected_kind, const Clock* clock,
    const std::vector<Migration>& migrations) {
  yidi::v1::NodeConfig config;
  RETURN_IF_ERROR(LoadTextProtoFile(config_path, &config));
  if (config.kind() != expected_kind) {
    return absl::InvalidArgumentError(absl::StrCat(
        config_path, ": kind is ", yidi::v1::NodeKind_Name(config.kind()), ", this binary runs ",
        yidi::v1::NodeKind_Name(expected_kind)));
  }
  const std::string config_dir = DirectoryOf(config_path);
  if (config.directory_file().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(config_path, ": directory_file: required"));
  }
  yidi::v1::Directory directory;
  RETURN_IF_ERROR(LoadTextProtoFile(ResolvePath(config_dir, config.directory_file()), &directory));
  return MakeNodeContext(config, directory, config_dir, data_dir, clock, migrations);
}

namespace {

// Server reflection lists the services registered on the server it runs on. The node's
// services run on the in-process server behind the front, so the listening server carries one
// shadow per service: a service of the same name whose only method is a placeholder (answering
// UNIMPLEMENTED). The real methods are not registered there, so the front receives them.
class ShadowService final : public grpc::Service {
 public:
  explicit ShadowService(const std::string& service_name)
      : placeholder_(absl::StrCat("/", service_name, "/YidiReflectionPlaceholder")) {
    AddMethod(new grpc::internal::RpcServiceMethod(
        placeholder_.c_str(), grpc::internal::RpcMethod::NORMAL_RPC, nullptr));
    MarkMethodRawCallback(
        0, new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
               [](grpc::CallbackServerContext* ctx, const grpc::ByteBuffer*,
                  grpc::ByteBuffer*) {
                 auto* reactor = ctx->DefaultReactor();
                 reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                              "a placeholder for server reflection"));
                 return reactor;
               }));
  }

 private:
  const std::string placeholder_;  // RpcMethod keeps the pointer
};

void InstallServerPlugins() {
  static absl::once_flag once;
  absl::call_once(once, [] {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  });
}

void ApplyCommonOptions(grpc::ServerBuilder& builder, int server_threads) {
  // gRPC sets SO_REUSEPORT by default: a second node on a taken address would start and the
  // kernel would split connections between two databases. Refuse instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Larger requests are refused (RESOURCE_EXHAUSTED) before they are read into memory.
  builder.SetMaxReceiveMessageSize(kMessageBytesMax);
  builder.SetMaxSendMessageSize(kMessageBytesMax);
  if (server_threads > 0) {
    grpc::ResourceQuota quota;
    quota.SetMaxThreads(server_threads);
    builder.SetResourceQuota(quota);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<NodeServer>> NodeServer::Start(
    const std::string& address, const std::vector<grpc::Service*>& services,
    int server_threads) {
  InstallServerPlugins();
  auto server = std::unique_ptr<NodeServer>(new NodeServer());
  grpc::ServerBuilder builder;
  ApplyCommonOptions(builder, server_threads);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &server->port_);
  for (grpc::Service* service : services) builder.RegisterService(service);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address));
  }
  return server;
}

absl::StatusOr<std::unique_ptr<NodeServer>> NodeServer::Start(
    NodeContext& context, const std::vector<grpc::Service*>& services) {
  InstallServerPlugins();
  const std::string& address = context.config.listen_address();
  const int server_threads = context.config.server_threads();
  YIDI_CHECK(context.plaintext || context.server_credentials != nullptr,
             "MakeNodeContext loads the TLS credentials of every node that is not plaintext");
  auto server = std::unique_ptr<NodeServer>(new NodeServer());
  server->audit_ = std::make_unique<AuditLog>(context.store.get());
  server->audit_service_ =
      std::make_unique<AuditLogServiceImpl>(context.store.get(), server->audit_.get());
  {
    // The node's services, reachable only in process, through the front.
    grpc::ServerBuilder builder;
    ApplyCommonOptions(builder, server_threads);
    for (grpc::Service* service : services) builder.RegisterService(service);
    builder.RegisterService(server->audit_service_.get());
    server->inner_ = builder.BuildAndStart();
    if (server->inner_ == nullptr) {
      return absl::InternalError("the node's services could not be registered");
    }
  }
  grpc::ChannelArguments inner_args;
  inner_args.SetMaxReceiveMessageSize(kMessageBytesMax);
  inner_args.SetMaxSendMessageSize(kMessageBytesMax);
  server->front_ = std::make_unique<CallFront>(&context, server->audit_.get(),
                                               server->inner_->InProcessChannel(inner_args));
  {
    grpc::ServerBuilder builder;
    ApplyCommonOptions(builder, server_threads);
    grpc::ServerInitializer inner_services(server->inner_.get());
    for (const std::string& name : *inner_services.GetServiceList()) {
      if (name == "grpc.health.v1.Health") continue;  // the listening server has its own
      server->shadows_.push_back(std::make_unique<ShadowService>(name));
      builder.RegisterService(server->shadows_.back().get());
    }
    builder.AddListeningPort(address,
                             context.plaintext ? grpc::InsecureServerCredentials()
                                               : context.server_credentials,
                             &server->port_);
    builder.RegisterCallbackGenericService(server->front_.get());
    server->server_ = builder.BuildAndStart();
  }
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address));
  }
  return server;
}

NodeServer::~NodeServer() { Shutdown(absl::ZeroDuration()); }

void NodeServer::Shutdown(absl::Duration grace) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  const auto deadline = std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace);
  server_->Shutdown(deadline);
  server_->Wait();
  // The front's calls are finished (or cancelled); now the services behind it.
  if (inner_ != nullptr) {
    inner_->Shutdown(deadline);
    inner_->Wait();
  }
  if (audit_ != nullptr) audit_->Flush();
}

void NodeServer::ServeUntilSignalled() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int received = 0;
  sigwait(&signals, &received);
  LogInfo("signal %d: shutting down", received);
  Shutdown();
}

int NodeMain(int argc, char** argv, yidi::v1::NodeKind kind, const char* usage,
             const std::vector<Migration>& migrations, const ServiceFactory& make_services) {
  // Block the stop signals before any thread exists, so every thread inherits the mask and the
  // main thread alone receives them in sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Debian's Abseil keeps mutex deadlock detection on; it feeds a process-wide graph on every
  // lock and costs a forwarding hop about 6% of its CPU. Lock order is fixed by design here.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  std::string config_path;
  std::string data_dir;
  std::string clock_start;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    auto value = [&](absl::string_view flag, std::string* out) {
      if (arg == flag && i + 1 < argc) {
        *out = argv[++i];
        return true;
      }
      if (absl::StartsWith(arg, absl::StrCat(flag, "="))) {
        *out = std::string(arg.substr(flag.size() + 1));
        return true;
      }
      return false;
    };
    if (arg == "--help" || arg == "-h") {
      std::printf("%s", usage);
      return 0;
    }
    if (value("--config", &config_path) || value("--data_dir", &data_dir) ||
        value("--clock_start", &clock_start)) {
      continue;
    }
    std::fprintf(stderr, "unknown argument %s\n\n%s", argv[i], usage);
    return 2;
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "--config is required\n\n%s", usage);
    return 2;
  }
  const Clock* clock = SystemClock::Get();
  if (!clock_start.empty()) {
    absl::Time start;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, clock_start, &start, &error)) {
      std::fprintf(stderr, "--clock_start: not an RFC 3339 time (%s)\n\n%s", error.c_str(),
                   usage);
      return 2;
    }
    clock = new ShiftedClock(start);  // lives as long as the process, like SystemClock
  }
  auto context = LoadNodeContext(config_path, data_dir, kind, clock, migrations);
  if (!context.ok()) {
    std::fprintf(stderr, "cannot start: %s\n", std::string(context.status().message()).c_str());
    return 1;
  }
  SetLogTag((*context)->name);
  if (!clock_start.empty()) {
    LogWarning("clock shifted (--clock_start=%s): deadlines and dates follow the shifted "
               "time; for tests and drills only",
               clock_start);
  }
  if ((*context)->plaintext) {
    LogWarning("plaintext gRPC (security.allow_plaintext): every caller is trusted and "
               "nothing is authorized; use only on a closed test network");
  }
  auto services = make_services(**context);
  if (!services.ok()) {
    std::fprintf(stderr, "cannot start: %s\n", std::string(services.status().message()).c_str());
    return 1;
  }
  std::vector<grpc::Service*> raw;
  for (auto& service : *services) raw.push_back(service.get());
  auto server = NodeServer::Start(**context, raw);
  if (!server.ok()) {
    std::fprintf(stderr, "cannot start: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  LogInfo("%s listening on %s, database %s", (*context)->name,
          (*context)->config.listen_address(), (*context)->store->DisplayUrl());
  (*server)->ServeUntilSignalled();
  LogInfo("stopped");
  return 0;
}

}  // namespace yidi
