// Multi-process tests of filing replication (docs/FILING.md): the real node binaries and yidictl
// on 127.0.0.1, as tests/e2e_test.cc starts them (a copy of the demo mesh with its addresses
// rewritten to free ports, one temp dir per suite, kept with the node logs when a test fails).
//
// Each test kills a receiver with SIGKILL (a crash), files while it is down (the insured node
// answers at once; the change waits in an outbox), restarts it, and checks that the indexes
// converge to exactly what the insured region holds: every filing at its latest version,
// nothing lost, nothing applied twice (the national index counts each version once).
//
// Every wait is bounded; nothing asserts on timing.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/config.h"
#include "common/grpc_status.h"
#include "tests/testing/test_certificates.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "yidi/v1/config.pb.h"
#include "yidi/v1/directory.grpc.pb.h"
#include "yidi/v1/filing.grpc.pb.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;

// Limits of the harness, each with its reason (as in tests/e2e_test.cc).
constexpr int kNodeStartTimeoutMs = 20000;   // open SQLite, migrate, seed: well under a second
constexpr int kNodeStopTimeoutMs = 10000;    // SIGTERM grace is 2 s
constexpr int kProbeDeadlineMs = 500;
constexpr int kProbeIntervalMs = 50;
constexpr int kCallDeadlineMs = 10000;       // a filing call crosses at most five nodes
constexpr int kCommandTimeoutMs = 20000;     // yidictl
constexpr int kLogTailLines = 40;
// Convergence after a restart: the sender's backoff is at most 5 s, a channel's reconnect
// backoff 1 s; 60 s is far above both.
constexpr int kConvergenceMs = 60000;
constexpr int kPollMs = 100;

const std::string kSourceDir = YIDI_SOURCE_DIR;
const std::string kBuildDir = YIDI_BUILD_DIR;

std::string DemoDir() { return kSourceDir + "/deploy/demo"; }
std::string YidictlPath() { return kBuildDir + "/tools/yidictl"; }

struct NodeSpec {
  const char* name;
  const char* binary;
  yidi::v1::NodeKind kind;
  const char* region_code;
};
constexpr NodeSpec kNodeSpecs[] = {
    {"national", "national/yidi-national", yidi::v1::NODE_KIND_NATIONAL, "000000"},
    {"provincial_500000", "provincial/yidi-provincial", yidi::v1::NODE_KIND_PROVINCIAL, "500000"},
    {"provincial_360000", "provincial/yidi-provincial", yidi::v1::NODE_KIND_PROVINCIAL, "360000"},
    {"provincial_210000", "provincial/yidi-provincial", yidi::v1::NODE_KIND_PROVINCIAL, "210000"},
    {"municipal_500000", "municipal/yidi-municipal", yidi::v1::NODE_KIND_MUNICIPAL, "500000"},
    {"municipal_360100", "municipal/yidi-municipal", yidi::v1::NODE_KIND_MUNICIPAL, "360100"},
    {"municipal_360700", "municipal/yidi-municipal", yidi::v1::NODE_KIND_MUNICIPAL, "360700"},
    {"municipal_210100", "municipal/yidi-municipal", yidi::v1::NODE_KIND_MUNICIPAL, "210100"},
};
constexpr int kNodeCount = sizeof(kNodeSpecs) / sizeof(kNodeSpecs[0]);

std::chrono::system_clock::time_point DeadlineIn(int ms) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
}
void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string StatusText(const grpc::Status& status) {
  return absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
                      ": ", status.error_message());
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string LogTail(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return absl::StrCat("(no log at ", path, ")");
  std::deque<std::string> lines;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
    if (lines.size() > static_cast<size_t>(kLogTailLines)) lines.pop_front();
  }
  return absl::StrCat("---- last lines of ", path, " ----\n", absl::StrJoin(lines, "\n"));
}

// The first port of the kernel's ephemeral range (connect() and bind(0) take theirs from it).
int EphemeralPortLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  int high = 60999;
  if (!(in >> low >> high)) return 32768;
  return low;
}

// `count` distinct free loopback ports below the ephemeral range: an outbound connection (a
// node's outbox sender connecting to its parent while the mesh starts) never takes one of
// them, so none is lost between picking it and the node binding it. Ports are tried in a
// pseudo-random order seeded by the pid (printed), each checked by binding it.
absl::StatusOr<std::vector<int>> PickFreePorts(int count) {
  const int low = 10000;
  const int high = std::max(low + 1000, EphemeralPortLow()) - 1;
  const unsigned seed = static_cast<unsigned>(getpid());
  std::cout << "filing e2e: port seed " << seed << "\n";
  uint64_t state = seed;
  std::vector<int> ports;
  for (int attempt = 0; attempt < 1000 && static_cast<int>(ports.size()) < count; ++attempt) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;  // LCG, seeded
    const int port = low + static_cast<int>((state >> 33) % static_cast<uint64_t>(high - low));
    if (std::find(ports.begin(), ports.end(), port) != ports.end()) continue;
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    const bool available = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    close(fd);
    if (available) ports.push_back(port);
  }
  if (static_cast<int>(ports.size()) < count) {
    return absl::UnavailableError("no free loopback ports below the ephemeral range");
  }
  return ports;
}

// Starts `argv` with stdin from /dev/null and stdout and stderr appended to `output_path`.
absl::StatusOr<pid_t> SpawnProcess(const std::vector<std::string>& argv,
                                   const std::string& output_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t no_signals;
  sigemptyset(&no_signals);
  posix_spawnattr_setsigmask(&attributes, &no_signals);
  sigset_t default_signals;
  sigemptyset(&default_signals);
  sigaddset(&default_signals, SIGTERM);
  sigaddset(&default_signals, SIGINT);
  sigaddset(&default_signals, SIGPIPE);
  posix_spawnattr_setsigdefault(&attributes, &default_signals);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &actions, &attributes, args.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("posix_spawn ", argv[0], ": ", std::strerror(rc)));
  }
  return pid;
}

// Reaps `pid` if it ended within `timeout_ms`; its wait status, or nullopt while it runs.
std::optional<int> WaitForExit(pid_t pid, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    const pid_t reaped = waitpid(pid, &status, WNOHANG);
    if (reaped == pid) return status;
    if (reaped < 0 && errno != EINTR) return 0;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    SleepMs(10);
  }
}

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

// Runs `argv` to completion (killed after kCommandTimeoutMs).
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::string& output_path) {
  std::error_code ignored;
  fs::remove(output_path, ignored);
  auto pid = SpawnProcess(argv, output_path);
  if (!pid.ok()) return pid.status();
  std::optional<int> status = WaitForExit(*pid, kCommandTimeoutMs);
  if (!status.has_value()) {
    kill(*pid, SIGKILL);
    WaitForExit(*pid, kNodeStopTimeoutMs);
    return absl::DeadlineExceededError(absl::StrCat(absl::StrJoin(argv, " "), ": killed"));
  }
  CommandResult result;
  result.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  result.output = ReadFile(output_path).value_or("");
  return result;
}

// A demo node config with every relative `*_file` / `*_files` path resolved against the demo
// folder (so new file fields need no change here).
absl::StatusOr<yidi::v1::NodeConfig> LoadDemoConfig(const std::string& name) {
  yidi::v1::NodeConfig config;
  const std::string path = absl::StrCat(DemoDir(), "/", name, ".textproto");
  if (absl::Status loaded = yidi::LoadTextProtoFile(path, &config); !loaded.ok()) return loaded;
  const auto* descriptor = config.GetDescriptor();
  const auto* reflection = config.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    if (field->type() != google::protobuf::FieldDescriptor::TYPE_STRING) continue;
    if (!absl::EndsWith(field->name(), "_file") && !absl::EndsWith(field->name(), "_files")) {
      continue;
    }
    if (field->is_repeated()) {
      for (int j = 0; j < reflection->FieldSize(config, field); ++j) {
        const std::string value = reflection->GetRepeatedString(config, field, j);
        if (!value.empty()) {
          reflection->SetRepeatedString(&config, field, j, yidi::ResolvePath(DemoDir(), value));
        }
      }
    } else if (const std::string value = reflection->GetString(config, field); !value.empty()) {
      reflection->SetString(&config, field, yidi::ResolvePath(DemoDir(), value));
    }
  }
  // Mutual TLS with the test process's CA (tests/testing/test_certificates.h).
  yidi::testing::UseProcessCertificate(&config);
  return config;
}

absl::Status WriteText(const google::protobuf::Message& message, const std::string& path) {
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(message, &text)) {
    return absl::InternalError(absl::StrCat("cannot print ", message.GetTypeName()));
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat(path, ": cannot be written"));
  return absl::OkStatus();
}

struct NodeProcess {
  NodeSpec spec;
  std::string address;
  std::string config_path;
  std::string log_path;
  pid_t pid = -1;
};

// The mesh of real processes. Not thread-safe: the test thread alone drives it.
class Mesh {
 public:
  ~Mesh() { StopAll(); }

  absl::Status Create() {
    std::string pattern = "/tmp/yidi-filing-e2e-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) return absl::InternalError("mkdtemp failed");
    root_ = pattern;
    data_dir_ = root_ + "/data";
    std::error_code error;
    fs::create_directories(data_dir_, error);
    fs::create_directories(root_ + "/logs", error);
    if (error) return absl::InternalError(absl::StrCat(root_, ": ", error.message()));
    auto ports = PickFreePorts(kNodeCount);
    if (!ports.ok()) return ports.status();
    std::map<std::string, std::string> new_address_of;
    std::vector<yidi::v1::NodeConfig> configs;
    for (int i = 0; i < kNodeCount; ++i) {
      NodeProcess node;
      node.spec = kNodeSpecs[i];
      node.address = absl::StrCat("127.0.0.1:", (*ports)[i]);
      node.config_path = absl::StrCat(root_, "/", node.spec.name, ".textproto");
      node.log_path = absl::StrCat(root_, "/logs/", node.spec.name, ".log");
      auto config = LoadDemoConfig(node.spec.name);
      if (!config.ok()) return config.status();
      new_address_of[config->listen_address()] = node.address;
      configs.push_back(*std::move(config));
      nodes_.push_back(node);
    }
    yidi::v1::Directory directory;
    if (absl::Status loaded =
            yidi::LoadTextProtoFile(DemoDir() + "/directory.textproto", &directory);
        !loaded.ok()) {
      return loaded;
    }
    for (yidi::v1::Region& region : *directory.mutable_regions()) {
      auto found = new_address_of.find(region.address());
      if (found == new_address_of.end()) {
        return absl::FailedPreconditionError(absl::StrCat("no demo node serves ", region.code()));
      }
      region.set_address(found->second);
    }
    const std::string directory_path = root_ + "/directory.textproto";
    if (absl::Status written = WriteText(directory, directory_path); !written.ok()) return written;
    for (int i = 0; i < kNodeCount; ++i) {
      configs[i].set_listen_address(nodes_[i].address);
      configs[i].set_directory_file(directory_path);
      configs[i].set_database_url(absl::StrCat("sqlite://", nodes_[i].spec.name, ".db"));
      if (absl::Status written = WriteText(configs[i], nodes_[i].config_path); !written.ok()) {
        return written;
      }
    }
    return absl::OkStatus();
  }

  absl::Status StartAll() {
    std::vector<NodeProcess*> started;
    for (NodeProcess& node : nodes_) {
      if (absl::Status status = Spawn(node); !status.ok()) return status;
      started.push_back(&node);
    }
    return WaitUntilAnswering(started);
  }

  // Restarts whatever an earlier test left dead.
  absl::Status EnsureAllRunning() {
    std::vector<NodeProcess*> pending;
    for (NodeProcess& node : nodes_) {
      if (node.pid > 0 && WaitForExit(node.pid, 0).has_value()) node.pid = -1;
      if (node.pid > 0) continue;
      if (absl::Status status = Spawn(node); !status.ok()) return status;
      pending.push_back(&node);
    }
    return WaitUntilAnswering(pending);
  }

  absl::Status Start(const std::string& name) {
    NodeProcess& node = Node(name);
    if (node.pid > 0) return absl::FailedPreconditionError(absl::StrCat(name, " is running"));
    if (absl::Status status = Spawn(node); !status.ok()) return status;
    return WaitUntilAnswering({&node});
  }

  // SIGKILL: a crash; the process is reaped.
  absl::Status Crash(const std::string& name) {
    NodeProcess& node = Node(name);
    if (node.pid <= 0) return absl::FailedPreconditionError(absl::StrCat(name, " is not running"));
    kill(node.pid, SIGKILL);
    const bool reaped = WaitForExit(node.pid, kNodeStopTimeoutMs).has_value();
    node.pid = -1;
    return reaped ? absl::OkStatus()
                  : absl::DeadlineExceededError(absl::StrCat(name, " survived SIGKILL"));
  }

  void StopAll() {
    for (NodeProcess& node : nodes_) {
      if (node.pid > 0) kill(node.pid, SIGTERM);
    }
    for (NodeProcess& node : nodes_) {
      if (node.pid <= 0) continue;
      if (!WaitForExit(node.pid, kNodeStopTimeoutMs).has_value()) {
        kill(node.pid, SIGKILL);
        WaitForExit(node.pid, kNodeStopTimeoutMs);
      }
      node.pid = -1;
    }
  }

  NodeProcess& Node(const std::string& name) {
    for (NodeProcess& node : nodes_) {
      if (node.spec.name == name) return node;
    }
    std::cerr << "filing e2e: no node named " << name << "\n";
    std::abort();
  }
  const std::string& Address(const std::string& name) { return Node(name).address; }
  const std::vector<NodeProcess>& nodes() const { return nodes_; }
  const std::string& root() const { return root_; }

  std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
    auto& channel = channels_[address];
    if (channel == nullptr) {
      channel = yidi::MakeChannel(address, yidi::testing::ProcessOperatorCredentials());
    }
    return channel;
  }

 private:
  absl::Status Spawn(NodeProcess& node) {
    {
      std::ofstream log(node.log_path, std::ios::app);
      log << "==== filing_e2e_test: starting " << node.spec.name << " on " << node.address << "\n";
    }
    auto pid = SpawnProcess({kBuildDir + "/" + node.spec.binary, "--config=" + node.config_path,
                             "--data_dir=" + data_dir_},
                            node.log_path);
    if (!pid.ok()) return pid.status();
    node.pid = *pid;
    return absl::OkStatus();
  }

  absl::Status WaitUntilAnswering(std::vector<NodeProcess*> pending) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kNodeStartTimeoutMs);
    while (!pending.empty()) {
      std::vector<NodeProcess*> still;
      for (NodeProcess* node : pending) {
        if (WaitForExit(node->pid, 0).has_value()) {
          node->pid = -1;
          return absl::UnavailableError(absl::StrCat(node->spec.name, " exited during start-up\n",
                                                     LogTail(node->log_path)));
        }
        auto stub = yidi::v1::DirectoryService::NewStub(Channel(node->address));
        grpc::ClientContext context;
        context.set_deadline(DeadlineIn(kProbeDeadlineMs));
        context.set_wait_for_ready(true);
        yidi::v1::GetNodeInfoResponse info;
        if (stub->GetNodeInfo(&context, {}, &info).ok()) {
          if (info.kind() != node->spec.kind || info.region_code() != node->spec.region_code) {
            return absl::FailedPreconditionError(
                absl::StrCat(node->address, " answers as another node (port taken?)"));
          }
          continue;
        }
        still.push_back(node);
      }
      pending = std::move(still);
      if (pending.empty()) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrCat(pending.front()->spec.name,
                                                        " did not answer\n",
                                                        LogTail(pending.front()->log_path)));
      }
      SleepMs(kProbeIntervalMs);
    }
    return absl::OkStatus();
  }

  std::string root_;
  std::string data_dir_;
  std::vector<NodeProcess> nodes_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

// What a node shows of a person's records: filing id → (version, cancelled), chronic-disease
// eligibility id → version.
struct Records {
  std::map<std::string, std::pair<int64_t, bool>> filings;
  std::map<std::string, int64_t> chronic_diseases;
  bool operator==(const Records& other) const {
    return filings == other.filings && chronic_diseases == other.chronic_diseases;
  }
};

std::string Describe(const Records& records) {
  std::vector<std::string> parts;
  for (const auto& [id, state] : records.filings) {
    parts.push_back(absl::StrCat(id, "@v", state.first, state.second ? " cancelled" : ""));
  }
  for (const auto& [id, version] : records.chronic_diseases) {
    parts.push_back(absl::StrCat(id, "@v", version));
  }
  return parts.empty() ? "(none)" : absl::StrJoin(parts, ", ");
}

class FilingE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mesh_ = new Mesh();
    absl::Status status = mesh_->Create();
    if (status.ok()) status = mesh_->StartAll();
    if (!status.ok()) {
      setup_error_ = status.ToString();
      any_failure_ = true;
    }
  }

  static void TearDownTestSuite() {
    if (mesh_ == nullptr) return;
    mesh_->StopAll();
    const std::string root = mesh_->root();
    delete mesh_;
    mesh_ = nullptr;
    if (root.empty()) return;
    if (any_failure_) {
      std::cerr << "filing e2e: a test failed; configs, databases and logs kept in " << root
                << "\n";
    } else {
      std::error_code ignored;
      fs::remove_all(root, ignored);
    }
  }

  void SetUp() override {
    if (!setup_error_.empty()) GTEST_FAIL() << "the mesh did not start: " << setup_error_;
    const absl::Status running = mesh_->EnsureAllRunning();
    ASSERT_TRUE(running.ok()) << running;
  }

  void TearDown() override {
    if (HasFailure()) any_failure_ = true;
  }

  static std::unique_ptr<yidi::v1::FilingService::Stub> Stub(const std::string& node) {
    return yidi::v1::FilingService::NewStub(mesh_->Channel(mesh_->Address(node)));
  }

  // The records of a person at `node`: live at the insured node, from the index elsewhere.
  static absl::StatusOr<Records> RecordsAt(const std::string& node, const std::string& id_number,
                                           const std::string& insured_region, bool from_index) {
    yidi::v1::ListFilingsRequest request;
    request.set_id_number(id_number);
    request.set_insured_region(insured_region);
    request.set_from_index(from_index);
    yidi::v1::ListFilingsResponse response;
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadlineMs));
    const grpc::Status status = Stub(node)->ListFilings(&context, request, &response);
    if (!status.ok()) return yidi::FromGrpcStatus(status);
    Records records;
    for (const auto& filing : response.filings()) {
      records.filings[filing.filing_id()] = {filing.version(), filing.cancelled()};
    }
    for (const auto& chronic : response.chronic_diseases()) {
      records.chronic_diseases[chronic.eligibility_id()] = chronic.version();
    }
    return records;
  }

  static yidi::v1::GetFilingReplicationResponse Replication(const std::string& node) {
    yidi::v1::GetFilingReplicationResponse response;
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadlineMs));
    context.set_wait_for_ready(true);
    Stub(node)->GetFilingReplication(&context, {}, &response);
    return response;
  }

  static bool Eventually(const std::function<bool()>& done) {
    const auto give_up =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kConvergenceMs);
    while (std::chrono::steady_clock::now() < give_up) {
      if (done()) return true;
      SleepMs(kPollMs);
    }
    return done();
  }

  // Every outbox of the mesh is empty.
  static bool AllDelivered() {
    return Eventually([] {
      for (const NodeProcess& node : mesh_->nodes()) {
        if (node.spec.kind == yidi::v1::NODE_KIND_NATIONAL) continue;
        if (Replication(node.spec.name).outbox_pending() != 0) return false;
      }
      return true;
    });
  }

  // The insured province's and the national index hold exactly what the insured node holds.
  static void ExpectConverged(const std::string& id_number, const std::string& insured_region) {
    auto insured = RecordsAt(absl::StrCat("municipal_", insured_region), id_number,
                             insured_region, false);
    ASSERT_TRUE(insured.ok()) << insured.status();
    ASSERT_FALSE(insured->filings.empty() && insured->chronic_diseases.empty());
    const std::string province = absl::StrCat("provincial_", insured_region.substr(0, 2), "0000");
    for (const std::string& index : {province, std::string("national")}) {
      Records seen;
      const bool converged = Eventually([&] {
        auto records = RecordsAt(index, id_number, insured_region, true);
        if (records.ok()) seen = *records;
        return records.ok() && *records == *insured;
      });
      EXPECT_TRUE(converged) << index << " shows " << Describe(seen) << "; the insured node has "
                             << Describe(*insured);
    }
  }

  // yidictl against `node`; its exit code and output.
  static CommandResult Yidictl(const std::string& node, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {YidictlPath(), "--target=" + mesh_->Address(node),
                                     absl::StrCat("--deadline_ms=", kCallDeadlineMs),
                                     "--tls_dir=" + yidi::testing::ProcessCertDir()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = RunCommand(argv, absl::StrCat(mesh_->root(), "/logs/yidictl.out"));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : CommandResult{};
  }

  static grpc::Status Create(const std::string& node, const yidi::v1::CreateFilingRequest& request,
                             yidi::v1::FilingResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadlineMs));
    return Stub(node)->CreateFiling(&context, request, response);
  }
  static grpc::Status Change(const std::string& node, const yidi::v1::ChangeFilingRequest& request,
                             yidi::v1::FilingResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadlineMs));
    return Stub(node)->ChangeFiling(&context, request, response);
  }

  static Mesh* mesh_;
  static std::string setup_error_;
  static bool any_failure_;
};

Mesh* FilingE2eTest::mesh_ = nullptr;
std::string FilingE2eTest::setup_error_;
bool FilingE2eTest::any_failure_ = false;

constexpr char kN2[] = "360103198209230249";  // Nanchang, no filing
constexpr char kN3[] = "360111199001300353";  // Nanchang, filing expired 2026-08-31
constexpr char kN5[] = "360111201807190579";  // Nanchang, no filing
constexpr char kS6[] = "210105195010170628";  // Shenyang, no filing
constexpr char kC5[] = "500103201109150795";  // Chongqing, no filing

// The national node crashes; Nanchang files, changes and cancels (through yidictl too) while it
// is down; national restarts; both indexes converge, each version applied exactly once.
TEST_F(FilingE2eTest, NationalCrashesWhilePeopleFileAndTheIndexConverges) {
  ASSERT_TRUE(AllDelivered()) << "the seeded filings never reached the indexes";
  const auto before = Replication("national");

  ASSERT_TRUE(mesh_->Crash("national").ok());
  int versions = 0;  // every version the insured node produces from here on

  // N2 files (chosen validity, Jiangxi 002 第10条) and moves the end three times.
  yidi::v1::CreateFilingRequest create;
  create.set_request_id(absl::StrCat("e2e-", getpid(), "-n2"));
  create.set_id_number(kN2);
  create.set_insured_region("360100");
  create.set_category(yidi::v1::FILING_CATEGORY_OTHER_TEMPORARY_TRAVELLER);
  create.set_treatment_region("500000");
  create.set_end_date("2027-06-30");
  yidi::v1::FilingResponse created;
  grpc::Status status = Create("municipal_360100", create, &created);
  ASSERT_TRUE(status.ok()) << StatusText(status);
  ++versions;
  for (const char* end : {"2027-07-31", "2027-08-31", "2027-09-30"}) {
    yidi::v1::ChangeFilingRequest change;
    change.set_request_id(absl::StrCat("e2e-", getpid(), "-n2-", end));
    change.set_filing_id(created.filing().filing_id());
    change.set_id_number(kN2);
    change.set_insured_region("360100");
    change.set_end_date(end);
    yidi::v1::FilingResponse changed;
    status = Change("municipal_360100", change, &changed);
    ASSERT_TRUE(status.ok()) << StatusText(status);
    ++versions;
  }
  // N5 files through yidictl at the Ganzhou node (routed through the province to Nanchang; the
  // national node is not on that path), then cancels.
  const std::string n5_request = absl::StrCat("e2e-", getpid(), "-n5");
  CommandResult filed =
      Yidictl("municipal_360700",
              {"filing", "create", "--request_id=" + n5_request, "--id_number=" + std::string(kN5),
               "--insured_region=360100", "--category=other_temporary_traveller",
               "--treatment_region=500000", "--end_date=2027-02-28"});
  ASSERT_EQ(filed.exit_code, 0) << filed.output;
  ++versions;
  const size_t id_at = filed.output.find("F360100-");
  ASSERT_NE(id_at, std::string::npos) << filed.output;
  const std::string n5_filing = filed.output.substr(id_at, filed.output.find(' ', id_at) - id_at);
  // The same command again: the stored answer, no new version.
  CommandResult again =
      Yidictl("municipal_360100",
              {"filing", "create", "--request_id=" + n5_request, "--id_number=" + std::string(kN5),
               "--insured_region=360100", "--category=other_temporary_traveller",
               "--treatment_region=500000", "--end_date=2027-02-28"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_TRUE(absl::StrContains(again.output, "replayed")) << again.output;
  CommandResult cancelled =
      Yidictl("municipal_360100",
              {"filing", "cancel", "--request_id=" + n5_request + "-cancel",
               "--filing_id=" + n5_filing, "--id_number=" + std::string(kN5),
               "--insured_region=360100"});
  ASSERT_EQ(cancelled.exit_code, 0) << cancelled.output;
  EXPECT_TRUE(absl::StrContains(cancelled.output, "CANCELLED")) << cancelled.output;
  ++versions;
  // N3 (whose old filing expired) files again, and a chronic disease is recorded for N2.
  create.set_request_id(absl::StrCat("e2e-", getpid(), "-n3"));
  create.set_id_number(kN3);
  create.set_treatment_region("210100");
  status = Create("municipal_360100", create, &created);
  ASSERT_TRUE(status.ok()) << StatusText(status);
  ++versions;
  CommandResult chronic =
      Yidictl("municipal_360100",
              {"filing", "chronic-record", "--request_id=" + absl::StrCat("e2e-", getpid(), "-cd"),
               "--id_number=" + std::string(kN2), "--insured_region=360100", "--disease_code=I10",
               "--disease_name=高血压"});
  ASSERT_EQ(chronic.exit_code, 0) << chronic.output;
  ++versions;

  // National is down: the Jiangxi province has everything and holds it for national.
  ASSERT_TRUE(Eventually([] { return Replication("provincial_360000").outbox_pending() > 0; }));
  CommandResult status_out = Yidictl("provincial_360000", {"filing", "status"});
  EXPECT_TRUE(absl::StrContains(status_out.output, "pending=")) << status_out.output;

  ASSERT_TRUE(mesh_->Start("national").ok());
  ASSERT_TRUE(AllDelivered());
  for (const char* person : {kN2, kN3, kN5}) {
    SCOPED_TRACE(person);
    ExpectConverged(person, "360100");
  }
  // Nothing lost, nothing applied twice: national applied each new version exactly once.
  const auto after = Replication("national");
  EXPECT_EQ(after.index_applied() - before.index_applied(), versions);
  EXPECT_EQ(after.index_stale(), before.index_stale());
  EXPECT_EQ(after.index_filings() - before.index_filings(), 3);
  EXPECT_EQ(after.index_chronic_diseases() - before.index_chronic_diseases(), 1);

  // The hospital's question is answered from the national index, without Nanchang.
  ASSERT_TRUE(mesh_->Crash("municipal_360100").ok());
  CommandResult check =
      Yidictl("municipal_500000", {"filing", "check", "--id_number=" + std::string(kN2),
                                   "--insured_region=360100", "--treatment_region=500000",
                                   "--date=2027-01-15", "--from_index"});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_TRUE(absl::StrContains(check.output, "FILED  answered by national (index)"))
      << check.output;
  ASSERT_TRUE(mesh_->Start("municipal_360100").ok());
}

// The province crashes; Shenyang files while it is down; the province restarts and both
// indexes converge.
TEST_F(FilingE2eTest, ProvinceCrashesWhilePeopleFileAndTheIndexConverges) {
  ASSERT_TRUE(AllDelivered());
  ASSERT_TRUE(mesh_->Crash("provincial_210000").ok());
  CommandResult filed = Yidictl(
      "municipal_210100",
      {"filing", "create", "--request_id=" + absl::StrCat("e2e-", getpid(), "-s6"),
       "--id_number=" + std::string(kS6), "--insured_region=210100",
       "--category=long_term_resident", "--treatment_region=500000", "--materials=identity",
       "--undertaking"});
  ASSERT_EQ(filed.exit_code, 0) << filed.output;
  EXPECT_TRUE(absl::StrContains(filed.output, "materials due 2")) << filed.output;
  // Bad input is refused with the reason, and nothing is queued.
  CommandResult refused = Yidictl(
      "municipal_210100",
      {"filing", "create", "--request_id=" + absl::StrCat("e2e-", getpid(), "-bad"),
       "--id_number=" + std::string(kS6), "--insured_region=210100",
       "--category=other_temporary_traveller", "--treatment_region=H50000000001",
       "--end_date=2027-12-31", "--materials=identity"});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_TRUE(absl::StrContains(refused.output, "INVALID_ARGUMENT")) << refused.output;
  EXPECT_EQ(Replication("municipal_210100").outbox_pending(), 1);

  ASSERT_TRUE(mesh_->Start("provincial_210000").ok());
  ASSERT_TRUE(AllDelivered());
  ExpectConverged(kS6, "210100");
}

// The insured node's outbox survives its own crash: Chongqing files while its province is down,
// crashes, restarts, and the upload goes once the province is back.
TEST_F(FilingE2eTest, TheOutboxSurvivesACrashOfTheInsuredNode) {
  ASSERT_TRUE(AllDelivered());
  ASSERT_TRUE(mesh_->Crash("provincial_500000").ok());
  yidi::v1::CreateFilingRequest create;
  create.set_request_id(absl::StrCat("e2e-", getpid(), "-c5"));
  create.set_id_number(kC5);
  create.set_insured_region("500000");
  create.set_category(yidi::v1::FILING_CATEGORY_OTHER_TEMPORARY_TRAVELLER);
  create.set_treatment_region("360100");
  create.add_materials(yidi::v1::FILING_MATERIAL_IDENTITY);
  create.add_materials(yidi::v1::FILING_MATERIAL_FILING_FORM);
  yidi::v1::FilingResponse created;
  const grpc::Status status = Create("municipal_500000", create, &created);
  ASSERT_TRUE(status.ok()) << StatusText(status);
  EXPECT_EQ(created.filing().end_date().size(), 10u);  // 1 year, filled by Chongqing's rules

  ASSERT_TRUE(mesh_->Crash("municipal_500000").ok());
  ASSERT_TRUE(mesh_->Start("municipal_500000").ok());
  EXPECT_EQ(Replication("municipal_500000").outbox_pending(), 1);
  ASSERT_TRUE(mesh_->Start("provincial_500000").ok());
  ASSERT_TRUE(AllDelivered());
  ExpectConverged(kC5, "500000");
}

}  // namespace
