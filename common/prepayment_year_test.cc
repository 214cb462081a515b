// A year in the simulator: five nodes (national, Liaoning 210000, Jiangxi 360000, Shenyang
// 210100, Nanchang 360100) served over gRPC on loopback with their Ledger, Prepayment and
// Directory services, one shared FakeClock walking through 2026 and the shipped 2025/2026
// calendars and prepayment policies. Last year's settlements are seeded into the issuers'
// settlement_record tables. January: quotas and notices at every level, paid and confirmed
// at the paying and receiving nodes (forwarded up to the issuer); each month: the clearings
// national signs (an input until monthly clearing lands), paid and confirmed before their
// pay-by dates (January to October: November's, signed in late December, needs the 2027
// calendar); May's costs turn red, Liaoning applies within 3 working days, Jiangxi pays the
// increase before the next clearing; one clearing is paid late and shows so many working days
// late; December: the year-end entries. After every month every ledger's trial balance is
// even and each pair's mirror accounts agree.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/grpc_status.h"
#include "common/ledger.h"
#include "common/ledger_service.h"
#include "common/log.h"
#include "common/node.h"
#include "common/node_services.h"
#include "common/prepayment_service.h"
#include "common/settlement_record.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "yidi/v1/ledger.grpc.pb.h"
#include "yidi/v1/prepayment.grpc.pb.h"

namespace yidi {
namespace {

using ::testing::HasSubstr;
using yidi::v1::NodeKind;

constexpr int64_t kWan = 1'000'000;  // fen per 万元

absl::CivilDay Day(absl::string_view text) { return *ParseDate(text); }

std::vector<int> FreePorts(int count) {
  std::vector<int> fds, ports;
  for (int i = 0; i < count; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    socklen_t length = sizeof(address);
    EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
    fds.push_back(fd);
    ports.push_back(ntohs(address.sin_port));
  }
  for (int fd : fds) ::close(fd);
  return ports;
}

struct SimNode {
  NodeKind kind;
  std::string region;
  std::string policy;  // deploy/prepayment/<policy>.textproto, "" = national rules
  std::string address;
  std::unique_ptr<NodeContext> context;
  std::vector<std::unique_ptr<grpc::Service>> services;
  std::unique_ptr<NodeServer> server;
  std::unique_ptr<yidi::v1::PrepaymentService::Stub> prepayment;
  std::unique_ptr<yidi::v1::LedgerService::Stub> ledger;
};

class YearSimulationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogLevel(LogLevel::kWarning);
    nodes_.push_back({NodeKind::NODE_KIND_NATIONAL, "000000", "national"});
    nodes_.push_back({NodeKind::NODE_KIND_PROVINCIAL, "210000", "liaoning"});
    nodes_.push_back({NodeKind::NODE_KIND_PROVINCIAL, "360000", "jiangxi"});
    nodes_.push_back({NodeKind::NODE_KIND_MUNICIPAL, "210100", ""});
    nodes_.push_back({NodeKind::NODE_KIND_MUNICIPAL, "360100", ""});
    const std::vector<int> ports = FreePorts(static_cast<int>(nodes_.size()));
    yidi::v1::Directory directory;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      nodes_[i].address = absl::StrCat("127.0.0.1:", ports[i]);
      auto* region = directory.add_regions();
      region->set_code(nodes_[i].region);
      region->set_kind(nodes_[i].kind);
      region->set_address(nodes_[i].address);
      region->set_name(absl::StrCat("region ", nodes_[i].region));
    }
    for (SimNode& node : nodes_) {
      yidi::v1::NodeConfig config;
      config.set_kind(node.kind);
      config.set_region_code(node.region);
      config.set_listen_address(node.address);
      config.set_database_url("sqlite::memory:");
      config.set_forward_deadline_ms(5000);
      config.set_plaintext(true);
      config.add_calendar_files("../calendar/2025.textproto");
      config.add_calendar_files("../calendar/2026.textproto");
      if (!node.policy.empty()) {
        config.set_prepayment_policy_file(
            absl::StrCat("../prepayment/", node.policy, ".textproto"));
      }
      auto context = MakeNodeContext(
          config, directory, absl::StrCat(YIDI_SOURCE_DIR, "/deploy/demo"), "", &clock_, {});
      ASSERT_TRUE(context.ok()) << context.status();
      node.context = std::move(*context);
      node.services.push_back(std::make_unique<NodeDirectoryService>(node.context.get()));
      node.services.push_back(std::make_unique<NodeLedgerService>(node.context.get()));
      node.services.push_back(std::make_unique<NodePrepaymentService>(node.context.get()));
      std::vector<grpc::Service*> raw;
      for (auto& service : node.services) raw.push_back(service.get());
      auto server = NodeServer::Start(node.address, raw, 0);
      ASSERT_TRUE(server.ok()) << server.status();
      node.server = std::move(*server);
      auto channel = MakeChannel(node.address);
      node.prepayment = yidi::v1::PrepaymentService::NewStub(channel);
      node.ledger = yidi::v1::LedgerService::NewStub(channel);
    }
  }

  void TearDown() override {
    for (SimNode& node : nodes_) {
      if (node.server != nullptr) node.server->Shutdown(absl::ZeroDuration());
    }
  }

  SimNode& Node(absl::string_view region) {
    for (SimNode& node : nodes_) {
      if (node.region == region) return node;
    }
    ADD_FAILURE() << "no node " << region;
    return nodes_.front();
  }

  void Today(absl::CivilDay day) {
    clock_.Set(absl::FromCivil(absl::CivilSecond(day) + 10 * 3600, ChinaStandardTime()));
  }

  std::unique_ptr<grpc::ClientContext> Call() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return context;
  }

  // Last year's settlement at an issuer (what its settlement_record would hold).
  void Seed(absl::string_view issuer, absl::string_view date, absl::string_view insured,
            absl::string_view treatment, int64_t fund_fen) {
    SettlementRecord record;
    record.settlement_id = absl::StrCat("seed-", ++seeded_);
    record.kind = yidi::v1::SETTLEMENT_KIND_NORMAL;
    record.request_digest = "seed";
    record.state = yidi::v1::SETTLEMENT_STATE_SETTLED;
    record.insured_region = std::string(insured);
    record.treatment_region = std::string(treatment);
    record.institution_code = "H";
    yidi::v1::SettlementResult result;
    result.set_fund_total_fen(fund_fen);
    result.set_settlement_date(std::string(date));
    record.result = result;
    auto tx = Node(issuer).context->store->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(InsertSettlementRecord(**tx, record, clock_.Now()).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  yidi::v1::ComputeQuotasResponse Compute(absl::string_view issuer, absl::string_view day) {
    Today(Day(day));
    yidi::v1::ComputeQuotasRequest request;
    request.set_year(2026);
    yidi::v1::ComputeQuotasResponse response;
    auto context = Call();
    grpc::Status status = Node(issuer).prepayment->ComputeQuotas(context.get(), request, &response);
    EXPECT_TRUE(status.ok()) << issuer << ": " << status.error_message();
    return response;
  }

  // The payer pays on `day` at its own node; the receiver confirms on `day` at its own node.
  void PayAndConfirm(const yidi::v1::TransferObligation& obligation, absl::CivilDay day) {
    Today(day);
    yidi::v1::RecordPaymentRequest pay;
    pay.set_obligation_id(obligation.obligation_id());
    pay.mutable_payment()->set_bank_name(absl::StrCat("bank of ", obligation.payer_region()));
    pay.mutable_payment()->set_transaction_serial_number(
        absl::StrCat("TX", obligation.obligation_id()));
    pay.mutable_payment()->set_transaction_date(FormatDate(day));
    yidi::v1::RecordPaymentResponse paid;
    auto context = Call();
    grpc::Status status =
        Node(obligation.payer_region()).prepayment->RecordPayment(context.get(), pay, &paid);
    ASSERT_TRUE(status.ok()) << obligation.obligation_id() << ": " << status.error_message();
    EXPECT_EQ(paid.ledger_transfer_id(), absl::StrCat(obligation.obligation_id(), "/paid"));
    EXPECT_NE(paid.obligation().state(), yidi::v1::OBLIGATION_STATE_OPEN);
    yidi::v1::RecordReceiptRequest receive;
    receive.set_obligation_id(obligation.obligation_id());
    yidi::v1::RecordReceiptResponse received;
    auto context2 = Call();
    status = Node(obligation.receiver_region())
                 .prepayment->RecordReceipt(context2.get(), receive, &received);
    ASSERT_TRUE(status.ok()) << obligation.obligation_id() << ": " << status.error_message();
    EXPECT_EQ(received.ledger_transfer_id(), absl::StrCat(obligation.obligation_id(), "/received"));
    EXPECT_EQ(received.obligation().received_date(), FormatDate(day));
  }

  yidi::v1::RecordClearingResponse Clear(
      absl::string_view issuer, absl::CivilDay signed_day, absl::string_view month,
      absl::string_view payer, absl::string_view receiver, int64_t fen, int64_t uncleared_fen = 0,
      yidi::v1::QuotaScope scope = yidi::v1::QUOTA_SCOPE_UNSPECIFIED) {
    Today(signed_day);
    yidi::v1::RecordClearingRequest request;
    request.set_clearing_month(std::string(month));
    request.set_payer_region(std::string(payer));
    request.set_receiver_region(std::string(receiver));
    request.set_clearing_fen(fen);
    request.set_uncleared_fen(uncleared_fen);
    request.set_scope(scope);
    yidi::v1::RecordClearingResponse response;
    auto context = Call();
    grpc::Status status =
        Node(issuer).prepayment->RecordClearing(context.get(), request, &response);
    EXPECT_TRUE(status.ok()) << month << " " << payer << "→" << receiver << ": "
                             << status.error_message();
    return response;
  }

  // Every node's trial balance is even (over gRPC); each pair's movements and prepayment
  // accounts mirror each other once both sides have posted (white-box, on the stores).
  void CheckLedgers(absl::string_view when) {
    for (SimNode& node : nodes_) {
      yidi::v1::GetTrialBalanceResponse trial;
      auto context = Call();
      ASSERT_TRUE(node.ledger->GetTrialBalance(context.get(), {}, &trial).ok());
      ASSERT_TRUE(trial.even()) << when << ": " << node.region;
      ASSERT_EQ(trial.debit_total_fen(), trial.credit_total_fen());
    }
    const std::pair<const char*, const char*> pairs[] = {
        {"210000", "360000"}, {"210100", "210000"}, {"360100", "360000"}};
    for (const auto& [a, b] : pairs) {
      auto ta = Node(a).context->store->Begin(TransactionMode::kRead);
      ASSERT_TRUE(ta.ok());
      auto fa = FlowsWith(**ta, b);
      ASSERT_TRUE(fa.ok());
      ta->reset();
      auto tb = Node(b).context->store->Begin(TransactionMode::kRead);
      auto fb = FlowsWith(**tb, a);
      ASSERT_TRUE(fb.ok());
      tb->reset();
      EXPECT_EQ(fa->prepayment_paid_fen, fb->prepayment_received_fen)
          << when << " " << a << "→" << b;
      EXPECT_EQ(fb->prepayment_paid_fen, fa->prepayment_received_fen)
          << when << " " << b << "→" << a;
      EXPECT_EQ(fa->clearing_paid_fen, fb->clearing_received_fen) << when << " " << a << "→" << b;
      EXPECT_EQ(fb->clearing_paid_fen, fa->clearing_received_fen) << when << " " << b << "→" << a;
      EXPECT_EQ(Balance(a, absl::StrCat("advance_paid/prepayment/", b)),
                -Balance(b, absl::StrCat("advance_received/prepayment/", a)))
          << when << " " << a << "↔" << b;
      EXPECT_EQ(Balance(b, absl::StrCat("advance_paid/prepayment/", a)),
                -Balance(a, absl::StrCat("advance_received/prepayment/", b)))
          << when << " " << b << "↔" << a;
    }
  }

  int64_t Balance(absl::string_view region, absl::string_view key) {
    yidi::v1::GetBalancesResponse response;
    auto context = Call();
    EXPECT_TRUE(Node(region).ledger->GetBalances(context.get(), {}, &response).ok());
    for (const auto& balance : response.balances()) {
      if (balance.account_key() == key) return balance.balance_fen();
    }
    return 0;
  }

  // The signing of month M's clearing: the last working day on or before the 25th of M+1.
  absl::CivilDay SigningOf(int cost_month) {
    const absl::CivilDay the_25th(2026, cost_month + 1, 25);
    return *Node("000000").context->calendar.WorkingDayOnOrBefore(the_25th);
  }

  FakeClock clock_{absl::FromCivil(absl::CivilSecond(2026, 1, 5, 10, 0, 0), ChinaStandardTime())};
  std::vector<SimNode> nodes_;
  int seeded_ = 0;
};

TEST_F(YearSimulationTest, AYearOfPrepaymentClearingsAndAnEmergencyIncrease) {
  // ---- 2025 as recorded. National: Nanchang people treated in Shenyang 3,000,000 元 a month in
  // Q4 → 360000 → 210000: 2 × 3,000,000 = 600 万元; Shenyang people in Nanchang 1,000,000 →
  // 210000 → 360000: 200 万元. Liaoning: Shenyang cross-province 1,000,000 a month all year →
  // 4 × 1,000,000 = 400 万元; intra-province (to 210200) 250,000 → 100 万元. Jiangxi: Nanchang's
  // people 3,000,000 a month in Q4 → payer 4 × = 1,200 万元; its institutions 1,000,000 → the
  // province allots 1 × = 100 万元.
  for (int month = 1; month <= 12; ++month) {
    const std::string day = absl::StrFormat("2025-%02d-15", month);
    Seed("210000", day, "210100", "360100", 1'000'000 * 100);
    Seed("210000", day, "210100", "210200", 250'000 * 100);
    if (month >= 10) {
      Seed("000000", day, "360100", "210100", 3'000'000 * 100);
      Seed("000000", day, "210100", "360100", 1'000'000 * 100);
      Seed("360000", day, "360100", "210100", 3'000'000 * 100);
      Seed("360000", day, "210100", "360100", 1'000'000 * 100);
    }
  }

  // ---- January: quotas and notices at every level.
  const auto liaoning = Compute("210000", "2026-01-06");
  const auto jiangxi = Compute("360000", "2026-01-29");
  const auto national = Compute("000000", "2026-01-30");
  ASSERT_EQ(liaoning.obligations_size(), 2);
  ASSERT_EQ(jiangxi.obligations_size(), 2);
  ASSERT_EQ(national.obligations_size(), 2);
  std::map<std::string, yidi::v1::TransferObligation> notices;
  for (const auto* response : {&liaoning, &jiangxi, &national}) {
    for (const auto& obligation : response->obligations()) {
      EXPECT_EQ(obligation.notice_kind(), yidi::v1::NOTICE_KIND_INITIAL_PREPAYMENT);
      notices[obligation.obligation_id()] = obligation;
    }
  }
  EXPECT_EQ(notices.at("PP-2026-360000-210000-X").amount_fen(), 600 * kWan);
  EXPECT_EQ(notices.at("PP-2026-210000-360000-X").amount_fen(), 200 * kWan);
  EXPECT_EQ(notices.at("PP-2026-210100-210000-X").amount_fen(), 400 * kWan);
  EXPECT_EQ(notices.at("PP-2026-210100-210000-I").amount_fen(), 100 * kWan);
  EXPECT_EQ(notices.at("PP-2026-360100-360000-A").amount_fen(), 1'200 * kWan);
  EXPECT_EQ(notices.at("PP-2026-360000-360100-A").amount_fen(), 100 * kWan);
  EXPECT_EQ(jiangxi.province_reserve_fen(), 1'100 * kWan);
  // Initial notices: within 15 WD of signing (Friday 01-30 → 02-27).
  EXPECT_EQ(notices.at("PP-2026-360000-210000-X").pay_by(), "2026-02-27");

  // A payment without its serial number is refused where it is typed, before any forward.
  {
    Today(Day("2026-02-10"));
    yidi::v1::RecordPaymentRequest pay;
    pay.set_obligation_id("PP-2026-360000-210000-X");
    pay.mutable_payment()->set_bank_name("bank");
    pay.mutable_payment()->set_transaction_date("2026-02-10");
    yidi::v1::RecordPaymentResponse paid;
    auto context = Call();
    grpc::Status status = Node("360000").prepayment->RecordPayment(context.get(), pay, &paid);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("payment.transaction_serial_number"));
    // An id nobody issued travels Shenyang → Liaoning → national and comes back NOT_FOUND.
    pay.set_obligation_id("PP-2026-000000-999999-X");
    pay.mutable_payment()->set_transaction_serial_number("S");
    auto context2 = Call();
    status = Node("210100").prepayment->RecordPayment(context2.get(), pay, &paid);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  }
  for (const auto& [id, obligation] : notices) {
    PayAndConfirm(obligation, *Node("000000").context->calendar.AddWorkingDays(
                                  Day(obligation.signed_date()), 8));
  }
  // Paying and confirming again with the same bank data (paid on 02-11, the 8th working day
  // after 01-30) is a replay at every hop: nothing is posted twice.
  PayAndConfirm(notices.at("PP-2026-360000-210000-X"), Day("2026-02-11"));
  CheckLedgers("after January");
  EXPECT_EQ(Balance("360000", "advance_paid/prepayment/210000"), 600 * kWan);
  EXPECT_EQ(Balance("210000", "advance_received/prepayment/360000"), -600 * kWan);

  // ---- Monthly clearings of January..October costs, signed by national on the last working
  // day on or before the 25th of the next month; Liaoning clears its city the same day.
  std::string increase_id;
  for (int month = 1; month <= 10; ++month) {
    const std::string cost_month = absl::StrFormat("2026-%02d", month);
    const absl::CivilDay signed_day = SigningOf(month);
    const int64_t to_liaoning = month == 5 ? 560 * kWan : 300 * kWan;
    auto jx_to_ln = Clear("000000", signed_day, cost_month, "360000", "210000", to_liaoning,
                          /*uncleared=*/200 * kWan);
    auto ln_to_jx = Clear("000000", signed_day, cost_month, "210000", "360000", 100 * kWan);
    auto city = Clear("210000", signed_day, cost_month, "210100", "210000", 50 * kWan, 100 * kWan,
                      yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE);
    if (month == 6) {
      // The increase counts in the next clearing's prepayment: 300 / (600 + 160) = 39.47%.
      EXPECT_EQ(jx_to_ln.usage().increases_fen(), 160 * kWan);
      EXPECT_EQ(jx_to_ln.usage().usage_bp(), 3947);
      EXPECT_EQ(jx_to_ln.usage().level(), yidi::v1::WARNING_LEVEL_NONE);
    }
    if (month == 5) {
      // 560 / 600 = 93.33% > 90% (Liaoning as treatment province, 第26条 "超过"): red,
      // mandatory. |600 + 0 − 200 uncleared − 560 cleared unpaid| = 160; cap 2 × 560 − 600 =
      // 520 → 160 万元.
      ASSERT_EQ(jx_to_ln.usage().level(), yidi::v1::WARNING_LEVEL_RED);
      EXPECT_EQ(jx_to_ln.usage().usage_bp(), 9333);
      EXPECT_TRUE(jx_to_ln.usage().increase_mandatory());
      EXPECT_EQ(jx_to_ln.usage().suggested_increase_fen(), 160 * kWan);
      // Liaoning (the treatment side) applies on the second working day after the signing.
      const absl::CivilDay applied =
          *Node("000000").context->calendar.AddWorkingDays(signed_day, 2);
      Today(applied);
      yidi::v1::RequestEmergencyIncreaseRequest apply;
      apply.set_clearing_month(cost_month);
      apply.set_payer_region("360000");
      apply.set_receiver_region("210000");
      yidi::v1::RequestEmergencyIncreaseResponse issued;
      auto context = Call();
      ASSERT_TRUE(
          Node("000000").prepayment->RequestEmergencyIncrease(context.get(), apply, &issued).ok());
      EXPECT_EQ(issued.obligation().amount_fen(), 160 * kWan);
      increase_id = issued.obligation().obligation_id();
      // Paid before the next clearing (June's costs are signed on SigningOf(6)).
      const absl::CivilDay pay_by = Day(issued.obligation().pay_by());
      EXPECT_LT(pay_by, SigningOf(6));
      PayAndConfirm(issued.obligation(),
                    *Node("000000").context->calendar.AddWorkingDays(applied, 6));
      EXPECT_LE(Day(issued.obligation().pay_by()), pay_by);
      // The warning list shows it.
      yidi::v1::ListWarningsRequest warnings;
      warnings.set_year(2026);
      warnings.set_region("210000");
      yidi::v1::ListWarningsResponse listed;
      auto context2 = Call();
      ASSERT_TRUE(Node("000000").prepayment->ListWarnings(context2.get(), warnings, &listed).ok());
      ASSERT_EQ(listed.warnings_size(), 1);
      EXPECT_EQ(listed.warnings(0).emergency_obligation_id(), increase_id);
    } else {
      EXPECT_NE(jx_to_ln.usage().level(), yidi::v1::WARNING_LEVEL_RED) << cost_month;
    }
    EXPECT_EQ(ln_to_jx.usage().usage_bp(), 5000);  // 100 / 200: yellow at 70%, not reached
    // Liaoning's own rule for its city: (100 uncleared + 50 cleared unpaid) / 400 = 37.5%.
    EXPECT_EQ(city.usage().usage_bp(), 3750);
    for (const auto* clearing : {&jx_to_ln, &ln_to_jx, &city}) {
      const auto& obligation = clearing->obligation();
      if (month == 8 && obligation.payer_region() == "210000" &&
          obligation.receiver_region() == "360000") {
        // Paid late: on the second working day after its pay-by date, which the obligation
        // list shows first.
        const absl::CivilDay late_day =
            *Node("000000").context->calendar.AddWorkingDays(Day(obligation.pay_by()), 2);
        Today(late_day);
        yidi::v1::ListObligationsRequest overdue;
        overdue.set_overdue_only(true);
        yidi::v1::ListObligationsResponse listed;
        auto context = Call();
        ASSERT_TRUE(
            Node("000000").prepayment->ListObligations(context.get(), overdue, &listed).ok());
        ASSERT_EQ(listed.obligations_size(), 1);
        EXPECT_EQ(listed.obligations(0).obligation_id(), obligation.obligation_id());
        EXPECT_EQ(listed.obligations(0).working_days_late(), 2);
        PayAndConfirm(obligation, late_day);
        continue;
      }
      PayAndConfirm(obligation, *Node("000000").context->calendar.AddWorkingDays(signed_day, 7));
    }
    CheckLedgers(cost_month);
    if (HasFatalFailure()) return;
  }
  ASSERT_FALSE(increase_id.empty());
  // November's costs are signed on 12-25; their finance chain runs into 2027, whose calendar is
  // not shipped (its notice comes out in November 2026): an explicit error, nothing recorded.
  {
    Today(SigningOf(11));
    yidi::v1::RecordClearingRequest request;
    request.set_clearing_month("2026-11");
    request.set_payer_region("360000");
    request.set_receiver_region("210000");
    request.set_clearing_fen(300 * kWan);
    yidi::v1::RecordClearingResponse response;
    auto context = Call();
    grpc::Status status =
        Node("000000").prepayment->RecordClearing(context.get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
    EXPECT_THAT(status.error_message(), HasSubstr("2027"));
  }

  // ---- Year end: nothing open, nothing overdue; each province closes its clearing accounts
  // (Y1–Y4) and every ledger is still even.
  Today(Day("2026-12-31"));
  {
    yidi::v1::ListObligationsRequest all;
    yidi::v1::ListObligationsResponse listed;
    auto context = Call();
    ASSERT_TRUE(Node("000000").prepayment->ListObligations(context.get(), all, &listed).ok());
    EXPECT_EQ(listed.obligations_size(), 2 + 2 * 10 + 1);
    for (const auto& obligation : listed.obligations()) {
      EXPECT_EQ(obligation.state(), yidi::v1::OBLIGATION_STATE_RECEIVED)
          << obligation.obligation_id();
    }
  }
  for (const char* province : {"210000", "360000"}) {
    yidi::v1::GetBalancesResponse balances;
    auto context = Call();
    ASSERT_TRUE(Node(province).ledger->GetBalances(context.get(), {}, &balances).ok());
    for (const auto& transfer :
         YearEndClosingTransfers({balances.balances().begin(), balances.balances().end()}, 2026)) {
      yidi::v1::RecordTransferRequest request;
      *request.mutable_transfer() = transfer;
      yidi::v1::RecordTransferResponse recorded;
      auto context2 = Call();
      ASSERT_TRUE(Node(province).ledger->RecordTransfer(context2.get(), request, &recorded).ok());
    }
  }
  // Liaoning received 300 × 9 + 560 = 3,260 万元 of clearing from Jiangxi and 50 × 10 = 500
  // from Shenyang; nothing was paid out to institutions here, so all of it is a surplus booked
  // to 其他收入 (Y1/Y3); Jiangxi received 100 × 10 = 1,000 from Liaoning.
  EXPECT_EQ(Balance("210000", "advance_received/clearing/360000"), 0);
  EXPECT_EQ(Balance("210000", "advance_received/clearing/210100"), 0);
  EXPECT_EQ(Balance("210000", "income/other"), -(3'260 + 500) * kWan);
  EXPECT_EQ(Balance("360000", "income/other"), -1'000 * kWan);
  CheckLedgers("year end");
  // Movements between nodes are posted only against their obligation.
  {
    yidi::v1::RecordTransferRequest request;
    Movement movement;
    movement.transfer_id = "by-hand";
    movement.counterparty = "360000";
    movement.amount_fen = 1;
    movement.transfer_date = "2026-12-31";
    *request.mutable_transfer() = PaymentTransfer(movement);
    yidi::v1::RecordTransferResponse recorded;
    auto context = Call();
    grpc::Status status = Node("210000").ledger->RecordTransfer(context.get(), request, &recorded);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("transfer.kind"));
  }
  // The notices of the year: Jiangxi's payment notice and the increase's 附件8 among them.
  {
    yidi::v1::GetNoticesRequest request;
    request.set_year(2026);
    request.set_region("360000");
    yidi::v1::GetNoticesResponse notices_of_jiangxi;
    auto context = Call();
    ASSERT_TRUE(
        Node("000000").prepayment->GetNotices(context.get(), request, &notices_of_jiangxi).ok());
    ASSERT_EQ(notices_of_jiangxi.documents_size(), 3);  // payment, receipt, emergency increase
    EXPECT_THAT(notices_of_jiangxi.documents(0), HasSubstr("600.0000"));
    EXPECT_THAT(notices_of_jiangxi.documents(2), HasSubstr("补充拨付预付金160.0000万元"));
  }
  // The movements between the provinces, as their ledgers show them.
  EXPECT_EQ(Balance("360000", "expense/clearing/210000"), 3'260 * kWan);
  EXPECT_EQ(Balance("360000", "advance_paid/prepayment/210000"), (600 + 160) * kWan);
  EXPECT_EQ(Balance("210000", "advance_received/prepayment/360000"), -(600 + 160) * kWan);
}

}  // namespace
}  // namespace yidi
