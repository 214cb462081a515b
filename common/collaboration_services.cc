#include "common/collaboration_services.h"

#include "common/announcement_service.h"
#include "common/investigation_service.h"
#include "common/log.h"
#include "common/monitoring_service.h"
#include "common/ticket_service.h"

namespace yidi {

std::vector<std::unique_ptr<grpc::Service>> MakeCollaborationServices(NodeContext& context) {
  std::vector<std::unique_ptr<grpc::Service>> services;
  auto policy = LoadCollaborationPolicy(context);
  if (!policy.ok()) {
    LogError("collaboration_policy_file: %s", std::string(policy.status().message()));
  }
  services.push_back(std::make_unique<NodeInvestigationService>(
      &context, policy.ok() ? *policy : yidi::v1::CollaborationPolicy(), policy.status()));
  services.push_back(std::make_unique<NodeAnnouncementService>(&context));
  services.push_back(std::make_unique<NodeMonitoringService>(&context));
  services.push_back(std::make_unique<NodeTicketService>(&context));
  return services;
}

}  // namespace yidi
