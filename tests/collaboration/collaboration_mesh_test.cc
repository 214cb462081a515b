// Collaboration tickets, announcements and the monitoring report through the in-process demo
// mesh (docs/COLLABORATION.md): a ticket opened at one agency reaches the other, is replied to,
// confirmed or disputed and raised to the next level; overdue tickets are listed with how late
// they are; unconfirmed replies confirm themselves after 10 working days. National's notice
// reaches every node and an institution through its municipal node; a downtime window refuses
// the affected node's calls with the notice's text. The monitoring figures of a seeded month
// equal a direct computation from the settlement slips.
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/grpc_status.h"
#include "common/money.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/demo_requests.h"
#include "tests/testing/in_process_mesh.h"
#include "yidi/v1/announcement.grpc.pb.h"
#include "yidi/v1/monitoring.grpc.pb.h"
#include "yidi/v1/ticket.grpc.pb.h"

namespace yidi::testing {
namespace {

using ::testing::HasSubstr;
using yidi::v1::Ticket;

constexpr absl::Duration kCallDeadline = absl::Seconds(5);

absl::Time Cst(int year, int month, int day, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, 0),
                         ChinaStandardTime());
}

yidi::v1::Agency AgencyOf(const NodeId& node) {
  yidi::v1::Agency agency;
  agency.set_kind(node.kind);
  agency.set_region_code(node.region);
  return agency;
}

class CollaborationMeshTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InProcessMesh::Options options;
    // Over mutual TLS like every other suite: the harness calls as an admin operator.
    auto mesh = InProcessMesh::Start(options);
    ASSERT_TRUE(mesh.ok()) << mesh.status();
    mesh_ = std::move(*mesh);
  }

  template <typename Service>
  typename Service::Stub& StubOf(const NodeId& node,
                                 std::map<NodeId, std::unique_ptr<typename Service::Stub>>& cache) {
    auto& stub = cache[node];
    if (stub == nullptr) {
      stub = Service::NewStub(mesh_->ChannelAs(node, InProcessMesh::kHarnessIdentity));
    }
    return *stub;
  }
  yidi::v1::TicketService::Stub& Tickets(const NodeId& node) {
    return StubOf<yidi::v1::TicketService>(node, tickets_);
  }
  yidi::v1::AnnouncementService::Stub& Announcements(const NodeId& node) {
    return StubOf<yidi::v1::AnnouncementService>(node, announcements_);
  }

  grpc::Status OpenTicket(const NodeId& at, const yidi::v1::OpenTicketRequest& request,
                          yidi::v1::TicketResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    return Tickets(at).OpenTicket(&context, request, response);
  }
  grpc::Status Reply(const NodeId& at, absl::string_view id, absl::string_view text,
                     yidi::v1::TicketResponse* response) {
    yidi::v1::ReplyTicketRequest request;
    request.set_ticket_id(std::string(id));
    request.set_reply(std::string(text));
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    return Tickets(at).ReplyTicket(&context, request, response);
  }
  grpc::Status Confirm(const NodeId& at, absl::string_view id, bool dispute,
                       yidi::v1::TicketResponse* response) {
    yidi::v1::ConfirmTicketRequest request;
    request.set_ticket_id(std::string(id));
    request.set_dispute(dispute);
    if (dispute) request.set_dispute_reason("the filing is still missing at the province");
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    return Tickets(at).ConfirmTicket(&context, request, response);
  }
  grpc::Status Escalate(const NodeId& at, absl::string_view id, absl::string_view new_id,
                        yidi::v1::TicketResponse* response) {
    yidi::v1::EscalateTicketRequest request;
    request.set_ticket_id(std::string(id));
    request.set_new_ticket_id(std::string(new_id));
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    return Tickets(at).EscalateTicket(&context, request, response);
  }
  yidi::v1::ListTicketsResponse List(const NodeId& at, bool overdue_only) {
    yidi::v1::ListTicketsRequest request;
    request.set_overdue_only(overdue_only);
    yidi::v1::ListTicketsResponse response;
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    const grpc::Status status = Tickets(at).ListTickets(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }
  Ticket TicketAt(const NodeId& at, absl::string_view id) {
    const yidi::v1::ListTicketsResponse all = List(at, false);
    for (const auto& listed : all.tickets()) {
      if (listed.ticket().ticket_id() == id) return listed.ticket();
    }
    return Ticket();
  }

  static yidi::v1::OpenTicketRequest FilingTicket(absl::string_view id, const NodeId& target) {
    yidi::v1::OpenTicketRequest request;
    request.set_ticket_id(std::string(id));
    *request.mutable_target() = AgencyOf(target);
    request.set_main_issue("备案信息在就医地查询不到 (filing not visible at the treatment region)");
    request.set_problem_type(yidi::v1::TICKET_PROBLEM_TYPE_FILING);
    request.set_person_id_number("360102195604120138");
    request.set_person_name("万国华");
    return request;
  }

  std::unique_ptr<InProcessMesh> mesh_;
  std::map<NodeId, std::unique_ptr<yidi::v1::TicketService::Stub>> tickets_;
  std::map<NodeId, std::unique_ptr<yidi::v1::AnnouncementService::Stub>> announcements_;
};

TEST_F(CollaborationMeshTest, TicketIsRepliedConfirmedAndBothEndsAgree) {
  // Monday 2026-11-23 10:00: a filing ticket is due in 2 WD, on Wednesday 11-25.
  yidi::v1::TicketResponse opened;
  ASSERT_TRUE(OpenTicket(Municipal("500000"), FilingTicket("T-CQ-1", Municipal("360100")),
                         &opened)
                  .ok());
  EXPECT_EQ(opened.ticket().reply_due_date(), "2026-11-25");
  EXPECT_EQ(TicketAt(Municipal("360100"), "T-CQ-1").state(), yidi::v1::TICKET_STATE_OPEN);
  // Retry replays; the id reused for another ticket is refused.
  yidi::v1::TicketResponse again;
  ASSERT_TRUE(OpenTicket(Municipal("500000"), FilingTicket("T-CQ-1", Municipal("360100")),
                         &again)
                  .ok());
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(OpenTicket(Municipal("500000"), FilingTicket("T-CQ-1", Municipal("210100")), &again)
                .error_code(),
            grpc::StatusCode::ALREADY_EXISTS);

  // Only the first responder replies; the requester cannot.
  yidi::v1::TicketResponse replied;
  EXPECT_EQ(Reply(Municipal("500000"), "T-CQ-1", "done", &replied).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  mesh_->clock().Set(Cst(2026, 11, 24, 15));
  ASSERT_TRUE(Reply(Municipal("360100"), "T-CQ-1", "re-uploaded the filing", &replied).ok());
  EXPECT_FALSE(replied.ticket().replied_late());
  EXPECT_EQ(replied.ticket().confirmation_due_date(), "2026-12-08");  // +10 WD
  EXPECT_EQ(TicketAt(Municipal("500000"), "T-CQ-1").state(), yidi::v1::TICKET_STATE_REPLIED);

  yidi::v1::TicketResponse confirmed;
  ASSERT_TRUE(Confirm(Municipal("500000"), "T-CQ-1", false, &confirmed).ok());
  EXPECT_EQ(TicketAt(Municipal("360100"), "T-CQ-1").state(), yidi::v1::TICKET_STATE_CONFIRMED);
}

TEST_F(CollaborationMeshTest, UnconfirmedReplyIsConfirmedAutomaticallyAfterTenWorkingDays) {
  yidi::v1::TicketResponse response;
  ASSERT_TRUE(OpenTicket(Municipal("500000"), FilingTicket("T-AUTO", Municipal("360100")),
                         &response)
                  .ok());
  ASSERT_TRUE(Reply(Municipal("360100"), "T-AUTO", "fixed", &response).ok());
  ASSERT_EQ(response.ticket().confirmation_due_date(), "2026-12-07");  // from Mon 11-23
  mesh_->clock().Set(Cst(2026, 12, 7, 23, 59));
  EXPECT_EQ(TicketAt(Municipal("500000"), "T-AUTO").state(), yidi::v1::TICKET_STATE_REPLIED);
  mesh_->clock().Set(Cst(2026, 12, 8, 0, 0));
  EXPECT_EQ(TicketAt(Municipal("500000"), "T-AUTO").state(),
            yidi::v1::TICKET_STATE_AUTO_CONFIRMED);
  EXPECT_EQ(TicketAt(Municipal("360100"), "T-AUTO").state(),
            yidi::v1::TICKET_STATE_AUTO_CONFIRMED);
  EXPECT_EQ(Confirm(Municipal("500000"), "T-AUTO", true, &response).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(CollaborationMeshTest, OverdueTicketsListedWithLatenessAndRaisedToTheNextLevel) {
  // A system failure between two Jiangxi cities: due in 1 WD (Tuesday 11-24).
  auto request = FilingTicket("T-JX-1", Municipal("360700"));
  request.set_problem_type(yidi::v1::TICKET_PROBLEM_TYPE_SYSTEM_FAILURE);
  yidi::v1::TicketResponse response;
  ASSERT_TRUE(OpenTicket(Municipal("360100"), request, &response).ok());
  EXPECT_EQ(response.ticket().reply_due_date(), "2026-11-24");
  // Not yet unsolved: cannot be raised.
  EXPECT_EQ(Escalate(Municipal("360100"), "T-JX-1", "T-JX-1-UP", &response).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  mesh_->clock().Set(Cst(2026, 11, 27, 10));  // Friday: 3 WD late
  auto overdue = List(Municipal("360100"), true);
  ASSERT_EQ(overdue.tickets_size(), 1);
  EXPECT_EQ(overdue.tickets(0).working_days_late(), 3);
  EXPECT_EQ(List(Municipal("360700"), true).tickets(0).working_days_late(), 3);

  ASSERT_TRUE(Escalate(Municipal("360100"), "T-JX-1", "T-JX-1-UP", &response).ok());
  EXPECT_EQ(response.ticket().state(), yidi::v1::TICKET_STATE_ESCALATED);
  const Ticket raised = TicketAt(Provincial("360000"), "T-JX-1-UP");
  EXPECT_EQ(raised.target().kind(), yidi::v1::NODE_KIND_PROVINCIAL);
  EXPECT_EQ(raised.escalated_from_ticket_id(), "T-JX-1");
  EXPECT_EQ(raised.reply_due_date(), "2026-11-30");  // Fri + 1 WD = Monday
  EXPECT_EQ(TicketAt(Municipal("360700"), "T-JX-1").state(), yidi::v1::TICKET_STATE_ESCALATED);
  // Repeating the escalation replays it.
  ASSERT_TRUE(Escalate(Municipal("360100"), "T-JX-1", "T-JX-1-UP", &response).ok());
  EXPECT_TRUE(response.replayed());

  // The province replies, the city disputes, and the dispute goes to national.
  ASSERT_TRUE(Reply(Provincial("360000"), "T-JX-1-UP", "network restored", &response).ok());
  ASSERT_TRUE(Confirm(Municipal("360100"), "T-JX-1-UP", true, &response).ok());
  ASSERT_TRUE(Escalate(Municipal("360100"), "T-JX-1-UP", "T-JX-1-NAT", &response).ok());
  EXPECT_EQ(TicketAt(National(), "T-JX-1-NAT").target().kind(), yidi::v1::NODE_KIND_NATIONAL);
}

TEST_F(CollaborationMeshTest, TicketTargetDownKeepsItAndRetryDelivers) {
  ASSERT_TRUE(mesh_->StopNode(Municipal("210100")).ok());
  yidi::v1::TicketResponse response;
  grpc::Status down =
      OpenTicket(Municipal("500000"), FilingTicket("T-DOWN", Municipal("210100")), &response);
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(down.error_message(), HasSubstr("municipal 210100"));
  EXPECT_EQ(TicketAt(Municipal("500000"), "T-DOWN").state(), yidi::v1::TICKET_STATE_OPEN);
  ASSERT_TRUE(mesh_->RestartNode(Municipal("210100")).ok());
  // The operator repeats the call: the sender's channel may still be in its reconnect backoff
  // (at most 1 s, common/grpc_status.cc) for the first repeats.
  grpc::Status retried;
  for (int attempt = 0; attempt < 30; ++attempt) {
    retried =
        OpenTicket(Municipal("500000"), FilingTicket("T-DOWN", Municipal("210100")), &response);
    if (retried.error_code() != grpc::StatusCode::UNAVAILABLE) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_TRUE(retried.ok()) << retried.error_code() << " " << retried.error_message();
  EXPECT_EQ(TicketAt(Municipal("210100"), "T-DOWN").state(), yidi::v1::TICKET_STATE_OPEN);
}

TEST_F(CollaborationMeshTest, NationalNoticeReachesEveryNodeAndAnInstitution) {
  yidi::v1::PublishAnnouncementRequest request;
  auto* a = request.mutable_announcement();
  a->set_announcement_id("N-POLICY-1");
  a->set_kind(yidi::v1::ANNOUNCEMENT_KIND_POLICY);
  a->set_title("门诊慢特病跨省直接结算扩围");
  a->set_text("from 2027-01-01 five more chronic diseases are settled directly");
  yidi::v1::PublishAnnouncementResponse response;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kCallDeadline));
  ASSERT_TRUE(Announcements(National()).PublishAnnouncement(&context, request, &response).ok());
  EXPECT_TRUE(response.undelivered().empty());
  EXPECT_EQ(response.announcement().publisher().kind(), yidi::v1::NODE_KIND_NATIONAL);
  for (const NodeId& node : mesh_->Nodes()) {
    yidi::v1::ListAnnouncementsRequest list;
    yidi::v1::ListAnnouncementsResponse listed;
    grpc::ClientContext list_context;
    list_context.set_deadline(DeadlineIn(kCallDeadline));
    ASSERT_TRUE(Announcements(node).ListAnnouncements(&list_context, list, &listed).ok());
    ASSERT_EQ(listed.announcements_size(), 1) << NameOf(node);
    EXPECT_EQ(listed.announcements(0).announcement_id(), "N-POLICY-1");
  }
  // An institution of Chongqing asks its municipal node; one of another region is refused.
  yidi::v1::ListAnnouncementsRequest institution;
  institution.set_institution_code("H50000000001");
  yidi::v1::ListAnnouncementsResponse listed;
  grpc::ClientContext institution_context;
  institution_context.set_deadline(DeadlineIn(kCallDeadline));
  ASSERT_TRUE(Announcements(Municipal("500000"))
                  .ListAnnouncements(&institution_context, institution, &listed)
                  .ok());
  EXPECT_EQ(listed.announcements_size(), 1);
  grpc::ClientContext wrong_context;
  wrong_context.set_deadline(DeadlineIn(kCallDeadline));
  EXPECT_EQ(Announcements(Municipal("360100"))
                .ListAnnouncements(&wrong_context, institution, &listed)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // A province's notice stays in its province.
  a->set_announcement_id("JX-GENERAL-1");
  a->set_kind(yidi::v1::ANNOUNCEMENT_KIND_GENERAL);
  grpc::ClientContext province_context;
  province_context.set_deadline(DeadlineIn(kCallDeadline));
  ASSERT_TRUE(Announcements(Provincial("360000"))
                  .PublishAnnouncement(&province_context, request, &response)
                  .ok());
  yidi::v1::ListAnnouncementsRequest all;
  grpc::ClientContext c1, c2;
  c1.set_deadline(DeadlineIn(kCallDeadline));
  c2.set_deadline(DeadlineIn(kCallDeadline));
  ASSERT_TRUE(Announcements(Municipal("360700")).ListAnnouncements(&c1, all, &listed).ok());
  EXPECT_EQ(listed.announcements_size(), 2);
  ASSERT_TRUE(Announcements(Municipal("210100")).ListAnnouncements(&c2, all, &listed).ok());
  EXPECT_EQ(listed.announcements_size(), 1);
}

TEST_F(CollaborationMeshTest, DowntimeWindowRefusesTheAffectedNodesCallsWithTheText) {
  // The province of Jiangxi announces Nanchang's downtime tonight 22:00–02:00.
  yidi::v1::PublishAnnouncementRequest request;
  auto* a = request.mutable_announcement();
  a->set_announcement_id("JX-DOWN-1");
  a->set_kind(yidi::v1::ANNOUNCEMENT_KIND_DOWNTIME);
  a->set_title("南昌市医保系统升级");
  a->set_text("cross-region settlement in Nanchang pauses for the database upgrade");
  *a->mutable_affected() = AgencyOf(Municipal("360100"));
  a->set_downtime_start("2026-11-23T22:00:00+08:00");
  a->set_downtime_end("2026-11-24T02:00:00+08:00");
  yidi::v1::PublishAnnouncementResponse response;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kCallDeadline));
  ASSERT_TRUE(
      Announcements(Provincial("360000")).PublishAnnouncement(&context, request, &response).ok());

  auto node_info = [&](const NodeId& node) {
    yidi::v1::GetNodeInfoRequest info_request;
    yidi::v1::GetNodeInfoResponse info;
    grpc::ClientContext info_context;
    info_context.set_deadline(DeadlineIn(kCallDeadline));
    return mesh_->Directory(node).GetNodeInfo(&info_context, info_request, &info);
  };
  ASSERT_TRUE(node_info(Municipal("360100")).ok());  // 10:00: before the window
  mesh_->clock().Set(Cst(2026, 11, 23, 22, 30));
  const grpc::Status down = node_info(Municipal("360100"));
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE)
      << "the call gates are not run by NodeServer yet (common/node.h call_gates)";
  EXPECT_THAT(down.error_message(), HasSubstr("cross-region settlement in Nanchang pauses"));
  EXPECT_TRUE(node_info(Municipal("360700")).ok());  // another city is not affected
  // The notice itself stays readable at the affected node.
  yidi::v1::ListAnnouncementsRequest list;
  yidi::v1::ListAnnouncementsResponse listed;
  grpc::ClientContext list_context;
  list_context.set_deadline(DeadlineIn(kCallDeadline));
  ASSERT_TRUE(
      Announcements(Municipal("360100")).ListAnnouncements(&list_context, list, &listed).ok());
  EXPECT_EQ(listed.announcements_size(), 1);
  mesh_->clock().Set(Cst(2026, 11, 24, 2, 0));
  EXPECT_TRUE(node_info(Municipal("360100")).ok());
}

TEST_F(CollaborationMeshTest, MonitoringFiguresEqualADirectComputationFromTheSlips) {
  // Seed the month: cross-province settlements through national.
  struct Expected {
    int64_t cases = 0, total = 0, fund = 0;
  };
  std::map<std::pair<std::string, bool>, Expected> expected;  // (treatment region, inpatient)
  std::string month;
  for (const char* workload : {"01_cross_province_inpatient", "02_cross_province_outpatient",
                               "04_emergency_unfiled", "07_resident_big_bill"}) {
    auto request = LoadWorkload(workload);
    ASSERT_TRUE(request.ok()) << request.status();
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    yidi::v1::SettleResponse settled;
    const grpc::Status status =
        mesh_->Settlement(Municipal(request->treatment_region())).Settle(&context, *request,
                                                                         &settled);
    ASSERT_TRUE(status.ok()) << workload << ": " << status.error_message();
    const auto& slip = settled.result();
    month = slip.settlement_date().substr(0, 7);
    const int type = slip.medical_type();
    Expected& e = expected[{slip.treatment_region(), type >= 21 && type <= 24}];
    e.cases += 1;
    e.total += slip.total_fen();
    e.fund += slip.fund_total_fen();
  }
  yidi::v1::GetMonitoringReportRequest request;
  request.set_month(month);
  yidi::v1::MonitoringReport report;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kCallDeadline));
  auto stub = yidi::v1::MonitoringService::NewStub(
      mesh_->ChannelAs(National(), InProcessMesh::kHarnessIdentity));
  ASSERT_TRUE(stub->GetMonitoringReport(&context, request, &report).ok());
  ASSERT_EQ(report.rows_size(), static_cast<int>(expected.size()));
  for (const auto& row : report.rows()) {
    const bool inpatient = row.care_kind() == yidi::v1::REPORT_CARE_KIND_INPATIENT;
    const Expected& e = expected[{row.region_code(), inpatient}];
    EXPECT_EQ(row.cases(), e.cases) << row.region_code();
    EXPECT_EQ(row.total_fen(), e.total);
    EXPECT_EQ(row.fund_fen(), e.fund);
    EXPECT_EQ(row.average_cost_fen(), MulDivRoundHalfUp(e.total, 1, e.cases));
    EXPECT_EQ(row.reimbursement_ratio_bp(), MulDivRoundHalfUp(e.fund, 10000, e.total));
    EXPECT_FALSE(row.has_month_change());
    EXPECT_THAT(report.csv(), HasSubstr(absl::StrCat(row.region_code(), ",", month, ",")));
  }
  EXPECT_THAT(report.html(), HasSubstr("<table>"));
}

}  // namespace
}  // namespace yidi::testing
