#include "tests/testing/in_process_mesh.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/filing_index.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/routing.h"
#include "common/security.h"
#include "common/status_macros.h"
#include "municipal/insured_registry.h"
#include "municipal/municipal_services.h"
#include "national/national_services.h"
#include "provincial/provincial_services.h"

namespace yidi::testing {

using yidi::v1::NodeKind;

std::string DemoDir() { return absl::StrCat(YIDI_SOURCE_DIR, "/deploy/demo"); }

absl::Time DemoNow() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 23, 10, 0, 0), ChinaStandardTime());
}

NodeId Municipal(absl::string_view region) {
  return NodeId{NodeKind::NODE_KIND_MUNICIPAL, std::string(region)};
}
NodeId Provincial(absl::string_view region) {
  return NodeId{NodeKind::NODE_KIND_PROVINCIAL, std::string(region)};
}
NodeId National() { return NodeId{NodeKind::NODE_KIND_NATIONAL, "000000"}; }

std::string NameOf(const NodeId& node) { return NodeName(node.kind, node.region); }

std::chrono::system_clock::time_point DeadlineIn(absl::Duration timeout) {
  return std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout);
}

namespace {

// How long a test waits for one bookkeeping call (GetSettlement, GetNodeInfo) of a node that
// is up: far above what a loopback call takes, far below the test's own time limit.
constexpr absl::Duration kBookkeepingDeadline = absl::Seconds(5);

// The demo config file of a node (deploy/demo/README.md, "Nodes").
std::string ConfigFileOf(const NodeId& node) {
  switch (node.kind) {
    case NodeKind::NODE_KIND_NATIONAL:
      return "national.textproto";
    case NodeKind::NODE_KIND_PROVINCIAL:
      return absl::StrCat("provincial_", node.region, ".textproto");
    default:
      return absl::StrCat("municipal_", node.region, ".textproto");
  }
}

std::string FileStemOf(const NodeId& node) {
  switch (node.kind) {
    case NodeKind::NODE_KIND_NATIONAL:
      return "national";
    case NodeKind::NODE_KIND_PROVINCIAL:
      return absl::StrCat("provincial_", node.region);
    default:
      return absl::StrCat("municipal_", node.region);
  }
}

// Binds `count` sockets to 127.0.0.1:0 at once (so the kernel hands out distinct ports),
// reads their ports and closes them. The ports are free right after; a race with another
// process taking one in between shows up as a failed Start, never as a wrong test result.
absl::StatusOr<std::vector<int>> PickFreePorts(int count) {
  std::vector<int> sockets;
  std::vector<int> ports;
  absl::Status status;
  for (int i = 0; i < count && status.ok(); ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
      status = absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
      break;
    }
    sockets.push_back(fd);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      status = absl::UnavailableError(absl::StrCat("bind 127.0.0.1:0: ", std::strerror(errno)));
      break;
    }
    socklen_t length = sizeof(address);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      status = absl::UnavailableError(absl::StrCat("getsockname: ", std::strerror(errno)));
      break;
    }
    ports.push_back(ntohs(address.sin_port));
  }
  for (int fd : sockets) ::close(fd);
  if (!status.ok()) return status;
  return ports;
}

absl::StatusOr<std::string> MakeTempDir() {
  std::string pattern = "/tmp/yidi-mesh-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::UnavailableError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  return pattern;
}

}  // namespace

struct InProcessMesh::Node {
  NodeId id;
  int port = 0;
  std::string address;
  yidi::v1::NodeConfig config;

  // Present while running; ReleaseNode drops them server first, context last.
  std::unique_ptr<NodeContext> context;
  std::unique_ptr<municipal::MunicipalData> municipal_data;
  std::vector<std::unique_ptr<grpc::Service>> services;
  std::unique_ptr<NodeServer> server;

  // The test's own client side; kept across restarts.
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<yidi::v1::SettlementService::Stub> settlement;
  std::unique_ptr<yidi::v1::PersonService::Stub> person;
  std::unique_ptr<yidi::v1::FilingService::Stub> filing;
  std::unique_ptr<yidi::v1::DirectoryService::Stub> directory;
};

InProcessMesh::InProcessMesh(absl::Time now) : clock_(now) {}

absl::StatusOr<std::unique_ptr<InProcessMesh>> InProcessMesh::Start(Options options) {
  // The nodes log every settlement at info level; a test run wants warnings and errors only,
  // unless the developer asks for more with YIDI_LOG_LEVEL.
  if (std::getenv("YIDI_LOG_LEVEL") == nullptr) SetLogLevel(LogLevel::kWarning);

  auto mesh = std::unique_ptr<InProcessMesh>(new InProcessMesh(options.now));
  ASSIGN_OR_RETURN(mesh->data_dir_, MakeTempDir());
  mesh->plaintext_ = options.plaintext;
  std::shared_ptr<grpc::ChannelCredentials> harness_credentials;
  if (!options.plaintext) {
    ASSIGN_OR_RETURN(mesh->ca_, TestCertificateAuthority::Create("Yidi in-process mesh CA"));
    ASSIGN_OR_RETURN(TlsFiles harness, mesh->ca_->Issue(kHarnessIdentity));
    harness_credentials = MakeChannelCredentials(harness);
  }
  RETURN_IF_ERROR(
      LoadTextProtoFile(absl::StrCat(DemoDir(), "/directory.textproto"), &mesh->directory_));

  std::vector<NodeId> ids;
  for (const auto& region : mesh->directory_.regions()) {
    ids.push_back({region.kind(), region.code()});
  }
  ASSIGN_OR_RETURN(std::vector<int> ports, PickFreePorts(static_cast<int>(ids.size())));
  for (size_t i = 0; i < ids.size(); ++i) {
    auto node = std::make_unique<Node>();
    node->id = ids[i];
    node->port = ports[i];
    node->address = absl::StrCat("127.0.0.1:", ports[i]);
    mesh->directory_.mutable_regions(static_cast<int>(i))->set_address(node->address);
    RETURN_IF_ERROR(
        LoadTextProtoFile(absl::StrCat(DemoDir(), "/", ConfigFileOf(node->id)), &node->config));
    node->config.set_listen_address(node->address);
    node->config.set_server_threads(options.server_threads);
    node->config.set_database_url(
        options.file_databases
            ? absl::StrCat("sqlite://", mesh->data_dir_, "/", FileStemOf(node->id), ".db")
            : std::string("sqlite::memory:"));
    node->config.set_plaintext(false);
    node->config.clear_security();
    if (options.plaintext) {
      node->config.mutable_security()->set_allow_plaintext(true);
    } else {
      ASSIGN_OR_RETURN(TlsFiles files,
                       mesh->ca_->Issue(NodeIdentityUri(node->id.kind, node->id.region)));
      const std::string stem = FileStemOf(node->id);
      RETURN_IF_ERROR(mesh->ca_->Write(files, mesh->data_dir_, stem));
      auto* security = node->config.mutable_security();
      security->set_cert_file(absl::StrCat(mesh->data_dir_, "/", stem, ".crt"));
      security->set_key_file(absl::StrCat(mesh->data_dir_, "/", stem, ".key"));
      security->set_ca_file(absl::StrCat(mesh->data_dir_, "/ca.crt"));
    }
    node->channel = MakeChannel(node->address, harness_credentials);
    node->settlement = yidi::v1::SettlementService::NewStub(node->channel);
    node->person = yidi::v1::PersonService::NewStub(node->channel);
    node->filing = yidi::v1::FilingService::NewStub(node->channel);
    node->directory = yidi::v1::DirectoryService::NewStub(node->channel);
    mesh->nodes_.push_back(std::move(node));
  }
  for (auto& node : mesh->nodes_) {
    if (absl::Status started = mesh->StartNode(*node); !started.ok()) {
      return absl::Status(started.code(), absl::StrCat(NameOf(node->id), ": ", started.message()));
    }
  }
  return mesh;
}

InProcessMesh::~InProcessMesh() {
  // Stop every server before any node's state goes away: a relay of one node may still be
  // calling another while the mesh shuts down.
  for (auto& node : nodes_) ShutdownServer(*node);
  for (auto& node : nodes_) ReleaseNode(*node);
  if (!data_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(data_dir_, ignored);
  }
}

absl::Status InProcessMesh::StartNode(Node& node) {
  absl::Status started = BuildAndServe(node);
  if (!started.ok()) ReleaseNode(node);
  return started;
}

absl::Status InProcessMesh::BuildAndServe(Node& node) {
  // Provincial and national nodes keep the filing index (their main.cc passes the same list).
  const std::vector<Migration> migrations = node.id.kind == NodeKind::NODE_KIND_MUNICIPAL
                                                ? municipal::MunicipalMigrations()
                                                : FilingIndexMigrations();
  ASSIGN_OR_RETURN(node.context, MakeNodeContext(node.config, directory_, DemoDir(), data_dir_,
                                                 &clock_, migrations));
  switch (node.id.kind) {
    case NodeKind::NODE_KIND_MUNICIPAL: {
      ASSIGN_OR_RETURN(node.municipal_data, municipal::LoadMunicipalData(*node.context));
      node.services = municipal::MakeMunicipalServices(*node.context, node.municipal_data.get());
      break;
    }
    case NodeKind::NODE_KIND_PROVINCIAL:
      node.services = provincial::MakeProvincialServices(*node.context);
      break;
    case NodeKind::NODE_KIND_NATIONAL:
      node.services = national::MakeNationalServices(*node.context);
      break;
    default:
      return absl::InternalError("a demo node of unspecified kind");
  }
  std::vector<grpc::Service*> raw;
  for (auto& service : node.services) raw.push_back(service.get());
  ASSIGN_OR_RETURN(node.server, NodeServer::Start(*node.context, raw));
  return absl::OkStatus();
}

void InProcessMesh::ShutdownServer(Node& node) {
  if (node.server != nullptr) node.server->Shutdown(absl::ZeroDuration());
}

void InProcessMesh::ReleaseNode(Node& node) {
  node.server.reset();
  node.services.clear();
  node.municipal_data.reset();
  node.context.reset();
}

InProcessMesh::Node& InProcessMesh::Find(const NodeId& id) {
  for (auto& node : nodes_) {
    if (node->id == id) return *node;
  }
  YIDI_CHECK(false, "the node is part of the demo mesh");
}

const InProcessMesh::Node& InProcessMesh::Find(const NodeId& id) const {
  for (const auto& node : nodes_) {
    if (node->id == id) return *node;
  }
  YIDI_CHECK(false, "the node is part of the demo mesh");
}

std::vector<NodeId> InProcessMesh::Nodes() const {
  std::vector<NodeId> ids;
  for (const auto& node : nodes_) ids.push_back(node->id);
  return ids;
}

std::string InProcessMesh::Address(const NodeId& node) const { return Find(node).address; }

yidi::v1::SettlementService::Stub& InProcessMesh::Settlement(const NodeId& node) {
  return *Find(node).settlement;
}
yidi::v1::PersonService::Stub& InProcessMesh::Person(const NodeId& node) {
  return *Find(node).person;
}
yidi::v1::FilingService::Stub& InProcessMesh::Filing(const NodeId& node) {
  return *Find(node).filing;
}
yidi::v1::DirectoryService::Stub& InProcessMesh::Directory(const NodeId& node) {
  return *Find(node).directory;
}

NodeContext* InProcessMesh::Context(const NodeId& node) { return Find(node).context.get(); }

std::shared_ptr<grpc::Channel> InProcessMesh::ChannelAs(const NodeId& node,
                                                        absl::string_view identity_uri) {
  if (plaintext_) return MakeChannel(Find(node).address);
  auto files = ca_->Issue(identity_uri);
  YIDI_CHECK(files.ok(), "the test CA issues any identity");
  return MakeChannel(Find(node).address, MakeChannelCredentials(*files));
}

bool InProcessMesh::IsRunning(const NodeId& node) const { return Find(node).server != nullptr; }

absl::Status InProcessMesh::StopNode(const NodeId& id) {
  Node& node = Find(id);
  if (node.server == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(NameOf(id), " is already stopped"));
  }
  ShutdownServer(node);
  ReleaseNode(node);
  return absl::OkStatus();
}

absl::Status InProcessMesh::RestartNode(const NodeId& id, absl::Duration wait) {
  Node& node = Find(id);
  if (node.server != nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(NameOf(id), " is running"));
  }
  RETURN_IF_ERROR(StartNode(node));
  // Wait until the node answers on the test's own channel, which may still be backing off
  // from the failed connects while the node was down: wait_for_ready rides that out.
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(wait));
  context.set_wait_for_ready(true);
  yidi::v1::GetNodeInfoRequest request;
  yidi::v1::GetNodeInfoResponse response;
  grpc::Status status = node.directory->GetNodeInfo(&context, request, &response);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat(NameOf(id), " did not come back: ", status.error_message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<yidi::v1::GetSettlementResponse> InProcessMesh::GetSettlement(
    const NodeId& node, absl::string_view settlement_id) {
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kBookkeepingDeadline));
  yidi::v1::GetSettlementRequest request;
  request.set_settlement_id(std::string(settlement_id));
  yidi::v1::GetSettlementResponse response;
  grpc::Status status = Find(node).settlement->GetSettlement(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<std::map<yidi::v1::SettlementState, int64_t>> InProcessMesh::RecordCounts(
    const NodeId& node) {
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kBookkeepingDeadline));
  yidi::v1::GetNodeInfoRequest request;
  yidi::v1::GetNodeInfoResponse response;
  grpc::Status status = Find(node).directory->GetNodeInfo(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  std::map<yidi::v1::SettlementState, int64_t> counts;
  for (const auto& entry : response.settlement_records()) counts[entry.state()] = entry.count();
  return counts;
}

}  // namespace yidi::testing
