// The national node's gRPC services. Today a national node routes every settlement, person and
// filing call one hop toward the insured region and records each settlement that crosses it
// (common/node_services.h); its back-office duties (reconciliation, clearing, prepayment) join
// here in their own issues.
#ifndef YIDI_NATIONAL_NATIONAL_SERVICES_H_
#define YIDI_NATIONAL_NATIONAL_SERVICES_H_

#include <memory>
#include <vector>

#include "common/node.h"
#include "grpcpp/grpcpp.h"

namespace yidi::national {

std::vector<std::unique_ptr<grpc::Service>> MakeNationalServices(NodeContext& context);

}  // namespace yidi::national

#endif  // YIDI_NATIONAL_NATIONAL_SERVICES_H_
