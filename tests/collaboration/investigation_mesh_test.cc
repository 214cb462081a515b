// Fee investigations (docs/COLLABORATION.md, RULES.md section 8) through the in-process demo
// mesh: a cross-province request travels from the insured region (Shenyang 210100) through both
// provinces and national to the treatment region (Chongqing 500000) and its answer travels back;
// an intra-province one (Nanchang 360100 → Ganzhou 360700) never reaches national. The window
// boundary (23:59 on the 25th against 00:00 on the 26th), the refusal of edits after the summary,
// the carrying of an unanswered request into the next summary and its late answer, refusals of
// small stays, missing fields, reused ids, and a hop that is down.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/clock.h"
#include "common/grpc_status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/demo_requests.h"
#include "tests/testing/in_process_mesh.h"
#include "yidi/v1/investigation.grpc.pb.h"

namespace yidi::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using yidi::v1::Investigation;
using yidi::v1::InvestigationService;

constexpr absl::Duration kCallDeadline = absl::Seconds(5);

absl::Time Cst(int year, int month, int day, int hour, int minute, int second = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                         ChinaStandardTime());
}

class InvestigationMeshTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InProcessMesh::Options options;
    // Over mutual TLS like every other suite: the harness calls as an admin operator.
    auto mesh = InProcessMesh::Start(options);
    ASSERT_TRUE(mesh.ok()) << mesh.status();
    mesh_ = std::move(*mesh);
  }

  InvestigationService::Stub& Stub(const NodeId& node) {
    auto& stub = stubs_[node];
    if (stub == nullptr) stub = InvestigationService::NewStub(
        mesh_->ChannelAs(node, InProcessMesh::kHarnessIdentity));
    return *stub;
  }

  // Settles a demo workload at the treatment node; returns the slip.
  yidi::v1::SettlementResult Settle(absl::string_view workload) {
    auto request = LoadWorkload(workload);
    EXPECT_TRUE(request.ok()) << request.status();
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    yidi::v1::SettleResponse response;
    const grpc::Status status =
        mesh_->Settlement(Municipal(request->treatment_region())).Settle(&context, *request,
                                                                         &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.result();
  }

  static yidi::v1::OpenInvestigationRequest OpenRequest(absl::string_view id,
                                                        const yidi::v1::SettlementResult& slip) {
    yidi::v1::OpenInvestigationRequest request;
    request.set_investigation_id(std::string(id));
    request.set_insured_region(slip.insured_region());
    request.set_treatment_region(slip.treatment_region());
    auto* subject = request.mutable_subject();
    subject->set_settlement_id(slip.settlement_id());
    subject->set_id_number(slip.id_number());
    subject->set_name(slip.name());
    subject->set_sex(slip.sex());
    subject->set_institution_name(slip.institution_name().empty() ? slip.institution_code()
                                                                  : slip.institution_name());
    subject->set_admission_number(slip.admission_number());
    subject->set_invoice_number(absl::StrCat("FP-", id));
    subject->set_admission_date(slip.admission_date());
    subject->set_discharge_date(slip.discharge_date());
    subject->set_total_fen(slip.total_fen());
    request.set_concern("repeated imaging on consecutive days");
    return request;
  }

  grpc::Status Open(const NodeId& at, const yidi::v1::OpenInvestigationRequest& request,
                    yidi::v1::InvestigationResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    return Stub(at).OpenInvestigation(&context, request, response);
  }
  grpc::Status Answer(const NodeId& at, absl::string_view id, yidi::v1::InvestigationFinding finding,
                      absl::string_view reason, yidi::v1::InvestigationResponse* response) {
    yidi::v1::AnswerInvestigationRequest request;
    request.set_investigation_id(std::string(id));
    request.set_finding(finding);
    request.set_finding_reason(std::string(reason));
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    return Stub(at).AnswerInvestigation(&context, request, response);
  }
  grpc::Status Amend(const NodeId& at, const yidi::v1::OpenInvestigationRequest& open,
                     absl::string_view concern, yidi::v1::InvestigationResponse* response) {
    yidi::v1::AmendInvestigationRequest request;
    request.set_investigation_id(open.investigation_id());
    *request.mutable_subject() = open.subject();
    request.set_concern(std::string(concern));
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    return Stub(at).AmendInvestigation(&context, request, response);
  }
  grpc::Status Withdraw(const NodeId& at, absl::string_view id) {
    yidi::v1::WithdrawInvestigationRequest request;
    request.set_investigation_id(std::string(id));
    yidi::v1::InvestigationResponse response;
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    return Stub(at).WithdrawInvestigation(&context, request, &response);
  }
  grpc::Status Close(const NodeId& at, absl::string_view period,
                     yidi::v1::CloseInvestigationPeriodResponse* response) {
    yidi::v1::CloseInvestigationPeriodRequest request;
    request.set_period(std::string(period));
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    return Stub(at).CloseInvestigationPeriod(&context, request, response);
  }
  // This node's copy, or an empty Investigation when it has none.
  Investigation CopyAt(const NodeId& at, absl::string_view id) {
    yidi::v1::ListInvestigationsRequest request;
    yidi::v1::ListInvestigationsResponse response;
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    const grpc::Status status = Stub(at).ListInvestigations(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    for (const auto& i : response.investigations()) {
      if (i.investigation_id() == id) return i;
    }
    return Investigation();
  }
  yidi::v1::InvestigationStatistics Statistics(const NodeId& at, absl::string_view period) {
    yidi::v1::GetInvestigationStatisticsRequest request;
    request.set_period(std::string(period));
    yidi::v1::InvestigationStatistics response;
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    const grpc::Status status = Stub(at).GetInvestigationStatistics(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::unique_ptr<InProcessMesh> mesh_;
  std::map<NodeId, std::unique_ptr<InvestigationService::Stub>> stubs_;
};

TEST_F(InvestigationMeshTest, CrossProvinceRequestReachesTreatmentRegionAndAnswerComesBack) {
  const auto slip = Settle("07_resident_big_bill");  // 210100 insured, treated in 500000
  ASSERT_EQ(slip.state(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  const auto request = OpenRequest("INV-210100-0001", slip);
  yidi::v1::InvestigationResponse opened;
  ASSERT_TRUE(Open(Municipal("210100"), request, &opened).ok());
  EXPECT_FALSE(opened.replayed());
  EXPECT_EQ(opened.investigation().state(), yidi::v1::INVESTIGATION_STATE_OPEN);
  EXPECT_EQ(opened.investigation().scope(), yidi::v1::INVESTIGATION_SCOPE_CROSS_PROVINCE);
  EXPECT_EQ(opened.investigation().period(), "2026-11");  // opened 2026-11-23
  EXPECT_EQ(opened.investigation().answer_due_date(), "2026-12-25");
  for (const NodeId& hop : {Provincial("210000"), National(), Provincial("500000"),
                            Municipal("500000")}) {
    EXPECT_EQ(CopyAt(hop, "INV-210100-0001").state(), yidi::v1::INVESTIGATION_STATE_OPEN)
        << NameOf(hop);
  }
  EXPECT_EQ(CopyAt(Provincial("360000"), "INV-210100-0001").investigation_id(), "");

  // A retry replays; the same id for another stay is refused.
  yidi::v1::InvestigationResponse again;
  ASSERT_TRUE(Open(Municipal("210100"), request, &again).ok());
  EXPECT_TRUE(again.replayed());
  auto other = request;
  other.set_concern("something else");
  grpc::Status reused = Open(Municipal("210100"), other, &again);
  EXPECT_EQ(reused.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(reused.error_message(), HasSubstr("investigation_id"));

  // 核查有误 needs its reason; only the treatment region answers.
  yidi::v1::InvestigationResponse answered;
  grpc::Status no_reason = Answer(Municipal("500000"), "INV-210100-0001",
                                  yidi::v1::INVESTIGATION_FINDING_VERIFIED_INCORRECT, "",
                                  &answered);
  EXPECT_EQ(no_reason.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(no_reason.error_message(), HasSubstr("finding_reason"));
  EXPECT_EQ(Answer(Municipal("210100"), "INV-210100-0001",
                   yidi::v1::INVESTIGATION_FINDING_VERIFIED_CORRECT, "", &answered)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  mesh_->clock().Set(Cst(2026, 12, 1, 9, 0));  // Tuesday
  ASSERT_TRUE(Answer(Municipal("500000"), "INV-210100-0001",
                     yidi::v1::INVESTIGATION_FINDING_VERIFIED_INCORRECT,
                     "two CT lines for one examination", &answered)
                  .ok());
  EXPECT_FALSE(answered.investigation().answered_late());
  EXPECT_EQ(answered.investigation().confirmation_due_date(), "2026-12-08");  // +5 WD
  const Investigation at_insured = CopyAt(Municipal("210100"), "INV-210100-0001");
  EXPECT_EQ(at_insured.state(), yidi::v1::INVESTIGATION_STATE_ANSWERED);
  EXPECT_EQ(at_insured.finding_reason(), "two CT lines for one examination");

  yidi::v1::ConfirmInvestigationRequest confirm;
  confirm.set_investigation_id("INV-210100-0001");
  yidi::v1::InvestigationResponse confirmed;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kCallDeadline));
  ASSERT_TRUE(Stub(Municipal("210100")).ConfirmInvestigation(&context, confirm, &confirmed).ok());
  EXPECT_EQ(CopyAt(Municipal("500000"), "INV-210100-0001").state(),
            yidi::v1::INVESTIGATION_STATE_CONFIRMED);
  const auto statistics = Statistics(National(), "2026-11");
  EXPECT_EQ(statistics.requests(), 1);
  EXPECT_EQ(statistics.answered_on_time(), 1);
  EXPECT_EQ(statistics.confirmed(), 1);
  EXPECT_EQ(statistics.completion_rate_bp(), 10000);
}

TEST_F(InvestigationMeshTest, RefusesSmallStaysMissingFieldsAndOtherRegions) {
  const auto small = Settle("01_cross_province_inpatient");  // 3,586.25 元, 360100 insured
  yidi::v1::InvestigationResponse response;
  grpc::Status refused = Open(Municipal("360100"), OpenRequest("INV-SMALL", small), &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("subject.total_fen"));
  EXPECT_THAT(refused.error_message(), HasSubstr("30000.00"));

  const auto big = Settle("07_resident_big_bill");
  auto missing = OpenRequest("INV-MISSING", big);
  missing.mutable_subject()->clear_invoice_number();
  refused = Open(Municipal("210100"), missing, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("subject.invoice_number"));

  auto wrong_total = OpenRequest("INV-TOTAL", big);
  wrong_total.mutable_subject()->set_total_fen(big.total_fen() + 100);
  refused = Open(Municipal("210100"), wrong_total, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("settled total"));

  // Opened anywhere but the insured region's own node.
  refused = Open(Municipal("500000"), OpenRequest("INV-ELSEWHERE", big), &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("insured_region"));
  // Nothing refused was stored anywhere.
  for (const char* id : {"INV-SMALL", "INV-MISSING", "INV-TOTAL", "INV-ELSEWHERE"}) {
    EXPECT_EQ(CopyAt(Municipal("210100"), id).investigation_id(), "") << id;
    EXPECT_EQ(CopyAt(National(), id).investigation_id(), "") << id;
  }
}

TEST_F(InvestigationMeshTest, WindowBoundarySummaryFreezesEditsAndLateRequestsCarryOver) {
  const auto slip = Settle("07_resident_big_bill");
  // 23:59 on the 25th: period 2026-11. 00:00 on the 26th: period 2026-12.
  mesh_->clock().Set(Cst(2026, 11, 25, 23, 59));
  yidi::v1::InvestigationResponse before;
  ASSERT_TRUE(Open(Municipal("210100"), OpenRequest("INV-BEFORE", slip), &before).ok());
  EXPECT_EQ(before.investigation().period(), "2026-11");

  yidi::v1::CloseInvestigationPeriodResponse closed;
  grpc::Status early = Close(National(), "2026-11", &closed);
  EXPECT_EQ(early.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(early.error_message(), HasSubstr("2026-11-26T00:00:00+08:00"));
  // Still editable at 23:59.
  yidi::v1::InvestigationResponse amended;
  ASSERT_TRUE(Amend(Municipal("210100"), OpenRequest("INV-BEFORE", slip), "amended at 23:59",
                    &amended)
                  .ok());

  mesh_->clock().Set(Cst(2026, 11, 26, 0, 0));
  yidi::v1::InvestigationResponse after;
  ASSERT_TRUE(Open(Municipal("210100"), OpenRequest("INV-AFTER", slip), &after).ok());
  EXPECT_EQ(after.investigation().period(), "2026-12");
  EXPECT_EQ(after.investigation().answer_due_date(), "2027-01-25");

  // From 00:00 the summarised request is frozen everywhere, even before national closes.
  grpc::Status frozen =
      Amend(Municipal("210100"), OpenRequest("INV-BEFORE", slip), "too late", &amended);
  EXPECT_EQ(frozen.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(frozen.error_message(), HasSubstr("summary of period 2026-11"));
  EXPECT_EQ(Withdraw(Municipal("210100"), "INV-BEFORE").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(Amend(Municipal("210100"), OpenRequest("INV-AFTER", slip), "fine", &amended).ok());

  ASSERT_TRUE(Close(National(), "2026-11", &closed).ok());
  ASSERT_EQ(closed.summaries_size(), 1);
  EXPECT_EQ(closed.summaries(0).treatment_region(), "500000");
  EXPECT_THAT(closed.summaries(0).investigation_ids(), ElementsAre("INV-BEFORE"));
  EXPECT_THAT(closed.undelivered_regions(), IsEmpty());
  EXPECT_NE(CopyAt(Municipal("500000"), "INV-BEFORE").summarised_at(), "");
  EXPECT_EQ(CopyAt(Municipal("500000"), "INV-AFTER").summarised_at(), "");
  // Closing again is idempotent.
  yidi::v1::CloseInvestigationPeriodResponse again;
  ASSERT_TRUE(Close(National(), "2026-11", &again).ok());
  EXPECT_THAT(again.summaries(0).investigation_ids(), ElementsAre("INV-BEFORE"));
  // Only the summarising node closes: a province has no cross-province summary to make.
  ASSERT_TRUE(Close(Provincial("210000"), "2026-11", &again).ok());
  EXPECT_THAT(again.summaries(), IsEmpty());

  // INV-BEFORE is not answered by 2026-12-25: it is carried into the 2026-12 summary and
  // counts late in 2026-11.
  mesh_->clock().Set(Cst(2026, 12, 26, 0, 0));
  ASSERT_TRUE(Close(National(), "2026-12", &closed).ok());
  ASSERT_EQ(closed.summaries_size(), 1);
  EXPECT_THAT(closed.summaries(0).investigation_ids(), ElementsAre("INV-AFTER", "INV-BEFORE"));
  EXPECT_THAT(closed.summaries(0).carried_over_ids(), ElementsAre("INV-BEFORE"));
  EXPECT_EQ(CopyAt(Municipal("500000"), "INV-BEFORE").carried_to_period(), "2026-12");
  auto statistics = Statistics(National(), "2026-11");
  EXPECT_EQ(statistics.requests(), 1);
  EXPECT_EQ(statistics.unanswered_overdue(), 1);
  EXPECT_EQ(statistics.completion_rate_bp(), 0);

  // Answered on 2026-12-28 (2027 not loaded: the confirmation deadline cannot be computed).
  mesh_->clock().Set(Cst(2026, 12, 28, 9, 0));
  yidi::v1::InvestigationResponse answered;
  grpc::Status no_calendar = Answer(Municipal("500000"), "INV-BEFORE",
                                    yidi::v1::INVESTIGATION_FINDING_VERIFIED_CORRECT, "",
                                    &answered);
  EXPECT_EQ(no_calendar.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(CopyAt(Municipal("500000"), "INV-BEFORE").state(),
            yidi::v1::INVESTIGATION_STATE_OPEN);
}

TEST_F(InvestigationMeshTest, LateAnswerCountsLateInItsOwnPeriod) {
  const auto slip = Settle("07_resident_big_bill");
  // Period 2026-10 (the clock is moved back: the opening date is not checked against the
  // settlement's), due 2026-11-25, answered 2026-11-30.
  yidi::v1::InvestigationResponse opened;
  mesh_->clock().Set(Cst(2026, 10, 20, 10, 0));
  ASSERT_TRUE(Open(Municipal("210100"), OpenRequest("INV-LATE", slip), &opened).ok());
  EXPECT_EQ(opened.investigation().period(), "2026-10");
  EXPECT_EQ(opened.investigation().answer_due_date(), "2026-11-25");
  mesh_->clock().Set(Cst(2026, 11, 30, 10, 0));
  yidi::v1::InvestigationResponse answered;
  ASSERT_TRUE(Answer(Municipal("500000"), "INV-LATE",
                     yidi::v1::INVESTIGATION_FINDING_VERIFIED_CORRECT, "", &answered)
                  .ok());
  EXPECT_TRUE(answered.investigation().answered_late());
  const auto statistics = Statistics(Municipal("210100"), "2026-10");
  EXPECT_EQ(statistics.answered_late(), 1);
  EXPECT_EQ(statistics.answered_on_time(), 0);
}

TEST_F(InvestigationMeshTest, IntraProvinceRequestIsSummarisedByTheProvinceNotNational) {
  const auto slip = Settle("08_employee_several_funds");  // 360100 insured, treated in 360700
  ASSERT_EQ(slip.state(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  yidi::v1::InvestigationResponse opened;
  ASSERT_TRUE(Open(Municipal("360100"), OpenRequest("INV-JX-1", slip), &opened).ok());
  EXPECT_EQ(opened.investigation().scope(), yidi::v1::INVESTIGATION_SCOPE_INTRA_PROVINCE);
  EXPECT_EQ(CopyAt(Municipal("360700"), "INV-JX-1").state(), yidi::v1::INVESTIGATION_STATE_OPEN);
  EXPECT_EQ(CopyAt(National(), "INV-JX-1").investigation_id(), "");

  mesh_->clock().Set(Cst(2026, 11, 26, 0, 0));
  yidi::v1::CloseInvestigationPeriodResponse closed;
  ASSERT_TRUE(Close(National(), "2026-11", &closed).ok());
  EXPECT_THAT(closed.summaries(), IsEmpty());
  ASSERT_TRUE(Close(Provincial("360000"), "2026-11", &closed).ok());
  ASSERT_EQ(closed.summaries_size(), 1);
  EXPECT_EQ(closed.summaries(0).treatment_region(), "360700");
  EXPECT_NE(CopyAt(Municipal("360700"), "INV-JX-1").summarised_at(), "");
}

TEST_F(InvestigationMeshTest, HopDownKeepsTheRequestAndARetryDeliversIt) {
  const auto slip = Settle("07_resident_big_bill");
  ASSERT_TRUE(mesh_->StopNode(National()).ok());
  const auto request = OpenRequest("INV-DOWN", slip);
  yidi::v1::InvestigationResponse response;
  grpc::Status down = Open(Municipal("210100"), request, &response);
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(down.error_message(), HasSubstr("national"));
  EXPECT_EQ(CopyAt(Municipal("210100"), "INV-DOWN").state(), yidi::v1::INVESTIGATION_STATE_OPEN);
  EXPECT_EQ(CopyAt(Municipal("500000"), "INV-DOWN").investigation_id(), "");
  ASSERT_TRUE(mesh_->RestartNode(National()).ok());
  // The operator repeats the call: the sender's channel may still be in its reconnect backoff
  // (at most 1 s, common/grpc_status.cc) for the first repeats.
  grpc::Status retried;
  for (int attempt = 0; attempt < 30; ++attempt) {
    retried = Open(Municipal("210100"), request, &response);
    if (retried.error_code() != grpc::StatusCode::UNAVAILABLE) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_TRUE(retried.ok()) << retried.error_message();
  EXPECT_TRUE(response.replayed());
  EXPECT_EQ(CopyAt(Municipal("500000"), "INV-DOWN").state(), yidi::v1::INVESTIGATION_STATE_OPEN);
}

}  // namespace
}  // namespace yidi::testing
