// Tests for common/settlement_validation.h: a valid request mutated one field at a time, each
// mutation refused with INVALID_ARGUMENT naming the field; the fee split and the slip
// identities, each broken on its own.
#include "common/settlement_validation.h"

#include <functional>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/directory.h"
#include "common/limits.h"
#include "common/money.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using yidi::v1::SettleRequest;
using yidi::v1::SettlementResult;

constexpr char kDirectoryText[] = R"pb(
  regions { code: "000000" kind: NODE_KIND_NATIONAL address: "127.0.0.1:17000" }
  regions { code: "500000" kind: NODE_KIND_PROVINCIAL provincial_pooling: true }
  regions { code: "500000" kind: NODE_KIND_MUNICIPAL }
  regions { code: "360000" kind: NODE_KIND_PROVINCIAL }
  regions { code: "360100" kind: NODE_KIND_MUNICIPAL }
  regions { code: "360700" kind: NODE_KIND_MUNICIPAL }
  regions { code: "210000" kind: NODE_KIND_PROVINCIAL }
  regions { code: "210100" kind: NODE_KIND_MUNICIPAL }
  regions { code: "110000" kind: NODE_KIND_PROVINCIAL provincial_pooling: true }
  regions { code: "110000" kind: NODE_KIND_MUNICIPAL }
  institutions { code: "H36010000001" name: "南昌一院" region_code: "360100" level: HOSPITAL_LEVEL_3 networked: true }
  institutions { code: "H36070000001" name: "赣州一院" region_code: "360700" level: HOSPITAL_LEVEL_2 networked: true }
  institutions { code: "H50000000001" name: "重庆一院" region_code: "500000" level: HOSPITAL_LEVEL_3 networked: true }
)pb";

// Valid ID: 21010219700615004 weighs 186; 186 mod 11 = 10 → '2'.
constexpr char kIdNumber[] = "210102197006150042";

DirectoryIndex MakeDirectory() {
  yidi::v1::Directory directory;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(kDirectoryText, &directory));
  auto index = DirectoryIndex::Build(directory);
  EXPECT_TRUE(index.ok()) << index.status();
  return *std::move(index);
}

void AddLine(SettleRequest* request, int number, const char* item, int64_t quantity_milli,
             int64_t unit_price_fen, int64_t amount_fen, const char* fee_date) {
  auto* line = request->add_fee_lines();
  line->set_line_number(number);
  line->set_item_code(item);
  line->set_item_name(absl::StrCat("item ", item));
  line->set_quantity_milli(quantity_milli);
  line->set_unit_price_fen(unit_price_fen);
  line->set_amount_fen(amount_fen);
  line->set_fee_date(fee_date);
}

// A Shenyang employee treated as an inpatient in Nanchang, 2026-01-05 to 2026-01-10.
SettleRequest ValidHospitalRequest() {
  SettleRequest request;
  request.set_settlement_id("H36010000001-20260105-0001");
  request.set_insured_region("210100");
  request.set_treatment_region("360100");
  request.set_id_number(kIdNumber);
  request.set_name("王五");
  request.set_insurance_type(yidi::v1::INSURANCE_TYPE_EMPLOYEE);
  auto* visit = request.mutable_visit();
  visit->set_medical_type(yidi::v1::MEDICAL_TYPE_INPATIENT);
  visit->set_institution_code("H36010000001");
  visit->set_admission_number("ZY20260001");
  visit->set_admission_date("2026-01-05");
  visit->set_discharge_date("2026-01-10");
  visit->add_diagnosis_codes("I10");
  visit->set_department("心内科");
  AddLine(&request, 1, "X001", 1500, 333, 500, "2026-01-05");      // 1.5 × 3.33 = 4.995 → 5.00 元
  AddLine(&request, 2, "X002", 2000, 12345, 24690, "2026-01-10");  // 2 × 123.45
  AddLine(&request, 3, "X003", 1000, 80000, 80000, "");            // no fee date
  request.set_declared_total_fen(500 + 24690 + 80000);             // 105190
  return request;
}

// The same request after the treatment region classified it:
// 105190 = 90000 in scope + 5000 class-B co-pay + 190 over cap + 10000 self-pay.
SettleRequest ValidRoutedRequest() {
  SettleRequest request = ValidHospitalRequest();
  auto* bill = request.mutable_classified_bill();
  bill->set_hospital_level(yidi::v1::HOSPITAL_LEVEL_3);
  bill->set_institution_name("南昌一院");
  auto* split = bill->mutable_split();
  split->set_total_fen(105190);
  split->set_in_scope_fen(90000);
  split->set_class_b_copay_fen(5000);
  split->set_over_cap_fen(190);
  split->set_self_pay_fen(10000);
  return request;
}

void SetLines(SettleRequest* request, int count) {
  request->clear_fee_lines();
  for (int i = 0; i < count; ++i) AddLine(request, i + 1, "X001", 1000, 1, 1, "2026-01-06");
  request->set_declared_total_fen(count);
}

class SettlementValidationTest : public ::testing::Test {
 protected:
  SettlementValidationTest() : directory_(MakeDirectory()) {}

  absl::Status Validate(const SettleRequest& request, bool routed) const {
    return routed ? ValidateRoutedSettleRequest(request, directory_)
                  : ValidateHospitalSettleRequest(request, directory_);
  }

  DirectoryIndex directory_;
};

TEST_F(SettlementValidationTest, BaseRequestsAreValid) {
  EXPECT_TRUE(ValidateHospitalSettleRequest(ValidHospitalRequest(), directory_).ok())
      << ValidateHospitalSettleRequest(ValidHospitalRequest(), directory_);
  EXPECT_TRUE(ValidateRoutedSettleRequest(ValidRoutedRequest(), directory_).ok())
      << ValidateRoutedSettleRequest(ValidRoutedRequest(), directory_);
}

struct MutationCase {
  const char* name;
  bool routed;  // validate as a routed request (else as the hospital's)
  std::function<void(SettleRequest&)> mutate;
  // kOk when the mutation keeps the request valid; otherwise INVALID_ARGUMENT.
  bool valid;
  // The message starts with this (the field), e.g. "fee_lines[1].fee_date:".
  const char* message_prefix;
};

TEST_F(SettlementValidationTest, OneMutationPerCase) {
  const MutationCase cases[] = {
      // Identity.
      {"bad ID check digit", false,
       [](SettleRequest& r) { r.set_id_number("210102197006150043"); }, false, "id_number:"},
      {"ID of 17 characters", false,
       [](SettleRequest& r) { r.set_id_number("21010219700615004"); }, false, "id_number:"},
      {"ID with invalid birth date", true,
       [](SettleRequest& r) { r.set_id_number("210102197002300040"); }, false, "id_number:"},
      {"lowercase x check character", false,
       [](SettleRequest& r) { r.set_id_number("11010519491231002x"); }, true, ""},
      {"name empty", false, [](SettleRequest& r) { r.clear_name(); }, false, "name:"},
      {"insurance type unspecified", false,
       [](SettleRequest& r) { r.set_insurance_type(yidi::v1::INSURANCE_TYPE_UNSPECIFIED); },
       false, "insurance_type:"},
      {"insurance type maternity", false,
       [](SettleRequest& r) { r.set_insurance_type(yidi::v1::INSURANCE_TYPE_MATERNITY); }, false,
       "insurance_type:"},
      // Regions and institution.
      {"unknown insured_region", false, [](SettleRequest& r) { r.set_insured_region("990100"); },
       false, "insured_region:"},
      {"malformed insured_region", false,
       [](SettleRequest& r) { r.set_insured_region("21010"); }, false, "insured_region:"},
      {"insured county resolves", false, [](SettleRequest& r) { r.set_insured_region("210102"); },
       true, ""},
      {"unknown treatment_region", false,
       [](SettleRequest& r) { r.set_treatment_region("990100"); }, false, "treatment_region:"},
      {"treatment county of the institution's city", false,
       [](SettleRequest& r) { r.set_treatment_region("360102"); }, true, ""},
      {"institution from another region", false,
       [](SettleRequest& r) {
         r.mutable_visit()->set_institution_code("H36070000001");
         r.set_settlement_id("H36070000001-20260105-0001");
       },
       false, "visit.institution_code:"},
      {"institution from another province", true,
       [](SettleRequest& r) {
         r.mutable_visit()->set_institution_code("H50000000001");
         r.set_settlement_id("H50000000001-20260105-0001");
       },
       false, "visit.institution_code:"},
      {"unknown institution", false,
       [](SettleRequest& r) {
         r.mutable_visit()->set_institution_code("H99");
         r.set_settlement_id("H99-1");
       },
       false, "visit.institution_code:"},
      {"institution code missing", false,
       [](SettleRequest& r) { r.mutable_visit()->clear_institution_code(); }, false,
       "visit.institution_code:"},
      // Settlement id.
      {"settlement_id of another institution", false,
       [](SettleRequest& r) { r.set_settlement_id("H36070000001-20260105-0001"); }, false,
       "settlement_id:"},
      {"settlement_id without the dash", false,
       [](SettleRequest& r) { r.set_settlement_id("H3601000000120260105-0001"); }, false,
       "settlement_id:"},
      {"settlement_id with a space", false,
       [](SettleRequest& r) { r.set_settlement_id("H36010000001-2026 0001"); }, false,
       "settlement_id:"},
      {"settlement_id empty", false, [](SettleRequest& r) { r.clear_settlement_id(); }, false,
       "settlement_id:"},
      {"settlement_id too long", false,
       [](SettleRequest& r) {
         r.set_settlement_id("H36010000001-" + std::string(kSettlementIdLengthMax, '1'));
       },
       false, "settlement_id:"},
      // Visit.
      {"medical type unspecified", false,
       [](SettleRequest& r) {
         r.mutable_visit()->set_medical_type(yidi::v1::MEDICAL_TYPE_UNSPECIFIED);
       },
       false, "visit.medical_type:"},
      {"admission number missing", false,
       [](SettleRequest& r) { r.mutable_visit()->clear_admission_number(); }, false,
       "visit.admission_number:"},
      {"discharge before admission", false,
       [](SettleRequest& r) { r.mutable_visit()->set_discharge_date("2026-01-04"); }, false,
       "visit.discharge_date:"},
      {"admission date not a day", false,
       [](SettleRequest& r) { r.mutable_visit()->set_admission_date("2026-02-30"); }, false,
       "visit.admission_date:"},
      {"discharge date loose form", false,
       [](SettleRequest& r) { r.mutable_visit()->set_discharge_date("2026-1-10"); }, false,
       "visit.discharge_date:"},
      {"stay longer than the limit", false,
       [](SettleRequest& r) {
         r.mutable_visit()->set_admission_date("2022-01-01");  // 1470 days > 3 × 366
       },
       false, "visit.discharge_date:"},
      {"too many diagnoses", false,
       [](SettleRequest& r) {
         for (int i = 0; i < kDiagnosisCodesMax; ++i) r.mutable_visit()->add_diagnosis_codes("X");
       },
       false, "visit.diagnosis_codes:"},
      {"same-day visit without discharge date", false,
       [](SettleRequest& r) {
         r.mutable_visit()->set_medical_type(yidi::v1::MEDICAL_TYPE_OUTPATIENT);
         r.mutable_visit()->set_admission_date("2026-01-10");
         r.mutable_visit()->clear_discharge_date();
         r.mutable_fee_lines(0)->set_fee_date("2026-01-10");
       },
       true, ""},
      // Fee lines.
      {"empty bill", false,
       [](SettleRequest& r) {
         r.clear_fee_lines();
         r.set_declared_total_fen(0);
       },
       false, "fee_lines:"},
      {"amount != quantity × price", false,
       [](SettleRequest& r) {
         r.mutable_fee_lines(0)->set_amount_fen(499);  // 1.5 × 333 = 499.5 rounds to 500
         r.set_declared_total_fen(105189);
       },
       false, "fee_lines[0].amount_fen:"},
      {"amount negative", false,
       [](SettleRequest& r) {
         r.mutable_fee_lines(2)->set_amount_fen(-80000);
         r.set_declared_total_fen(500 + 24690 - 80000);
       },
       false, "fee_lines[2].amount_fen:"},
      {"declared total != sum", false,
       [](SettleRequest& r) { r.set_declared_total_fen(105191); }, false, "declared_total_fen:"},
      {"declared total != sum (routed)", true,
       [](SettleRequest& r) { r.set_declared_total_fen(105189); }, false, "declared_total_fen:"},
      {"negative unit price", false,
       [](SettleRequest& r) { r.mutable_fee_lines(1)->set_unit_price_fen(-12345); }, false,
       "fee_lines[1].unit_price_fen:"},
      {"zero quantity", false,
       [](SettleRequest& r) {
         r.mutable_fee_lines(0)->set_quantity_milli(0);
         r.mutable_fee_lines(0)->set_amount_fen(0);
         r.set_declared_total_fen(104690);
       },
       false, "fee_lines[0].quantity_milli:"},
      {"duplicate line number", false,
       [](SettleRequest& r) { r.mutable_fee_lines(1)->set_line_number(1); }, false,
       "fee_lines[1].line_number:"},
      {"line number zero", false,
       [](SettleRequest& r) { r.mutable_fee_lines(0)->set_line_number(0); }, false,
       "fee_lines[0].line_number:"},
      {"item code missing", false,
       [](SettleRequest& r) { r.mutable_fee_lines(2)->clear_item_code(); }, false,
       "fee_lines[2].item_code:"},
      {"fee_date after discharge", false,
       [](SettleRequest& r) { r.mutable_fee_lines(1)->set_fee_date("2026-01-11"); }, false,
       "fee_lines[1].fee_date:"},
      {"fee_date before admission", false,
       [](SettleRequest& r) { r.mutable_fee_lines(0)->set_fee_date("2026-01-04"); }, false,
       "fee_lines[0].fee_date:"},
      {"fee_date malformed", false,
       [](SettleRequest& r) { r.mutable_fee_lines(0)->set_fee_date("2026-01-5"); }, false,
       "fee_lines[0].fee_date:"},
      {"line amount beyond the limit", false,
       [](SettleRequest& r) {
         auto* line = r.mutable_fee_lines(2);
         line->set_unit_price_fen(kAmountMaxFen + 1);
         line->set_amount_fen(kAmountMaxFen + 1);
         r.set_declared_total_fen(500 + 24690 + kAmountMaxFen + 1);
       },
       false, "fee_lines[2].amount_fen:"},
      {"sum beyond the limit", false,
       [](SettleRequest& r) {
         r.clear_fee_lines();
         AddLine(&r, 1, "X001", 1000, kAmountMaxFen, kAmountMaxFen, "");
         AddLine(&r, 2, "X001", 1000, 1, 1, "");
         r.set_declared_total_fen(kAmountMaxFen + 1);
       },
       false, "fee_lines:"},
      {"exactly kFeeLinesMax lines", false, [](SettleRequest& r) { SetLines(&r, kFeeLinesMax); },
       true, ""},
      {"more than kFeeLinesMax lines", false,
       [](SettleRequest& r) { SetLines(&r, kFeeLinesMax + 1); }, false, "fee_lines:"},
      // Classified bill.
      {"hospital request with classified_bill", false,
       [](SettleRequest& r) { r.mutable_classified_bill()->mutable_split()->set_total_fen(0); },
       false, "classified_bill:"},
      {"hospital request with empty classified_bill", false,
       [](SettleRequest& r) { r.mutable_classified_bill(); }, false, "classified_bill:"},
      {"routed request without classified_bill", true,
       [](SettleRequest& r) { r.clear_classified_bill(); }, false, "classified_bill:"},
      {"classified split not adding up", true,
       [](SettleRequest& r) {
         r.mutable_classified_bill()->mutable_split()->set_in_scope_fen(90001);
       },
       false, "classified_bill.split:"},
      {"classified split with a negative part", true,
       [](SettleRequest& r) {
         // Adds up (110190 + 5000 + 0 − 10000 = 105190) but self-pay is negative.
         auto* split = r.mutable_classified_bill()->mutable_split();
         split->set_in_scope_fen(110190);
         split->set_over_cap_fen(0);
         split->set_self_pay_fen(-10000);
       },
       false, "classified_bill.split:"},
      {"classified total differs from declared", true,
       [](SettleRequest& r) {
         auto* split = r.mutable_classified_bill()->mutable_split();
         split->set_total_fen(105191);  // adds up: 90001 + 5000 + 190 + 10000
         split->set_in_scope_fen(90001);
       },
       false, "classified_bill.split.total_fen:"},
      {"classified hospital level unspecified", true,
       [](SettleRequest& r) {
         r.mutable_classified_bill()->set_hospital_level(yidi::v1::HOSPITAL_LEVEL_UNSPECIFIED);
       },
       false, "classified_bill.hospital_level:"},
      {"routed request still checks the hospital part", true,
       [](SettleRequest& r) { r.mutable_fee_lines(1)->set_fee_date("2026-01-11"); }, false,
       "fee_lines[1].fee_date:"},
  };
  for (const MutationCase& c : cases) {
    SCOPED_TRACE(c.name);
    SettleRequest request = c.routed ? ValidRoutedRequest() : ValidHospitalRequest();
    c.mutate(request);
    const absl::Status status = Validate(request, c.routed);
    if (c.valid) {
      EXPECT_TRUE(status.ok()) << status;
      continue;
    }
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_TRUE(absl::StartsWith(status.message(), c.message_prefix))
        << "message \"" << status.message() << "\" does not start with \"" << c.message_prefix
        << "\"";
  }
}

TEST_F(SettlementValidationTest, IdNumberErrorDoesNotEchoTheNumber) {
  SettleRequest request = ValidHospitalRequest();
  request.set_id_number("210102197006150043");
  const absl::Status status = ValidateHospitalSettleRequest(request, directory_);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), Not(HasSubstr("210102197006150043")));
}

TEST_F(SettlementValidationTest, AmountMessageShowsExpectedAmount) {
  SettleRequest request = ValidHospitalRequest();
  request.mutable_fee_lines(0)->set_amount_fen(499);
  request.set_declared_total_fen(105189);
  const absl::Status status = ValidateHospitalSettleRequest(request, directory_);
  EXPECT_THAT(status.message(), HasSubstr("499"));
  EXPECT_THAT(status.message(), HasSubstr("500"));
}

TEST_F(SettlementValidationTest, RoutedSplitMustNotWrapAroundInt64) {
  // Regression: CheckFeeSplit once added the four parts in int64 without bounds. A routed
  // request whose bill is one free line (declared_total_fen 0) and whose
  // classified split is {total 0, in_scope INT64_MAX, class_b_copay INT64_MAX, over_cap 2,
  // self_pay 0} wraps to 0 (signed overflow, undefined behaviour) and passes
  // ValidateRoutedSettleRequest; the insured node then trusts an in-scope amount of INT64_MAX
  // and ComputeBasicPolicy's "cash never negative" YIDI_CHECK aborts the process. Expected:
  // INVALID_ARGUMENT "classified_bill.split: ..." (each part within 0..total / kAmountMaxFen).
  SettleRequest request = ValidRoutedRequest();
  request.clear_fee_lines();
  AddLine(&request, 1, "X001", 1000, 0, 0, "2026-01-06");
  request.set_declared_total_fen(0);
  auto* split = request.mutable_classified_bill()->mutable_split();
  split->set_total_fen(0);
  split->set_in_scope_fen(std::numeric_limits<int64_t>::max());
  split->set_class_b_copay_fen(std::numeric_limits<int64_t>::max());
  split->set_over_cap_fen(2);
  split->set_self_pay_fen(0);
  const absl::Status status = ValidateRoutedSettleRequest(request, directory_);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

// ---------------------------------------------------------------------------------------------
// CheckFeeSplit

yidi::v1::FeeSplit Split(int64_t total, int64_t in_scope, int64_t copay, int64_t over_cap,
                         int64_t self_pay) {
  yidi::v1::FeeSplit split;
  split.set_total_fen(total);
  split.set_in_scope_fen(in_scope);
  split.set_class_b_copay_fen(copay);
  split.set_over_cap_fen(over_cap);
  split.set_self_pay_fen(self_pay);
  return split;
}

TEST(CheckFeeSplitTest, AddsUpWithOneSign) {
  EXPECT_TRUE(CheckFeeSplit(Split(105190, 90000, 5000, 190, 10000)).ok());
  EXPECT_TRUE(CheckFeeSplit(Split(-105190, -90000, -5000, -190, -10000)).ok());  // reversal
  EXPECT_TRUE(CheckFeeSplit(Split(0, 0, 0, 0, 0)).ok());
  EXPECT_EQ(CheckFeeSplit(Split(105190, 90001, 5000, 190, 10000)).code(),
            absl::StatusCode::kInternal);
  EXPECT_EQ(CheckFeeSplit(Split(105190, 115190, 0, 0, -10000)).code(),
            absl::StatusCode::kInternal);  // adds up, one part negative
  EXPECT_EQ(CheckFeeSplit(Split(-100, -200, 100, 0, 0)).code(),
            absl::StatusCode::kInternal);  // reversal with a positive part
  EXPECT_EQ(CheckFeeSplit(Split(0, 100, 0, 0, -100)).code(), absl::StatusCode::kInternal);
}

// ---------------------------------------------------------------------------------------------
// CheckSlipIdentities

// total 105190 = 90000 + 5000 + 190 + 10000.
// Funds: pooled 60000 + large expense 3000 + civil servant 1000 + assistance 500 = 64500.
// Personal account 20000; cash 105190 − 64500 − 20000 = 20690.
// person_part = 20000 + 20690 = 40690; slip_fund_total = 64500 + 20000 = 84500;
// fund_payments 60000 + 3000 + 1000 + 500 + 20000 = 84500.
SettlementResult ValidResult() {
  SettlementResult r;
  r.set_settlement_id("H36010000001-20260105-0001");
  r.set_kind(yidi::v1::SETTLEMENT_KIND_NORMAL);
  r.set_total_fen(105190);
  r.set_in_scope_fen(90000);
  r.set_class_b_copay_fen(5000);
  r.set_over_cap_fen(190);
  r.set_self_pay_fen(10000);
  r.set_deductible_applied_fen(100000);
  r.set_pooled_fund_fen(60000);
  r.set_large_expense_fen(3000);
  r.set_civil_servant_fen(1000);
  r.set_medical_assistance_fen(500);
  r.set_fund_total_fen(64500);
  r.set_personal_account_fen(20000);
  r.set_cash_fen(20690);
  r.set_person_part_fen(40690);
  r.set_slip_fund_total_fen(84500);
  auto add = [&r](yidi::v1::FundPaymentType type, int64_t amount) {
    auto* payment = r.add_fund_payments();
    payment->set_fund_payment_type(type);
    payment->set_name(yidi::v1::FundPaymentType_Name(type));
    payment->set_amount_fen(amount);
  };
  add(yidi::v1::FUND_PAYMENT_TYPE_EMPLOYEE_POOLED_FUND, 60000);
  add(yidi::v1::FUND_PAYMENT_TYPE_LARGE_EXPENSE_SUBSIDY, 3000);
  add(yidi::v1::FUND_PAYMENT_TYPE_CIVIL_SERVANT_SUBSIDY, 1000);
  add(yidi::v1::FUND_PAYMENT_TYPE_MEDICAL_ASSISTANCE, 500);
  add(yidi::v1::FUND_PAYMENT_TYPE_EMPLOYEE_PERSONAL_ACCOUNT, 20000);
  return r;
}

SettlementResult Negated(SettlementResult r) {
  r.set_kind(yidi::v1::SETTLEMENT_KIND_REVERSAL);
  r.set_original_settlement_id(r.settlement_id());
  r.set_settlement_id(r.settlement_id() + "-R");
  for (auto [get, set] : std::initializer_list<
           std::pair<int64_t (SettlementResult::*)() const, void (SettlementResult::*)(int64_t)>>{
           {&SettlementResult::total_fen, &SettlementResult::set_total_fen},
           {&SettlementResult::in_scope_fen, &SettlementResult::set_in_scope_fen},
           {&SettlementResult::class_b_copay_fen, &SettlementResult::set_class_b_copay_fen},
           {&SettlementResult::over_cap_fen, &SettlementResult::set_over_cap_fen},
           {&SettlementResult::self_pay_fen, &SettlementResult::set_self_pay_fen},
           {&SettlementResult::deductible_applied_fen,
            &SettlementResult::set_deductible_applied_fen},
           {&SettlementResult::pooled_fund_fen, &SettlementResult::set_pooled_fund_fen},
           {&SettlementResult::large_expense_fen, &SettlementResult::set_large_expense_fen},
           {&SettlementResult::civil_servant_fen, &SettlementResult::set_civil_servant_fen},
           {&SettlementResult::supplementary_fen, &SettlementResult::set_supplementary_fen},
           {&SettlementResult::disabled_veteran_fen, &SettlementResult::set_disabled_veteran_fen},
           {&SettlementResult::critical_illness_fen, &SettlementResult::set_critical_illness_fen},
           {&SettlementResult::medical_assistance_fen,
            &SettlementResult::set_medical_assistance_fen},
           {&SettlementResult::other_fund_fen, &SettlementResult::set_other_fund_fen},
           {&SettlementResult::fund_total_fen, &SettlementResult::set_fund_total_fen},
           {&SettlementResult::personal_account_fen, &SettlementResult::set_personal_account_fen},
           {&SettlementResult::cash_fen, &SettlementResult::set_cash_fen},
           {&SettlementResult::person_part_fen, &SettlementResult::set_person_part_fen},
           {&SettlementResult::slip_fund_total_fen, &SettlementResult::set_slip_fund_total_fen},
       }) {
    (r.*set)(-(r.*get)());
  }
  for (auto& payment : *r.mutable_fund_payments()) payment.set_amount_fen(-payment.amount_fen());
  return r;
}

TEST(CheckSlipIdentitiesTest, CorrectResultPasses) {
  EXPECT_TRUE(CheckSlipIdentities(ValidResult()).ok()) << CheckSlipIdentities(ValidResult());
  EXPECT_TRUE(CheckSlipIdentities(SettlementResult()).ok());  // all zero
}

TEST(CheckSlipIdentitiesTest, ReversalWithNegativeAmountsPasses) {
  const SettlementResult reversal = Negated(ValidResult());
  ASSERT_EQ(reversal.total_fen(), -105190);
  ASSERT_EQ(reversal.cash_fen(), -20690);
  EXPECT_TRUE(CheckSlipIdentities(reversal).ok()) << CheckSlipIdentities(reversal);
}

struct SlipCase {
  const char* name;
  std::function<void(SettlementResult&)> mutate;
  const char* message_part;  // names the identity that failed
};

TEST(CheckSlipIdentitiesTest, EachIdentityBrokenAlone) {
  const SlipCase cases[] = {
      {"total != four parts", [](SettlementResult& r) { r.set_in_scope_fen(90001); },
       "in_scope + class_b_copay + over_cap + self_pay"},
      {"fund_total != fund columns", [](SettlementResult& r) { r.set_pooled_fund_fen(60001); },
       "sum of fund columns"},
      {"fund_total != fund columns (other fund)",
       [](SettlementResult& r) { r.set_other_fund_fen(1); }, "sum of fund columns"},
      {"total != fund_total + personal_account + cash",
       [](SettlementResult& r) {
         r.set_cash_fen(20691);
         r.set_person_part_fen(40691);  // keeps person_part consistent
       },
       "fund_total + personal_account + cash"},
      {"person_part != personal_account + cash",
       [](SettlementResult& r) { r.set_person_part_fen(40689); }, "person_part"},
      {"slip_fund_total != fund_total + personal_account",
       [](SettlementResult& r) {
         r.set_slip_fund_total_fen(84501);
         r.mutable_fund_payments(0)->set_amount_fen(60001);  // keeps the listed sum consistent
       },
       "slip_fund_total != fund_total + personal_account"},
      {"fund_payments != slip_fund_total",
       [](SettlementResult& r) { r.mutable_fund_payments(4)->set_amount_fen(19999); },
       "fund_payments"},
      {"fund_payments missing the personal account",
       [](SettlementResult& r) { r.mutable_fund_payments()->RemoveLast(); }, "fund_payments"},
      {"normal result with a negative fund column",
       [](SettlementResult& r) {
         // Every sum still holds: 61000 + 3000 + 1000 − 500 = 64500.
         r.set_pooled_fund_fen(61000);
         r.set_medical_assistance_fen(-500);
         r.mutable_fund_payments(0)->set_amount_fen(61000);
         r.mutable_fund_payments(3)->set_amount_fen(-500);
       },
       "negative"},
      {"normal result with a negative deductible",
       [](SettlementResult& r) { r.set_deductible_applied_fen(-1); }, "negative"},
      {"normal result with negative cash",
       [](SettlementResult& r) {
         // 105190 = 64500 + 40690 − 0: move cash into the account and one fen below zero.
         r.set_personal_account_fen(40691);
         r.set_cash_fen(-1);
         r.set_slip_fund_total_fen(105191);
         r.mutable_fund_payments(4)->set_amount_fen(40691);
       },
       "negative"},
      {"normal result entirely negative",
       [](SettlementResult& r) {
         r = Negated(r);
         r.set_kind(yidi::v1::SETTLEMENT_KIND_NORMAL);
       },
       "negative"},
  };
  for (const SlipCase& c : cases) {
    SCOPED_TRACE(c.name);
    SettlementResult result = ValidResult();
    c.mutate(result);
    const absl::Status status = CheckSlipIdentities(result);
    EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
    EXPECT_THAT(status.message(), HasSubstr(c.message_part));
  }
}

TEST(CheckSlipIdentitiesTest, ReversalWithAPositiveAmountFails) {
  SettlementResult reversal = Negated(ValidResult());
  reversal.set_deductible_applied_fen(100000);
  EXPECT_EQ(CheckSlipIdentities(reversal).code(), absl::StatusCode::kInternal);
  EXPECT_THAT(CheckSlipIdentities(reversal).message(), HasSubstr("positive"));

  SettlementResult positive_reversal = ValidResult();
  positive_reversal.set_kind(yidi::v1::SETTLEMENT_KIND_REVERSAL);
  EXPECT_EQ(CheckSlipIdentities(positive_reversal).code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace yidi
