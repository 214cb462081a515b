// Ledger: a node's double-entry book of the money movements it takes part in, on the node's
// Store (tables ledger_transfer and ledger_entry). Accounts follow RULES.md section 10
// (暂付款 / 暂收款 per counterparty, 财政专户存款, 支出户存款, 收入类, 支出类); see docs/LEDGER.md.
//
// Invariants: every transfer balances (Σ debits = Σ credits, validated at the edge and checked
// again before the write and on read-back); a transfer is immutable and idempotent by id (the
// same id with the same content returns the stored one; other content is ALREADY_EXISTS);
// balances are sums of entries, never stored or edited; a correction is a new transfer. So
// the trial balance of a node is even after every committed transaction.
//
// The functions take the caller's Transaction so that a flow (a payment of an obligation)
// posts its ledger transfer in the same database transaction as its own state change.
// Thread safety: as the Transaction (one thread).
#ifndef YIDI_COMMON_LEDGER_H_
#define YIDI_COMMON_LEDGER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/store/store.h"
#include "yidi/v1/ledger.pb.h"

namespace yidi {

// A transfer has at least one debit and one credit; 16 legs cover every entry of section 10
// (they have 2) with room for a split across counterparties, and bound a request.
inline constexpr int kLedgerLegsMax = 16;
// Obligation ids plus a suffix ("/paid") fit.
inline constexpr int kTransferIdLengthMax = 96;
inline constexpr int kLedgerMemoLengthMax = 200;  // bytes of UTF-8
inline constexpr int kLedgerPageSizeDefault = 100;
inline constexpr int kLedgerPageSizeMax = 1000;

// Schema of the ledger (versions 20–21 of the common range).
std::vector<Migration> LedgerMigrations();

// "advance_paid/prepayment/210000", "fiscal_account_deposit", "income/other".
// REQUIRES: ValidateAccount(account) is OK.
std::string AccountKey(const yidi::v1::Account& account);
// The inverse; INVALID_ARGUMENT for a key no valid account has.
absl::StatusOr<yidi::v1::Account> ParseAccountKey(absl::string_view key);
// "暂付款—异地就医预付款—210000".
std::string AccountName(const yidi::v1::Account& account);
// True for the debit-normal accounts (assets, expense).
bool IsDebitNormal(yidi::v1::AccountType type);

// Which (type, detail, counterparty) combinations exist; INVALID_ARGUMENT naming `field`.
absl::Status ValidateAccount(const yidi::v1::Account& account, absl::string_view field);

// Checks a transfer at the edge: id, kind, counterparty, memo, date, 2..kLedgerLegsMax legs
// each with a direction, a valid account and 0 < amount <= kAmountMaxFen, at least one debit
// and one credit, Σ debits = Σ credits. INVALID_ARGUMENT naming the field.
absl::Status ValidateTransfer(const yidi::v1::LedgerTransfer& transfer);

// Σ debit legs, Σ credit legs.
int64_t DebitTotalFen(const yidi::v1::LedgerTransfer& transfer);
int64_t CreditTotalFen(const yidi::v1::LedgerTransfer& transfer);

struct RecordedTransfer {
  yidi::v1::LedgerTransfer transfer;  // as stored, with sequence and recorded_at
  bool replayed = false;              // it was already recorded with this content
};

// Validates and records `transfer` (sequence and recorded_at are assigned). The same id with
// the same content returns the stored transfer (replayed); with other content ALREADY_EXISTS
// naming transfer_id. INVALID_ARGUMENT from ValidateTransfer; store errors as they come.
absl::StatusOr<RecordedTransfer> RecordTransfer(Transaction& tx,
                                                const yidi::v1::LedgerTransfer& transfer,
                                                absl::Time now);

// nullopt when absent; INTERNAL when the stored transfer does not balance (read-back check).
absl::StatusOr<std::optional<yidi::v1::LedgerTransfer>> FindTransfer(Transaction& tx,
                                                                     absl::string_view id);

// Every account with entries (only those of `counterparty` when not empty), by account key.
absl::StatusOr<std::vector<yidi::v1::AccountBalance>> GetBalances(Transaction& tx,
                                                                  absl::string_view counterparty);

// Σ debits, Σ credits over every entry, whether they are equal, and every account's balance.
absl::StatusOr<yidi::v1::GetTrialBalanceResponse> ComputeTrialBalance(Transaction& tx);

// Transfers in recording order, filtered and paged. INVALID_ARGUMENT for a bad account key or
// page size.
absl::StatusOr<yidi::v1::ListTransfersResponse> ListTransfers(
    Transaction& tx, const yidi::v1::ListTransfersRequest& request);

// What moved between this node and one counterparty: Σ of the transfers of each *_PAID /
// *_RECEIVED kind with that counterparty. Node A's paid to B equals B's received from A once
// both have posted (the mirror check, docs/LEDGER.md).
struct CounterpartyFlows {
  int64_t prepayment_paid_fen = 0;
  int64_t prepayment_received_fen = 0;
  int64_t clearing_paid_fen = 0;
  int64_t clearing_received_fen = 0;
};
absl::StatusOr<CounterpartyFlows> FlowsWith(Transaction& tx, absl::string_view counterparty);

// The two-leg transfers of a movement between two nodes (RULES.md section 10):
//  payer,    prepayment:  Dr 暂付款—预付款—receiver       Cr 财政专户存款   (X1, X2, P1)
//  receiver, prepayment:  Dr 财政专户存款                 Cr 暂收款—预付金—payer (X3, X8, P4)
//  payer,    clearing:    Dr 支出类—清算资金—receiver     Cr 财政专户存款   (X5, P2)
//  receiver, clearing:    Dr 财政专户存款                 Cr 暂收款—清算资金—payer (X6, X8)
// A returned prepayment ("*", RULES.md 5.4) runs the other way and unwinds the same accounts:
//  returner (treatment side): Dr 暂收款—预付金—insured   Cr 财政专户存款
//  insured side:              Dr 财政专户存款            Cr 暂付款—预付款—returner
enum class MovementPurpose { kPrepayment, kClearing };
struct Movement {
  std::string transfer_id;
  MovementPurpose purpose = MovementPurpose::kPrepayment;
  bool prepayment_return = false;  // "*": a treatment side returns prepayment
  std::string counterparty;        // the other side's region
  int64_t amount_fen = 0;          // > 0
  std::string transfer_date;       // YYYY-MM-DD
  std::string memo;
  std::string reference;  // the obligation id
};
yidi::v1::LedgerTransfer PaymentTransfer(const Movement& movement);
yidi::v1::LedgerTransfer ReceiptTransfer(const Movement& movement);

// Y1–Y4: the year-end entries that bring every 暂收款—清算资金—xx balance to zero: a surplus
// (credit balance) to 收入类—其他收入, a deficit (debit balance) to 支出类—其他支出. Ids
// "year-end/<year>/<account key>", dated <year>-12-31.
std::vector<yidi::v1::LedgerTransfer> YearEndClosingTransfers(
    const std::vector<yidi::v1::AccountBalance>& balances, int year);

}  // namespace yidi

#endif  // YIDI_COMMON_LEDGER_H_
