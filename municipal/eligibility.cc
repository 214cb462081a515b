#include "municipal/eligibility.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/directory.h"
#include "common/filing_index.h"

namespace yidi::municipal {

bool FilingCovers(const yidi::v1::Filing& filing, absl::string_view treatment_region,
                  absl::CivilDay admission, absl::CivilDay discharge) {
  return FilingInForce(filing, treatment_region, admission, discharge);
}

bool FilingCoversCareKind(const yidi::v1::Filing& filing, yidi::v1::CareKind care,
                          const yidi::v1::FilingRules* rules) {
  if (care == yidi::v1::CARE_KIND_UNSPECIFIED) return true;
  if (!filing.covered_care().empty() || rules == nullptr) return FilingCoversCare(filing, care);
  const auto& covered = rules->covered_care();
  return covered.empty() || std::find(covered.begin(), covered.end(), care) != covered.end();
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

namespace {

// The newest filing in force for the stay that covers `care`, or nullptr; `*not_covering` is set
// to the newest one in force that does not cover it.
const yidi::v1::Filing* FilingFor(const EligibilityInput& input, yidi::v1::CareKind care,
                                  const std::vector<yidi::v1::Filing>& filings,
                                  const yidi::v1::Filing** not_covering) {
  for (auto it = filings.rbegin(); it != filings.rend(); ++it) {  // newest first
    if (!FilingCovers(*it, input.treatment_region, input.admission_date, input.discharge_date)) {
      continue;
    }
    if (FilingCoversCareKind(*it, care, input.filing_rules)) return &*it;
    if (*not_covering == nullptr) *not_covering = &*it;
  }
  return nullptr;
}

}  // namespace

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

  const yidi::v1::CareKind care = CareKindOf(input.medical_type);
  const yidi::v1::Filing* not_covering = nullptr;  // in force, but not for this kind of care
  if (const yidi::v1::Filing* filing = FilingFor(input, care, filings, &not_covering)) {
    decision.filing = *filing;
    decision.remote_care = RemoteCareOf(filing->category());
    return decision;
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
  if (input.filing_rules != nullptr && care != yidi::v1::CARE_KIND_UNSPECIFIED) {
    const auto& without_filing = input.filing_rules->care_without_filing();
    if (std::find(without_filing.begin(), without_filing.end(), care) != without_filing.end()) {
      // Yunnan: 普通门诊 and pharmacies settle directly without a filing (001_… 第12条); as an
      // unfiled stay for the ratio (the policy engine's reduction for the unfiled).
      decision.remote_care = RemoteCare::kUnfiled;
      return decision;
    }
  }
  if (not_covering != nullptr) {
    decision.status = absl::FailedPreconditionError(absl::StrCat(
        "filing ", not_covering->filing_id(), " is in force for treatment region ",
        input.treatment_region, " but does not cover ", yidi::v1::CareKind_Name(care),
        " under the rules of region ", input.insured_region, " (RULES.md 2.9)"));
    return decision;
  }
  if (input.unfiled_direct_settlement) {
    decision.remote_care = RemoteCare::kUnfiled;  // reduced ratio with a floor (policy engine)
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
