#include "national/national_services.h"

#include "common/node_services.h"

namespace yidi::national {

std::vector<std::unique_ptr<grpc::Service>> MakeNationalServices(NodeContext& context) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  services.push_back(std::make_unique<RelaySettlementService>(&context));
  services.push_back(std::make_unique<RelayPersonService>(&context));
  services.push_back(std::make_unique<RelayFilingService>(&context));
  services.push_back(std::make_unique<NodeDirectoryService>(&context));
  return services;
}

}  // namespace yidi::national
