#include "provincial/provincial_services.h"

#include "common/clearing_cycle_service.h"
#include "common/clearing_service.h"
#include "common/collaboration_services.h"
#include "common/ledger_service.h"
#include "common/node_services.h"
#include "common/reconciliation_service.h"
#include "common/prepayment_service.h"

namespace yidi::provincial {

std::vector<std::unique_ptr<grpc::Service>> MakeProvincialServices(NodeContext& context) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<RelaySettlementService>(&context));
  services.push_back(std::make_unique<RelayPersonService>(&context));
  services.push_back(std::make_unique<RelayFilingService>(&context));
  services.push_back(std::make_unique<NodeDirectoryService>(&context));
  services.push_back(std::make_unique<NodeReconciliationService>(&context));  // docs/RECONCILIATION.md
  // Back office (docs/LEDGER.md, docs/PREPAYMENT.md).
  services.push_back(std::make_unique<NodeLedgerService>(&context));
  services.push_back(std::make_unique<NodePrepaymentService>(&context));
  for (auto& service : MakeCollaborationServices(context)) services.push_back(std::move(service));
  services.push_back(std::make_unique<NodeClearingService>(&context));  // docs/CLEARING.md
  services.push_back(std::make_unique<NodeAuditService>(&context));
  services.push_back(std::make_unique<NodeClearingCycleService>(&context));  // forwarding
  return services;
}

}  // namespace yidi::provincial
