// The monthly clearing and reconciliation commands of yidictl (issue 6: `yidictl clearing
// run|status|confirm|dispute|notices|declare|submit-claims|claims|forward`, `yidictl reconcile
// institution|totals|run`) through the REAL yidictl binary against the REAL node binaries: the
// demo mesh of 8 processes on 127.0.0.1 (tests/testing/process_mesh.h), mutual TLS.
//
// Time: the nodes are started with --clock_start (ProcessMesh::SetClockStart), so the mesh is
// put on the days the cycle needs and restarted between them, keeping its databases:
//   2026-10-12  hospitals settle (cross-province at Chongqing, intra-province at Ganzhou);
//   2026-11-20  the build is refused (declarations close on the 20th); institutions confirm
//               their day; the treatment city declares, its province submits the claims;
//   2026-11-23  national builds; provinces confirm / dispute;
//   2026-11-27  after confirm_by: the run advances to the notices; a province forwards them.
// The amounts expected are computed from what the hospitals' settle slips printed (基金支付合计 =
// fund_total + personal_account), never read back from a node. Demo cases: 01 (Nanchang insured
// at Chongqing), 07 (Shenyang insured at Chongqing), 08 (Nanchang insured at Ganzhou,
// intra-province). Not driven here: reversals and deductions in the cycle (clearing_mesh_test,
// month_simulation_test cover them in-process).
//
// Every assertion is on yidictl's exit code (0 done, 1 usage, 2 the node refused) and on what
// it printed. The mesh's folder (configs, databases, node logs, every yidictl output) is kept
// when the test fails.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/config.h"
#include "common/money.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/in_process_mesh.h"
#include "tests/testing/process_mesh.h"
#include "yidi/v1/settlement.pb.h"

namespace yidi::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// yidictl's exit codes (tools/yidictl/command.h).
constexpr int kExitOk = 0;
constexpr int kExitUsage = 1;
constexpr int kExitRemoteError = 2;

// The days the mesh is put on (China Standard Time).
constexpr char kSettleDay[] = "2026-10-12T10:00:00+08:00";
constexpr char kBeforeBuild[] = "2026-11-20T10:00:00+08:00";
constexpr char kBuildDay[] = "2026-11-23T10:00:00+08:00";
constexpr char kAfterConfirmBy[] = "2026-11-27T10:00:00+08:00";
constexpr char kMonth[] = "--month=2026-10";
constexpr char kDay[] = "--day=2026-10-12";

std::string Workload(const std::string& name) {
  return absl::StrCat(DemoDir(), "/workload/", name, ".textproto");
}

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

// The amount in 元 ending the slip line labelled `label`, in fen; -1 when absent or unreadable.
int64_t SlipFen(const std::string& slip, const std::string& label) {
  const std::string line = LineWith(slip, label);
  if (line.empty()) return -1;
  std::vector<absl::string_view> words =
      absl::StrSplit(line, ' ', absl::SkipWhitespace());
  absl::string_view yuan = words.back();
  const bool negative = absl::ConsumePrefix(&yuan, "-");
  std::vector<absl::string_view> parts = absl::StrSplit(yuan, '.');
  int64_t whole = 0, cents = 0;
  if (parts.size() != 2 || parts[1].size() != 2 || !absl::SimpleAtoi(parts[0], &whole) ||
      !absl::SimpleAtoi(parts[1], &cents)) {
    return -1;
  }
  return (negative ? -1 : 1) * (whole * 100 + cents);
}

// What one hospital's settle slip said.
struct Slip {
  std::string institution;
  std::string insured_region;
  std::string treatment_region;
  int64_t total_fen = 0;     // 总费用
  int64_t slip_fund_fen = 0; // 基金支付合计 = fund_total + personal_account
  int64_t account_fen = 0;   // 个人账户
};

class ClearingE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ProcessMesh::Options options;
    options.name = "clearing-e2e";
    auto mesh = ProcessMesh::Create(options);
    ASSERT_TRUE(mesh.ok()) << mesh.status();
    mesh_ = std::move(*mesh);
    const absl::Status auditor =
        mesh_->IssueIdentity("operator_auditor", "yidi://operator/auditor?role=auditor");
    ASSERT_TRUE(auditor.ok()) << auditor;
  }

  void TearDown() override {
    if (HasFailure() && mesh_ != nullptr) mesh_->KeepFiles();
  }

  // Stops every node and starts the mesh again on `rfc3339` (same configs, same databases).
  void RestartOn(const std::string& rfc3339) {
    mesh_->StopAll();
    mesh_->SetClockStart(rfc3339);
    const absl::Status started = mesh_->StartAll();
    ASSERT_TRUE(started.ok()) << started;
  }

  CommandResult Yidictl(const std::string& node, const std::vector<std::string>& args,
                        const std::string& identity = "operator_admin") {
    return mesh_->Yidictl(node, args, identity);
  }

  // The hospital of a workload case settles it at its own municipal node, as itself.
  Slip HospitalSettles(const std::string& workload) {
    yidi::v1::SettleRequest request;
    const absl::Status loaded = LoadTextProtoFile(Workload(workload), &request);
    EXPECT_TRUE(loaded.ok()) << loaded;
    Slip slip;
    slip.institution = request.visit().institution_code();
    slip.insured_region = request.insured_region();
    slip.treatment_region = request.treatment_region();
    const CommandResult settled =
        Yidictl(absl::StrCat("municipal_", request.treatment_region()),
                {"settle", "--request=" + Workload(workload)},
                absl::StrCat("institution_", slip.institution));
    EXPECT_EQ(settled.exit_code, kExitOk) << Shown(settled);
    EXPECT_THAT(settled.out, HasSubstr("SETTLED")) << Shown(settled);
    slip.total_fen = SlipFen(settled.out, "总费用");
    slip.slip_fund_fen = SlipFen(settled.out, "基金支付合计");
    slip.account_fen = SlipFen(settled.out, "个人账户 personal account");
    EXPECT_GT(slip.total_fen, 0) << Shown(settled);
    EXPECT_GE(slip.slip_fund_fen, 0) << Shown(settled);
    EXPECT_GE(slip.account_fen, 0) << Shown(settled);
    return slip;
  }

  std::unique_ptr<ProcessMesh> mesh_;
};

TEST_F(ClearingE2eTest, OctoberIsSettledClaimedBuiltRepliedAndNoticed) {
  // ---- 2026-10-12: hospitals settle.
  mesh_->SetClockStart(kSettleDay);
  const absl::Status started = mesh_->StartAll();
  ASSERT_TRUE(started.ok()) << started;
  // Chongqing's hospital treats a Nanchang (Jiangxi) and a Shenyang (Liaoning) insured person;
  // Ganzhou's hospital a Nanchang insured person (intra-province, cleared by Jiangxi).
  const Slip jiangxi = HospitalSettles("01_cross_province_inpatient");
  const Slip liaoning = HospitalSettles("07_resident_big_bill");
  const Slip intra = HospitalSettles("08_employee_several_funds");
  ASSERT_FALSE(HasFailure());
  const int64_t cross_fen = jiangxi.slip_fund_fen + liaoning.slip_fund_fen;

  // ---- 2026-11-20: too early to build; institutions confirm; claims go up.
  RestartOn(kBeforeBuild);
  ASSERT_FALSE(HasFailure());
  CommandResult early = Yidictl("national", {"clearing", "run", kMonth});
  EXPECT_EQ(early.exit_code, kExitRemoteError) << Shown(early);
  EXPECT_THAT(early.output, HasSubstr("FAILED_PRECONDITION")) << Shown(early);
  EXPECT_THAT(early.output, HasSubstr("declarations close on the 20th")) << Shown(early);

  // The institutions' day totals (reconcile institution, as the hospital itself).
  auto confirm_day = [&](const std::string& node, const std::vector<Slip>& slips) {
    int64_t total = 0, fund = 0, account = 0;
    for (const Slip& s : slips) {
      total += s.total_fen;
      fund += s.slip_fund_fen - s.account_fen;
      account += s.account_fen;
    }
    const std::string code = slips.front().institution;
    CommandResult result = Yidictl(
        node,
        {"reconcile", "institution", kDay, "--institution=" + code,
         absl::StrCat("--request_id=", code, "-e2e-20261012"),
         absl::StrCat("--count=", slips.size()), absl::StrCat("--total_fen=", total),
         absl::StrCat("--fund_fen=", fund), absl::StrCat("--account_fen=", account)},
        "institution_" + code);
    EXPECT_EQ(result.exit_code, kExitOk) << Shown(result);
    EXPECT_THAT(result.out, HasSubstr("matched")) << Shown(result);
    EXPECT_THAT(result.out, HasSubstr(absl::StrCat(slips.size(), " confirmed"))) << Shown(result);
  };
  // A wrong count first: a mismatch (exit 2), nothing confirmed.
  CommandResult wrong = Yidictl(
      "municipal_500000",
      {"reconcile", "institution", kDay, "--institution=H50000000001",
       "--request_id=H50000000001-e2e-wrong", "--count=1",
       absl::StrCat("--total_fen=", jiangxi.total_fen),
       absl::StrCat("--fund_fen=", jiangxi.slip_fund_fen - jiangxi.account_fen),
       absl::StrCat("--account_fen=", jiangxi.account_fen)},
      "institution_H50000000001");
  EXPECT_EQ(wrong.exit_code, kExitRemoteError) << Shown(wrong);
  EXPECT_THAT(wrong.out, HasSubstr("MISMATCH")) << Shown(wrong);
  confirm_day("municipal_500000", {jiangxi, liaoning});
  confirm_day("municipal_360700", {intra});

  CommandResult declared = Yidictl("municipal_500000", {"clearing", "declare", kMonth});
  EXPECT_EQ(declared.exit_code, kExitOk) << Shown(declared);
  EXPECT_THAT(declared.out, HasSubstr("batch ")) << Shown(declared);
  EXPECT_THAT(declared.out, HasSubstr(FormatYuan(jiangxi.slip_fund_fen))) << Shown(declared);
  EXPECT_THAT(declared.out, HasSubstr(FormatYuan(liaoning.slip_fund_fen))) << Shown(declared);
  CommandResult submitted = Yidictl("provincial_500000", {"clearing", "submit-claims", kMonth});
  EXPECT_EQ(submitted.exit_code, kExitOk) << Shown(submitted);
  EXPECT_THAT(submitted.out, HasSubstr(FormatYuan(cross_fen))) << Shown(submitted);
  CommandResult claims = Yidictl("provincial_500000", {"clearing", "claims", kMonth});
  EXPECT_EQ(claims.exit_code, kExitOk) << Shown(claims);
  EXPECT_THAT(claims.out, HasSubstr("210100 → 500000")) << Shown(claims);
  EXPECT_THAT(claims.out, HasSubstr("360100 → 500000")) << Shown(claims);
  EXPECT_THAT(claims.out, HasSubstr("2 claims;")) << Shown(claims);
  EXPECT_THAT(claims.out, HasSubstr("forwarded")) << Shown(claims);
  CommandResult bad_claims = Yidictl("provincial_500000", {"clearing", "claims", "--month=2026"});
  EXPECT_EQ(bad_claims.exit_code, kExitUsage) << Shown(bad_claims);

  // ---- 2026-11-23: national builds; provinces reply.
  RestartOn(kBuildDay);
  ASSERT_FALSE(HasFailure());
  CommandResult built = Yidictl("national", {"clearing", "run", kMonth});
  ASSERT_EQ(built.exit_code, kExitOk) << Shown(built);
  EXPECT_THAT(built.out, HasSubstr("BUILT")) << Shown(built);
  CommandResult status = Yidictl("national", {"clearing", "status", kMonth});
  EXPECT_EQ(status.exit_code, kExitOk) << Shown(status);
  EXPECT_THAT(status.out, HasSubstr("2 settlements, covered " + FormatYuan(cross_fen) + " 元"))
      << Shown(status);
  EXPECT_THAT(status.out, HasSubstr("replies by 2026-11-25")) << Shown(status);
  EXPECT_THAT(status.out, HasSubstr(absl::StrCat("210100 → 500000 居民: 1 settlements, ",
                                                 FormatYuan(liaoning.slip_fund_fen))))
      << Shown(status);
  EXPECT_THAT(status.out, HasSubstr(absl::StrCat("360100 → 500000 职工: 1 settlements, ",
                                                 FormatYuan(jiangxi.slip_fund_fen))))
      << Shown(status);
  // The intra-province case is Jiangxi's to clear, not national's.
  EXPECT_THAT(status.out, Not(HasSubstr("360100 → 360700"))) << Shown(status);
  CommandResult jiangxi_status = Yidictl("provincial_360000", {"clearing", "run", kMonth});
  EXPECT_EQ(jiangxi_status.exit_code, kExitOk) << Shown(jiangxi_status);
  EXPECT_THAT(jiangxi_status.out, HasSubstr(FormatYuan(intra.slip_fund_fen)))
      << Shown(jiangxi_status);

  CommandResult bad_month = Yidictl("national", {"clearing", "run", "--month=202610"});
  EXPECT_EQ(bad_month.exit_code, kExitUsage) << Shown(bad_month);
  EXPECT_THAT(bad_month.err, HasSubstr("usage: yidictl clearing run")) << Shown(bad_month);
  CommandResult no_month = Yidictl("national", {"clearing", "status"});
  EXPECT_EQ(no_month.exit_code, kExitUsage) << Shown(no_month);

  CommandResult auditor =
      Yidictl("national", {"clearing", "confirm", "360000", kMonth}, "operator_auditor");
  EXPECT_EQ(auditor.exit_code, kExitRemoteError) << Shown(auditor);
  EXPECT_THAT(auditor.output, HasSubstr("PERMISSION_DENIED")) << Shown(auditor);
  CommandResult confirmed = Yidictl("national", {"clearing", "confirm", "360000", kMonth});
  EXPECT_EQ(confirmed.exit_code, kExitOk) << Shown(confirmed);
  EXPECT_THAT(confirmed.out, HasSubstr("360000 confirmed the 2026-10 clearing")) << Shown(confirmed);
  CommandResult again = Yidictl("national", {"clearing", "confirm", "360000", kMonth});
  EXPECT_EQ(again.exit_code, kExitOk) << Shown(again);
  EXPECT_THAT(again.out, HasSubstr("(replay)")) << Shown(again);
  CommandResult no_reason = Yidictl("national", {"clearing", "dispute", "210000", kMonth});
  EXPECT_EQ(no_reason.exit_code, kExitUsage) << Shown(no_reason);
  CommandResult disputed = Yidictl(
      "national", {"clearing", "dispute", "210000", "case 07 amount under review", kMonth});
  EXPECT_EQ(disputed.exit_code, kExitOk) << Shown(disputed);
  EXPECT_THAT(disputed.out, HasSubstr("210000 disputed")) << Shown(disputed);
  CommandResult after_replies = Yidictl("national", {"clearing", "status", kMonth});
  EXPECT_EQ(after_replies.exit_code, kExitOk) << Shown(after_replies);
  EXPECT_THAT(after_replies.out, HasSubstr("reply 360000: confirmed")) << Shown(after_replies);
  EXPECT_THAT(after_replies.out, HasSubstr("reply 210000: disputed on"))
      << Shown(after_replies);
  EXPECT_THAT(after_replies.out, HasSubstr("case 07 amount under review"))
      << Shown(after_replies);

  // ---- 2026-11-27: after confirm_by. Liaoning's dispute is resolved, the run issues notices.
  RestartOn(kAfterConfirmBy);
  ASSERT_FALSE(HasFailure());
  CommandResult resolved = Yidictl("national", {"clearing", "confirm", "210000", kMonth});
  EXPECT_EQ(resolved.exit_code, kExitOk) << Shown(resolved);
  CommandResult advanced = Yidictl("national", {"clearing", "run", kMonth});
  EXPECT_EQ(advanced.exit_code, kExitOk) << Shown(advanced);
  EXPECT_THAT(advanced.out, HasSubstr("NOTICES_ISSUED")) << Shown(advanced);
  EXPECT_THAT(advanced.out, HasSubstr("issued on 2026-11-27")) << Shown(advanced);
  EXPECT_THAT(advanced.out, HasSubstr("reply 210000: confirmed on 2026-11-27")) << Shown(advanced);
  // Chongqing never replied: silent by confirm_by counts as confirmed.
  EXPECT_THAT(advanced.out, HasSubstr("reply 500000: silent (confirmed)")) << Shown(advanced);
  EXPECT_THAT(advanced.out, HasSubstr("obligation CL-2026-10-360000-500000")) << Shown(advanced);
  EXPECT_THAT(advanced.out, HasSubstr("obligation CL-2026-10-210000-500000")) << Shown(advanced);
  CommandResult notices = Yidictl("national", {"clearing", "notices", kMonth});
  EXPECT_EQ(notices.exit_code, kExitOk) << Shown(notices);
  // The matrix row of Chongqing (receiving from Liaoning, Jiangxi), the payment notices of the
  // two insured provinces and Chongqing's receipt notice, each with the slips' amounts.
  const std::string liaoning_yuan = FormatYuan(liaoning.slip_fund_fen);
  const std::string jiangxi_yuan = FormatYuan(jiangxi.slip_fund_fen);
  const std::string cross_yuan = FormatYuan(cross_fen);
  // The CSV documents end their lines with CRLF (RFC 4180).
  const std::string text = absl::StrReplaceAll(notices.out, {{"\r", ""}});
  EXPECT_THAT(text, HasSubstr(absl::StrCat("重庆市,", liaoning_yuan, ",", jiangxi_yuan,
                                           ",——,", cross_yuan)))
      << Shown(notices);
  EXPECT_THAT(text, HasSubstr("跨省异地就医费用付款通知书\n辽宁省医疗保障经办机构："))
      << Shown(notices);
  EXPECT_THAT(text,
              HasSubstr(absl::StrCat("2026年10月跨省异地就医费用", liaoning_yuan, "元及时拨付")))
      << Shown(notices);
  EXPECT_THAT(text,
              HasSubstr(absl::StrCat("2026年10月跨省异地就医费用", jiangxi_yuan, "元及时拨付")))
      << Shown(notices);
  EXPECT_THAT(text, HasSubstr("跨省异地就医费用收款通知书\n重庆市医疗保障经办机构："))
      << Shown(notices);
  EXPECT_THAT(text, HasSubstr(absl::StrCat("你单位应收跨省异地就医费用", cross_yuan, "元")))
      << Shown(notices);
  EXPECT_THAT(text, HasSubstr(absl::StrCat("辽宁省,", liaoning_yuan, "\n江西省,",
                                           jiangxi_yuan, "\n合计,", cross_yuan)))
      << Shown(notices);
  CommandResult bad_tables =
      Yidictl("national", {"clearing", "notices", kMonth, "--clearing_tables=nope"});
  EXPECT_EQ(bad_tables.exit_code, kExitUsage) << Shown(bad_tables);
  CommandResult forwarded = Yidictl("provincial_360000", {"clearing", "forward", kMonth});
  EXPECT_EQ(forwarded.exit_code, kExitOk) << Shown(forwarded);
  EXPECT_THAT(forwarded.out, HasSubstr("forwarding of 2026-10 at 360000")) << Shown(forwarded);
  EXPECT_THAT(forwarded.out, HasSubstr(absl::StrCat("payable ", jiangxi_yuan, " 元")))
      << Shown(forwarded);
  EXPECT_THAT(forwarded.out, HasSubstr(absl::StrCat("360100 payment: ", jiangxi_yuan, " 元")))
      << Shown(forwarded);

  // ---- Reconciliation of the settlement day at national.
  CommandResult totals = Yidictl("national", {"reconcile", "totals", kDay});
  EXPECT_EQ(totals.exit_code, kExitOk) << Shown(totals);
  // One row per pair (insured → Chongqing): count 1, the slip's total, fund and account.
  for (const Slip* s : {&jiangxi, &liaoning}) {
    const std::string row = LineWith(totals.out, s->insured_region + " ");
    EXPECT_THAT(row, HasSubstr(s->treatment_region)) << Shown(totals);
    EXPECT_THAT(row, HasSubstr(FormatYuan(s->total_fen))) << Shown(totals);
    EXPECT_THAT(row, HasSubstr(FormatYuan(s->slip_fund_fen - s->account_fen))) << Shown(totals);
  }
  CommandResult reconciled = Yidictl("national", {"reconcile", "run", kDay});
  EXPECT_EQ(reconciled.exit_code, kExitOk) << Shown(reconciled);
  EXPECT_THAT(reconciled.out, HasSubstr("BALANCED")) << Shown(reconciled);
  EXPECT_THAT(reconciled.out, HasSubstr("differences 0")) << Shown(reconciled);
  CommandResult no_day = Yidictl("national", {"reconcile", "run"});
  EXPECT_EQ(no_day.exit_code, kExitUsage) << Shown(no_day);
  EXPECT_THAT(no_day.output, HasSubstr("--day=YYYY-MM-DD is required")) << Shown(no_day);
}

}  // namespace
}  // namespace yidi::testing
