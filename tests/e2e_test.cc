// Multi-process end-to-end tests: the real node binaries (yidi-municipal, yidi-provincial,
// yidi-national) and yidictl, started as separate processes on 127.0.0.1 from a copy of the
// demo mesh of deploy/demo/ whose addresses are rewritten to free loopback ports.
//
// One mesh per test suite (E2eMeshTest), the shared harness tests/testing/process_mesh.h:
// SetUpTestSuite writes the configs into a fresh temp dir under /tmp and starts the 8 nodes;
// every test first restarts any node an earlier test left dead; TearDownTestSuite stops them
// (SIGTERM, bounded wait, SIGKILL) and removes the temp dir unless a test failed (its path,
// with the node logs in logs/, is then printed).
//
// Every link is mutual TLS (docs/SECURITY.md): the harness issues a certificate per node from
// the test process's CA (tests/testing/test_certificates.h); yidictl presents the admin
// operator's or an institution's from the harness's cert_dir().
//
// Every wait is bounded; nothing asserts on timing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/grpc_status.h"
#include "common/security.h"
#include "common/settlement_validation.h"
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
using yidi::testing::ProcessMesh;
using yidi::v1::SettlementResult;
using yidi::v1::SettlementState;
using yidi::v1::SettleRequest;
using yidi::v1::SettleResponse;

// Limits of the tests, each with its reason (the harness's own are in process_mesh.h).
// A settlement crosses 5 nodes with forward_deadline_ms 2000 per hop (demo configs).
constexpr int kSettleDeadlineMs = 10000;
// The brief's deadline for a settle that must fail because a hop is down.
constexpr int kSettleWithHopDownDeadlineMs = 5000;
// Reads of one node's own record.
constexpr int kReadDeadlineMs = 5000;
// A retry after a restart: the upstream hop's channel to the restarted node may still be in
// its reconnect backoff (at most 1 s, common/grpc_status.cc) and answer UNAVAILABLE; a
// hospital retries. Bounded window, fixed pause.
constexpr int kRetryWindowMs = 10000;
constexpr int kRetryPauseMs = 200;
// How often the second-instance test looks at its child.
constexpr int kPollIntervalMs = 50;

std::string DemoDir() { return absl::StrCat(YIDI_SOURCE_DIR, "/deploy/demo"); }
std::string WorkloadFile(const std::string& name) { return DemoDir() + "/workload/" + name; }

// The five hops of the two cross-province workload cases, entry first.
const std::vector<std::string> kCase01Hops = {"municipal_500000", "provincial_500000", "national",
                                              "provincial_360000", "municipal_360100"};
const std::vector<std::string> kCase02Hops = {"municipal_360100", "provincial_360000", "national",
                                              "provincial_210000", "municipal_210100"};

std::chrono::system_clock::time_point DeadlineIn(int ms) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
}

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string StatusText(const grpc::Status& status) {
  return absl::StrCat(
      absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())), ": ",
      status.error_message());
}

SettleRequest LoadWorkload(const std::string& file) {
  SettleRequest request;
  absl::Status loaded = yidi::LoadTextProtoFile(WorkloadFile(file), &request);
  EXPECT_TRUE(loaded.ok()) << loaded;
  return request;
}

// A new bill from a workload case: a fresh settlement_id (still `<institution>-<serial>`) and a
// fresh admission number; everything else as the hospital sent the original.
SettleRequest NewBill(const SettleRequest& base, const std::string& serial) {
  SettleRequest request = base;
  request.set_settlement_id(
      absl::StrCat(base.visit().institution_code(), "-E2E", getpid(), "-", serial));
  request.mutable_visit()->set_admission_number(
      absl::StrCat(base.visit().admission_number(), "E", serial));
  return request;
}

bool IsSettledState(SettlementState state) {
  return state == yidi::v1::SETTLEMENT_STATE_SETTLED;
}

// The slip identities, by the shared check and spelled out.
void ExpectSlipIdentities(const SettlementResult& result, int64_t declared_total_fen) {
  const absl::Status identities = yidi::CheckSlipIdentities(result);
  EXPECT_TRUE(identities.ok()) << identities << "\n" << result.DebugString();
  EXPECT_EQ(result.total_fen(), declared_total_fen);
  // total = in_scope + class_b_copay + over_cap + self_pay
  EXPECT_EQ(result.total_fen(), result.in_scope_fen() + result.class_b_copay_fen() +
                                    result.over_cap_fen() + result.self_pay_fen());
  // total = funds (personal account counted among them, as the slip does) + cash
  EXPECT_EQ(result.total_fen(),
            result.fund_total_fen() + result.personal_account_fen() + result.cash_fen());
  int64_t fund_payments_fen = 0;
  for (const auto& payment : result.fund_payments()) {
    EXPECT_GE(payment.amount_fen(), 0) << payment.DebugString();
    fund_payments_fen += payment.amount_fen();
  }
  EXPECT_EQ(result.total_fen(), fund_payments_fen + result.cash_fen());
  for (int64_t amount : {result.total_fen(), result.in_scope_fen(), result.class_b_copay_fen(),
                         result.over_cap_fen(), result.self_pay_fen(), result.fund_total_fen(),
                         result.personal_account_fen(), result.cash_fen()}) {
    EXPECT_GE(amount, 0);
  }
}

// Every amount of `actual` (a hop's record) equals `expected` (the slip the hospital got).
void ExpectSameAmounts(const SettlementResult& expected, const SettlementResult& actual,
                       const std::string& where) {
  SCOPED_TRACE(where);
  using Getter = int64_t (SettlementResult::*)() const;
  const std::pair<const char*, Getter> amounts[] = {
      {"total_fen", &SettlementResult::total_fen},
      {"in_scope_fen", &SettlementResult::in_scope_fen},
      {"class_b_copay_fen", &SettlementResult::class_b_copay_fen},
      {"over_cap_fen", &SettlementResult::over_cap_fen},
      {"self_pay_fen", &SettlementResult::self_pay_fen},
      {"deductible_applied_fen", &SettlementResult::deductible_applied_fen},
      {"pooled_fund_fen", &SettlementResult::pooled_fund_fen},
      {"large_expense_fen", &SettlementResult::large_expense_fen},
      {"civil_servant_fen", &SettlementResult::civil_servant_fen},
      {"supplementary_fen", &SettlementResult::supplementary_fen},
      {"disabled_veteran_fen", &SettlementResult::disabled_veteran_fen},
      {"critical_illness_fen", &SettlementResult::critical_illness_fen},
      {"medical_assistance_fen", &SettlementResult::medical_assistance_fen},
      {"other_fund_fen", &SettlementResult::other_fund_fen},
      {"fund_total_fen", &SettlementResult::fund_total_fen},
      {"personal_account_fen", &SettlementResult::personal_account_fen},
      {"cash_fen", &SettlementResult::cash_fen},
      {"person_part_fen", &SettlementResult::person_part_fen},
      {"slip_fund_total_fen", &SettlementResult::slip_fund_total_fen},
  };
  for (const auto& [field, getter] : amounts) {
    EXPECT_EQ((expected.*getter)(), (actual.*getter)()) << field;
  }
  ASSERT_EQ(expected.fund_payments_size(), actual.fund_payments_size());
  for (int i = 0; i < expected.fund_payments_size(); ++i) {
    EXPECT_EQ(expected.fund_payments(i).fund_payment_type(),
              actual.fund_payments(i).fund_payment_type());
    EXPECT_EQ(expected.fund_payments(i).amount_fen(), actual.fund_payments(i).amount_fen());
  }
  EXPECT_EQ(expected.settlement_id(), actual.settlement_id());
  EXPECT_EQ(expected.id_number(), actual.id_number());
  EXPECT_EQ(expected.insured_region(), actual.insured_region());
  EXPECT_EQ(expected.treatment_region(), actual.treatment_region());
  EXPECT_EQ(expected.institution_code(), actual.institution_code());
  EXPECT_EQ(expected.settlement_date(), actual.settlement_date());
}

class E2eMeshTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ProcessMesh::Options options;
    options.name = "e2e";
    auto mesh = ProcessMesh::Create(options);
    absl::Status status = mesh.status();
    if (mesh.ok()) {
      mesh_ = mesh->release();
      status = mesh_->StartAll();
    }
    if (!status.ok()) {
      setup_error_ = status.ToString();
      any_failure_ = true;
    }
  }

  // Stops the nodes; the harness keeps the folder (and prints its path) when a test failed.
  static void TearDownTestSuite() {
    if (mesh_ == nullptr) return;
    if (any_failure_) mesh_->KeepFiles();
    delete mesh_;
    mesh_ = nullptr;
  }

  void SetUp() override {
    if (!setup_error_.empty()) GTEST_FAIL() << "the mesh did not start: " << setup_error_;
    absl::Status running = mesh_->EnsureAllRunning();
    ASSERT_TRUE(running.ok()) << running;
  }

  void TearDown() override {
    if (HasFailure()) {
      any_failure_ = true;
      std::cerr << "e2e: mesh dir " << (mesh_ != nullptr ? mesh_->root() : "") << "\n";
    }
  }

  static std::string Serial() { return absl::StrCat(++serial_); }

  grpc::Status Settle(const std::string& node, const SettleRequest& request,
                      SettleResponse* response, int deadline_ms = kSettleDeadlineMs) {
    auto stub = yidi::v1::SettlementService::NewStub(mesh_->Channel(mesh_->Address(node)));
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(deadline_ms));
    return stub->Settle(&context, request, response);
  }

  grpc::Status PreSettle(const std::string& node, const SettleRequest& request,
                         SettleResponse* response) {
    auto stub = yidi::v1::SettlementService::NewStub(mesh_->Channel(mesh_->Address(node)));
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kSettleDeadlineMs));
    return stub->PreSettle(&context, request, response);
  }

  // Retries while the answer is UNAVAILABLE, within kRetryWindowMs; counts the attempts.
  grpc::Status SettleRetrying(const std::string& node, const SettleRequest& request,
                              SettleResponse* response, int* attempts) {
    const auto window_end =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kRetryWindowMs);
    for (;;) {
      ++*attempts;
      response->Clear();
      grpc::Status status = Settle(node, request, response);
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE ||
          std::chrono::steady_clock::now() >= window_end) {
        return status;
      }
      SleepMs(kRetryPauseMs);
    }
  }

  grpc::Status GetRecord(const std::string& node, const std::string& settlement_id,
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
          << hop << ": " << yidi::v1::SettlementState_Name(record.state());
      EXPECT_EQ(record.result().state(), yidi::v1::SETTLEMENT_STATE_SETTLED) << hop;
      EXPECT_FALSE(record.request_digest().empty()) << hop;
      ExpectSameAmounts(slip, record.result(), hop);
    }
  }

  // The node has no record of the settlement.
  void ExpectNoRecordAt(const std::string& node, const std::string& settlement_id) {
    yidi::v1::GetSettlementResponse record;
    grpc::Status status = GetRecord(node, settlement_id, &record);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
        << node << ": " << StatusText(status) << " state "
        << yidi::v1::SettlementState_Name(record.state());
  }

  // The node recorded the settlement as in flight or in doubt: never SETTLED.
  void ExpectUnresolvedAt(const std::string& node, const std::string& settlement_id) {
    yidi::v1::GetSettlementResponse record;
    grpc::Status status = GetRecord(node, settlement_id, &record);
    ASSERT_TRUE(status.ok()) << node << ": " << StatusText(status);
    EXPECT_FALSE(IsSettledState(record.state())) << node;
    EXPECT_TRUE(record.state() == yidi::v1::SETTLEMENT_STATE_IN_DOUBT ||
                record.state() == yidi::v1::SETTLEMENT_STATE_PENDING)
        << node << ": " << yidi::v1::SettlementState_Name(record.state());
  }

  // Settles `request` at `entry`; checks the slip and the record at every hop. Returns the slip.
  SettlementResult SettleAndCheck(const std::string& entry, const SettleRequest& request,
                                  const std::vector<std::string>& hops) {
    SettleResponse response;
    grpc::Status status = Settle(entry, request, &response);
    EXPECT_TRUE(status.ok()) << request.settlement_id() << " at " << entry << ": "
                             << StatusText(status);
    if (!status.ok()) return {};
    const SettlementResult& slip = response.result();
    EXPECT_EQ(slip.state(), yidi::v1::SETTLEMENT_STATE_SETTLED);
    EXPECT_FALSE(response.replayed());
    EXPECT_EQ(slip.settlement_id(), request.settlement_id());
    ExpectSlipIdentities(slip, request.declared_total_fen());
    ExpectSettledAt(hops, slip);
    return slip;
  }

  static ProcessMesh* mesh_;
  static std::string setup_error_;
  static bool any_failure_;
  static int serial_;
};

ProcessMesh* E2eMeshTest::mesh_ = nullptr;
std::string E2eMeshTest::setup_error_;
bool E2eMeshTest::any_failure_ = false;
int E2eMeshTest::serial_ = 0;

// 1. Workload 01 (Chongqing hospital, Nanchang insured) and 02 (Nanchang hospital, Shenyang
// insured) settle at their treatment municipal nodes; each of the 5 hops records the same result.
TEST_F(E2eMeshTest, SettlesAcrossProvinces) {
  const SettleRequest case01 = LoadWorkload("01_cross_province_inpatient.textproto");
  const SettleRequest case02 = LoadWorkload("02_cross_province_outpatient.textproto");
  ASSERT_EQ(case01.treatment_region(), "500000");
  ASSERT_EQ(case01.insured_region(), "360100");
  ASSERT_EQ(case02.treatment_region(), "360100");
  ASSERT_EQ(case02.insured_region(), "210100");

  const SettlementResult slip01 = SettleAndCheck("municipal_500000", case01, kCase01Hops);
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(slip01.total_fen(), 358625);
  EXPECT_EQ(slip01.insured_region(), "360100");
  EXPECT_EQ(slip01.treatment_region(), "500000");
  EXPECT_GT(slip01.fund_total_fen(), 0);
  EXPECT_GT(slip01.over_cap_fen(), 0);  // the single room above Chongqing's cap
  EXPECT_GT(slip01.self_pay_fen(), 0);  // class C lines

  const SettlementResult slip02 = SettleAndCheck("municipal_360100", case02, kCase02Hops);
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(slip02.total_fen(), 31600);
  EXPECT_EQ(slip02.insured_region(), "210100");
  EXPECT_EQ(slip02.treatment_region(), "360100");

  // A retry of the same settlement_id returns the stored result, and nothing changes.
  SettleResponse replay;
  grpc::Status status = Settle("municipal_500000", case01, &replay);
  ASSERT_TRUE(status.ok()) << StatusText(status);
  EXPECT_TRUE(replay.replayed());
  ExpectSameAmounts(slip01, replay.result(), "replay of case 01");
  ExpectSettledAt(kCase01Hops, slip01);
}

// 2. A crash (SIGKILL) of the insured province's node: the settle fails UNAVAILABLE naming the
// hop, nothing is SETTLED anywhere; after a restart a retry of the same id settles at every hop.
TEST_F(E2eMeshTest, ProvincialCrashLeavesNothingSettledAndRetrySettlesAfterRestart) {
  const SettleRequest base = LoadWorkload("01_cross_province_inpatient.textproto");
  const SettleRequest bill = NewBill(base, Serial());

  absl::Status killed = mesh_->Kill("provincial_360000", SIGKILL);
  ASSERT_TRUE(killed.ok()) << killed;

  SettleResponse response;
  grpc::Status status =
      Settle("municipal_500000", bill, &response, kSettleWithHopDownDeadlineMs);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << StatusText(status);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "provincial 360000"))
      << StatusText(status);

  // No node shows it SETTLED: the hops before the dead one hold it in doubt, the insured
  // region never saw it.
  for (const char* hop : {"municipal_500000", "provincial_500000", "national"}) {
    ExpectUnresolvedAt(hop, bill.settlement_id());
  }
  ExpectNoRecordAt("municipal_360100", bill.settlement_id());

  // Restart: same config, same data dir.
  absl::Status started = mesh_->Start("provincial_360000");
  ASSERT_TRUE(started.ok()) << started;
  ExpectNoRecordAt("provincial_360000", bill.settlement_id());

  int attempts = 0;
  status = SettleRetrying("municipal_500000", bill, &response, &attempts);
  ASSERT_TRUE(status.ok()) << "after " << attempts << " attempts: " << StatusText(status);
  if (attempts > 1) {
    std::cout << "e2e: the retry after the restart of provincial 360000 took " << attempts
              << " attempts (UNAVAILABLE while the upstream channel reconnected)\n";
  }
  EXPECT_EQ(response.result().state(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  ExpectSlipIdentities(response.result(), bill.declared_total_fen());
  ExpectSettledAt(kCase01Hops, response.result());

  // The mesh goes on: one more new bill settles.
  SettleAndCheck("municipal_500000", NewBill(base, Serial()), kCase01Hops);
}

// 3. A crash (SIGKILL) of the insured municipal node: committed settlements survive it; a settle
// while it is down fails UNAVAILABLE naming it; after a restart a retry of the same id settles.
TEST_F(E2eMeshTest, InsuredMunicipalCrashKeepsCommittedDataAndRetrySettles) {
  const SettleRequest base = LoadWorkload("01_cross_province_inpatient.textproto");

  // A settlement committed before the crash.
  const SettleRequest before = NewBill(base, Serial());
  const SettlementResult slip_before = SettleAndCheck("municipal_500000", before, kCase01Hops);
  ASSERT_FALSE(HasFailure());

  // What the next bill would come to with the person's yearly accumulators as they are now.
  const SettleRequest bill = NewBill(base, Serial());
  SettleResponse presettled;
  grpc::Status presettle_status = PreSettle("municipal_500000", bill, &presettled);
  ASSERT_TRUE(presettle_status.ok()) << StatusText(presettle_status);

  absl::Status killed = mesh_->Kill("municipal_360100", SIGKILL);
  ASSERT_TRUE(killed.ok()) << killed;

  SettleResponse response;
  grpc::Status status =
      Settle("municipal_500000", bill, &response, kSettleWithHopDownDeadlineMs);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << StatusText(status);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "municipal 360100"))
      << StatusText(status);
  for (const char* hop : {"municipal_500000", "provincial_500000", "national",
                          "provincial_360000"}) {
    ExpectUnresolvedAt(hop, bill.settlement_id());
  }

  absl::Status started = mesh_->Start("municipal_360100");
  ASSERT_TRUE(started.ok()) << started;

  // Committed data survived the SIGKILL, at the insured node and along the path.
  ExpectSettledAt(kCase01Hops, slip_before);
  // The failed settlement never reached it: nothing half-written.
  ExpectNoRecordAt("municipal_360100", bill.settlement_id());

  int attempts = 0;
  status = SettleRetrying("municipal_500000", bill, &response, &attempts);
  ASSERT_TRUE(status.ok()) << "after " << attempts << " attempts: " << StatusText(status);
  if (attempts > 1) {
    std::cout << "e2e: the retry after the restart of municipal 360100 took " << attempts
              << " attempts (UNAVAILABLE while the upstream channel reconnected)\n";
  }
  EXPECT_EQ(response.result().state(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  ExpectSlipIdentities(response.result(), bill.declared_total_fen());
  ExpectSettledAt(kCase01Hops, response.result());
  // The accumulators survived the crash and the failed attempt changed nothing: the result is
  // what the pre-settlement before the crash computed.
  SettlementResult expected = presettled.result();
  expected.set_settlement_date(response.result().settlement_date());  // (a midnight between)
  ExpectSameAmounts(expected, response.result(), "settled after the restart vs pre-settled before");

  // The settlement from before the crash is unchanged by all this.
  ExpectSettledAt({"municipal_360100"}, slip_before);
}

// A hung node (SIGSTOP: its sockets stay open, nothing answers) on the path: the hospital
// gets UNAVAILABLE within its own deadline and nothing is SETTLED upstream; once the node
// resumes, a retry of the same id settles at every hop.
TEST_F(E2eMeshTest, HungProvincialAnswersUnavailableAndRetrySettlesAfterResume) {
  const SettleRequest base = LoadWorkload("01_cross_province_inpatient.textproto");
  // Warm connections along the path first, as in a running mesh.
  SettleAndCheck("municipal_500000", NewBill(base, Serial()), kCase01Hops);
  ASSERT_FALSE(HasFailure());

  absl::Status paused = mesh_->Pause("provincial_360000");
  ASSERT_TRUE(paused.ok()) << paused;
  const SettleRequest bill = NewBill(base, Serial());
  SettleResponse response;
  grpc::Status status = Settle("municipal_500000", bill, &response, kSettleDeadlineMs);
  // UNAVAILABLE from the mesh, not the hospital's own DEADLINE_EXCEEDED: the hops' shrinking
  // forward deadlines answered first.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << StatusText(status);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "did not answer")) << StatusText(status);
  // The hop nearest the failure answers first, by a margin of 150 ms per hop
  // (kForwardDeadlineMarginMs); on a loaded machine an upstream hop may time out first and
  // name its own neighbour, so this is reported, not asserted.
  if (!absl::StrContains(status.error_message(), "provincial 360000")) {
    std::cout << "e2e: note: the hung provincial 360000 was not the hop named: "
              << StatusText(status) << "\n";
  }
  for (const char* hop : {"municipal_500000", "provincial_500000", "national"}) {
    yidi::v1::GetSettlementResponse record;
    grpc::Status read = GetRecord(hop, bill.settlement_id(), &record);
    if (read.ok()) {
      EXPECT_FALSE(IsSettledState(record.state()))
          << hop << ": " << yidi::v1::SettlementState_Name(record.state());
    } else {
      EXPECT_EQ(read.error_code(), grpc::StatusCode::NOT_FOUND) << hop << ": " << StatusText(read);
    }
  }

  absl::Status resumed = mesh_->Resume("provincial_360000");
  ASSERT_TRUE(resumed.ok()) << resumed;
  // The late request may or may not have gone on to the insured region after the resume; a
  // retry of the same id resolves both cases to the one committed result.
  int attempts = 0;
  status = SettleRetrying("municipal_500000", bill, &response, &attempts);
  ASSERT_TRUE(status.ok()) << "after " << attempts << " attempts: " << StatusText(status);
  EXPECT_EQ(response.result().state(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  ExpectSlipIdentities(response.result(), bill.declared_total_fen());
  ExpectSettledAt(kCase01Hops, response.result());
}

// A second instance of a node started by mistake on the address of a running one (another
// data dir: another database) must refuse to start: NodeServer::Start documents UNAVAILABLE
// "when it cannot bind", and NodeMain then exits 1 with "cannot listen on ...".
TEST_F(E2eMeshTest, SecondInstanceOnARunningNodesAddressIsRefused) {
  const ProcessMesh::Node& node = mesh_->GetNode("municipal_360700");
  const std::string data_dir = mesh_->root() + "/second_instance";
  const std::string log_path = mesh_->root() + "/logs/second_instance.log";
  std::error_code error;
  fs::create_directories(data_dir, error);
  ASSERT_FALSE(error) << error.message();
  auto pid = yidi::testing::SpawnProcess(
      {yidi::testing::BuildPath(node.spec.binary), "--config=" + node.config_path,
       "--data_dir=" + data_dir},
      log_path);
  ASSERT_TRUE(pid.ok()) << pid.status();

  // Wait, bounded, until it either exits or says it is listening.
  std::optional<int> exited;
  bool listening = false;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(yidi::testing::kProcessNodeStartTimeoutMs);
  while (std::chrono::steady_clock::now() < deadline) {
    exited = yidi::testing::WaitForExit(*pid, 0);
    if (exited.has_value()) break;
    if (absl::StrContains(yidi::testing::ReadTextFile(log_path).value_or(""), "listening on")) {
      listening = true;
      break;
    }
    SleepMs(kPollIntervalMs);
  }
  if (!exited.has_value()) {
    kill(*pid, SIGKILL);
    yidi::testing::WaitForExit(*pid, yidi::testing::kProcessNodeStopTimeoutMs);
  }
  const std::string log = yidi::testing::ReadTextFile(log_path).value_or("(no log)");
  // gRPC sets SO_REUSEPORT by default; a second node on the same address would split the
  // connections between two databases. NodeServer::Start turns it off.
  EXPECT_FALSE(listening) << "a second " << node.spec.name << " started on " << node.address
                          << ":\n" << log;
  ASSERT_TRUE(exited.has_value()) << "neither exited nor listened within "
                                  << yidi::testing::kProcessNodeStartTimeoutMs << " ms:\n" << log;
  EXPECT_TRUE(WIFEXITED(*exited) && WEXITSTATUS(*exited) != 0)
      << yidi::testing::DescribeWaitStatus(*exited) << "\n" << log;
  EXPECT_TRUE(absl::StrContains(log, "cannot listen on " + node.address)) << log;
}

// 5. Security with the real binaries (docs/SECURITY.md): a hospital's certificate at another
// region's node and plaintext to a TLS node are refused, nothing is stored, and the node's
// audit log shows the refusal.
TEST_F(E2eMeshTest, TlsAuthorizationAndAuditAcrossProcesses) {
  // Case 01 belongs to Chongqing hospital H50000000001; a Nanchang hospital tries it there.
  const std::string case01 = WorkloadFile("01_cross_province_inpatient.textproto");
  const SettleRequest request01 = LoadWorkload("01_cross_province_inpatient.textproto");
  CommandResult foreign = mesh_->Yidictl("municipal_500000", {"settle", "--request=" + case01},
                                         "institution_H36010000001");
  EXPECT_NE(foreign.exit_code, 0) << foreign.output;
  EXPECT_TRUE(absl::StrContains(foreign.output, "PERMISSION_DENIED")) << foreign.output;
  EXPECT_TRUE(absl::StrContains(foreign.output, "yidi://institution/H36010000001"))
      << foreign.output;
  CommandResult got = mesh_->Yidictl("municipal_500000",
                                     {"get", "--settlement_id=" + request01.settlement_id()});
  // Nothing stored by the refusal (an earlier test may have settled case 01 legitimately;
  // then the record is that settlement, not a new one).
  if (got.exit_code != 0) {
    EXPECT_TRUE(absl::StrContains(got.output, "NOT_FOUND")) << got.output;
  }

  CommandResult plaintext = yidi::testing::RunCommand(
      {yidi::testing::YidictlPath(), "--target=" + mesh_->Address("municipal_500000"),
       "--deadline_ms=3000", "--plaintext", "info"},
      yidi::testing::kProcessCommandTimeoutMs, mesh_->root() + "/logs");
  EXPECT_NE(plaintext.exit_code, 0) << plaintext.output;
  EXPECT_TRUE(absl::StrContains(plaintext.output, "UNAVAILABLE")) << plaintext.output;

  CommandResult audit = mesh_->Yidictl(
      "municipal_500000",
      {"audit", "--refused_only", "--audit_caller=yidi://institution/H36010000001"});
  EXPECT_EQ(audit.exit_code, 0) << audit.output;
  EXPECT_TRUE(absl::StrContains(audit.output, "PERMISSION_DENIED")) << audit.output;
  EXPECT_TRUE(absl::StrContains(audit.output, "/yidi.v1.SettlementService/Settle"))
      << audit.output;
  EXPECT_TRUE(absl::StrContains(audit.output, request01.settlement_id())) << audit.output;
  // The ID number of the request appears masked only.
  EXPECT_FALSE(absl::StrContains(audit.output, request01.id_number())) << audit.output;

  // An institution may not read the audit log.
  CommandResult nosy =
      mesh_->Yidictl("municipal_500000", {"audit"}, "institution_H50000000001");
  EXPECT_NE(nosy.exit_code, 0) << nosy.output;
  EXPECT_TRUE(absl::StrContains(nosy.output, "PERMISSION_DENIED")) << nosy.output;
}

// 4. yidictl, the operator CLI, against the running mesh.
TEST_F(E2eMeshTest, YidictlInfoSettleAndRefusal) {
  CommandResult info = mesh_->Yidictl("municipal_360100", {"info"});
  EXPECT_EQ(info.exit_code, 0) << info.output;
  EXPECT_TRUE(absl::StrContains(info.output, "region=360100")) << info.output;
  EXPECT_TRUE(absl::StrContains(info.output, "MUNICIPAL")) << info.output;

  // Case 03: Ganzhou insured, Nanchang hospital; intra-province, so it never reaches national.
  const std::string case03 = WorkloadFile("03_intra_province_inpatient.textproto");
  const SettleRequest request03 = LoadWorkload("03_intra_province_inpatient.textproto");
  CommandResult settled = mesh_->Yidictl("municipal_360100", {"settle", "--request=" + case03});
  EXPECT_EQ(settled.exit_code, 0) << settled.output;
  EXPECT_TRUE(absl::StrContains(settled.output, "SETTLED")) << settled.output;
  EXPECT_TRUE(absl::StrContains(settled.output, request03.settlement_id())) << settled.output;
  for (const char* hop : {"municipal_360100", "provincial_360000", "municipal_360700"}) {
    yidi::v1::GetSettlementResponse record;
    grpc::Status status = GetRecord(hop, request03.settlement_id(), &record);
    ASSERT_TRUE(status.ok()) << hop << ": " << StatusText(status);
    EXPECT_EQ(record.state(), yidi::v1::SETTLEMENT_STATE_SETTLED) << hop;
    EXPECT_EQ(record.result().total_fen(), request03.declared_total_fen()) << hop;
    ExpectSlipIdentities(record.result(), request03.declared_total_fen());
  }
  ExpectNoRecordAt("national", request03.settlement_id());

  // Case 05: Shenyang insured, unfiled, ordinary inpatient in Chongqing: refused, nothing stored.
  const std::string case05 = WorkloadFile("05_refused_unfiled.textproto");
  const SettleRequest request05 = LoadWorkload("05_refused_unfiled.textproto");
  CommandResult refused = mesh_->Yidictl("municipal_500000", {"settle", "--request=" + case05});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_TRUE(absl::StrContains(refused.output, "ERROR FAILED_PRECONDITION")) << refused.output;
  for (const ProcessMesh::Node& node : mesh_->nodes()) {
    ExpectNoRecordAt(node.spec.name, request05.settlement_id());
  }

  // `get` reads a node's own record.
  CommandResult got = mesh_->Yidictl("provincial_360000",
                                     {"get", "--settlement_id=" + request03.settlement_id()});
  EXPECT_EQ(got.exit_code, 0) << got.output;
  EXPECT_TRUE(absl::StrContains(got.output, "SETTLED")) << got.output;
}

// 5. Each binary's command line: --help, and clear refusals of a missing or invalid config.
class BinaryCommandLineTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    dir_ = yidi::testing::MakeTempDir("yidi-e2e-cli");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "e2e: outputs kept in " << dir_ << "\n";
      return;
    }
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  CommandResult Run(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {yidi::testing::BuildPath(GetParam())};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandResult result =
        yidi::testing::RunCommand(argv, yidi::testing::kProcessCommandTimeoutMs, dir_);
    EXPECT_NE(result.exit_code, -1) << "did not run to completion: " << result.err;
    return result;
  }

  std::string dir_;
};

TEST_P(BinaryCommandLineTest, HelpAndConfigErrors) {
  const std::string binary_name = fs::path(GetParam()).filename().string();

  CommandResult help = Run({"--help"});
  EXPECT_EQ(help.exit_code, 0) << help.output;
  EXPECT_TRUE(absl::StrContains(help.output, "Usage:")) << help.output;
  EXPECT_TRUE(absl::StrContains(help.output, binary_name)) << help.output;
  EXPECT_TRUE(absl::StrContains(help.output, "--config")) << help.output;
  EXPECT_TRUE(absl::StrContains(help.output, "--data_dir")) << help.output;

  CommandResult no_config = Run({});
  EXPECT_NE(no_config.exit_code, 0) << no_config.output;
  EXPECT_TRUE(absl::StrContains(no_config.output, "--config is required")) << no_config.output;

  CommandResult unknown_flag = Run({"--colour=blue"});
  EXPECT_NE(unknown_flag.exit_code, 0) << unknown_flag.output;
  EXPECT_TRUE(absl::StrContains(unknown_flag.output, "unknown argument --colour=blue"))
      << unknown_flag.output;

  // The test-and-drill clock must be a real RFC 3339 time; nothing starts otherwise.
  EXPECT_TRUE(absl::StrContains(help.output, "--clock_start")) << help.output;
  CommandResult bad_clock = Run({"--config=" + dir_ + "/missing.textproto",
                                 "--clock_start=2026-10-21 09:00"});
  EXPECT_EQ(bad_clock.exit_code, 2) << bad_clock.output;
  EXPECT_TRUE(absl::StrContains(bad_clock.output, "--clock_start: not an RFC 3339 time"))
      << bad_clock.output;

  const std::string missing = dir_ + "/missing.textproto";
  CommandResult not_found = Run({"--config=" + missing, "--data_dir=" + dir_});
  EXPECT_NE(not_found.exit_code, 0) << not_found.output;
  EXPECT_TRUE(absl::StrContains(not_found.output, "cannot start")) << not_found.output;
  EXPECT_TRUE(absl::StrContains(not_found.output, missing)) << not_found.output;

  // A parse error names the file, the line and the field. (protobuf places the column after
  // the offending token, and an unknown enum value at the next token, so the test uses an
  // unknown field followed by its colon on the same line.)
  const std::string unparsable = dir_ + "/unparsable.textproto";
  ASSERT_TRUE(yidi::testing::WriteTextFile(unparsable, "name: \"x\"\nno_such_field: 1\n").ok());
  CommandResult parse_error = Run({"--config=" + unparsable, "--data_dir=" + dir_});
  EXPECT_NE(parse_error.exit_code, 0) << parse_error.output;
  EXPECT_TRUE(absl::StrContains(parse_error.output, unparsable + ":2:")) << parse_error.output;
  EXPECT_TRUE(absl::StrContains(parse_error.output, "no_such_field")) << parse_error.output;

  // A well-formed config of another node kind.
  const bool is_national = binary_name == "yidi-national";
  const std::string other_kind = dir_ + "/other_kind.textproto";
  ASSERT_TRUE(yidi::testing::WriteTextFile(other_kind,
                        absl::StrCat("kind: ",
                                     is_national ? "NODE_KIND_MUNICIPAL" : "NODE_KIND_NATIONAL",
                                     "\nregion_code: \"", is_national ? "360100" : "000000",
                                     "\"\nlisten_address: \"127.0.0.1:0\"\n"
                                     "database_url: \"sqlite::memory:\"\n"
                                     "directory_file: \"",
                                     DemoDir(), "/directory.textproto\"\nplaintext: true\n"))
                  .ok());
  CommandResult wrong_kind = Run({"--config=" + other_kind, "--data_dir=" + dir_});
  EXPECT_NE(wrong_kind.exit_code, 0) << wrong_kind.output;
  EXPECT_TRUE(absl::StrContains(wrong_kind.output, "kind is")) << wrong_kind.output;
}

// A valid demo config whose listen address is held by another socket: the node exits non-zero
// naming the address.
TEST_P(BinaryCommandLineTest, RefusesAnAddressInUse) {
  const std::string binary_name = fs::path(GetParam()).filename().string();
  const std::string node_name = binary_name == "yidi-municipal"    ? "municipal_360700"
                                : binary_name == "yidi-provincial" ? "provincial_210000"
                                                                   : "national";
  // Hold a loopback port: bound and listening, without SO_REUSEPORT.
  const int holder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(holder, 1), 0);
  ASSERT_EQ(getsockname(holder, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string held = absl::StrCat("127.0.0.1:", ntohs(address.sin_port));

  auto loaded = yidi::testing::LoadDemoNodeConfig(node_name);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  yidi::v1::NodeConfig config = *std::move(loaded);
  config.set_listen_address(held);
  config.set_database_url("sqlite://node.db");
  config.set_directory_file(DemoDir() + "/directory.textproto");
  yidi::testing::UseProcessCertificate(&config);
  std::string text;
  ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(config, &text));
  const std::string config_path = dir_ + "/node.textproto";
  ASSERT_TRUE(yidi::testing::WriteTextFile(config_path, text).ok());

  CommandResult result = Run({"--config=" + config_path, "--data_dir=" + dir_});
  close(holder);
  EXPECT_NE(result.exit_code, 0) << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, "cannot listen on " + held)) << result.output;
}

INSTANTIATE_TEST_SUITE_P(NodeBinaries, BinaryCommandLineTest,
                         ::testing::Values("municipal/yidi-municipal", "provincial/yidi-provincial",
                                           "national/yidi-national"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name = fs::path(info.param).filename().string();
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

}  // namespace
