// Monthly clearing across the in-process demo mesh: demo settlements in October 2026 (cross-
// province both ways, intra-province Jiangxi), an audit deduction, a refund after clearing;
// national builds the October clearing on 21 November, Liaoning disputes, Jiangxi confirms,
// silence confirms the rest; the dispute is resolved and the notices become clearing
// obligations with usage reports; the province clears its own cities; the November clearing
// carries the refund. Every figure is checked against the slips the mesh returned.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clearing.h"
#include "common/clearing_service.h"
#include "common/clock.h"
#include "common/money.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/demo_requests.h"
#include "tests/testing/in_process_mesh.h"
#include "yidi/v1/clearing.grpc.pb.h"
#include "yidi/v1/prepayment.grpc.pb.h"

namespace yidi {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using testing::InProcessMesh;
using testing::LoadWorkload;
using testing::Municipal;
using testing::National;
using testing::NodeId;
using testing::Provincial;

absl::Time At(absl::string_view day) {
  return absl::FromCivil(absl::CivilSecond(*ParseDate(day)) + 10 * 3600, ChinaStandardTime());
}

// What the insured side owes for a slip: 基金支付合计 (funds + personal account).
int64_t Owed(const yidi::v1::SettlementResult& result) {
  return result.fund_total_fen() + result.personal_account_fen();
}

class ClearingMeshTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InProcessMesh::Options options;
    options.now = At("2026-10-12");
    // Over mutual TLS like every other suite: the harness calls as an admin operator.
    auto mesh = InProcessMesh::Start(options);
    ASSERT_TRUE(mesh.ok()) << mesh.status();
    mesh_ = std::move(*mesh);
  }

  std::shared_ptr<grpc::Channel> Channel(const NodeId& node) {
    return mesh_->ChannelAs(node, InProcessMesh::kHarnessIdentity);
  }

  yidi::v1::SettlementResult Settle(absl::string_view workload) {
    auto request = LoadWorkload(workload);
    EXPECT_TRUE(request.ok()) << request.status();
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    yidi::v1::SettleResponse response;
    grpc::Status status = mesh_->Settlement(Municipal(request->treatment_region()))
                              .Settle(&context, *request, &response);
    EXPECT_TRUE(status.ok()) << workload << ": " << status.error_message();
    return response.result();
  }

  yidi::v1::Clearing Run(const NodeId& node, absl::string_view month,
                         grpc::StatusCode expected = grpc::StatusCode::OK) {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
    yidi::v1::RunClearingRequest request;
    request.set_clearing_month(std::string(month));
    yidi::v1::RunClearingResponse response;
    grpc::Status status = yidi::v1::ClearingService::NewStub(Channel(node))
                              ->RunClearing(&context, request, &response);
    EXPECT_EQ(status.error_code(), expected) << status.error_message();
    return response.clearing();
  }

  grpc::Status Reply(absl::string_view region, bool confirm, absl::string_view id,
                     absl::string_view reason = "") {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    yidi::v1::ReplyClearingRequest request;
    request.set_clearing_month("2026-10");
    request.set_region(std::string(region));
    request.set_kind(confirm ? yidi::v1::CLEARING_REPLY_KIND_CONFIRMED
                             : yidi::v1::CLEARING_REPLY_KIND_DISPUTED);
    request.set_reason(std::string(reason));
    request.set_reply_id(std::string(id));
    yidi::v1::ReplyClearingResponse response;
    return yidi::v1::ClearingService::NewStub(Channel(National()))
        ->ReplyClearing(&context, request, &response);
  }

  static int64_t Net(const yidi::v1::Clearing& clearing, absl::string_view insured,
                     absl::string_view treatment) {
    int64_t fen = 0;
    for (const auto& cell : clearing.cells()) {
      if (cell.insured_region() == insured && cell.treatment_region() == treatment) {
        fen += cell.net_fen();
      }
    }
    return fen;
  }

  void ExpectConserved(const NodeId& node, const yidi::v1::Clearing& clearing) {
    NodeContext* context = mesh_->Context(node);
    ASSERT_NE(context, nullptr);
    const absl::Status conserved = CheckConservation(clearing, ClearingNodeOf(*context));
    EXPECT_TRUE(conserved.ok()) << conserved;
    // Σ payables = Σ receivables, by the matrix.
    int64_t rows = 0;
    for (const auto& [receiver, row] : ClearingMatrix(clearing, ClearingNodeOf(*context))) {
      for (const auto& [payer, fen] : row) rows += fen;
    }
    int64_t cells = 0;
    for (const auto& cell : clearing.cells()) cells += cell.net_fen();
    EXPECT_EQ(rows, cells);
  }

  std::unique_ptr<InProcessMesh> mesh_;
};

TEST_F(ClearingMeshTest, AMonthClearedAcrossTheMesh) {
  // October: Liaoning → Jiangxi (outpatient), Liaoning → Chongqing (resident), Chongqing →
  // Liaoning (to be refunded in November), and Nanchang treating a Ji'an patient.
  const auto outpatient = Settle("02_cross_province_outpatient");     // 210100 → 360100
  const auto resident = Settle("07_resident_big_bill");              // 210100 → 500000
  const auto refunded = Settle("06_reversal_inpatient");             // 500000 → 210100
  const auto intra = Settle("03_intra_province_inpatient");          // 360700 → 360100
  ASSERT_GT(Owed(outpatient), 0);
  ASSERT_GT(Owed(resident), 0);
  ASSERT_GT(Owed(refunded), 0);

  // Chongqing's audit deducts 100 元 of the resident stay from Liaoning's charges.
  {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    yidi::v1::RecordDeductionRequest request;
    auto& deduction = *request.mutable_deduction();
    deduction.set_deduction_id("CQ-2026-10-0001");
    deduction.set_clearing_month("2026-10");
    deduction.set_insured_region("210100");
    deduction.set_treatment_region("500000");
    deduction.set_insurance_type(yidi::v1::INSURANCE_TYPE_RESIDENT);
    deduction.mutable_amounts()->set_pooled_fund_fen(10000);
    deduction.mutable_amounts()->set_total_fen(10000);
    deduction.set_reason("超标准收费");
    deduction.add_settlement_ids(resident.settlement_id());
    yidi::v1::RecordDeductionResponse response;
    grpc::Status status = yidi::v1::AuditService::NewStub(Channel(National()))
                              ->RecordDeduction(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // The refund after the month: lands in November.
  mesh_->clock().Set(At("2026-11-02"));
  {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    yidi::v1::ReverseRequest reverse;
    reverse.set_settlement_id("H21010000001-20261102-R0001");
    reverse.set_original_settlement_id(refunded.settlement_id());
    reverse.set_insured_region("500000");
    reverse.set_treatment_region("210100");
    reverse.set_institution_code("H21010000001");
    yidi::v1::SettleResponse response;
    grpc::Status status =
        mesh_->Settlement(Municipal("210100")).Reverse(&context, reverse, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // Before the 21st nothing is built.
  mesh_->clock().Set(At("2026-11-20"));
  Run(National(), "2026-10", grpc::StatusCode::FAILED_PRECONDITION);

  mesh_->clock().Set(At("2026-11-21"));
  const yidi::v1::Clearing october = Run(National(), "2026-10");
  EXPECT_EQ(october.state(), yidi::v1::CLEARING_STATE_BUILT);
  EXPECT_EQ(october.confirm_by(), "2026-11-25");
  EXPECT_EQ(Net(october, "210100", "360100"), Owed(outpatient));
  EXPECT_EQ(Net(october, "210100", "500000"), Owed(resident) - 10000);
  // The reversal is dated November: October still carries the original in full.
  EXPECT_EQ(Net(october, "500000", "210100"), Owed(refunded));
  // Intra-province settlements are not national's.
  EXPECT_EQ(Net(october, "360700", "360100"), 0);
  ExpectConserved(National(), october);

  // Traceable: the pair's ids are the settlements behind it.
  {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    yidi::v1::TraceClearingRequest request;
    request.set_clearing_month("2026-10");
    request.set_insured_region("210100");
    request.set_treatment_region("500000");
    yidi::v1::TraceClearingResponse response;
    ASSERT_TRUE(yidi::v1::ClearingService::NewStub(Channel(National()))
                    ->TraceClearing(&context, request, &response)
                    .ok());
    EXPECT_THAT(response.settlement_ids(), Contains(resident.settlement_id()));
    EXPECT_THAT(response.deduction_ids(), Contains("CQ-2026-10-0001"));
  }

  // The province clears its own cities the same way.
  const yidi::v1::Clearing jiangxi = Run(Provincial("360000"), "2026-10");
  EXPECT_EQ(Net(jiangxi, "360700", "360100"), Owed(intra));
  EXPECT_EQ(Net(jiangxi, "210100", "360100"), 0);
  ExpectConserved(Provincial("360000"), jiangxi);

  // Replies: Jiangxi confirms, Liaoning disputes, Chongqing says nothing.
  mesh_->clock().Set(At("2026-11-24"));
  ASSERT_TRUE(Reply("360000", true, "JX-1").ok());
  ASSERT_TRUE(Reply("210000", false, "LN-1", "扣款未经确认").ok());
  grpc::Status stranger = Reply("440000", true, "GD-1");
  EXPECT_EQ(stranger.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(stranger.error_message(), HasSubstr("region"));

  mesh_->clock().Set(At("2026-11-26"));
  const yidi::v1::Clearing held = Run(National(), "2026-10");
  EXPECT_EQ(held.state(), yidi::v1::CLEARING_STATE_DISPUTED);
  EXPECT_EQ(held.obligation_ids_size(), 0);
  ASSERT_TRUE(Reply("210000", true, "LN-2").ok());
  const yidi::v1::Clearing issued = Run(National(), "2026-10");
  EXPECT_EQ(issued.state(), yidi::v1::CLEARING_STATE_NOTICES_ISSUED);
  // Liaoning → Jiangxi, Liaoning → Chongqing, Chongqing → Liaoning.
  EXPECT_EQ(issued.obligation_ids_size(), 3);

  // The obligations and usage reports at national (the prepayment module's view).
  {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    yidi::v1::ListObligationsRequest request;
    request.set_region("210000");
    yidi::v1::ListObligationsResponse response;
    ASSERT_TRUE(yidi::v1::PrepaymentService::NewStub(Channel(National()))
                    ->ListObligations(&context, request, &response)
                    .ok());
    std::map<std::string, int64_t> owed_by_receiver;
    for (const auto& obligation : response.obligations()) {
      if (obligation.notice_kind() != yidi::v1::NOTICE_KIND_CLEARING) continue;
      if (obligation.payer_region() == "210000") {
        owed_by_receiver[obligation.receiver_region()] += obligation.amount_fen();
      }
    }
    EXPECT_EQ(owed_by_receiver["360000"], Owed(outpatient));
    EXPECT_EQ(owed_by_receiver["500000"], Owed(resident) - 10000);
  }
  {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    yidi::v1::GetUsageRequest request;
    request.set_year(2026);
    request.set_region("500000");
    yidi::v1::GetUsageResponse response;
    ASSERT_TRUE(yidi::v1::PrepaymentService::NewStub(Channel(National()))
                    ->GetUsage(&context, request, &response)
                    .ok());
    EXPECT_EQ(response.reports_size(), 2);  // 210000 → 500000 and 500000 → 210000
  }

  // The tables: the matrix row of Chongqing and Liaoning's payment notice.
  {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    yidi::v1::GetClearingDocumentsRequest request;
    request.set_clearing_month("2026-10");
    request.set_kind(yidi::v1::CLEARING_DOCUMENT_KIND_PAYMENT_NOTICE);
    request.set_region("210000");
    yidi::v1::GetClearingDocumentsResponse response;
    ASSERT_TRUE(yidi::v1::ClearingService::NewStub(Channel(National()))
                    ->GetClearingDocuments(&context, request, &response)
                    .ok());
    ASSERT_EQ(response.documents_size(), 1);
    EXPECT_THAT(response.documents(0).content(),
                HasSubstr(FormatYuan(Owed(outpatient) + Owed(resident) - 10000)));
  }

  // November carries the refund: Chongqing's charge to Liaoning runs back (reverse clearing).
  mesh_->clock().Set(At("2026-12-21"));
  const yidi::v1::Clearing november = Run(National(), "2026-11");
  EXPECT_EQ(Net(november, "500000", "210100"), -Owed(refunded));
  ExpectConserved(National(), november);
}

}  // namespace
}  // namespace yidi
