// Multi-process tests of filing replication (docs/FILING.md): the real node binaries and yidictl
// on 127.0.0.1, started by the shared harness tests/testing/process_mesh.h (a copy of the demo
// mesh with its addresses rewritten to free ports, one temp dir per suite, kept with the node
// logs when a test fails).
//
// Each test kills a receiver with SIGKILL (a crash), files while it is down (the insured node
// answers at once; the change waits in an outbox), restarts it, and checks that the indexes
// converge to exactly what the insured region holds: every filing at its latest version,
// nothing lost, nothing applied twice (the national index counts each version once).
//
// Every wait is bounded; nothing asserts on timing.
#include <signal.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/grpc_status.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/process_mesh.h"
#include "yidi/v1/filing.grpc.pb.h"

namespace {

using yidi::testing::CommandResult;
using yidi::testing::ProcessMesh;

// Limits of the tests, each with its reason (the harness's own are in process_mesh.h).
constexpr int kCallDeadlineMs = 10000;       // a filing call crosses at most five nodes
// Convergence after a restart: the sender's backoff is at most 5 s, a channel's reconnect
// backoff 1 s; 60 s is far above both.
constexpr int kConvergenceMs = 60000;
constexpr int kPollMs = 100;

std::chrono::system_clock::time_point DeadlineIn(int ms) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
}
void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string StatusText(const grpc::Status& status) {
  return absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
                      ": ", status.error_message());
}

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
    ProcessMesh::Options options;
    options.name = "filing-e2e";
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
      for (const ProcessMesh::Node& node : mesh_->nodes()) {
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

  // yidictl against `node` as the admin operator; its exit code and output.
  static CommandResult Yidictl(const std::string& node, const std::vector<std::string>& args) {
    return mesh_->Yidictl(node, args);
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

  static ProcessMesh* mesh_;
  static std::string setup_error_;
  static bool any_failure_;
};

ProcessMesh* FilingE2eTest::mesh_ = nullptr;
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

  ASSERT_TRUE(mesh_->Kill("national", SIGKILL).ok());
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
  ASSERT_TRUE(mesh_->Kill("municipal_360100", SIGKILL).ok());
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
  ASSERT_TRUE(mesh_->Kill("provincial_210000", SIGKILL).ok());
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
  ASSERT_TRUE(mesh_->Kill("provincial_500000", SIGKILL).ok());
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

  ASSERT_TRUE(mesh_->Kill("municipal_500000", SIGKILL).ok());
  ASSERT_TRUE(mesh_->Start("municipal_500000").ok());
  EXPECT_EQ(Replication("municipal_500000").outbox_pending(), 1);
  ASSERT_TRUE(mesh_->Start("provincial_500000").ok());
  ASSERT_TRUE(AllDelivered());
  ExpectConverged(kC5, "500000");
}

}  // namespace
