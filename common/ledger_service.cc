#include "common/ledger_service.h"

#include "common/grpc_status.h"
#include "common/ledger.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/unary_handler.h"

namespace yidi {

grpc::ServerUnaryReactor* NodeLedgerService::GetBalances(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetBalancesRequest* request,
    yidi::v1::GetBalancesResponse* response) {
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(auto balances,
                                        yidi::GetBalances(tx, request->counterparty()));
                       for (auto& balance : balances)
                         *response->add_balances() = std::move(balance);
                       return absl::OkStatus();
                     }));
}

grpc::ServerUnaryReactor* NodeLedgerService::ListTransfers(
    grpc::CallbackServerContext* ctx, const yidi::v1::ListTransfersRequest* request,
    yidi::v1::ListTransfersResponse* response) {
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(*response, yidi::ListTransfers(tx, *request));
                       return absl::OkStatus();
                     }));
}

grpc::ServerUnaryReactor* NodeLedgerService::GetTrialBalance(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetTrialBalanceRequest*,
    yidi::v1::GetTrialBalanceResponse* response) {
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(*response, yidi::ComputeTrialBalance(tx));
                       if (!response->even()) {
                         // Every transfer balances when written and when read back; an uneven sum
                         // means the database was changed behind the ledger's back.
                         LogError("ledger: trial balance uneven: debits %d, credits %d",
                                  response->debit_total_fen(), response->credit_total_fen());
                       }
                       return absl::OkStatus();
                     }));
}

grpc::ServerUnaryReactor* NodeLedgerService::RecordTransfer(
    grpc::CallbackServerContext* ctx, const yidi::v1::RecordTransferRequest* request,
    yidi::v1::RecordTransferResponse* response) {
  switch (request->transfer().kind()) {
    case yidi::v1::TRANSFER_KIND_PREPAYMENT_PAID:
    case yidi::v1::TRANSFER_KIND_PREPAYMENT_RECEIVED:
    case yidi::v1::TRANSFER_KIND_CLEARING_PAID:
    case yidi::v1::TRANSFER_KIND_CLEARING_RECEIVED:
      return FinishUnary(ctx, absl::InvalidArgumentError(
                                  "transfer.kind: payments and receipts between nodes are recorded "
                                  "with PrepaymentService.RecordPayment / RecordReceipt against "
                                  "their obligation"));
    default:
      break;
  }
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(
                           RecordedTransfer recorded,
                           yidi::RecordTransfer(tx, request->transfer(), context_->clock->Now()));
                       *response->mutable_transfer() = std::move(recorded.transfer);
                       response->set_replayed(recorded.replayed);
                       return absl::OkStatus();
                     }));
}

}  // namespace yidi
