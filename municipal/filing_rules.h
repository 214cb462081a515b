// Filing rules of an insured region (filing_rules.proto, RULES.md 2.1–2.6 and 12): the checks of
// a loaded FilingRules file, and the pure decisions on a filing request — what a new filing, a
// change, a cancellation or a lapse turns a filing into, or why it is refused. The registry
// (filing_registry.h) stores what these return; nothing here touches storage or the clock.
//
// Errors name the field and the reason, cite the article where a province's rule decides, and
// come before anything is stored: INVALID_ARGUMENT for a request the rules can never accept
// (a date in the wrong order, a category the region does not offer, a hospital as the treatment
// region), FAILED_PRECONDITION for one the state refuses (a change inside the lock, an overlap).
//
// Thread-safe: pure functions.
#ifndef YIDI_MUNICIPAL_FILING_RULES_H_
#define YIDI_MUNICIPAL_FILING_RULES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/directory.h"
#include "yidi/v1/filing.pb.h"
#include "yidi/v1/filing_rules.pb.h"
#include "yidi/v1/person.pb.h"

namespace yidi::municipal {

// A validity longer than 10 years is a data error, not a traveller.
inline constexpr int kFilingValidityMonthsMax = 120;
// A filing may be made ahead of a planned move, at most a year ahead.
inline constexpr int kFilingStartAheadDaysMax = 366;
// 22号文 §二(三): the lock on changing a long-term filing is "原则上不超过6个月".
inline constexpr int kChangeLockMonthsMax = 6;
// An undertaking's deadline beyond a year would make it a second, unlimited filing.
inline constexpr int kUndertakingDueDaysMax = 366;
// Caller-chosen idempotency keys.
inline constexpr int kRequestIdLengthMax = 64;
// Materials per filing: a handful in every province (RULES.md 2.2).
inline constexpr int kFilingMaterialsMax = 16;
inline constexpr int kDiseaseNameLengthMax = 200;

// OK when `rules` can be applied by the node of `region`: it names that region; each category at
// most once, not UNSPECIFIED, with one validity (long-term categories without a fixed number of
// months); months within 0..kFilingValidityMonthsMax; every material requirement lists known
// materials; the lock at most kChangeLockMonthsMax; the undertaking deadline within
// 0..kUndertakingDueDaysMax; covered care known. INVALID_ARGUMENT naming the field otherwise.
absl::Status ValidateFilingRules(const yidi::v1::FilingRules& rules, absl::string_view region);

// Relocated retiree, long-term resident, posted worker (RULES.md 2.1).
bool IsLongTermCategory(yidi::v1::FilingCategory category);

// The rule of `category`, or nullptr when the region does not offer it.
const yidi::v1::CategoryRule* FindCategoryRule(const yidi::v1::FilingRules& rules,
                                               yidi::v1::FilingCategory category);

// The same day `months` later, or that month's last day when it has no such day
// (2026-08-31 + 6 → 2027-02-28).
absl::CivilDay AddMonthsClamped(absl::CivilDay day, int months);

// The last day of a validity of `months` counted from `start` inclusive: the day before the same
// day `months` later (2026-04-01 + 12 → 2027-03-31), or that month's last day when it has no
// such day (2026-08-31 + 6 → 2027-02-28). REQUIRES: months ≥ 1.
absl::CivilDay ValidityLastDay(absl::CivilDay start, int months);

// "yidi-app-0001": 1..kRequestIdLengthMax of [A-Za-z0-9._:-]. INVALID_ARGUMENT otherwise.
absl::Status ValidateRequestId(absl::string_view request_id);

// The treatment region a filing stores for `requested`: its pooling region (a county becomes its
// city, a district of a provincial-level pool the province). INVALID_ARGUMENT when it is empty,
// an institution code ("never a hospital"), not a region code, a region the directory does not
// know, a province whose cities pool separately, or the insured region itself.
absl::StatusOr<std::string> FilingTargetOf(const DirectoryIndex& directory,
                                           absl::string_view insured_region,
                                           absl::string_view requested);

// A new filing from `request`, not yet stored (no id, version or timestamps): category offered,
// target checked, dates resolved (start empty = `today`; never before today, at most
// kFilingStartAheadDaysMax ahead; the end by the category's validity), materials checked (an
// undertaking may stand in where the rules allow: materials incomplete, due date set where the
// region sets one), covered care from the rules. REQUIRES: the request's ID number and region
// were checked by the caller.
absl::StatusOr<yidi::v1::Filing> DraftNewFiling(const yidi::v1::FilingRules& rules,
                                                const DirectoryIndex& directory,
                                                const yidi::v1::CreateFilingRequest& request,
                                                absl::CivilDay today);

// The last day `filing` covers admissions, or nullopt when open-ended: its end date, the day
// before a cancellation, an unmet undertaking's due date. `covers_nothing` when cancelled
// without a date or the dates do not parse.
struct FilingSpan {
  absl::CivilDay first;
  std::optional<absl::CivilDay> last;
  bool covers_nothing = false;
};
FilingSpan SpanOf(const yidi::v1::Filing& filing);

// One filing in force at a time (docs/FILING.md): FAILED_PRECONDITION naming the filing of
// `existing` whose span overlaps `draft`'s, except `replacing` (the filing a change closes).
absl::Status CheckNoOverlap(const std::vector<yidi::v1::Filing>& existing,
                            const yidi::v1::Filing& draft, absl::string_view replacing = "");

// A change of `current` (a filing of the request's person, not yet changed by it).
struct ChangeDraft {
  // The changed filing (same id, version + 1); on a change of treatment region, the closed one.
  yidi::v1::Filing changed;
  // On a change of treatment region: the new filing (no id, version or timestamps yet).
  std::optional<yidi::v1::Filing> opened;
};
absl::StatusOr<ChangeDraft> DraftChange(const yidi::v1::FilingRules& rules,
                                        const DirectoryIndex& directory,
                                        const yidi::v1::ChangeFilingRequest& request,
                                        const yidi::v1::Filing& current, absl::CivilDay today);

// A cancellation of `current`: cancelled from `today` (an earlier admission stays covered).
absl::StatusOr<yidi::v1::Filing> DraftCancel(const yidi::v1::FilingRules& rules,
                                             const yidi::v1::CancelFilingRequest& request,
                                             const yidi::v1::Filing& current,
                                             absl::CivilDay today);

// The lapse of an undertaking whose materials were due before `today` (003_… 第7条): cancelled
// from the day after the due date, UNDERTAKING_UNMET, version + 1. nullopt when not lapsed.
std::optional<yidi::v1::Filing> DraftLapse(const yidi::v1::Filing& filing, absl::CivilDay today);

// A chronic-disease eligibility from `request`, not yet stored: code and name within limits,
// dates in order (start empty = today, never before today). FAILED_PRECONDITION when one for
// the same disease is in force over an overlapping span in `existing`.
absl::StatusOr<yidi::v1::ChronicDiseaseEligibility> DraftChronicDisease(
    const yidi::v1::RecordChronicDiseaseRequest& request,
    const std::vector<yidi::v1::ChronicDiseaseEligibility>& existing, absl::CivilDay today);

// Revocation from `today`; FAILED_PRECONDITION when already revoked.
absl::StatusOr<yidi::v1::ChronicDiseaseEligibility> DraftRevocation(
    const yidi::v1::ChronicDiseaseEligibility& current, absl::CivilDay today);

}  // namespace yidi::municipal

#endif  // YIDI_MUNICIPAL_FILING_RULES_H_
