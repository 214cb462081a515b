// Claims up the hierarchy across the in-process demo mesh, over mutual TLS (docs/CLEARING.md
// "Claims"): Nanchang (360100) and Ganzhou (360700), two treatment cities of Jiangxi, settle in
// October; the institutions confirm some days through ReconciliationService's institution
// totals; the cities declare (Ganzhou while its province is down: stored, resent, not double
// counted); Jiangxi freezes and submits its cross-province claims to national (national down
// at the first attempt); national and Jiangxi build October: covered = the confirmed ones, a
// Chongqing claim with a wrong total excluded with its reason. November: the withheld
// settlement, confirmed since, is released by Nanchang's November claim and cleared then.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clearing.h"
#include "common/clearing_service.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/demo_requests.h"
#include "tests/testing/in_process_mesh.h"
#include "yidi/v1/clearing.grpc.pb.h"
#include "yidi/v1/reconciliation.grpc.pb.h"

namespace yidi {
namespace {

using ::testing::ElementsAre;
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

class ClaimsMeshTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InProcessMesh::Options options;
    options.now = At("2026-10-12");
    auto mesh = InProcessMesh::Start(options);  // mutual TLS, the harness as an admin operator
    ASSERT_TRUE(mesh.ok()) << mesh.status();
    mesh_ = std::move(*mesh);
  }

  std::unique_ptr<yidi::v1::ClearingService::Stub> Clearing(const NodeId& node) {
    return yidi::v1::ClearingService::NewStub(
        mesh_->ChannelAs(node, InProcessMesh::kHarnessIdentity));
  }

  // Settles a demo workload under a new id on `day`.
  yidi::v1::SettlementResult Settle(absl::string_view workload, const std::string& id,
                                    absl::string_view day) {
    mesh_->clock().Set(At(day));
    auto request = LoadWorkload(workload);
    EXPECT_TRUE(request.ok()) << request.status();
    request->set_settlement_id(id);
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    yidi::v1::SettleResponse response;
    grpc::Status status = mesh_->Settlement(Municipal(request->treatment_region()))
                              .Settle(&context, *request, &response);
    EXPECT_TRUE(status.ok()) << workload << ": " << status.error_message();
    return response.result();
  }

  // The institution's day totals (3201) for one settlement's day: confirms it at the city.
  void Confirm(const std::string& city, const std::string& institution, absl::string_view day,
               const std::vector<yidi::v1::SettlementResult>& results) {
    yidi::v1::SubmitInstitutionDayTotalsRequest totals;
    totals.set_request_id(absl::StrCat(institution, "-3201-", day));
    totals.set_institution_code(institution);
    totals.set_day(std::string(day));
    for (const auto& r : results) {
      totals.set_count(totals.count() + 1);
      totals.set_total_fen(totals.total_fen() + r.total_fen());
      totals.set_fund_total_fen(totals.fund_total_fen() + r.fund_total_fen());
      totals.set_personal_account_fen(totals.personal_account_fen() + r.personal_account_fen());
    }
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    yidi::v1::SubmitInstitutionDayTotalsResponse response;
    grpc::Status status =
        yidi::v1::ReconciliationService::NewStub(
            mesh_->ChannelAs(Municipal(city), InProcessMesh::kHarnessIdentity))
            ->SubmitInstitutionDayTotals(&context, totals, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(response.matched()) << institution << " " << day;
  }

  grpc::Status Declare(const std::string& city, absl::string_view month,
                       yidi::v1::DeclareClaimsResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(20)));
    yidi::v1::DeclareClaimsRequest request;
    request.set_clearing_month(std::string(month));
    return Clearing(Municipal(city))->DeclareClaims(&context, request, response);
  }

  grpc::Status Forward(absl::string_view month, yidi::v1::ForwardClaimsResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(20)));
    yidi::v1::ForwardClaimsRequest request;
    request.set_clearing_month(std::string(month));
    return Clearing(Provincial("360000"))->ForwardClaims(&context, request, response);
  }

  yidi::v1::Clearing Run(const NodeId& node, absl::string_view month) {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(30)));
    yidi::v1::RunClearingRequest request;
    request.set_clearing_month(std::string(month));
    yidi::v1::RunClearingResponse response;
    grpc::Status status = Clearing(node)->RunClearing(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.clearing();
  }

  std::vector<std::string> Trace(absl::string_view month, absl::string_view insured,
                                 absl::string_view treatment) {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    yidi::v1::TraceClearingRequest request;
    request.set_clearing_month(std::string(month));
    request.set_insured_region(std::string(insured));
    request.set_treatment_region(std::string(treatment));
    yidi::v1::TraceClearingResponse response;
    EXPECT_TRUE(Clearing(National())->TraceClearing(&context, request, &response).ok());
    return {response.settlement_ids().begin(), response.settlement_ids().end()};
  }

  yidi::v1::ListClaimsResponse List(const NodeId& node, absl::string_view month) {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    yidi::v1::ListClaimsRequest request;
    request.set_clearing_month(std::string(month));
    yidi::v1::ListClaimsResponse response;
    EXPECT_TRUE(Clearing(node)->ListClaims(&context, request, &response).ok());
    return response;
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
  }

  std::unique_ptr<InProcessMesh> mesh_;
};

TEST_F(ClaimsMeshTest, ConfirmedClaimsTravelUpWithheldOnesClearWhenReleased) {
  const std::string kNanchang = "H36010000001";
  const std::string kGanzhou = "H36070000001";
  // October. Nanchang treats two Shenyang patients (the 13th is not confirmed this month) and
  // a Ganzhou one; Ganzhou treats a Nanchang one; Chongqing treats a Shenyang one.
  const auto x1 = Settle("02_cross_province_outpatient", kNanchang + "-20261012-0001",
                         "2026-10-12");
  const auto x2 = Settle("02_cross_province_outpatient", kNanchang + "-20261013-0001",
                         "2026-10-13");
  const auto i1 = Settle("03_intra_province_inpatient", kNanchang + "-20261014-0001",
                         "2026-10-14");
  const auto g1 = Settle("08_employee_several_funds", kGanzhou + "-20261015-0001",
                         "2026-10-15");
  const auto c1 = Settle("07_resident_big_bill", "H50000000001-20261016-0001", "2026-10-16");
  for (const auto* r : {&x1, &x2, &i1, &g1, &c1}) ASSERT_GT(Owed(*r), 0);

  mesh_->clock().Set(At("2026-10-20"));
  Confirm("360100", kNanchang, "2026-10-12", {x1});
  Confirm("360100", kNanchang, "2026-10-14", {i1});
  Confirm("360700", kGanzhou, "2026-10-15", {g1});

  // 2 November: Nanchang declares October.
  mesh_->clock().Set(At("2026-11-02"));
  yidi::v1::DeclareClaimsResponse nanchang;
  ASSERT_TRUE(Declare("360100", "2026-10", &nanchang).ok());
  ASSERT_EQ(nanchang.batch().claims_size(), 2);  // → Shenyang, → Ganzhou
  const auto& to_shenyang = nanchang.batch().claims(0);
  EXPECT_EQ(to_shenyang.insured_region(), "210100");
  EXPECT_EQ(to_shenyang.total_fen(), Owed(x1));
  EXPECT_THAT(to_shenyang.withheld_settlement_ids(), ElementsAre(kNanchang + "-20261013-0001"));
  EXPECT_EQ(nanchang.accepted_size(), 2);

  // Ganzhou declares while Jiangxi is down: stored, not acknowledged; again once it is back.
  ASSERT_TRUE(mesh_->StopNode(Provincial("360000")).ok());
  yidi::v1::DeclareClaimsResponse ganzhou;
  grpc::Status down = Declare("360700", "2026-10", &ganzhou);
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE) << down.error_message();
  EXPECT_THAT(down.error_message(), HasSubstr("call again"));
  EXPECT_EQ(List(Municipal("360700"), "2026-10").claims(0).state(),
            yidi::v1::CLAIM_STATE_DECLARED);
  ASSERT_TRUE(mesh_->RestartNode(Provincial("360000")).ok());
  ASSERT_TRUE(Declare("360700", "2026-10", &ganzhou).ok());
  EXPECT_TRUE(ganzhou.replayed());
  EXPECT_EQ(ganzhou.batch().claims(0).total_fen(), Owed(g1));
  EXPECT_EQ(List(Municipal("360700"), "2026-10").claims(0).state(), yidi::v1::CLAIM_STATE_SENT);
  // The acknowledgement lost and the batch sent again: the province answers a replay.
  {
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    yidi::v1::SubmitClaimsRequest again;
    *again.mutable_batch() = ganzhou.batch();
    yidi::v1::SubmitClaimsResponse response;
    ASSERT_TRUE(Clearing(Provincial("360000"))->SubmitClaims(&context, again, &response).ok());
    EXPECT_TRUE(response.replayed());
  }
  const auto jiangxi_holds = List(Provincial("360000"), "2026-10");
  ASSERT_EQ(jiangxi_holds.claims_size(), 3);  // 1 cross held, 2 intra awaiting the build

  // 15 November: Jiangxi freezes and submits; national is down at the first attempt.
  mesh_->clock().Set(At("2026-11-16"));
  ASSERT_TRUE(mesh_->StopNode(National()).ok());
  yidi::v1::ForwardClaimsResponse frozen;
  EXPECT_EQ(Forward("2026-10", &frozen).error_code(), grpc::StatusCode::UNAVAILABLE);
  ASSERT_TRUE(mesh_->RestartNode(National()).ok());
  ASSERT_TRUE(Forward("2026-10", &frozen).ok());
  EXPECT_TRUE(frozen.replayed());
  ASSERT_EQ(frozen.batch().claims_size(), 1);
  EXPECT_EQ(frozen.batch().total_fen(), Owed(x1));
  ASSERT_TRUE(Forward("2026-10", &frozen).ok());  // sent already: nothing more travels
  EXPECT_EQ(List(National(), "2026-10").claims_size(), 1);

  // Chongqing's claim (submitted by hand) says 1 fen more than its lines.
  {
    yidi::v1::SubmitClaimsRequest request;
    auto& batch = *request.mutable_batch();
    batch.set_batch_id("F500000-202610");
    batch.set_clearing_month("2026-10");
    batch.set_from_region("500000");
    auto& claim = *batch.add_claims();
    claim.set_claim_id("500000-210100-202610");
    claim.set_clearing_month("2026-10");
    claim.set_treatment_region("500000");
    claim.set_insured_region("210100");
    claim.set_settlement_count(1);
    claim.set_total_fen(Owed(c1) + 1);
    auto& line = *claim.add_lines();
    line.set_institution_code("H50000000001");
    line.set_resident(true);
    line.set_settlement_count(1);
    line.set_total_fen(Owed(c1));
    batch.set_settlement_count(1);
    batch.set_total_fen(Owed(c1) + 1);
    grpc::ClientContext context;
    context.set_deadline(testing::DeadlineIn(absl::Seconds(10)));
    yidi::v1::SubmitClaimsResponse response;
    ASSERT_TRUE(Clearing(National())->SubmitClaims(&context, request, &response).ok());
  }

  // 21 November: the builds.
  mesh_->clock().Set(At("2026-11-21"));
  const yidi::v1::Clearing october = Run(National(), "2026-10");
  EXPECT_EQ(Net(october, "210100", "360100"), Owed(x1));  // x2 is withheld
  EXPECT_EQ(Net(october, "210100", "500000"), 0);         // Chongqing's claim is excluded
  ASSERT_EQ(october.excluded_claims_size(), 1);
  EXPECT_EQ(october.excluded_claims(0).claim().claim_id(), "500000-210100-202610");
  EXPECT_THAT(october.excluded_claims(0).reason(), HasSubstr("does not match its totals"));
  ExpectConserved(National(), october);
  EXPECT_THAT(Trace("2026-10", "210100", "360100"), ElementsAre(kNanchang + "-20261012-0001"));
  const auto national_holds = List(National(), "2026-10");
  ASSERT_EQ(national_holds.claims_size(), 2);
  EXPECT_EQ(national_holds.claims(0).state(), yidi::v1::CLAIM_STATE_CLEARED);
  EXPECT_EQ(national_holds.claims(1).state(), yidi::v1::CLAIM_STATE_EXCLUDED);

  const yidi::v1::Clearing jiangxi = Run(Provincial("360000"), "2026-10");
  EXPECT_EQ(Net(jiangxi, "360700", "360100"), Owed(i1));
  EXPECT_EQ(Net(jiangxi, "360100", "360700"), Owed(g1));
  EXPECT_EQ(jiangxi.excluded_claims_size(), 0);
  ExpectConserved(Provincial("360000"), jiangxi);

  // November: the institution confirms the 13th at last; a November settlement, confirmed.
  const auto x3 = Settle("02_cross_province_outpatient", kNanchang + "-20261105-0001",
                         "2026-11-05");
  mesh_->clock().Set(At("2026-11-24"));
  Confirm("360100", kNanchang, "2026-10-13", {x2});
  Confirm("360100", kNanchang, "2026-11-05", {x3});
  mesh_->clock().Set(At("2026-12-01"));
  yidi::v1::DeclareClaimsResponse november;
  ASSERT_TRUE(Declare("360100", "2026-11", &november).ok());
  ASSERT_EQ(november.batch().claims_size(), 1);
  EXPECT_THAT(november.batch().claims(0).released_settlement_ids(),
              ElementsAre(kNanchang + "-20261013-0001"));
  EXPECT_EQ(november.batch().claims(0).total_fen(), Owed(x2) + Owed(x3));
  mesh_->clock().Set(At("2026-12-15"));
  ASSERT_TRUE(Forward("2026-11", &frozen).ok());
  mesh_->clock().Set(At("2026-12-21"));
  const yidi::v1::Clearing later = Run(National(), "2026-11");
  EXPECT_EQ(later.excluded_claims_size(), 0);
  EXPECT_EQ(Net(later, "210100", "360100"), Owed(x2) + Owed(x3));
  ExpectConserved(National(), later);
  EXPECT_THAT(Trace("2026-11", "210100", "360100"),
              ElementsAre(kNanchang + "-20261013-0001", kNanchang + "-20261105-0001"));
  // Across the two months every Nanchang settlement was cleared exactly once.
  EXPECT_EQ(Net(october, "210100", "360100") + Net(later, "210100", "360100"),
            Owed(x1) + Owed(x2) + Owed(x3));
}

}  // namespace
}  // namespace yidi
