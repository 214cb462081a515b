// InProcessMesh: the whole demo mesh (national, 3 provincial, 4 municipal nodes; see
// deploy/demo/README.md) running inside the test process on 127.0.0.1, with free ports chosen
// at start, one SQLite file per node in a private temp folder, and one shared FakeClock set
// to 2026-11-23 10:00 CST. Nodes are built exactly as the binaries build them
// (MakeNodeContext + Make*Services + NodeServer::Start), from the demo configuration files
// with only the addresses, database files and certificates changed. A node can be stopped and
// restarted on the same port and database file, to simulate a hop that is down.
//
// Every link uses mutual TLS (docs/SECURITY.md): the mesh makes a throwaway CA and a
// certificate for every node at start. The stubs below present an operator certificate with
// role admin and no region (yidi://operator/harness?role=admin), which the authorization
// table admits everywhere; ChannelAs() gives a channel with any other identity.
//
// Thread safety: the stubs may be used from any thread at once (gRPC stubs are thread-safe).
// Start, StopNode, RestartNode and destruction must not race each other or a call that uses
// Context() of the node concerned.
#ifndef YIDI_TESTS_TESTING_IN_PROCESS_MESH_H_
#define YIDI_TESTS_TESTING_IN_PROCESS_MESH_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/node.h"
#include "grpcpp/grpcpp.h"
#include "tests/testing/test_certificates.h"
#include "yidi/v1/directory.grpc.pb.h"
#include "yidi/v1/filing.grpc.pb.h"
#include "yidi/v1/person.grpc.pb.h"
#include "yidi/v1/settlement.grpc.pb.h"

namespace yidi::testing {

// The demo configuration folder: YIDI_SOURCE_DIR "/deploy/demo".
std::string DemoDir();

// 2026-11-23 10:00:00 China Standard Time: the demo's "today".
absl::Time DemoNow();

// One node of the mesh: its kind and region code ("000000" for national).
struct NodeId {
  yidi::v1::NodeKind kind = yidi::v1::NODE_KIND_UNSPECIFIED;
  std::string region;

  friend bool operator<(const NodeId& a, const NodeId& b) {
    return std::make_pair(static_cast<int>(a.kind), a.region) <
           std::make_pair(static_cast<int>(b.kind), b.region);
  }
  friend bool operator==(const NodeId& a, const NodeId& b) {
    return a.kind == b.kind && a.region == b.region;
  }
};

// Shorthands: Municipal("360100"), Provincial("360000"), National().
NodeId Municipal(absl::string_view region);
NodeId Provincial(absl::string_view region);
NodeId National();

// "municipal 360100", as the nodes name themselves in messages.
std::string NameOf(const NodeId& node);

class InProcessMesh {
 public:
  struct Options {
    // The shared clock's start.
    absl::Time now = DemoNow();
    // true: each node's database is a file in the mesh's temp folder (survives RestartNode);
    // false: `sqlite::memory:` (RestartNode then starts from an empty database).
    bool file_databases = true;
    // Worker threads per node server (0 = gRPC's default).
    int server_threads = 0;
    // true: every node runs plaintext (security.allow_plaintext) and trusts every caller.
    bool plaintext = false;
  };

  // Starts all 8 demo nodes. UNAVAILABLE when a port cannot be bound; the config errors of
  // MakeNodeContext / LoadMunicipalData otherwise. Nothing is left running on error.
  static absl::StatusOr<std::unique_ptr<InProcessMesh>> Start(Options options);
  static absl::StatusOr<std::unique_ptr<InProcessMesh>> Start() { return Start(Options()); }

  // Stops every node and removes the temp folder.
  ~InProcessMesh();

  InProcessMesh(const InProcessMesh&) = delete;
  InProcessMesh& operator=(const InProcessMesh&) = delete;

  // Every node of the mesh, in a fixed order.
  std::vector<NodeId> Nodes() const;

  // "127.0.0.1:<port>" of a node; REQUIRES: the node is part of the mesh.
  std::string Address(const NodeId& node) const;
  // The directory every node was given (the demo one, addresses rewritten).
  const yidi::v1::Directory& directory() const { return directory_; }
  // The temp folder holding the databases.
  const std::string& data_dir() const { return data_dir_; }
  // The shared clock; tests may move it.
  FakeClock& clock() { return clock_; }

  // Client stubs of a node, as a hospital or operator would use them. Valid for the mesh's
  // lifetime, also across StopNode / RestartNode (calls to a stopped node fail UNAVAILABLE).
  yidi::v1::SettlementService::Stub& Settlement(const NodeId& node);
  yidi::v1::PersonService::Stub& Person(const NodeId& node);
  yidi::v1::FilingService::Stub& Filing(const NodeId& node);
  yidi::v1::DirectoryService::Stub& Directory(const NodeId& node);

  // The identity of the stubs above.
  static constexpr absl::string_view kHarnessIdentity = "yidi://operator/harness?role=admin";

  // A new channel to `node` presenting a fresh certificate for `identity_uri` (e.g.
  // "yidi://institution/H36010000001"), signed by the mesh's CA; plaintext when the mesh is.
  std::shared_ptr<grpc::Channel> ChannelAs(const NodeId& node, absl::string_view identity_uri);
  // The mesh's CA (to issue expired certificates and the like); nullptr when plaintext.
  TestCertificateAuthority* ca() { return ca_.get(); }
  bool plaintext() const { return plaintext_; }

  // The running node's context (store, config, directory), or nullptr when stopped. For
  // white-box checks such as reading the insured node's accumulators.
  NodeContext* Context(const NodeId& node);

  // Stops the node's server at once (calls in flight are cancelled) and closes its database,
  // as a crash or a cut link would. FAILED_PRECONDITION when it is already stopped.
  absl::Status StopNode(const NodeId& node);
  // Starts a stopped node again on the same port and database, and waits up to `wait` until
  // it answers. FAILED_PRECONDITION when it is running; UNAVAILABLE when it does not come up.
  absl::Status RestartNode(const NodeId& node, absl::Duration wait = absl::Seconds(10));
  bool IsRunning(const NodeId& node) const;

  // The node's own record (SettlementService.GetSettlement), with a short deadline. NOT_FOUND
  // when the node has no record of `settlement_id`.
  absl::StatusOr<yidi::v1::GetSettlementResponse> GetSettlement(const NodeId& node,
                                                                absl::string_view settlement_id);
  // The node's record counts by state (DirectoryService.GetNodeInfo).
  absl::StatusOr<std::map<yidi::v1::SettlementState, int64_t>> RecordCounts(const NodeId& node);

 private:
  struct Node;

  explicit InProcessMesh(absl::Time now);
  // Builds the node's context and services and starts its server; on error nothing of the
  // node is left running.
  absl::Status StartNode(Node& node);
  absl::Status BuildAndServe(Node& node);
  void ShutdownServer(Node& node);
  void ReleaseNode(Node& node);
  Node& Find(const NodeId& node);
  const Node& Find(const NodeId& node) const;

  FakeClock clock_;
  bool plaintext_ = false;
  std::shared_ptr<TestCertificateAuthority> ca_;
  std::string data_dir_;
  yidi::v1::Directory directory_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

// The grpc deadline `timeout` from now, for a ClientContext.
std::chrono::system_clock::time_point DeadlineIn(absl::Duration timeout);

}  // namespace yidi::testing

#endif  // YIDI_TESTS_TESTING_IN_PROCESS_MESH_H_
