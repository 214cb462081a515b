// Transfer obligations: every notice (initial prepayment, prepayment adjustment, emergency
// increase, clearing) is an obligation of a payer to a receiver with its working-day deadlines
// (RULES.md 5.5: agency → finance, finance transfers, feedback; the notice's pay-by date), the
// payer's bank confirmation (RULES.md 5.6: bank name, transaction serial number, transaction
// date) and the receiver's confirmation of receipt. Table transfer_obligation on the issuing
// node's Store. Also: how late an obligation is, and Liaoning's suspensions (RULES.md 6.6).
//
// States: OPEN → PAID (payment recorded) → RECEIVED (receipt confirmed). Recording the same
// payment again is a replay; another payment for a paid obligation is ALREADY_EXISTS naming
// the field that differs. Thread safety: as the Transaction.
#ifndef YIDI_COMMON_TRANSFER_OBLIGATIONS_H_
#define YIDI_COMMON_TRANSFER_OBLIGATIONS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/calendar.h"
#include "common/ledger.h"
#include "common/store/store.h"
#include "yidi/v1/prepayment.pb.h"

namespace yidi {

// Bank names and serial numbers as printed on a voucher; longer is a data-entry error.
inline constexpr int kBankNameLengthMax = 100;
inline constexpr int kTransactionSerialLengthMax = 64;
inline constexpr int kDelayReasonLengthMax = 200;  // bytes of UTF-8
// One listing returns at most this many obligations: a year of monthly clearings for every
// pair of 32 provinces is 12 × 32 × 31 ≈ 12,000.
inline constexpr int kObligationsListMax = 20000;

// Schema (version 22 of the common range).
std::vector<Migration> TransferObligationMigrations();

struct ObligationDates {
  absl::CivilDay agency_to_finance_due;
  absl::CivilDay finance_transfer_due;
  absl::CivilDay feedback_due;
  absl::CivilDay pay_by;
};

// The deadlines of a notice signed on `signed_day` (docs/DECISIONS.md D106):
//  - the finance chain: signed + agency WD, + finance WD, + feedback WD;
//  - pay-by: initial prepayment: signed + initial_payment_working_days (附件3);
//    adjustment: the policy's day of `year` (end of February; Liaoning cities 20 January), or
//    the end of the finance chain when that day has already passed at signing;
//    emergency increase and clearing: "before the next clearing" — the last working day before
//    `next_clearing`, or the end of the finance chain when that comes first.
// OUT_OF_RANGE when a date falls outside the loaded calendar years.
absl::StatusOr<ObligationDates> ComputeObligationDates(const WorkingDayCalendar& calendar,
                                                       const yidi::v1::PrepaymentPolicy& policy,
                                                       yidi::v1::NoticeKind kind,
                                                       absl::CivilDay signed_day, int year,
                                                       absl::CivilDay next_clearing);

// Sets the due dates of `obligation` from ComputeObligationDates.
absl::Status SetObligationDates(const WorkingDayCalendar& calendar,
                                const yidi::v1::PrepaymentPolicy& policy,
                                absl::CivilDay next_clearing,
                                yidi::v1::TransferObligation* obligation);

// ALREADY_EXISTS naming obligation_id when the id is taken. REQUIRES: amount_fen > 0, dates set,
// state OPEN.
absl::Status InsertObligation(Transaction& tx, const yidi::v1::TransferObligation& obligation,
                              absl::Time now);

absl::StatusOr<std::optional<yidi::v1::TransferObligation>> FindObligation(Transaction& tx,
                                                                           absl::string_view id);

// Obligations where `region` pays or receives (all when empty), of `year` (all when 0), by
// signing date and id.
absl::StatusOr<std::vector<yidi::v1::TransferObligation>> ListObligations(Transaction& tx,
                                                                          absl::string_view region,
                                                                          int year);

// Σ amount of this pair's obligations of `kind` and `year` (any state) of `scope` (every scope
// when UNSPECIFIED), signed before `before_day` (exclusive) when given.
absl::StatusOr<int64_t> SumObligations(Transaction& tx, yidi::v1::NoticeKind kind, int year,
                                       absl::string_view payer, absl::string_view receiver,
                                       yidi::v1::QuotaScope scope,
                                       std::optional<absl::CivilDay> before_day);

// Σ amount of this pair's clearing obligations of `scope` (every scope when UNSPECIFIED) not
// yet paid. Returns (reverse clearing, `returned`) are left out: the treatment side giving money
// back is not the payer's use of its prepayment.
absl::StatusOr<int64_t> SumUnpaidClearings(Transaction& tx, absl::string_view payer,
                                           absl::string_view receiver, yidi::v1::QuotaScope scope);

// INVALID_ARGUMENT naming the first missing or malformed field: payment.bank_name,
// payment.transaction_serial_number, payment.transaction_date.
absl::Status ValidatePaymentConfirmation(const yidi::v1::PaymentConfirmation& payment);

struct ObligationChange {
  yidi::v1::TransferObligation obligation;  // after the change
  bool replayed = false;
};

// OPEN → PAID with the bank confirmation. Same confirmation again: replayed. Another
// confirmation: ALREADY_EXISTS naming the field that differs. NOT_FOUND when absent.
absl::StatusOr<ObligationChange> MarkObligationPaid(Transaction& tx, absl::string_view id,
                                                    const yidi::v1::PaymentConfirmation& payment,
                                                    absl::Time now);

// PAID → RECEIVED. FAILED_PRECONDITION when no payment is recorded yet; the same date again is
// a replay, another date ALREADY_EXISTS naming received_date. INVALID_ARGUMENT for a bad date.
absl::StatusOr<ObligationChange> MarkObligationReceived(Transaction& tx, absl::string_view id,
                                                        absl::string_view received_date,
                                                        absl::Time now);

// Records why a payment is late (Liaoning 第28条 "报备延迟原因"). INVALID_ARGUMENT when empty or
// longer than kDelayReasonLengthMax; NOT_FOUND when absent.
absl::StatusOr<yidi::v1::TransferObligation> SetDelayReason(Transaction& tx, absl::string_view id,
                                                            absl::string_view reason);

// Working days past pay_by: as of `today` while open, at the transaction date once paid.
absl::StatusOr<int> WorkingDaysLate(const WorkingDayCalendar& calendar,
                                    const yidi::v1::TransferObligation& obligation,
                                    absl::CivilDay today);

// Open and past its pay-by date on `today`.
bool IsOverdue(const yidi::v1::TransferObligation& obligation, absl::CivilDay today);

// The ledger movement of an obligation: ids "<obligation id>/paid" and "<obligation id>/received";
// prepayment kinds move prepayment, clearing moves clearing; `returned` runs the other way.
// `payer_side` picks whose view (the counterparty is the other side).
Movement MovementOf(const yidi::v1::TransferObligation& obligation, bool payer_side,
                    absl::string_view transfer_date);

// Liaoning 第28条, when `policy.suspension.enabled`: a region whose emergency-increase notice is
// unpaid more than filings_after_working_days after signing has its new filings' upload
// suspended; one whose clearing or adjustment notice is unpaid more than
// admissions_after_working_days after signing, with no delay reason reported, may have its
// admissions suspended. The message names the notice. Empty when the switch is off.
absl::StatusOr<std::vector<yidi::v1::Suspension>> SuspensionsOf(
    const std::vector<yidi::v1::TransferObligation>& obligations, absl::string_view region,
    const yidi::v1::PrepaymentPolicy& policy, const WorkingDayCalendar& calendar,
    absl::CivilDay today);

// OK, or FAILED_PRECONDITION whose message names the unpaid notice, when `kind` is suspended
// for `region`: the check a filing upload or an admission registration makes.
absl::Status CheckNotSuspended(const std::vector<yidi::v1::Suspension>& suspensions,
                               absl::string_view region, yidi::v1::SuspensionKind kind);

}  // namespace yidi

#endif  // YIDI_COMMON_TRANSFER_OBLIGATIONS_H_
