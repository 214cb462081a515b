#include "provincial/provincial_services.h"

#include "common/node_services.h"

namespace yidi::provincial {

std::vector<std::unique_ptr<grpc::Service>> MakeProvincialServices(NodeContext& context) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<RelaySettlementService>(&context));
  services.push_back(std::make_unique<RelayPersonService>(&context));
  services.push_back(std::make_unique<RelayFilingService>(&context));
  services.push_back(std::make_unique<NodeDirectoryService>(&context));
  return services;
}

}  // namespace yidi::provincial
