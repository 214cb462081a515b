#include "common/transfer_obligations.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/money.h"
#include "common/status_macros.h"

namespace yidi {

using yidi::v1::NoticeKind;
using yidi::v1::ObligationState;
using yidi::v1::PaymentConfirmation;
using yidi::v1::TransferObligation;

std::vector<Migration> TransferObligationMigrations() {
  return {
      {22,
       "transfer_obligation: every notice's payer → receiver obligation and its settlement",
       {"CREATE TABLE transfer_obligation ("
        " obligation_id VARCHAR(96) NOT NULL PRIMARY KEY,"
        " notice_kind INTEGER NOT NULL,"
        " issuer_region VARCHAR(6) NOT NULL,"
        " payer_region VARCHAR(6) NOT NULL,"
        " receiver_region VARCHAR(6) NOT NULL,"
        " amount_fen BIGINT NOT NULL,"
        " returned INTEGER NOT NULL,"
        " year INTEGER NOT NULL,"
        " clearing_month VARCHAR(7) NOT NULL,"
        " signed_date VARCHAR(10) NOT NULL,"
        " agency_to_finance_due VARCHAR(10) NOT NULL,"
        " finance_transfer_due VARCHAR(10) NOT NULL,"
        " feedback_due VARCHAR(10) NOT NULL,"
        " pay_by VARCHAR(10) NOT NULL,"
        " state INTEGER NOT NULL,"
        " bank_name VARCHAR(100) NOT NULL,"
        " transaction_serial_number VARCHAR(64) NOT NULL,"
        " transaction_date VARCHAR(10) NOT NULL,"
        " received_date VARCHAR(10) NOT NULL,"
        " delay_reason VARCHAR(200) NOT NULL,"
        " memo VARCHAR(200) NOT NULL,"
        " scope INTEGER NOT NULL,"
        " created_at VARCHAR(32) NOT NULL,"
        " updated_at VARCHAR(32) NOT NULL)",
        "CREATE INDEX transfer_obligation_by_payer ON transfer_obligation (payer_region, year)",
        "CREATE INDEX transfer_obligation_by_receiver ON transfer_obligation "
        "(receiver_region, year)"}},
  };
}

namespace {

constexpr char kColumns[] =
    "obligation_id, notice_kind, issuer_region, payer_region, receiver_region, amount_fen, "
    "returned, year, clearing_month, signed_date, agency_to_finance_due, finance_transfer_due, "
    "feedback_due, pay_by, state, bank_name, transaction_serial_number, transaction_date, "
    "received_date, delay_reason, memo, scope";

TransferObligation FromRow(const Row& row) {
  TransferObligation o;
  o.set_obligation_id(row.Text(0));
  o.set_notice_kind(static_cast<NoticeKind>(row.Int(1)));
  o.set_issuer_region(row.Text(2));
  o.set_payer_region(row.Text(3));
  o.set_receiver_region(row.Text(4));
  o.set_amount_fen(row.Int(5));
  o.set_returned(row.Int(6) != 0);
  o.set_year(static_cast<int32_t>(row.Int(7)));
  o.set_clearing_month(row.Text(8));
  o.set_signed_date(row.Text(9));
  o.set_agency_to_finance_due(row.Text(10));
  o.set_finance_transfer_due(row.Text(11));
  o.set_feedback_due(row.Text(12));
  o.set_pay_by(row.Text(13));
  o.set_state(static_cast<ObligationState>(row.Int(14)));
  if (!row.Text(15).empty()) {
    o.mutable_payment()->set_bank_name(row.Text(15));
    o.mutable_payment()->set_transaction_serial_number(row.Text(16));
    o.mutable_payment()->set_transaction_date(row.Text(17));
  }
  o.set_received_date(row.Text(18));
  o.set_delay_reason(row.Text(19));
  o.set_memo(row.Text(20));
  o.set_scope(static_cast<yidi::v1::QuotaScope>(row.Int(21)));
  return o;
}

absl::CivilDay DayOrDie(absl::string_view text) {
  auto day = ParseDate(text);
  YIDI_CHECK(day.ok(), "stored and validated dates parse");
  return *day;
}

bool IsPrepaymentKind(NoticeKind kind) { return kind != yidi::v1::NOTICE_KIND_CLEARING; }

std::string NoticeName(NoticeKind kind) {
  switch (kind) {
    case yidi::v1::NOTICE_KIND_INITIAL_PREPAYMENT:
      return "预付金付款通知书 (initial prepayment notice)";
    case yidi::v1::NOTICE_KIND_PREPAYMENT_ADJUSTMENT:
      return "年度预付金额度调整付款通知书 (annual adjustment notice)";
    case yidi::v1::NOTICE_KIND_EMERGENCY_INCREASE:
      return "预付金额度紧急调增付款通知书 (emergency increase notice)";
    case yidi::v1::NOTICE_KIND_CLEARING:
      return "清算资金付款通知书 (clearing payment notice)";
    default:
      return "notice";
  }
}

}  // namespace

absl::StatusOr<ObligationDates> ComputeObligationDates(const WorkingDayCalendar& calendar,
                                                       const yidi::v1::PrepaymentPolicy& policy,
                                                       NoticeKind kind, absl::CivilDay signed_day,
                                                       int year, absl::CivilDay next_clearing) {
  const auto& chain = policy.finance_chain();
  ObligationDates dates;
  ASSIGN_OR_RETURN(dates.agency_to_finance_due,
                   calendar.AddWorkingDays(signed_day, chain.agency_to_finance_working_days()));
  ASSIGN_OR_RETURN(
      dates.finance_transfer_due,
      calendar.AddWorkingDays(dates.agency_to_finance_due, chain.finance_transfer_working_days()));
  ASSIGN_OR_RETURN(dates.feedback_due, calendar.AddWorkingDays(dates.finance_transfer_due,
                                                               chain.feedback_working_days()));
  switch (kind) {
    case yidi::v1::NOTICE_KIND_INITIAL_PREPAYMENT: {
      ASSIGN_OR_RETURN(dates.pay_by,
                       calendar.AddWorkingDays(signed_day, policy.initial_payment_working_days()));
      break;
    }
    case yidi::v1::NOTICE_KIND_PREPAYMENT_ADJUSTMENT: {
      const absl::CivilMonth month(year, policy.adjustment_pay_by_month());
      const absl::CivilDay day = policy.adjustment_pay_by_day() == 0
                                     ? LastDayOfMonth(absl::CivilDay(month))
                                     : absl::CivilDay(month) + (policy.adjustment_pay_by_day() - 1);
      dates.pay_by = day >= signed_day ? day : dates.finance_transfer_due;
      break;
    }
    case yidi::v1::NOTICE_KIND_EMERGENCY_INCREASE:
    case yidi::v1::NOTICE_KIND_CLEARING: {
      ASSIGN_OR_RETURN(absl::CivilDay before_next,
                       calendar.WorkingDayOnOrBefore(next_clearing - 1));
      dates.pay_by = std::max(signed_day, std::min(before_next, dates.finance_transfer_due));
      break;
    }
    default:
      return absl::InvalidArgumentError("notice_kind: required");
  }
  return dates;
}

absl::Status SetObligationDates(const WorkingDayCalendar& calendar,
                                const yidi::v1::PrepaymentPolicy& policy,
                                absl::CivilDay next_clearing, TransferObligation* obligation) {
  ASSIGN_OR_RETURN(absl::CivilDay signed_day, ParseDate(obligation->signed_date()));
  ASSIGN_OR_RETURN(ObligationDates dates,
                   ComputeObligationDates(calendar, policy, obligation->notice_kind(), signed_day,
                                          obligation->year(), next_clearing));
  obligation->set_agency_to_finance_due(FormatDate(dates.agency_to_finance_due));
  obligation->set_finance_transfer_due(FormatDate(dates.finance_transfer_due));
  obligation->set_feedback_due(FormatDate(dates.feedback_due));
  obligation->set_pay_by(FormatDate(dates.pay_by));
  return absl::OkStatus();
}

absl::Status InsertObligation(Transaction& tx, const TransferObligation& o, absl::Time now) {
  YIDI_CHECK(o.amount_fen() > 0 && o.amount_fen() <= kAmountMaxFen,
             "an obligation moves a positive, bounded amount");
  YIDI_CHECK(o.payer_region() != o.receiver_region(), "an obligation has two sides");
  YIDI_CHECK(!o.pay_by().empty() && !o.signed_date().empty(), "an obligation's dates are set");
  YIDI_CHECK(o.state() == yidi::v1::OBLIGATION_STATE_OPEN, "a new obligation is open");
  const std::string timestamp = FormatCstTimestamp(now);
  auto inserted = tx.Execute(
      absl::StrCat("INSERT INTO transfer_obligation (", kColumns,
                   ", created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                   "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
      {o.obligation_id(),
       int64_t{o.notice_kind()},
       o.issuer_region(),
       o.payer_region(),
       o.receiver_region(),
       o.amount_fen(),
       int64_t{o.returned() ? 1 : 0},
       int64_t{o.year()},
       o.clearing_month(),
       o.signed_date(),
       o.agency_to_finance_due(),
       o.finance_transfer_due(),
       o.feedback_due(),
       o.pay_by(),
       int64_t{yidi::v1::OBLIGATION_STATE_OPEN},
       std::string(),
       std::string(),
       std::string(),
       std::string(),
       std::string(),
       o.memo(),
       int64_t{o.scope()},
       timestamp,
       timestamp});
  if (absl::IsAlreadyExists(inserted.status())) {
    return absl::AlreadyExistsError(
        absl::StrCat("obligation_id: ", o.obligation_id(), " is already issued"));
  }
  return inserted.status();
}

absl::StatusOr<std::optional<TransferObligation>> FindObligation(Transaction& tx,
                                                                 absl::string_view id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query(absl::StrCat("SELECT ", kColumns,
                                                    " FROM transfer_obligation WHERE "
                                                    "obligation_id = ?"),
                                       {std::string(id)}));
  if (rows.empty()) return std::optional<TransferObligation>();
  TransferObligation obligation = FromRow(rows.front());
  // Read-back check: what we stored is a positive obligation between two sides.
  if (obligation.amount_fen() <= 0 || obligation.payer_region() == obligation.receiver_region()) {
    return absl::InternalError(absl::StrCat("obligation ", id, ": stored row is corrupt"));
  }
  return std::optional<TransferObligation>(std::move(obligation));
}

absl::StatusOr<std::vector<TransferObligation>> ListObligations(Transaction& tx,
                                                                absl::string_view region,
                                                                int year) {
  std::string sql = absl::StrCat("SELECT ", kColumns, " FROM transfer_obligation WHERE 1 = 1");
  std::vector<SqlValue> params;
  if (!region.empty()) {
    sql += " AND (payer_region = ? OR receiver_region = ?)";
    params.emplace_back(std::string(region));
    params.emplace_back(std::string(region));
  }
  if (year != 0) {
    sql += " AND year = ?";
    params.emplace_back(int64_t{year});
  }
  sql += absl::StrCat(" ORDER BY signed_date, obligation_id LIMIT ", kObligationsListMax);
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<TransferObligation> obligations;
  for (const Row& row : rows) obligations.push_back(FromRow(row));
  return obligations;
}

absl::StatusOr<int64_t> SumObligations(Transaction& tx, NoticeKind kind, int year,
                                       absl::string_view payer, absl::string_view receiver,
                                       yidi::v1::QuotaScope scope,
                                       std::optional<absl::CivilDay> before_day) {
  std::string sql =
      "SELECT COALESCE(SUM(amount_fen), 0) FROM transfer_obligation WHERE notice_kind = ? AND "
      "year = ? AND payer_region = ? AND receiver_region = ?";
  std::vector<SqlValue> params = {int64_t{kind}, int64_t{year}, std::string(payer),
                                  std::string(receiver)};
  if (scope != yidi::v1::QUOTA_SCOPE_UNSPECIFIED) {
    sql += " AND scope = ?";
    params.emplace_back(int64_t{scope});
  }
  if (before_day.has_value()) {
    sql += " AND signed_date < ?";
    params.emplace_back(FormatDate(*before_day));
  }
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return rows.front().Int(0);
}

absl::StatusOr<int64_t> SumUnpaidClearings(Transaction& tx, absl::string_view payer,
                                           absl::string_view receiver, yidi::v1::QuotaScope scope) {
  std::string sql =
      "SELECT COALESCE(SUM(amount_fen), 0) FROM transfer_obligation WHERE notice_kind = ? AND "
      "payer_region = ? AND receiver_region = ? AND state = ? AND returned = 0";
  std::vector<SqlValue> params = {int64_t{yidi::v1::NOTICE_KIND_CLEARING}, std::string(payer),
                                  std::string(receiver), int64_t{yidi::v1::OBLIGATION_STATE_OPEN}};
  if (scope != yidi::v1::QUOTA_SCOPE_UNSPECIFIED) {
    sql += " AND scope = ?";
    params.emplace_back(int64_t{scope});
  }
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  return rows.front().Int(0);
}

absl::Status ValidatePaymentConfirmation(const PaymentConfirmation& payment) {
  if (payment.bank_name().empty()) {
    return absl::InvalidArgumentError("payment.bank_name: required (付款银行名称)");
  }
  if (payment.bank_name().size() > kBankNameLengthMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("payment.bank_name: longer than ", kBankNameLengthMax, " bytes"));
  }
  if (payment.transaction_serial_number().empty()) {
    return absl::InvalidArgumentError("payment.transaction_serial_number: required (交易流水号)");
  }
  if (payment.transaction_serial_number().size() > kTransactionSerialLengthMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "payment.transaction_serial_number: longer than ", kTransactionSerialLengthMax));
  }
  if (payment.transaction_date().empty()) {
    return absl::InvalidArgumentError("payment.transaction_date: required (交易日期)");
  }
  if (auto date = ParseDate(payment.transaction_date()); !date.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("payment.transaction_date: ", date.status().message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<ObligationChange> MarkObligationPaid(Transaction& tx, absl::string_view id,
                                                    const PaymentConfirmation& payment,
                                                    absl::Time now) {
  RETURN_IF_ERROR(ValidatePaymentConfirmation(payment));
  ASSIGN_OR_RETURN(auto found, FindObligation(tx, id));
  if (!found.has_value()) {
    return absl::NotFoundError(absl::StrCat("obligation_id: ", id, " is not issued here"));
  }
  TransferObligation& obligation = *found;
  if (obligation.state() != yidi::v1::OBLIGATION_STATE_OPEN) {
    const PaymentConfirmation& stored = obligation.payment();
    const char* differs =
        stored.bank_name() != payment.bank_name() ? "payment.bank_name"
        : stored.transaction_serial_number() != payment.transaction_serial_number()
            ? "payment.transaction_serial_number"
        : stored.transaction_date() != payment.transaction_date() ? "payment.transaction_date"
                                                                  : nullptr;
    if (differs != nullptr) {
      return absl::AlreadyExistsError(absl::StrCat(
          differs, ": obligation ", id, " is already paid with another confirmation (serial ",
          stored.transaction_serial_number(), ")"));
    }
    return ObligationChange{std::move(obligation), /*replayed=*/true};
  }
  const auto changed = tx.Execute(
      "UPDATE transfer_obligation SET state = ?, bank_name = ?, transaction_serial_number = ?, "
      "transaction_date = ?, updated_at = ? WHERE obligation_id = ? AND state = ?",
      {int64_t{yidi::v1::OBLIGATION_STATE_PAID}, payment.bank_name(),
       payment.transaction_serial_number(), payment.transaction_date(), FormatCstTimestamp(now),
       std::string(id), int64_t{yidi::v1::OBLIGATION_STATE_OPEN}});
  RETURN_IF_ERROR(changed.status());
  YIDI_CHECK(*changed == 1, "an open obligation found in this transaction is updated once");
  obligation.set_state(yidi::v1::OBLIGATION_STATE_PAID);
  *obligation.mutable_payment() = payment;
  return ObligationChange{std::move(obligation), /*replayed=*/false};
}

absl::StatusOr<ObligationChange> MarkObligationReceived(Transaction& tx, absl::string_view id,
                                                        absl::string_view received_date,
                                                        absl::Time now) {
  if (auto date = ParseDate(received_date); !date.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("received_date: ", date.status().message()));
  }
  ASSIGN_OR_RETURN(auto found, FindObligation(tx, id));
  if (!found.has_value()) {
    return absl::NotFoundError(absl::StrCat("obligation_id: ", id, " is not issued here"));
  }
  TransferObligation& obligation = *found;
  switch (obligation.state()) {
    case yidi::v1::OBLIGATION_STATE_OPEN:
      return absl::FailedPreconditionError(
          absl::StrCat("obligation ", id,
                       " has no payment recorded: the payer records the bank name, "
                       "transaction serial number and date first"));
    case yidi::v1::OBLIGATION_STATE_RECEIVED:
      if (obligation.received_date() != received_date) {
        return absl::AlreadyExistsError(absl::StrCat("received_date: obligation ", id,
                                                     " was confirmed received on ",
                                                     obligation.received_date()));
      }
      return ObligationChange{std::move(obligation), /*replayed=*/true};
    default:
      break;
  }
  RETURN_IF_ERROR(tx.Execute("UPDATE transfer_obligation SET state = ?, received_date = ?, "
                             "updated_at = ? WHERE obligation_id = ?",
                             {int64_t{yidi::v1::OBLIGATION_STATE_RECEIVED},
                              std::string(received_date), FormatCstTimestamp(now), std::string(id)})
                      .status());
  obligation.set_state(yidi::v1::OBLIGATION_STATE_RECEIVED);
  obligation.set_received_date(std::string(received_date));
  return ObligationChange{std::move(obligation), /*replayed=*/false};
}

absl::StatusOr<TransferObligation> SetDelayReason(Transaction& tx, absl::string_view id,
                                                  absl::string_view reason) {
  if (reason.empty() || reason.size() > kDelayReasonLengthMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("reason: 1 to ", kDelayReasonLengthMax, " bytes"));
  }
  ASSIGN_OR_RETURN(auto changed, tx.Execute("UPDATE transfer_obligation SET delay_reason = ? WHERE "
                                            "obligation_id = ?",
                                            {std::string(reason), std::string(id)}));
  if (changed == 0) {
    return absl::NotFoundError(absl::StrCat("obligation_id: ", id, " is not issued here"));
  }
  ASSIGN_OR_RETURN(auto found, FindObligation(tx, id));
  YIDI_CHECK(found.has_value(), "an obligation just updated is found");
  return *found;
}

absl::StatusOr<int> WorkingDaysLate(const WorkingDayCalendar& calendar,
                                    const TransferObligation& obligation, absl::CivilDay today) {
  const absl::CivilDay pay_by = DayOrDie(obligation.pay_by());
  const absl::CivilDay as_of = obligation.state() == yidi::v1::OBLIGATION_STATE_OPEN
                                   ? today
                                   : DayOrDie(obligation.payment().transaction_date());
  return calendar.WorkingDaysLate(pay_by, as_of);
}

bool IsOverdue(const TransferObligation& obligation, absl::CivilDay today) {
  return obligation.state() == yidi::v1::OBLIGATION_STATE_OPEN &&
         today > DayOrDie(obligation.pay_by());
}

Movement MovementOf(const TransferObligation& obligation, bool payer_side,
                    absl::string_view transfer_date) {
  Movement movement;
  movement.transfer_id =
      absl::StrCat(obligation.obligation_id(), payer_side ? "/paid" : "/received");
  movement.purpose = IsPrepaymentKind(obligation.notice_kind()) ? MovementPurpose::kPrepayment
                                                                : MovementPurpose::kClearing;
  movement.prepayment_return = obligation.returned();
  movement.counterparty = payer_side ? obligation.receiver_region() : obligation.payer_region();
  movement.amount_fen = obligation.amount_fen();
  movement.transfer_date = std::string(transfer_date);
  movement.memo = obligation.memo().substr(0, kLedgerMemoLengthMax);
  movement.reference = obligation.obligation_id();
  return movement;
}

absl::StatusOr<std::vector<yidi::v1::Suspension>> SuspensionsOf(
    const std::vector<TransferObligation>& obligations, absl::string_view region,
    const yidi::v1::PrepaymentPolicy& policy, const WorkingDayCalendar& calendar,
    absl::CivilDay today) {
  std::vector<yidi::v1::Suspension> suspensions;
  if (!policy.suspension().enabled()) return suspensions;
  for (const TransferObligation& o : obligations) {
    if (o.payer_region() != region || o.state() != yidi::v1::OBLIGATION_STATE_OPEN) continue;
    yidi::v1::SuspensionKind kind = yidi::v1::SUSPENSION_KIND_UNSPECIFIED;
    int limit = 0;
    if (o.notice_kind() == yidi::v1::NOTICE_KIND_EMERGENCY_INCREASE) {
      kind = yidi::v1::SUSPENSION_KIND_NEW_FILINGS;
      limit = policy.suspension().filings_after_working_days();
    } else if ((o.notice_kind() == yidi::v1::NOTICE_KIND_CLEARING ||
                o.notice_kind() == yidi::v1::NOTICE_KIND_PREPAYMENT_ADJUSTMENT) &&
               o.delay_reason().empty()) {
      kind = yidi::v1::SUSPENSION_KIND_ADMISSIONS;
      limit = policy.suspension().admissions_after_working_days();
    } else {
      continue;
    }
    ASSIGN_OR_RETURN(absl::CivilDay deadline,
                     calendar.AddWorkingDays(DayOrDie(o.signed_date()), limit));
    if (today <= deadline) continue;
    yidi::v1::Suspension suspension;
    suspension.set_region(std::string(region));
    suspension.set_kind(kind);
    suspension.set_obligation_id(o.obligation_id());
    suspension.set_message(absl::StrCat(
        kind == yidi::v1::SUSPENSION_KIND_NEW_FILINGS ? "uploads of new filings"
                                                      : "admission registrations",
        " of region ", region, " are suspended (003_… 第28条): ", NoticeName(o.notice_kind()), " ",
        o.obligation_id(), " signed ", o.signed_date(), " for ", FormatWanYuan(o.amount_fen()),
        " 万元 is unpaid ", limit, " working days after signing (", FormatDate(deadline), ")"));
    suspensions.push_back(std::move(suspension));
  }
  return suspensions;
}

absl::Status CheckNotSuspended(const std::vector<yidi::v1::Suspension>& suspensions,
                               absl::string_view region, yidi::v1::SuspensionKind kind) {
  for (const auto& suspension : suspensions) {
    if (suspension.region() == region && suspension.kind() == kind) {
      return absl::FailedPreconditionError(suspension.message());
    }
  }
  return absl::OkStatus();
}

}  // namespace yidi
