// The provincial node's gRPC services. Today a provincial node routes every settlement, person and
// filing call one hop toward the insured region and records each settlement that crosses it
// (common/node_services.h); its back-office duties (reconciliation, clearing, prepayment) join
// here in their own issues.
#ifndef YIDI_PROVINCIAL_PROVINCIAL_SERVICES_H_
#define YIDI_PROVINCIAL_PROVINCIAL_SERVICES_H_

#include <memory>
#include <vector>

#include "common/node.h"
#include "grpcpp/grpcpp.h"

namespace yidi::provincial {

std::vector<std::unique_ptr<grpc::Service>> MakeProvincialServices(NodeContext& context);

}  // namespace yidi::provincial

#endif  // YIDI_PROVINCIAL_PROVINCIAL_SERVICES_H_
