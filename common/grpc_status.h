// The one place where absl::Status and grpc::Status meet, and where channels are made.
#ifndef YIDI_COMMON_GRPC_STATUS_H_
#define YIDI_COMMON_GRPC_STATUS_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"

namespace yidi {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// True when a failed forward tells us for certain that nothing was committed downstream
// (the request was refused on its merits). Any other failure leaves the outcome unknown.
bool IsDefinitiveRefusal(absl::StatusCode code);

// A channel to a loopback or agency-network peer with the HTTP proxy disabled, so that an
// environment variable can never reroute node traffic. `credentials` are the caller's TLS
// credentials (NodeContext::channel_credentials, common/security.h); nullptr = plaintext,
// which a TLS node refuses at the handshake.
std::shared_ptr<grpc::Channel> MakeChannel(
    const std::string& address,
    std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);

// The channel arguments MakeChannel uses (for callers that add their own, e.g. a local
// subchannel pool).
grpc::ChannelArguments NodeChannelArguments();

}  // namespace yidi

#endif  // YIDI_COMMON_GRPC_STATUS_H_
