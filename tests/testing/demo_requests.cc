#include "tests/testing/demo_requests.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/money.h"
#include "common/status_macros.h"
#include "tests/testing/in_process_mesh.h"

namespace yidi::testing {

absl::StatusOr<yidi::v1::SettleRequest> LoadWorkload(absl::string_view name) {
  std::string file(name);
  if (!absl::EndsWith(file, ".textproto")) file = absl::StrCat(file, ".textproto");
  yidi::v1::SettleRequest request;
  RETURN_IF_ERROR(LoadTextProtoFile(absl::StrCat(DemoDir(), "/workload/", file), &request));
  return request;
}

absl::StatusOr<yidi::v1::PersonRecord> DemoPerson(absl::string_view insured_region,
                                                  absl::string_view id_number) {
  yidi::v1::PersonRegistry registry;
  RETURN_IF_ERROR(LoadTextProtoFile(
      absl::StrCat(DemoDir(), "/persons_", insured_region, ".textproto"), &registry));
  for (const auto& person : registry.persons()) {
    if (person.id_number() == id_number) return person;
  }
  return absl::NotFoundError(
      absl::StrCat("no demo person ", id_number, " in persons_", insured_region));
}

absl::StatusOr<yidi::v1::Institution> DemoInstitution(absl::string_view code) {
  yidi::v1::Directory directory;
  RETURN_IF_ERROR(LoadTextProtoFile(absl::StrCat(DemoDir(), "/directory.textproto"), &directory));
  for (const auto& institution : directory.institutions()) {
    if (institution.code() == code) return institution;
  }
  return absl::NotFoundError(absl::StrCat("no demo institution ", code));
}

absl::StatusOr<yidi::v1::PolicyConfig> DemoPolicy(absl::string_view insured_region,
                                                  yidi::v1::InsuranceType type) {
  const char* suffix = type == yidi::v1::INSURANCE_TYPE_EMPLOYEE   ? "employee"
                       : type == yidi::v1::INSURANCE_TYPE_RESIDENT ? "resident"
                                                                   : nullptr;
  if (suffix == nullptr) return absl::NotFoundError("the demo has employee and resident policies");
  yidi::v1::PolicyConfig policy;
  RETURN_IF_ERROR(LoadTextProtoFile(
      absl::StrCat(DemoDir(), "/policy_", insured_region, "_", suffix, ".textproto"), &policy));
  return policy;
}

namespace {

bool HasLevel(const google::protobuf::RepeatedField<int>& levels, yidi::v1::HospitalLevel level) {
  if (levels.empty()) return true;
  for (int listed : levels) {
    if (listed == level) return true;
  }
  return false;
}

bool IsEveryone(const yidi::v1::PersonCriteria& who) {
  return who.ByteSizeLong() == 0;
}

}  // namespace

absl::StatusOr<InpatientLevelRule> InpatientRule(const yidi::v1::PolicyConfig& policy,
                                                 yidi::v1::HospitalLevel level) {
  const auto not_found = [&](absl::string_view what) {
    return absl::NotFoundError(absl::StrCat(policy.name(), ": no inpatient ", what,
                                            " for level ", static_cast<int>(level)));
  };
  const yidi::v1::Benefit* inpatient = nullptr;
  for (const auto& benefit : policy.benefits()) {
    if (benefit.kind() == yidi::v1::BENEFIT_KIND_INPATIENT) inpatient = &benefit;
  }
  if (inpatient == nullptr) return not_found("benefit");
  InpatientLevelRule rule;
  bool first_found = false;
  bool later_found = false;
  // The engine takes the first matching rule: mirror that for admission 1 and admission 2.
  for (const auto& deductible : inpatient->deductibles()) {
    if (!HasLevel(deductible.levels(), level) || !IsEveryone(deductible.who())) continue;
    if (!later_found && deductible.from_admission() <= 2) {
      rule.later_admission_deductible_fen_ = deductible.amount_fen();
      later_found = true;
    }
    if (!first_found && deductible.from_admission() <= 1) {
      rule.deductible_fen_ = deductible.amount_fen();
      first_found = true;
    }
  }
  if (!first_found) return not_found("deductible");
  bool working_found = false;
  bool retired_found = false;
  for (const auto& fund : inpatient->funds()) {
    if (fund.column() != yidi::v1::FUND_COLUMN_POOLED_FUND) continue;
    rule.pooled_fund_annual_cap_fen_ = fund.annual_cap_fen();
    for (const auto& schedule : fund.schedules()) {
      if (!HasLevel(schedule.levels(), level)) continue;
      const bool retired_only = schedule.who().retirement() == yidi::v1::RETIREMENT_RETIRED;
      if (!retired_only && !IsEveryone(schedule.who())) continue;
      if (!retired_found) {
        rule.ratio_retired_bp_ = schedule.ratio_bp();
        retired_found = true;
      }
      if (!retired_only && !working_found) {
        rule.ratio_working_bp_ = schedule.ratio_bp();
        working_found = true;
      }
    }
    break;
  }
  if (!working_found) return not_found("pooled-fund schedule");
  return rule;
}

SettleRequestBuilder::SettleRequestBuilder(std::string settlement_id) {
  request_.set_settlement_id(std::move(settlement_id));
  request_.mutable_visit()->set_admission_number(
      absl::StrCat("T-", request_.settlement_id()).substr(0, 40));
  request_.mutable_visit()->set_department("test");
}

SettleRequestBuilder& SettleRequestBuilder::Patient(const yidi::v1::PersonRecord& person,
                                                    absl::string_view insured_region) {
  return Patient(person.id_number(), person.name(), insured_region, person.insurance_type());
}

SettleRequestBuilder& SettleRequestBuilder::Patient(absl::string_view id_number,
                                                    absl::string_view name,
                                                    absl::string_view insured_region,
                                                    yidi::v1::InsuranceType insurance_type) {
  request_.set_id_number(std::string(id_number));
  request_.set_name(std::string(name));
  request_.set_insured_region(std::string(insured_region));
  request_.set_insurance_type(insurance_type);
  return *this;
}

SettleRequestBuilder& SettleRequestBuilder::At(const yidi::v1::Institution& institution) {
  request_.mutable_visit()->set_institution_code(institution.code());
  request_.set_treatment_region(institution.region_code());
  return *this;
}

SettleRequestBuilder& SettleRequestBuilder::TreatmentRegion(absl::string_view region) {
  request_.set_treatment_region(std::string(region));
  return *this;
}

SettleRequestBuilder& SettleRequestBuilder::Stay(yidi::v1::MedicalType medical_type,
                                                 absl::string_view admission_date,
                                                 absl::string_view discharge_date) {
  auto* visit = request_.mutable_visit();
  visit->set_medical_type(medical_type);
  visit->set_admission_date(std::string(admission_date));
  visit->set_discharge_date(std::string(discharge_date));
  return *this;
}

SettleRequestBuilder& SettleRequestBuilder::Emergency(bool emergency) {
  request_.mutable_visit()->set_emergency(emergency);
  return *this;
}

SettleRequestBuilder& SettleRequestBuilder::Referral(bool referral) {
  request_.mutable_visit()->set_referral(referral);
  return *this;
}

SettleRequestBuilder& SettleRequestBuilder::Diagnosis(absl::string_view code) {
  request_.mutable_visit()->add_diagnosis_codes(std::string(code));
  return *this;
}

SettleRequestBuilder& SettleRequestBuilder::PersonalAccountConsent(bool consent) {
  request_.set_personal_account_consent(consent);
  return *this;
}

SettleRequestBuilder& SettleRequestBuilder::Line(absl::string_view item_code,
                                                 int64_t quantity_milli, int64_t unit_price_fen,
                                                 absl::string_view fee_date) {
  lines_.push_back({std::string(item_code), quantity_milli, unit_price_fen, std::string(fee_date)});
  return *this;
}

absl::StatusOr<yidi::v1::SettleRequest> SettleRequestBuilder::Build() const {
  yidi::v1::SettleRequest request = request_;
  int64_t total_fen = 0;
  int line_number = 0;
  for (const PendingLine& pending : lines_) {
    auto* line = request.add_fee_lines();
    line->set_line_number(++line_number);
    line->set_item_code(pending.item_code);
    line->set_item_name(pending.item_code);
    line->set_quantity_milli(pending.quantity_milli);
    line->set_unit_price_fen(pending.unit_price_fen);
    ASSIGN_OR_RETURN(int64_t amount_fen,
                     LineAmountFen(pending.quantity_milli, pending.unit_price_fen));
    line->set_amount_fen(amount_fen);
    line->set_fee_date(pending.fee_date.empty() ? request.visit().discharge_date()
                                                : pending.fee_date);
    total_fen += amount_fen;
  }
  request.set_declared_total_fen(total_fen);
  return request;
}

yidi::v1::SettleRequest RoutedCopy(const yidi::v1::SettleRequest& hospital_request,
                                   const yidi::v1::SettlementResult& result) {
  yidi::v1::SettleRequest routed = hospital_request;
  auto* bill = routed.mutable_classified_bill();
  auto* split = bill->mutable_split();
  split->set_total_fen(result.total_fen());
  split->set_in_scope_fen(result.in_scope_fen());
  split->set_class_b_copay_fen(result.class_b_copay_fen());
  split->set_over_cap_fen(result.over_cap_fen());
  split->set_self_pay_fen(result.self_pay_fen());
  bill->set_hospital_level(result.hospital_level());
  bill->set_institution_name(result.institution_name());
  *bill->mutable_fee_categories() = result.fee_categories();
  *bill->mutable_lines() = result.lines();
  return routed;
}

}  // namespace yidi::testing
