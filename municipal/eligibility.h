// Eligibility for direct settlement at the insured region (RULES.md 2.7–2.9): an active insured
// person under the requested insurance type, and a filing that covers the treatment region on
// the admission date, or emergency treatment (deemed filed, 视同备案), or intra-province care
// where the insured region needs no filing. Pure: thread-safe, no storage.
#ifndef YIDI_MUNICIPAL_ELIGIBILITY_H_
#define YIDI_MUNICIPAL_ELIGIBILITY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "municipal/remote_care.h"
#include "yidi/v1/config.pb.h"
#include "yidi/v1/filing_rules.pb.h"
#include "yidi/v1/person.pb.h"

namespace yidi::municipal {

struct EligibilityInput {
  std::string insured_region;
  std::string treatment_region;  // the treatment pooling region (a city, or xx0000)
  yidi::v1::InsuranceType insurance_type = yidi::v1::INSURANCE_TYPE_UNSPECIFIED;
  absl::CivilDay admission_date;
  absl::CivilDay discharge_date;
  bool emergency = false;
  bool intra_province_filing_required = true;
  // The insured region settles unfiled, non-emergency stays directly, with a reduced ratio
  // (PolicyConfig.remote_care.unfiled_direct_settlement; Yunnan 001 通知§四(一)).
  bool unfiled_direct_settlement = false;
  // The visit's medical type: the filing must cover its kind of care (RULES.md 2.9).
  // UNSPECIFIED (an identity check without a visit) skips that check.
  yidi::v1::MedicalType medical_type = yidi::v1::MEDICAL_TYPE_UNSPECIFIED;
  // The insured region's filing rules (NodeConfig.filing_rules_file), or nullptr when none are
  // loaded: every filing then covers every kind of care and no care settles without a filing.
  const yidi::v1::FilingRules* filing_rules = nullptr;
};

struct Eligibility {
  // OK, or the refusal: FAILED_PRECONDITION (status, insurance type, not filed) or NOT_FOUND
  // (no such person), with a plain-language reason.
  absl::Status status;
  RemoteCare remote_care = RemoteCare::kLocal;
  std::optional<yidi::v1::Filing> filing;  // the filing in force, when one applies
  bool deemed_filed = false;
};

// True when `filing` covers `treatment_region` for a stay from `admission` to `discharge`
// (common/filing_index.h FilingInForce): it names the city (or a county in it, or the province
// of a provincial-level pool); admitted within its validity, which also settles a stay that
// outlives the filing, and before a cancellation took effect or an unmet undertaking lapsed;
// and made before discharge (late filing, 补办) is accepted.
bool FilingCovers(const yidi::v1::Filing& filing, absl::string_view treatment_region,
                  absl::CivilDay admission, absl::CivilDay discharge);

// True when `filing` covers `care` (RULES.md 2.9): by the kinds of care recorded on it when it
// was made, else by `rules`, else always.
bool FilingCoversCareKind(const yidi::v1::Filing& filing, yidi::v1::CareKind care,
                          const yidi::v1::FilingRules* rules);

RemoteCare RemoteCareOf(yidi::v1::FilingCategory category);

Eligibility DecideEligibility(const EligibilityInput& input,
                              const std::optional<yidi::v1::PersonRecord>& person,
                              const std::vector<yidi::v1::Filing>& filings);

}  // namespace yidi::municipal

#endif  // YIDI_MUNICIPAL_ELIGIBILITY_H_
