// The refusals of issue 8 in the in-process demo mesh over mutual TLS: a hospital's certificate
// at another region's node, settling as another institution, reversing another institution's
// settlement; a municipal node's certificate at national; a certificate from an unknown CA, an
// expired one, one without an identity; plaintext to a TLS node; the limits at the edge. Each
// is refused with the documented status and nothing is stored; the audit log records them.
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/call_front.h"
#include "common/grpc_status.h"
#include "common/id_number.h"
#include "common/limits.h"
#include "common/security.h"
#include "gtest/gtest.h"
#include "tests/testing/demo_requests.h"
#include "tests/testing/in_process_mesh.h"
#include "tests/testing/test_certificates.h"
#include "yidi/v1/security.grpc.pb.h"

namespace yidi::testing {
namespace {

using yidi::v1::SettleRequest;
using yidi::v1::SettleResponse;

constexpr absl::Duration kDeadline = absl::Seconds(10);

std::string Institution(absl::string_view code) { return InstitutionIdentityUri(code); }

class SecurityMeshTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto mesh = InProcessMesh::Start();
    ASSERT_TRUE(mesh.ok()) << mesh.status();
    mesh_ = std::move(*mesh).release();
  }
  static void TearDownTestSuite() {
    delete mesh_;
    mesh_ = nullptr;
  }

  // Case 01: H50000000001 (Chongqing) settles a Nanchang retiree; a fresh settlement id.
  static SettleRequest Case01(absl::string_view serial) {
    auto request = LoadWorkload("01_cross_province_inpatient.textproto");
    EXPECT_TRUE(request.ok()) << request.status();
    request->set_settlement_id(absl::StrCat("H50000000001-", serial));
    return *request;
  }

  static grpc::Status Settle(std::shared_ptr<grpc::Channel> channel, const SettleRequest& request,
                             SettleResponse* response = nullptr) {
    SettleResponse ignored;
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kDeadline));
    return yidi::v1::SettlementService::NewStub(channel)->Settle(
        &context, request, response != nullptr ? response : &ignored);
  }

  // Asserts that no node of the mesh has a record of `settlement_id`.
  static void ExpectStoredNowhere(const std::string& settlement_id) {
    for (const NodeId& node : mesh_->Nodes()) {
      auto got = mesh_->GetSettlement(node, settlement_id);
      EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound)
          << NameOf(node) << " has " << settlement_id << ": " << got.status();
    }
  }

  static std::vector<yidi::v1::AuditRecord> Audit(const NodeId& node,
                                                  const yidi::v1::ListAuditRecordsRequest& request) {
    auto stub = yidi::v1::AuditLogService::NewStub(
        mesh_->ChannelAs(node, OperatorIdentityUri("auditor1", "auditor", node.region)));
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kDeadline));
    yidi::v1::ListAuditRecordsResponse response;
    grpc::Status status = stub->ListAuditRecords(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.records().begin(), response.records().end()};
  }

  static InProcessMesh* mesh_;
};

InProcessMesh* SecurityMeshTest::mesh_ = nullptr;

TEST_F(SecurityMeshTest, OwnHospitalSettlesAndTheAuditLogRecordsItMasked) {
  const SettleRequest request = Case01("SEC-OK-1");
  SettleResponse response;
  grpc::Status status = Settle(
      mesh_->ChannelAs(Municipal("500000"), Institution("H50000000001")), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.result().settlement_id(), request.settlement_id());

  yidi::v1::ListAuditRecordsRequest filter;
  filter.set_id_contains(request.settlement_id());
  auto rows = Audit(Municipal("500000"), filter);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].caller(), Institution("H50000000001"));
  EXPECT_EQ(rows[0].method(), "/yidi.v1.SettlementService/Settle");
  EXPECT_EQ(rows[0].outcome(), "OK");
  EXPECT_FALSE(absl::StrContains(rows[0].ids(), request.id_number())) << rows[0].ids();
  EXPECT_TRUE(absl::StrContains(rows[0].ids(), MaskIdNumber(request.id_number())))
      << rows[0].ids();
  // Every hop audits what it received: the insured node's row names the province.
  auto insured = Audit(Municipal("360100"), filter);
  ASSERT_EQ(insured.size(), 1u);
  EXPECT_EQ(insured[0].caller(), NodeIdentityUri(yidi::v1::NODE_KIND_PROVINCIAL, "360000"));
}

TEST_F(SecurityMeshTest, HospitalCertificateAtAnotherRegionsNodeIsRefused) {
  SettleRequest request = Case01("SEC-FOREIGN-1");
  // A Nanchang hospital at the Chongqing node (also when the bill claims to be its own).
  grpc::Status status =
      Settle(mesh_->ChannelAs(Municipal("500000"), Institution("H36010000001")), request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), Institution("H36010000001")))
      << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "/yidi.v1.SettlementService/Settle"))
      << status.error_message();
  ExpectStoredNowhere(request.settlement_id());

  yidi::v1::ListAuditRecordsRequest filter;
  filter.set_caller(Institution("H36010000001"));
  filter.set_refused_only(true);
  auto rows = Audit(Municipal("500000"), filter);
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.back().outcome(), "PERMISSION_DENIED");
}

TEST_F(SecurityMeshTest, SettlingAsAnotherInstitutionIsRefused) {
  const SettleRequest request = Case01("SEC-AS-OTHER-1");
  grpc::Status status =
      Settle(mesh_->ChannelAs(Municipal("500000"), Institution("H50000000002")), request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "acts only for itself"))
      << status.error_message();
  ExpectStoredNowhere(request.settlement_id());
}

TEST_F(SecurityMeshTest, ReversingAnotherInstitutionsSettlementIsRefused) {
  const SettleRequest request = Case01("SEC-REV-1");
  ASSERT_TRUE(
      Settle(mesh_->ChannelAs(Municipal("500000"), Institution("H50000000001")), request).ok());
  auto stub = yidi::v1::SettlementService::NewStub(
      mesh_->ChannelAs(Municipal("500000"), Institution("H50000000002")));
  for (const std::string& claimed : {std::string("H50000000002"), std::string("H50000000001")}) {
    yidi::v1::ReverseRequest reverse;
    reverse.set_settlement_id(absl::StrCat(claimed, "-SEC-REV-1-R"));
    reverse.set_original_settlement_id(request.settlement_id());
    reverse.set_insured_region(request.insured_region());
    reverse.set_treatment_region(request.treatment_region());
    reverse.set_institution_code(claimed);
    reverse.set_reason("not mine");
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kDeadline));
    SettleResponse response;
    grpc::Status status = stub->Reverse(&context, reverse, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << claimed << ": " << status.error_message();
    ExpectStoredNowhere(reverse.settlement_id());
  }
  auto original = mesh_->GetSettlement(Municipal("360100"), request.settlement_id());
  ASSERT_TRUE(original.ok()) << original.status();
  EXPECT_EQ(original->state(), yidi::v1::SETTLEMENT_STATE_SETTLED);
}

TEST_F(SecurityMeshTest, MunicipalCertificateAtNationalIsRefused) {
  SettleRequest request = Case01("SEC-SKIP-1");
  grpc::Status status = Settle(
      mesh_->ChannelAs(National(), NodeIdentityUri(yidi::v1::NODE_KIND_MUNICIPAL, "500000")),
      request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "parent or a child"))
      << status.error_message();
  ExpectStoredNowhere(request.settlement_id());
}

TEST_F(SecurityMeshTest, RoutedCallsComeOnlyFromParentOrChild) {
  // An empty PreSettle: admitted callers get the handler's INVALID_ARGUMENT (nothing computed
  // or stored); refused ones PERMISSION_DENIED before any handler.
  auto presettle = [](const NodeId& node, const std::string& caller) {
    auto stub = yidi::v1::SettlementService::NewStub(mesh_->ChannelAs(node, caller));
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kDeadline));
    SettleResponse response;
    return stub->PreSettle(&context, SettleRequest(), &response).error_code();
  };
  EXPECT_EQ(presettle(Municipal("360100"),
                      NodeIdentityUri(yidi::v1::NODE_KIND_PROVINCIAL, "360000")),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(presettle(Provincial("360000"),
                      NodeIdentityUri(yidi::v1::NODE_KIND_NATIONAL, "000000")),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(presettle(Provincial("360000"),
                      NodeIdentityUri(yidi::v1::NODE_KIND_MUNICIPAL, "360700")),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Another province's node, a sibling city, a node that is not in the directory.
  EXPECT_EQ(presettle(Municipal("360100"),
                      NodeIdentityUri(yidi::v1::NODE_KIND_PROVINCIAL, "210000")),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(presettle(Municipal("360100"),
                      NodeIdentityUri(yidi::v1::NODE_KIND_MUNICIPAL, "360700")),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(presettle(Provincial("360000"),
                      NodeIdentityUri(yidi::v1::NODE_KIND_MUNICIPAL, "440100")),
            grpc::StatusCode::PERMISSION_DENIED);
  // An operator of another region.
  EXPECT_EQ(presettle(Municipal("360100"), OperatorIdentityUri("x", "admin", "210100")),
            grpc::StatusCode::PERMISSION_DENIED);

  // An institution reads only its own settlements.
  auto get = [](const NodeId& node, const std::string& caller) {
    auto stub = yidi::v1::SettlementService::NewStub(mesh_->ChannelAs(node, caller));
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kDeadline));
    yidi::v1::GetSettlementRequest request;
    request.set_settlement_id("H36010000001-SEC-NONE");
    yidi::v1::GetSettlementResponse response;
    return stub->GetSettlement(&context, request, &response).error_code();
  };
  EXPECT_EQ(get(Municipal("360100"), Institution("H36010000002")),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(get(Municipal("360100"), Institution("H36010000001")), grpc::StatusCode::NOT_FOUND);
  // The audit log is for auditors.
  auto audit = yidi::v1::AuditLogService::NewStub(
      mesh_->ChannelAs(Municipal("360100"), Institution("H36010000001")));
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kDeadline));
  yidi::v1::ListAuditRecordsResponse response;
  EXPECT_EQ(audit->ListAuditRecords(&context, {}, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// Certificates the node must not accept, and no certificate at all: the handshake fails, so
// the call never starts (UNAVAILABLE at the client), or the identity is missing.
TEST_F(SecurityMeshTest, UnknownCaExpiredMissingIdentityAndPlaintextAreRefused) {
  const std::string address = mesh_->Address(Municipal("500000"));
  auto other_ca = TestCertificateAuthority::Create("Somebody else's CA");
  ASSERT_TRUE(other_ca.ok()) << other_ca.status();
  auto foreign = (*other_ca)->Issue(Institution("H50000000001"));
  ASSERT_TRUE(foreign.ok());
  foreign->ca_pem = mesh_->ca()->ca_pem();  // it trusts the node; the node does not trust it
  const absl::Time now = absl::Now();
  auto expired =
      mesh_->ca()->Issue(Institution("H50000000001"), now - absl::Hours(24 * 30),
                         now - absl::Hours(24));
  ASSERT_TRUE(expired.ok());
  auto anonymous = mesh_->ca()->Issue("");
  ASSERT_TRUE(anonymous.ok());

  struct Case {
    const char* what;
    std::shared_ptr<grpc::Channel> channel;
    grpc::StatusCode expected;
  } cases[] = {
      {"unknown CA", TlsChannel(address, *foreign), grpc::StatusCode::UNAVAILABLE},
      {"expired", TlsChannel(address, *expired), grpc::StatusCode::UNAVAILABLE},
      {"plaintext", MakeChannel(address), grpc::StatusCode::UNAVAILABLE},
      {"no identity", TlsChannel(address, *anonymous), grpc::StatusCode::UNAUTHENTICATED},
  };
  int serial = 0;
  for (const Case& c : cases) {
    const SettleRequest request = Case01(absl::StrCat("SEC-HANDSHAKE-", ++serial));
    grpc::Status status = Settle(c.channel, request);
    EXPECT_EQ(status.error_code(), c.expected) << c.what << ": " << status.error_message();
    ExpectStoredNowhere(request.settlement_id());
  }
}

TEST_F(SecurityMeshTest, LimitsAtTheEdgeNameTheLimit) {
  auto hospital = mesh_->ChannelAs(Municipal("500000"), Institution("H50000000001"));
  {
    SettleRequest request = Case01("SEC-LINES-1");
    const yidi::v1::FeeLine line = request.fee_lines(0);
    while (request.fee_lines_size() <= kFeeLinesMax) *request.add_fee_lines() = line;
    grpc::Status status = Settle(hospital, request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_TRUE(absl::StrContains(status.error_message(), "kFeeLinesMax"))
        << status.error_message();
    ExpectStoredNowhere(request.settlement_id());
  }
  {
    SettleRequest request = Case01("SEC-STRING-1");
    request.set_name(std::string(kAnyStringLengthMax + 1, 'x'));
    grpc::Status status = Settle(hospital, request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_TRUE(absl::StrContains(status.error_message(), "kAnyStringLengthMax"))
        << status.error_message();
    ExpectStoredNowhere(request.settlement_id());
  }
  {
    // A client without a send limit of its own, so the node's limit is what refuses it.
    auto files = mesh_->ca()->Issue(Institution("H50000000001"));
    ASSERT_TRUE(files.ok());
    auto unlimited = grpc::CreateCustomChannel(mesh_->Address(Municipal("500000")),
                                               MakeChannelCredentials(*files),
                                               grpc::ChannelArguments());
    SettleRequest request = Case01("SEC-SIZE-1");
    for (int i = 0; i < 80; ++i) {
      request.mutable_visit()->add_diagnosis_codes(std::string(kAnyStringLengthMax, 'd'));
    }
    grpc::Status status = Settle(unlimited, request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << status.error_message();
    ExpectStoredNowhere(request.settlement_id());
  }
}

// The in-flight limit and the call gates, through the front's admission (a call held open
// would need timing).
TEST_F(SecurityMeshTest, CallsInFlightPerCallerAndCallGates) {
  NodeContext* context = mesh_->Context(Municipal("210100"));
  ASSERT_NE(context, nullptr);
  context->config.mutable_security()->set_max_calls_in_flight_per_caller(2);
  std::vector<CallInfo> seen;
  context->call_gates.push_back([&seen](const CallInfo& call) {
    seen.push_back(call);
    if (absl::EndsWith(call.method, "/Reverse")) {
      return absl::UnavailableError("payments suspended (test gate)");
    }
    return absl::OkStatus();
  });
  CallFront front(context, nullptr, mesh_->ChannelAs(Municipal("210100"), "unused"));
  context->config.mutable_security()->clear_max_calls_in_flight_per_caller();
  auto caller = ParseIdentityUri(Institution("H21010000001"));
  ASSERT_TRUE(caller.ok());
  yidi::v1::GetSettlementRequest read;
  read.set_settlement_id("H21010000001-X");
  bool counted[3] = {false, false, false};
  const std::string get = "/yidi.v1.SettlementService/GetSettlement";
  EXPECT_TRUE(front.Admit(*caller, get, &read, &counted[0]).ok());
  EXPECT_TRUE(front.Admit(*caller, get, &read, &counted[1]).ok());
  absl::Status third = front.Admit(*caller, get, &read, &counted[2]);
  EXPECT_EQ(third.code(), absl::StatusCode::kResourceExhausted) << third;
  EXPECT_TRUE(absl::StrContains(third.message(), "max_calls_in_flight_per_caller")) << third;
  EXPECT_FALSE(counted[2]);
  // Another caller has its own allowance.
  auto other = ParseIdentityUri(Institution("H21010000002"));
  yidi::v1::GetSettlementRequest other_read;
  other_read.set_settlement_id("H21010000002-X");
  bool other_counted = false;
  EXPECT_TRUE(front.Admit(*other, get, &other_read, &other_counted).ok());
  front.Release(other->uri);
  front.Release(caller->uri);
  EXPECT_TRUE(front.Admit(*caller, get, &read, &counted[2]).ok());
  front.Release(caller->uri);
  front.Release(caller->uri);

  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().caller, Institution("H21010000001"));
  EXPECT_EQ(seen.back().method, get);
  yidi::v1::ReverseRequest reverse;
  reverse.set_settlement_id("H21010000001-R");
  reverse.set_original_settlement_id("H21010000001-X");
  reverse.set_institution_code("H21010000001");
  bool reverse_counted = false;
  absl::Status gated = front.Admit(*caller, "/yidi.v1.SettlementService/Reverse", &reverse,
                                   &reverse_counted);
  EXPECT_EQ(gated.code(), absl::StatusCode::kUnavailable) << gated;
  if (reverse_counted) front.Release(caller->uri);
  context->call_gates.pop_back();
}

}  // namespace
}  // namespace yidi::testing
