// The in-process mesh tests: the whole demo mesh (8 nodes) in this process, every settlement
// path from the hospital's call at its treatment municipal node to the insured municipal node
// and back, checked at every hop. Each test starts a fresh mesh (own ports, own databases,
// clock at 2026-11-23 10:00 CST), so tests neither share state nor depend on their order.
//
// Every successful result is checked against the slip identities (CheckSlipIdentities, and the
// main ones spelled out here again in ExpectSlip).
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/directory.h"
#include "common/id_number.h"
#include "common/money.h"
#include "common/settlement_validation.h"
#include "common/status_macros.h"
#include "common/store/store.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "municipal/accumulators.h"
#include "municipal/policy_engine.h"
#include "tests/testing/demo_requests.h"
#include "tests/testing/in_process_mesh.h"

namespace yidi::testing {
namespace {

using ::testing::HasSubstr;
using yidi::v1::GetSettlementResponse;
using yidi::v1::SettlementResult;
using yidi::v1::SettlementState;
using yidi::v1::SettleRequest;
using yidi::v1::SettleResponse;

// The hospital's deadline for one call through the whole mesh (five hops, each forward at most
// 2 s in the demo config): generous on a loaded machine, yet a hop that is down must answer
// within it.
constexpr absl::Duration kHospitalDeadline = absl::Seconds(5);
// How long a retry keeps trying while the channels of a restarted node's neighbours leave
// their reconnect backoff (at most 1 s, common/grpc_status.cc), and the pause between tries.
constexpr absl::Duration kRetryAfterRestartMax = absl::Seconds(10);
constexpr absl::Duration kRetryPause = absl::Milliseconds(50);
// Hospital threads sending at once in the concurrency tests.
constexpr int kDuplicateSenders = 8;

// The demo people and places used below (deploy/demo/README.md).
constexpr char kN1[] = "360102195604120138";  // Nanchang employee retiree, filed to Chongqing
constexpr char kN2[] = "360103198209230249";  // Nanchang employee, no filing
constexpr char kN3[] = "360111199001300353";  // Nanchang, filing to Shenyang expired 2026-08-31
constexpr char kN6[] = "360103196802140712";  // Nanchang, SUSPENDED, filed to Chongqing
constexpr char kC1[] = "500103196006210173";  // Chongqing employee retiree, referred to Shenyang

// Accumulators of the demo policies' inpatient benefit (id "inpatient") and pooled fund (key
// "pooled_inpatient"), as municipal/policy_set.h names them.
constexpr char kAccInpatientAdmissions[] = "admissions:inpatient";
constexpr char kAccInpatientDeductibleFen[] = "deductible_fen:inpatient";
constexpr char kAccInpatientPooledFundFen[] = "paid_fen:pooled_inpatient";

// ---------------------------------------------------------------------------------------------
// Checks shared by the tests.

std::string Diff(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  google::protobuf::util::MessageDifferencer differencer;
  std::string report;
  differencer.ReportDifferencesToString(&report);
  return differencer.Compare(a, b) ? std::string() : report;
}

// Every int64 `*_fen` field of a result, by name: the amounts of the slip.
std::map<std::string, int64_t> AmountsOf(const SettlementResult& result) {
  std::map<std::string, int64_t> amounts;
  const auto* descriptor = result.GetDescriptor();
  const auto* reflection = result.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    if (field->is_repeated() ||
        field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_INT64) {
      continue;
    }
    if (!absl::EndsWith(field->name(), "_fen")) continue;
    amounts[field->name()] = reflection->GetInt64(result, field);
  }
  return amounts;
}

// The slip identities: CheckSlipIdentities, and the main ones spelled out.
void ExpectSlip(const SettlementResult& r) {
  SCOPED_TRACE(absl::StrCat("slip of ", r.settlement_id()));
  const absl::Status identities = CheckSlipIdentities(r);
  EXPECT_TRUE(identities.ok()) << identities;
  EXPECT_EQ(r.total_fen(),
            r.in_scope_fen() + r.class_b_copay_fen() + r.over_cap_fen() + r.self_pay_fen());
  EXPECT_EQ(r.total_fen(), r.fund_total_fen() + r.personal_account_fen() + r.cash_fen());
  EXPECT_EQ(r.slip_fund_total_fen(), r.fund_total_fen() + r.personal_account_fen());
  EXPECT_EQ(r.person_part_fen(), r.personal_account_fen() + r.cash_fen());
  const bool reversal = r.kind() == yidi::v1::SETTLEMENT_KIND_REVERSAL;
  for (const auto& [name, amount] : AmountsOf(r)) {
    if (reversal) {
      EXPECT_LE(amount, 0) << name;
    } else {
      EXPECT_GE(amount, 0) << name;
    }
  }
  EXPECT_NE(r.total_fen(), 0) << "a settlement of an empty bill";
}

// The hops a settlement crosses, from the treatment municipal node to the insured one
// (ARCHITECTURE.md section 2): 5 across provinces, 3 within one, 1 when local.
std::vector<NodeId> HopsOf(absl::string_view treatment_region, absl::string_view insured_region) {
  const std::string treatment_province = ProvinceCodeOf(treatment_region);
  const std::string insured_province = ProvinceCodeOf(insured_region);
  if (treatment_region == insured_region) return {Municipal(treatment_region)};
  if (treatment_province == insured_province) {
    return {Municipal(treatment_region), Provincial(treatment_province), Municipal(insured_region)};
  }
  return {Municipal(treatment_region), Provincial(treatment_province), National(),
          Provincial(insured_province), Municipal(insured_region)};
}

std::vector<NodeId> HopsOf(const SettleRequest& request) {
  return HopsOf(request.treatment_region(), request.insured_region());
}

class MeshTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mesh = InProcessMesh::Start();
    ASSERT_TRUE(mesh.ok()) << mesh.status();
    mesh_ = std::move(*mesh);
  }

  // --- calls as a hospital makes them, with the hospital's deadline -------------------------

  grpc::Status Settle(const NodeId& at, const SettleRequest& request, SettleResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kHospitalDeadline));
    grpc::Status status = mesh_->Settlement(at).Settle(&context, request, response);
    if (status.ok()) ExpectSlip(response->result());
    return status;
  }
  // At the municipal node of the request's treatment region, as a hospital must.
  grpc::Status Settle(const SettleRequest& request, SettleResponse* response) {
    return Settle(Municipal(request.treatment_region()), request, response);
  }
  grpc::Status PreSettle(const SettleRequest& request, SettleResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kHospitalDeadline));
    grpc::Status status = mesh_->Settlement(Municipal(request.treatment_region()))
                              .PreSettle(&context, request, response);
    if (status.ok()) ExpectSlip(response->result());
    return status;
  }
  grpc::Status Reverse(const yidi::v1::ReverseRequest& request, SettleResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kHospitalDeadline));
    grpc::Status status = mesh_->Settlement(Municipal(request.treatment_region()))
                              .Reverse(&context, request, response);
    if (status.ok()) ExpectSlip(response->result());
    return status;
  }
  grpc::Status Correct(const yidi::v1::CorrectRequest& request,
                       yidi::v1::CorrectResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kHospitalDeadline));
    return mesh_->Settlement(Municipal(request.treatment_region()))
        .Correct(&context, request, response);
  }
  // Retries while the answer is UNAVAILABLE: a restarted node's neighbours reconnect after
  // their backoff. Retrying the same settlement_id is what a hospital does, and is safe.
  grpc::Status SettleUntilAnswered(const SettleRequest& request, SettleResponse* response) {
    const absl::Time give_up = absl::Now() + kRetryAfterRestartMax;
    for (;;) {
      response->Clear();
      grpc::Status status = Settle(request, response);
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE || absl::Now() > give_up) {
        return status;
      }
      absl::SleepFor(kRetryPause);
    }
  }

  // --- what the nodes recorded --------------------------------------------------------------

  // The node's record; a failed test when it has none.
  GetSettlementResponse RecordAt(const NodeId& node, absl::string_view id) {
    auto record = mesh_->GetSettlement(node, id);
    EXPECT_TRUE(record.ok()) << NameOf(node) << ": " << record.status();
    if (!record.ok()) return GetSettlementResponse();
    if (record->result().total_fen() != 0) ExpectSlip(record->result());
    return *record;
  }

  void ExpectNoRecord(const NodeId& node, absl::string_view id) {
    auto record = mesh_->GetSettlement(node, id);
    EXPECT_EQ(record.status().code(), absl::StatusCode::kNotFound)
        << NameOf(node) << " has a record of " << id << ": "
        << (record.ok() ? record->DebugString() : record.status().ToString());
  }
  void ExpectNoRecordAnywhere(const std::vector<NodeId>& hops, absl::string_view id) {
    for (const NodeId& hop : hops) ExpectNoRecord(hop, id);
  }

  // Every hop holds `expected` in `state`, with one and the same request digest.
  void ExpectRecordedAtEveryHop(const std::vector<NodeId>& hops, const SettlementResult& expected,
                                SettlementState state) {
    std::string digest;
    for (const NodeId& hop : hops) {
      SCOPED_TRACE(NameOf(hop));
      const GetSettlementResponse record = RecordAt(hop, expected.settlement_id());
      EXPECT_EQ(record.state(), state) << yidi::v1::SettlementState_Name(record.state());
      SettlementResult want = expected;
      want.set_state(state);
      EXPECT_EQ(Diff(record.result(), want), "");
      EXPECT_EQ(AmountsOf(record.result()), AmountsOf(expected));
      EXPECT_EQ(record.request_digest().size(), 64u);
      if (digest.empty()) digest = record.request_digest();
      EXPECT_EQ(record.request_digest(), digest);
    }
  }

  // The insured node's yearly accumulators of a person.
  municipal::AccumulatorValues AccumulatorsAt(absl::string_view insured_region,
                                              absl::string_view id_number,
                                              yidi::v1::InsuranceType type, int year) {
    NodeContext* context = mesh_->Context(Municipal(insured_region));
    EXPECT_NE(context, nullptr);
    if (context == nullptr) return {};
    auto tx = context->store->Begin(TransactionMode::kRead);
    EXPECT_TRUE(tx.ok()) << tx.status();
    if (!tx.ok()) return {};
    auto values = municipal::LoadAccumulators(**tx, id_number, type, year);
    EXPECT_TRUE(values.ok()) << values.status();
    return values.ok() ? *values : municipal::AccumulatorValues();
  }

  std::unique_ptr<InProcessMesh> mesh_;
};

// Unwraps a StatusOr in a test body, failing the test when it is an error.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(YIDI_STATUS_CONCAT(statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                              \
  ASSERT_TRUE(statusor.ok()) << statusor.status();     \
  lhs = std::move(*statusor)

#define ASSERT_GRPC_OK(expr)                                                  \
  do {                                                                        \
    const grpc::Status grpc_status_ = (expr);                                 \
    ASSERT_TRUE(grpc_status_.ok())                                            \
        << grpc_status_.error_code() << ": " << grpc_status_.error_message(); \
  } while (false)

// ---------------------------------------------------------------------------------------------
// The paths.

TEST_F(MeshTest, CrossProvinceInpatientIsRecordedIdenticallyAtEveryHop) {
  ASSERT_OK_AND_ASSIGN(const SettleRequest request, LoadWorkload("01_cross_province_inpatient"));
  SettleResponse response;
  ASSERT_GRPC_OK(Settle(request, &response));
  const SettlementResult& result = response.result();
  EXPECT_FALSE(response.replayed());
  EXPECT_EQ(result.state(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  EXPECT_EQ(result.settlement_id(), request.settlement_id());
  EXPECT_EQ(result.total_fen(), request.declared_total_fen());
  EXPECT_GT(result.pooled_fund_fen(), 0);
  EXPECT_GT(result.over_cap_fen(), 0) << "the single room is above Chongqing's cap";
  EXPECT_GT(result.self_pay_fen(), 0) << "class C lines";
  EXPECT_GT(result.class_b_copay_fen(), 0) << "class B lines";
  EXPECT_EQ(result.filing_category(), yidi::v1::FILING_CATEGORY_RELOCATED_RETIREE);
  EXPECT_FALSE(result.deemed_filed());
  EXPECT_EQ(result.settlement_date(), "2026-11-23");

  const std::vector<NodeId> hops = HopsOf(request);
  ASSERT_EQ(hops.size(), 5u);
  ASSERT_EQ(hops[0], Municipal("500000"));
  ASSERT_EQ(hops[4], Municipal("360100"));
  ExpectRecordedAtEveryHop(hops, result, yidi::v1::SETTLEMENT_STATE_SETTLED);
  ExpectNoRecord(Provincial("210000"), request.settlement_id());
  ExpectNoRecord(Municipal("210100"), request.settlement_id());
  ExpectNoRecord(Municipal("360700"), request.settlement_id());
}

TEST_F(MeshTest, CrossProvinceOutpatientTravelsLineByLine) {
  ASSERT_OK_AND_ASSIGN(const SettleRequest outpatient,
                       LoadWorkload("02_cross_province_outpatient"));
  SettleResponse response;
  ASSERT_GRPC_OK(Settle(outpatient, &response));
  const SettlementResult& result = response.result();
  EXPECT_EQ(result.lines_size(), outpatient.fee_lines_size());
  EXPECT_TRUE(result.fee_categories().empty());
  int64_t lines_total_fen = 0;
  for (const auto& line : result.lines()) {
    EXPECT_TRUE(CheckFeeSplit(line.split()).ok()) << line.DebugString();
    lines_total_fen += line.split().total_fen();
  }
  EXPECT_EQ(lines_total_fen, result.total_fen());
  EXPECT_EQ(result.filing_category(), yidi::v1::FILING_CATEGORY_OTHER_TEMPORARY_TRAVELLER);
  EXPECT_EQ(result.inpatient_days(), 0);
  ExpectRecordedAtEveryHop(HopsOf(outpatient), result, yidi::v1::SETTLEMENT_STATE_SETTLED);

  // The inpatient bill, by contrast, travels as fee categories.
  ASSERT_OK_AND_ASSIGN(const SettleRequest inpatient, LoadWorkload("01_cross_province_inpatient"));
  SettleResponse inpatient_response;
  ASSERT_GRPC_OK(Settle(inpatient, &inpatient_response));
  EXPECT_FALSE(inpatient_response.result().fee_categories().empty());
  EXPECT_TRUE(inpatient_response.result().lines().empty());
  int64_t categories_total_fen = 0;
  for (const auto& category : inpatient_response.result().fee_categories()) {
    categories_total_fen += category.split().total_fen();
  }
  EXPECT_EQ(categories_total_fen, inpatient_response.result().total_fen());
}

TEST_F(MeshTest, IntraProvinceNeverReachesNational) {
  ASSERT_OK_AND_ASSIGN(const SettleRequest request, LoadWorkload("03_intra_province_inpatient"));
  SettleResponse response;
  ASSERT_GRPC_OK(Settle(request, &response));
  EXPECT_EQ(response.result().state(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  EXPECT_FALSE(response.result().deemed_filed());

  const std::vector<NodeId> hops = HopsOf(request);
  ASSERT_EQ(hops.size(), 3u);
  EXPECT_EQ(hops[1], Provincial("360000"));
  ExpectRecordedAtEveryHop(hops, response.result(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  ExpectNoRecord(National(), request.settlement_id());
  ExpectNoRecord(Provincial("500000"), request.settlement_id());
  ExpectNoRecord(Provincial("210000"), request.settlement_id());
}

TEST_F(MeshTest, LocalSettlementIsHandledByOneNode) {
  ASSERT_OK_AND_ASSIGN(const auto person, DemoPerson("360100", kN2));
  ASSERT_OK_AND_ASSIGN(const auto hospital, DemoInstitution("H36010000002"));  // level 2
  ASSERT_OK_AND_ASSIGN(const SettleRequest request,
                       SettleRequestBuilder("H36010000002-20261120-0001")
                           .Patient(person, "360100")
                           .At(hospital)
                           .Stay(yidi::v1::MEDICAL_TYPE_INPATIENT, "2026-11-15", "2026-11-20")
                           .Diagnosis("K80.1")
                           .Line("001102000020000", 5000, 2000)          // A: consultation/day
                           .Line("001201000010000", 5000, 2800)          // A: nursing/day
                           .Line("003310000020000", 1000, 200000)        // A: cholecystectomy
                           .Line("XA11AAD020A001010101008", 1000, 9800)  // C: multivitamin
                           .Build());
  SettleResponse response;
  ASSERT_GRPC_OK(Settle(request, &response));
  const SettlementResult& result = response.result();

  // Reference computation from the Nanchang employee policy: level 2, first admission,
  // working ratio, no remote-care reduction.
  ASSERT_OK_AND_ASSIGN(const auto policy, DemoPolicy("360100", yidi::v1::INSURANCE_TYPE_EMPLOYEE));
  ASSERT_OK_AND_ASSIGN(const auto rule, InpatientRule(policy, yidi::v1::HOSPITAL_LEVEL_2));
  const int64_t in_scope_fen = 10000 + 14000 + 200000;
  EXPECT_EQ(result.total_fen(), in_scope_fen + 9800);
  EXPECT_EQ(result.in_scope_fen(), in_scope_fen);
  EXPECT_EQ(result.self_pay_fen(), 9800);
  EXPECT_EQ(result.deductible_applied_fen(), rule.deductible_fen());
  const int64_t pooled_fen =
      ApplyRatio(in_scope_fen - rule.deductible_fen(), rule.ratio_working_bp());
  EXPECT_EQ(result.pooled_fund_fen(), pooled_fen);
  EXPECT_EQ(result.cash_fen(), result.total_fen() - pooled_fen);

  ASSERT_EQ(HopsOf(request).size(), 1u);
  ExpectRecordedAtEveryHop(HopsOf(request), result, yidi::v1::SETTLEMENT_STATE_SETTLED);

  // A local reversal stays local too.
  yidi::v1::ReverseRequest reverse;
  reverse.set_settlement_id("H36010000002-20261123-R0001");
  reverse.set_original_settlement_id(request.settlement_id());
  reverse.set_insured_region("360100");
  reverse.set_treatment_region("360100");
  reverse.set_institution_code(hospital.code());
  SettleResponse reversal;
  ASSERT_GRPC_OK(Reverse(reverse, &reversal));
  EXPECT_EQ(reversal.result().total_fen(), -result.total_fen());
  EXPECT_EQ(reversal.result().pooled_fund_fen(), -result.pooled_fund_fen());
  EXPECT_EQ(RecordAt(Municipal("360100"), request.settlement_id()).state(),
            yidi::v1::SETTLEMENT_STATE_REVERSED);

  for (const NodeId& node : mesh_->Nodes()) {
    if (node == Municipal("360100")) continue;
    ExpectNoRecord(node, request.settlement_id());
    ExpectNoRecord(node, reverse.settlement_id());
  }
}

TEST_F(MeshTest, EmergencyWithoutFilingIsDeemedFiled) {
  ASSERT_OK_AND_ASSIGN(const SettleRequest request, LoadWorkload("04_emergency_unfiled"));
  SettleResponse response;
  ASSERT_GRPC_OK(Settle(request, &response));
  EXPECT_TRUE(response.result().deemed_filed());
  EXPECT_EQ(response.result().filing_category(), yidi::v1::FILING_CATEGORY_UNSPECIFIED);
  ExpectRecordedAtEveryHop(HopsOf(request), response.result(), yidi::v1::SETTLEMENT_STATE_SETTLED);
}

TEST_F(MeshTest, SeveralFundsPayOneSlip) {
  // Case 08: a Nanchang retired civil servant, 60 days at a Ganzhou level-3 hospital
  // (intra-province, no filing needed: local level). Ganzhou classifies the 155 162.40 元 bill:
  // in scope 127 634.74, class-B co-pay 19 031.66, over cap 200.00, self-pay 8 296.00.
  // The Nanchang employee policy (demo values), by hand:
  //   deductible 800; eligible 126 834.74 × 90% (retired, level 3) = 114 151.27 > the 10 万 cap:
  //     pooled fund 100 000.00, covering 100 000 / 90% = 111 111.11 of expense;
  //   large-expense subsidy 90% × (126 834.74 − 111 111.11 = 15 723.63) = 14 151.27;
  //   in-scope burden 127 634.74 − 114 151.27 = 13 483.47 → civil servant 60% = 8 090.08;
  //   supplementary 50% × (5 393.39 + 19 031.66) = 12 212.53 (the in-scope burden first);
  //   personal account (consent): the whole balance, 12 000.00, from the class-B co-pay left;
  //   cash 212.52 + 200.00 + 8 296.00 = 8 708.52.
  ASSERT_OK_AND_ASSIGN(const SettleRequest request, LoadWorkload("08_employee_several_funds"));
  SettleResponse response;
  ASSERT_GRPC_OK(Settle(request, &response));
  const SettlementResult& r = response.result();
  ExpectSlip(r);
  EXPECT_EQ(r.total_fen(), 15516240);
  EXPECT_EQ(r.in_scope_fen(), 12763474);
  EXPECT_EQ(r.class_b_copay_fen(), 1903166);
  EXPECT_EQ(r.deductible_applied_fen(), 80000);
  EXPECT_EQ(r.pooled_fund_fen(), 10000000);
  EXPECT_EQ(r.large_expense_fen(), 1415127);
  EXPECT_EQ(r.civil_servant_fen(), 809008);
  EXPECT_EQ(r.supplementary_fen(), 1221253);
  EXPECT_EQ(r.fund_total_fen(), 13445388);
  EXPECT_EQ(r.personal_account_fen(), 1200000);
  EXPECT_EQ(r.cash_fen(), 870852);
  std::vector<yidi::v1::FundPaymentType> types;
  for (const auto& payment : r.fund_payments()) types.push_back(payment.fund_payment_type());
  EXPECT_EQ(types, (std::vector<yidi::v1::FundPaymentType>{
                       yidi::v1::FUND_PAYMENT_TYPE_EMPLOYEE_POOLED_FUND,
                       yidi::v1::FUND_PAYMENT_TYPE_LARGE_EXPENSE_SUBSIDY,
                       yidi::v1::FUND_PAYMENT_TYPE_CIVIL_SERVANT_SUBSIDY,
                       yidi::v1::FUND_PAYMENT_TYPE_OTHER,  // 补充医疗保险 has no code of its own
                       yidi::v1::FUND_PAYMENT_TYPE_EMPLOYEE_PERSONAL_ACCOUNT}));
  ExpectRecordedAtEveryHop(HopsOf(request), r, yidi::v1::SETTLEMENT_STATE_SETTLED);
  // The insured region's yearly accumulators took every fund's payment.
  auto accumulators =
      AccumulatorsAt("360100", request.id_number(), yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026);
  EXPECT_EQ(accumulators[kAccInpatientPooledFundFen], r.pooled_fund_fen());
  EXPECT_EQ(accumulators["paid_fen:large_expense"], r.large_expense_fen());
  EXPECT_EQ(accumulators["paid_fen:civil_servant"], r.civil_servant_fen());
  EXPECT_EQ(accumulators["paid_fen:supplementary"], r.supplementary_fen());
  EXPECT_EQ(accumulators["personal_account_fen"], r.personal_account_fen());
}

TEST_F(MeshTest, UnfiledNonEmergencyIsRefusedAndNothingIsStored) {
  ASSERT_OK_AND_ASSIGN(const SettleRequest request, LoadWorkload("05_refused_unfiled"));
  SettleResponse response;
  const grpc::Status status = Settle(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("filing"));
  const std::vector<NodeId> hops = HopsOf(request);
  ASSERT_EQ(hops.size(), 5u);
  ExpectNoRecordAnywhere(hops, request.settlement_id());
}

TEST_F(MeshTest, SuspendedPersonIsRefused) {
  ASSERT_OK_AND_ASSIGN(const auto person, DemoPerson("360100", kN6));
  ASSERT_EQ(person.status(), yidi::v1::INSURED_STATUS_SUSPENDED);
  ASSERT_OK_AND_ASSIGN(const auto hospital, DemoInstitution("H50000000001"));
  ASSERT_OK_AND_ASSIGN(const SettleRequest request,
                       SettleRequestBuilder("H50000000001-20261120-0006")
                           .Patient(person, "360100")
                           .At(hospital)
                           .Stay(yidi::v1::MEDICAL_TYPE_INPATIENT, "2026-11-16", "2026-11-20")
                           .Line("001102000020000", 4000, 2000)
                           .Line("001201000010000", 4000, 2800)
                           .Build());
  SettleResponse response;
  const grpc::Status status = Settle(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("SUSPENDED"));
  ExpectNoRecordAnywhere(HopsOf(request), request.settlement_id());
}

TEST_F(MeshTest, PreSettleComputesTheSettleAmountsAndCommitsNothing) {
  ASSERT_OK_AND_ASSIGN(const SettleRequest request, LoadWorkload("07_resident_big_bill"));
  const std::vector<NodeId> hops = HopsOf(request);
  SettleResponse estimate;
  ASSERT_GRPC_OK(PreSettle(request, &estimate));
  EXPECT_NE(estimate.result().state(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  ExpectNoRecordAnywhere(hops, request.settlement_id());
  EXPECT_TRUE(
      AccumulatorsAt("210100", request.id_number(), request.insurance_type(), 2026).empty());

  // A second PreSettle gives the same answer: nothing moved in between.
  SettleResponse again;
  ASSERT_GRPC_OK(PreSettle(request, &again));
  EXPECT_EQ(Diff(again.result(), estimate.result()), "");

  SettleResponse settled;
  ASSERT_GRPC_OK(Settle(request, &settled));
  EXPECT_EQ(AmountsOf(settled.result()), AmountsOf(estimate.result()));
  SettlementResult estimate_as_settled = estimate.result();
  estimate_as_settled.set_state(yidi::v1::SETTLEMENT_STATE_SETTLED);
  EXPECT_EQ(Diff(settled.result(), estimate_as_settled), "");
  ExpectRecordedAtEveryHop(hops, settled.result(), yidi::v1::SETTLEMENT_STATE_SETTLED);
}

// ---------------------------------------------------------------------------------------------
// Idempotency.

TEST_F(MeshTest, RetryWithTheSameIdReplaysAndCountsOnce) {
  ASSERT_OK_AND_ASSIGN(const SettleRequest request, LoadWorkload("01_cross_province_inpatient"));
  SettleResponse first;
  ASSERT_GRPC_OK(Settle(request, &first));
  EXPECT_FALSE(first.replayed());

  SettleResponse retry;
  ASSERT_GRPC_OK(Settle(request, &retry));
  EXPECT_TRUE(retry.replayed());
  EXPECT_EQ(Diff(retry.result(), first.result()), "");

  // A retry that reaches the insured node itself (as after a reply lost on the way back).
  SettleResponse at_insured;
  ASSERT_GRPC_OK(Settle(Municipal("360100"), RoutedCopy(request, first.result()), &at_insured));
  EXPECT_TRUE(at_insured.replayed());
  EXPECT_EQ(Diff(at_insured.result(), first.result()), "");

  auto counts = mesh_->RecordCounts(Municipal("360100"));
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(*counts, (std::map<SettlementState, int64_t>{{yidi::v1::SETTLEMENT_STATE_SETTLED, 1}}));
  ExpectRecordedAtEveryHop(HopsOf(request), first.result(), yidi::v1::SETTLEMENT_STATE_SETTLED);

  // The insured node counted the settlement once.
  auto accumulators = AccumulatorsAt("360100", kN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026);
  EXPECT_EQ(accumulators[kAccInpatientAdmissions], 1);
  EXPECT_EQ(accumulators[kAccInpatientPooledFundFen], first.result().pooled_fund_fen());
  EXPECT_EQ(accumulators[kAccInpatientDeductibleFen],
            first.result().deductible_applied_fen());

  // A second, big admission for the same person: the later-admission deductible applies, and
  // the pooled fund stops exactly at the yearly cap less ONE first settlement. Counted twice,
  // the cap would bite one first settlement earlier.
  ASSERT_OK_AND_ASSIGN(const auto person, DemoPerson("360100", kN1));
  ASSERT_TRUE(municipal::IsRetired(person.person_type()));
  ASSERT_OK_AND_ASSIGN(const auto policy, DemoPolicy("360100", yidi::v1::INSURANCE_TYPE_EMPLOYEE));
  ASSERT_OK_AND_ASSIGN(const auto rule, InpatientRule(policy, yidi::v1::HOSPITAL_LEVEL_3));
  ASSERT_OK_AND_ASSIGN(const auto hospital, DemoInstitution("H50000000001"));
  const int64_t surgery_fen = 12'000'000;  // 12 万元, class A, no cap in Chongqing
  ASSERT_OK_AND_ASSIGN(const SettleRequest second,
                       SettleRequestBuilder("H50000000001-20261120-0002")
                           .Patient(person, "360100")
                           .At(hospital)
                           .Stay(yidi::v1::MEDICAL_TYPE_INPATIENT, "2026-11-05", "2026-11-20")
                           .Line("003306000010000", 1000, surgery_fen)
                           .Build());
  const int64_t cap_fen = rule.pooled_fund_annual_cap_fen();
  const int64_t payable_fen =
      ApplyRatio(surgery_fen - rule.later_admission_deductible_fen(), rule.ratio_retired_bp());
  ASSERT_GT(payable_fen, cap_fen - first.result().pooled_fund_fen()) << "the cap must bite";
  SettleResponse second_response;
  ASSERT_GRPC_OK(Settle(second, &second_response));
  EXPECT_EQ(second_response.result().deductible_applied_fen(),
            rule.later_admission_deductible_fen());
  EXPECT_EQ(second_response.result().pooled_fund_fen(), cap_fen - first.result().pooled_fund_fen());
  accumulators = AccumulatorsAt("360100", kN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026);
  EXPECT_EQ(accumulators[kAccInpatientAdmissions], 2);
  EXPECT_EQ(accumulators[kAccInpatientPooledFundFen], cap_fen);
}

TEST_F(MeshTest, SameIdWithOtherContentIsAlreadyExistsAndChangesNothing) {
  ASSERT_OK_AND_ASSIGN(const SettleRequest request, LoadWorkload("01_cross_province_inpatient"));
  SettleResponse first;
  ASSERT_GRPC_OK(Settle(request, &first));
  const auto accumulators_before =
      AccumulatorsAt("360100", kN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026);

  // The same id for another bill: one day less of the single room.
  SettleRequest other = request;
  auto* line = other.mutable_fee_lines(0);
  line->set_quantity_milli(line->quantity_milli() - 1000);
  ASSERT_OK_AND_ASSIGN(const int64_t amount_fen,
                       LineAmountFen(line->quantity_milli(), line->unit_price_fen()));
  other.set_declared_total_fen(other.declared_total_fen() - line->amount_fen() + amount_fen);
  line->set_amount_fen(amount_fen);

  SettleResponse response;
  grpc::Status status = Settle(other, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("settlement_id"));
  EXPECT_THAT(status.error_message(), HasSubstr(request.settlement_id()));

  // The insured node refuses it on its own too.
  SettlementResult other_shape = first.result();
  other_shape.set_total_fen(other.declared_total_fen());
  other_shape.set_over_cap_fen(other_shape.over_cap_fen() - 3000);
  other_shape.set_in_scope_fen(other_shape.in_scope_fen() - 6000);
  ASSERT_TRUE(CheckFeeSplit(RoutedCopy(other, other_shape).classified_bill().split()).ok());
  SettleResponse at_insured;
  status = Settle(Municipal("360100"), RoutedCopy(other, other_shape), &at_insured);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("settlement_id"));

  ExpectRecordedAtEveryHop(HopsOf(request), first.result(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  EXPECT_EQ(AccumulatorsAt("360100", kN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026),
            accumulators_before);
}

TEST_F(MeshTest, ConcurrentDuplicatesSettleOnce) {
  ASSERT_OK_AND_ASSIGN(const SettleRequest request, LoadWorkload("01_cross_province_inpatient"));
  std::vector<grpc::Status> statuses(kDuplicateSenders);
  std::vector<SettleResponse> responses(kDuplicateSenders);
  std::latch start(kDuplicateSenders);
  std::vector<std::thread> senders;
  for (int i = 0; i < kDuplicateSenders; ++i) {
    senders.emplace_back([&, i] {
      start.arrive_and_wait();
      grpc::ClientContext context;
      context.set_deadline(DeadlineIn(kHospitalDeadline));
      statuses[i] = mesh_->Settlement(Municipal(request.treatment_region()))
                        .Settle(&context, request, &responses[i]);
    });
  }
  for (auto& sender : senders) sender.join();

  for (int i = 0; i < kDuplicateSenders; ++i) {
    SCOPED_TRACE(absl::StrCat("sender ", i));
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_code() << ": "
                                  << statuses[i].error_message();
    ExpectSlip(responses[i].result());
    EXPECT_EQ(Diff(responses[i].result(), responses[0].result()), "");
  }
  const std::vector<NodeId> hops = HopsOf(request);
  for (const NodeId& hop : hops) {
    auto counts = mesh_->RecordCounts(hop);
    ASSERT_TRUE(counts.ok()) << counts.status();
    EXPECT_EQ(*counts,
              (std::map<SettlementState, int64_t>{{yidi::v1::SETTLEMENT_STATE_SETTLED, 1}}))
        << NameOf(hop);
  }
  ExpectRecordedAtEveryHop(hops, responses[0].result(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  auto accumulators = AccumulatorsAt("360100", kN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026);
  EXPECT_EQ(accumulators[kAccInpatientAdmissions], 1);
  EXPECT_EQ(accumulators[kAccInpatientPooledFundFen],
            responses[0].result().pooled_fund_fen());
}

// ---------------------------------------------------------------------------------------------
// Reverse and Correct.

TEST_F(MeshTest, ReverseNegatesEveryAmountAndRestoresTheAccumulators) {
  ASSERT_OK_AND_ASSIGN(const SettleRequest request, LoadWorkload("06_reversal_inpatient"));
  const std::vector<NodeId> hops = HopsOf(request);
  ASSERT_EQ(hops.size(), 5u);
  ASSERT_OK_AND_ASSIGN(const auto policy, DemoPolicy("500000", yidi::v1::INSURANCE_TYPE_EMPLOYEE));
  ASSERT_OK_AND_ASSIGN(const auto rule, InpatientRule(policy, yidi::v1::HOSPITAL_LEVEL_3));

  SettleResponse original;
  ASSERT_GRPC_OK(Settle(request, &original));
  EXPECT_EQ(original.result().deductible_applied_fen(), rule.deductible_fen());

  yidi::v1::ReverseRequest reverse;
  reverse.set_settlement_id("H21010000001-20261123-R0001");
  reverse.set_original_settlement_id(request.settlement_id());
  reverse.set_insured_region(request.insured_region());
  reverse.set_treatment_region(request.treatment_region());
  reverse.set_institution_code(request.visit().institution_code());
  reverse.set_reason("patient refund");
  SettleResponse reversal;
  ASSERT_GRPC_OK(Reverse(reverse, &reversal));
  const SettlementResult& undo = reversal.result();
  EXPECT_FALSE(reversal.replayed());
  EXPECT_EQ(undo.kind(), yidi::v1::SETTLEMENT_KIND_REVERSAL);
  EXPECT_EQ(undo.settlement_id(), reverse.settlement_id());
  EXPECT_EQ(undo.original_settlement_id(), request.settlement_id());
  EXPECT_LT(undo.total_fen(), 0);
  for (const auto& [name, amount] : AmountsOf(original.result())) {
    EXPECT_EQ(AmountsOf(undo).at(name), -amount) << name;
  }
  ASSERT_EQ(undo.fee_categories_size(), original.result().fee_categories_size());
  for (int i = 0; i < undo.fee_categories_size(); ++i) {
    const auto& a = original.result().fee_categories(i).split();
    const auto& b = undo.fee_categories(i).split();
    EXPECT_EQ(b.total_fen(), -a.total_fen());
    EXPECT_EQ(b.in_scope_fen(), -a.in_scope_fen());
    EXPECT_EQ(b.class_b_copay_fen(), -a.class_b_copay_fen());
    EXPECT_EQ(b.over_cap_fen(), -a.over_cap_fen());
    EXPECT_EQ(b.self_pay_fen(), -a.self_pay_fen());
  }
  ASSERT_EQ(undo.fund_payments_size(), original.result().fund_payments_size());
  for (int i = 0; i < undo.fund_payments_size(); ++i) {
    EXPECT_EQ(undo.fund_payments(i).amount_fen(), -original.result().fund_payments(i).amount_fen());
  }

  ExpectRecordedAtEveryHop(hops, original.result(), yidi::v1::SETTLEMENT_STATE_REVERSED);
  ExpectRecordedAtEveryHop(hops, undo, yidi::v1::SETTLEMENT_STATE_SETTLED);

  // The original cannot be undone twice.
  yidi::v1::ReverseRequest twice = reverse;
  twice.set_settlement_id("H21010000001-20261123-R0002");
  SettleResponse refused;
  grpc::Status status = Reverse(twice, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  ExpectNoRecordAnywhere(hops, twice.settlement_id());

  // A retry of the reversal itself replays it.
  SettleResponse replay;
  ASSERT_GRPC_OK(Reverse(reverse, &replay));
  EXPECT_TRUE(replay.replayed());
  EXPECT_EQ(Diff(replay.result(), undo), "");

  // The accumulators are as if the original never happened: the next admission is a first
  // admission again, with the first-admission deductible of the policy file.
  for (const auto& [name, amount] :
       AccumulatorsAt("500000", kC1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026)) {
    EXPECT_EQ(amount, 0) << name;
  }
  ASSERT_OK_AND_ASSIGN(const auto person, DemoPerson("500000", kC1));
  ASSERT_OK_AND_ASSIGN(const auto hospital, DemoInstitution("H21010000001"));
  ASSERT_OK_AND_ASSIGN(const SettleRequest next,
                       SettleRequestBuilder("H21010000001-20261120-0002")
                           .Patient(person, "500000")
                           .At(hospital)
                           .Stay(yidi::v1::MEDICAL_TYPE_INPATIENT, "2026-11-14", "2026-11-20")
                           .Referral()
                           .Line("003309000010000", 1000, 1'500'000)  // A: PCI
                           .Line("001201000010000", 6000, 2800)       // A: nursing/day
                           .Build());
  SettleResponse next_response;
  ASSERT_GRPC_OK(Settle(next, &next_response));
  const SettlementResult& next_result = next_response.result();
  EXPECT_EQ(next_result.deductible_applied_fen(), rule.deductible_fen());
  EXPECT_NE(next_result.deductible_applied_fen(), rule.later_admission_deductible_fen());
  // Referred patient: the retiree ratio less the referred-or-emergency reduction.
  const int32_t ratio_bp =
      rule.ratio_retired_bp() - policy.remote_care().referred_or_emergency_reduction_bp();
  EXPECT_EQ(next_result.pooled_fund_fen(),
            ApplyRatio(next_result.in_scope_fen() - rule.deductible_fen(), ratio_bp));
}

TEST_F(MeshTest, CorrectVoidsACommittedSettlementAtEveryHop) {
  ASSERT_OK_AND_ASSIGN(const SettleRequest request, LoadWorkload("01_cross_province_inpatient"));
  const std::vector<NodeId> hops = HopsOf(request);
  SettleResponse settled;
  ASSERT_GRPC_OK(Settle(request, &settled));

  yidi::v1::CorrectRequest correct;
  correct.set_settlement_id(request.settlement_id());
  correct.set_insured_region(request.insured_region());
  correct.set_treatment_region(request.treatment_region());
  correct.set_institution_code(request.visit().institution_code());
  yidi::v1::CorrectResponse corrected;
  ASSERT_GRPC_OK(Correct(correct, &corrected));
  EXPECT_TRUE(corrected.was_committed());
  EXPECT_EQ(corrected.state(), yidi::v1::SETTLEMENT_STATE_VOIDED);
  EXPECT_EQ(corrected.settlement_id(), request.settlement_id());
  for (const NodeId& hop : hops) {
    EXPECT_EQ(RecordAt(hop, request.settlement_id()).state(), yidi::v1::SETTLEMENT_STATE_VOIDED)
        << NameOf(hop);
  }

  // A late retry of the voided settlement is refused, and nothing changes.
  SettleResponse retry;
  const grpc::Status status = Settle(request, &retry);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  for (const NodeId& hop : hops) {
    EXPECT_EQ(RecordAt(hop, request.settlement_id()).state(), yidi::v1::SETTLEMENT_STATE_VOIDED)
        << NameOf(hop);
  }

  // The voided settlement no longer counts: the next admission is a first admission.
  for (const auto& [name, amount] :
       AccumulatorsAt("360100", kN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026)) {
    EXPECT_EQ(amount, 0) << name;
  }
  SettleRequest again = request;
  again.set_settlement_id("H50000000001-20261017-0002");
  SettleResponse again_response;
  ASSERT_GRPC_OK(Settle(again, &again_response));
  EXPECT_EQ(AmountsOf(again_response.result()), AmountsOf(settled.result()));
}

TEST_F(MeshTest, CorrectOfAnIdNeverSettledLeavesATombstone) {
  ASSERT_OK_AND_ASSIGN(SettleRequest request, LoadWorkload("01_cross_province_inpatient"));
  request.set_settlement_id("H50000000001-20261017-0099");
  const std::vector<NodeId> hops = HopsOf(request);

  yidi::v1::CorrectRequest correct;
  correct.set_settlement_id(request.settlement_id());
  correct.set_insured_region(request.insured_region());
  correct.set_treatment_region(request.treatment_region());
  correct.set_institution_code(request.visit().institution_code());
  yidi::v1::CorrectResponse corrected;
  ASSERT_GRPC_OK(Correct(correct, &corrected));
  EXPECT_FALSE(corrected.was_committed());
  EXPECT_EQ(corrected.state(), yidi::v1::SETTLEMENT_STATE_VOIDED);
  for (const NodeId& hop : hops) {
    EXPECT_EQ(RecordAt(hop, request.settlement_id()).state(), yidi::v1::SETTLEMENT_STATE_VOIDED)
        << NameOf(hop);
  }

  // The late Settle must be refused, and nothing may be committed.
  SettleResponse late;
  const grpc::Status status = Settle(request, &late);
  EXPECT_FALSE(status.ok());
  for (const NodeId& hop : hops) {
    const GetSettlementResponse record = RecordAt(hop, request.settlement_id());
    EXPECT_EQ(record.state(), yidi::v1::SETTLEMENT_STATE_VOIDED) << NameOf(hop);
    EXPECT_EQ(record.result().total_fen(), 0) << NameOf(hop);
  }
  EXPECT_TRUE(AccumulatorsAt("360100", kN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026).empty());
  // A tombstone has no digest: the VOIDED state is checked before the digest.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr(request.settlement_id()));
}

// ---------------------------------------------------------------------------------------------
// A hop down.

TEST_F(MeshTest, ProvincialHopDownLeavesTheSettlementInDoubtUntilARetry) {
  ASSERT_OK_AND_ASSIGN(SettleRequest request, LoadWorkload("01_cross_province_inpatient"));
  request.set_settlement_id("H50000000001-20261017-0002");
  const std::vector<NodeId> hops = HopsOf(request);
  ASSERT_EQ(hops[3], Provincial("360000"));

  ASSERT_TRUE(mesh_->StopNode(Provincial("360000")).ok());
  SettleResponse response;
  grpc::Status status = Settle(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("provincial 360000"));
  for (const NodeId& hop : {hops[0], hops[1], hops[2]}) {
    const GetSettlementResponse record = RecordAt(hop, request.settlement_id());
    EXPECT_EQ(record.state(), yidi::v1::SETTLEMENT_STATE_IN_DOUBT) << NameOf(hop);
    EXPECT_NE(record.result().state(), yidi::v1::SETTLEMENT_STATE_SETTLED) << NameOf(hop);
  }
  ExpectNoRecord(hops[4], request.settlement_id());

  ASSERT_TRUE(mesh_->RestartNode(Provincial("360000")).ok());
  ExpectNoRecord(hops[3], request.settlement_id());
  ASSERT_GRPC_OK(SettleUntilAnswered(request, &response));
  EXPECT_EQ(response.result().state(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  EXPECT_EQ(response.result().settlement_id(), request.settlement_id());
  ExpectRecordedAtEveryHop(hops, response.result(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  auto accumulators = AccumulatorsAt("360100", kN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026);
  EXPECT_EQ(accumulators[kAccInpatientAdmissions], 1);
}

TEST_F(MeshTest, InsuredNodeDownIsUnavailableAndARetrySettlesAfterRestart) {
  // A settlement committed before the insured node goes down survives its restart.
  ASSERT_OK_AND_ASSIGN(const SettleRequest earlier, LoadWorkload("03_intra_province_inpatient"));
  SettleResponse earlier_response;
  ASSERT_GRPC_OK(Settle(earlier, &earlier_response));

  ASSERT_OK_AND_ASSIGN(SettleRequest request, LoadWorkload("01_cross_province_inpatient"));
  request.set_settlement_id("H50000000001-20261017-0003");
  const std::vector<NodeId> hops = HopsOf(request);
  ASSERT_EQ(hops[4], Municipal("360100"));

  ASSERT_TRUE(mesh_->StopNode(Municipal("360100")).ok());
  SettleResponse response;
  grpc::Status status = Settle(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("municipal 360100"));
  for (const NodeId& hop : {hops[0], hops[1], hops[2], hops[3]}) {
    EXPECT_EQ(RecordAt(hop, request.settlement_id()).state(), yidi::v1::SETTLEMENT_STATE_IN_DOUBT)
        << NameOf(hop);
  }

  // A person look-up cannot reach it either, and says which hop is down.
  yidi::v1::GetInsuredPersonRequest person_request;
  person_request.set_id_number(kN1);
  person_request.set_insured_region("360100");
  yidi::v1::GetInsuredPersonResponse person_response;
  grpc::ClientContext person_context;
  person_context.set_deadline(DeadlineIn(kHospitalDeadline));
  status = mesh_->Person(Municipal("500000"))
               .GetInsuredPerson(&person_context, person_request, &person_response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("municipal 360100"));

  ASSERT_TRUE(mesh_->RestartNode(Municipal("360100")).ok());
  ExpectNoRecord(Municipal("360100"), request.settlement_id());
  ExpectRecordedAtEveryHop(HopsOf(earlier), earlier_response.result(),
                           yidi::v1::SETTLEMENT_STATE_SETTLED);
  ASSERT_GRPC_OK(SettleUntilAnswered(request, &response));
  EXPECT_FALSE(response.replayed());
  ExpectRecordedAtEveryHop(hops, response.result(), yidi::v1::SETTLEMENT_STATE_SETTLED);
}

TEST_F(MeshTest, CorrectResolvesASettlementLeftInDoubtByAHopDown) {
  ASSERT_OK_AND_ASSIGN(SettleRequest request, LoadWorkload("01_cross_province_inpatient"));
  request.set_settlement_id("H50000000001-20261017-0004");
  const std::vector<NodeId> hops = HopsOf(request);
  ASSERT_TRUE(mesh_->StopNode(Provincial("360000")).ok());
  SettleResponse response;
  grpc::Status status = Settle(request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();

  yidi::v1::CorrectRequest correct;
  correct.set_settlement_id(request.settlement_id());
  correct.set_insured_region(request.insured_region());
  correct.set_treatment_region(request.treatment_region());
  correct.set_institution_code(request.visit().institution_code());
  // While the hop is down the correction cannot reach the insured region either.
  yidi::v1::CorrectResponse corrected;
  status = Correct(correct, &corrected);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("provincial 360000"));
  EXPECT_EQ(RecordAt(hops[0], request.settlement_id()).state(),
            yidi::v1::SETTLEMENT_STATE_IN_DOUBT);

  ASSERT_TRUE(mesh_->RestartNode(Provincial("360000")).ok());
  const absl::Time give_up = absl::Now() + kRetryAfterRestartMax;
  do {
    corrected.Clear();
    status = Correct(correct, &corrected);
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE) break;
    absl::SleepFor(kRetryPause);
  } while (absl::Now() < give_up);
  ASSERT_GRPC_OK(status);
  EXPECT_FALSE(corrected.was_committed());
  for (const NodeId& hop : hops) {
    EXPECT_EQ(RecordAt(hop, request.settlement_id()).state(), yidi::v1::SETTLEMENT_STATE_VOIDED)
        << NameOf(hop);
  }
  // The hospital's late retry is refused: the id is voided, nothing is committed.
  status = Settle(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_TRUE(AccumulatorsAt("360100", kN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026).empty());
}

TEST_F(MeshTest, RetryAfterALostReplyReturnsTheCommittedResult) {
  ASSERT_OK_AND_ASSIGN(const SettleRequest request, LoadWorkload("01_cross_province_inpatient"));
  // The insured node commits, but the reply never gets back up the path: simulated by
  // delivering the routed request (classified as PreSettle shows it) to the insured node only.
  SettleResponse estimate;
  ASSERT_GRPC_OK(PreSettle(request, &estimate));
  SettleResponse committed;
  ASSERT_GRPC_OK(Settle(Municipal("360100"), RoutedCopy(request, estimate.result()), &committed));
  EXPECT_FALSE(committed.replayed());
  const std::vector<NodeId> hops = HopsOf(request);
  for (int i = 0; i < 4; ++i) ExpectNoRecord(hops[i], request.settlement_id());

  // The hospital retries through the mesh: the committed result comes back and every hop
  // records it; the insured node does not count it again.
  SettleResponse retry;
  ASSERT_GRPC_OK(Settle(request, &retry));
  EXPECT_TRUE(retry.replayed());
  EXPECT_EQ(Diff(retry.result(), committed.result()), "");
  ExpectRecordedAtEveryHop(hops, committed.result(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  auto accumulators = AccumulatorsAt("360100", kN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026);
  EXPECT_EQ(accumulators[kAccInpatientAdmissions], 1);
  EXPECT_EQ(accumulators[kAccInpatientPooledFundFen],
            committed.result().pooled_fund_fen());
}

// The reply of a committed settlement is lost on its way up: the hops above the insured node
// hold it IN_DOUBT while the insured node has it SETTLED. Simulated by stopping the insured
// province while the hospital settles (IN_DOUBT above it), then delivering the classified
// request to the insured node directly (what the lost forward had done). Returns the insured
// node's committed result.
SettlementResult CommitBelowAnInDoubtPath(
    InProcessMesh& mesh, const SettleRequest& request, const SettlementResult& classification,
    const std::function<grpc::Status(const NodeId&, const SettleRequest&, SettleResponse*)>&
        settle) {
  SettleResponse response;
  EXPECT_TRUE(mesh.StopNode(Provincial(ProvinceCodeOf(request.insured_region()))).ok());
  grpc::Status status = settle(Municipal(request.treatment_region()), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_TRUE(mesh.RestartNode(Provincial(ProvinceCodeOf(request.insured_region()))).ok());
  SettleResponse committed;
  status =
      settle(Municipal(request.insured_region()), RoutedCopy(request, classification), &committed);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return committed.result();
}

yidi::v1::ReverseRequest ReversalOf(const SettleRequest& request, absl::string_view id) {
  yidi::v1::ReverseRequest reverse;
  reverse.set_settlement_id(std::string(id));
  reverse.set_original_settlement_id(request.settlement_id());
  reverse.set_insured_region(request.insured_region());
  reverse.set_treatment_region(request.treatment_region());
  reverse.set_institution_code(request.visit().institution_code());
  reverse.set_reason("patient refund");
  return reverse;
}

TEST_F(MeshTest, RetryOfASettlementReversedWhileInDoubtIsAnsweredNotCrashed) {
  ASSERT_OK_AND_ASSIGN(const SettleRequest request, LoadWorkload("01_cross_province_inpatient"));
  const std::vector<NodeId> hops = HopsOf(request);
  SettleResponse estimate;
  ASSERT_GRPC_OK(PreSettle(request, &estimate));
  const SettlementResult committed =
      CommitBelowAnInDoubtPath(*mesh_, request, estimate.result(),
                               [this](const NodeId& at, const SettleRequest& r,
                                      SettleResponse* out) { return Settle(at, r, out); });
  ASSERT_FALSE(HasFailure());
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(RecordAt(hops[i], request.settlement_id()).state(),
              yidi::v1::SETTLEMENT_STATE_IN_DOUBT)
        << NameOf(hops[i]);
  }

  // The hospital refunds it through the mesh: the insured node reverses what it committed.
  const yidi::v1::ReverseRequest reverse = ReversalOf(request, "H50000000001-20261123-R0001");
  SettleResponse reversal;
  const absl::Time give_up = absl::Now() + kRetryAfterRestartMax;
  grpc::Status status;
  do {
    reversal.Clear();
    status = Reverse(reverse, &reversal);
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE) break;
    absl::SleepFor(kRetryPause);
  } while (absl::Now() < give_up);
  ASSERT_GRPC_OK(status);
  EXPECT_EQ(reversal.result().total_fen(), -committed.total_fen());
  ExpectRecordedAtEveryHop(hops, reversal.result(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  const GetSettlementResponse entry = RecordAt(hops[0], request.settlement_id());
  EXPECT_EQ(entry.state(), yidi::v1::SETTLEMENT_STATE_REVERSED);
  // The entry holds the original as REVERSED without its result; a retry must forward and
  // fetch the stored outcome instead of replaying nothing (this once crashed the node).
  SettleResponse retry;
  ASSERT_GRPC_OK(Settle(request, &retry));
  EXPECT_TRUE(retry.replayed());
  EXPECT_EQ(retry.result().state(), yidi::v1::SETTLEMENT_STATE_REVERSED);
  EXPECT_EQ(AmountsOf(retry.result()), AmountsOf(committed));
}

TEST_F(MeshTest, RetryOfASettlementReversedBelowItIsNotRecordedAsSettled) {
  ASSERT_OK_AND_ASSIGN(const SettleRequest request, LoadWorkload("01_cross_province_inpatient"));
  const std::vector<NodeId> hops = HopsOf(request);
  SettleResponse estimate;
  ASSERT_GRPC_OK(PreSettle(request, &estimate));
  const SettlementResult committed =
      CommitBelowAnInDoubtPath(*mesh_, request, estimate.result(),
                               [this](const NodeId& at, const SettleRequest& r,
                                      SettleResponse* out) { return Settle(at, r, out); });
  ASSERT_FALSE(HasFailure());
  // The reversal's reply is lost as well: the insured node reverses, nobody above hears of it.
  SettleResponse reversal;
  {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kHospitalDeadline));
    ASSERT_GRPC_OK(
        mesh_->Settlement(Municipal(request.insured_region()))
            .Reverse(&context, ReversalOf(request, "H50000000001-20261123-R0001"), &reversal));
    ExpectSlip(reversal.result());
  }

  // The hospital retries the original: the insured node replays it as REVERSED.
  SettleResponse retry;
  ASSERT_GRPC_OK(SettleUntilAnswered(request, &retry));
  EXPECT_TRUE(retry.replayed());
  EXPECT_EQ(retry.result().state(), yidi::v1::SETTLEMENT_STATE_REVERSED);
  EXPECT_EQ(AmountsOf(retry.result()), AmountsOf(committed));
  EXPECT_EQ(RecordAt(hops[4], request.settlement_id()).state(),
            yidi::v1::SETTLEMENT_STATE_REVERSED);
  std::vector<std::string> settled_hops;
  for (int i = 0; i < 4; ++i) {
    if (RecordAt(hops[i], request.settlement_id()).state() == yidi::v1::SETTLEMENT_STATE_SETTLED) {
      settled_hops.push_back(NameOf(hops[i]));
    }
  }
  EXPECT_TRUE(settled_hops.empty()) << absl::StrJoin(settled_hops, ", ");
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(RecordAt(hops[i], request.settlement_id()).state(),
              yidi::v1::SETTLEMENT_STATE_REVERSED)
        << NameOf(hops[i]);
  }
}

TEST_F(MeshTest, ConcurrentBillsOfOnePersonAreCountedExactly) {
  ASSERT_OK_AND_ASSIGN(const auto person, DemoPerson("360100", kN1));
  ASSERT_OK_AND_ASSIGN(const auto hospital, DemoInstitution("H50000000001"));
  ASSERT_OK_AND_ASSIGN(const auto policy, DemoPolicy("360100", yidi::v1::INSURANCE_TYPE_EMPLOYEE));
  ASSERT_OK_AND_ASSIGN(const auto rule, InpatientRule(policy, yidi::v1::HOSPITAL_LEVEL_3));
  std::vector<SettleRequest> requests;
  for (int i = 0; i < kDuplicateSenders; ++i) {
    ASSERT_OK_AND_ASSIGN(SettleRequest request,
                         SettleRequestBuilder(absl::StrCat("H50000000001-20261120-01", i))
                             .Patient(person, "360100")
                             .At(hospital)
                             .Stay(yidi::v1::MEDICAL_TYPE_INPATIENT, "2026-11-10", "2026-11-20")
                             .Line("001102000020000", 10000, 2000)
                             .Line("003302000010000", 1000, 150000 + 1000 * i)
                             .Build());
    requests.push_back(std::move(request));
  }
  std::vector<grpc::Status> statuses(kDuplicateSenders);
  std::vector<SettleResponse> responses(kDuplicateSenders);
  std::latch start(kDuplicateSenders);
  std::vector<std::thread> senders;
  for (int i = 0; i < kDuplicateSenders; ++i) {
    senders.emplace_back([&, i] {
      start.arrive_and_wait();
      grpc::ClientContext context;
      context.set_deadline(DeadlineIn(kHospitalDeadline));
      statuses[i] =
          mesh_->Settlement(Municipal("500000")).Settle(&context, requests[i], &responses[i]);
    });
  }
  for (auto& sender : senders) sender.join();

  int64_t pooled_fen = 0;
  int first_admissions = 0;
  for (int i = 0; i < kDuplicateSenders; ++i) {
    SCOPED_TRACE(absl::StrCat("bill ", i));
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    ExpectSlip(responses[i].result());
    pooled_fen += responses[i].result().pooled_fund_fen();
    if (responses[i].result().deductible_applied_fen() == rule.deductible_fen()) {
      ++first_admissions;
    } else {
      EXPECT_EQ(responses[i].result().deductible_applied_fen(),
                rule.later_admission_deductible_fen());
    }
  }
  EXPECT_EQ(first_admissions, 1);
  auto accumulators = AccumulatorsAt("360100", kN1, yidi::v1::INSURANCE_TYPE_EMPLOYEE, 2026);
  EXPECT_EQ(accumulators[kAccInpatientAdmissions], kDuplicateSenders);
  EXPECT_EQ(accumulators[kAccInpatientPooledFundFen], pooled_fen);
}

// ---------------------------------------------------------------------------------------------
// Bad input at the edge.

std::string WithWrongCheckCharacter(std::string id_number) {
  const char right = IdNumberCheckCharacter(absl::string_view(id_number).substr(0, 17));
  id_number[17] = right == '0' ? '1' : '0';
  return id_number;
}

TEST_F(MeshTest, BadInputIsRefusedAtTheEdgeNamingTheField) {
  ASSERT_OK_AND_ASSIGN(const SettleRequest good, LoadWorkload("01_cross_province_inpatient"));
  struct Case {
    std::string name;
    std::function<void(SettleRequest&)> spoil;
    std::string field;
    NodeId called = Municipal("500000");
  };
  const std::vector<Case> cases = {
      {"bad ID check digit",
       [](SettleRequest& r) { r.set_id_number(WithWrongCheckCharacter(r.id_number())); },
       "id_number"},
      {"unknown insured region", [](SettleRequest& r) { r.set_insured_region("110000"); },
       "insured_region"},
      {"unknown institution",
       [](SettleRequest& r) {
         r.mutable_visit()->set_institution_code("H99999999999");
         r.set_settlement_id("H99999999999-20261017-0001");
       },
       "visit.institution_code"},
      {"institution of another region",
       [](SettleRequest& r) {
         r.mutable_visit()->set_institution_code("H36010000001");
         r.set_settlement_id("H36010000001-20261017-0001");
       },
       "visit.institution_code"},
      {"negative amount",
       [](SettleRequest& r) {
         auto* line = r.mutable_fee_lines(2);
         r.set_declared_total_fen(r.declared_total_fen() - 2 * line->amount_fen());
         line->set_amount_fen(-line->amount_fen());
       },
       "fee_lines[2].amount_fen"},
      {"lines not adding up",
       [](SettleRequest& r) { r.set_declared_total_fen(r.declared_total_fen() + 1); },
       "declared_total_fen"},
      {"discharge before admission",
       [](SettleRequest& r) { r.mutable_visit()->set_discharge_date("2026-10-07"); },
       "visit.discharge_date"},
      {"empty bill",
       [](SettleRequest& r) {
         r.clear_fee_lines();
         r.set_declared_total_fen(0);
       },
       "fee_lines"},
      {"item not in the treatment region's catalogue",
       [](SettleRequest& r) {
         // 热敏灸 is in Jiangxi's catalogues only.
         auto* line = r.mutable_fee_lines(5);
         line->set_item_code("004300000050000");
       },
       "fee_lines[5].item_code"},
      {"classification supplied by the hospital",
       [](SettleRequest& r) {
         auto* split = r.mutable_classified_bill()->mutable_split();
         split->set_total_fen(r.declared_total_fen());
         split->set_in_scope_fen(r.declared_total_fen());
         r.mutable_classified_bill()->set_hospital_level(yidi::v1::HOSPITAL_LEVEL_3);
       },
       "classified_bill"},
      {"hospital calling a node that is not its treatment region", [](SettleRequest&) {},
       "treatment_region", Municipal("360100")},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SettleRequest request = good;
    c.spoil(request);
    SettleResponse response;
    const grpc::Status status = Settle(c.called, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.field));
    ExpectNoRecord(c.called, request.settlement_id());
    ExpectNoRecord(Municipal("500000"), request.settlement_id());
  }
  // None of it reached anywhere.
  for (const NodeId& node : mesh_->Nodes()) {
    auto counts = mesh_->RecordCounts(node);
    ASSERT_TRUE(counts.ok()) << counts.status();
    EXPECT_TRUE(counts->empty()) << NameOf(node);
  }
}

TEST_F(MeshTest, SettlementDateIsTheChinaStandardTimeDay) {
  // 16:30 UTC on 30 November is 00:30 on 1 December in China: the next day and clearing month.
  mesh_->clock().Set(
      absl::FromCivil(absl::CivilSecond(2026, 11, 30, 16, 30, 0), absl::UTCTimeZone()));
  ASSERT_OK_AND_ASSIGN(const SettleRequest request, LoadWorkload("01_cross_province_inpatient"));
  SettleResponse response;
  ASSERT_GRPC_OK(Settle(request, &response));
  EXPECT_EQ(response.result().settlement_date(), "2026-12-01");
  EXPECT_EQ(response.result().settled_at(), "2026-12-01T00:30:00+08:00");
  ExpectRecordedAtEveryHop(HopsOf(request), response.result(), yidi::v1::SETTLEMENT_STATE_SETTLED);
}

TEST_F(MeshTest, InstitutionNotNetworkedIsRefused) {
  ASSERT_OK_AND_ASSIGN(const auto hospital, DemoInstitution("H50000000003"));
  ASSERT_FALSE(hospital.networked());
  ASSERT_OK_AND_ASSIGN(const auto person, DemoPerson("360100", kN1));
  ASSERT_OK_AND_ASSIGN(const SettleRequest request,
                       SettleRequestBuilder("H50000000003-20261120-0001")
                           .Patient(person, "360100")
                           .At(hospital)
                           .Stay(yidi::v1::MEDICAL_TYPE_OUTPATIENT, "2026-11-20", "2026-11-20")
                           .Line("001102000010000", 1000, 2500)
                           .Build());
  SettleResponse response;
  const grpc::Status status = Settle(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("visit.institution_code"));
  ExpectNoRecordAnywhere(HopsOf(request), request.settlement_id());
}

TEST(InProcessMeshTest, RunsOnInMemoryDatabasesToo) {
  InProcessMesh::Options options;
  options.file_databases = false;
  auto mesh = InProcessMesh::Start(options);
  ASSERT_TRUE(mesh.ok()) << mesh.status();
  ASSERT_OK_AND_ASSIGN(const SettleRequest request, LoadWorkload("03_intra_province_inpatient"));
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kHospitalDeadline));
  SettleResponse response;
  ASSERT_GRPC_OK((*mesh)->Settlement(Municipal("360100")).Settle(&context, request, &response));
  ExpectSlip(response.result());
  for (const NodeId& hop : HopsOf(request)) {
    auto record = (*mesh)->GetSettlement(hop, request.settlement_id());
    ASSERT_TRUE(record.ok()) << NameOf(hop) << ": " << record.status();
    EXPECT_EQ(record->state(), yidi::v1::SETTLEMENT_STATE_SETTLED);
  }
  // A restarted in-memory node starts empty.
  ASSERT_TRUE((*mesh)->StopNode(Provincial("360000")).ok());
  EXPECT_FALSE((*mesh)->IsRunning(Provincial("360000")));
  EXPECT_EQ((*mesh)->StopNode(Provincial("360000")).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*mesh)->RestartNode(Provincial("360000")).ok());
  EXPECT_EQ((*mesh)->GetSettlement(Provincial("360000"), request.settlement_id()).status().code(),
            absl::StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------------------------
// Person and filing look-ups, routed to the insured region.

TEST_F(MeshTest, GetInsuredPersonIsRoutedAcrossProvinces) {
  yidi::v1::GetInsuredPersonRequest request;
  request.set_id_number(kN1);
  request.set_insured_region("360100");
  request.set_treatment_region("500000");
  request.set_date("2026-10-08");
  yidi::v1::GetInsuredPersonResponse response;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kHospitalDeadline));
  ASSERT_GRPC_OK(mesh_->Person(Municipal("500000")).GetInsuredPerson(&context, request, &response));
  EXPECT_EQ(response.person().id_number(), kN1);
  EXPECT_EQ(response.person().insured_region(), "360100");
  EXPECT_EQ(response.person().status(), yidi::v1::INSURED_STATUS_ACTIVE);
  EXPECT_TRUE(response.filed_for_treatment());
  EXPECT_TRUE(response.eligible()) << response.eligibility_message();
  EXPECT_FALSE(response.deemed_filed());
  EXPECT_EQ(response.filing_in_force().filing_id(), "F360100-0001");
  EXPECT_EQ(response.filing_in_force().treatment_region(), "500000");

  // A filing that expired before the date is not in force (N3, Shenyang, ended 2026-08-31).
  yidi::v1::GetInsuredPersonRequest expired;
  expired.set_id_number(kN3);
  expired.set_insured_region("360100");
  expired.set_treatment_region("210100");
  expired.set_date("2026-11-20");
  yidi::v1::GetInsuredPersonResponse expired_response;
  grpc::ClientContext expired_context;
  expired_context.set_deadline(DeadlineIn(kHospitalDeadline));
  ASSERT_GRPC_OK(mesh_->Person(Municipal("210100"))
                     .GetInsuredPerson(&expired_context, expired, &expired_response));
  EXPECT_FALSE(expired_response.filed_for_treatment());
  EXPECT_FALSE(expired_response.eligible());
  EXPECT_EQ(expired_response.person().filings_size(), 1);
}

TEST_F(MeshTest, CheckFilingIsAnsweredByTheInsuredRegion) {
  yidi::v1::CheckFilingRequest request;
  request.set_id_number(kN1);
  request.set_insured_region("360100");
  request.set_treatment_region("500000");
  request.set_date("2026-10-08");
  yidi::v1::CheckFilingResponse response;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kHospitalDeadline));
  ASSERT_GRPC_OK(mesh_->Filing(Municipal("500000")).CheckFiling(&context, request, &response));
  EXPECT_TRUE(response.filed());
  EXPECT_EQ(response.filing().filing_id(), "F360100-0001");
  EXPECT_EQ(response.answered_by(), "municipal 360100");
  EXPECT_EQ(response.as_of(), FormatCstTimestamp(DemoNow()));
}

}  // namespace
}  // namespace yidi::testing
