// Every node kind serves the standard protocols that let generic clients (grpcurl, Postman, a
// Node or Python client) talk to it without our code: grpc.health.v1.Health and server
// reflection. Checked on all eight nodes of the in-process demo mesh.
#include <memory>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/in_process_mesh.h"
#include "yidi/testing/reflection_wire.pb.h"

namespace yidi::testing {
namespace {

constexpr char kReflectionMethod[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(5);
}

grpc::ByteBuffer Serialize(const google::protobuf::Message& message) {
  std::string bytes;
  message.SerializeToString(&bytes);
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// Sends one list_services request over the bidi reflection stream through a generic stub and
// returns the service names, or the failure.
absl::StatusOr<std::set<std::string>> ListServices(std::shared_ptr<grpc::Channel> channel) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  auto call = stub.PrepareCall(&context, kReflectionMethod, &queue);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](intptr_t expected) {
    return queue.Next(&tag, &ok) && ok && reinterpret_cast<intptr_t>(tag) == expected;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  if (!step(1)) return absl::UnavailableError("reflection stream did not start");
  yidi::testing::ServerReflectionRequest request;
  request.set_list_services("*");
  call->Write(Serialize(request), reinterpret_cast<void*>(2));
  if (!step(2)) return absl::UnavailableError("reflection request not sent");
  grpc::ByteBuffer reply;
  call->Read(&reply, reinterpret_cast<void*>(3));
  if (!step(3)) return absl::UnavailableError("no reflection reply");
  call->WritesDone(reinterpret_cast<void*>(4));
  step(4);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  std::vector<grpc::Slice> slices;
  (void)reply.Dump(&slices);
  std::string bytes;
  for (const auto& slice : slices) bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  yidi::testing::ServerReflectionResponse response;
  if (!response.ParseFromString(bytes)) return absl::InternalError("reflection reply does not parse");
  if (response.has_error_response()) {
    return absl::InternalError(response.error_response().error_message());
  }
  std::set<std::string> names;
  for (const auto& service : response.list_services_response().service()) {
    names.insert(service.name());
  }
  return names;
}

class NodeProtocolsTest : public ::testing::Test {
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
  static InProcessMesh* mesh_;
};

InProcessMesh* NodeProtocolsTest::mesh_ = nullptr;

TEST_F(NodeProtocolsTest, EveryNodeAnswersHealthChecks) {
  for (const NodeId& node : mesh_->Nodes()) {
    // Any certificate of the agencies' CA may probe health (a load balancer's, here).
    auto stub = grpc::health::v1::Health::NewStub(
        mesh_->ChannelAs(node, "yidi://operator/probe?role=auditor"));
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    grpc::health::v1::HealthCheckRequest request;  // "" = the server as a whole
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = stub->Check(&context, request, &response);
    ASSERT_TRUE(status.ok()) << NameOf(node) << ": " << status.error_message();
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING) << NameOf(node);
  }
}

TEST_F(NodeProtocolsTest, EveryNodeListsItsServicesByReflection) {
  for (const NodeId& node : mesh_->Nodes()) {
    auto services = ListServices(mesh_->ChannelAs(node, "yidi://operator/probe?role=auditor"));
    ASSERT_TRUE(services.ok()) << NameOf(node) << ": " << services.status();
    EXPECT_THAT(*services, ::testing::IsSupersetOf({"yidi.v1.SettlementService",
                                                    "yidi.v1.PersonService",
                                                    "yidi.v1.FilingService",
                                                    "yidi.v1.DirectoryService",
                                                    "yidi.v1.AuditLogService",
                                                    "grpc.health.v1.Health"}))
        << NameOf(node);
  }
}

}  // namespace
}  // namespace yidi::testing
