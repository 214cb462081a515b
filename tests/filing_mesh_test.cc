// In-process mesh tests of the filing life cycle (docs/FILING.md): the whole demo mesh in this
// process (tests/testing/in_process_mesh.h), filings created, changed and cancelled at the
// insured municipal node (directly or routed), uploaded through the outbox to the insured
// province's index and on to the national index, applied idempotently and in version order;
// a hospital's "is this person filed here?" answered from an index with its freshness; the
// provincial or national node down while people file; undertakings that lapse by the clock; and
// eligibility at settlement on the filing in force on the admission date.
//
// Each test starts a fresh mesh (own ports, databases, clock at 2026-11-23 10:00 CST). Uploads
// run on real time (the senders' threads), so the tests wait for them, boundedly.
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/demo_requests.h"
#include "tests/testing/in_process_mesh.h"

namespace yidi::testing {
namespace {

using ::testing::HasSubstr;
using yidi::v1::Filing;

// One call through the mesh (five hops at most, 2 s each in the demo config).
constexpr absl::Duration kCallDeadline = absl::Seconds(5);
// How long a test waits for an upload to reach an index: delivery is immediate when the
// parent is up; after a restart the sender's backoff is at most 5 s and the channel's
// reconnect backoff 1 s.
constexpr absl::Duration kConvergenceMax = absl::Seconds(30);
constexpr absl::Duration kPollPause = absl::Milliseconds(50);

constexpr char kN1[] = "360102195604120138";  // Nanchang retiree, seeded filing to Chongqing
constexpr char kN2[] = "360103198209230249";  // Nanchang employee, no filing
constexpr char kS2[] = "210103198708260263";  // Shenyang employee, no filing (case 05)
constexpr char kS6[] = "210105195010170628";  // Shenyang resident, no filing

#define ASSERT_GRPC_OK(expr)                                                  \
  do {                                                                        \
    const grpc::Status grpc_status_ = (expr);                                 \
    ASSERT_TRUE(grpc_status_.ok())                                            \
        << grpc_status_.error_code() << ": " << grpc_status_.error_message(); \
  } while (false)

class FilingMeshTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mesh = InProcessMesh::Start();
    ASSERT_TRUE(mesh.ok()) << mesh.status();
    mesh_ = std::move(*mesh);
  }

  // --- calls ------------------------------------------------------------------------------

  grpc::Status Create(const NodeId& at, const yidi::v1::CreateFilingRequest& request,
                      yidi::v1::FilingResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    return mesh_->Filing(at).CreateFiling(&context, request, response);
  }
  grpc::Status Change(const NodeId& at, const yidi::v1::ChangeFilingRequest& request,
                      yidi::v1::FilingResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    return mesh_->Filing(at).ChangeFiling(&context, request, response);
  }
  grpc::Status Cancel(const NodeId& at, const yidi::v1::CancelFilingRequest& request,
                      yidi::v1::FilingResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    return mesh_->Filing(at).CancelFiling(&context, request, response);
  }
  grpc::Status Check(const NodeId& at, const yidi::v1::CheckFilingRequest& request,
                     yidi::v1::CheckFilingResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    return mesh_->Filing(at).CheckFiling(&context, request, response);
  }
  grpc::Status Settle(const yidi::v1::SettleRequest& request, yidi::v1::SettleResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    return mesh_->Settlement(Municipal(request.treatment_region()))
        .Settle(&context, request, response);
  }

  // The index of `at` (provincial or national) for a person; empty on error.
  yidi::v1::ListFilingsResponse IndexOf(const NodeId& at, const char* id_number,
                                        const char* insured_region) {
    yidi::v1::ListFilingsRequest request;
    request.set_id_number(id_number);
    request.set_insured_region(insured_region);
    request.set_from_index(true);
    yidi::v1::ListFilingsResponse response;
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    if (!mesh_->Filing(at).ListFilings(&context, request, &response).ok()) return {};
    return response;
  }

  // The version of `filing_id` in the index of `at`, 0 when absent.
  int64_t IndexedVersion(const NodeId& at, const char* id_number, const char* insured_region,
                         const std::string& filing_id) {
    const yidi::v1::ListFilingsResponse index = IndexOf(at, id_number, insured_region);
    for (const Filing& filing : index.filings()) {
      if (filing.filing_id() == filing_id) return filing.version();
    }
    return 0;
  }

  yidi::v1::GetFilingReplicationResponse Replication(const NodeId& at) {
    yidi::v1::GetFilingReplicationResponse response;
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    const grpc::Status status = mesh_->Filing(at).GetFilingReplication(&context, {}, &response);
    EXPECT_TRUE(status.ok()) << NameOf(at) << ": " << status.error_message();
    return response;
  }

  // Every outbox of the mesh is empty: the seeded filings and every change so far have reached
  // both indexes.
  bool AllUploaded() {
    return Eventually([&] {
      for (const NodeId& node : mesh_->Nodes()) {
        if (node.kind != yidi::v1::NODE_KIND_NATIONAL && Replication(node).outbox_pending() != 0) {
          return false;
        }
      }
      return true;
    });
  }

  // True once `done` holds, polling up to kConvergenceMax.
  static bool Eventually(const std::function<bool()>& done) {
    const absl::Time give_up = absl::Now() + kConvergenceMax;
    while (absl::Now() < give_up) {
      if (done()) return true;
      absl::SleepFor(kPollPause);
    }
    return done();
  }

  // Both indexes above the insured region hold `filing_id` at `version`.
  void ExpectReplicated(const char* id_number, const char* insured_region,
                        const std::string& filing_id, int64_t version) {
    const NodeId province = Provincial(std::string(insured_region).substr(0, 2) + "0000");
    for (const NodeId& index : {province, National()}) {
      EXPECT_TRUE(Eventually([&] {
        return IndexedVersion(index, id_number, insured_region, filing_id) == version;
      })) << NameOf(index) << " never showed " << filing_id << " at version " << version
          << " (has " << IndexedVersion(index, id_number, insured_region, filing_id) << ")";
    }
  }

  static yidi::v1::CreateFilingRequest Temporary(const std::string& request_id,
                                                 const char* id_number, const char* region,
                                                 const char* treatment_region,
                                                 const char* end_date) {
    yidi::v1::CreateFilingRequest request;
    request.set_request_id(request_id);
    request.set_id_number(id_number);
    request.set_insured_region(region);
    request.set_category(yidi::v1::FILING_CATEGORY_OTHER_TEMPORARY_TRAVELLER);
    request.set_treatment_region(treatment_region);
    request.set_end_date(end_date);
    request.add_materials(yidi::v1::FILING_MATERIAL_IDENTITY);
    request.add_materials(yidi::v1::FILING_MATERIAL_FILING_FORM);
    return request;
  }

  std::unique_ptr<InProcessMesh> mesh_;
};

TEST_F(FilingMeshTest, SeededFilingsAnswerFromTheNationalIndex) {
  // A Chongqing hospital asks about N1 (Nanchang retiree filed to Chongqing): its node forwards
  // to the Chongqing province, which sends it to national; national answers from its index.
  yidi::v1::CheckFilingRequest request;
  request.set_id_number(kN1);
  request.set_insured_region("360100");
  request.set_treatment_region("500000");
  request.set_date("2026-10-08");
  request.set_from_index(true);
  request.set_medical_type(yidi::v1::MEDICAL_TYPE_INPATIENT);
  yidi::v1::CheckFilingResponse response;
  ASSERT_TRUE(Eventually([&] {
    response.Clear();
    return Check(Municipal("500000"), request, &response).ok() && response.filed();
  }));
  EXPECT_EQ(response.answered_by(), "national");
  EXPECT_TRUE(response.from_index());
  EXPECT_EQ(response.filing().filing_id(), "F360100-0001");
  EXPECT_EQ(response.as_of(), FormatCstTimestamp(DemoNow()));  // when national applied it
  // The same question without from_index still goes to the insured region, live.
  request.set_from_index(false);
  ASSERT_GRPC_OK(Check(Municipal("500000"), request, &response));
  EXPECT_EQ(response.answered_by(), "municipal 360100");
  EXPECT_FALSE(response.from_index());
}

TEST_F(FilingMeshTest, CreateChangeCancelReachBothIndexesInVersionOrder) {
  yidi::v1::FilingResponse created;
  ASSERT_GRPC_OK(Create(Municipal("210100"),
                        Temporary("t-1", kS2, "210100", "500000", "2027-06-30"), &created));
  const std::string id = created.filing().filing_id();
  EXPECT_EQ(id, "F210100-20261123-000001");
  ExpectReplicated(kS2, "210100", id, 1);

  yidi::v1::ChangeFilingRequest change;
  change.set_request_id("t-2");
  change.set_filing_id(id);
  change.set_id_number(kS2);
  change.set_insured_region("210100");
  change.set_end_date("2027-09-30");
  yidi::v1::FilingResponse changed;
  ASSERT_GRPC_OK(Change(Municipal("210100"), change, &changed));
  EXPECT_EQ(changed.filing().version(), 2);

  yidi::v1::CancelFilingRequest cancel;
  cancel.set_request_id("t-3");
  cancel.set_filing_id(id);
  cancel.set_id_number(kS2);
  cancel.set_insured_region("210100");
  cancel.set_reason(yidi::v1::FILING_CANCEL_REASON_REQUESTED);
  yidi::v1::FilingResponse cancelled;
  ASSERT_GRPC_OK(Cancel(Municipal("210100"), cancel, &cancelled));
  EXPECT_EQ(cancelled.filing().version(), 3);
  ExpectReplicated(kS2, "210100", id, 3);
  const auto national = IndexOf(National(), kS2, "210100");
  ASSERT_EQ(national.filings_size(), 1);
  EXPECT_TRUE(national.filings(0).cancelled());
  EXPECT_EQ(national.filings(0).end_date(), "2027-09-30");
  EXPECT_EQ(national.answered_by(), "national");

  // A late, older version (version 1, redelivered) never overwrites version 3.
  yidi::v1::UploadFilingChangesRequest late;
  late.set_sender("provincial 210000");
  *late.add_changes()->mutable_filing() = created.filing();
  yidi::v1::UploadFilingChangesResponse outcome;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kCallDeadline));
  ASSERT_GRPC_OK(mesh_->Filing(National()).UploadFilingChanges(&context, late, &outcome));
  EXPECT_EQ(outcome.stale(), 1);
  EXPECT_EQ(outcome.applied(), 0);
  EXPECT_EQ(IndexedVersion(National(), kS2, "210100", id), 3);

  // The hospital's question, from the index: not filed any more.
  yidi::v1::CheckFilingRequest check;
  check.set_id_number(kS2);
  check.set_insured_region("210100");
  check.set_treatment_region("500000");
  check.set_date("2026-11-24");
  check.set_from_index(true);
  yidi::v1::CheckFilingResponse answer;
  ASSERT_GRPC_OK(Check(Municipal("500000"), check, &answer));
  EXPECT_FALSE(answer.filed());
  EXPECT_EQ(answer.answered_by(), "national");
  EXPECT_FALSE(answer.as_of().empty());

  // Nothing left to send anywhere.
  EXPECT_TRUE(Eventually([&] {
    return Replication(Municipal("210100")).outbox_pending() == 0 &&
           Replication(Provincial("210000")).outbox_pending() == 0;
  }));
}

TEST_F(FilingMeshTest, WritesAreRoutedToTheInsuredRegionAndIdempotent) {
  // A Shenyang person's filing sent to Nanchang's node travels to Shenyang.
  const auto request = Temporary("r-1", kS6, "210100", "500000", "2027-06-30");
  yidi::v1::FilingResponse first;
  ASSERT_GRPC_OK(Create(Municipal("360100"), request, &first));
  EXPECT_EQ(first.filing().insured_region(), "210100");
  EXPECT_FALSE(first.replayed());
  // The retry, at yet another node: the stored answer.
  yidi::v1::FilingResponse retry;
  ASSERT_GRPC_OK(Create(Provincial("500000"), request, &retry));
  EXPECT_TRUE(retry.replayed());
  EXPECT_EQ(retry.filing().filing_id(), first.filing().filing_id());
  // The same id for something else.
  auto other = request;
  other.set_end_date("2027-07-31");
  yidi::v1::FilingResponse refused;
  const grpc::Status status = Create(Municipal("210100"), other, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(status.error_message(), HasSubstr("request_id"));
}

TEST_F(FilingMeshTest, BadInputIsRefusedWithTheReasonAndNothingIsUploaded) {
  struct Case {
    const char* name;
    std::function<void(yidi::v1::CreateFilingRequest&)> mutate;
    grpc::StatusCode code;
    const char* part;
  };
  const Case cases[] = {
      {"a hospital", [](auto& r) { r.set_treatment_region("H50000000001"); },
       grpc::StatusCode::INVALID_ARGUMENT, "never a hospital"},
      {"the insured region itself", [](auto& r) { r.set_treatment_region("210102"); },
       grpc::StatusCode::INVALID_ARGUMENT, "itself"},
      {"an invalid ID number", [](auto& r) { r.set_id_number("210103198708260264"); },
       grpc::StatusCode::INVALID_ARGUMENT, "id_number"},
      {"an unknown insured region", [](auto& r) { r.set_insured_region("440300"); },
       grpc::StatusCode::INVALID_ARGUMENT, "insured_region"},
      {"dates in the wrong order", [](auto& r) { r.set_end_date("2026-11-01"); },
       grpc::StatusCode::INVALID_ARGUMENT, "before start_date"},
      {"a category Liaoning does not offer",
       [](auto& r) { r.set_category(yidi::v1::FILING_CATEGORY_EMERGENCY_PATIENT); },
       grpc::StatusCode::INVALID_ARGUMENT, "does not offer"},
      {"shorter than Liaoning allows", [](auto& r) { r.set_end_date("2027-01-31"); },
       grpc::StatusCode::INVALID_ARGUMENT, "at least 6 months"},
  };
  ASSERT_TRUE(AllUploaded());
  const int64_t applied_before = Replication(National()).index_applied();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto request = Temporary("bad", kS2, "210100", "500000", "2027-06-30");
    c.mutate(request);
    yidi::v1::FilingResponse response;
    const grpc::Status status = Create(Municipal("500000"), request, &response);
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.part));
  }
  EXPECT_EQ(Replication(Municipal("210100")).outbox_pending(), 0);
  EXPECT_EQ(IndexOf(National(), kS2, "210100").filings_size(), 0);
  EXPECT_EQ(Replication(National()).index_applied(), applied_before);
}

TEST_F(FilingMeshTest, ProvinceDownFilingSucceedsAndTheOutboxDeliversLater) {
  ASSERT_TRUE(Eventually([&] { return Replication(Municipal("210100")).outbox_pending() == 0; }));
  ASSERT_TRUE(mesh_->StopNode(Provincial("210000")).ok());
  yidi::v1::FilingResponse created;
  ASSERT_GRPC_OK(Create(Municipal("210100"),
                        Temporary("d-1", kS2, "210100", "500000", "2027-06-30"), &created));
  yidi::v1::FilingResponse second;
  ASSERT_GRPC_OK(Create(Municipal("210100"),
                        Temporary("d-2", kS6, "210100", "360100", "2027-06-30"), &second));
  // Waiting in the outbox, with the reason.
  EXPECT_TRUE(Eventually([&] {
    const auto replication = Replication(Municipal("210100"));
    return replication.outbox_pending() == 2 && !replication.outbox_last_error().empty();
  }));
  EXPECT_EQ(IndexedVersion(National(), kS2, "210100", created.filing().filing_id()), 0);

  ASSERT_TRUE(mesh_->RestartNode(Provincial("210000")).ok());
  ExpectReplicated(kS2, "210100", created.filing().filing_id(), 1);
  ExpectReplicated(kS6, "210100", second.filing().filing_id(), 1);
  EXPECT_TRUE(Eventually([&] {
    return Replication(Municipal("210100")).outbox_pending() == 0 &&
           Replication(Provincial("210000")).outbox_pending() == 0;
  }));
}

TEST_F(FilingMeshTest, NationalDownTheProvinceIndexesAndPassesOnLater) {
  ASSERT_TRUE(AllUploaded());  // the seeded filings first
  ASSERT_TRUE(mesh_->StopNode(National()).ok());
  auto request = Temporary("n-1", kN2, "360100", "210100", "2027-01-31");  // Jiangxi: chosen
  request.clear_materials();
  yidi::v1::FilingResponse created;
  ASSERT_GRPC_OK(Create(Municipal("360100"), request, &created));
  const std::string id = created.filing().filing_id();
  // The Jiangxi province has it and answers for its own cities' people.
  ASSERT_TRUE(Eventually(
      [&] { return IndexedVersion(Provincial("360000"), kN2, "360100", id) == 1; }));
  yidi::v1::CheckFilingRequest check;
  check.set_id_number(kN2);
  check.set_insured_region("360100");
  check.set_treatment_region("210100");
  check.set_date("2026-12-01");
  check.set_from_index(true);
  yidi::v1::CheckFilingResponse answer;
  ASSERT_GRPC_OK(Check(Provincial("360000"), check, &answer));
  EXPECT_TRUE(answer.filed());
  EXPECT_EQ(answer.answered_by(), "provincial 360000");
  EXPECT_TRUE(Eventually([&] { return Replication(Provincial("360000")).outbox_pending() == 1; }));

  ASSERT_TRUE(mesh_->RestartNode(National()).ok());
  ExpectReplicated(kN2, "360100", id, 1);
  EXPECT_TRUE(Eventually([&] { return Replication(Provincial("360000")).outbox_pending() == 0; }));
  // Nothing duplicated: one row per filing, applied once, whatever was redelivered.
  const auto national = IndexOf(National(), kN2, "360100");
  EXPECT_EQ(national.filings_size(), 1);
}

TEST_F(FilingMeshTest, UnmetUndertakingLapsesByTheClockAndTheIndexesLearnIt) {
  // Liaoning: a 个人承诺书 stands in for the residence proof for 90 days (003 第7条).
  yidi::v1::CreateFilingRequest request;
  request.set_request_id("u-1");
  request.set_id_number(kS6);
  request.set_insured_region("210100");
  request.set_category(yidi::v1::FILING_CATEGORY_LONG_TERM_RESIDENT);
  request.set_treatment_region("500000");
  request.add_materials(yidi::v1::FILING_MATERIAL_IDENTITY);
  request.set_undertaking(true);
  yidi::v1::FilingResponse created;
  ASSERT_GRPC_OK(Create(Municipal("210100"), request, &created));
  EXPECT_EQ(created.filing().materials_due_date(), "2027-02-21");
  const std::string id = created.filing().filing_id();
  ExpectReplicated(kS6, "210100", id, 1);

  mesh_->clock().Set(absl::FromCivil(absl::CivilSecond(2027, 2, 22, 9, 0, 0),
                                     ChinaStandardTime()));
  ExpectReplicated(kS6, "210100", id, 2);  // the sweep runs every second
  const auto national = IndexOf(National(), kS6, "210100");
  ASSERT_EQ(national.filings_size(), 1);
  EXPECT_TRUE(national.filings(0).cancelled());
  EXPECT_EQ(national.filings(0).cancel_reason(),
            yidi::v1::FILING_CANCEL_REASON_UNDERTAKING_UNMET);
  EXPECT_EQ(national.filings(0).cancelled_on(), "2027-02-22");
}

TEST_F(FilingMeshTest, ChronicDiseaseEligibilityIsUploadedTheSameWay) {
  yidi::v1::RecordChronicDiseaseRequest record;
  record.set_request_id("cd-1");
  record.set_id_number(kN2);
  record.set_insured_region("360100");
  record.set_disease_code("E11.9");
  record.set_disease_name("2型糖尿病");
  yidi::v1::ChronicDiseaseResponse recorded;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kCallDeadline));
  ASSERT_GRPC_OK(mesh_->Filing(Municipal("360100")).RecordChronicDisease(&context, record,
                                                                         &recorded));
  ASSERT_TRUE(Eventually(
      [&] { return IndexOf(National(), kN2, "360100").chronic_diseases_size() == 1; }));
  const auto national = IndexOf(National(), kN2, "360100");
  EXPECT_EQ(national.chronic_diseases(0).eligibility_id(),
            recorded.eligibility().eligibility_id());
  EXPECT_EQ(national.chronic_diseases(0).disease_code(), "E11.9");
}

// ---------------------------------------------------------------------------------------------
// Eligibility at settlement on the filing in force on the admission date.

// S2 at a Chongqing hospital, admitted on `admission`, discharged on `discharge`.
yidi::v1::SettleRequest ChongqingStay(const std::string& serial, const char* admission,
                                      const char* discharge) {
  auto person = DemoPerson("210100", kS2);
  auto institution = DemoInstitution("H50000000001");
  EXPECT_TRUE(person.ok() && institution.ok());
  auto request = SettleRequestBuilder(absl::StrCat("H50000000001-", serial))
                     .Patient(*person, "210100")
                     .At(*institution)
                     .Stay(yidi::v1::MEDICAL_TYPE_INPATIENT, admission, discharge)
                     .Diagnosis("J18.9")
                     .Line("001103000010000", 3000, 4500)
                     .Line("002103000010000", 1000, 28000)
                     .Build();
  EXPECT_TRUE(request.ok()) << request.status();
  return *request;
}

TEST_F(FilingMeshTest, FilingBeforeDischargeSettlesAfterDischargeDoesNot) {
  // Case 05 (discharged 2026-11-10, unfiled) is refused; a filing made today does not reach
  // back to it (manual claim), but covers a stay admitted before it and discharged today
  // (22号文 §二(四), 000_… 第14条).
  auto case05 = LoadWorkload("05_refused_unfiled");
  ASSERT_TRUE(case05.ok());
  yidi::v1::SettleResponse response;
  EXPECT_EQ(Settle(*case05, &response).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  yidi::v1::FilingResponse created;
  ASSERT_GRPC_OK(Create(Municipal("500000"),
                        Temporary("l-1", kS2, "210100", "500000", "2027-06-30"), &created));
  EXPECT_EQ(Settle(*case05, &response).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  ASSERT_GRPC_OK(Settle(ChongqingStay("LATE-1", "2026-11-20", "2026-11-23"), &response));
  EXPECT_EQ(response.result().filing_category(),
            yidi::v1::FILING_CATEGORY_OTHER_TEMPORARY_TRAVELLER);
  EXPECT_FALSE(response.result().deemed_filed());
}

TEST_F(FilingMeshTest, AdmittedWithinValiditySettlesAfterExpiry) {
  yidi::v1::FilingResponse created;
  ASSERT_GRPC_OK(Create(Municipal("210100"),
                        Temporary("v-1", kS2, "210100", "500000", "2027-05-31"), &created));
  // Admitted on the last day of validity, discharged after it: settles (000_… 第10条).
  mesh_->clock().Set(absl::FromCivil(absl::CivilSecond(2027, 6, 10, 10, 0, 0),
                                     ChinaStandardTime()));
  yidi::v1::SettleResponse response;
  ASSERT_GRPC_OK(Settle(ChongqingStay("V-1", "2027-05-31", "2027-06-08"), &response));
  // Admitted the day after: refused.
  const grpc::Status late = Settle(ChongqingStay("V-2", "2027-06-01", "2027-06-08"), &response);
  EXPECT_EQ(late.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(late.error_message(), HasSubstr("备案"));
}

}  // namespace
}  // namespace yidi::testing
