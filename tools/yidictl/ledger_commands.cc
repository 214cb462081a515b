// yidictl commands of a node's double-entry ledger (LedgerService, docs/LEDGER.md):
//   ledger balance [COUNTERPARTY]     each account's debit, credit and balance (元)
//   ledger transfers [--account_key=KEY] [--counterparty=R] [--after=SEQ] [--page_size=N]
//   ledger trial-balance              Σ debits, Σ credits, even or not, every account
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/ledger.h"
#include "common/money.h"
#include "grpcpp/grpcpp.h"
#include "tools/yidictl/command.h"
#include "yidi/v1/ledger.grpc.pb.h"

ABSL_FLAG(std::string, account_key, "", "ledger transfers: only those touching this account");
ABSL_FLAG(std::string, counterparty, "", "ledger transfers: only those with this region");
ABSL_FLAG(int64_t, after, 0, "ledger transfers: those recorded after this sequence number");
ABSL_FLAG(int, page_size, 100, "ledger transfers: at most this many (<= 1000)");

namespace {

using Channel = std::shared_ptr<grpc::Channel>;
using Args = std::vector<std::string>;
using yidi::FormatYuan;

// "借 1234.56" for a debit balance, "贷 1234.56" for a credit balance, "平 0.00" for none.
std::string Side(int64_t balance_fen) {
  if (balance_fen == 0) return "平 0.00";
  return balance_fen > 0 ? absl::StrCat("借 ", FormatYuan(balance_fen))
                         : absl::StrCat("贷 ", FormatYuan(-balance_fen));
}

void PrintBalances(const google::protobuf::RepeatedPtrField<yidi::v1::AccountBalance>& balances) {
  std::cout << absl::StrFormat("%-36s %18s %18s %20s  %s\n", "account", "debit (元)", "credit (元)",
                               "balance (元)", "name");
  for (const auto& balance : balances) {
    std::cout << absl::StrFormat(
        "%-36s %18s %18s %20s  %s\n", balance.account_key(), FormatYuan(balance.debit_total_fen()),
        FormatYuan(balance.credit_total_fen()), Side(balance.balance_fen()), balance.name());
  }
}

int Balance(const Channel& channel, const Args& args) {
  auto stub = yidi::v1::LedgerService::NewStub(channel);
  yidi::v1::GetBalancesRequest request;
  if (!args.empty()) request.set_counterparty(args[0]);
  yidi::v1::GetBalancesResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->GetBalances(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  if (absl::GetFlag(FLAGS_text)) {
    std::cout << response.DebugString();
    return yidictl::kExitOk;
  }
  PrintBalances(response.balances());
  return yidictl::kExitOk;
}

int Transfers(const Channel& channel, const Args&) {
  auto stub = yidi::v1::LedgerService::NewStub(channel);
  yidi::v1::ListTransfersRequest request;
  request.set_account_key(absl::GetFlag(FLAGS_account_key));
  request.set_counterparty(absl::GetFlag(FLAGS_counterparty));
  request.set_after_sequence(absl::GetFlag(FLAGS_after));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  yidi::v1::ListTransfersResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->ListTransfers(context.get(), request, &response);
  if (!status.ok()) return yidictl::Fail(status);
  if (absl::GetFlag(FLAGS_text)) {
    std::cout << response.DebugString();
    return yidictl::kExitOk;
  }
  for (const auto& transfer : response.transfers()) {
    std::cout << absl::StrFormat(
        "#%d  %s  %s  %s  counterparty %s  %s\n", transfer.sequence(), transfer.transfer_date(),
        transfer.transfer_id(), yidi::v1::TransferKind_Name(transfer.kind()).substr(14),
        transfer.counterparty().empty() ? "-" : transfer.counterparty(), transfer.memo());
    for (const auto& leg : transfer.legs()) {
      const bool debit = leg.direction() == yidi::v1::ENTRY_DIRECTION_DEBIT;
      std::cout << absl::StrFormat(
          "      %s %-40s %18s  %s\n", debit ? "借" : "贷",
          absl::StrCat(debit ? "" : "    ", yidi::AccountKey(leg.account())),
          FormatYuan(leg.amount_fen()), yidi::AccountName(leg.account()));
    }
  }
  if (response.next_after_sequence() != 0) {
    std::cout << "more: --after=" << response.next_after_sequence() << "\n";
  }
  return yidictl::kExitOk;
}

int TrialBalance(const Channel& channel, const Args&) {
  auto stub = yidi::v1::LedgerService::NewStub(channel);
  yidi::v1::GetTrialBalanceResponse response;
  auto context = yidictl::MakeContext();
  grpc::Status status = stub->GetTrialBalance(context.get(), {}, &response);
  if (!status.ok()) return yidictl::Fail(status);
  if (absl::GetFlag(FLAGS_text)) {
    std::cout << response.DebugString();
    return yidictl::kExitOk;
  }
  PrintBalances(response.balances());
  std::cout << absl::StrFormat("%-36s %18s %18s  %s (%d transfers)\n", "total",
                               FormatYuan(response.debit_total_fen()),
                               FormatYuan(response.credit_total_fen()),
                               response.even() ? "EVEN" : "NOT EVEN", response.transfer_count());
  return response.even() ? yidictl::kExitOk : yidictl::kExitRemoteError;
}

}  // namespace

YIDICTL_COMMAND("ledger balance",
                "ledger balance [COUNTERPARTY]    the node's accounts: debit, credit, balance",
                Balance);
YIDICTL_COMMAND("ledger transfers",
                "ledger transfers [--account_key=KEY] [--counterparty=R] [--after=SEQ] "
                "[--page_size=N]",
                Transfers);
YIDICTL_COMMAND("ledger trial-balance",
                "ledger trial-balance             Σ debits = Σ credits? (exit 2 when not even)",
                TrialBalance);
