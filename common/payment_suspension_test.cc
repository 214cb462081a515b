// Enforcement of Liaoning's suspensions for non-payment (RULES.md 6.6; 003_… 第28条) on the
// filing-upload and admission paths, at the issuing node. Dates as in
// prepayment_test.cc's Liaoning case: an emergency-increase notice signed Monday 2026-04-27,
// unpaid 10 WD later (05-13, 劳动节 05-01..05 off, Saturday 05-09 worked) suspends new filings
// from 05-14; a clearing notice signed Friday 04-24, unpaid 20 WD later (05-26) suspends
// admissions from 05-27.
#include "common/payment_suspension.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/prepayment.h"
#include "common/settlement_record.h"
#include "common/transfer_obligations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#ifndef YIDI_SOURCE_DIR
#define YIDI_SOURCE_DIR "."
#endif

namespace yidi {
namespace {

using ::testing::HasSubstr;

class PaymentSuspensionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenStore("sqlite::memory:");
    ASSERT_TRUE(store.ok());
    context_.store = std::move(*store);
    std::vector<Migration> all = CommonMigrations();
    for (auto& migration : TransferObligationMigrations()) all.push_back(migration);
    ASSERT_TRUE(context_.store->Migrate(all).ok());
    auto calendar = WorkingDayCalendar::LoadFiles(
        {absl::StrCat(YIDI_SOURCE_DIR, "/deploy/calendar/2025.textproto"),
         absl::StrCat(YIDI_SOURCE_DIR, "/deploy/calendar/2026.textproto")},
        &clock_);
    ASSERT_TRUE(calendar.ok()) << calendar.status();
    context_.calendar = std::move(*calendar);
    context_.clock = &clock_;
    yidi::v1::PrepaymentPolicy policy;
    ASSERT_TRUE(LoadTextProtoFile(
                    absl::StrCat(YIDI_SOURCE_DIR, "/deploy/prepayment/liaoning.textproto"),
                    &policy)
                    .ok());
    context_.prepayment_policy = WithNationalDefaults(policy);
    ASSERT_TRUE(context_.prepayment_policy.suspension().enabled());
    Obligation("EI-210100-1", yidi::v1::NOTICE_KIND_EMERGENCY_INCREASE, "210100", "2026-04-27");
    Obligation("CL-210100-1", yidi::v1::NOTICE_KIND_CLEARING, "210100", "2026-04-24");
  }

  void Obligation(const std::string& id, yidi::v1::NoticeKind kind, const std::string& payer,
                  const std::string& signed_date, const std::string& delay_reason = "") {
    yidi::v1::TransferObligation o;
    o.set_obligation_id(id);
    o.set_notice_kind(kind);
    o.set_issuer_region("210000");
    o.set_payer_region(payer);
    o.set_receiver_region(payer == "210000" ? "000000" : "210000");
    o.set_amount_fen(50'000'000);
    o.set_year(2026);
    o.set_clearing_month("2026-03");
    o.set_signed_date(signed_date);
    o.set_pay_by(signed_date);
    o.set_state(yidi::v1::OBLIGATION_STATE_OPEN);
    auto tx = context_.store->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(InsertObligation(**tx, o, clock_.Now()).ok());
    if (!delay_reason.empty()) ASSERT_TRUE(SetDelayReason(**tx, id, delay_reason).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  void Today(int month, int day) {
    clock_.Set(absl::FromCivil(absl::CivilSecond(2026, month, day, 10, 0, 0), ChinaStandardTime()));
  }

  absl::Status Upload(const yidi::v1::FilingChange& change) {
    auto tx = context_.store->Begin(TransactionMode::kRead);
    EXPECT_TRUE(tx.ok());
    return CheckFilingUploadNotSuspended(**tx, context_, change);
  }

  static yidi::v1::FilingChange NewFiling(const std::string& region, int64_t version = 1) {
    yidi::v1::FilingChange change;
    change.mutable_filing()->set_filing_id("F-1");
    change.mutable_filing()->set_insured_region(region);
    change.mutable_filing()->set_version(version);
    return change;
  }

  static yidi::v1::SettleRequest Stay(const std::string& insured, const std::string& admission,
                                      yidi::v1::MedicalType type = yidi::v1::MEDICAL_TYPE_INPATIENT) {
    yidi::v1::SettleRequest request;
    request.set_insured_region(insured);
    request.mutable_visit()->set_medical_type(type);
    request.mutable_visit()->set_admission_date(admission);
    return request;
  }

  FakeClock clock_{absl::FromCivil(absl::CivilSecond(2026, 5, 13, 10, 0, 0), ChinaStandardTime())};
  NodeContext context_;
};

TEST_F(PaymentSuspensionTest, NewFilingUploadsAreHeldFromTheDayAfterTheDeadline) {
  Today(5, 13);  // the 10th working day: not yet
  EXPECT_TRUE(Upload(NewFiling("210100")).ok());
  Today(5, 14);
  const absl::Status held = Upload(NewFiling("210100"));
  EXPECT_EQ(held.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(held.message(), HasSubstr("EI-210100-1"));  // names the unpaid notice
  EXPECT_THAT(held.message(), HasSubstr("uploads of new filings"));
  // Changes of filings already uploaded, chronic-disease records and other cities pass.
  EXPECT_TRUE(Upload(NewFiling("210100", /*version=*/2)).ok());
  yidi::v1::FilingChange chronic;
  chronic.mutable_chronic_disease()->set_insured_region("210100");
  chronic.mutable_chronic_disease()->set_version(1);
  EXPECT_TRUE(Upload(chronic).ok());
  EXPECT_TRUE(Upload(NewFiling("210200")).ok());
  // Paid: uploads flow again.
  {
    auto tx = context_.store->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    yidi::v1::PaymentConfirmation payment;
    payment.set_bank_name("盛京银行");
    payment.set_transaction_serial_number("SJ2026051500001");
    payment.set_transaction_date("2026-05-15");
    ASSERT_TRUE(MarkObligationPaid(**tx, "EI-210100-1", payment, clock_.Now()).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  EXPECT_TRUE(Upload(NewFiling("210100")).ok());
}

TEST_F(PaymentSuspensionTest, AdmissionsAfterTheSuspensionBeganAreRefused) {
  Today(6, 1);
  // Admitted 05-26 (the 20th working day, before the suspension): settles.
  EXPECT_TRUE(CheckAdmissionNotSuspended(context_, Stay("210100", "2026-05-26")).ok());
  const absl::Status refused = CheckAdmissionNotSuspended(context_, Stay("210100", "2026-05-27"));
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("CL-210100-1"));
  EXPECT_THAT(refused.message(), HasSubstr("admission registrations"));
  // Outpatient care is not an admission; another region is not suspended.
  EXPECT_TRUE(CheckAdmissionNotSuspended(
                  context_, Stay("210100", "2026-05-27", yidi::v1::MEDICAL_TYPE_OUTPATIENT))
                  .ok());
  EXPECT_TRUE(CheckAdmissionNotSuspended(context_, Stay("210200", "2026-05-27")).ok());
}

TEST_F(PaymentSuspensionTest, AReportedDelayReasonOrTheSwitchOffSuspendsNothing) {
  Obligation("CL-210200-1", yidi::v1::NOTICE_KIND_CLEARING, "210200", "2026-04-24",
             "财政资金调度延迟，已报告");
  Today(6, 1);
  EXPECT_TRUE(CheckAdmissionNotSuspended(context_, Stay("210200", "2026-05-28")).ok());
  context_.prepayment_policy.mutable_suspension()->set_enabled(false);
  EXPECT_TRUE(CheckAdmissionNotSuspended(context_, Stay("210100", "2026-05-28")).ok());
  EXPECT_TRUE(Upload(NewFiling("210100")).ok());
}

TEST_F(PaymentSuspensionTest, AProvinceSuspendedByNationalSuspendsItsCitiesPersons) {
  // National issues to provinces: Liaoning (210000) unpaid → Shenyang's insured persons'
  // admissions are refused at national too (003_… 第28条: "暂停…跨省直接结算").
  Obligation("CL-210000-1", yidi::v1::NOTICE_KIND_CLEARING, "210000", "2026-04-24");
  Today(6, 1);
  const absl::Status refused = CheckAdmissionNotSuspended(context_, Stay("210300", "2026-05-28"));
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("CL-210000-1"));
}

}  // namespace
}  // namespace yidi
