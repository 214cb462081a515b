#include "common/node.h"

#include <signal.h>

#include <cstdio>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/ledger.h"
#include "common/log.h"
#include "common/prepayment.h"
#include "common/transfer_obligations.h"
#include "common/settlement_record.h"
#include "common/status_macros.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"

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

absl::StatusOr<std::unique_ptr<NodeServer>> NodeServer::Start(
    const std::string& address, const std::vector<grpc::Service*>& services,
    int server_threads) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  auto server = std::unique_ptr<NodeServer>(new NodeServer());
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: a second node on a taken address would start and the
  // kernel would split connections between two databases. Refuse instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &server->port_);
  for (grpc::Service* service : services) builder.RegisterService(service);
  if (server_threads > 0) {
    grpc::ResourceQuota quota;
    quota.SetMaxThreads(server_threads);
    builder.SetResourceQuota(quota);
  }
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address));
  }
  return server;
}

NodeServer::~NodeServer() { Shutdown(absl::ZeroDuration()); }

void NodeServer::Shutdown(absl::Duration grace) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace));
  server_->Wait();
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
    if (value("--config", &config_path) || value("--data_dir", &data_dir)) continue;
    std::fprintf(stderr, "unknown argument %s\n\n%s", argv[i], usage);
    return 2;
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "--config is required\n\n%s", usage);
    return 2;
  }
  auto context = LoadNodeContext(config_path, data_dir, kind, SystemClock::Get(), migrations);
  if (!context.ok()) {
    std::fprintf(stderr, "cannot start: %s\n", std::string(context.status().message()).c_str());
    return 1;
  }
  SetLogTag((*context)->name);
  if (!(*context)->config.plaintext()) {
    // Mutual TLS is its own issue; until it lands a node refuses to pretend it is secure.
    std::fprintf(stderr, "cannot start: TLS is not implemented yet: set `plaintext: true`\n");
    return 1;
  }
  LogWarning("plaintext gRPC: every caller is trusted; use only on a closed network");
  auto services = make_services(**context);
  if (!services.ok()) {
    std::fprintf(stderr, "cannot start: %s\n", std::string(services.status().message()).c_str());
    return 1;
  }
  std::vector<grpc::Service*> raw;
  for (auto& service : *services) raw.push_back(service.get());
  auto server =
      NodeServer::Start((*context)->config.listen_address(), raw, (*context)->config.server_threads());
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
