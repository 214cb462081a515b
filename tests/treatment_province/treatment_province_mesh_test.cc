// The treatment province receives the filings naming it (Liaoning 003_8507b755cfadb9d9.txt
// 第10条(五) "接收省外参保人员备案信息"; docs/FILING.md): national passes every filing it applies
// whose treatment region lies in another province than the insured region down to that
// province's node, through an outbox topic per province written in the same transaction. The
// whole demo mesh in this process; uploads run on the senders' threads, so the test waits,
// boundedly.
#include <functional>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "common/filing_index.h"
#include "gtest/gtest.h"
#include "tests/testing/in_process_mesh.h"

namespace yidi::testing {
namespace {

constexpr absl::Duration kCallDeadline = absl::Seconds(5);
constexpr absl::Duration kConvergenceMax = absl::Seconds(30);
constexpr char kN1[] = "360102195604120138";  // Nanchang retiree, seeded filing to Chongqing
constexpr char kN2[] = "360103198209230249";  // Nanchang employee, no filing

bool Eventually(const std::function<bool()>& done) {
  const absl::Time give_up = absl::Now() + kConvergenceMax;
  while (absl::Now() < give_up) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return done();
}

class TreatmentProvinceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InProcessMesh::Options options;
    // Over mutual TLS like every other suite: the harness calls as an admin operator.
    auto mesh = InProcessMesh::Start(options);
    ASSERT_TRUE(mesh.ok()) << mesh.status();
    mesh_ = std::move(*mesh);
  }

  // The version of `filing_id` in the filing index of `at` (read from its store), 0 if absent.
  int64_t IndexedVersion(const NodeId& at, const char* insured_region, const char* id_number,
                         const std::string& filing_id) {
    auto tx = mesh_->Context(at)->store->Begin(TransactionMode::kRead);
    if (!tx.ok()) return 0;
    auto person = ReadIndexedPerson(**tx, insured_region, id_number);
    if (!person.ok()) return 0;
    for (const auto& filing : person->filings) {
      if (filing.filing_id() == filing_id) return filing.version();
    }
    return 0;
  }

  std::unique_ptr<InProcessMesh> mesh_;
};

TEST_F(TreatmentProvinceTest, ASeededFilingReachesTheProvinceItNamesAndNoOther) {
  // N1 (insured in Nanchang, Jiangxi) is filed to Chongqing 500000: Chongqing's provincial node
  // receives it from national; Liaoning's does not.
  EXPECT_TRUE(Eventually(
      [&] { return IndexedVersion(Provincial("500000"), "360100", kN1, "F360100-0001") == 1; }));
  EXPECT_EQ(IndexedVersion(Provincial("210000"), "360100", kN1, "F360100-0001"), 0);
}

TEST_F(TreatmentProvinceTest, CreateAndCancelReachTheTreatmentProvinceInVersionOrder) {
  yidi::v1::CreateFilingRequest create;
  create.set_request_id("tp-1");
  create.set_id_number(kN2);
  create.set_insured_region("360100");
  create.set_category(yidi::v1::FILING_CATEGORY_OTHER_TEMPORARY_TRAVELLER);
  create.set_treatment_region("210100");
  create.set_end_date("2027-06-30");
  create.add_materials(yidi::v1::FILING_MATERIAL_IDENTITY);
  create.add_materials(yidi::v1::FILING_MATERIAL_FILING_FORM);
  yidi::v1::FilingResponse created;
  {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    const grpc::Status status =
        mesh_->Filing(Municipal("360100")).CreateFiling(&context, create, &created);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  const std::string id = created.filing().filing_id();
  EXPECT_TRUE(
      Eventually([&] { return IndexedVersion(Provincial("210000"), "360100", kN2, id) == 1; }));

  yidi::v1::CancelFilingRequest cancel;
  cancel.set_request_id("tp-2");
  cancel.set_filing_id(id);
  cancel.set_id_number(kN2);
  cancel.set_insured_region("360100");
  cancel.set_reason(yidi::v1::FILING_CANCEL_REASON_REQUESTED);
  yidi::v1::FilingResponse cancelled;
  {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    const grpc::Status status =
        mesh_->Filing(Municipal("360100")).CancelFiling(&context, cancel, &cancelled);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_TRUE(
      Eventually([&] { return IndexedVersion(Provincial("210000"), "360100", kN2, id) == 2; }));
  // The treatment province keeps it and does not upload it again: national's copy came from
  // Jiangxi, and Liaoning's upload outbox holds nothing of it.
  auto tx = mesh_->Context(Provincial("210000"))->store->Begin(TransactionMode::kRead);
  ASSERT_TRUE(tx.ok());
  auto person = ReadIndexedPerson(**tx, "360100", kN2);
  ASSERT_TRUE(person.ok());
  ASSERT_EQ(person->filings.size(), 1u);
  EXPECT_TRUE(person->filings[0].cancelled());
  auto outbox = ReadOutboxStats(**tx, kFilingUploadTopic);
  ASSERT_TRUE(outbox.ok());
  EXPECT_EQ(outbox->pending + outbox->parked, 0);
}

}  // namespace
}  // namespace yidi::testing
