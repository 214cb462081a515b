// The clearing cycle across the in-process demo mesh (mutual TLS): October 2026 settlements
// across provinces, national's clearing and notices, then each province fetching national's
// clearing over its own channel and forwarding the notices to its cities (Liaoning with its
// own deadlines from deploy/demo/provincial_210000.textproto, Jiangxi and Chongqing with the
// national rule); refused before national's notices, idempotent, and UNAVAILABLE (nothing
// stored) while national is down. Also the year status at national.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clearing.h"
#include "common/clock.h"
#include "common/money.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/demo_requests.h"
#include "tests/testing/in_process_mesh.h"
#include "yidi/v1/clearing.grpc.pb.h"
#include "yidi/v1/clearing_cycle.grpc.pb.h"
#include "yidi/v1/prepayment.grpc.pb.h"

namespace yidi {
namespace {

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

int64_t Owed(const yidi::v1::SettlementResult& result) {
  return result.fund_total_fen() + result.personal_account_fen();
}

class ForwardingMeshTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InProcessMesh::Options options;
    options.now = At("2026-10-12");
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

  yidi::v1::Clearing RunNational(absl::string_view month) {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
    yidi::v1::RunClearingRequest request;
    request.set_clearing_month(std::string(month));
    yidi::v1::RunClearingResponse response;
    grpc::Status status = yidi::v1::ClearingService::NewStub(Channel(National()))
                              ->RunClearing(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.clearing();
  }

  grpc::Status Forward(const NodeId& node, yidi::v1::ForwardClearingResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    yidi::v1::ForwardClearingRequest request;
    request.set_clearing_month("2026-10");
    return yidi::v1::ClearingCycleService::NewStub(Channel(node))
        ->ForwardClearing(&context, request, response);
  }

  // The province's forwarded obligations ("FW-…").
  std::vector<yidi::v1::TransferObligation> Forwarded(const NodeId& province) {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    yidi::v1::ListObligationsRequest request;
    yidi::v1::ListObligationsResponse response;
    grpc::Status status = yidi::v1::PrepaymentService::NewStub(Channel(province))
                              ->ListObligations(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<yidi::v1::TransferObligation> forwarded;
    for (const auto& o : response.obligations()) {
      if (o.obligation_id().rfind("FW-", 0) == 0) forwarded.push_back(o);
    }
    return forwarded;
  }

  static const yidi::v1::ForwardedNotice* Find(const yidi::v1::ClearingForwarding& forwarding,
                                               const std::string& city, bool payment) {
    for (const auto& n : forwarding.notices()) {
      if (n.city() == city && (n.kind() == yidi::v1::FORWARDED_NOTICE_KIND_PAYMENT) == payment) {
        return &n;
      }
    }
    return nullptr;
  }

  std::unique_ptr<InProcessMesh> mesh_;
};

TEST_F(ForwardingMeshTest, ProvincesForwardNationalNoticesToTheirCities) {
  const auto outpatient = Settle("02_cross_province_outpatient");  // 210100 → 360100
  const auto resident = Settle("07_resident_big_bill");            // 210100 → 500000
  const auto inpatient = Settle("06_reversal_inpatient");          // 500000 → 210100
  ASSERT_GT(Owed(outpatient), 0);
  ASSERT_GT(Owed(resident), 0);
  ASSERT_GT(Owed(inpatient), 0);
  const NodeId liaoning = Provincial("210000");

  // Nothing to forward before national has built the month (NOT_FOUND passed on), nor while
  // its replies are open (FAILED_PRECONDITION); nothing is stored.
  mesh_->clock().Set(At("2026-11-20"));
  yidi::v1::ForwardClearingResponse response;
  grpc::Status early = Forward(liaoning, &response);
  EXPECT_EQ(early.error_code(), grpc::StatusCode::NOT_FOUND) << early.error_message();
  mesh_->clock().Set(At("2026-11-21"));
  ASSERT_EQ(RunNational("2026-10").state(), yidi::v1::CLEARING_STATE_BUILT);
  grpc::Status open = Forward(liaoning, &response);
  EXPECT_EQ(open.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << open.error_message();
  EXPECT_THAT(open.error_message(), HasSubstr("第46条"));
  EXPECT_TRUE(Forwarded(liaoning).empty());

  // Thursday 26 November: silence confirmed, national issues its notices.
  mesh_->clock().Set(At("2026-11-26"));
  const yidi::v1::Clearing october = RunNational("2026-10");
  ASSERT_EQ(october.state(), yidi::v1::CLEARING_STATE_NOTICES_ISSUED);
  ASSERT_EQ(october.notices_issued_on(), "2026-11-26");

  mesh_->clock().Set(At("2026-11-27"));
  grpc::Status forwarded = Forward(liaoning, &response);
  ASSERT_TRUE(forwarded.ok()) << forwarded.error_message();
  EXPECT_FALSE(response.replayed());
  const yidi::v1::ClearingForwarding ln = response.forwarding();  // response is reused below
  EXPECT_EQ(ln.province(), "210000");
  // Shenyang pays both of its patients' bills; it receives Chongqing's patient's.
  const auto* pays = Find(ln, "210100", true);
  const auto* gets = Find(ln, "210100", false);
  ASSERT_NE(pays, nullptr);
  ASSERT_NE(gets, nullptr);
  EXPECT_EQ(pays->net_fen(), Owed(outpatient) + Owed(resident));
  EXPECT_EQ(gets->net_fen(), Owed(inpatient));
  // Conservation with national's matrix: the cities' notices are the province's payable and
  // receivable (no reverse lines this month).
  int64_t payable = 0;
  int64_t receivable = 0;
  for (const auto& cell : october.cells()) {
    if (ProvinceOf(cell.insured_region()) == "210000") payable += cell.net_fen();
    if (ProvinceOf(cell.treatment_region()) == "210000") receivable += cell.net_fen();
  }
  EXPECT_EQ(ln.payable_fen(), payable);
  EXPECT_EQ(ln.receivable_fen(), receivable);
  EXPECT_EQ(pays->net_fen(), payable);
  EXPECT_EQ(gets->net_fen(), receivable);
  // Liaoning's deadlines (003_… 第49条) from Thursday 26 November: remit by 10 December,
  // forward by 17 December, distribute by 24 December.
  EXPECT_EQ(pays->pay_by(), "2026-12-10");
  EXPECT_EQ(ln.forward_by(), "2026-12-17");
  EXPECT_EQ(gets->pay_by(), "2026-12-24");
  auto obligations = Forwarded(liaoning);
  ASSERT_EQ(obligations.size(), 2u);
  for (const auto& o : obligations) {
    EXPECT_EQ(o.issuer_region(), "210000");
    EXPECT_FALSE(o.returned());
    if (o.payer_region() == "210100") {
      EXPECT_EQ(o.receiver_region(), "210000");
      EXPECT_EQ(o.amount_fen(), pays->net_fen());
    } else {
      EXPECT_EQ(o.payer_region(), "210000");
      EXPECT_EQ(o.receiver_region(), "210100");
      EXPECT_EQ(o.amount_fen(), gets->net_fen());
    }
  }

  // Again: replayed, nothing new.
  mesh_->clock().Set(At("2026-11-30"));
  ASSERT_TRUE(Forward(liaoning, &response).ok());
  EXPECT_TRUE(response.replayed());
  EXPECT_EQ(Forwarded(liaoning).size(), 2u);

  // Jiangxi under the national rule: Nanchang receives within 5 WD (3 December).
  const NodeId jiangxi = Provincial("360000");
  ASSERT_TRUE(Forward(jiangxi, &response).ok());
  const auto* nanchang = Find(response.forwarding(), "360100", false);
  ASSERT_NE(nanchang, nullptr);
  EXPECT_EQ(nanchang->net_fen(), Owed(outpatient));
  EXPECT_EQ(nanchang->pay_by(), "2026-12-03");

  // Chongqing while national is down: UNAVAILABLE, nothing stored; forwarded once it is back.
  const NodeId chongqing = Provincial("500000");
  ASSERT_TRUE(mesh_->StopNode(National()).ok());
  grpc::Status down = Forward(chongqing, &response);
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE) << down.error_message();
  EXPECT_TRUE(Forwarded(chongqing).empty());
  ASSERT_TRUE(mesh_->RestartNode(National()).ok());
  grpc::Status back = Forward(chongqing, &response);
  ASSERT_TRUE(back.ok()) << back.error_message();
  EXPECT_FALSE(response.replayed());
  // Chongqing is a province-level pooling region: its "city" 500000 is the province itself, so
  // the two notices are printed but no obligation runs between them.
  EXPECT_EQ(response.forwarding().notices_size(), 2);
  EXPECT_EQ(Find(response.forwarding(), "500000", true)->net_fen(), Owed(inpatient));
  EXPECT_TRUE(Find(response.forwarding(), "500000", true)->obligation_id().empty());
  EXPECT_TRUE(Forwarded(chongqing).empty());

  // The cities' notices, rendered: Shenyang's two at Liaoning.
  {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    yidi::v1::GetForwardedNoticesRequest request;
    request.set_clearing_month("2026-10");
    request.set_city("210100");
    request.set_format(yidi::v1::CLEARING_FORMAT_HTML);
    yidi::v1::GetForwardedNoticesResponse notices;
    grpc::Status status = yidi::v1::ClearingCycleService::NewStub(Channel(liaoning))
                              ->GetForwardedNotices(&context, request, &notices);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(notices.documents_size(), 2);
    EXPECT_THAT(notices.documents(0).content(), HasSubstr(FormatYuan(pays->net_fen())));
    EXPECT_THAT(notices.documents(0).content(), HasSubstr("2026-12-10"));
  }
  // Only a province forwards.
  grpc::Status at_national = Forward(National(), &response);
  EXPECT_EQ(at_national.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ForwardingMeshTest, YearStatusAtNational) {
  mesh_->clock().Set(At("2026-11-23"));
  grpc::ClientContext context;
  context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
  yidi::v1::GetYearStatusRequest request;
  request.set_year(2025);
  yidi::v1::GetYearStatusResponse response;
  auto stub = yidi::v1::ClearingCycleService::NewStub(Channel(National()));
  grpc::Status status = stub->GetYearStatus(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(response.closed());
  EXPECT_TRUE(response.overdue());  // nothing of 2025 was cleared here, and March 2026 passed
  EXPECT_EQ(response.close_by(), "2026-03-31");
  grpc::ClientContext close_context;
  close_context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
  yidi::v1::CloseYearRequest close;
  close.set_year(2025);
  yidi::v1::CloseYearResponse closed;
  grpc::Status refused = stub->CloseYear(&close_context, close, &closed);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("2025-01: not built"));
}

}  // namespace
}  // namespace yidi
