// What every unary handler of a node's back-office services (clearing, prepayment, ledger,
// investigations, tickets, announcements) does around its body: run it in one store
// transaction, committed only for writes, and finish the call with the body's status converted
// once (common/grpc_status.h). The handlers then state only what they do.
#ifndef YIDI_COMMON_UNARY_HANDLER_H_
#define YIDI_COMMON_UNARY_HANDLER_H_

#include "absl/status/status.h"
#include "common/grpc_status.h"
#include "common/node.h"
#include "common/status_macros.h"
#include "common/store/store.h"
#include "grpcpp/grpcpp.h"

namespace yidi {

// Finishes the call with `status` (OK or the gRPC status naming the field and the reason).
inline grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* ctx,
                                             const absl::Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// Runs body(Transaction&) in one transaction of `mode`; a write commits only when the body
// returns OK, so a refused request stores nothing.
template <typename Body>
absl::Status InTransaction(NodeContext& context, TransactionMode mode, Body body) {
  ASSIGN_OR_RETURN(auto tx, context.store->Begin(mode));
  RETURN_IF_ERROR(body(*tx));
  if (mode == TransactionMode::kWrite) RETURN_IF_ERROR(tx->Commit());
  return absl::OkStatus();
}

}  // namespace yidi

#endif  // YIDI_COMMON_UNARY_HANDLER_H_
