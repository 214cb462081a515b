// yidi-provincial: the node of one province. Routes calls between its cities and toward
// national, and keeps the province's copy of every settlement that crosses it.
#include "common/filing_index.h"
#include "common/node.h"
#include "provincial/provincial_services.h"

namespace {
constexpr char kUsage[] =
    "yidi-provincial: the provincial node of the Yidi settlement mesh.\n"
    "\n"
    "Usage: yidi-provincial --config=node.textproto [--data_dir=DIR] [--clock_start=TIME]\n"
    "\n"
    "  --config    NodeConfig in protobuf text format (api/yidi/v1/config.proto) with\n"
    "              kind: NODE_KIND_PROVINCIAL and the directory file\n"
    "  --data_dir  folder for a relative sqlite database path (default: the config's folder)\n"
    "  --clock_start  tests and drills only: the node's clock starts at this RFC 3339 time\n"
    "              (e.g. 2026-10-21T09:00:00+08:00) and runs on from there\n"
    "  --help      this text\n"
    "\n"
    "Serves the yidi.v1 contract (docs/API.md): Settlement, Person, Filing, Directory,\n"
    "Reconciliation, Ledger, Prepayment, Clearing, ClearingCycle, Audit, AuditLog,\n"
    "Investigation, Ticket, Announcement and Monitoring services, behind the call front\n"
    "(mutual TLS, authorization, audit: docs/SECURITY.md), plus grpc.health.v1.Health\n"
    "and server reflection. Stops on SIGTERM or SIGINT.\n";
}  // namespace

int main(int argc, char** argv) {
  return yidi::NodeMain(argc, argv, yidi::v1::NODE_KIND_PROVINCIAL, kUsage,
                        yidi::FilingIndexMigrations(),
                        [](yidi::NodeContext& context)
                            -> absl::StatusOr<std::vector<std::unique_ptr<grpc::Service>>> {
                          return yidi::provincial::MakeProvincialServices(context);
                        });
}
