// ProcessMesh: the demo mesh of deploy/demo/ as real processes. The node binaries
// (yidi-national, yidi-provincial, yidi-municipal, under YIDI_BUILD_DIR) run as children of
// the test on free 127.0.0.1 ports, and the real `yidictl` can be run against them. Shared by
// the multi-process tests (tests/e2e_test.cc, tests/filing_e2e_test.cc,
// tests/mysql/mysql_e2e_test.cc, tests/collaboration/collaboration_e2e_test.cc,
// tests/clearing/clearing_e2e_test.cc, which puts the mesh on given days: SetClockStart).
//
// Create() makes a temp folder /tmp/yidi-<name>-XXXXXX holding: one config per node
// (<name>.textproto: the demo config with every relative *_file path resolved against
// deploy/demo, its listen address moved to a free port, the rewritten directory, an SQLite
// database data/<name>.db, and a certificate of its node identity), directory.textproto,
// data/ and logs/<name>.log (each node's stdout and stderr, appended across restarts). Nothing
// runs until StartAll(). Options::configure may change each config before it is written (the
// MySQL test points two nodes at MariaDB).
//
// Certificates: mutual TLS on every link with the test process's CA
// (tests/testing/test_certificates.h). cert_dir() is ProcessCertDir(), laid out as yidictl's
// --tls_dir expects: operator_admin (yidi://operator/test?role=admin), every demo institution
// (institution_<code>), and whatever IssueIdentity() adds.
//
// Ports are below the kernel's ephemeral range (so an outbound connection of a starting node
// never takes one between picking and binding), in an order seeded by the pid, which is
// printed so a clash can be reproduced.
//
// Start-up: a node is up once it answers DirectoryService.GetNodeInfo as itself (kind and
// region; another answer means the port was taken by someone else). A node that exits first,
// or does not answer within Options::start_timeout_ms, fails the start with its log tail.
//
// Stopping: Kill(name, SIGKILL) is a crash; Kill(name, SIGTERM) a graceful stop (a node drains
// for 2 s); Pause/Resume (SIGSTOP/SIGCONT) a hung node that keeps its sockets open; every
// stopped node is reaped. StopAll() (also run by the destructor) sends SIGTERM to every node,
// waits Options::stop_timeout_ms and sends SIGKILL to the rest. The destructor removes the temp
// folder unless KeepFiles() was called (a test failed) or YIDI_KEEP_PROCESS_MESH=1 is set in
// the environment: it then prints where it is.
//
// Every wait is bounded; nothing here measures time.
//
// Thread safety: Channel(), Address(), Yidictl() and RunCommand() may be called from several
// threads at once; every other method (start, stop, restart, config changes) only from the one
// thread that drives the mesh, with no call of the others in flight to the node concerned.
#ifndef YIDI_TESTS_TESTING_PROCESS_MESH_H_
#define YIDI_TESTS_TESTING_PROCESS_MESH_H_

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "yidi/v1/config.pb.h"

namespace yidi::testing {

// Limits of the harness, each with its reason.
// A node opens SQLite, migrates and seeds the demo persons: well under a second; 20 s is what
// deploy/mesh.sh allows too (the MySQL test gives 30 s: DDL on MariaDB is slower).
inline constexpr int kProcessNodeStartTimeoutMs = 20000;
// A node stops on SIGTERM within its 2 s grace for calls in flight (common/node.cc).
inline constexpr int kProcessNodeStopTimeoutMs = 10000;
// A child command (yidictl, a binary refusing its config) that has not ended by then is killed.
inline constexpr int kProcessCommandTimeoutMs = 20000;
// yidictl's --deadline_ms: a settlement crosses 5 nodes with forward_deadline_ms 2000 per hop.
inline constexpr int kProcessYidictlDeadlineMs = 10000;
// Lines of a node log shown when it fails to start.
inline constexpr int kProcessLogTailLines = 40;

// What a child command did.
struct CommandResult {
  int exit_code = -1;  // -1 when it did not exit normally, or could not be run (`err` says why)
  std::string out;     // its standard output
  std::string err;     // its standard error
  std::string output;  // out, then err: what most assertions search
};

// YIDI_BUILD_DIR "/" + relative ("national/yidi-national"), and the yidictl binary.
std::string BuildPath(const std::string& relative);
std::string YidictlPath();

// Whole-file read / write (binary). NOT_FOUND / INTERNAL naming the path.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);
absl::Status WriteTextFile(const std::string& path, const std::string& text);
// The last `lines` lines of a log, framed with its path (or "(no log at …)").
std::string LogTail(const std::string& path, int lines = kProcessLogTailLines);
// mkdtemp("/tmp/<prefix>-XXXXXX"); "" when it fails.
std::string MakeTempDir(const std::string& prefix);

// `count` distinct free loopback ports below the ephemeral range, each checked by binding it.
// UNAVAILABLE when not enough are free.
absl::StatusOr<std::vector<int>> PickFreePorts(int count);

// Starts `argv` (argv[0] a path) with stdin from /dev/null, stdout appended to `stdout_path`
// and stderr to `stderr_path` ("" = the same file as stdout). SIGTERM, SIGINT and SIGPIPE are
// reset to their defaults and no signal is blocked in the child.
absl::StatusOr<pid_t> SpawnProcess(const std::vector<std::string>& argv,
                                   const std::string& stdout_path,
                                   const std::string& stderr_path = "");
// Reaps `pid` if it ended within `timeout_ms` (0 = just look): its wait status, or nullopt while
// it runs. A pid that is not (or no longer) our child counts as ended with status 0.
std::optional<int> WaitForExit(pid_t pid, int timeout_ms);
// "exit code 1", "signal 9".
std::string DescribeWaitStatus(int status);

// Runs `argv` to completion, its stdout and stderr captured in files under `scratch_dir`
// (kept there for a failed test to show; "" = a temp folder removed afterwards). Killed after
// `timeout_ms`: exit_code -1 and `err` says so. Never fails otherwise: a spawn error is also
// exit_code -1 with the reason in `err`.
CommandResult RunCommand(const std::vector<std::string>& argv, int timeout_ms,
                         const std::string& scratch_dir = "");

// A demo node config (deploy/demo/<name>.textproto) with every relative `*_file` / `*_files`
// path resolved against the demo folder, found by reflection so new file fields need no change
// here. Addresses, database and certificates are as in the file.
absl::StatusOr<yidi::v1::NodeConfig> LoadDemoNodeConfig(const std::string& name);

// One node of the demo mesh: config deploy/demo/<name>.textproto, binary under YIDI_BUILD_DIR.
struct ProcessNodeSpec {
  std::string name;         // "municipal_360100"
  std::string binary;       // "municipal/yidi-municipal"
  yidi::v1::NodeKind kind;
  std::string region_code;  // "000000" for national
};
// The 8 nodes of deploy/demo: national, provincial 500000/360000/210000, municipal
// 500000/360100/360700/210100, in that order.
const std::vector<ProcessNodeSpec>& DemoProcessNodes();

class ProcessMesh {
 public:
  struct Options {
    // The temp folder is /tmp/yidi-<name>-XXXXXX; node logs are marked with it.
    std::string name = "mesh";
    // Called for each node's config after the harness set the listen address, the directory,
    // the SQLite database and the certificate, before the config is written. An error fails
    // Create().
    std::function<absl::Status(const ProcessNodeSpec&, yidi::v1::NodeConfig*)> configure;
    int start_timeout_ms = kProcessNodeStartTimeoutMs;
    int stop_timeout_ms = kProcessNodeStopTimeoutMs;
    int command_timeout_ms = kProcessCommandTimeoutMs;
    int yidictl_deadline_ms = kProcessYidictlDeadlineMs;
  };

  struct Node {
    ProcessNodeSpec spec;
    std::string address;      // 127.0.0.1:<port>
    std::string config_path;  // <root>/<name>.textproto
    std::string log_path;     // <root>/logs/<name>.log
    pid_t pid = -1;           // -1 when not running (reaped)
  };

  // Writes the folder, configs and certificates. Nothing runs yet.
  static absl::StatusOr<std::unique_ptr<ProcessMesh>> Create(Options options);
  // StopAll(), then removes the folder unless KeepFiles() was called.
  ~ProcessMesh();
  ProcessMesh(const ProcessMesh&) = delete;
  ProcessMesh& operator=(const ProcessMesh&) = delete;

  // Starts every node and waits until each answers.
  absl::Status StartAll();
  // Starts (or restarts: same config, same data) one node that is not running and waits until
  // it answers. FAILED_PRECONDITION when it runs.
  absl::Status Start(const std::string& name);
  // Restarts every node that has ended and resumes every paused one (what an earlier test may
  // have left), then waits until all answer.
  absl::Status EnsureAllRunning();
  // Sends `signal` and reaps the node; if it has not ended within stop_timeout_ms it is killed
  // (SIGKILL) and DEADLINE_EXCEEDED returned. FAILED_PRECONDITION when it is not running.
  absl::Status Kill(const std::string& name, int signal);
  // SIGSTOP, and waits until the process is stopped: a hung node whose sockets stay open.
  absl::Status Pause(const std::string& name);
  // SIGCONT, and waits until it answers.
  absl::Status Resume(const std::string& name);
  // SIGTERM to all (SIGCONT to paused ones), a bounded wait, SIGKILL to the rest.
  void StopAll();

  // Loads the node's config file, lets `change` edit it, writes it back: effective at its next
  // start.
  absl::Status RewriteConfig(const std::string& name,
                             const std::function<void(yidi::v1::NodeConfig*)>& change);

  // Writes a certificate for `identity_uri` as <cert_dir>/<stem>.crt/.key, for
  // `Yidictl(..., stem)`: IssueIdentity("operator_auditor", "yidi://operator/a?role=auditor").
  absl::Status IssueIdentity(const std::string& stem, const std::string& identity_uri);

  // Runs the real yidictl against `node` as `identity` (a stem in cert_dir()):
  //   yidictl --target=<address> --deadline_ms=<yidictl_deadline_ms> --tls_dir=<cert_dir>
  //           --identity=<identity> <args...>
  // Its output files are kept in <root>/logs/yidictl-<n>.{out,err}.
  CommandResult Yidictl(const std::string& node, const std::vector<std::string>& args,
                        const std::string& identity = "operator_admin");

  // A channel to `address` presenting operator_admin, kept per address (its stubs reconnect
  // after a node restarts).
  std::shared_ptr<grpc::Channel> Channel(const std::string& address);

  // The node by name; aborts on an unknown name (a typo in a test).
  Node& GetNode(const std::string& name);
  const std::string& Address(const std::string& name);
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::string& root() const { return root_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& cert_dir() const;
  const Options& options() const { return options_; }

  // Keep the folder at destruction (a test failed); the destructor prints its path.
  void KeepFiles() { keep_files_ = true; }

  // Every later Start/StartAll/EnsureAllRunning (re)start passes
  // `--clock_start=<rfc3339>` to the node (common/node.cc: its clock starts at that instant and
  // runs on), putting the mesh on a given day; "" (the default) = the real clock. Nodes already
  // running keep their clock until restarted.
  void SetClockStart(std::string rfc3339) { clock_start_ = std::move(rfc3339); }
  const std::string& clock_start() const { return clock_start_; }

 private:
  explicit ProcessMesh(Options options) : options_(std::move(options)) {}
  absl::Status Setup();
  absl::Status Spawn(Node& node);
  absl::Status WaitUntilAnswering(std::vector<Node*> pending);

  const Options options_;
  std::string root_;
  std::string data_dir_;
  std::vector<Node> nodes_;
  bool keep_files_ = false;
  std::string clock_start_;  // SetClockStart(); "" = no --clock_start
  std::atomic<int> commands_run_{0};
  std::mutex channels_mutex_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

}  // namespace yidi::testing

#endif  // YIDI_TESTS_TESTING_PROCESS_MESH_H_
