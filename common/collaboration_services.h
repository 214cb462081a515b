// The collaboration services every node kind serves: fee investigations
// (investigation_service.h), collaboration tickets (ticket_service.h), announcements and the
// downtime gate (announcement_service.h), and the monitoring report (monitoring_service.h).
// One call from each kind's service factory builds them all (docs/COLLABORATION.md).
#ifndef YIDI_COMMON_COLLABORATION_SERVICES_H_
#define YIDI_COMMON_COLLABORATION_SERVICES_H_

#include <memory>
#include <vector>

#include "common/node.h"
#include "grpcpp/grpcpp.h"

namespace yidi {

// REQUIRES: called before the server starts (it registers a call gate in context.call_gates).
// A collaboration_policy_file that cannot be read is logged; the investigation calls then
// answer FAILED_PRECONDITION naming the file, and everything else works.
std::vector<std::unique_ptr<grpc::Service>> MakeCollaborationServices(NodeContext& context);

}  // namespace yidi

#endif  // YIDI_COMMON_COLLABORATION_SERVICES_H_
