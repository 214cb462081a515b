// Daily reconciliation in the in-process demo mesh (docs/RECONCILIATION.md): settlements go
// through the real path, then a difference is injected at one hop (a record deleted, an amount
// altered, a reversal recorded at one side only, an outcome lost), and the national or
// provincial run must find it, classify it and correct the node in error so that a second run
// balances. Also: ApplyCorrection idempotency and bad input over gRPC, institution day totals,
// and a day that fails because a province is down and is re-run the next day.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/clock.h"
#include "common/grpc_status.h"
#include "common/reconciliation_service.h"
#include "common/store/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/demo_requests.h"
#include "tests/testing/in_process_mesh.h"
#include "yidi/v1/reconciliation.grpc.pb.h"

namespace yidi::testing {
namespace {

using ::testing::HasSubstr;
using yidi::v1::ReconciliationReport;
using yidi::v1::SettleRequest;
using yidi::v1::SettleResponse;

constexpr char kDay[] = "2026-11-23";  // the demo clock's day: settlements below count in it
constexpr absl::Duration kCallDeadline = absl::Seconds(5);
constexpr absl::Duration kRunDeadline = absl::Seconds(60);

#define ASSERT_GRPC_OK(expr)                                                  \
  do {                                                                        \
    const grpc::Status grpc_status_ = (expr);                                 \
    ASSERT_TRUE(grpc_status_.ok())                                            \
        << grpc_status_.error_code() << ": " << grpc_status_.error_message(); \
  } while (false)

class ReconciliationMeshTest : public ::testing::Test {
 protected:
  // The logic suites run plaintext (every caller trusted); ReconciliationOverTlsTest below runs
  // the same path over mutual TLS with the authorization table.
  virtual bool Plaintext() const { return true; }

  void SetUp() override {
    InProcessMesh::Options options;
    options.plaintext = Plaintext();
    auto mesh = InProcessMesh::Start(options);
    ASSERT_TRUE(mesh.ok()) << mesh.status();
    mesh_ = std::move(*mesh);
  }

  std::unique_ptr<yidi::v1::ReconciliationService::Stub> Stub(const NodeId& node) {
    return yidi::v1::ReconciliationService::NewStub(
        mesh_->ChannelAs(node, InProcessMesh::kHarnessIdentity));
  }

  SettleRequest Workload(const char* name) {
    auto request = LoadWorkload(name);
    EXPECT_TRUE(request.ok()) << request.status();
    return request.ok() ? *request : SettleRequest();
  }

  grpc::Status Settle(const SettleRequest& request, SettleResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    return mesh_->Settlement(Municipal(request.treatment_region()))
        .Settle(&context, request, response);
  }

  // Runs the node's reconciliation of kDay (RunReconciliation, as an operator would).
  ReconciliationReport Run(const NodeId& node, const std::string& day = kDay) {
    yidi::v1::RunReconciliationRequest request;
    request.set_day(day);
    ReconciliationReport report;
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kRunDeadline));
    const grpc::Status status = Stub(node)->RunReconciliation(&context, request, &report);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return report;
  }

  // SQL at a node, to inject a difference as a crash, a bug or a lost reply would leave it.
  void Execute(const NodeId& node, const std::string& sql) {
    auto tx = mesh_->Context(node)->store->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok()) << tx.status();
    auto changed = (*tx)->Execute(sql);
    ASSERT_TRUE(changed.ok()) << changed.status();
    ASSERT_GT(*changed, 0) << sql;
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  int64_t Query(const NodeId& node, const std::string& sql) {
    auto tx = mesh_->Context(node)->store->Begin(TransactionMode::kRead);
    auto rows = (*tx)->Query(sql);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() && !rows->empty() ? rows->front().Int(0) : -1;
  }

  yidi::v1::SettlementState StateAt(const NodeId& node, const std::string& id) {
    auto record = mesh_->GetSettlement(node, id);
    return record.ok() ? record->state() : yidi::v1::SETTLEMENT_STATE_UNSPECIFIED;
  }

  // A difference of the report by settlement id (fails the test when absent).
  yidi::v1::ReconciliationDifference Find(const ReconciliationReport& report,
                                          const std::string& id) {
    for (const auto& d : report.differences()) {
      if (d.settlement_id() == id) return d;
    }
    ADD_FAILURE() << "no difference for " << id << " in " << report.DebugString();
    return {};
  }

  // A run that balances with nothing left to do: the proof that the corrections held.
  void ExpectBalancedAgain(const NodeId& node) {
    const ReconciliationReport again = Run(node);
    EXPECT_EQ(again.status(), yidi::v1::RUN_STATUS_BALANCED) << again.DebugString();
    EXPECT_EQ(again.differences_found(), 0) << again.DebugString();
  }

  std::unique_ptr<InProcessMesh> mesh_;
};

TEST_F(ReconciliationMeshTest, CleanDayBalancesAtEveryLevel) {
  SettleResponse a, b;
  ASSERT_GRPC_OK(Settle(Workload("01_cross_province_inpatient"), &a));
  ASSERT_GRPC_OK(Settle(Workload("06_reversal_inpatient"), &b));
  mesh_->clock().Advance(absl::Hours(24));
  const ReconciliationReport national = Run(National());
  EXPECT_EQ(national.status(), yidi::v1::RUN_STATUS_BALANCED) << national.DebugString();
  EXPECT_EQ(national.pairs_compared(), 2);
  EXPECT_EQ(national.pairs_differing(), 0);  // equal totals: no detail fetched
  EXPECT_EQ(national.attempts(), 1);
  for (const char* province : {"500000", "360000", "210000"}) {
    const ReconciliationReport report = Run(Provincial(province));
    EXPECT_EQ(report.status(), yidi::v1::RUN_STATUS_BALANCED) << report.DebugString();
    EXPECT_EQ(report.pairs_differing(), 0) << province;
  }
  // Municipal nodes answer; they do not run.
  yidi::v1::RunReconciliationRequest request;
  request.set_day(kDay);
  ReconciliationReport report;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kCallDeadline));
  EXPECT_EQ(Stub(Municipal("360100"))->RunReconciliation(&context, request, &report).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ReconciliationMeshTest, RecordMissingAtNationalIsSupplemented) {
  const SettleRequest request = Workload("01_cross_province_inpatient");
  SettleResponse response;
  ASSERT_GRPC_OK(Settle(request, &response));
  const std::string id = request.settlement_id();
  Execute(National(), absl::StrCat("DELETE FROM settlement_record WHERE settlement_id = '", id,
                                   "'"));

  const ReconciliationReport report = Run(National());
  EXPECT_EQ(report.status(), yidi::v1::RUN_STATUS_BALANCED) << report.DebugString();
  EXPECT_EQ(report.pairs_differing(), 1);
  ASSERT_EQ(report.differences_found(), 1);
  const auto difference = Find(report, id);
  EXPECT_EQ(difference.kind(), yidi::v1::DIFFERENCE_KIND_MISSING);
  EXPECT_TRUE(difference.resolved());
  EXPECT_THAT(difference.detail(), HasSubstr("national: missing"));
  EXPECT_THAT(difference.resolution(), HasSubstr("provincial 500000 (treatment side)"));

  auto restored = mesh_->GetSettlement(National(), id);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->state(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  EXPECT_EQ(restored->result().total_fen(), response.result().total_fen());
  EXPECT_EQ(restored->result().fund_total_fen(), response.result().fund_total_fen());
  EXPECT_EQ(Query(National(), "SELECT COUNT(*) FROM reconciliation_correction"), 1);
  ExpectBalancedAgain(National());
  // The operator's report is stored.
  yidi::v1::GetReconciliationReportRequest get;
  get.set_day(kDay);
  ReconciliationReport stored;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kCallDeadline));
  ASSERT_GRPC_OK(Stub(National())->GetReconciliationReport(&context, get, &stored));
  EXPECT_EQ(stored.attempts(), 2);
}

TEST_F(ReconciliationMeshTest, AmountAlteredAtInsuredProvinceIsCorrectedFromTreatmentSide) {
  const SettleRequest request = Workload("01_cross_province_inpatient");
  SettleResponse response;
  ASSERT_GRPC_OK(Settle(request, &response));
  const std::string id = request.settlement_id();
  Execute(Provincial("360000"),
          absl::StrCat("UPDATE settlement_record SET total_fen = total_fen + 100, cash_fen = "
                       "cash_fen + 100 WHERE settlement_id = '", id, "'"));

  const ReconciliationReport report = Run(National());
  ASSERT_EQ(report.differences_found(), 1) << report.DebugString();
  const auto difference = Find(report, id);
  EXPECT_EQ(difference.kind(), yidi::v1::DIFFERENCE_KIND_AMOUNTS_DIFFER);
  EXPECT_TRUE(difference.resolved()) << difference.resolution();
  EXPECT_EQ(Query(Provincial("360000"),
                  absl::StrCat("SELECT total_fen FROM settlement_record WHERE settlement_id = '",
                               id, "'")),
            response.result().total_fen());
  EXPECT_EQ(Query(Provincial("360000"),
                  "SELECT previous_total_fen - new_total_fen FROM reconciliation_correction"),
            100);
  ExpectBalancedAgain(National());
}

TEST_F(ReconciliationMeshTest, ReversalRecordedAtOneSideOnlyIsCompleted) {
  // 06: insured in Chongqing 500000, treated in Shenyang 210100 (sides at national: provincial
  // 210000, national, provincial 500000).
  const SettleRequest request = Workload("06_reversal_inpatient");
  SettleResponse original;
  ASSERT_GRPC_OK(Settle(request, &original));
  yidi::v1::ReverseRequest reverse;
  reverse.set_settlement_id("H21010000001-20261123-R0001");
  reverse.set_original_settlement_id(request.settlement_id());
  reverse.set_insured_region(request.insured_region());
  reverse.set_treatment_region(request.treatment_region());
  reverse.set_institution_code(request.visit().institution_code());
  reverse.set_reason("patient refund");
  SettleResponse reversal;
  {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    ASSERT_GRPC_OK(mesh_->Settlement(Municipal("210100")).Reverse(&context, reverse, &reversal));
  }
  // The insured province lost the reversal: no reversal record, the original still SETTLED.
  Execute(Provincial("500000"), absl::StrCat("DELETE FROM settlement_record WHERE "
                                             "settlement_id = '", reverse.settlement_id(), "'"));
  Execute(Provincial("500000"), absl::StrCat("UPDATE settlement_record SET state = 2 WHERE "
                                             "settlement_id = '", request.settlement_id(), "'"));

  const ReconciliationReport report = Run(National());
  EXPECT_EQ(report.status(), yidi::v1::RUN_STATUS_BALANCED) << report.DebugString();
  ASSERT_EQ(report.differences_found(), 2) << report.DebugString();
  for (const std::string& id : {request.settlement_id(), reverse.settlement_id()}) {
    const auto difference = Find(report, id);
    EXPECT_EQ(difference.kind(), yidi::v1::DIFFERENCE_KIND_REVERSED_ONE_SIDE) << id;
    EXPECT_TRUE(difference.resolved()) << difference.resolution();
  }
  EXPECT_EQ(StateAt(Provincial("500000"), request.settlement_id()),
            yidi::v1::SETTLEMENT_STATE_REVERSED);
  auto restored = mesh_->GetSettlement(Provincial("500000"), reverse.settlement_id());
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->result().total_fen(), reversal.result().total_fen());
  EXPECT_EQ(restored->result().kind(), yidi::v1::SETTLEMENT_KIND_REVERSAL);
  ExpectBalancedAgain(National());
}

TEST_F(ReconciliationMeshTest, LostReplyInDoubtIsResolvedFromTheInsuredSideThenDownTheProvince) {
  const SettleRequest request = Workload("01_cross_province_inpatient");
  SettleResponse response;
  ASSERT_GRPC_OK(Settle(request, &response));
  const std::string id = request.settlement_id();
  // The reply was lost between national and the treatment province, and between that province
  // and the treatment city: both hold IN_DOUBT without a result, as the relay leaves it.
  for (const NodeId& node : {Provincial("500000"), Municipal("500000")}) {
    Execute(node, absl::StrCat("UPDATE settlement_record SET state = 3, result = '', total_fen = "
                               "0, fund_total_fen = 0, personal_account_fen = 0, cash_fen = 0, "
                               "settlement_date = '' WHERE settlement_id = '", id, "'"));
  }
  const ReconciliationReport national = Run(National());
  ASSERT_EQ(national.differences_found(), 1) << national.DebugString();
  const auto difference = Find(national, id);
  EXPECT_EQ(difference.kind(), yidi::v1::DIFFERENCE_KIND_IN_DOUBT);
  EXPECT_TRUE(difference.resolved()) << difference.resolution();
  EXPECT_EQ(StateAt(Provincial("500000"), id), yidi::v1::SETTLEMENT_STATE_SETTLED);

  // Chongqing then reconciles with its city and settles the city's doubt.
  const ReconciliationReport chongqing = Run(Provincial("500000"));
  ASSERT_EQ(chongqing.differences_found(), 1) << chongqing.DebugString();
  EXPECT_TRUE(chongqing.differences(0).resolved()) << chongqing.differences(0).resolution();
  auto city = mesh_->GetSettlement(Municipal("500000"), id);
  ASSERT_TRUE(city.ok());
  EXPECT_EQ(city->state(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  EXPECT_EQ(city->result().total_fen(), response.result().total_fen());
  ExpectBalancedAgain(National());
  ExpectBalancedAgain(Provincial("500000"));
}

TEST_F(ReconciliationMeshTest, InDoubtEverywhereIsResolvedByAskingTheOwner) {
  const SettleRequest request = Workload("01_cross_province_inpatient");
  SettleResponse response;
  ASSERT_GRPC_OK(Settle(request, &response));
  const std::string id = request.settlement_id();
  for (const NodeId& node : {Provincial("500000"), National(), Provincial("360000")}) {
    Execute(node, absl::StrCat("UPDATE settlement_record SET state = 3, result = '', total_fen = "
                               "0, fund_total_fen = 0, personal_account_fen = 0, cash_fen = 0, "
                               "settlement_date = '' WHERE settlement_id = '", id, "'"));
  }
  const ReconciliationReport report = Run(National());
  ASSERT_EQ(report.differences_found(), 1) << report.DebugString();
  EXPECT_TRUE(report.differences(0).resolved()) << report.differences(0).resolution();
  EXPECT_THAT(report.differences(0).resolution(), HasSubstr("municipal 360100 (the owner)"));
  for (const NodeId& node : {Provincial("500000"), National(), Provincial("360000")}) {
    EXPECT_EQ(StateAt(node, id), yidi::v1::SETTLEMENT_STATE_SETTLED) << NameOf(node);
  }
  ExpectBalancedAgain(National());
}

TEST_F(ReconciliationMeshTest, OwnerDownLeavesInDoubtThatReconciliationVoids) {
  // The insured city is down: every hop above it records IN_DOUBT, the owner committed nothing.
  ASSERT_TRUE(mesh_->StopNode(Municipal("360100")).ok());
  const SettleRequest request = Workload("01_cross_province_inpatient");
  SettleResponse response;
  EXPECT_EQ(Settle(request, &response).error_code(), grpc::StatusCode::UNAVAILABLE);
  ASSERT_TRUE(mesh_->RestartNode(Municipal("360100")).ok());
  const std::string id = request.settlement_id();
  ASSERT_EQ(StateAt(National(), id), yidi::v1::SETTLEMENT_STATE_IN_DOUBT);

  const ReconciliationReport report = Run(National());
  ASSERT_EQ(report.differences_found(), 1) << report.DebugString();
  EXPECT_TRUE(report.differences(0).resolved()) << report.differences(0).resolution();
  EXPECT_THAT(report.differences(0).resolution(), HasSubstr("owner has no record"));
  for (const NodeId& node : {Provincial("500000"), National(), Provincial("360000")}) {
    EXPECT_EQ(StateAt(node, id), yidi::v1::SETTLEMENT_STATE_VOIDED) << NameOf(node);
  }
  const ReconciliationReport chongqing = Run(Provincial("500000"));
  EXPECT_EQ(chongqing.status(), yidi::v1::RUN_STATUS_BALANCED) << chongqing.DebugString();
  EXPECT_EQ(StateAt(Municipal("500000"), id), yidi::v1::SETTLEMENT_STATE_VOIDED);
  ExpectBalancedAgain(National());
}

TEST_F(ReconciliationMeshTest, ApplyCorrectionIsIdempotentAndRefusesBadInput) {
  const SettleRequest request = Workload("01_cross_province_inpatient");
  SettleResponse response;
  ASSERT_GRPC_OK(Settle(request, &response));
  auto stub = Stub(National());
  yidi::v1::ApplyCorrectionRequest correction;
  correction.set_correction_id("ops-2026-11-23-1");
  correction.set_settlement_id(request.settlement_id());
  correction.set_action(yidi::v1::CORRECTION_ACTION_OFFSET);
  correction.set_reason("operator test");
  for (int attempt = 0; attempt < 3; ++attempt) {
    yidi::v1::ApplyCorrectionResponse applied;
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    ASSERT_GRPC_OK(stub->ApplyCorrection(&context, correction, &applied));
    EXPECT_EQ(applied.replayed(), attempt > 0);
    EXPECT_EQ(applied.previous_state(), yidi::v1::SETTLEMENT_STATE_SETTLED);
    EXPECT_EQ(applied.state(), yidi::v1::SETTLEMENT_STATE_VOIDED);
  }
  EXPECT_EQ(Query(National(), "SELECT COUNT(*) FROM reconciliation_correction"), 1);

  struct Case {
    std::function<void(yidi::v1::ApplyCorrectionRequest&)> mutate;
    std::string field;
  } cases[] = {
      {[](auto& r) { r.clear_correction_id(); }, "correction_id"},
      {[](auto& r) { r.clear_settlement_id(); }, "settlement_id"},
      {[](auto& r) { r.set_action(yidi::v1::CORRECTION_ACTION_UNSPECIFIED); }, "action"},
      {[](auto& r) {
         r.set_action(yidi::v1::CORRECTION_ACTION_SUPPLEMENT);
         r.set_state(yidi::v1::SETTLEMENT_STATE_SETTLED);
       },
       "result"},
      {[](auto& r) { r.set_insured_region("36"); }, "insured_region"},
  };
  for (const Case& c : cases) {
    yidi::v1::ApplyCorrectionRequest bad = correction;
    bad.set_correction_id(absl::StrCat("bad-", c.field));
    c.mutate(bad);
    yidi::v1::ApplyCorrectionResponse applied;
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    const grpc::Status status = stub->ApplyCorrection(&context, bad, &applied);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_TRUE(absl::StartsWith(status.error_message(), c.field + ":")) << status.error_message();
  }
  EXPECT_EQ(Query(National(), "SELECT COUNT(*) FROM reconciliation_correction"), 1);
  // Reusing an id for another settlement is refused.
  correction.set_settlement_id("H50000000001-20261123-9999");
  yidi::v1::ApplyCorrectionResponse applied;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kCallDeadline));
  EXPECT_EQ(stub->ApplyCorrection(&context, correction, &applied).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(ReconciliationMeshTest, InstitutionDayTotalsMatchConfirmsAndMismatchShowsDifference) {
  const SettleRequest request = Workload("01_cross_province_inpatient");
  SettleResponse response;
  ASSERT_GRPC_OK(Settle(request, &response));
  const auto& result = response.result();
  auto stub = Stub(Municipal("500000"));
  yidi::v1::SubmitInstitutionDayTotalsRequest totals;
  totals.set_request_id("H50000000001-3201-20261123-1");
  totals.set_institution_code(request.visit().institution_code());
  totals.set_day(kDay);
  totals.set_count(1);
  totals.set_total_fen(result.total_fen() + 1);  // the institution's error
  totals.set_fund_total_fen(result.fund_total_fen());
  totals.set_personal_account_fen(result.personal_account_fen());
  auto* line = totals.add_details();
  line->set_settlement_id(request.settlement_id());
  line->set_total_fen(result.total_fen() + 1);
  line->set_fund_total_fen(result.fund_total_fen());
  line->set_personal_account_fen(result.personal_account_fen());
  auto submit = [&](const yidi::v1::SubmitInstitutionDayTotalsRequest& r,
                    yidi::v1::SubmitInstitutionDayTotalsResponse* out) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    return stub->SubmitInstitutionDayTotals(&context, r, out);
  };
  const std::string confirmed_sql =
      "SELECT COUNT(*) FROM settlement_record WHERE institution_confirmed_on = '2026-11-23'";
  yidi::v1::SubmitInstitutionDayTotalsResponse mismatch;
  ASSERT_GRPC_OK(submit(totals, &mismatch));
  EXPECT_FALSE(mismatch.matched());
  ASSERT_EQ(mismatch.differences_size(), 1);
  EXPECT_EQ(mismatch.differences(0).settlement_id(), request.settlement_id());
  EXPECT_EQ(mismatch.differences(0).reason(), "amounts differ");
  EXPECT_EQ(Query(Municipal("500000"), confirmed_sql), 0);

  totals.set_request_id("H50000000001-3201-20261123-2");
  totals.set_total_fen(result.total_fen());
  totals.clear_details();
  yidi::v1::SubmitInstitutionDayTotalsResponse match;
  ASSERT_GRPC_OK(submit(totals, &match));
  EXPECT_TRUE(match.matched());
  EXPECT_EQ(match.confirmed(), 1);
  EXPECT_EQ(Query(Municipal("500000"), confirmed_sql), 1);

  // Bad input names the field and stores nothing; other node kinds refuse.
  yidi::v1::SubmitInstitutionDayTotalsRequest bad = totals;
  bad.set_request_id("H50000000001-3201-20261123-3");
  bad.set_institution_code("H36010000001");  // Nanchang's hospital, not Chongqing's
  yidi::v1::SubmitInstitutionDayTotalsResponse refused;
  grpc::Status status = submit(bad, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(status.error_message(), "institution_code:"));
  bad = totals;
  bad.set_request_id("");
  EXPECT_TRUE(absl::StartsWith(submit(bad, &refused).error_message(), "request_id:"));
  bad = totals;
  bad.set_request_id("x-4");
  bad.set_day("2026-02-30");
  EXPECT_TRUE(absl::StartsWith(submit(bad, &refused).error_message(), "day:"));
  EXPECT_EQ(Query(Municipal("500000"), "SELECT COUNT(*) FROM institution_day_totals"), 2);
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kCallDeadline));
  EXPECT_EQ(Stub(National())->SubmitInstitutionDayTotals(&context, totals, &refused).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ReconciliationMeshTest, DayWithAProvinceDownFailsAndIsRerunTheNextDay) {
  const SettleRequest request = Workload("01_cross_province_inpatient");
  SettleResponse response;
  ASSERT_GRPC_OK(Settle(request, &response));
  Execute(National(), absl::StrCat("DELETE FROM settlement_record WHERE settlement_id = '",
                                   request.settlement_id(), "'"));
  ASSERT_TRUE(mesh_->StopNode(Provincial("360000")).ok());
  // 2026-11-24 02:00 CST: the scheduler reconciles the 23rd; Jiangxi does not answer.
  mesh_->clock().Set(absl::FromCivil(absl::CivilSecond(2026, 11, 24, 2, 0, 0),
                                     ChinaStandardTime()));
  NodeContext* national = mesh_->Context(National());
  Reconciler reconciler(national);
  ReconciliationScheduler scheduler(national, &reconciler);
  EXPECT_THAT(scheduler.RunDue(), ::testing::ElementsAre(kDay));
  yidi::v1::GetReconciliationReportRequest get;
  get.set_day(kDay);
  ReconciliationReport failed;
  {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    ASSERT_GRPC_OK(Stub(National())->GetReconciliationReport(&context, get, &failed));
  }
  EXPECT_EQ(failed.status(), yidi::v1::RUN_STATUS_FAILED);
  EXPECT_THAT(failed.error(), HasSubstr("provincial 360000"));
  // Once a day: a second look the same day does nothing.
  EXPECT_TRUE(scheduler.RunDue().empty());
  EXPECT_EQ(StateAt(National(), request.settlement_id()), yidi::v1::SETTLEMENT_STATE_UNSPECIFIED);

  ASSERT_TRUE(mesh_->RestartNode(Provincial("360000")).ok());
  // The next day the failed 23rd is re-run with the 24th.
  mesh_->clock().Advance(absl::Hours(24));
  EXPECT_THAT(scheduler.RunDue(), ::testing::ElementsAre(kDay, "2026-11-24"));
  ReconciliationReport rerun;
  {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    ASSERT_GRPC_OK(Stub(National())->GetReconciliationReport(&context, get, &rerun));
  }
  EXPECT_EQ(rerun.status(), yidi::v1::RUN_STATUS_BALANCED) << rerun.DebugString();
  EXPECT_EQ(rerun.attempts(), 2);
  EXPECT_EQ(rerun.differences_resolved(), 1);
  EXPECT_EQ(StateAt(National(), request.settlement_id()), yidi::v1::SETTLEMENT_STATE_SETTLED);
  // Balanced days are not run again.
  mesh_->clock().Advance(absl::Hours(24));
  EXPECT_THAT(scheduler.RunDue(), ::testing::ElementsAre("2026-11-25"));
}

TEST_F(ReconciliationMeshTest, TotalsArePagedAndEveryPageIsCompared) {
  // Four cross-province keys (pair, institution); national's totals come one key per page.
  std::vector<SettleRequest> requests;
  for (const char* name : {"01_cross_province_inpatient", "02_cross_province_outpatient",
                           "06_reversal_inpatient", "07_resident_big_bill"}) {
    requests.push_back(Workload(name));
    SettleResponse response;
    ASSERT_GRPC_OK(Settle(requests.back(), &response));
  }
  // The difference sits in the key that sorts last at national (06: insured 500000).
  const std::string last_id = requests[2].settlement_id();
  ASSERT_EQ(requests[2].insured_region(), "500000");
  Execute(National(), absl::StrCat("DELETE FROM settlement_record WHERE settlement_id = '",
                                   last_id, "'"));
  NodeContext* national = mesh_->Context(National());
  yidi::v1::GetDayTotalsRequest first_page;
  first_page.set_day(kDay);
  first_page.set_page_size(1);
  auto page = HandleGetDayTotals(*national, first_page);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_FALSE(page->next_page_token().empty()) << "more keys than one page";

  Reconciler reconciler(national, /*totals_page_size=*/1);
  auto report = reconciler.RunDay(kDay);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->status(), yidi::v1::RUN_STATUS_BALANCED) << report->DebugString();
  EXPECT_EQ(report->pairs_compared(), 4) << report->DebugString();
  ASSERT_EQ(report->differences_found(), 1) << report->DebugString();
  EXPECT_EQ(report->differences(0).settlement_id(), last_id);
  EXPECT_EQ(report->differences(0).kind(), yidi::v1::DIFFERENCE_KIND_MISSING);
  EXPECT_EQ(StateAt(National(), last_id), yidi::v1::SETTLEMENT_STATE_SETTLED);
  // A bad token is refused naming the field.
  yidi::v1::GetDayTotalsRequest bad = first_page;
  bad.set_page_token("not-a-token");
  yidi::v1::GetDayTotalsResponse refused;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kCallDeadline));
  const grpc::Status status = Stub(Provincial("360000"))->GetDayTotals(&context, bad, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StartsWith(status.error_message(), "page_token:")) << status.error_message();
  ExpectBalancedAgain(National());
}

// D410: what a correction replays at the owner (municipal/owner_corrections.h).
class OwnerCorrectionTest : public ReconciliationMeshTest {
 protected:
  // The owner's accumulators of a person: "year/name" → amount.
  std::map<std::string, int64_t> Accumulators(const NodeId& owner, const std::string& id_number) {
    std::map<std::string, int64_t> values;
    auto tx = mesh_->Context(owner)->store->Begin(TransactionMode::kRead);
    EXPECT_TRUE(tx.ok());
    auto rows = (*tx)->Query("SELECT year, name, amount FROM accumulator WHERE id_number = ?",
                             {id_number});
    EXPECT_TRUE(rows.ok()) << rows.status();
    for (const Row& row : *rows) values[absl::StrCat(row.Int(0), "/", row.Text(1))] = row.Int(2);
    return values;
  }
  static bool AllZero(const std::map<std::string, int64_t>& values) {
    for (const auto& [name, amount] : values) {
      if (amount != 0) return false;
    }
    return true;
  }
  grpc::Status Correct(const NodeId& node, const yidi::v1::ApplyCorrectionRequest& request,
                       yidi::v1::ApplyCorrectionResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    return Stub(node)->ApplyCorrection(&context, request, response);
  }
};

TEST_F(OwnerCorrectionTest, OffsetAtTheOwnerUndoesItsAccumulatorsOnce) {
  const SettleRequest request = Workload("01_cross_province_inpatient");  // owner 360100
  const NodeId owner = Municipal("360100");
  const auto before = Accumulators(owner, request.id_number());
  SettleResponse response;
  ASSERT_GRPC_OK(Settle(request, &response));
  const auto settled = Accumulators(owner, request.id_number());
  ASSERT_NE(settled, before) << "the settlement fed the accumulators";

  yidi::v1::ApplyCorrectionRequest offset;
  offset.set_correction_id("ops-owner-void-1");
  offset.set_settlement_id(request.settlement_id());
  offset.set_action(yidi::v1::CORRECTION_ACTION_OFFSET);
  offset.set_reason("test: 冲减 at the owner");
  for (int attempt = 0; attempt < 2; ++attempt) {  // the same correction twice: replayed once
    yidi::v1::ApplyCorrectionResponse applied;
    ASSERT_GRPC_OK(Correct(owner, offset, &applied));
    EXPECT_EQ(applied.replayed(), attempt > 0);
    EXPECT_EQ(applied.previous_state(), yidi::v1::SETTLEMENT_STATE_SETTLED);
    const auto now = Accumulators(owner, request.id_number());
    EXPECT_TRUE(AllZero(now) || now == before) << "undone exactly, once";
  }
  // Another correction id for the same 冲减 finds it VOIDED and replays nothing more.
  offset.set_correction_id("ops-owner-void-2");
  yidi::v1::ApplyCorrectionResponse again;
  ASSERT_GRPC_OK(Correct(owner, offset, &again));
  EXPECT_FALSE(again.replayed());
  EXPECT_EQ(again.previous_state(), yidi::v1::SETTLEMENT_STATE_VOIDED);
  const auto after = Accumulators(owner, request.id_number());
  EXPECT_TRUE(AllZero(after) || after == before);
  EXPECT_EQ(Query(owner, absl::StrCat("SELECT COUNT(*) FROM accumulator_change WHERE "
                                      "settlement_id = '", request.settlement_id(), "#void'")) > 0,
            !AllZero(settled));
  // A relay's record of the same settlement feeds nothing: the province just voids it.
  yidi::v1::ApplyCorrectionResponse relay;
  offset.set_correction_id("ops-province-void-1");
  ASSERT_GRPC_OK(Correct(Provincial("360000"), offset, &relay));
  EXPECT_EQ(relay.state(), yidi::v1::SETTLEMENT_STATE_VOIDED);
}

TEST_F(OwnerCorrectionTest, OwnerRefusesAmountsItsPolicyEngineDidNotCompute) {
  const SettleRequest request = Workload("01_cross_province_inpatient");
  const NodeId owner = Municipal("360100");
  SettleResponse response;
  ASSERT_GRPC_OK(Settle(request, &response));
  const auto settled = Accumulators(owner, request.id_number());
  yidi::v1::ApplyCorrectionRequest supplement;
  supplement.set_correction_id("ops-owner-amounts-1");
  supplement.set_settlement_id(request.settlement_id());
  supplement.set_action(yidi::v1::CORRECTION_ACTION_SUPPLEMENT);
  supplement.set_state(yidi::v1::SETTLEMENT_STATE_SETTLED);
  *supplement.mutable_result() = response.result();
  supplement.mutable_result()->set_total_fen(response.result().total_fen() + 100);
  supplement.mutable_result()->set_cash_fen(response.result().cash_fen() + 100);
  supplement.mutable_result()->set_self_pay_fen(response.result().self_pay_fen() + 100);
  supplement.mutable_result()->set_person_part_fen(response.result().person_part_fen() + 100);
  yidi::v1::ApplyCorrectionResponse applied;
  const grpc::Status status = Correct(owner, supplement, &applied);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("other amounts"));
  // Nothing stored: no audit row, the record and accumulators as committed.
  EXPECT_EQ(Query(owner, "SELECT COUNT(*) FROM reconciliation_correction"), 0);
  EXPECT_EQ(Query(owner, absl::StrCat("SELECT total_fen FROM settlement_record WHERE "
                                      "settlement_id = '", request.settlement_id(), "'")),
            response.result().total_fen());
  EXPECT_EQ(Accumulators(owner, request.id_number()), settled);
}

TEST_F(OwnerCorrectionTest, ReversalMissingAtTheOwnerIsReplayedByTheProvinceRun) {
  const SettleRequest request = Workload("01_cross_province_inpatient");  // owner 360100
  const NodeId owner = Municipal("360100");
  const auto before = Accumulators(owner, request.id_number());
  SettleResponse original;
  ASSERT_GRPC_OK(Settle(request, &original));
  const auto settled = Accumulators(owner, request.id_number());
  yidi::v1::ReverseRequest reverse;
  reverse.set_settlement_id("H50000000001-20261123-R0009");
  reverse.set_original_settlement_id(request.settlement_id());
  reverse.set_insured_region(request.insured_region());
  reverse.set_treatment_region(request.treatment_region());
  reverse.set_institution_code(request.visit().institution_code());
  reverse.set_reason("patient refund");
  SettleResponse reversal;
  {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    ASSERT_GRPC_OK(mesh_->Settlement(Municipal("500000")).Reverse(&context, reverse, &reversal));
  }
  const auto reversed = Accumulators(owner, request.id_number());
  // The owner loses the reversal (a restore from an older backup): record, state and the
  // accumulator changes it made are gone.
  const std::string r = reverse.settlement_id();
  const std::string same_key =
      "c.id_number = accumulator.id_number AND c.insurance_type = accumulator.insurance_type "
      "AND c.year = accumulator.year AND c.name = accumulator.name";
  if (!AllZero(settled)) {
    Execute(owner, absl::StrCat("UPDATE accumulator SET amount = amount - (SELECT c.delta FROM "
                                "accumulator_change c WHERE c.settlement_id = '", r, "' AND ",
                                same_key, ") WHERE EXISTS (SELECT 1 FROM accumulator_change c "
                                "WHERE c.settlement_id = '", r, "' AND ", same_key, ")"));
    Execute(owner, absl::StrCat("DELETE FROM accumulator_change WHERE settlement_id = '", r, "'"));
  }
  Execute(owner, absl::StrCat("DELETE FROM settlement_record WHERE settlement_id = '", r, "'"));
  Execute(owner, absl::StrCat("UPDATE settlement_record SET state = 2 WHERE settlement_id = '",
                              request.settlement_id(), "'"));
  ASSERT_EQ(Accumulators(owner, request.id_number()), settled);

  // Jiangxi reconciles with its city: the treatment side's record (the province's) prevails,
  // the owner takes the reversal and replays it.
  const ReconciliationReport report = Run(Provincial("360000"));
  EXPECT_EQ(report.status(), yidi::v1::RUN_STATUS_BALANCED) << report.DebugString();
  ASSERT_EQ(report.differences_found(), 2) << report.DebugString();
  for (const std::string& id : {request.settlement_id(), r}) {
    const auto difference = Find(report, id);
    EXPECT_EQ(difference.kind(), yidi::v1::DIFFERENCE_KIND_REVERSED_ONE_SIDE) << id;
    EXPECT_TRUE(difference.resolved()) << difference.resolution();
  }
  EXPECT_EQ(StateAt(owner, request.settlement_id()), yidi::v1::SETTLEMENT_STATE_REVERSED);
  EXPECT_EQ(StateAt(owner, r), yidi::v1::SETTLEMENT_STATE_SETTLED);
  EXPECT_EQ(Accumulators(owner, request.id_number()), reversed);
  // A second run balances and replays nothing.
  ExpectBalancedAgain(Provincial("360000"));
  EXPECT_EQ(Accumulators(owner, request.id_number()), reversed);
  (void)before;
}

// Over mutual TLS: the national node calls the provinces with its own certificate (parent), the
// provinces call their cities, and the operator runs it; the authorization table must admit
// every one of these calls (docs/RECONCILIATION.md, "Authorization").
class ReconciliationOverTlsTest : public ReconciliationMeshTest {
 protected:
  bool Plaintext() const override { return false; }
};

TEST_F(ReconciliationOverTlsTest, MissingRecordIsFoundAndSupplementedOverMutualTls) {
  const SettleRequest request = Workload("01_cross_province_inpatient");
  SettleResponse response;
  ASSERT_GRPC_OK(Settle(request, &response));
  Execute(Provincial("360000"), absl::StrCat("DELETE FROM settlement_record WHERE "
                                             "settlement_id = '", request.settlement_id(), "'"));
  const ReconciliationReport report = Run(National());
  EXPECT_EQ(report.status(), yidi::v1::RUN_STATUS_BALANCED) << report.DebugString();
  EXPECT_EQ(report.differences_resolved(), 1) << report.DebugString();
  EXPECT_EQ(StateAt(Provincial("360000"), request.settlement_id()),
            yidi::v1::SETTLEMENT_STATE_SETTLED);
  const ReconciliationReport jiangxi = Run(Provincial("360000"));
  EXPECT_EQ(jiangxi.status(), yidi::v1::RUN_STATUS_BALANCED) << jiangxi.DebugString();
}

}  // namespace
}  // namespace yidi::testing
