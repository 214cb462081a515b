// Multi-process end-to-end tests with MySQL nodes: the real node binaries on 127.0.0.1, from a
// copy of the demo mesh of deploy/demo/ (the shared harness tests/testing/process_mesh.h, as
// tests/e2e_test.cc uses it), with the national node
// and municipal 360100 (Nanchang) on MySQL and the six others on SQLite. The MySQL server is
// the throwaway MariaDB of the CTest fixture (tests/mysql/mariadb.sh, YIDI_TEST_MARIADB_STATE);
// the nodes connect as `yidi_node`, a user with only the privileges docs/DEPLOY.md lists.
//
//   1. Settlements across provinces through both MySQL nodes; every hop SETTLED, the MySQL
//      rows read back directly; committed data survives restarts of the MySQL nodes.
//   2. A node whose MySQL server is unreachable (or whose database is missing) exits non-zero
//      at start with a message naming the URL, password masked.
//   3. MariaDB crashes (SIGKILL) and later stops (SIGTERM) under a light load of hospitals
//      settling through both MySQL nodes, each retrying the same settlement_id while the
//      answer is UNAVAILABLE; afterwards every settlement acknowledged to a hospital is stored
//      exactly once at each MySQL node, SETTLED at every hop, and the accumulators equal the
//      sum of the recorded changes.
//   4. A user without DDL privileges runs a migrated node (and cannot migrate a fresh one).
//
// Every wait is bounded; nothing asserts on timing.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/config.h"
#include "common/grpc_status.h"
#include "common/settlement_validation.h"
#include "common/store/mysql_store.h"
#include "common/store/store.h"
#include "common/store/store_test_backends.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/process_mesh.h"
#include "tests/testing/test_certificates.h"
#include "yidi/v1/config.pb.h"
#include "yidi/v1/settlement.grpc.pb.h"
#include "yidi/v1/settlement.pb.h"

namespace {

namespace fs = std::filesystem;
using yidi::testing::CommandResult;
using yidi::testing::PickFreePorts;
using yidi::testing::ProcessMesh;
using yidi::v1::SettlementResult;
using yidi::v1::SettleRequest;
using yidi::v1::SettleResponse;

// Limits of the tests, each with its reason (the harness's own are in process_mesh.h).
// A node opens its database, migrates (DDL on MariaDB takes tens of ms a statement) and seeds
// the demo persons: a few seconds at most; 30 s on a loaded CI machine.
constexpr int kNodeStartTimeoutMs = 30000;
// A settlement crosses 5 nodes with forward_deadline_ms 2000 per hop (demo configs).
constexpr int kSettleDeadlineMs = 10000;
constexpr int kReadDeadlineMs = 5000;
// A hospital retries the same settlement_id while the answer leaves the outcome unknown; after
// a MariaDB restart (crash recovery included) the nodes answer again within seconds.
constexpr int kRetryWindowMs = 60000;
constexpr int kRetryPauseMs = 200;
// A child command (a node refusing to start, mariadb.sh) that does not end in time is killed.
constexpr int kCommandTimeoutMs = 120000;
// The light load of the restart test: a few hospitals, each with one settlement in flight.
constexpr int kLoadThreads = 3;
// How long the load runs before, between and after the outages, and how long each lasts.
constexpr int kLoadPhaseMs = 1500;
constexpr int kOutageMs = 1500;

// The nodes on MySQL; the six others stay on SQLite.
const char* const kMysqlNodes[] = {"national", "municipal_360100"};

std::string DemoDir() { return absl::StrCat(YIDI_SOURCE_DIR, "/deploy/demo"); }
std::string WorkloadFile(const std::string& name) { return DemoDir() + "/workload/" + name; }
std::string MariadbScript() { return absl::StrCat(YIDI_SOURCE_DIR, "/tests/mysql/mariadb.sh"); }

// Case 01 (Chongqing hospital, Nanchang insured) and case 02 (Nanchang hospital, Shenyang
// insured): both cross national; 360100 is the owner of one and the entry of the other.
const std::vector<std::string> kCase01Hops = {"municipal_500000", "provincial_500000", "national",
                                              "provincial_360000", "municipal_360100"};
const std::vector<std::string> kCase02Hops = {"municipal_360100", "provincial_360000", "national",
                                              "provincial_210000", "municipal_210100"};

std::chrono::system_clock::time_point DeadlineIn(int ms) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
}

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string StatusText(const grpc::Status& status) {
  return absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
                      ": ", status.error_message());
}

// A demo node config with its paths resolved and a certificate of its node identity.
absl::StatusOr<yidi::v1::NodeConfig> LoadDemoConfig(const std::string& name) {
  auto config = yidi::testing::LoadDemoNodeConfig(name);
  if (config.ok()) yidi::testing::UseProcessCertificate(&*config);
  return config;
}

absl::Status WriteText(const google::protobuf::Message& message, const std::string& path) {
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(message, &text)) {
    return absl::InternalError(absl::StrCat("cannot print ", message.GetTypeName()));
  }
  return yidi::testing::WriteTextFile(path, text);
}

// The throwaway MariaDB of the CTest fixture: its state folder, admin URL and node-user URL.
struct MariadbServer {
  std::string state_dir;
  std::string admin_url;    // mysql://yidi:yidi@127.0.0.1:PORT/
  std::string node_url;     // mysql://yidi_node:yidi-node@127.0.0.1:PORT/ (DDL and DML)
  std::string runtime_url;  // mysql://yidi_runtime:yidi-runtime@127.0.0.1:PORT/ (DML only)

  // Stops (SIGTERM, or SIGKILL when `crash`) or starts the server through mariadb.sh; its
  // output is kept beside `log_path`.
  absl::Status Run(const std::string& command, const std::string& log_path,
                   bool crash = false) const {
    std::vector<std::string> argv = {"/bin/bash", MariadbScript(), command, state_dir};
    if (crash) argv.push_back("--kill");
    const CommandResult result = yidi::testing::RunCommand(
        argv, kCommandTimeoutMs, fs::path(log_path).parent_path().string());
    if (result.exit_code != 0) {
      return absl::InternalError(absl::StrCat("mariadb.sh ", command, " failed (exit ",
                                              result.exit_code, "): ", result.output));
    }
    return absl::OkStatus();
  }
};

// nullopt (the test skips) when no server is configured; an error when it is but unusable.
absl::StatusOr<std::optional<MariadbServer>> FindMariadbServer() {
  const char* state = getenv("YIDI_TEST_MARIADB_STATE");
  if (state == nullptr || *state == 0) return std::optional<MariadbServer>();
  MariadbServer server;
  server.state_dir = state;
  auto admin = yidi::testing::ReadTextFile(server.state_dir + "/url");
  auto node = yidi::testing::ReadTextFile(server.state_dir + "/node_url");
  auto runtime = yidi::testing::ReadTextFile(server.state_dir + "/runtime_url");
  if (!admin.ok() || !node.ok() || !runtime.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "YIDI_TEST_MARIADB_STATE=", server.state_dir,
        " lacks url, node_url or runtime_url: did `tests/mysql/mariadb.sh start` (the CTest "
        "fixture) fail?"));
  }
  server.admin_url = std::string(absl::StripAsciiWhitespace(*admin));
  server.node_url = std::string(absl::StripAsciiWhitespace(*node));
  server.runtime_url = std::string(absl::StripAsciiWhitespace(*runtime));
  return std::optional<MariadbServer>(server);
}

// The demo mesh of real processes (the shared harness) with two nodes on MySQL: each gets a
// database of its own, created here and dropped when the mesh is destroyed.
class Mesh {
 public:
  explicit Mesh(MariadbServer server) : server_(std::move(server)) {}
  ~Mesh() {
    mesh_.reset();  // stops the nodes before their databases go
    for (const auto& [name, database] : databases_) {
      if (absl::Status dropped = yidi::DropMysqlDatabase(server_.admin_url, database);
          !dropped.ok()) {
        std::cerr << "mysql_e2e: cannot drop " << database << ": " << dropped << "\n";
      }
    }
  }

  absl::Status Create() {
    ProcessMesh::Options options;
    options.name = "mysql-e2e";
    options.start_timeout_ms = kNodeStartTimeoutMs;
    options.command_timeout_ms = kCommandTimeoutMs;
    options.configure = [this](const yidi::testing::ProcessNodeSpec& spec,
                               yidi::v1::NodeConfig* config) -> absl::Status {
      if (std::find(std::begin(kMysqlNodes), std::end(kMysqlNodes), spec.name) ==
          std::end(kMysqlNodes)) {
        return absl::OkStatus();
      }
      // yidi_node may use only databases named yidi_node_* (mariadb.sh).
      const std::string database = absl::StrCat("yidi_node_", getpid(), "_", spec.name);
      if (absl::Status created = yidi::CreateMysqlDatabase(server_.admin_url, database);
          !created.ok()) {
        return created;
      }
      databases_[spec.name] = database;
      config->set_database_url(NodeDatabaseUrl(server_.node_url, spec.name));
      return absl::OkStatus();
    };
    auto mesh = ProcessMesh::Create(std::move(options));
    if (!mesh.ok()) return mesh.status();
    mesh_ = std::move(*mesh);
    return absl::OkStatus();
  }

  absl::Status StartAll() { return mesh_->StartAll(); }
  absl::Status Start(const std::string& name) { return mesh_->Start(name); }
  // Sends `signal` and reaps the process.
  absl::Status Stop(const std::string& name, int signal) { return mesh_->Kill(name, signal); }
  // Restarts every node that is not running (what an earlier test may have left).
  absl::Status EnsureAllRunning() { return mesh_->EnsureAllRunning(); }
  void KeepFiles() {
    if (mesh_ != nullptr) mesh_->KeepFiles();
  }

  const std::string& Address(const std::string& name) { return mesh_->Address(name); }
  std::string root() const { return mesh_ != nullptr ? mesh_->root() : ""; }
  const MariadbServer& server() const { return server_; }

  // Rewrites the database URL of a node's config (takes effect at its next start).
  absl::Status SetDatabaseUrl(const std::string& name, const std::string& url) {
    return mesh_->RewriteConfig(name,
                                [&](yidi::v1::NodeConfig* config) { config->set_database_url(url); });
  }

  // The URL a node of the mesh uses for its MySQL database, as the user of `server_url`.
  std::string NodeDatabaseUrl(const std::string& server_url, const std::string& name) {
    return absl::StrCat(server_url, databases_.at(name), "?pool=6");
  }

  // The URL an administrator reads a MySQL node's database with.
  std::string AdminDatabaseUrl(const std::string& name) {
    return server_.admin_url + databases_.at(name);
  }

  // Thread-safe: the load threads share it.
  std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
    return mesh_->Channel(address);
  }

 private:
  const MariadbServer server_;
  std::map<std::string, std::string> databases_;  // node name → MySQL database
  std::unique_ptr<ProcessMesh> mesh_;
};

SettleRequest LoadWorkload(const std::string& file) {
  SettleRequest request;
  absl::Status loaded = yidi::LoadTextProtoFile(WorkloadFile(file), &request);
  EXPECT_TRUE(loaded.ok()) << loaded;
  return request;
}

// A new bill from a workload case: a fresh settlement_id and admission number.
SettleRequest NewBill(const SettleRequest& base, const std::string& serial) {
  SettleRequest request = base;
  request.set_settlement_id(
      absl::StrCat(base.visit().institution_code(), "-MY", getpid(), "-", serial));
  request.mutable_visit()->set_admission_number(
      absl::StrCat(base.visit().admission_number(), "M", serial));
  return request;
}

// Opens a MySQL node's database as the administrator, to read what the node stored.
std::unique_ptr<yidi::Store> OpenAdmin(const std::string& url) {
  auto store = yidi::OpenStore(url);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// (rows with this settlement_id, state of the first) in settlement_record.
std::pair<int64_t, int64_t> StoredRecord(yidi::Store& store, const std::string& settlement_id) {
  auto tx = store.Begin(yidi::TransactionMode::kRead);
  EXPECT_TRUE(tx.ok()) << tx.status();
  if (!tx.ok()) return {-1, -1};
  auto rows = (*tx)->Query(
      "SELECT COUNT(*), MIN(state) FROM settlement_record WHERE settlement_id = ?",
      {settlement_id});
  EXPECT_TRUE(rows.ok()) << rows.status();
  if (!rows.ok() || rows->empty()) return {-1, -1};
  return {(*rows)[0].Int(0), (*rows)[0].Int(1)};
}

class MysqlMeshTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = FindMariadbServer();
    if (!server.ok()) {
      setup_error_ = server.status().ToString();
      return;
    }
    if (!server->has_value()) return;  // each test skips
    mesh_ = new Mesh(**server);
    absl::Status status = mesh_->Create();
    if (status.ok()) status = mesh_->StartAll();
    if (!status.ok()) {
      setup_error_ = status.ToString();
      any_failure_ = true;
    }
  }

  // Stops the nodes and drops their databases; the harness keeps the folder (and prints its
  // path) when a test failed.
  static void TearDownTestSuite() {
    if (mesh_ == nullptr) return;
    if (any_failure_) mesh_->KeepFiles();
    delete mesh_;
    mesh_ = nullptr;
  }

  void SetUp() override {
    if (!setup_error_.empty()) GTEST_FAIL() << "the mesh did not start: " << setup_error_;
    if (mesh_ == nullptr) GTEST_SKIP() << yidi::store_testing::MysqlSkipMessage();
    absl::Status running = mesh_->EnsureAllRunning();
    ASSERT_TRUE(running.ok()) << running;
  }

  void TearDown() override {
    if (HasFailure()) {
      any_failure_ = true;
      std::cerr << "mysql_e2e: mesh dir " << (mesh_ != nullptr ? mesh_->root() : "") << "\n";
    }
  }

  static std::string Serial() { return absl::StrCat(serial_.fetch_add(1) + 1); }

  static grpc::Status Settle(const std::string& node, const SettleRequest& request,
                             SettleResponse* response) {
    auto stub = yidi::v1::SettlementService::NewStub(mesh_->Channel(mesh_->Address(node)));
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kSettleDeadlineMs));
    return stub->Settle(&context, request, response);
  }

  // What a hospital does when the answer leaves the outcome unknown (UNAVAILABLE, or its own
  // deadline passing): the same request, same settlement_id, again, within a bounded window.
  // `first_unknown`, when given, receives the first such answer.
  static grpc::Status SettleRetrying(const std::string& node, const SettleRequest& request,
                                     SettleResponse* response, int* attempts,
                                     std::string* first_unknown = nullptr) {
    const auto window_end =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kRetryWindowMs);
    for (;;) {
      ++*attempts;
      response->Clear();
      grpc::Status status = Settle(node, request, response);
      const bool unknown = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                           status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
      if (!unknown || std::chrono::steady_clock::now() >= window_end) return status;
      if (first_unknown != nullptr && first_unknown->empty()) *first_unknown = StatusText(status);
      SleepMs(kRetryPauseMs);
    }
  }

  static grpc::Status GetRecord(const std::string& node, const std::string& settlement_id,
                                yidi::v1::GetSettlementResponse* response) {
    auto stub = yidi::v1::SettlementService::NewStub(mesh_->Channel(mesh_->Address(node)));
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kReadDeadlineMs));
    context.set_wait_for_ready(true);
    yidi::v1::GetSettlementRequest request;
    request.set_settlement_id(settlement_id);
    return stub->GetSettlement(&context, request, response);
  }

  // Every hop has the settlement SETTLED with the slip's amounts.
  void ExpectSettledAt(const std::vector<std::string>& hops, const SettlementResult& slip) {
    for (const std::string& hop : hops) {
      yidi::v1::GetSettlementResponse record;
      grpc::Status status = GetRecord(hop, slip.settlement_id(), &record);
      ASSERT_TRUE(status.ok()) << hop << ": " << StatusText(status);
      EXPECT_EQ(record.state(), yidi::v1::SETTLEMENT_STATE_SETTLED)
          << hop << " " << slip.settlement_id();
      EXPECT_EQ(record.result().total_fen(), slip.total_fen()) << hop;
      EXPECT_EQ(record.result().fund_total_fen(), slip.fund_total_fen()) << hop;
      EXPECT_EQ(record.result().cash_fen(), slip.cash_fen()) << hop;
    }
  }

  // The MySQL nodes hold exactly one SETTLED row for the settlement.
  void ExpectStoredOnceAtMysqlNodes(const std::string& settlement_id) {
    for (const char* name : {"national", "municipal_360100"}) {
      std::unique_ptr<yidi::Store> store = OpenAdmin(mesh_->AdminDatabaseUrl(name));
      ASSERT_NE(store, nullptr);
      const auto [count, state] = StoredRecord(*store, settlement_id);
      EXPECT_EQ(count, 1) << name << " " << settlement_id;
      EXPECT_EQ(state, yidi::v1::SETTLEMENT_STATE_SETTLED) << name << " " << settlement_id;
    }
  }

  SettlementResult SettleAndCheck(const std::string& entry, const SettleRequest& request,
                                  const std::vector<std::string>& hops) {
    SettleResponse response;
    grpc::Status status = Settle(entry, request, &response);
    EXPECT_TRUE(status.ok()) << request.settlement_id() << " at " << entry << ": "
                             << StatusText(status);
    if (!status.ok()) return {};
    const SettlementResult& slip = response.result();
    EXPECT_EQ(slip.state(), yidi::v1::SETTLEMENT_STATE_SETTLED);
    EXPECT_TRUE(yidi::CheckSlipIdentities(slip).ok());
    EXPECT_EQ(slip.total_fen(), request.declared_total_fen());
    ExpectSettledAt(hops, slip);
    ExpectStoredOnceAtMysqlNodes(request.settlement_id());
    return slip;
  }

  static Mesh* mesh_;
  static std::string setup_error_;
  static bool any_failure_;
  static std::atomic<int> serial_;
};

Mesh* MysqlMeshTest::mesh_ = nullptr;
std::string MysqlMeshTest::setup_error_;
bool MysqlMeshTest::any_failure_ = false;
std::atomic<int> MysqlMeshTest::serial_{0};

// 1. Workload 01 (owner: Nanchang, on MySQL) and 02 (entry: Nanchang) settle through national
// (on MySQL); both MySQL nodes hold one SETTLED row each; the data survives a SIGTERM of
// national and a SIGKILL of municipal 360100, and settling goes on after their restarts.
TEST_F(MysqlMeshTest, SettlesAcrossProvincesThroughMysqlNodes) {
  const SettleRequest case01 = NewBill(LoadWorkload("01_cross_province_inpatient.textproto"),
                                       Serial());
  const SettleRequest case02 = NewBill(LoadWorkload("02_cross_province_outpatient.textproto"),
                                       Serial());
  const SettlementResult slip01 = SettleAndCheck("municipal_500000", case01, kCase01Hops);
  ASSERT_FALSE(HasFailure());
  const SettlementResult slip02 = SettleAndCheck("municipal_360100", case02, kCase02Hops);
  ASSERT_FALSE(HasFailure());

  // The owner committed the accumulator changes with the record, in MySQL.
  {
    std::unique_ptr<yidi::Store> store = OpenAdmin(mesh_->AdminDatabaseUrl("municipal_360100"));
    ASSERT_NE(store, nullptr);
    auto tx = store->Begin(yidi::TransactionMode::kRead);
    ASSERT_TRUE(tx.ok());
    auto changes = (*tx)->Query("SELECT COUNT(*) FROM accumulator_change WHERE settlement_id = ?",
                                {case01.settlement_id()});
    ASSERT_TRUE(changes.ok()) << changes.status();
    EXPECT_GT((*changes)[0].Int(0), 0);
  }

  // A replay returns the stored result and stores nothing more.
  SettleResponse replay;
  grpc::Status status = Settle("municipal_500000", case01, &replay);
  ASSERT_TRUE(status.ok()) << StatusText(status);
  EXPECT_TRUE(replay.replayed());
  ExpectStoredOnceAtMysqlNodes(case01.settlement_id());

  ASSERT_TRUE(mesh_->Stop("national", SIGTERM).ok());
  ASSERT_TRUE(mesh_->Stop("municipal_360100", SIGKILL).ok());
  ASSERT_TRUE(mesh_->Start("national").ok());
  ASSERT_TRUE(mesh_->Start("municipal_360100").ok());
  ExpectSettledAt(kCase01Hops, slip01);
  ExpectSettledAt(kCase02Hops, slip02);
  const SettleRequest after = NewBill(LoadWorkload("01_cross_province_inpatient.textproto"),
                                      Serial());
  SettleResponse response;
  int attempts = 0;
  status = SettleRetrying("municipal_500000", after, &response, &attempts);
  ASSERT_TRUE(status.ok()) << "after " << attempts << " attempts: " << StatusText(status);
  ExpectSettledAt(kCase01Hops, response.result());
  ExpectStoredOnceAtMysqlNodes(after.settlement_id());
}

// 2. A node whose MySQL server cannot be reached, or whose database does not exist, exits
// non-zero at start, naming the URL with its password masked.
TEST_F(MysqlMeshTest, NodeExitsAtStartWhenMysqlIsUnreachable) {
  auto ports = PickFreePorts(2);
  ASSERT_TRUE(ports.ok());
  const int closed_port = (*ports)[0];
  auto config = LoadDemoConfig("national");
  ASSERT_TRUE(config.ok()) << config.status();
  config->set_listen_address(absl::StrCat("127.0.0.1:", (*ports)[1]));
  config->set_directory_file(DemoDir() + "/directory.textproto");

  auto parsed = yidi::ParseMysqlUrl(mesh_->server().node_url, /*database_required=*/false);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const struct {
    std::string url;
    std::string masked;
    std::string cause;
  } kCases[] = {
      {absl::StrCat("mysql://yidi_node:s3cret-pw@127.0.0.1:", closed_port, "/yidi_node_x"),
       absl::StrCat("mysql://yidi_node:***@127.0.0.1:", closed_port, "/yidi_node_x"),
       absl::StrCat("127.0.0.1:", closed_port)},
      {absl::StrCat("mysql://yidi_node:", parsed->password, "@127.0.0.1:", parsed->port,
                    "/yidi_node_missing_", getpid()),
       absl::StrCat("mysql://yidi_node:***@127.0.0.1:", parsed->port, "/yidi_node_missing_",
                    getpid()),
       "Unknown database"},
  };
  int run = 0;
  for (const auto& test_case : kCases) {
    config->set_database_url(test_case.url);
    const std::string config_path = absl::StrCat(mesh_->root(), "/unreachable-", ++run,
                                                  ".textproto");
    ASSERT_TRUE(WriteText(*config, config_path).ok());
    const CommandResult result = yidi::testing::RunCommand(
        {yidi::testing::BuildPath("national/yidi-national"), "--config=" + config_path,
         "--data_dir=" + mesh_->root()},
        kCommandTimeoutMs, mesh_->root() + "/logs");
    ASSERT_NE(result.exit_code, -1) << "did not run to completion: " << result.err;
    EXPECT_NE(result.exit_code, 0) << result.output;
    EXPECT_TRUE(absl::StrContains(result.output, "cannot start")) << result.output;
    EXPECT_TRUE(absl::StrContains(result.output, test_case.masked)) << result.output;
    EXPECT_TRUE(absl::StrContains(result.output, test_case.cause)) << result.output;
    EXPECT_FALSE(absl::StrContains(result.output, "s3cret-pw")) << result.output;
    EXPECT_FALSE(absl::StrContains(result.output, ":" + parsed->password + "@"))
        << result.output;
  }
}

// 3. MariaDB crashes (SIGKILL), comes back, then stops cleanly (SIGTERM) and comes back, while
// hospitals keep settling through both MySQL nodes with retries of the same settlement_id.
// Every settlement acknowledged to a hospital is stored exactly once at each MySQL node and is
// SETTLED at every hop; the owner's accumulators equal the sum of its recorded changes.
TEST_F(MysqlMeshTest, MariadbRestartsUnderLoadLoseNothingAcknowledged) {
  const SettleRequest base = LoadWorkload("01_cross_province_inpatient.textproto");
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<SettlementResult> acknowledged;  // guarded by mutex
  std::vector<std::string> failures;           // guarded by mutex
  std::vector<std::string> outage_answers;     // guarded by mutex: what hospitals were told
  std::atomic<int> retried{0};
  std::vector<std::thread> hospitals;
  for (int t = 0; t < kLoadThreads; ++t) {
    hospitals.emplace_back([&] {
      while (!stop.load()) {
        const SettleRequest bill = NewBill(base, Serial());
        SettleResponse response;
        int attempts = 0;
        std::string first_unknown;
        grpc::Status status =
            SettleRetrying("municipal_500000", bill, &response, &attempts, &first_unknown);
        if (attempts > 1) retried.fetch_add(1);
        std::lock_guard<std::mutex> lock(mutex);
        if (!first_unknown.empty()) outage_answers.push_back(first_unknown);
        if (status.ok()) {
          acknowledged.push_back(response.result());
        } else {
          failures.push_back(absl::StrCat(bill.settlement_id(), " after ", attempts,
                                          " attempts: ", StatusText(status)));
        }
      }
    });
  }
  auto acknowledged_count = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return acknowledged.size();
  };
  const std::string logs = mesh_->root() + "/logs/";
  SleepMs(kLoadPhaseMs);
  const size_t before_crash = acknowledged_count();
  absl::Status crashed = mesh_->server().Run("server-stop", logs + "mariadb-kill.log", true);
  EXPECT_TRUE(crashed.ok()) << crashed;
  SleepMs(kOutageMs);
  absl::Status restarted = mesh_->server().Run("server-start", logs + "mariadb-start-1.log");
  EXPECT_TRUE(restarted.ok()) << restarted;
  SleepMs(kLoadPhaseMs);
  const size_t before_stop = acknowledged_count();
  absl::Status stopped = mesh_->server().Run("server-stop", logs + "mariadb-term.log");
  EXPECT_TRUE(stopped.ok()) << stopped;
  SleepMs(kOutageMs);
  restarted = mesh_->server().Run("server-start", logs + "mariadb-start-2.log");
  EXPECT_TRUE(restarted.ok()) << restarted;
  SleepMs(kLoadPhaseMs);
  stop = true;
  for (std::thread& hospital : hospitals) hospital.join();

  std::cout << "mysql_e2e: " << acknowledged.size() << " settlements acknowledged ("
            << before_crash << " before the crash, " << before_stop << " before the stop), "
            << retried.load() << " needed retries; first answers during the outages:\n  "
            << absl::StrJoin(outage_answers, "\n  ") << "\n";
  EXPECT_TRUE(failures.empty()) << absl::StrJoin(failures, "\n");
  EXPECT_GT(before_crash, 0u);
  EXPECT_GT(acknowledged.size(), before_stop);  // work resumed after the second restart
  ASSERT_FALSE(acknowledged.empty());

  std::unique_ptr<yidi::Store> national = OpenAdmin(mesh_->AdminDatabaseUrl("national"));
  std::unique_ptr<yidi::Store> owner = OpenAdmin(mesh_->AdminDatabaseUrl("municipal_360100"));
  ASSERT_NE(national, nullptr);
  ASSERT_NE(owner, nullptr);
  for (const SettlementResult& slip : acknowledged) {
    for (yidi::Store* store : {national.get(), owner.get()}) {
      const auto [count, state] = StoredRecord(*store, slip.settlement_id());
      EXPECT_EQ(count, 1) << store->DisplayUrl() << " " << slip.settlement_id();
      EXPECT_EQ(state, yidi::v1::SETTLEMENT_STATE_SETTLED)
          << store->DisplayUrl() << " " << slip.settlement_id();
    }
    ExpectSettledAt(kCase01Hops, slip);
  }
  // No lost and no doubled accumulator update: each accumulator is the sum of the changes
  // recorded, one set per committed settlement.
  auto tx = owner->Begin(yidi::TransactionMode::kRead);
  ASSERT_TRUE(tx.ok()) << tx.status();
  auto mismatches = (*tx)->Query(
      "SELECT a.name, a.amount, SUM(c.delta) FROM accumulator a JOIN accumulator_change c "
      "ON c.id_number = a.id_number AND c.insurance_type = a.insurance_type "
      "AND c.year = a.year AND c.name = a.name WHERE a.id_number = ? "
      "GROUP BY a.name, a.amount HAVING a.amount <> SUM(c.delta)",
      {base.id_number()});
  ASSERT_TRUE(mismatches.ok()) << mismatches.status();
  EXPECT_TRUE(mismatches->empty()) << (*mismatches)[0].Text(0);
}

// 4. docs/DEPLOY.md's split: a user with DDL privileges migrates (every node of this mesh did,
// as yidi_node); afterwards a user with only SELECT, INSERT, UPDATE and DELETE runs the node.
// The same runtime user cannot start a node on a database never migrated: it says why.
TEST_F(MysqlMeshTest, RuntimeUserWithoutDdlPrivilegesRunsAMigratedNode) {
  const std::string runtime_url =
      mesh_->NodeDatabaseUrl(mesh_->server().runtime_url, "municipal_360100");
  ASSERT_TRUE(mesh_->Stop("municipal_360100", SIGTERM).ok());
  ASSERT_TRUE(mesh_->SetDatabaseUrl("municipal_360100", runtime_url).ok());
  absl::Status started = mesh_->Start("municipal_360100");
  EXPECT_TRUE(started.ok()) << started;
  if (started.ok()) {
    SettleAndCheck("municipal_500000",
                   NewBill(LoadWorkload("01_cross_province_inpatient.textproto"), Serial()),
                   kCase01Hops);
    ASSERT_TRUE(mesh_->Stop("municipal_360100", SIGTERM).ok());
  }
  ASSERT_TRUE(mesh_->SetDatabaseUrl(
                        "municipal_360100",
                        mesh_->NodeDatabaseUrl(mesh_->server().node_url, "municipal_360100"))
                  .ok());  // SetUp of the next test restarts it as yidi_node

  const std::string fresh = absl::StrCat("yidi_node_", getpid(), "_fresh");
  ASSERT_TRUE(yidi::CreateMysqlDatabase(mesh_->server().admin_url, fresh).ok());
  auto ports = PickFreePorts(1);
  ASSERT_TRUE(ports.ok());
  auto config = LoadDemoConfig("national");
  ASSERT_TRUE(config.ok()) << config.status();
  config->set_listen_address(absl::StrCat("127.0.0.1:", (*ports)[0]));
  config->set_directory_file(DemoDir() + "/directory.textproto");
  config->set_database_url(mesh_->server().runtime_url + fresh);
  const std::string config_path = mesh_->root() + "/runtime-fresh.textproto";
  ASSERT_TRUE(WriteText(*config, config_path).ok());
  const CommandResult result = yidi::testing::RunCommand(
      {yidi::testing::BuildPath("national/yidi-national"), "--config=" + config_path,
       "--data_dir=" + mesh_->root()},
      kCommandTimeoutMs, mesh_->root() + "/logs");
  EXPECT_TRUE(yidi::DropMysqlDatabase(mesh_->server().admin_url, fresh).ok());
  ASSERT_NE(result.exit_code, -1) << "did not run to completion: " << result.err;
  EXPECT_NE(result.exit_code, 0) << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, "cannot start")) << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, "CREATE command denied")) << result.output;
}

}  // namespace
