// LedgerService (api/yidi/v1/ledger.proto) on every node kind: the node's own ledger
// (common/ledger.h). Handlers translate only. Thread-safe: each call runs its own transaction.
#ifndef YIDI_COMMON_LEDGER_SERVICE_H_
#define YIDI_COMMON_LEDGER_SERVICE_H_

#include "common/node.h"
#include "yidi/v1/ledger.grpc.pb.h"

namespace yidi {

class NodeLedgerService final : public yidi::v1::LedgerService::CallbackService {
 public:
  explicit NodeLedgerService(NodeContext* context) : context_(context) {}
  grpc::ServerUnaryReactor* GetBalances(grpc::CallbackServerContext* ctx,
                                        const yidi::v1::GetBalancesRequest* request,
                                        yidi::v1::GetBalancesResponse* response) override;
  grpc::ServerUnaryReactor* ListTransfers(grpc::CallbackServerContext* ctx,
                                          const yidi::v1::ListTransfersRequest* request,
                                          yidi::v1::ListTransfersResponse* response) override;
  grpc::ServerUnaryReactor* GetTrialBalance(grpc::CallbackServerContext* ctx,
                                            const yidi::v1::GetTrialBalanceRequest* request,
                                            yidi::v1::GetTrialBalanceResponse* response) override;
  // Back-office entries only: the movements between nodes (*_PAID, *_RECEIVED) are posted by
  // PrepaymentService.RecordPayment / RecordReceipt against their obligation, so that both
  // sides of a pair post the same movement; here they are INVALID_ARGUMENT naming kind.
  grpc::ServerUnaryReactor* RecordTransfer(grpc::CallbackServerContext* ctx,
                                           const yidi::v1::RecordTransferRequest* request,
                                           yidi::v1::RecordTransferResponse* response) override;

 private:
  NodeContext* const context_;
};

}  // namespace yidi

#endif  // YIDI_COMMON_LEDGER_SERVICE_H_
