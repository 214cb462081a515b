#include "common/settlement_validation.h"

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/id_number.h"
#include "common/limits.h"
#include "common/money.h"
#include "common/status_macros.h"

namespace yidi {
namespace {

using yidi::v1::MedicalType;
using yidi::v1::SettleRequest;

absl::Status Invalid(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

absl::Status CheckText(absl::string_view field, absl::string_view value, bool required,
                       int length_max = kTextLengthMax) {
  if (required && value.empty()) return Invalid(field, "required");
  if (static_cast<int>(value.size()) > length_max) {
    return Invalid(field, absl::StrCat("longer than ", length_max, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status CheckSettlementId(absl::string_view field, absl::string_view id,
                               absl::string_view institution_code) {
  RETURN_IF_ERROR(CheckText(field, id, true, kSettlementIdLengthMax));
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') {
      return Invalid(field, "only letters, digits, '-' and '_' are allowed");
    }
  }
  if (!institution_code.empty() && !absl::StartsWith(id, absl::StrCat(institution_code, "-"))) {
    return Invalid(field, absl::StrCat("must start with the institution code \"",
                                       institution_code, "-\""));
  }
  return absl::OkStatus();
}

absl::Status CheckRegion(absl::string_view field, absl::string_view code,
                         const DirectoryIndex& directory) {
  if (!IsRegionCode(code)) return Invalid(field, "not a 6-digit region code");
  if (!directory.PoolingRegionFor(code).ok()) {
    return Invalid(field, absl::StrCat("unknown region ", code));
  }
  return absl::OkStatus();
}

bool IsKnownMedicalType(MedicalType type) {
  switch (type) {
    case MedicalType::MEDICAL_TYPE_OUTPATIENT:
    case MedicalType::MEDICAL_TYPE_EMERGENCY_OUTPATIENT:
    case MedicalType::MEDICAL_TYPE_CHRONIC_OUTPATIENT:
    case MedicalType::MEDICAL_TYPE_INPATIENT:
    case MedicalType::MEDICAL_TYPE_TRAUMA_INPATIENT:
    case MedicalType::MEDICAL_TYPE_REFERRED_OUT_INPATIENT:
    case MedicalType::MEDICAL_TYPE_EMERGENCY_INPATIENT:
    case MedicalType::MEDICAL_TYPE_PHARMACY:
      return true;
    default:
      return false;
  }
}

// Everything the hospital sends, checked without the classified bill.
absl::Status ValidateHospitalPart(const SettleRequest& request, const DirectoryIndex& directory) {
  const auto& visit = request.visit();
  RETURN_IF_ERROR(CheckText("visit.institution_code", visit.institution_code(), true,
                            kInstitutionCodeLengthMax));
  RETURN_IF_ERROR(
      CheckSettlementId("settlement_id", request.settlement_id(), visit.institution_code()));
  RETURN_IF_ERROR(CheckRegion("insured_region", request.insured_region(), directory));
  RETURN_IF_ERROR(CheckRegion("treatment_region", request.treatment_region(), directory));
  if (absl::Status id = ValidateIdNumber(request.id_number()); !id.ok()) {
    return Invalid("id_number", id.message());
  }
  RETURN_IF_ERROR(CheckText("name", request.name(), true));
  if (request.insurance_type() != yidi::v1::INSURANCE_TYPE_EMPLOYEE &&
      request.insurance_type() != yidi::v1::INSURANCE_TYPE_RESIDENT) {
    return Invalid("insurance_type", "must be INSURANCE_TYPE_EMPLOYEE (310) or "
                                     "INSURANCE_TYPE_RESIDENT (390)");
  }
  if (!IsKnownMedicalType(visit.medical_type())) {
    return Invalid("visit.medical_type", "unspecified or unknown");
  }
  const auto* institution = directory.FindInstitution(visit.institution_code());
  if (institution == nullptr) {
    return Invalid("visit.institution_code",
                   absl::StrCat("unknown institution ", visit.institution_code()));
  }
  auto treatment_pool = directory.PoolingRegionFor(request.treatment_region());
  if (institution->region_code() != *treatment_pool) {
    return Invalid("visit.institution_code",
                   absl::StrCat("institution ", institution->code(), " belongs to region ",
                                institution->region_code(), ", not to treatment_region ",
                                request.treatment_region()));
  }
  RETURN_IF_ERROR(CheckText("visit.admission_number", visit.admission_number(), true));
  RETURN_IF_ERROR(CheckText("visit.department", visit.department(), false));
  RETURN_IF_ERROR(CheckText("visit.chronic_disease_code", visit.chronic_disease_code(), false));
  if (visit.diagnosis_codes_size() > kDiagnosisCodesMax) {
    return Invalid("visit.diagnosis_codes", absl::StrCat("more than ", kDiagnosisCodesMax));
  }
  auto admission = ParseDate(visit.admission_date());
  if (!admission.ok()) return Invalid("visit.admission_date", admission.status().message());
  absl::CivilDay discharge = *admission;
  if (!visit.discharge_date().empty()) {
    auto parsed = ParseDate(visit.discharge_date());
    if (!parsed.ok()) return Invalid("visit.discharge_date", parsed.status().message());
    discharge = *parsed;
  }
  if (discharge < *admission) return Invalid("visit.discharge_date", "before admission_date");
  if (discharge - *admission > kStayDaysMax) {
    return Invalid("visit.discharge_date", absl::StrCat("stay longer than ", kStayDaysMax,
                                                        " days"));
  }

  if (request.fee_lines().empty()) return Invalid("fee_lines", "the bill is empty");
  if (request.fee_lines_size() > kFeeLinesMax) {
    return Invalid("fee_lines", absl::StrCat("more than ", kFeeLinesMax, " lines"));
  }
  absl::flat_hash_set<int> line_numbers;
  int64_t sum_fen = 0;
  for (int i = 0; i < request.fee_lines_size(); ++i) {
    const auto& line = request.fee_lines(i);
    const std::string field = absl::StrCat("fee_lines[", i, "]");
    if (line.line_number() <= 0 || !line_numbers.insert(line.line_number()).second) {
      return Invalid(absl::StrCat(field, ".line_number"), "must be positive and unique");
    }
    RETURN_IF_ERROR(
        CheckText(absl::StrCat(field, ".item_code"), line.item_code(), true, kItemCodeLengthMax));
    RETURN_IF_ERROR(CheckText(absl::StrCat(field, ".item_name"), line.item_name(), false));
    if (line.quantity_milli() <= 0) {
      return Invalid(absl::StrCat(field, ".quantity_milli"), "must be positive");
    }
    if (line.unit_price_fen() < 0) {
      return Invalid(absl::StrCat(field, ".unit_price_fen"), "must not be negative");
    }
    if (line.amount_fen() < 0 || line.amount_fen() > kAmountMaxFen) {
      return Invalid(absl::StrCat(field, ".amount_fen"),
                     absl::StrCat("must lie within 0..", kAmountMaxFen));
    }
    auto expected = LineAmountFen(line.quantity_milli(), line.unit_price_fen());
    if (!expected.ok()) return Invalid(absl::StrCat(field, ".amount_fen"), expected.status().message());
    if (*expected != line.amount_fen()) {
      return Invalid(absl::StrCat(field, ".amount_fen"),
                     absl::StrCat(line.amount_fen(), " != quantity × unit price = ", *expected));
    }
    if (!line.fee_date().empty()) {
      auto fee_date = ParseDate(line.fee_date());
      if (!fee_date.ok()) return Invalid(absl::StrCat(field, ".fee_date"), fee_date.status().message());
      if (*fee_date < *admission || *fee_date > discharge) {
        return Invalid(absl::StrCat(field, ".fee_date"), "outside the stay");
      }
    }
    sum_fen += line.amount_fen();
    if (sum_fen > kAmountMaxFen) {
      return Invalid("fee_lines", absl::StrCat("total exceeds ", kAmountMaxFen, " fen"));
    }
  }
  if (request.declared_total_fen() != sum_fen) {
    return Invalid("declared_total_fen",
                   absl::StrCat(request.declared_total_fen(),
                                " != the sum of fee_lines.amount_fen = ", sum_fen));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateHospitalSettleRequest(const SettleRequest& request,
                                           const DirectoryIndex& directory) {
  RETURN_IF_ERROR(ValidateHospitalPart(request, directory));
  if (request.has_classified_bill()) {
    return Invalid("classified_bill", "set by the treatment region; a hospital leaves it empty");
  }
  return absl::OkStatus();
}

absl::Status ValidateRoutedSettleRequest(const SettleRequest& request,
                                         const DirectoryIndex& directory) {
  RETURN_IF_ERROR(ValidateHospitalPart(request, directory));
  if (!request.has_classified_bill()) {
    return Invalid("classified_bill", "missing: the treatment region classifies the bill");
  }
  const auto& bill = request.classified_bill();
  if (absl::Status split = CheckFeeSplit(bill.split()); !split.ok()) {
    return Invalid("classified_bill.split", split.message());
  }
  if (bill.split().total_fen() != request.declared_total_fen() || bill.split().total_fen() < 0) {
    return Invalid("classified_bill.split.total_fen", "differs from declared_total_fen");
  }
  if (bill.hospital_level() == yidi::v1::HOSPITAL_LEVEL_UNSPECIFIED) {
    return Invalid("classified_bill.hospital_level", "unspecified");
  }
  return absl::OkStatus();
}

absl::Status ValidateReverseRequest(const yidi::v1::ReverseRequest& request,
                                    const DirectoryIndex& directory) {
  RETURN_IF_ERROR(CheckText("institution_code", request.institution_code(), true,
                            kInstitutionCodeLengthMax));
  RETURN_IF_ERROR(
      CheckSettlementId("settlement_id", request.settlement_id(), request.institution_code()));
  RETURN_IF_ERROR(CheckSettlementId("original_settlement_id", request.original_settlement_id(),
                                    request.institution_code()));
  if (request.settlement_id() == request.original_settlement_id()) {
    return Invalid("settlement_id", "a reversal needs its own id, not the original's");
  }
  RETURN_IF_ERROR(CheckRegion("insured_region", request.insured_region(), directory));
  RETURN_IF_ERROR(CheckRegion("treatment_region", request.treatment_region(), directory));
  return CheckText("reason", request.reason(), false);
}

absl::Status ValidateCorrectRequest(const yidi::v1::CorrectRequest& request,
                                    const DirectoryIndex& directory) {
  RETURN_IF_ERROR(CheckText("institution_code", request.institution_code(), true,
                            kInstitutionCodeLengthMax));
  RETURN_IF_ERROR(
      CheckSettlementId("settlement_id", request.settlement_id(), request.institution_code()));
  RETURN_IF_ERROR(CheckRegion("insured_region", request.insured_region(), directory));
  return CheckRegion("treatment_region", request.treatment_region(), directory);
}

absl::Status CheckFeeSplit(const yidi::v1::FeeSplit& split) {
  // Bound every part first: the sum of hostile parts must not overflow int64.
  for (int64_t part : {split.total_fen(), split.in_scope_fen(), split.class_b_copay_fen(),
                       split.over_cap_fen(), split.self_pay_fen()}) {
    if (part > kAmountMaxFen || part < -kAmountMaxFen) {
      return absl::InternalError(absl::StrCat("a part lies outside ±", kAmountMaxFen, " fen"));
    }
  }
  const int64_t parts =
      split.in_scope_fen() + split.class_b_copay_fen() + split.over_cap_fen() + split.self_pay_fen();
  if (parts != split.total_fen()) {
    return absl::InternalError(absl::StrCat("total ", split.total_fen(),
                                            " != in_scope + class_b_copay + over_cap + "
                                            "self_pay = ",
                                            parts));
  }
  const bool negative = split.total_fen() < 0;
  for (int64_t part : {split.in_scope_fen(), split.class_b_copay_fen(), split.over_cap_fen(),
                       split.self_pay_fen()}) {
    if (negative ? part > 0 : part < 0) {
      return absl::InternalError("a part has the wrong sign");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSlipIdentities(const yidi::v1::SettlementResult& r) {
  yidi::v1::FeeSplit split;
  split.set_total_fen(r.total_fen());
  split.set_in_scope_fen(r.in_scope_fen());
  split.set_class_b_copay_fen(r.class_b_copay_fen());
  split.set_over_cap_fen(r.over_cap_fen());
  split.set_self_pay_fen(r.self_pay_fen());
  RETURN_IF_ERROR(CheckFeeSplit(split));
  const int64_t funds = r.pooled_fund_fen() + r.large_expense_fen() + r.civil_servant_fen() +
                        r.supplementary_fen() + r.disabled_veteran_fen() +
                        r.critical_illness_fen() + r.medical_assistance_fen() +
                        r.other_fund_fen();
  if (funds != r.fund_total_fen()) {
    return absl::InternalError(
        absl::StrCat("fund_total ", r.fund_total_fen(), " != sum of fund columns ", funds));
  }
  if (r.fund_total_fen() + r.personal_account_fen() + r.cash_fen() != r.total_fen()) {
    return absl::InternalError(absl::StrCat("total ", r.total_fen(),
                                            " != fund_total + personal_account + cash = ",
                                            r.fund_total_fen() + r.personal_account_fen() +
                                                r.cash_fen()));
  }
  if (r.person_part_fen() != r.personal_account_fen() + r.cash_fen()) {
    return absl::InternalError("person_part != personal_account + cash");
  }
  if (r.slip_fund_total_fen() != r.fund_total_fen() + r.personal_account_fen()) {
    return absl::InternalError("slip_fund_total != fund_total + personal_account");
  }
  int64_t listed = 0;
  for (const auto& payment : r.fund_payments()) listed += payment.amount_fen();
  if (listed != r.slip_fund_total_fen()) {
    return absl::InternalError(
        absl::StrCat("fund_payments sum to ", listed, ", slip_fund_total is ",
                     r.slip_fund_total_fen()));
  }
  const bool negative = r.kind() == yidi::v1::SETTLEMENT_KIND_REVERSAL;
  for (int64_t amount :
       {r.total_fen(), r.deductible_applied_fen(), r.pooled_fund_fen(), r.large_expense_fen(),
        r.civil_servant_fen(), r.supplementary_fen(), r.disabled_veteran_fen(),
        r.critical_illness_fen(), r.medical_assistance_fen(), r.other_fund_fen(),
        r.personal_account_fen(), r.cash_fen()}) {
    if (negative ? amount > 0 : amount < 0) {
      return absl::InternalError(negative ? "a reversal amount is positive"
                                          : "an amount is negative");
    }
  }
  return absl::OkStatus();
}

bool IsInpatient(yidi::v1::MedicalType type) {
  switch (type) {
    case yidi::v1::MEDICAL_TYPE_INPATIENT:
    case yidi::v1::MEDICAL_TYPE_TRAUMA_INPATIENT:
    case yidi::v1::MEDICAL_TYPE_REFERRED_OUT_INPATIENT:
    case yidi::v1::MEDICAL_TYPE_EMERGENCY_INPATIENT:
      return true;
    default:
      return false;
  }
}

}  // namespace yidi
