#include "tests/testing/process_mesh.h"

#include <arpa/inet.h>
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
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/config.h"
#include "common/grpc_status.h"
#include "common/security.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/text_format.h"
#include "tests/testing/in_process_mesh.h"
#include "tests/testing/test_certificates.h"
#include "yidi/v1/directory.grpc.pb.h"
#include "yidi/v1/directory.pb.h"

extern char** environ;

namespace yidi::testing {
namespace {

namespace fs = std::filesystem;

// One readiness probe; it waits for the connection (wait_for_ready).
constexpr int kProbeDeadlineMs = 500;
constexpr int kProbeIntervalMs = 50;
// How often a wait for a child's exit looks.
constexpr int kReapIntervalMs = 10;
// The lowest port handed out: below it live well-known and registered services.
constexpr int kLowestPort = 10000;
// Ports tried before giving up (each is checked by binding it).
constexpr int kPortAttemptsMax = 1000;

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::chrono::system_clock::time_point DeadlineIn(int ms) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
}

// The first port of the kernel's ephemeral range (connect() and bind(0) take theirs from it).
int EphemeralPortLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  int high = 60999;
  if (!(in >> low >> high)) return 32768;
  return low;
}

absl::Status WriteMessage(const google::protobuf::Message& message, const std::string& path) {
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(message, &text)) {
    return absl::InternalError(absl::StrCat("cannot print ", message.GetTypeName()));
  }
  return WriteTextFile(path, text);
}

}  // namespace

std::string BuildPath(const std::string& relative) {
  return absl::StrCat(YIDI_BUILD_DIR, "/", relative);
}

std::string YidictlPath() { return BuildPath("tools/yidictl"); }

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat(path, ": cannot be written"));
  return absl::OkStatus();
}

std::string LogTail(const std::string& path, int lines) {
  auto text = ReadTextFile(path);
  if (!text.ok()) return absl::StrCat("(no log at ", path, ")");
  std::deque<std::string> tail;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    tail.push_back(line);
    if (tail.size() > static_cast<size_t>(lines)) tail.pop_front();
  }
  return absl::StrCat("---- last lines of ", path, " ----\n", absl::StrJoin(tail, "\n"),
                      "\n---- end of ", path, " ----");
}

std::string MakeTempDir(const std::string& prefix) {
  std::string pattern = absl::StrCat("/tmp/", prefix, "-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

absl::StatusOr<std::vector<int>> PickFreePorts(int count) {
  const int high = std::max(kLowestPort + 1000, EphemeralPortLow()) - 1;
  const unsigned seed = static_cast<unsigned>(getpid());
  std::cout << "process mesh: port seed " << seed << "\n";
  uint64_t state = seed;
  std::vector<int> ports;
  for (int attempt = 0; attempt < kPortAttemptsMax && static_cast<int>(ports.size()) < count;
       ++attempt) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;  // LCG, seeded
    const int port =
        kLowestPort + static_cast<int>((state >> 33) % static_cast<uint64_t>(high - kLowestPort));
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
    return absl::UnavailableError(absl::StrCat("only ", ports.size(), " of ", count,
                                               " free loopback ports below the ephemeral range"));
  }
  return ports;
}

absl::StatusOr<pid_t> SpawnProcess(const std::vector<std::string>& argv,
                                   const std::string& stdout_path,
                                   const std::string& stderr_path) {
  if (argv.empty()) return absl::InvalidArgumentError("argv: empty");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (stderr_path.empty() || stderr_path == stdout_path) {
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
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

std::optional<int> WaitForExit(pid_t pid, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    const pid_t reaped = waitpid(pid, &status, WNOHANG);
    if (reaped == pid) return status;
    if (reaped < 0 && errno != EINTR) return 0;  // not our child any more: nothing to wait for
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    SleepMs(kReapIntervalMs);
  }
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit code ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("signal ", WTERMSIG(status));
  return absl::StrCat("wait status ", status);
}

CommandResult RunCommand(const std::vector<std::string>& argv, int timeout_ms,
                         const std::string& scratch_dir) {
  static std::atomic<int> runs{0};
  CommandResult result;
  std::string dir = scratch_dir;
  const bool temporary = dir.empty();
  if (temporary) dir = MakeTempDir("yidi-command");
  if (dir.empty()) {
    result.err = "mkdtemp under /tmp failed";
    return result;
  }
  const std::string stem = absl::StrCat(dir, "/command-", getpid(), "-", ++runs);
  const std::string out_path = stem + ".out";
  const std::string err_path = stem + ".err";
  std::error_code ignored;
  fs::remove(out_path, ignored);
  fs::remove(err_path, ignored);
  auto pid = SpawnProcess(argv, out_path, err_path);
  if (!pid.ok()) {
    result.err = std::string(pid.status().message());
  } else if (std::optional<int> status = WaitForExit(*pid, timeout_ms); !status.has_value()) {
    kill(*pid, SIGKILL);
    WaitForExit(*pid, kProcessNodeStopTimeoutMs);
    result.out = ReadTextFile(out_path).value_or("");
    result.err = absl::StrCat(ReadTextFile(err_path).value_or(""), "\n", absl::StrJoin(argv, " "),
                              " still ran after ", timeout_ms, " ms: killed");
  } else {
    result.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    result.out = ReadTextFile(out_path).value_or("");
    result.err = ReadTextFile(err_path).value_or("");
  }
  result.output = result.out + result.err;
  if (temporary) fs::remove_all(dir, ignored);
  return result;
}

absl::StatusOr<yidi::v1::NodeConfig> LoadDemoNodeConfig(const std::string& name) {
  yidi::v1::NodeConfig config;
  const std::string path = absl::StrCat(DemoDir(), "/", name, ".textproto");
  RETURN_IF_ERROR(yidi::LoadTextProtoFile(path, &config));
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
  return config;
}

const std::vector<ProcessNodeSpec>& DemoProcessNodes() {
  static const auto* const nodes = new std::vector<ProcessNodeSpec>{
      {"national", "national/yidi-national", yidi::v1::NODE_KIND_NATIONAL, "000000"},
      {"provincial_500000", "provincial/yidi-provincial", yidi::v1::NODE_KIND_PROVINCIAL,
       "500000"},
      {"provincial_360000", "provincial/yidi-provincial", yidi::v1::NODE_KIND_PROVINCIAL,
       "360000"},
      {"provincial_210000", "provincial/yidi-provincial", yidi::v1::NODE_KIND_PROVINCIAL,
       "210000"},
      {"municipal_500000", "municipal/yidi-municipal", yidi::v1::NODE_KIND_MUNICIPAL, "500000"},
      {"municipal_360100", "municipal/yidi-municipal", yidi::v1::NODE_KIND_MUNICIPAL, "360100"},
      {"municipal_360700", "municipal/yidi-municipal", yidi::v1::NODE_KIND_MUNICIPAL, "360700"},
      {"municipal_210100", "municipal/yidi-municipal", yidi::v1::NODE_KIND_MUNICIPAL, "210100"},
  };
  return *nodes;
}

absl::StatusOr<std::unique_ptr<ProcessMesh>> ProcessMesh::Create(Options options) {
  std::unique_ptr<ProcessMesh> mesh(new ProcessMesh(std::move(options)));
  // YIDI_KEEP_PROCESS_MESH=1: keep every mesh's folder, to read what a passing test saw.
  if (const char* keep = std::getenv("YIDI_KEEP_PROCESS_MESH"); keep != nullptr && *keep == '1') {
    mesh->KeepFiles();
  }
  if (absl::Status status = mesh->Setup(); !status.ok()) {
    mesh->KeepFiles();  // what was written helps to see why
    return status;
  }
  return mesh;
}

absl::Status ProcessMesh::Setup() {
  root_ = MakeTempDir(absl::StrCat("yidi-", options_.name));
  if (root_.empty()) return absl::InternalError("mkdtemp under /tmp failed");
  data_dir_ = root_ + "/data";
  std::error_code error;
  fs::create_directories(data_dir_, error);
  fs::create_directories(root_ + "/logs", error);
  if (error) return absl::InternalError(absl::StrCat(root_, ": ", error.message()));

  const std::vector<ProcessNodeSpec>& specs = DemoProcessNodes();
  ASSIGN_OR_RETURN(std::vector<int> ports, PickFreePorts(static_cast<int>(specs.size())));

  // Each node's config, with its demo listen address mapped to the new one.
  std::map<std::string, std::string> new_address_of;  // demo address → new address
  std::vector<yidi::v1::NodeConfig> configs;
  for (size_t i = 0; i < specs.size(); ++i) {
    Node node;
    node.spec = specs[i];
    node.address = absl::StrCat("127.0.0.1:", ports[i]);
    node.config_path = absl::StrCat(root_, "/", node.spec.name, ".textproto");
    node.log_path = absl::StrCat(root_, "/logs/", node.spec.name, ".log");
    ASSIGN_OR_RETURN(yidi::v1::NodeConfig config, LoadDemoNodeConfig(node.spec.name));
    if (config.kind() != node.spec.kind || config.region_code() != node.spec.region_code) {
      return absl::FailedPreconditionError(absl::StrCat(
          DemoDir(), "/", node.spec.name, ".textproto: not the node the harness expects"));
    }
    new_address_of[config.listen_address()] = node.address;
    configs.push_back(std::move(config));
    nodes_.push_back(std::move(node));
  }

  yidi::v1::Directory directory;
  const std::string demo_directory = DemoDir() + "/directory.textproto";
  RETURN_IF_ERROR(yidi::LoadTextProtoFile(demo_directory, &directory));
  for (yidi::v1::Region& region : *directory.mutable_regions()) {
    auto found = new_address_of.find(region.address());
    if (found == new_address_of.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat(demo_directory, ": region ", region.code(), " at ", region.address(),
                       " is not served by any demo node config"));
    }
    region.set_address(found->second);
  }
  const std::string directory_path = root_ + "/directory.textproto";
  RETURN_IF_ERROR(WriteMessage(directory, directory_path));
  // yidictl's identities: the process operator exists already; every demo institution.
  WriteInstitutionCertificates(directory);

  for (size_t i = 0; i < nodes_.size(); ++i) {
    yidi::v1::NodeConfig& config = configs[i];
    config.set_listen_address(nodes_[i].address);
    config.set_directory_file(directory_path);
    config.set_database_url(absl::StrCat("sqlite://", nodes_[i].spec.name, ".db"));
    UseProcessCertificate(&config);
    if (options_.configure) RETURN_IF_ERROR(options_.configure(nodes_[i].spec, &config));
    RETURN_IF_ERROR(WriteMessage(config, nodes_[i].config_path));
  }
  return absl::OkStatus();
}

ProcessMesh::~ProcessMesh() {
  StopAll();
  if (root_.empty()) return;
  if (keep_files_) {
    std::cerr << "process mesh " << options_.name << ": configs, databases and node logs kept in "
              << root_ << "\n";
    return;
  }
  std::error_code ignored;
  fs::remove_all(root_, ignored);
}

absl::Status ProcessMesh::StartAll() {
  std::vector<Node*> started;
  for (Node& node : nodes_) {
    if (node.pid > 0) continue;
    RETURN_IF_ERROR(Spawn(node));
    started.push_back(&node);
  }
  return WaitUntilAnswering(started);
}

absl::Status ProcessMesh::Start(const std::string& name) {
  Node& node = GetNode(name);
  if (node.pid > 0) return absl::FailedPreconditionError(absl::StrCat(name, " is running"));
  RETURN_IF_ERROR(Spawn(node));
  return WaitUntilAnswering({&node});
}

absl::Status ProcessMesh::EnsureAllRunning() {
  std::vector<Node*> pending;
  for (Node& node : nodes_) {
    if (node.pid > 0 && WaitForExit(node.pid, 0).has_value()) node.pid = -1;
    if (node.pid > 0) {
      kill(node.pid, SIGCONT);  // harmless when it runs; resumes a paused one
    } else {
      RETURN_IF_ERROR(Spawn(node));
    }
    pending.push_back(&node);
  }
  return WaitUntilAnswering(pending);
}

absl::Status ProcessMesh::Kill(const std::string& name, int signal) {
  Node& node = GetNode(name);
  if (node.pid <= 0) return absl::FailedPreconditionError(absl::StrCat(name, " is not running"));
  kill(node.pid, signal);
  if (signal == SIGTERM) kill(node.pid, SIGCONT);  // a paused node handles SIGTERM once resumed
  const std::optional<int> status = WaitForExit(node.pid, options_.stop_timeout_ms);
  if (!status.has_value()) {
    kill(node.pid, SIGKILL);
    WaitForExit(node.pid, options_.stop_timeout_ms);
    node.pid = -1;
    return absl::DeadlineExceededError(
        absl::StrCat(name, " still ran ", options_.stop_timeout_ms, " ms after signal ", signal,
                     ": killed"));
  }
  node.pid = -1;
  return absl::OkStatus();
}

absl::Status ProcessMesh::Pause(const std::string& name) {
  Node& node = GetNode(name);
  if (node.pid <= 0) return absl::FailedPreconditionError(absl::StrCat(name, " is not running"));
  kill(node.pid, SIGSTOP);
  const std::string stat_path = absl::StrCat("/proc/", node.pid, "/stat");
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.stop_timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    // "pid (comm) S ...": the state follows the last ')'.
    auto stat = ReadTextFile(stat_path);
    const size_t paren = stat.ok() ? stat->rfind(')') : std::string::npos;
    if (paren != std::string::npos && paren + 2 < stat->size() && (*stat)[paren + 2] == 'T') {
      return absl::OkStatus();
    }
    SleepMs(kReapIntervalMs);
  }
  return absl::DeadlineExceededError(absl::StrCat(name, " did not stop on SIGSTOP"));
}

absl::Status ProcessMesh::Resume(const std::string& name) {
  Node& node = GetNode(name);
  if (node.pid <= 0) return absl::FailedPreconditionError(absl::StrCat(name, " is not running"));
  kill(node.pid, SIGCONT);
  return WaitUntilAnswering({&node});
}

void ProcessMesh::StopAll() {
  for (Node& node : nodes_) {
    if (node.pid > 0) {
      kill(node.pid, SIGTERM);
      kill(node.pid, SIGCONT);  // a paused node handles its SIGTERM once resumed
    }
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.stop_timeout_ms);
  for (Node& node : nodes_) {
    if (node.pid <= 0) continue;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!WaitForExit(node.pid, std::max<int>(0, static_cast<int>(left.count()))).has_value()) {
      std::cerr << "process mesh: " << node.spec.name << " (pid " << node.pid << ") still ran "
                << options_.stop_timeout_ms << " ms after SIGTERM: SIGKILL\n";
      kill(node.pid, SIGKILL);
      WaitForExit(node.pid, options_.stop_timeout_ms);
    }
    node.pid = -1;
  }
}

absl::Status ProcessMesh::RewriteConfig(const std::string& name,
                                        const std::function<void(yidi::v1::NodeConfig*)>& change) {
  const Node& node = GetNode(name);
  yidi::v1::NodeConfig config;
  RETURN_IF_ERROR(yidi::LoadTextProtoFile(node.config_path, &config));
  change(&config);
  return WriteMessage(config, node.config_path);
}

absl::Status ProcessMesh::IssueIdentity(const std::string& stem, const std::string& identity_uri) {
  ASSIGN_OR_RETURN(TlsFiles files, ProcessTestCa().Issue(identity_uri));
  return ProcessTestCa().Write(files, ProcessCertDir(), stem);
}

const std::string& ProcessMesh::cert_dir() const { return ProcessCertDir(); }

CommandResult ProcessMesh::Yidictl(const std::string& node, const std::vector<std::string>& args,
                                   const std::string& identity) {
  std::vector<std::string> argv = {YidictlPath(), "--target=" + Address(node),
                                   absl::StrCat("--deadline_ms=", options_.yidictl_deadline_ms),
                                   "--tls_dir=" + cert_dir(), "--identity=" + identity};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, options_.command_timeout_ms, root_ + "/logs");
}

std::shared_ptr<grpc::Channel> ProcessMesh::Channel(const std::string& address) {
  std::lock_guard<std::mutex> lock(channels_mutex_);
  auto& channel = channels_[address];
  if (channel == nullptr) channel = yidi::MakeChannel(address, ProcessOperatorCredentials());
  return channel;
}

ProcessMesh::Node& ProcessMesh::GetNode(const std::string& name) {
  for (Node& node : nodes_) {
    if (node.spec.name == name) return node;
  }
  std::cerr << "process mesh: no node named " << name << "\n";
  std::abort();
}

const std::string& ProcessMesh::Address(const std::string& name) { return GetNode(name).address; }

absl::Status ProcessMesh::Spawn(Node& node) {
  {
    std::ofstream log(node.log_path, std::ios::app);
    log << "==== " << options_.name << ": starting " << node.spec.name << " on " << node.address
        << (clock_start_.empty() ? "" : " clock " + clock_start_) << "\n";
  }
  std::vector<std::string> argv = {BuildPath(node.spec.binary), "--config=" + node.config_path,
                                   "--data_dir=" + data_dir_};
  if (!clock_start_.empty()) argv.push_back("--clock_start=" + clock_start_);
  ASSIGN_OR_RETURN(pid_t pid, SpawnProcess(argv, node.log_path));
  node.pid = pid;
  return absl::OkStatus();
}

absl::Status ProcessMesh::WaitUntilAnswering(std::vector<Node*> pending) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.start_timeout_ms);
  while (!pending.empty()) {
    std::vector<Node*> still;
    for (Node* node : pending) {
      if (std::optional<int> exited = WaitForExit(node->pid, 0); exited.has_value()) {
        node->pid = -1;
        return absl::UnavailableError(absl::StrCat(node->spec.name, " exited during start-up (",
                                                   DescribeWaitStatus(*exited), ")\n",
                                                   LogTail(node->log_path)));
      }
      auto stub = yidi::v1::DirectoryService::NewStub(Channel(node->address));
      grpc::ClientContext context;
      context.set_deadline(DeadlineIn(kProbeDeadlineMs));
      context.set_wait_for_ready(true);
      yidi::v1::GetNodeInfoResponse info;
      const grpc::Status probed = stub->GetNodeInfo(&context, {}, &info);
      // A node inside a downtime window it announced answers, but with UNAVAILABLE and the
      // notice (common/announcement.h): it is up.
      if (probed.error_code() == grpc::StatusCode::UNAVAILABLE &&
          absl::StrContains(probed.error_message(), "is down for maintenance")) {
        continue;
      }
      if (probed.ok()) {
        if (info.kind() != node->spec.kind || info.region_code() != node->spec.region_code) {
          return absl::FailedPreconditionError(absl::StrCat(
              node->address, " answers as ", yidi::v1::NodeKind_Name(info.kind()), " ",
              info.region_code(), ", not as ", node->spec.name,
              " (port taken by another process?)"));
        }
        continue;
      }
      still.push_back(node);
    }
    pending = std::move(still);
    if (pending.empty()) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string report;
      for (Node* node : pending) {
        absl::StrAppend(&report, node->spec.name, " (", node->address, ", pid ", node->pid,
                        ") did not answer GetNodeInfo within ", options_.start_timeout_ms,
                        " ms\n", LogTail(node->log_path), "\n");
      }
      return absl::DeadlineExceededError(report);
    }
    SleepMs(kProbeIntervalMs);
  }
  return absl::OkStatus();
}

}  // namespace yidi::testing
