// Requests for mesh tests: the demo workload files (deploy/demo/workload/*.textproto), the
// demo persons, institutions and policies they refer to, and a builder for a hospital's
// SettleRequest from scratch whose line amounts and declared total are computed exactly as
// the nodes check them (yidi::LineAmountFen).
//
// Thread safety: free functions read files on every call and share nothing; a builder is a
// plain value.
#ifndef YIDI_TESTS_TESTING_DEMO_REQUESTS_H_
#define YIDI_TESTS_TESTING_DEMO_REQUESTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "yidi/v1/config.pb.h"
#include "yidi/v1/directory.pb.h"
#include "yidi/v1/settlement.pb.h"

namespace yidi::testing {

// A demo workload request by file name, with or without ".textproto":
// LoadWorkload("01_cross_province_inpatient"). NOT_FOUND / INVALID_ARGUMENT as
// LoadTextProtoFile.
absl::StatusOr<yidi::v1::SettleRequest> LoadWorkload(absl::string_view name);

// A person of persons_<insured_region>.textproto. NOT_FOUND when absent.
absl::StatusOr<yidi::v1::PersonRecord> DemoPerson(absl::string_view insured_region,
                                                  absl::string_view id_number);

// An institution of directory.textproto. NOT_FOUND when absent.
absl::StatusOr<yidi::v1::Institution> DemoInstitution(absl::string_view code);

// policy_<insured_region>_{employee,resident}.textproto.
absl::StatusOr<yidi::v1::PolicyConfig> DemoPolicy(absl::string_view insured_region,
                                                  yidi::v1::InsuranceType type);

// What a demo policy's inpatient benefit gives an ordinary person (no assistance category, no
// subsidy) at one hospital level, read from the policy file for reference computations: the
// first-admission and later-admission deductibles, the pooled fund's working and retired ratio
// (single band) and its annual cap.
class InpatientLevelRule {
 public:
  int64_t deductible_fen() const { return deductible_fen_; }
  int64_t later_admission_deductible_fen() const { return later_admission_deductible_fen_; }
  int32_t ratio_working_bp() const { return ratio_working_bp_; }
  int32_t ratio_retired_bp() const { return ratio_retired_bp_; }
  int64_t pooled_fund_annual_cap_fen() const { return pooled_fund_annual_cap_fen_; }

 private:
  friend absl::StatusOr<InpatientLevelRule> InpatientRule(const yidi::v1::PolicyConfig& policy,
                                                          yidi::v1::HospitalLevel level);
  int64_t deductible_fen_ = 0;
  int64_t later_admission_deductible_fen_ = 0;
  int32_t ratio_working_bp_ = 0;
  int32_t ratio_retired_bp_ = 0;
  int64_t pooled_fund_annual_cap_fen_ = 0;
};

// The inpatient level rule of `policy` for `level`. NOT_FOUND when the policy has no inpatient
// benefit, no deductible or no pooled-fund schedule for the level.
absl::StatusOr<InpatientLevelRule> InpatientRule(const yidi::v1::PolicyConfig& policy,
                                                 yidi::v1::HospitalLevel level);

// A hospital's SettleRequest, built field by field:
//
//   auto request = SettleRequestBuilder("H36010000002-20261120-0001")
//                      .Patient(*DemoPerson("360100", "360103198209230249"), "360100")
//                      .At(*DemoInstitution("H36010000002"))
//                      .Stay(yidi::v1::MEDICAL_TYPE_INPATIENT, "2026-11-15", "2026-11-20")
//                      .Line("001102000020000", 5000, 2000)
//                      .Build();
//
// Build() numbers the lines from 1, computes every amount as LineAmountFen(quantity, price),
// dates each line on the discharge day unless given, and declares the exact total.
class SettleRequestBuilder {
 public:
  explicit SettleRequestBuilder(std::string settlement_id);

  // Identity and insurance of the patient, insured in `insured_region`.
  SettleRequestBuilder& Patient(const yidi::v1::PersonRecord& person,
                                absl::string_view insured_region);
  SettleRequestBuilder& Patient(absl::string_view id_number, absl::string_view name,
                                absl::string_view insured_region,
                                yidi::v1::InsuranceType insurance_type);
  // The institution; the treatment region becomes its pooling region.
  SettleRequestBuilder& At(const yidi::v1::Institution& institution);
  // Overrides the treatment region (for requests that must be refused).
  SettleRequestBuilder& TreatmentRegion(absl::string_view region);
  SettleRequestBuilder& Stay(yidi::v1::MedicalType medical_type, absl::string_view admission_date,
                             absl::string_view discharge_date);
  SettleRequestBuilder& Emergency(bool emergency = true);
  SettleRequestBuilder& Referral(bool referral = true);
  SettleRequestBuilder& Diagnosis(absl::string_view code);
  SettleRequestBuilder& PersonalAccountConsent(bool consent = true);
  // One fee line; `fee_date` empty means the discharge date.
  SettleRequestBuilder& Line(absl::string_view item_code, int64_t quantity_milli,
                             int64_t unit_price_fen, absl::string_view fee_date = "");

  // INVALID_ARGUMENT when a line's amount cannot be computed (negative inputs, overflow).
  absl::StatusOr<yidi::v1::SettleRequest> Build() const;

 private:
  struct PendingLine {
    std::string item_code;
    int64_t quantity_milli = 0;
    int64_t unit_price_fen = 0;
    std::string fee_date;
  };
  yidi::v1::SettleRequest request_;
  std::vector<PendingLine> lines_;
};

// A routed copy of a hospital request, as the treatment node forwards it, rebuilt from the
// result the mesh returned for it (inpatient categories or outpatient lines, the bill's four
// parts, the hospital level and name). Lets a test speak to the insured node directly, as a
// retry that lost its reply on the way back would.
yidi::v1::SettleRequest RoutedCopy(const yidi::v1::SettleRequest& hospital_request,
                                   const yidi::v1::SettlementResult& result);

}  // namespace yidi::testing

#endif  // YIDI_TESTS_TESTING_DEMO_REQUESTS_H_
