// The automatic close of fee investigation periods (common/investigation_scheduler.h, D564)
// through the in-process demo mesh: national closes period 2026-11 by itself when the shared
// FakeClock moves from 2026-11-25 23:59 to 2026-11-26 00:00 and the summary reaches the
// treatment region (Chongqing 500000) without any CloseInvestigationPeriod call; a national node
// that was down at 00:00 closes when it starts again, and only once; a treatment region that is
// down gets the summary on a later tick. The schedulers tick every second of real time, so the
// tests wait for the outcome (up to kWaitMax) instead of asserting on timing.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/clock.h"
#include "common/investigation_scheduler.h"
#include "common/store/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/demo_requests.h"
#include "tests/testing/in_process_mesh.h"
#include "yidi/v1/investigation.grpc.pb.h"

namespace yidi::testing {
namespace {

using ::testing::IsEmpty;
using yidi::v1::Investigation;
using yidi::v1::InvestigationService;

constexpr absl::Duration kCallDeadline = absl::Seconds(5);
// Far above the scheduler's 1 s tick plus a reconnect backoff: only a broken close waits this.
constexpr absl::Duration kWaitMax = absl::Seconds(30);

absl::Time Cst(int year, int month, int day, int hour, int minute, int second = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                         ChinaStandardTime());
}

TEST(LatestClosedInvestigationPeriodTest, TurnsAtMidnightOnThe26thCst) {
  EXPECT_EQ(LatestClosedInvestigationPeriod(Cst(2026, 11, 25, 23, 59, 59)),
            absl::CivilMonth(2026, 10));
  EXPECT_EQ(LatestClosedInvestigationPeriod(Cst(2026, 11, 26, 0, 0)), absl::CivilMonth(2026, 11));
  // 00:00 CST is 16:00 UTC the day before.
  EXPECT_EQ(LatestClosedInvestigationPeriod(absl::FromCivil(absl::CivilSecond(2026, 11, 25, 16, 0, 0),
                                                            absl::UTCTimeZone())),
            absl::CivilMonth(2026, 11));
  EXPECT_EQ(LatestClosedInvestigationPeriod(Cst(2027, 1, 5, 12, 0)), absl::CivilMonth(2026, 12));
}

class InvestigationCloseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mesh = InProcessMesh::Start(InProcessMesh::Options());
    ASSERT_TRUE(mesh.ok()) << mesh.status();
    mesh_ = std::move(*mesh);
  }

  InvestigationService::Stub& Stub(const NodeId& node) {
    auto& stub = stubs_[node];
    if (stub == nullptr) stub = InvestigationService::NewStub(
        mesh_->ChannelAs(node, InProcessMesh::kHarnessIdentity));
    return *stub;
  }

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

  // Opens a request on the insured region's node for the stay on `slip`.
  void Open(absl::string_view id, const yidi::v1::SettlementResult& slip) {
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
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    yidi::v1::InvestigationResponse response;
    const grpc::Status status =
        Stub(Municipal(slip.insured_region())).OpenInvestigation(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
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

  // Waits until the treatment region's copy of `id` is summarised; returns its summarised_at.
  std::string WaitSummarisedAt(const NodeId& at, absl::string_view id) {
    const absl::Time give_up = absl::Now() + kWaitMax;
    while (absl::Now() < give_up) {
      const std::string summarised_at = CopyAt(at, id).summarised_at();
      if (!summarised_at.empty()) return summarised_at;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return "";
  }

  struct CloseRow {
    bool found = false;
    int64_t complete = 0;
    int64_t attempts = 0;
  };
  // The node's investigation_close row for `period`.
  CloseRow CloseRowAt(const NodeId& node, absl::string_view period) {
    CloseRow row;
    NodeContext* context = mesh_->Context(node);
    EXPECT_NE(context, nullptr);
    if (context == nullptr) return row;
    auto tx = context->store->Begin(TransactionMode::kRead);
    EXPECT_TRUE(tx.ok()) << tx.status();
    if (!tx.ok()) return row;
    auto rows = (*tx)->Query(
        "SELECT complete, attempts FROM investigation_close WHERE period = ?",
        {std::string(period)});
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (rows.ok() && !rows->empty()) {
      row.found = true;
      row.complete = (*rows)[0].Int(0);
      row.attempts = (*rows)[0].Int(1);
    }
    return row;
  }

  std::unique_ptr<InProcessMesh> mesh_;
  std::map<NodeId, std::unique_ptr<InvestigationService::Stub>> stubs_;
};

TEST_F(InvestigationCloseTest, NationalClosesAtMidnightAndTheSummaryReachesTheTreatmentRegion) {
  const auto slip = Settle("07_resident_big_bill");  // Shenyang 210100 insured, Chongqing 500000
  mesh_->clock().Set(Cst(2026, 11, 25, 23, 59));
  Open("INV-AUTO", slip);
  ASSERT_EQ(CopyAt(Municipal("500000"), "INV-AUTO").period(), "2026-11");
  // Several ticks at 23:59: the period is not due, nothing is summarised.
  absl::SleepFor(absl::Seconds(2));
  EXPECT_EQ(CopyAt(Municipal("500000"), "INV-AUTO").summarised_at(), "");
  EXPECT_FALSE(CloseRowAt(National(), "2026-11").found);

  mesh_->clock().Set(Cst(2026, 11, 26, 0, 0));
  // No CloseInvestigationPeriod call anywhere: national's scheduler closes and publishes.
  EXPECT_EQ(WaitSummarisedAt(Municipal("500000"), "INV-AUTO"), "2026-11-26T00:00:00+08:00");
  EXPECT_NE(CopyAt(National(), "INV-AUTO").summarised_at(), "");
  // The cross-province request is national's: the provinces record no close of their own for
  // it, but they ran theirs (empty) too.
  const absl::Time give_up = absl::Now() + kWaitMax;
  while (CloseRowAt(National(), "2026-11").complete == 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(CloseRowAt(National(), "2026-11").complete, 1);
}

TEST_F(InvestigationCloseTest, NodeDownAtMidnightClosesWhenItStartsAndOnlyOnce) {
  const auto slip = Settle("07_resident_big_bill");
  mesh_->clock().Set(Cst(2026, 11, 25, 23, 59));
  Open("INV-LATE-NODE", slip);
  ASSERT_TRUE(mesh_->StopNode(National()).ok());
  mesh_->clock().Set(Cst(2026, 11, 26, 0, 5));
  // Only national summarises cross-province requests: with it down, nothing is summarised.
  absl::SleepFor(absl::Seconds(2));
  EXPECT_EQ(CopyAt(Municipal("500000"), "INV-LATE-NODE").summarised_at(), "");

  mesh_->clock().Set(Cst(2026, 11, 26, 8, 30));
  ASSERT_TRUE(mesh_->RestartNode(National()).ok());
  EXPECT_EQ(WaitSummarisedAt(Municipal("500000"), "INV-LATE-NODE"), "2026-11-26T08:30:00+08:00");
  const absl::Time give_up = absl::Now() + kWaitMax;
  while (CloseRowAt(National(), "2026-11").complete == 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  const CloseRow closed = CloseRowAt(National(), "2026-11");
  ASSERT_EQ(closed.complete, 1);

  // Not twice: another scheduler on the same node finds every due period complete, and the
  // running one leaves the row as it was.
  InvestigationCloseScheduler again(mesh_->Context(National()));
  EXPECT_THAT(again.RunDue(), IsEmpty());
  mesh_->clock().Set(Cst(2026, 11, 27, 9, 0));
  EXPECT_THAT(again.RunDue(), IsEmpty());
  absl::SleepFor(absl::Seconds(2));
  EXPECT_EQ(CloseRowAt(National(), "2026-11").attempts, closed.attempts);
  EXPECT_EQ(CopyAt(Municipal("500000"), "INV-LATE-NODE").summarised_at(),
            "2026-11-26T08:30:00+08:00");

  // The next 26th closes the next period (carrying the unanswered request), once.
  // Whichever of the two schedulers runs first closes it; the store serialises them.
  mesh_->clock().Set(Cst(2026, 12, 26, 0, 0));
  again.RunDue();
  const absl::Time give_up_next = absl::Now() + kWaitMax;
  while (CloseRowAt(National(), "2026-12").complete == 0 && absl::Now() < give_up_next) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(CloseRowAt(National(), "2026-12").complete, 1);
  EXPECT_EQ(CopyAt(Municipal("500000"), "INV-LATE-NODE").carried_to_period(), "2026-12");
  EXPECT_THAT(again.RunDue(), IsEmpty());
}

TEST_F(InvestigationCloseTest, UndeliveredSummaryIsPublishedAgainOnALaterTick) {
  const auto slip = Settle("07_resident_big_bill");
  mesh_->clock().Set(Cst(2026, 11, 25, 23, 59));
  Open("INV-RETRY", slip);
  ASSERT_TRUE(mesh_->StopNode(Municipal("500000")).ok());
  mesh_->clock().Set(Cst(2026, 11, 26, 0, 0));
  // National closes, but Chongqing's municipal node does not take the summary.
  const absl::Time give_up = absl::Now() + kWaitMax;
  while (CloseRowAt(National(), "2026-11").attempts < 2 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  const CloseRow pending = CloseRowAt(National(), "2026-11");
  EXPECT_TRUE(pending.found);
  EXPECT_EQ(pending.complete, 0);
  EXPECT_GE(pending.attempts, 2);  // tried, and tried again on the next tick
  EXPECT_NE(CopyAt(National(), "INV-RETRY").summarised_at(), "");

  ASSERT_TRUE(mesh_->RestartNode(Municipal("500000")).ok());
  EXPECT_NE(WaitSummarisedAt(Municipal("500000"), "INV-RETRY"), "");
  const absl::Time give_up_complete = absl::Now() + kWaitMax;
  while (CloseRowAt(National(), "2026-11").complete == 0 && absl::Now() < give_up_complete) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(CloseRowAt(National(), "2026-11").complete, 1);
}

TEST_F(InvestigationCloseTest, OnByDefaultOnNationalAndProvincialOffOnMunicipalOrByPolicy) {
  yidi::v1::CollaborationPolicy policy;
  EXPECT_TRUE(AutomaticInvestigationCloseEnabled(*mesh_->Context(National()), policy));
  EXPECT_TRUE(AutomaticInvestigationCloseEnabled(*mesh_->Context(Provincial("360000")), policy));
  EXPECT_FALSE(AutomaticInvestigationCloseEnabled(*mesh_->Context(Municipal("360100")), policy));
  policy.set_automatic_close(false);
  EXPECT_FALSE(AutomaticInvestigationCloseEnabled(*mesh_->Context(National()), policy));
}

}  // namespace
}  // namespace yidi::testing
