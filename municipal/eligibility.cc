#include "municipal/eligibility.h"

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/directory.h"

namespace yidi::municipal {

bool FilingCovers(const yidi::v1::Filing& filing, absl::string_view treatment_region,
                  absl::CivilDay admission, absl::CivilDay discharge) {
  if (filing.cancelled()) return false;
  const std::string& target = filing.treatment_region();
  const bool names_region = target == treatment_region ||
                            (target.size() == 6 && absl::StrCat(target.substr(0, 4), "00") ==
                                                       treatment_region) ||
                            (target.size() == 6 && ProvinceCodeOf(target) == treatment_region);
  if (!names_region) return false;
  auto start = ParseDate(filing.start_date());
  if (!start.ok() || *start > discharge) return false;  // filed after discharge: manual claim
  if (!filing.end_date().empty()) {
    auto end = ParseDate(filing.end_date());
    if (!end.ok() || admission > *end) return false;  // admitted after it expired
  }
  return true;
}

RemoteCare RemoteCareOf(yidi::v1::FilingCategory category) {
  switch (category) {
    case yidi::v1::FILING_CATEGORY_RELOCATED_RETIREE:
    case yidi::v1::FILING_CATEGORY_LONG_TERM_RESIDENT:
    case yidi::v1::FILING_CATEGORY_POSTED_WORKER:
      return RemoteCare::kLocal;  // two-way benefits: the insured region's local level
    case yidi::v1::FILING_CATEGORY_REFERRED_PATIENT:
    case yidi::v1::FILING_CATEGORY_EMERGENCY_PATIENT:
      return RemoteCare::kReferredOrEmergency;
    default:
      return RemoteCare::kOtherTemporary;
  }
}

Eligibility DecideEligibility(const EligibilityInput& input,
                              const std::optional<yidi::v1::PersonRecord>& person,
                              const std::vector<yidi::v1::Filing>& filings) {
  Eligibility decision;
  if (!person.has_value()) {
    decision.status = absl::NotFoundError(absl::StrCat(
        "id_number: no insured person with this ID number in region ", input.insured_region));
    return decision;
  }
  if (person->status() != yidi::v1::INSURED_STATUS_ACTIVE) {
    decision.status = absl::FailedPreconditionError(absl::StrCat(
        "the insured person's status is ", yidi::v1::InsuredStatus_Name(person->status()),
        " in region ", input.insured_region, ": direct settlement is refused"));
    return decision;
  }
  if (person->insurance_type() != input.insurance_type) {
    decision.status = absl::FailedPreconditionError(
        absl::StrCat("insurance_type: the person is insured under ",
                     yidi::v1::InsuranceType_Name(person->insurance_type())));
    return decision;
  }
  if (input.treatment_region == input.insured_region) return decision;  // local care

  for (auto it = filings.rbegin(); it != filings.rend(); ++it) {  // newest first
    if (FilingCovers(*it, input.treatment_region, input.admission_date, input.discharge_date)) {
      decision.filing = *it;
      decision.remote_care = RemoteCareOf(it->category());
      return decision;
    }
  }
  const bool intra_province =
      ProvinceCodeOf(input.treatment_region) == ProvinceCodeOf(input.insured_region);
  if (intra_province && !input.intra_province_filing_required) {
    return decision;  // e.g. Jiangxi: no intra-province filing, no reduction
  }
  if (input.emergency) {
    decision.deemed_filed = true;
    decision.remote_care = RemoteCare::kReferredOrEmergency;
    return decision;
  }
  decision.status = absl::FailedPreconditionError(absl::StrCat(
      "not filed: the person has no filing (备案) for treatment region ", input.treatment_region,
      " valid on ", FormatDate(input.admission_date),
      ". File with the insured region ", input.insured_region,
      " before discharge to settle directly, or claim manual reimbursement"));
  return decision;
}

}  // namespace yidi::municipal
