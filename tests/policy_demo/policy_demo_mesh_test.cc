// The demo mesh settles with the Nanchang policies' newer rules (docs/POLICY.md §3.2, §3.6):
// workload case 09, a child's outpatient visit in Ganzhou paid from his mother's account
// (门诊共济), and its reversal giving her balance back. Amounts by hand (元) in the comments.
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "municipal/insured_registry.h"
#include "tests/testing/demo_requests.h"
#include "tests/testing/in_process_mesh.h"

namespace yidi::testing {
namespace {

constexpr char kN2[] = "360103198209230249";  // the mother: employee, account 2 150.00

class PolicyDemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mesh = InProcessMesh::Start();
    ASSERT_TRUE(mesh.ok()) << mesh.status();
    mesh_ = std::move(*mesh);
  }

  int64_t BalanceAtNanchang(const char* id_number) {
    auto tx = mesh_->Context(Municipal("360100"))->store->Begin(TransactionMode::kRead);
    EXPECT_TRUE(tx.ok());
    auto person = municipal::FindPerson(**tx, id_number);
    EXPECT_TRUE(person.ok() && person->has_value());
    return (person.ok() && person->has_value()) ? (*person)->personal_account_balance_fen() : -1;
  }

  std::unique_ptr<InProcessMesh> mesh_;
};

TEST_F(PolicyDemoTest, Case09ChildsOutpatientPaidFromHisMothersAccount) {
  // Ganzhou classifies 305.00: in scope 285.00, class-B co-pay 20.00. Nanchang resident
  // outpatient: deductible 200.00, pooled (285.00 − 200.00) × 50% = 42.50; the mother's account
  // pays the in-scope burden 242.50 and the class-B co-pay 20.00 = 262.50; cash 0.
  auto request = LoadWorkload("09_family_account_outpatient");
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(BalanceAtNanchang(kN2), 215000);
  yidi::v1::SettleResponse response;
  {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(absl::Seconds(5)));
    const grpc::Status status =
        mesh_->Settlement(Municipal("360700")).Settle(&context, *request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  const yidi::v1::SettlementResult& r = response.result();
  EXPECT_EQ(r.total_fen(), 30500);
  EXPECT_EQ(r.in_scope_fen(), 28500);
  EXPECT_EQ(r.class_b_copay_fen(), 2000);
  EXPECT_EQ(r.deductible_applied_fen(), 20000);
  EXPECT_EQ(r.pooled_fund_fen(), 4250);
  EXPECT_EQ(r.personal_account_fen(), 26250);
  EXPECT_EQ(r.cash_fen(), 0);
  ASSERT_EQ(r.fund_payments_size(), 2);
  EXPECT_EQ(r.fund_payments(1).fund_payment_type(),
            yidi::v1::FUND_PAYMENT_TYPE_EMPLOYEE_PERSONAL_ACCOUNT);
  EXPECT_EQ(r.fund_payments(1).amount_fen(), 26250);
  EXPECT_EQ(BalanceAtNanchang(kN2), 215000 - 26250);

  // Refunded at the hospital: the mother gets 262.50 back.
  yidi::v1::ReverseRequest reverse;
  reverse.set_settlement_id("H36070000001-20261123-R0009");
  reverse.set_original_settlement_id(request->settlement_id());
  reverse.set_insured_region("360100");
  reverse.set_treatment_region("360700");
  reverse.set_institution_code("H36070000001");
  reverse.set_reason("test refund");
  yidi::v1::SettleResponse reversed;
  {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(absl::Seconds(5)));
    const grpc::Status status =
        mesh_->Settlement(Municipal("360700")).Reverse(&context, reverse, &reversed);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(reversed.result().personal_account_fen(), -26250);
  EXPECT_EQ(BalanceAtNanchang(kN2), 215000);
}

}  // namespace
}  // namespace yidi::testing
