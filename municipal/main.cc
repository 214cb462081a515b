// yidi-municipal: the node of one pooling region (统筹区). Hospitals call it; it classifies
// their bills against its catalogue and routes them; for its own insured persons it checks
// filings and computes the fund shares.
#include "common/node.h"
#include "municipal/insured_registry.h"
#include "municipal/municipal_services.h"

namespace {
constexpr char kUsage[] =
    "yidi-municipal: the municipal (pooling-region) node of the Yidi settlement mesh.\n"
    "\n"
    "Usage: yidi-municipal --config=node.textproto [--data_dir=DIR] [--clock_start=TIME]\n"
    "\n"
    "  --config    NodeConfig in protobuf text format (api/yidi/v1/config.proto) with\n"
    "              kind: NODE_KIND_MUNICIPAL, the directory, catalogue, policy and persons files\n"
    "  --data_dir  folder for a relative sqlite database path (default: the config's folder)\n"
    "  --clock_start  tests and drills only: the node's clock starts at this RFC 3339 time\n"
    "              (e.g. 2026-10-21T09:00:00+08:00) and runs on from there\n"
    "  --help      this text\n"
    "\n"
    "Serves the yidi.v1 contract (docs/API.md): Settlement, Person, Filing, Directory,\n"
    "Reconciliation, Ledger, Prepayment, Clearing (claims), AuditLog, Investigation,\n"
    "Ticket, Announcement and Monitoring services, behind the call front (mutual TLS,\n"
    "authorization, audit: docs/SECURITY.md), plus grpc.health.v1.Health\n"
    "and server reflection. Stops on SIGTERM or SIGINT.\n";
}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<yidi::municipal::MunicipalData> data;
  return yidi::NodeMain(
      argc, argv, yidi::v1::NODE_KIND_MUNICIPAL, kUsage, yidi::municipal::MunicipalMigrations(),
      [&data](yidi::NodeContext& context)
          -> absl::StatusOr<std::vector<std::unique_ptr<grpc::Service>>> {
        auto loaded = yidi::municipal::LoadMunicipalData(context);
        if (!loaded.ok()) return loaded.status();
        data = std::move(*loaded);
        return yidi::municipal::MakeMunicipalServices(context, data.get());
      });
}
