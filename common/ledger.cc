#include "common/ledger.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/digest.h"
#include "common/money.h"
#include "common/status_macros.h"

namespace yidi {

using yidi::v1::Account;
using yidi::v1::AccountBalance;
using yidi::v1::AccountDetail;
using yidi::v1::AccountType;
using yidi::v1::EntryDirection;
using yidi::v1::LedgerLeg;
using yidi::v1::LedgerTransfer;
using yidi::v1::TransferKind;

std::vector<Migration> LedgerMigrations() {
  return {
      {20,
       "ledger_transfer: one row per double-entry transfer, immutable",
       {"CREATE TABLE ledger_transfer ("
        " transfer_id VARCHAR(96) NOT NULL PRIMARY KEY,"
        " sequence BIGINT NOT NULL,"
        " kind INTEGER NOT NULL,"
        " counterparty VARCHAR(6) NOT NULL,"
        " memo VARCHAR(200) NOT NULL,"
        " transfer_date VARCHAR(10) NOT NULL,"
        " reference VARCHAR(96) NOT NULL,"
        " content_digest VARCHAR(64) NOT NULL,"
        " recorded_at VARCHAR(32) NOT NULL)",
        "CREATE UNIQUE INDEX ledger_transfer_by_sequence ON ledger_transfer (sequence)",
        "CREATE INDEX ledger_transfer_by_counterparty ON ledger_transfer (counterparty, "
        "sequence)"}},
      {21,
       "ledger_entry: the legs of each transfer; balances are sums of these",
       {"CREATE TABLE ledger_entry ("
        " transfer_id VARCHAR(96) NOT NULL,"
        " leg_index INTEGER NOT NULL,"
        " direction INTEGER NOT NULL,"
        " account_key VARCHAR(64) NOT NULL,"
        " account_counterparty VARCHAR(6) NOT NULL,"
        " amount_fen BIGINT NOT NULL,"
        " PRIMARY KEY (transfer_id, leg_index))",
        "CREATE INDEX ledger_entry_by_account ON ledger_entry (account_key)"}},
  };
}

namespace {

struct TypeName {
  AccountType type;
  const char* key;
  const char* name;
};
constexpr TypeName kTypeNames[] = {
    {yidi::v1::ACCOUNT_TYPE_ADVANCE_PAID, "advance_paid", "暂付款"},
    {yidi::v1::ACCOUNT_TYPE_ADVANCE_RECEIVED, "advance_received", "暂收款"},
    {yidi::v1::ACCOUNT_TYPE_FISCAL_ACCOUNT_DEPOSIT, "fiscal_account_deposit", "财政专户存款"},
    {yidi::v1::ACCOUNT_TYPE_EXPENDITURE_ACCOUNT_DEPOSIT, "expenditure_account_deposit",
     "支出户存款"},
    {yidi::v1::ACCOUNT_TYPE_INCOME, "income", "收入类"},
    {yidi::v1::ACCOUNT_TYPE_EXPENSE, "expense", "支出类"},
};

struct DetailName {
  AccountDetail detail;
  const char* key;
};
constexpr DetailName kDetailNames[] = {
    {yidi::v1::ACCOUNT_DETAIL_PREPAYMENT, "prepayment"},
    {yidi::v1::ACCOUNT_DETAIL_CLEARING, "clearing"},
    {yidi::v1::ACCOUNT_DETAIL_OTHER, "other"},
    {yidi::v1::ACCOUNT_DETAIL_INTEREST, "interest"},
};

const TypeName* FindType(AccountType type) {
  for (const auto& entry : kTypeNames) {
    if (entry.type == type) return &entry;
  }
  return nullptr;
}

const char* DetailKey(AccountDetail detail) {
  for (const auto& entry : kDetailNames) {
    if (entry.detail == detail) return entry.key;
  }
  return "";
}

bool IsRegionCode(absl::string_view text) {
  if (text.size() != 6) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

bool IsTransferIdChar(char c) {
  return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == ':' || c == '/' || c == '-';
}

bool IsMovementKind(TransferKind kind) {
  return kind == yidi::v1::TRANSFER_KIND_PREPAYMENT_PAID ||
         kind == yidi::v1::TRANSFER_KIND_PREPAYMENT_RECEIVED ||
         kind == yidi::v1::TRANSFER_KIND_CLEARING_PAID ||
         kind == yidi::v1::TRANSFER_KIND_CLEARING_RECEIVED;
}

// The content that makes two requests "the same transfer": everything but what the node sets.
std::string ContentDigest(const LedgerTransfer& transfer) {
  LedgerTransfer content = transfer;
  content.clear_sequence();
  content.clear_recorded_at();
  return DigestMessage(content);
}

int64_t SumLegs(const LedgerTransfer& transfer, EntryDirection direction) {
  int64_t total = 0;
  for (const LedgerLeg& leg : transfer.legs()) {
    if (leg.direction() == direction) total += leg.amount_fen();
  }
  return total;
}

AccountBalance MakeBalance(const std::string& key, int64_t debit_fen, int64_t credit_fen) {
  AccountBalance balance;
  auto account = ParseAccountKey(key);
  if (account.ok()) {
    *balance.mutable_account() = *account;
    balance.set_name(AccountName(*account));
  } else {
    balance.set_name(key);
  }
  balance.set_account_key(key);
  balance.set_debit_total_fen(debit_fen);
  balance.set_credit_total_fen(credit_fen);
  balance.set_balance_fen(debit_fen - credit_fen);
  return balance;
}

}  // namespace

std::string AccountKey(const Account& account) {
  const TypeName* type = FindType(account.type());
  YIDI_CHECK(type != nullptr, "AccountKey REQUIRES a validated account");
  std::string key = type->key;
  if (account.detail() != yidi::v1::ACCOUNT_DETAIL_UNSPECIFIED) {
    absl::StrAppend(&key, "/", DetailKey(account.detail()));
  }
  if (!account.counterparty().empty()) absl::StrAppend(&key, "/", account.counterparty());
  return key;
}

absl::StatusOr<Account> ParseAccountKey(absl::string_view key) {
  std::vector<absl::string_view> parts = absl::StrSplit(key, '/');
  Account account;
  const TypeName* type = nullptr;
  for (const auto& entry : kTypeNames) {
    if (parts[0] == entry.key) type = &entry;
  }
  if (type == nullptr || parts.size() > 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("account_key: \"", key.substr(0, 64), "\" is not an account"));
  }
  account.set_type(type->type);
  if (parts.size() >= 2) {
    bool found = false;
    for (const auto& entry : kDetailNames) {
      if (parts[1] == entry.key) {
        account.set_detail(entry.detail);
        found = true;
      }
    }
    if (!found) {
      return absl::InvalidArgumentError(
          absl::StrCat("account_key: \"", key.substr(0, 64), "\" has an unknown detail"));
    }
  }
  if (parts.size() == 3) account.set_counterparty(std::string(parts[2]));
  RETURN_IF_ERROR(ValidateAccount(account, "account_key"));
  return account;
}

std::string AccountName(const Account& account) {
  std::string name;
  switch (account.type()) {
    case yidi::v1::ACCOUNT_TYPE_ADVANCE_PAID:
      name = "暂付款—异地就医预付款";
      break;
    case yidi::v1::ACCOUNT_TYPE_ADVANCE_RECEIVED:
      name = account.detail() == yidi::v1::ACCOUNT_DETAIL_PREPAYMENT ? "暂收款—异地就医预付金"
                                                                     : "暂收款—异地就医清算资金";
      break;
    case yidi::v1::ACCOUNT_TYPE_FISCAL_ACCOUNT_DEPOSIT:
      name = "财政专户存款";
      break;
    case yidi::v1::ACCOUNT_TYPE_EXPENDITURE_ACCOUNT_DEPOSIT:
      name = "支出户存款";
      break;
    case yidi::v1::ACCOUNT_TYPE_INCOME:
      name = account.detail() == yidi::v1::ACCOUNT_DETAIL_INTEREST
                 ? "收入类—基本医疗保险基金利息收入"
                 : "收入类—其他收入";
      break;
    case yidi::v1::ACCOUNT_TYPE_EXPENSE:
      name = account.detail() == yidi::v1::ACCOUNT_DETAIL_CLEARING ? "支出类—异地就医清算资金"
                                                                   : "支出类—其他支出";
      break;
    default:
      name = "?";
  }
  if (!account.counterparty().empty()) absl::StrAppend(&name, "—", account.counterparty());
  return name;
}

bool IsDebitNormal(AccountType type) {
  return type != yidi::v1::ACCOUNT_TYPE_ADVANCE_RECEIVED && type != yidi::v1::ACCOUNT_TYPE_INCOME;
}

absl::Status ValidateAccount(const Account& account, absl::string_view field) {
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
  };
  const bool has_counterparty = !account.counterparty().empty();
  if (has_counterparty && !IsRegionCode(account.counterparty())) {
    return invalid("counterparty must be a 6-digit region code");
  }
  const AccountDetail detail = account.detail();
  switch (account.type()) {
    case yidi::v1::ACCOUNT_TYPE_ADVANCE_PAID:
      if (detail != yidi::v1::ACCOUNT_DETAIL_PREPAYMENT) {
        return invalid("暂付款 (advance_paid) has the detail prepayment");
      }
      if (!has_counterparty)
        return invalid("暂付款 is kept per counterparty: counterparty required");
      return absl::OkStatus();
    case yidi::v1::ACCOUNT_TYPE_ADVANCE_RECEIVED:
      if (detail != yidi::v1::ACCOUNT_DETAIL_PREPAYMENT &&
          detail != yidi::v1::ACCOUNT_DETAIL_CLEARING) {
        return invalid("暂收款 (advance_received) has the detail prepayment or clearing");
      }
      if (!has_counterparty)
        return invalid("暂收款 is kept per counterparty: counterparty required");
      return absl::OkStatus();
    case yidi::v1::ACCOUNT_TYPE_FISCAL_ACCOUNT_DEPOSIT:
    case yidi::v1::ACCOUNT_TYPE_EXPENDITURE_ACCOUNT_DEPOSIT:
      if (detail != yidi::v1::ACCOUNT_DETAIL_UNSPECIFIED || has_counterparty) {
        return invalid("a deposit account has no detail and no counterparty");
      }
      return absl::OkStatus();
    case yidi::v1::ACCOUNT_TYPE_INCOME:
      if ((detail != yidi::v1::ACCOUNT_DETAIL_OTHER &&
           detail != yidi::v1::ACCOUNT_DETAIL_INTEREST) ||
          has_counterparty) {
        return invalid("收入类 (income) has the detail other or interest and no counterparty");
      }
      return absl::OkStatus();
    case yidi::v1::ACCOUNT_TYPE_EXPENSE:
      if (detail == yidi::v1::ACCOUNT_DETAIL_CLEARING) {
        if (!has_counterparty) return invalid("支出类—清算资金 is kept per counterparty");
        return absl::OkStatus();
      }
      if (detail != yidi::v1::ACCOUNT_DETAIL_OTHER || has_counterparty) {
        return invalid("支出类 (expense) is clearing (per counterparty) or other");
      }
      return absl::OkStatus();
    default:
      return invalid("type: required");
  }
}

int64_t DebitTotalFen(const LedgerTransfer& transfer) {
  return SumLegs(transfer, yidi::v1::ENTRY_DIRECTION_DEBIT);
}
int64_t CreditTotalFen(const LedgerTransfer& transfer) {
  return SumLegs(transfer, yidi::v1::ENTRY_DIRECTION_CREDIT);
}

absl::Status ValidateTransfer(const LedgerTransfer& transfer) {
  const std::string& id = transfer.transfer_id();
  if (id.empty()) return absl::InvalidArgumentError("transfer_id: required");
  if (id.size() > kTransferIdLengthMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("transfer_id: longer than ", kTransferIdLengthMax, " characters"));
  }
  for (char c : id) {
    if (!IsTransferIdChar(c)) {
      return absl::InvalidArgumentError(
          "transfer_id: only letters, digits and . _ : / - are allowed");
    }
  }
  if (!yidi::v1::TransferKind_IsValid(transfer.kind()) ||
      transfer.kind() == yidi::v1::TRANSFER_KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError("kind: required");
  }
  if (!transfer.counterparty().empty() && !IsRegionCode(transfer.counterparty())) {
    return absl::InvalidArgumentError("counterparty: must be a 6-digit region code");
  }
  if (IsMovementKind(transfer.kind()) && transfer.counterparty().empty()) {
    return absl::InvalidArgumentError(
        "counterparty: a payment or receipt between nodes names the other node");
  }
  if (transfer.memo().size() > kLedgerMemoLengthMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("memo: longer than ", kLedgerMemoLengthMax, " bytes"));
  }
  if (transfer.reference().size() > kTransferIdLengthMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("reference: longer than ", kTransferIdLengthMax, " characters"));
  }
  if (auto date = ParseDate(transfer.transfer_date()); !date.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("transfer_date: ", date.status().message()));
  }
  if (transfer.legs_size() < 2 || transfer.legs_size() > kLedgerLegsMax) {
    return absl::InvalidArgumentError(absl::StrCat("legs: a transfer has 2 to ", kLedgerLegsMax,
                                                   " legs, not ", transfer.legs_size()));
  }
  bool has_debit = false, has_credit = false;
  for (int i = 0; i < transfer.legs_size(); ++i) {
    const LedgerLeg& leg = transfer.legs(i);
    const std::string field = absl::StrCat("legs[", i, "]");
    if (leg.direction() == yidi::v1::ENTRY_DIRECTION_DEBIT) {
      has_debit = true;
    } else if (leg.direction() == yidi::v1::ENTRY_DIRECTION_CREDIT) {
      has_credit = true;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(field, ".direction: debit or credit"));
    }
    RETURN_IF_ERROR(ValidateAccount(leg.account(), absl::StrCat(field, ".account")));
    if (leg.amount_fen() <= 0 || leg.amount_fen() > kAmountMaxFen) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".amount_fen: must be in (0, ",
                                                     kAmountMaxFen, "], not ", leg.amount_fen()));
    }
  }
  if (!has_debit || !has_credit) {
    return absl::InvalidArgumentError("legs: a transfer needs at least one debit and one credit");
  }
  // Cannot overflow: at most 16 legs of at most 10^12 fen.
  const int64_t debits = DebitTotalFen(transfer), credits = CreditTotalFen(transfer);
  if (debits != credits) {
    return absl::InvalidArgumentError(absl::StrCat("legs: debits ", FormatYuan(debits),
                                                   " ≠ credits ", FormatYuan(credits),
                                                   " 元; a transfer must balance"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<LedgerTransfer>> FindTransfer(Transaction& tx, absl::string_view id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT transfer_id, sequence, kind, counterparty, memo, "
                                       "transfer_date, reference, recorded_at FROM ledger_transfer "
                                       "WHERE transfer_id = ?",
                                       {std::string(id)}));
  if (rows.empty()) return std::optional<LedgerTransfer>();
  const Row& row = rows.front();
  LedgerTransfer transfer;
  transfer.set_transfer_id(row.Text(0));
  transfer.set_sequence(row.Int(1));
  transfer.set_kind(static_cast<TransferKind>(row.Int(2)));
  transfer.set_counterparty(row.Text(3));
  transfer.set_memo(row.Text(4));
  transfer.set_transfer_date(row.Text(5));
  transfer.set_reference(row.Text(6));
  transfer.set_recorded_at(row.Text(7));
  ASSIGN_OR_RETURN(auto legs, tx.Query("SELECT direction, account_key, amount_fen FROM "
                                       "ledger_entry WHERE transfer_id = ? ORDER BY leg_index",
                                       {std::string(id)}));
  for (const Row& leg_row : legs) {
    LedgerLeg* leg = transfer.add_legs();
    leg->set_direction(static_cast<EntryDirection>(leg_row.Int(0)));
    auto account = ParseAccountKey(leg_row.Text(1));
    if (!account.ok()) {
      return absl::InternalError(
          absl::StrCat("transfer ", id, ": stored account ", leg_row.Text(1), " is corrupt"));
    }
    *leg->mutable_account() = *account;
    leg->set_amount_fen(leg_row.Int(2));
  }
  // Read-back check: what we stored balances, or something broke in between.
  if (DebitTotalFen(transfer) != CreditTotalFen(transfer) || transfer.legs_size() < 2) {
    return absl::InternalError(absl::StrCat("transfer ", id, ": stored legs do not balance"));
  }
  return std::optional<LedgerTransfer>(std::move(transfer));
}

absl::StatusOr<RecordedTransfer> RecordTransfer(Transaction& tx, const LedgerTransfer& request,
                                                absl::Time now) {
  RETURN_IF_ERROR(ValidateTransfer(request));
  LedgerTransfer transfer = request;
  transfer.clear_sequence();
  transfer.clear_recorded_at();
  const std::string digest = ContentDigest(transfer);
  ASSIGN_OR_RETURN(auto existing,
                   tx.Query("SELECT content_digest FROM ledger_transfer WHERE transfer_id = ?",
                            {transfer.transfer_id()}));
  if (!existing.empty()) {
    if (existing.front().Text(0) != digest) {
      return absl::AlreadyExistsError(absl::StrCat(
          "transfer_id: ", transfer.transfer_id(),
          " is already recorded with other content; a transfer is immutable, a correction is "
          "a new transfer"));
    }
    ASSIGN_OR_RETURN(auto stored, FindTransfer(tx, transfer.transfer_id()));
    YIDI_CHECK(stored.has_value(), "a transfer found by digest is found by id");
    return RecordedTransfer{std::move(*stored), /*replayed=*/true};
  }
  YIDI_CHECK(DebitTotalFen(transfer) == CreditTotalFen(transfer),
             "a validated transfer balances: debits = credits before the write");
  ASSIGN_OR_RETURN(auto max_rows,
                   tx.Query("SELECT COALESCE(MAX(sequence), 0) FROM ledger_transfer"));
  transfer.set_sequence(max_rows.front().Int(0) + 1);
  transfer.set_recorded_at(FormatCstTimestamp(now));
  RETURN_IF_ERROR(
      tx.Execute("INSERT INTO ledger_transfer (transfer_id, sequence, kind, counterparty, memo, "
                 "transfer_date, reference, content_digest, recorded_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 {transfer.transfer_id(), transfer.sequence(), int64_t{transfer.kind()},
                  transfer.counterparty(), transfer.memo(), transfer.transfer_date(),
                  transfer.reference(), digest, transfer.recorded_at()})
          .status());
  for (int i = 0; i < transfer.legs_size(); ++i) {
    const LedgerLeg& leg = transfer.legs(i);
    RETURN_IF_ERROR(
        tx.Execute("INSERT INTO ledger_entry (transfer_id, leg_index, direction, account_key, "
                   "account_counterparty, amount_fen) VALUES (?, ?, ?, ?, ?, ?)",
                   {transfer.transfer_id(), int64_t{i}, int64_t{leg.direction()},
                    AccountKey(leg.account()), leg.account().counterparty(), leg.amount_fen()})
            .status());
  }
  return RecordedTransfer{std::move(transfer), /*replayed=*/false};
}

absl::StatusOr<std::vector<AccountBalance>> GetBalances(Transaction& tx,
                                                        absl::string_view counterparty) {
  std::string sql =
      "SELECT account_key, "
      "SUM(CASE WHEN direction = 1 THEN amount_fen ELSE 0 END), "
      "SUM(CASE WHEN direction = 2 THEN amount_fen ELSE 0 END) FROM ledger_entry";
  std::vector<SqlValue> params;
  if (!counterparty.empty()) {
    sql += " WHERE account_counterparty = ?";
    params.push_back(std::string(counterparty));
  }
  sql += " GROUP BY account_key ORDER BY account_key";
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<AccountBalance> balances;
  for (const Row& row : rows) balances.push_back(MakeBalance(row.Text(0), row.Int(1), row.Int(2)));
  return balances;
}

absl::StatusOr<yidi::v1::GetTrialBalanceResponse> ComputeTrialBalance(Transaction& tx) {
  yidi::v1::GetTrialBalanceResponse trial;
  ASSIGN_OR_RETURN(auto balances, GetBalances(tx, ""));
  int64_t debits = 0, credits = 0;
  for (auto& balance : balances) {
    debits += balance.debit_total_fen();
    credits += balance.credit_total_fen();
    *trial.add_balances() = std::move(balance);
  }
  ASSIGN_OR_RETURN(auto count, tx.Query("SELECT COUNT(*) FROM ledger_transfer"));
  trial.set_debit_total_fen(debits);
  trial.set_credit_total_fen(credits);
  trial.set_even(debits == credits);
  trial.set_transfer_count(count.front().Int(0));
  return trial;
}

absl::StatusOr<yidi::v1::ListTransfersResponse> ListTransfers(
    Transaction& tx, const yidi::v1::ListTransfersRequest& request) {
  int page_size = request.page_size() == 0 ? kLedgerPageSizeDefault : request.page_size();
  if (page_size < 0 || page_size > kLedgerPageSizeMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: 0 to ", kLedgerPageSizeMax, ", not ", request.page_size()));
  }
  std::string sql = "SELECT transfer_id FROM ledger_transfer WHERE sequence > ?";
  std::vector<SqlValue> params;
  params.emplace_back(request.after_sequence());
  if (!request.account_key().empty()) {
    RETURN_IF_ERROR(ParseAccountKey(request.account_key()).status());
    sql += " AND transfer_id IN (SELECT transfer_id FROM ledger_entry WHERE account_key = ?)";
    params.push_back(request.account_key());
  }
  if (!request.counterparty().empty()) {
    sql += " AND counterparty = ?";
    params.push_back(request.counterparty());
  }
  sql += " ORDER BY sequence LIMIT ?";
  params.push_back(int64_t{page_size} + 1);
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  yidi::v1::ListTransfersResponse response;
  for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(page_size); ++i) {
    ASSIGN_OR_RETURN(auto transfer, FindTransfer(tx, rows[i].Text(0)));
    YIDI_CHECK(transfer.has_value(), "a listed transfer is found by id in the same transaction");
    *response.add_transfers() = std::move(*transfer);
  }
  if (rows.size() > static_cast<size_t>(page_size)) {
    response.set_next_after_sequence(response.transfers().rbegin()->sequence());
  }
  return response;
}

absl::StatusOr<CounterpartyFlows> FlowsWith(Transaction& tx, absl::string_view counterparty) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query("SELECT t.kind, SUM(e.amount_fen) FROM ledger_transfer t "
                            "JOIN ledger_entry e ON e.transfer_id = t.transfer_id "
                            "WHERE t.counterparty = ? AND e.direction = 1 GROUP BY t.kind",
                            {std::string(counterparty)}));
  CounterpartyFlows flows;
  for (const Row& row : rows) {
    switch (static_cast<TransferKind>(row.Int(0))) {
      case yidi::v1::TRANSFER_KIND_PREPAYMENT_PAID:
        flows.prepayment_paid_fen = row.Int(1);
        break;
      case yidi::v1::TRANSFER_KIND_PREPAYMENT_RECEIVED:
        flows.prepayment_received_fen = row.Int(1);
        break;
      case yidi::v1::TRANSFER_KIND_CLEARING_PAID:
        flows.clearing_paid_fen = row.Int(1);
        break;
      case yidi::v1::TRANSFER_KIND_CLEARING_RECEIVED:
        flows.clearing_received_fen = row.Int(1);
        break;
      default:
        break;
    }
  }
  return flows;
}

namespace {

Account MakeAccount(AccountType type, AccountDetail detail = yidi::v1::ACCOUNT_DETAIL_UNSPECIFIED,
                    absl::string_view counterparty = "") {
  Account account;
  account.set_type(type);
  account.set_detail(detail);
  account.set_counterparty(std::string(counterparty));
  return account;
}

LedgerTransfer TwoLegs(const Movement& movement, TransferKind kind, const Account& debit,
                       const Account& credit) {
  YIDI_CHECK(movement.amount_fen > 0, "a movement moves a positive amount");
  LedgerTransfer transfer;
  transfer.set_transfer_id(movement.transfer_id);
  transfer.set_kind(kind);
  transfer.set_counterparty(movement.counterparty);
  transfer.set_memo(movement.memo);
  transfer.set_transfer_date(movement.transfer_date);
  transfer.set_reference(movement.reference);
  LedgerLeg* debit_leg = transfer.add_legs();
  debit_leg->set_direction(yidi::v1::ENTRY_DIRECTION_DEBIT);
  *debit_leg->mutable_account() = debit;
  debit_leg->set_amount_fen(movement.amount_fen);
  LedgerLeg* credit_leg = transfer.add_legs();
  credit_leg->set_direction(yidi::v1::ENTRY_DIRECTION_CREDIT);
  *credit_leg->mutable_account() = credit;
  credit_leg->set_amount_fen(movement.amount_fen);
  return transfer;
}

}  // namespace

LedgerTransfer PaymentTransfer(const Movement& movement) {
  const Account fiscal = MakeAccount(yidi::v1::ACCOUNT_TYPE_FISCAL_ACCOUNT_DEPOSIT);
  if (movement.purpose == MovementPurpose::kClearing) {
    return TwoLegs(movement, yidi::v1::TRANSFER_KIND_CLEARING_PAID,
                   MakeAccount(yidi::v1::ACCOUNT_TYPE_EXPENSE, yidi::v1::ACCOUNT_DETAIL_CLEARING,
                               movement.counterparty),
                   fiscal);
  }
  const Account debit =
      movement.prepayment_return
          ? MakeAccount(yidi::v1::ACCOUNT_TYPE_ADVANCE_RECEIVED,
                        yidi::v1::ACCOUNT_DETAIL_PREPAYMENT, movement.counterparty)
          : MakeAccount(yidi::v1::ACCOUNT_TYPE_ADVANCE_PAID, yidi::v1::ACCOUNT_DETAIL_PREPAYMENT,
                        movement.counterparty);
  return TwoLegs(movement, yidi::v1::TRANSFER_KIND_PREPAYMENT_PAID, debit, fiscal);
}

LedgerTransfer ReceiptTransfer(const Movement& movement) {
  const Account fiscal = MakeAccount(yidi::v1::ACCOUNT_TYPE_FISCAL_ACCOUNT_DEPOSIT);
  if (movement.purpose == MovementPurpose::kClearing) {
    return TwoLegs(movement, yidi::v1::TRANSFER_KIND_CLEARING_RECEIVED, fiscal,
                   MakeAccount(yidi::v1::ACCOUNT_TYPE_ADVANCE_RECEIVED,
                               yidi::v1::ACCOUNT_DETAIL_CLEARING, movement.counterparty));
  }
  const Account credit =
      movement.prepayment_return
          ? MakeAccount(yidi::v1::ACCOUNT_TYPE_ADVANCE_PAID, yidi::v1::ACCOUNT_DETAIL_PREPAYMENT,
                        movement.counterparty)
          : MakeAccount(yidi::v1::ACCOUNT_TYPE_ADVANCE_RECEIVED,
                        yidi::v1::ACCOUNT_DETAIL_PREPAYMENT, movement.counterparty);
  return TwoLegs(movement, yidi::v1::TRANSFER_KIND_PREPAYMENT_RECEIVED, fiscal, credit);
}

std::vector<LedgerTransfer> YearEndClosingTransfers(const std::vector<AccountBalance>& balances,
                                                    int year) {
  std::vector<LedgerTransfer> transfers;
  for (const AccountBalance& balance : balances) {
    const Account& account = balance.account();
    if (account.type() != yidi::v1::ACCOUNT_TYPE_ADVANCE_RECEIVED ||
        account.detail() != yidi::v1::ACCOUNT_DETAIL_CLEARING || balance.balance_fen() == 0) {
      continue;
    }
    Movement movement;
    movement.transfer_id = absl::StrCat("year-end/", year, "/", balance.account_key());
    movement.counterparty = account.counterparty();
    movement.transfer_date = absl::StrCat(year, "-12-31");
    const bool surplus = balance.balance_fen() < 0;  // a credit balance is money left over
    movement.amount_fen = surplus ? -balance.balance_fen() : balance.balance_fen();
    movement.memo = absl::StrCat(year, " 年末清零 ", surplus ? "结余 (Y1/Y3)" : "赤字 (Y2/Y4)", " ",
                                 AccountName(account));
    if (surplus) {
      transfers.push_back(
          TwoLegs(movement, yidi::v1::TRANSFER_KIND_YEAR_END_CLOSING, account,
                  MakeAccount(yidi::v1::ACCOUNT_TYPE_INCOME, yidi::v1::ACCOUNT_DETAIL_OTHER)));
    } else {
      transfers.push_back(TwoLegs(
          movement, yidi::v1::TRANSFER_KIND_YEAR_END_CLOSING,
          MakeAccount(yidi::v1::ACCOUNT_TYPE_EXPENSE, yidi::v1::ACCOUNT_DETAIL_OTHER), account));
    }
  }
  return transfers;
}

}  // namespace yidi
