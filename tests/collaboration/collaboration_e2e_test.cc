// The operator commands of issue 9 (`yidictl investigation|ticket|announcement|monitoring`,
// docs/COLLABORATION.md) through the REAL yidictl binary against the REAL node binaries: the
// demo mesh of 8 processes on 127.0.0.1 (tests/testing/process_mesh.h), mutual TLS with the
// admin operator's certificate unless a test presents another one (an auditor, a hospital).
// Every assertion is on yidictl's exit code (0 done, 1 usage, 2 the node refused) and on what
// it printed; the settlements the requests rest on are made by the hospitals themselves
// (`yidictl settle` with an institution certificate) through the real settlement path.
//
// Time: the nodes start on a fixed day (kClockStart, through the binaries' --clock_start) and
// their clocks run on from there; NodeNow() is the nodes' time. A fixed day keeps every
// deadline inside the shipped 2025–2026 calendars (a real clock in late December would put
// answers and ticket limits in 2027, OUT_OF_RANGE until that calendar ships). The tests still
// use only what holds on the day: the investigation period is the one of "now" (computed with
// common/investigation.h before and after), answers are on time, no ticket is overdue yet, the
// downtime window is placed around now. The refusal of an edit after the summary, a late answer, auto-confirmation and overdue
// tickets need a moved clock: they are covered in-process with the FakeClock
// (investigation_mesh_test, investigation_close_test, collaboration_mesh_test).
//
// Each test starts its own mesh (ctest runs every test as its own process anyway), and keeps
// the mesh's folder (configs, databases, node logs, every yidictl output) when it fails.
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/investigation.h"
#include "common/money.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/in_process_mesh.h"
#include "tests/testing/process_mesh.h"
#include "yidi/v1/settlement.grpc.pb.h"

namespace yidi::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Reads of one node's own record.
constexpr int kReadDeadlineMs = 5000;

// yidictl's exit codes (tools/yidictl/command.h).
constexpr int kExitOk = 0;
constexpr int kExitUsage = 1;
constexpr int kExitRemoteError = 2;

std::string Workload(const std::string& name) {
  return absl::StrCat(DemoDir(), "/workload/", name, ".textproto");
}
std::string CollaborationFile(const std::string& name) {
  return absl::StrCat(DemoDir(), "/collaboration/", name, ".textproto");
}

// A command's result, printed in a failure message.
std::string Shown(const CommandResult& result) {
  return absl::StrCat("exit ", result.exit_code, "\n--- stdout\n", result.out, "--- stderr\n",
                      result.err);
}

// The line of `text` containing `needle` ("" when none).
std::string LineWith(const std::string& text, const std::string& needle) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StrContains(line, needle)) return std::string(line);
  }
  return "";
}

class CollaborationE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ProcessMesh::Options options;
    options.name = "collaboration-e2e";
    auto mesh = ProcessMesh::Create(options);
    ASSERT_TRUE(mesh.ok()) << mesh.status();
    mesh_ = std::move(*mesh);
    mesh_->SetClockStart(kClockStart);
    ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, kClockStart, &clock_start_, nullptr));
    real_start_ = absl::Now();
    const absl::Status started = mesh_->StartAll();
    ASSERT_TRUE(started.ok()) << started;
    const absl::Status auditor =
        mesh_->IssueIdentity("operator_auditor", "yidi://operator/auditor?role=auditor");
    ASSERT_TRUE(auditor.ok()) << auditor;
  }

  void TearDown() override {
    if (HasFailure() && mesh_ != nullptr) mesh_->KeepFiles();
  }

  // The nodes' time: started at kClockStart, running at the real rate.
  absl::Time NodeNow() const { return clock_start_ + (absl::Now() - real_start_); }

  // A Tuesday in the middle of an investigation period, far from the 26th and from year end.
  static constexpr char kClockStart[] = "2026-11-10T10:00:00+08:00";
  absl::Time clock_start_;
  absl::Time real_start_;

  CommandResult Yidictl(const std::string& node, const std::vector<std::string>& args,
                        const std::string& identity = "operator_admin") {
    return mesh_->Yidictl(node, args, identity);
  }

  // Writes `text` as <root>/<name> and returns its path.
  std::string WriteInput(const std::string& name, const std::string& text) {
    const std::string path = absl::StrCat(mesh_->root(), "/", name);
    const absl::Status written = WriteTextFile(path, text);
    EXPECT_TRUE(written.ok()) << written;
    return path;
  }

  // The hospital of a workload case settles it at its own municipal node, as itself.
  void HospitalSettles(const std::string& workload) {
    yidi::v1::SettleRequest request;
    const absl::Status loaded = LoadTextProtoFile(Workload(workload), &request);
    ASSERT_TRUE(loaded.ok()) << loaded;
    const CommandResult settled =
        Yidictl(absl::StrCat("municipal_", request.treatment_region()),
                {"settle", "--request=" + Workload(workload)},
                absl::StrCat("institution_", request.visit().institution_code()));
    ASSERT_EQ(settled.exit_code, kExitOk) << Shown(settled);
    ASSERT_THAT(settled.out, HasSubstr("SETTLED")) << Shown(settled);
  }

  // A node's own record of a settlement, read over gRPC (what the monitoring report counts).
  yidi::v1::SettlementResult RecordAt(const std::string& node, const std::string& settlement_id) {
    auto stub = yidi::v1::SettlementService::NewStub(mesh_->Channel(mesh_->Address(node)));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(kReadDeadlineMs));
    yidi::v1::GetSettlementRequest request;
    request.set_settlement_id(settlement_id);
    yidi::v1::GetSettlementResponse response;
    const grpc::Status status = stub->GetSettlement(&context, request, &response);
    EXPECT_TRUE(status.ok()) << node << ": " << status.error_message();
    EXPECT_EQ(response.state(), yidi::v1::SETTLEMENT_STATE_SETTLED) << node;
    return response.result();
  }

  std::unique_ptr<ProcessMesh> mesh_;
};

// The demo request on case 07 (Shenyang insured, treated in Chongqing, 79,999.20 元), with one
// field changed by `edit`.
std::string InvestigationText(const std::string& id, const std::string& extra_replacement = "") {
  auto text = ReadTextFile(CollaborationFile("investigation_07"));
  EXPECT_TRUE(text.ok()) << text.status();
  std::string body = text.value_or("");
  const std::string demo_id = "INV-210100-20261123-0001";
  EXPECT_THAT(body, HasSubstr(demo_id));
  body.replace(body.find(demo_id), demo_id.size(), id);
  if (!extra_replacement.empty()) {
    // "invoice_number" dropped: a field 第54条 requires.
    const size_t at = body.find(extra_replacement);
    EXPECT_NE(at, std::string::npos) << extra_replacement;
    if (at != std::string::npos) body.erase(at, body.find('\n', at) - at);
  }
  return body;
}

// Fee investigations: open (refusals first), list, amend, answer, confirm, dispute, withdraw,
// close (refused before the 26th), stats --period, and a hop killed and restarted between.
TEST_F(CollaborationE2eTest, InvestigationCommandsDriveTheWholeRoundTrip) {
  HospitalSettles("07_resident_big_bill");
  ASSERT_FALSE(HasFailure());
  HospitalSettles("01_cross_province_inpatient");  // 3,586.25 元: below the threshold
  ASSERT_FALSE(HasFailure());
  const std::string period_before = InvestigationPeriodOf(NodeNow());

  // A field of 第54条 missing: refused naming it, nothing stored.
  const std::string no_invoice = WriteInput(
      "inv-no-invoice.textproto", InvestigationText("INV-E2E-MISSING", "invoice_number"));
  CommandResult missing =
      Yidictl("municipal_210100", {"investigation", "open", no_invoice});
  EXPECT_EQ(missing.exit_code, kExitRemoteError) << Shown(missing);
  EXPECT_THAT(missing.out, HasSubstr("ERROR INVALID_ARGUMENT"));
  EXPECT_THAT(missing.out, HasSubstr("subject.invoice_number"));

  // A stay below 30,000 元 (case 01, Nanchang insured): refused with the threshold.
  const std::string small = WriteInput("inv-small.textproto", R"pb(
    investigation_id: "INV-E2E-SMALL"
    insured_region: "360100"
    treatment_region: "500000"
    subject {
      settlement_id: "H50000000001-20261017-0001"
      id_number: "360102195604120138"
      name: "万国华"
      sex: SEX_MALE
      institution_name: "重庆市嘉陵江中心医院"
      admission_number: "ZY2026100815"
      invoice_number: "FP-500000-0001"
      admission_date: "2026-10-08"
      discharge_date: "2026-10-17"
      total_fen: 358625
    }
    concern: "a small stay")pb");
  CommandResult below = Yidictl("municipal_360100", {"investigation", "open", small});
  EXPECT_EQ(below.exit_code, kExitRemoteError) << Shown(below);
  EXPECT_THAT(below.out, HasSubstr("total_fen"));

  // The wrong role: an auditor may read investigations but not open one.
  const std::string good = WriteInput("inv-1.textproto", InvestigationText("INV-E2E-1"));
  CommandResult auditor =
      Yidictl("municipal_210100", {"investigation", "open", good}, "operator_auditor");
  EXPECT_EQ(auditor.exit_code, kExitRemoteError) << Shown(auditor);
  EXPECT_THAT(auditor.out, HasSubstr("PERMISSION_DENIED"));
  // A usage error never reaches the node.
  CommandResult no_file = Yidictl("municipal_210100", {"investigation", "open"});
  EXPECT_EQ(no_file.exit_code, kExitUsage) << Shown(no_file);
  EXPECT_THAT(no_file.err, HasSubstr("usage: yidictl investigation open FILE"));
  CommandResult listed_empty = Yidictl("municipal_500000", {"investigation", "list"});
  EXPECT_EQ(listed_empty.exit_code, kExitOk) << Shown(listed_empty);
  EXPECT_EQ(listed_empty.out, "") << "refused requests were stored: " << Shown(listed_empty);

  // Open on the insured region's node; it travels to Chongqing.
  CommandResult opened = Yidictl("municipal_210100", {"investigation", "open", good});
  ASSERT_EQ(opened.exit_code, kExitOk) << Shown(opened);
  const std::string period_after = InvestigationPeriodOf(NodeNow());
  const std::string line = LineWith(opened.out, "INV-E2E-1");
  EXPECT_THAT(line, HasSubstr("210100 → 500000"));
  EXPECT_THAT(line, HasSubstr("OPEN"));
  EXPECT_THAT(line, HasSubstr("79999.20"));
  EXPECT_THAT(line, HasSubstr("open-for-edits"));
  EXPECT_TRUE(absl::StrContains(line, period_before) || absl::StrContains(line, period_after))
      << line;
  const std::string period =
      absl::StrContains(line, period_before) ? period_before : period_after;
  EXPECT_THAT(opened.output, Not(HasSubstr("210102196104030488")))
      << "a full ID number was printed";
  CommandResult again = Yidictl("municipal_210100", {"investigation", "open", good});
  EXPECT_EQ(again.exit_code, kExitOk) << Shown(again);
  EXPECT_THAT(again.out, HasSubstr("(replayed: the stored result)"));

  // Every hop of the route has a copy; Jiangxi, off the route, has none.
  for (const char* node : {"provincial_210000", "national", "provincial_500000",
                           "municipal_500000"}) {
    CommandResult listed =
        Yidictl(node, {"investigation", "list", "--period=" + period}, "operator_auditor");
    EXPECT_EQ(listed.exit_code, kExitOk) << node << Shown(listed);
    EXPECT_THAT(LineWith(listed.out, "INV-E2E-1"), HasSubstr("OPEN")) << node;
  }
  CommandResult off_route = Yidictl("provincial_360000", {"investigation", "list"});
  EXPECT_EQ(off_route.exit_code, kExitOk) << Shown(off_route);
  EXPECT_THAT(off_route.out, Not(HasSubstr("INV-E2E-1")));

  // Before the summary the insured region may still amend; the period cannot be closed yet.
  // The amendment: the demo request's subject, another concern.
  const std::string demo_request = InvestigationText("INV-E2E-1");
  const size_t subject_at = demo_request.find("subject {");
  const size_t concern_at = demo_request.find("concern:");
  ASSERT_NE(subject_at, std::string::npos);
  ASSERT_NE(concern_at, std::string::npos);
  const std::string amend = WriteInput(
      "amend-1.textproto",
      absl::StrCat("investigation_id: \"INV-E2E-1\"\n",
                   demo_request.substr(subject_at, concern_at - subject_at),
                   "concern: \"two CT lines on one day\"\n"));
  CommandResult amended =
      Yidictl("municipal_210100", {"--text", "investigation", "amend", amend});
  EXPECT_EQ(amended.exit_code, kExitOk) << Shown(amended);
  EXPECT_THAT(amended.out, HasSubstr("concern: \"two CT lines on one day\""));
  EXPECT_THAT(amended.out, HasSubstr("version: 2"));
  CommandResult early_close =
      Yidictl("national", {"investigation", "close", "--period=" + period});
  EXPECT_EQ(early_close.exit_code, kExitRemoteError) << Shown(early_close);
  EXPECT_THAT(early_close.out, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_THAT(early_close.out, HasSubstr(absl::StrCat("period: ", period, " closes at ")));
  EXPECT_THAT(early_close.out, HasSubstr("-26T00:00:00+08:00"));
  // The period before has closed: national closes it again by hand (idempotent, nothing of
  // this test in it); a municipal node never closes.
  auto month = ParseInvestigationPeriod(period);
  ASSERT_TRUE(month.ok()) << month.status();
  const std::string previous = FormatInvestigationPeriod(*month - 1);
  CommandResult closed = Yidictl("national", {"investigation", "close", "--period=" + previous});
  EXPECT_EQ(closed.exit_code, kExitOk) << Shown(closed);
  EXPECT_THAT(closed.out, Not(HasSubstr("not delivered")));
  CommandResult city_close =
      Yidictl("municipal_210100", {"investigation", "close", "--period=" + previous});
  EXPECT_EQ(city_close.exit_code, kExitRemoteError) << Shown(city_close);
  EXPECT_THAT(city_close.out, HasSubstr("national (cross-province) and provincial"));

  // The answer: only the treatment region; 核查有误 needs its reason.
  CommandResult wrong_end = Yidictl(
      "municipal_210100", {"investigation", "answer", "INV-E2E-1", "correct"});
  EXPECT_EQ(wrong_end.exit_code, kExitRemoteError) << Shown(wrong_end);
  EXPECT_THAT(wrong_end.out, HasSubstr("FAILED_PRECONDITION"));
  CommandResult no_reason = Yidictl(
      "municipal_500000", {"investigation", "answer", "INV-E2E-1", "incorrect"});
  EXPECT_EQ(no_reason.exit_code, kExitRemoteError) << Shown(no_reason);
  EXPECT_THAT(no_reason.out, HasSubstr("finding_reason"));
  CommandResult bad_finding = Yidictl(
      "municipal_500000", {"investigation", "answer", "INV-E2E-1", "maybe"});
  EXPECT_EQ(bad_finding.exit_code, kExitUsage) << Shown(bad_finding);
  CommandResult answered =
      Yidictl("municipal_500000", {"investigation", "answer", "INV-E2E-1", "incorrect",
                                   "two CT lines for one examination"});
  ASSERT_EQ(answered.exit_code, kExitOk) << Shown(answered);
  EXPECT_THAT(answered.out, HasSubstr("ANSWERED"));
  EXPECT_THAT(answered.out, HasSubstr("VERIFIED_INCORRECT two CT lines for one examination"));
  EXPECT_THAT(answered.out, Not(HasSubstr("(late)")));

  // Shenyang's province crashes: the confirmation is stored at Shenyang but cannot travel; the
  // caller is told which hop is down. After the restart the same command delivers it.
  ASSERT_TRUE(mesh_->Kill("provincial_210000", SIGKILL).ok());
  CommandResult confirm_down =
      Yidictl("municipal_210100", {"investigation", "confirm", "INV-E2E-1"});
  EXPECT_EQ(confirm_down.exit_code, kExitRemoteError) << Shown(confirm_down);
  EXPECT_THAT(confirm_down.out, HasSubstr("UNAVAILABLE"));
  EXPECT_THAT(confirm_down.out, HasSubstr("provincial 210000"));
  const absl::Status restarted = mesh_->Start("provincial_210000");
  ASSERT_TRUE(restarted.ok()) << restarted;
  CommandResult confirmed;
  for (int attempt = 0; attempt < 20; ++attempt) {  // the channel may still be reconnecting
    confirmed = Yidictl("municipal_210100", {"investigation", "confirm", "INV-E2E-1"});
    if (confirmed.exit_code == kExitOk) break;
    ASSERT_THAT(confirmed.out, HasSubstr("UNAVAILABLE")) << Shown(confirmed);
  }
  ASSERT_EQ(confirmed.exit_code, kExitOk) << Shown(confirmed);
  EXPECT_THAT(confirmed.out, HasSubstr("CONFIRMED"));
  EXPECT_THAT(confirmed.out, HasSubstr("(replayed: the stored result)"));
  CommandResult at_treatment = Yidictl("municipal_500000", {"investigation", "list"});
  EXPECT_THAT(LineWith(at_treatment.out, "INV-E2E-1"), HasSubstr("CONFIRMED"))
      << Shown(at_treatment);

  // A second request, answered 核查无误 and disputed (a reason is required); a third withdrawn.
  const std::string second = WriteInput("inv-2.textproto", InvestigationText("INV-E2E-2"));
  ASSERT_EQ(Yidictl("municipal_210100", {"investigation", "open", second}).exit_code, kExitOk);
  ASSERT_EQ(Yidictl("municipal_500000", {"investigation", "answer", "INV-E2E-2", "correct"})
                .exit_code,
            kExitOk);
  CommandResult dispute_usage =
      Yidictl("municipal_210100", {"investigation", "dispute", "INV-E2E-2"});
  EXPECT_EQ(dispute_usage.exit_code, kExitUsage) << Shown(dispute_usage);
  CommandResult disputed = Yidictl(
      "municipal_210100", {"investigation", "dispute", "INV-E2E-2", "the CT was repeated"});
  EXPECT_EQ(disputed.exit_code, kExitOk) << Shown(disputed);
  EXPECT_THAT(disputed.out, HasSubstr("DISPUTED"));
  const std::string third = WriteInput("inv-3.textproto", InvestigationText("INV-E2E-3"));
  ASSERT_EQ(Yidictl("municipal_210100", {"investigation", "open", third}).exit_code, kExitOk);
  CommandResult withdrawn =
      Yidictl("municipal_210100", {"investigation", "withdraw", "INV-E2E-3"});
  EXPECT_EQ(withdrawn.exit_code, kExitOk) << Shown(withdrawn);
  EXPECT_THAT(withdrawn.out, HasSubstr("WITHDRAWN"));

  // The completion statistics of the period, at the insured region: 2 requests (the withdrawn
  // one apart), both answered on time, one confirmed, one disputed: 100.00%.
  CommandResult stats =
      Yidictl("municipal_210100", {"investigation", "stats", "--period=" + period});
  ASSERT_EQ(stats.exit_code, kExitOk) << Shown(stats);
  EXPECT_THAT(stats.out, HasSubstr(absl::StrCat("period: \"", period, "\"")));
  EXPECT_THAT(stats.out, HasSubstr("requests: 2\n"));
  EXPECT_THAT(stats.out, HasSubstr("answered_on_time: 2\n"));
  EXPECT_THAT(stats.out, HasSubstr("confirmed: 1\n"));
  EXPECT_THAT(stats.out, HasSubstr("disputed: 1\n"));
  EXPECT_THAT(stats.out, HasSubstr("withdrawn: 1\n"));
  EXPECT_THAT(stats.out, HasSubstr("completion rate: 100.00%"));
  // The same at national, which saw every change; the older positional form still works.
  CommandResult national_stats = Yidictl("national", {"investigation", "stats", period});
  EXPECT_EQ(national_stats.exit_code, kExitOk) << Shown(national_stats);
  EXPECT_THAT(national_stats.out, HasSubstr("requests: 2\n"));
  EXPECT_THAT(national_stats.out, HasSubstr("completion rate: 100.00%"));
  CommandResult no_period = Yidictl("national", {"investigation", "stats"});
  EXPECT_EQ(no_period.exit_code, kExitUsage) << Shown(no_period);
  EXPECT_THAT(no_period.err, HasSubstr("stats --period=YYYY-MM"));
  CommandResult disagree =
      Yidictl("national", {"investigation", "stats", "--period=2026-01", "2026-02"});
  EXPECT_EQ(disagree.exit_code, kExitUsage) << Shown(disagree);
  CommandResult bad_period = Yidictl("national", {"investigation", "stats", "--period=2026-13"});
  EXPECT_EQ(bad_period.exit_code, kExitRemoteError) << Shown(bad_period);
  EXPECT_THAT(bad_period.out, HasSubstr("period"));
}

// Collaboration tickets: open (refusals first), list at both ends, reply, log, confirm; a
// second one extended, replied, disputed and raised to national; the overdue listing.
TEST_F(CollaborationE2eTest, TicketCommandsOpenReplyConfirmDisputeAndEscalate) {
  const std::string filing = CollaborationFile("ticket_filing");  // T-500000-0001 → Nanchang

  // Refusals: a hospital may not open tickets; the main issue is required.
  CommandResult hospital = Yidictl("municipal_500000", {"ticket", "open", filing},
                                   "institution_H50000000001");
  EXPECT_EQ(hospital.exit_code, kExitRemoteError) << Shown(hospital);
  EXPECT_THAT(hospital.out, HasSubstr("PERMISSION_DENIED"));
  const std::string no_issue = WriteInput("ticket-no-issue.textproto", R"pb(
    ticket_id: "T-E2E-NOISSUE"
    target { kind: NODE_KIND_MUNICIPAL region_code: "360100" }
    problem_type: TICKET_PROBLEM_TYPE_SYSTEM_FAILURE)pb");
  CommandResult missing = Yidictl("municipal_500000", {"ticket", "open", no_issue});
  EXPECT_EQ(missing.exit_code, kExitRemoteError) << Shown(missing);
  EXPECT_THAT(missing.out, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(missing.out, HasSubstr("main_issue"));

  CommandResult opened = Yidictl("municipal_500000", {"ticket", "open", filing});
  ASSERT_EQ(opened.exit_code, kExitOk) << Shown(opened);
  EXPECT_THAT(opened.out, HasSubstr("T-500000-0001"));
  EXPECT_THAT(opened.out, HasSubstr("FILING"));
  EXPECT_THAT(opened.out, HasSubstr("municipal 500000 → municipal 360100"));
  EXPECT_THAT(opened.out, HasSubstr("OPEN"));
  CommandResult at_target = Yidictl("municipal_360100", {"ticket", "list"});
  EXPECT_EQ(at_target.exit_code, kExitOk) << Shown(at_target);
  EXPECT_THAT(LineWith(at_target.out, "T-500000-0001"), HasSubstr("OPEN"));
  // Nothing is overdue on the day it is opened.
  CommandResult overdue = Yidictl("municipal_500000", {"ticket", "list", "overdue"});
  EXPECT_EQ(overdue.exit_code, kExitOk) << Shown(overdue);
  EXPECT_THAT(overdue.out, Not(HasSubstr("T-500000-0001")));
  CommandResult list_usage = Yidictl("municipal_500000", {"ticket", "list", "late"});
  EXPECT_EQ(list_usage.exit_code, kExitUsage) << Shown(list_usage);

  // Only the first responder replies; it logs its handling; the requester confirms.
  CommandResult wrong_end =
      Yidictl("municipal_500000", {"ticket", "reply", "T-500000-0001", "done"});
  EXPECT_EQ(wrong_end.exit_code, kExitRemoteError) << Shown(wrong_end);
  EXPECT_THAT(wrong_end.out, HasSubstr("only the first responder"));
  CommandResult logged = Yidictl("municipal_360100",
                                 {"ticket", "log", "T-500000-0001", "checked the upload queue"});
  EXPECT_EQ(logged.exit_code, kExitOk) << Shown(logged);
  CommandResult replied = Yidictl("municipal_360100",
                                  {"ticket", "reply", "T-500000-0001", "re-uploaded the filing"});
  ASSERT_EQ(replied.exit_code, kExitOk) << Shown(replied);
  EXPECT_THAT(replied.out, HasSubstr("REPLIED"));
  CommandResult confirmed = Yidictl("municipal_500000", {"ticket", "confirm", "T-500000-0001"});
  EXPECT_EQ(confirmed.exit_code, kExitOk) << Shown(confirmed);
  EXPECT_THAT(confirmed.out, HasSubstr("CONFIRMED"));
  CommandResult target_copy = Yidictl("municipal_360100", {"--text", "ticket", "list"});
  EXPECT_THAT(target_copy.out, HasSubstr("state: TICKET_STATE_CONFIRMED"));
  EXPECT_THAT(target_copy.out, HasSubstr("checked the upload queue"));

  // An "other" ticket with a 3-working-day limit; an agreed extension of 2 moves its due date.
  const std::string other = WriteInput("ticket-other.textproto", R"pb(
    ticket_id: "T-E2E-OTHER"
    target { kind: NODE_KIND_MUNICIPAL region_code: "360100" }
    main_issue: "结算数据不一致 (the day totals differ)"
    problem_type: TICKET_PROBLEM_TYPE_OTHER
    requested_working_days: 3)pb");
  CommandResult other_opened = Yidictl("municipal_500000", {"--text", "ticket", "open", other});
  ASSERT_EQ(other_opened.exit_code, kExitOk) << Shown(other_opened);
  const std::string due_before = LineWith(other_opened.out, "reply_due_date");
  CommandResult extended =
      Yidictl("municipal_500000", {"--text", "ticket", "extend", "T-E2E-OTHER", "2"});
  ASSERT_EQ(extended.exit_code, kExitOk) << Shown(extended);
  EXPECT_THAT(extended.out, HasSubstr("extension_working_days: 2"));
  EXPECT_NE(LineWith(extended.out, "reply_due_date"), due_before) << Shown(extended);
  CommandResult extend_usage =
      Yidictl("municipal_500000", {"ticket", "extend", "T-E2E-OTHER", "two"});
  EXPECT_EQ(extend_usage.exit_code, kExitUsage) << Shown(extend_usage);

  // Replied, disputed (with its reason), then raised to national (two provinces).
  ASSERT_EQ(Yidictl("municipal_360100", {"ticket", "reply", "T-E2E-OTHER", "totals match here"})
                .exit_code,
            kExitOk);
  CommandResult early_escalation =
      Yidictl("municipal_500000", {"ticket", "escalate", "T-E2E-OTHER", "T-E2E-UP"});
  EXPECT_EQ(early_escalation.exit_code, kExitRemoteError) << Shown(early_escalation);
  EXPECT_THAT(early_escalation.out, HasSubstr("only a disputed ticket"));
  CommandResult disputed = Yidictl(
      "municipal_500000", {"ticket", "dispute", "T-E2E-OTHER", "our totals still differ"});
  EXPECT_EQ(disputed.exit_code, kExitOk) << Shown(disputed);
  EXPECT_THAT(disputed.out, HasSubstr("DISPUTED"));
  CommandResult escalated =
      Yidictl("municipal_500000", {"ticket", "escalate", "T-E2E-OTHER", "T-E2E-UP"});
  ASSERT_EQ(escalated.exit_code, kExitOk) << Shown(escalated);
  EXPECT_THAT(escalated.out, HasSubstr("ESCALATED"));
  CommandResult at_national = Yidictl("national", {"ticket", "list"});
  EXPECT_EQ(at_national.exit_code, kExitOk) << Shown(at_national);
  EXPECT_THAT(LineWith(at_national.out, "T-E2E-UP"),
              HasSubstr("municipal 500000 → national "))
      << Shown(at_national);
  CommandResult up_reply =
      Yidictl("national", {"ticket", "reply", "T-E2E-UP", "national checked both sides"});
  EXPECT_EQ(up_reply.exit_code, kExitOk) << Shown(up_reply);
  EXPECT_THAT(up_reply.out, HasSubstr("REPLIED"));
  // An auditor may list but not act.
  CommandResult audited = Yidictl("municipal_500000", {"ticket", "list"}, "operator_auditor");
  EXPECT_EQ(audited.exit_code, kExitOk) << Shown(audited);
  EXPECT_THAT(audited.out, HasSubstr("T-E2E-UP"));
  CommandResult auditor_acts =
      Yidictl("municipal_500000", {"ticket", "confirm", "T-E2E-UP"}, "operator_auditor");
  EXPECT_EQ(auditor_acts.exit_code, kExitRemoteError) << Shown(auditor_acts);
  EXPECT_THAT(auditor_acts.out, HasSubstr("PERMISSION_DENIED"));
}

// Announcements: national's notice reaches every node below and a hospital's listing; a
// downtime window published by Jiangxi refuses Nanchang's ordinary calls with UNAVAILABLE and
// the notice's text, leaves its neighbours alone, and still lets announcements be read.
TEST_F(CollaborationE2eTest, AnnouncementsReachInstitutionsAndDowntimeRefusesCalls) {
  const std::string general = WriteInput("general.textproto", R"pb(
    announcement_id: "NHSA-E2E-0001"
    kind: ANNOUNCEMENT_KIND_POLICY
    title: "跨省直接结算政策调整"
    text: "门诊慢特病跨省直接结算扩大到10种 (ten chronic diseases)")pb");
  CommandResult hospital = Yidictl("municipal_360700", {"announcement", "publish", general},
                                   "institution_H36070000001");
  EXPECT_EQ(hospital.exit_code, kExitRemoteError) << Shown(hospital);
  EXPECT_THAT(hospital.out, HasSubstr("PERMISSION_DENIED"));
  const std::string untitled = WriteInput("untitled.textproto", R"pb(
    announcement_id: "NHSA-E2E-0002"
    kind: ANNOUNCEMENT_KIND_GENERAL
    text: "no title")pb");
  CommandResult missing = Yidictl("national", {"announcement", "publish", untitled});
  EXPECT_EQ(missing.exit_code, kExitRemoteError) << Shown(missing);
  EXPECT_THAT(missing.out, HasSubstr("announcement.title: required"));

  CommandResult published = Yidictl("national", {"announcement", "publish", general});
  ASSERT_EQ(published.exit_code, kExitOk) << Shown(published);
  EXPECT_THAT(published.out, Not(HasSubstr("undelivered"))) << Shown(published);
  for (const ProcessMesh::Node& node : mesh_->nodes()) {
    CommandResult listed = Yidictl(node.spec.name, {"announcement", "list"});
    EXPECT_EQ(listed.exit_code, kExitOk) << node.spec.name << Shown(listed);
    EXPECT_THAT(listed.out, HasSubstr("NHSA-E2E-0001")) << node.spec.name;
    EXPECT_THAT(listed.out, HasSubstr("跨省直接结算政策调整")) << node.spec.name;
  }
  // A hospital of Ganzhou reads it from its own node, as itself.
  CommandResult seen = Yidictl("municipal_360700", {"announcement", "list", "H36070000001"},
                               "institution_H36070000001");
  EXPECT_EQ(seen.exit_code, kExitOk) << Shown(seen);
  EXPECT_THAT(seen.out, HasSubstr("NHSA-E2E-0001"));
  EXPECT_THAT(seen.out, HasSubstr("POLICY"));

  // Jiangxi announces Nanchang's downtime from a minute ago for ten minutes.
  const absl::Time now = NodeNow();
  const std::string downtime = WriteInput(
      "downtime.textproto",
      absl::StrCat("announcement_id: \"JX-E2E-DOWN\"\n"
                   "kind: ANNOUNCEMENT_KIND_DOWNTIME\n"
                   "title: \"南昌市医保信息系统升级\"\n"
                   "text: \"暂停异地就医直接结算 (settlement in Nanchang pauses)\"\n"
                   "affected { kind: NODE_KIND_MUNICIPAL region_code: \"360100\" }\n"
                   "downtime_start: \"",
                   FormatCstTimestamp(now - absl::Minutes(1)), "\"\ndowntime_end: \"",
                   FormatCstTimestamp(now + absl::Minutes(10)), "\"\n"));
  CommandResult announced = Yidictl("provincial_360000", {"announcement", "publish", downtime});
  ASSERT_EQ(announced.exit_code, kExitOk) << Shown(announced);
  // An ordinary call at Nanchang: UNAVAILABLE with the notice.
  CommandResult info = Yidictl("municipal_360100", {"info"});
  EXPECT_EQ(info.exit_code, kExitRemoteError) << Shown(info);
  EXPECT_THAT(info.out, HasSubstr("ERROR UNAVAILABLE"));
  EXPECT_THAT(info.out, HasSubstr("municipal 360100 is down for maintenance until"));
  EXPECT_THAT(info.out, HasSubstr("南昌市医保信息系统升级"));
  EXPECT_THAT(info.out, HasSubstr("settlement in Nanchang pauses"));
  // A Nanchang hospital's bill is refused the same way, and nothing is settled.
  CommandResult settle = Yidictl(
      "municipal_360100", {"settle", "--request=" + Workload("02_cross_province_outpatient")},
      "institution_H36010000001");
  EXPECT_EQ(settle.exit_code, kExitRemoteError) << Shown(settle);
  EXPECT_THAT(settle.out, HasSubstr("UNAVAILABLE"));
  EXPECT_THAT(settle.out, HasSubstr("南昌市医保信息系统升级"));
  // Announcements stay readable there; Ganzhou next door is not affected.
  CommandResult listed = Yidictl("municipal_360100", {"announcement", "list"});
  EXPECT_EQ(listed.exit_code, kExitOk) << Shown(listed);
  EXPECT_THAT(listed.out, HasSubstr("JX-E2E-DOWN"));
  EXPECT_THAT(listed.out, HasSubstr("DOWNTIME"));
  CommandResult neighbour = Yidictl("municipal_360700", {"info"});
  EXPECT_EQ(neighbour.exit_code, kExitOk) << Shown(neighbour);
  EXPECT_THAT(neighbour.out, HasSubstr("region=360700"));
  // The downtime notice went to Jiangxi's cities only: Chongqing never saw it.
  CommandResult chongqing = Yidictl("municipal_500000", {"announcement", "list"});
  EXPECT_THAT(chongqing.out, Not(HasSubstr("JX-E2E-DOWN"))) << Shown(chongqing);
}

// One expected CSV line of the monitoring report, computed here from the slips.
struct ExpectedRow {
  std::string region;
  std::string care;  // "inpatient" / "outpatient"
  int64_t cases = 0;
  int64_t total_fen = 0;
  int64_t fund_fen = 0;

  void Add(const yidi::v1::SettlementResult& slip) {
    ++cases;
    total_fen += slip.total_fen();
    fund_fen += slip.fund_total_fen();
  }
  // region,month,care,cases,total,fund,average,(no previous month),(no year before),ratio
  std::string CsvLine(const std::string& month) const {
    const int64_t average = MulDivRoundHalfUp(total_fen, 1, cases);
    const int64_t ratio_bp = MulDivRoundHalfUp(fund_fen, kRatioFullBp, total_fen);
    return absl::StrCat(region, ",", month, ",", care, ",", cases, ",", FormatYuan(total_fen),
                        ",", FormatYuan(fund_fen), ",", FormatYuan(average), ",,,",
                        ratio_bp / 100, ".", absl::StrFormat("%02d", ratio_bp % 100));
  }
};

// The monitoring report of the month, as CSV and HTML, against the settlements the hospitals
// made: two inpatient stays in Chongqing (cases 01 and 07) and an outpatient visit in Nanchang
// (case 02), by treatment region and by insured region.
TEST_F(CollaborationE2eTest, MonitoringReportMatchesTheSettlements) {
  for (const char* workload : {"01_cross_province_inpatient", "07_resident_big_bill",
                               "02_cross_province_outpatient"}) {
    HospitalSettles(workload);
    ASSERT_FALSE(HasFailure()) << workload;
  }
  const auto slip01 = RecordAt("national", "H50000000001-20261017-0001");
  const auto slip07 = RecordAt("national", "H50000000001-20260724-0001");
  const auto slip02 = RecordAt("national", "H36010000001-20260615-0001");
  ASSERT_FALSE(HasFailure());
  const std::string month = slip01.settlement_date().substr(0, 7);
  ASSERT_EQ(slip07.settlement_date().substr(0, 7), month) << "settled across a month end";
  ASSERT_EQ(slip02.settlement_date().substr(0, 7), month) << "settled across a month end";

  ExpectedRow chongqing_inpatient{"500000", "inpatient"};
  chongqing_inpatient.Add(slip01);
  chongqing_inpatient.Add(slip07);
  ExpectedRow nanchang_outpatient{"360100", "outpatient"};
  nanchang_outpatient.Add(slip02);
  const std::string header =
      "region_code,month,care_kind,cases,total_yuan,fund_yuan,average_cost_yuan,"
      "month_change_percent,year_change_percent,reimbursement_ratio_percent\n";

  // CSV (the default) at national: exactly the two treatment regions, sorted by region.
  CommandResult csv = Yidictl("national", {"monitoring", "report", month});
  ASSERT_EQ(csv.exit_code, kExitOk) << Shown(csv);
  EXPECT_EQ(csv.out, absl::StrCat(header, nanchang_outpatient.CsvLine(month), "\n",
                                  chongqing_inpatient.CsvLine(month), "\n"));
  // One region.
  CommandResult one = Yidictl("national", {"monitoring", "report", month, "csv", "500000"});
  ASSERT_EQ(one.exit_code, kExitOk) << Shown(one);
  EXPECT_EQ(one.out, absl::StrCat(header, chongqing_inpatient.CsvLine(month), "\n"));
  // By insured region: Nanchang paid for case 01, Shenyang for cases 07 and 02.
  ExpectedRow nanchang_insured{"360100", "inpatient"};
  nanchang_insured.Add(slip01);
  ExpectedRow shenyang_inpatient{"210100", "inpatient"};
  shenyang_inpatient.Add(slip07);
  ExpectedRow shenyang_outpatient{"210100", "outpatient"};
  shenyang_outpatient.Add(slip02);
  CommandResult insured =
      Yidictl("national", {"monitoring", "report", month, "csv", "-", "insured"});
  ASSERT_EQ(insured.exit_code, kExitOk) << Shown(insured);
  EXPECT_EQ(insured.out,
            absl::StrCat(header, shenyang_inpatient.CsvLine(month), "\n",
                         shenyang_outpatient.CsvLine(month), "\n",
                         nanchang_insured.CsvLine(month), "\n"));
  // The treatment city's own node sees its own settlements the same way.
  CommandResult city = Yidictl("municipal_500000", {"monitoring", "report", month});
  ASSERT_EQ(city.exit_code, kExitOk) << Shown(city);
  EXPECT_EQ(city.out, absl::StrCat(header, chongqing_inpatient.CsvLine(month), "\n"));

  // The printable page: A4 landscape, no scripts, the same figures.
  CommandResult html = Yidictl("national", {"monitoring", "report", month, "html"});
  ASSERT_EQ(html.exit_code, kExitOk) << Shown(html);
  EXPECT_THAT(html.out, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(html.out, HasSubstr("size:A4 landscape"));
  EXPECT_THAT(html.out, Not(HasSubstr("<script")));
  const int64_t average = MulDivRoundHalfUp(chongqing_inpatient.total_fen, 1, 2);
  const std::string row = LineWith(html.out, "<td>500000</td>");
  EXPECT_THAT(row, HasSubstr("住院 inpatient"));
  EXPECT_THAT(row, HasSubstr(absl::StrCat("<td class=\"n\">2</td><td class=\"n\">",
                                          FormatYuan(chongqing_inpatient.total_fen), "</td>")));
  EXPECT_THAT(row, HasSubstr(absl::StrCat("<td class=\"n\">", FormatYuan(average), "</td>")));
  EXPECT_THAT(LineWith(html.out, "<td>360100</td>"), HasSubstr("门诊 outpatient"));

  // Refusals: a bad month names the field; a hospital may not read the report.
  CommandResult bad_month = Yidictl("national", {"monitoring", "report", "2026-13"});
  EXPECT_EQ(bad_month.exit_code, kExitRemoteError) << Shown(bad_month);
  EXPECT_THAT(bad_month.out, HasSubstr("INVALID_ARGUMENT: month"));
  CommandResult hospital = Yidictl("municipal_500000", {"monitoring", "report", month},
                                   "institution_H50000000001");
  EXPECT_EQ(hospital.exit_code, kExitRemoteError) << Shown(hospital);
  EXPECT_THAT(hospital.out, HasSubstr("PERMISSION_DENIED"));
  CommandResult usage = Yidictl("national", {"monitoring", "report"});
  EXPECT_EQ(usage.exit_code, kExitUsage) << Shown(usage);
}

}  // namespace
}  // namespace yidi::testing
