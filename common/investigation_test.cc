#include "common/investigation.h"

#include <vector>

#include "absl/time/civil_time.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using ::testing::HasSubstr;
using yidi::v1::Investigation;

absl::Time Cst(int year, int month, int day, int hour, int minute, int second = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                         ChinaStandardTime());
}

yidi::v1::OpenInvestigationRequest Valid(int64_t total_fen) {
  yidi::v1::OpenInvestigationRequest request;
  request.set_investigation_id("INV-1");
  request.set_insured_region("210100");
  request.set_treatment_region("500000");
  auto* s = request.mutable_subject();
  s->set_settlement_id("H50000000001-20261101-0007");
  s->set_id_number("210103198708260263");
  s->set_name("张三");
  s->set_sex(yidi::v1::SEX_MALE);
  s->set_institution_name("重庆医科大学附属第一医院");
  s->set_admission_number("ZY001");
  s->set_invoice_number("FP001");
  s->set_admission_date("2026-10-01");
  s->set_discharge_date("2026-10-20");
  s->set_total_fen(total_fen);
  return request;
}

TEST(InvestigationPeriodTest, TwentyFifthAt2359IsThisPeriodTwentySixthAtMidnightTheNext) {
  EXPECT_EQ(InvestigationPeriodOf(Cst(2026, 11, 25, 23, 59, 59)), "2026-11");
  EXPECT_EQ(InvestigationPeriodOf(Cst(2026, 11, 26, 0, 0, 0)), "2026-12");
  EXPECT_EQ(InvestigationPeriodOf(Cst(2026, 10, 26, 0, 0, 0)), "2026-11");
  // December 26th opens next year's January period.
  EXPECT_EQ(InvestigationPeriodOf(Cst(2026, 12, 26, 8, 0)), "2027-01");
  // 16:00 UTC on the 25th is already 00:00 CST on the 26th.
  EXPECT_EQ(InvestigationPeriodOf(absl::FromCivil(absl::CivilSecond(2026, 11, 25, 16, 0, 0),
                                                  absl::UTCTimeZone())),
            "2026-12");
}

TEST(InvestigationPeriodTest, ClosesAtMidnightOfThe26thAndAnswersAreDueThe25thAfter) {
  auto period = ParseInvestigationPeriod("2026-11");
  ASSERT_TRUE(period.ok());
  EXPECT_EQ(InvestigationPeriodCloseTime(*period), Cst(2026, 11, 26, 0, 0));
  EXPECT_EQ(InvestigationAnswerDueDay(*period), absl::CivilDay(2026, 12, 25));
  auto december = ParseInvestigationPeriod("2026-12");
  ASSERT_TRUE(december.ok());
  EXPECT_EQ(InvestigationAnswerDueDay(*december), absl::CivilDay(2027, 1, 25));
  EXPECT_FALSE(ParseInvestigationPeriod("2026-13").ok());
  EXPECT_FALSE(ParseInvestigationPeriod("2026-1").ok());

  Investigation investigation;
  investigation.set_period("2026-11");
  EXPECT_FALSE(IsInvestigationSummarised(investigation, Cst(2026, 11, 25, 23, 59, 59)));
  EXPECT_TRUE(IsInvestigationSummarised(investigation, Cst(2026, 11, 26, 0, 0, 0)));
}

TEST(InvestigationThresholdTest, ThirtyThousandYuanIncludedAndYunnanIntraProvinceHasNone) {
  yidi::v1::CollaborationPolicy national;
  EXPECT_TRUE(ValidateOpenInvestigation(Valid(3'000'000), national).ok());
  absl::Status below = ValidateOpenInvestigation(Valid(2'999'999), national);
  EXPECT_EQ(below.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(below.message(), HasSubstr("subject.total_fen: 29999.99"));
  EXPECT_THAT(below.message(), HasSubstr("cross-province"));

  yidi::v1::CollaborationPolicy yunnan;
  yunnan.set_intra_province_threshold_fen(0);
  auto intra = Valid(10'000);
  intra.set_insured_region("530100");
  intra.set_treatment_region("530300");
  EXPECT_EQ(InvestigationScopeOf("530100", "530300"),
            yidi::v1::INVESTIGATION_SCOPE_INTRA_PROVINCE);
  EXPECT_TRUE(ValidateOpenInvestigation(intra, yunnan).ok());
  EXPECT_FALSE(ValidateOpenInvestigation(intra, national).ok());
  // Yunnan's cross-province requests keep the national threshold.
  EXPECT_FALSE(ValidateOpenInvestigation(Valid(10'000), yunnan).ok());
}

TEST(InvestigationValidationTest, EveryRequiredFieldIsNamed) {
  yidi::v1::CollaborationPolicy policy;
  struct Case {
    void (*clear)(yidi::v1::InvestigationSubject*);
    const char* field;
  };
  const std::vector<Case> cases = {
      {[](auto* s) { s->clear_id_number(); }, "subject.id_number"},
      {[](auto* s) { s->set_id_number("210103198708260264"); }, "subject.id_number"},
      {[](auto* s) { s->clear_name(); }, "subject.name"},
      {[](auto* s) { s->clear_sex(); }, "subject.sex"},
      {[](auto* s) { s->clear_institution_name(); }, "subject.institution_name"},
      {[](auto* s) { s->clear_admission_number(); }, "subject.admission_number"},
      {[](auto* s) { s->clear_invoice_number(); }, "subject.invoice_number"},
      {[](auto* s) { s->clear_admission_date(); }, "subject.admission_date"},
      {[](auto* s) { s->set_discharge_date("2026-09-30"); }, "subject.discharge_date"},
      {[](auto* s) { s->clear_total_fen(); }, "subject.total_fen"},
      {[](auto* s) { s->clear_settlement_id(); }, "subject.settlement_id"},
  };
  for (const Case& c : cases) {
    auto request = Valid(5'000'000);
    c.clear(request.mutable_subject());
    absl::Status status = ValidateOpenInvestigation(request, policy);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(status.message(), HasSubstr(c.field));
  }
  auto same_region = Valid(5'000'000);
  same_region.set_treatment_region("210100");
  EXPECT_THAT(ValidateOpenInvestigation(same_region, policy).message(),
              HasSubstr("treatment_region"));
  auto bad_id = Valid(5'000'000);
  bad_id.set_investigation_id("INV 1");
  EXPECT_THAT(ValidateOpenInvestigation(bad_id, policy).message(), HasSubstr("investigation_id"));
}

TEST(InvestigationValidationTest, VerifiedIncorrectNeedsItsReasonAndDisputesTheirs) {
  yidi::v1::AnswerInvestigationRequest answer;
  answer.set_investigation_id("INV-1");
  EXPECT_THAT(ValidateInvestigationAnswer(answer).message(), HasSubstr("finding"));
  answer.set_finding(yidi::v1::INVESTIGATION_FINDING_VERIFIED_CORRECT);
  EXPECT_TRUE(ValidateInvestigationAnswer(answer).ok());
  answer.set_finding(yidi::v1::INVESTIGATION_FINDING_VERIFIED_INCORRECT);
  EXPECT_THAT(ValidateInvestigationAnswer(answer).message(), HasSubstr("finding_reason"));
  answer.set_finding_reason("重复收费");
  EXPECT_TRUE(ValidateInvestigationAnswer(answer).ok());

  yidi::v1::ConfirmInvestigationRequest confirm;
  confirm.set_investigation_id("INV-1");
  EXPECT_TRUE(ValidateInvestigationConfirmation(confirm).ok());
  confirm.set_dispute(true);
  EXPECT_THAT(ValidateInvestigationConfirmation(confirm).message(), HasSubstr("dispute_reason"));
}

TEST(InvestigationStatisticsTest, CountsOnTimeLateOverdueAndPending) {
  auto make = [](const char* id, const char* period, yidi::v1::InvestigationState state,
                 bool late) {
    Investigation i;
    i.set_investigation_id(id);
    i.set_period(period);
    i.set_state(state);
    i.set_answered_late(late);
    auto month = ParseInvestigationPeriod(period);
    i.set_answer_due_date(FormatDate(InvestigationAnswerDueDay(*month)));
    i.set_confirmation_due_date("2026-12-08");
    return i;
  };
  const std::vector<Investigation> all = {
      make("A", "2026-11", yidi::v1::INVESTIGATION_STATE_CONFIRMED, false),
      make("B", "2026-11", yidi::v1::INVESTIGATION_STATE_ANSWERED, true),
      make("C", "2026-11", yidi::v1::INVESTIGATION_STATE_OPEN, false),
      make("D", "2026-11", yidi::v1::INVESTIGATION_STATE_WITHDRAWN, false),
      make("E", "2026-11", yidi::v1::INVESTIGATION_STATE_DISPUTED, false),
      make("F", "2026-10", yidi::v1::INVESTIGATION_STATE_OPEN, false),
  };
  auto before_due = ComputeInvestigationStatistics("2026-11", all, absl::CivilDay(2026, 12, 25));
  EXPECT_EQ(before_due.requests(), 4);
  EXPECT_EQ(before_due.withdrawn(), 1);
  EXPECT_EQ(before_due.answered_on_time(), 2);
  EXPECT_EQ(before_due.answered_late(), 1);
  EXPECT_EQ(before_due.unanswered_pending(), 1);
  EXPECT_EQ(before_due.unanswered_overdue(), 0);
  EXPECT_EQ(before_due.confirmed(), 1);
  EXPECT_EQ(before_due.disputed(), 1);
  EXPECT_EQ(before_due.confirmation_overdue(), 1);  // B: answered, due 2026-12-08
  EXPECT_EQ(before_due.completion_rate_bp(), 5000);
  auto after_due = ComputeInvestigationStatistics("2026-11", all, absl::CivilDay(2026, 12, 26));
  EXPECT_EQ(after_due.unanswered_overdue(), 1);
  EXPECT_EQ(after_due.unanswered_pending(), 0);
}

}  // namespace
}  // namespace yidi
