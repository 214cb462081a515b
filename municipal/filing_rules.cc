#include "municipal/filing_rules.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/clock.h"
#include "common/filing_index.h"
#include "common/status_macros.h"

namespace yidi::municipal {
namespace {

using yidi::v1::CategoryRule;
using yidi::v1::ChronicDiseaseEligibility;
using yidi::v1::Filing;
using yidi::v1::FilingCategory;
using yidi::v1::FilingMaterial;
using yidi::v1::FilingRules;
using yidi::v1::FilingValidity;

std::string CategoryName(FilingCategory category) {
  return yidi::v1::FilingCategory_Name(category);
}

std::string MaterialNames(const yidi::v1::MaterialRequirement& requirement) {
  std::vector<std::string> names;
  for (int material : requirement.any_of()) {
    names.push_back(yidi::v1::FilingMaterial_Name(static_cast<FilingMaterial>(material)));
  }
  return absl::StrJoin(names, " or ");
}

std::string SpanText(const FilingSpan& span) {
  return absl::StrCat(FormatDate(span.first), " to ",
                      span.last.has_value() ? FormatDate(*span.last) : std::string("no end"));
}

bool Overlaps(const FilingSpan& a, const FilingSpan& b) {
  if (a.covers_nothing || b.covers_nothing) return false;
  const bool a_starts_in_time = !b.last.has_value() || a.first <= *b.last;
  const bool b_starts_in_time = !a.last.has_value() || b.first <= *a.last;
  return a_starts_in_time && b_starts_in_time;
}

// The end date a filing stores ("" = open-ended) for `requested` under `validity`.
absl::StatusOr<std::string> ResolveEnd(const FilingValidity& validity, FilingCategory category,
                                       absl::CivilDay start, absl::string_view requested,
                                       absl::string_view region) {
  std::optional<absl::CivilDay> end;
  if (!requested.empty()) {
    auto parsed = ParseDate(requested);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("end_date: ", parsed.status().message()));
    }
    if (*parsed < start) {
      return absl::InvalidArgumentError(absl::StrCat("end_date: ", requested,
                                                     " is before start_date ", FormatDate(start)));
    }
    end = *parsed;
  }
  switch (validity.kind_case()) {
    case FilingValidity::kNoExpiry:
      if (end.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "end_date: a ", CategoryName(category), " filing of region ", region,
            " does not expire (长期有效, 22号文 §二(三)); leave end_date empty"));
      }
      return std::string();
    case FilingValidity::kFixedMonths: {
      const absl::CivilDay last = ValidityLastDay(start, validity.fixed_months());
      if (end.has_value() && *end != last) {
        return absl::InvalidArgumentError(absl::StrCat(
            "end_date: region ", region, " fixes the validity of a ", CategoryName(category),
            " filing at ", validity.fixed_months(), " months: from ", FormatDate(start),
            " it ends on ", FormatDate(last), "; leave end_date empty"));
      }
      return FormatDate(last);
    }
    case FilingValidity::kChosen: {
      const auto& chosen = validity.chosen();
      if (!end.has_value()) {
        if (chosen.open_ended_allowed()) return std::string();
        return absl::InvalidArgumentError(absl::StrCat(
            "end_date: required: in region ", region, " the person chooses how long a ",
            CategoryName(category), " filing lasts (002_… 第10条)"));
      }
      if (chosen.min_months() > 0 && *end < ValidityLastDay(start, chosen.min_months())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "end_date: a ", CategoryName(category), " filing of region ", region,
            " lasts at least ", chosen.min_months(), " months: from ", FormatDate(start),
            " not before ", FormatDate(ValidityLastDay(start, chosen.min_months())),
            " (22号文 §二(三), 002_… 第10条)"));
      }
      const int max_months = chosen.max_months() > 0 ? chosen.max_months()
                                                     : kFilingValidityMonthsMax;
      if (*end > ValidityLastDay(start, max_months)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "end_date: a ", CategoryName(category), " filing of region ", region,
            " lasts at most ", max_months, " months: from ", FormatDate(start), " not after ",
            FormatDate(ValidityLastDay(start, max_months))));
      }
      return FormatDate(*end);
    }
    default:
      return absl::InternalError("a loaded rule has a validity");
  }
}

// Checks and normalises (sorted, without duplicates) a list of materials; `field` names it.
absl::StatusOr<std::set<int>> MaterialSet(
    const google::protobuf::RepeatedField<int>& materials, absl::string_view field) {
  if (materials.size() > kFilingMaterialsMax) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": at most ", kFilingMaterialsMax));
  }
  std::set<int> set;
  for (int i = 0; i < materials.size(); ++i) {
    const int material = materials.Get(i);
    if (material == yidi::v1::FILING_MATERIAL_UNSPECIFIED ||
        !yidi::v1::FilingMaterial_IsValid(material)) {
      return absl::InvalidArgumentError(absl::StrCat(field, "[", i, "]: not a filing material"));
    }
    set.insert(material);
  }
  return set;
}

// The first requirement of `rule` that `materials` do not meet, or nullptr.
const yidi::v1::MaterialRequirement* FirstUnmet(const CategoryRule& rule,
                                                const std::set<int>& materials,
                                                bool undertaking_may_stand_in) {
  for (const auto& requirement : rule.materials()) {
    const bool met = std::any_of(requirement.any_of().begin(), requirement.any_of().end(),
                                 [&](int material) { return materials.count(material) > 0; });
    if (met) continue;
    if (undertaking_may_stand_in && requirement.undertaking_may_replace()) continue;
    return &requirement;
  }
  return nullptr;
}

void SetMaterials(const std::set<int>& materials, Filing* filing) {
  filing->clear_materials();
  for (int material : materials) filing->add_materials(static_cast<FilingMaterial>(material));
}

absl::Status CheckIntraProvince(const FilingRules& rules, absl::string_view target) {
  if (rules.intra_province_filing_required()) return absl::OkStatus();
  if (ProvinceCodeOf(target) != ProvinceCodeOf(rules.insured_region())) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "treatment_region: ", target, " is in the insured region's own province, where region ",
      rules.insured_region(), " needs no filing (省内异地就医无需备案, 002_… 第8条)"));
}

// The lock on a long-term filing (RULES.md 2.5): what a person may not do before it ends.
absl::Status CheckLock(const FilingRules& rules, const Filing& current,
                       yidi::v1::ObjectiveReason reason, absl::CivilDay today,
                       bool cancellation) {
  if (!IsLongTermCategory(current.category())) return absl::OkStatus();
  const auto& lock = rules.long_term_lock();
  if (lock.months() == 0) return absl::OkStatus();
  if (cancellation && !lock.covers_cancellation()) return absl::OkStatus();
  auto start = ParseDate(current.start_date());
  if (!start.ok()) return absl::OkStatus();
  const absl::CivilDay free_from = AddMonthsClamped(*start, lock.months());
  if (today >= free_from) return absl::OkStatus();
  if (lock.objective_reason_exempts() && reason != yidi::v1::OBJECTIVE_REASON_NONE) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "a long-term filing of region ", rules.insured_region(), " may ",
      cancellation ? "be cancelled" : "change its treatment region", " only from ",
      FormatDate(free_from), ", ", lock.months(), " months after its start ",
      current.start_date(), " (22号文 §二(三); 002_… 第11条, 003_… 第10条(二))",
      lock.objective_reason_exempts()
          ? "; an objective reason (objective_reason: JOB_TRANSFER, MOVING_TO_ANOTHER_CHILD) "
            "lifts the lock"
          : ""));
}

absl::StatusOr<absl::CivilDay> ResolveStart(absl::string_view requested, absl::CivilDay today) {
  if (requested.empty()) return today;
  auto start = ParseDate(requested);
  if (!start.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("start_date: ", start.status().message()));
  }
  if (*start < today) {
    return absl::InvalidArgumentError(absl::StrCat(
        "start_date: ", requested, " is before today (", FormatDate(today),
        "): a filing is never back-dated; one made before discharge covers the stay "
        "(22号文 §二(四))"));
  }
  if (*start > today + kFilingStartAheadDaysMax) {
    return absl::InvalidArgumentError(absl::StrCat("start_date: at most ",
                                                   kFilingStartAheadDaysMax, " days ahead"));
  }
  return *start;
}

// A category's validity and materials; `where` names it in errors.
absl::Status ValidateCategoryRule(const CategoryRule& rule, absl::string_view where) {
  const bool long_term = IsLongTermCategory(rule.category());
  const FilingValidity& validity = rule.validity();
  switch (validity.kind_case()) {
    case FilingValidity::kNoExpiry:
      if (!long_term) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ".validity: a temporary filing has an end (22号文 §二(三))"));
      }
      break;
    case FilingValidity::kFixedMonths:
      if (long_term) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ".validity: a long-term filing is open-ended or chosen by the person "
                   "(22号文 §二(三), 002_… 第10条), not fixed"));
      }
      if (validity.fixed_months() < 1 || validity.fixed_months() > kFilingValidityMonthsMax) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".validity.fixed_months: 1..",
                                                       kFilingValidityMonthsMax));
      }
      break;
    case FilingValidity::kChosen: {
      const auto& chosen = validity.chosen();
      if (chosen.min_months() < 0 || chosen.min_months() > kFilingValidityMonthsMax ||
          chosen.max_months() < 0 || chosen.max_months() > kFilingValidityMonthsMax ||
          (chosen.max_months() > 0 && chosen.max_months() < chosen.min_months())) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ".validity.chosen: 0 ≤ min_months ≤ max_months ≤ ", kFilingValidityMonthsMax,
            " (max_months 0 = the limit)"));
      }
      if (chosen.open_ended_allowed() && !long_term) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ".validity.chosen.open_ended_allowed: only for long-term categories"));
      }
      break;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".validity: one of no_expiry, fixed_months, chosen"));
  }
  for (int j = 0; j < rule.materials_size(); ++j) {
    const auto& requirement = rule.materials(j);
    if (requirement.any_of().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".materials[", j, "].any_of: at least one material"));
    }
    for (int material : requirement.any_of()) {
      if (material == yidi::v1::FILING_MATERIAL_UNSPECIFIED ||
          !yidi::v1::FilingMaterial_IsValid(material)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ".materials[", j, "].any_of: not a filing material"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsLongTermCategory(FilingCategory category) {
  return category == yidi::v1::FILING_CATEGORY_RELOCATED_RETIREE ||
         category == yidi::v1::FILING_CATEGORY_LONG_TERM_RESIDENT ||
         category == yidi::v1::FILING_CATEGORY_POSTED_WORKER;
}

const CategoryRule* FindCategoryRule(const FilingRules& rules, FilingCategory category) {
  for (const CategoryRule& rule : rules.categories()) {
    if (rule.category() == category) return &rule;
  }
  return nullptr;
}

absl::Status ValidateFilingRules(const FilingRules& rules, absl::string_view region) {
  if (rules.insured_region() != region) {
    return absl::InvalidArgumentError(absl::StrCat("insured_region: ", rules.insured_region(),
                                                   ", but this node is region ", region));
  }
  std::set<int> seen;
  for (int i = 0; i < rules.categories_size(); ++i) {
    const CategoryRule& rule = rules.categories(i);
    const std::string where = absl::StrCat("categories[", i, "]");
    if (rule.category() == yidi::v1::FILING_CATEGORY_UNSPECIFIED ||
        !yidi::v1::FilingCategory_IsValid(rule.category())) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".category: required"));
    }
    if (!seen.insert(rule.category()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".category: ", CategoryName(rule.category()), " twice"));
    }
    RETURN_IF_ERROR(ValidateCategoryRule(rule, where));
  }
  const auto& lock = rules.long_term_lock();
  if (lock.months() < 0 || lock.months() > kChangeLockMonthsMax) {
    return absl::InvalidArgumentError(absl::StrCat(
        "long_term_lock.months: 0..", kChangeLockMonthsMax,
        " (\"原则上不超过6个月\", 22号文 §二(三))"));
  }
  if (rules.undertaking_materials_due_days() < 0 ||
      rules.undertaking_materials_due_days() > kUndertakingDueDaysMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("undertaking_materials_due_days: 0..", kUndertakingDueDaysMax));
  }
  for (const auto* list : {&rules.covered_care(), &rules.care_without_filing()}) {
    for (int care : *list) {
      if (care == yidi::v1::CARE_KIND_UNSPECIFIED || !yidi::v1::CareKind_IsValid(care)) {
        return absl::InvalidArgumentError("covered_care / care_without_filing: not a kind of care");
      }
    }
  }
  return absl::OkStatus();
}

absl::CivilDay AddMonthsClamped(absl::CivilDay day, int months) {
  const absl::CivilMonth month = absl::CivilMonth(day) + months;
  const absl::CivilDay first_of_next = absl::CivilDay(month + 1);
  const int days_in_month = static_cast<int>((first_of_next - 1).day());
  return absl::CivilDay(month.year(), month.month(), std::min<int>(day.day(), days_in_month));
}

absl::CivilDay ValidityLastDay(absl::CivilDay start, int months) {
  YIDI_CHECK(months >= 1, "a validity lasts at least a month");
  const absl::CivilMonth month = absl::CivilMonth(start) + months;
  const absl::CivilDay first_of_next = absl::CivilDay(month + 1);
  const int days_in_month = static_cast<int>((first_of_next - 1).day());
  if (start.day() > days_in_month) return first_of_next - 1;  // no such day: that month's end
  return absl::CivilDay(month.year(), month.month(), start.day()) - 1;
}

absl::Status ValidateRequestId(absl::string_view request_id) {
  if (request_id.empty()) return absl::InvalidArgumentError("request_id: required");
  const bool ok = request_id.size() <= static_cast<size_t>(kRequestIdLengthMax) &&
                  std::all_of(request_id.begin(), request_id.end(), [](char c) {
                    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
                           c == '_' || c == ':' || c == '-';
                  });
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request_id: 1 to ", kRequestIdLengthMax, " letters, digits, '.', '_', ':' or '-'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> FilingTargetOf(const DirectoryIndex& directory,
                                           absl::string_view insured_region,
                                           absl::string_view requested) {
  if (requested.empty()) return absl::InvalidArgumentError("treatment_region: required");
  const std::string shown(requested.substr(0, 32));
  if (const auto* institution = directory.FindInstitution(requested); institution != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "treatment_region: ", shown, " is an institution (", institution->name(),
        "); a filing names the treatment city, or the province of a provincial-level pooling "
        "region, never a hospital (不得选择备案到具体定点医疗机构, 003_… 第8条; 000_… 第9条)"));
  }
  if (!IsRegionCode(requested)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "treatment_region: ", shown, " is not a 6-digit region code; a filing names a city, or "
        "the province of a provincial-level pooling region, never a hospital"));
  }
  auto pool = directory.PoolingRegionFor(requested);
  if (!pool.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "treatment_region: ", shown, " is not a pooling region the directory knows; name the "
        "city, or the province of a provincial-level pooling region (002_… 第12条)"));
  }
  if (*pool == insured_region) {
    return absl::InvalidArgumentError(absl::StrCat(
        "treatment_region: ", shown, " is in the insured region ", insured_region,
        " itself; care there needs no filing"));
  }
  return *pool;
}

absl::StatusOr<Filing> DraftNewFiling(const FilingRules& rules, const DirectoryIndex& directory,
                                      const yidi::v1::CreateFilingRequest& request,
                                      absl::CivilDay today) {
  const FilingCategory category = request.category();
  if (category == yidi::v1::FILING_CATEGORY_UNSPECIFIED ||
      !yidi::v1::FilingCategory_IsValid(category)) {
    return absl::InvalidArgumentError("category: required");
  }
  const CategoryRule* rule = FindCategoryRule(rules, category);
  if (rule == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "category: region ", rules.insured_region(), " does not offer ", CategoryName(category),
        " filings",
        category == yidi::v1::FILING_CATEGORY_EMERGENCY_PATIENT
            ? " (an emergency is deemed filed, 视同已备案: 000_… 第6条(五), 001_… 第10条)"
            : ""));
  }
  ASSIGN_OR_RETURN(std::string target,
                   FilingTargetOf(directory, rules.insured_region(), request.treatment_region()));
  RETURN_IF_ERROR(CheckIntraProvince(rules, target));
  ASSIGN_OR_RETURN(absl::CivilDay start, ResolveStart(request.start_date(), today));
  ASSIGN_OR_RETURN(std::string end, ResolveEnd(rule->validity(), category, start,
                                               request.end_date(), rules.insured_region()));
  ASSIGN_OR_RETURN(std::set<int> materials, MaterialSet(request.materials(), "materials"));
  if (const auto* unmet = FirstUnmet(*rule, materials, request.undertaking()); unmet != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "materials: ", unmet->name().empty() ? MaterialNames(*unmet) : unmet->name(),
        " (", MaterialNames(*unmet), ") is required for a ", CategoryName(category),
        " filing in region ", rules.insured_region(),
        unmet->undertaking_may_replace() ? "; or file on an undertaking (承诺制)" : ""));
  }
  const bool complete = FirstUnmet(*rule, materials, /*undertaking_may_stand_in=*/false) == nullptr;

  Filing filing;
  filing.set_insured_region(rules.insured_region());
  filing.set_id_number(request.id_number());
  filing.set_category(category);
  filing.set_treatment_region(target);
  filing.set_start_date(FormatDate(start));
  filing.set_end_date(end);
  filing.set_undertaking(request.undertaking());
  filing.set_materials_complete(complete);
  SetMaterials(materials, &filing);
  if (!complete && rules.undertaking_materials_due_days() > 0) {
    filing.set_materials_due_date(FormatDate(today + rules.undertaking_materials_due_days()));
  }
  *filing.mutable_covered_care() = rules.covered_care();
  return filing;
}

FilingSpan SpanOf(const Filing& filing) {
  FilingSpan span;
  auto start = ParseDate(filing.start_date());
  if (!start.ok()) {
    span.covers_nothing = true;
    return span;
  }
  span.first = *start;
  auto shorten = [&span](absl::CivilDay last) {
    if (!span.last.has_value() || last < *span.last) span.last = last;
  };
  if (!filing.end_date().empty()) {
    auto end = ParseDate(filing.end_date());
    if (!end.ok()) {
      span.covers_nothing = true;
      return span;
    }
    shorten(*end);
  }
  if (filing.cancelled()) {
    auto cancelled_on = ParseDate(filing.cancelled_on());
    if (filing.cancelled_on().empty() || !cancelled_on.ok()) {
      span.covers_nothing = true;
      return span;
    }
    shorten(*cancelled_on - 1);
  }
  if (filing.undertaking() && !filing.materials_complete() &&
      !filing.materials_due_date().empty()) {
    if (auto due = ParseDate(filing.materials_due_date()); due.ok()) shorten(*due);
  }
  if (span.last.has_value() && *span.last < span.first) span.covers_nothing = true;
  return span;
}

absl::Status CheckNoOverlap(const std::vector<Filing>& existing, const Filing& draft,
                            absl::string_view replacing) {
  const FilingSpan wanted = SpanOf(draft);
  for (const Filing& filing : existing) {
    if (!replacing.empty() && filing.filing_id() == replacing) continue;
    const FilingSpan span = SpanOf(filing);
    if (!Overlaps(span, wanted)) continue;
    return absl::FailedPreconditionError(absl::StrCat(
        "the person already has filing ", filing.filing_id(), " (", CategoryName(filing.category()),
        ", treatment region ", filing.treatment_region(), ", ", SpanText(span),
        ") over the same time: one filing at a time; change it (ChangeFiling) or cancel it "
        "first (docs/FILING.md)"));
  }
  return absl::OkStatus();
}

namespace {

// A change of treatment region (D301): `current` closed today, `next` (its changed copy) opened
// in the new region from today.
absl::StatusOr<ChangeDraft> MoveToRegion(const FilingRules& rules,
                                         const DirectoryIndex& directory,
                                         const yidi::v1::ChangeFilingRequest& request,
                                         const Filing& current, Filing next,
                                         absl::CivilDay start, absl::CivilDay today) {
  ChangeDraft draft;
  ASSIGN_OR_RETURN(std::string target,
                   FilingTargetOf(directory, rules.insured_region(), request.treatment_region()));
  if (target == current.treatment_region()) {
    return absl::InvalidArgumentError(absl::StrCat("treatment_region: the filing already names ",
                                                   target));
  }
  RETURN_IF_ERROR(CheckIntraProvince(rules, target));
  RETURN_IF_ERROR(CheckLock(rules, current, request.objective_reason(), today,
                            /*cancellation=*/false));
  Filing closed = current;
  closed.set_cancelled(true);
  closed.set_cancelled_on(FormatDate(today));
  closed.set_cancel_reason(yidi::v1::FILING_CANCEL_REASON_TREATMENT_REGION_CHANGED);
  closed.set_version(current.version() + 1);

  Filing opened = next;
  opened.clear_filing_id();
  opened.clear_created_at();
  opened.clear_updated_at();
  opened.set_version(0);
  opened.set_treatment_region(target);
  opened.set_start_date(FormatDate(std::max(today, start)));
  opened.set_replaces_filing_id(current.filing_id());
  *opened.mutable_covered_care() = rules.covered_care();
  draft.changed = std::move(closed);
  draft.opened = std::move(opened);
  return draft;
}

}  // namespace

absl::StatusOr<ChangeDraft> DraftChange(const FilingRules& rules, const DirectoryIndex& directory,
                                        const yidi::v1::ChangeFilingRequest& request,
                                        const Filing& current, absl::CivilDay today) {
  if (current.cancelled()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "filing_id: ", current.filing_id(), " was cancelled on ", current.cancelled_on(), " (",
        yidi::v1::FilingCancelReason_Name(current.cancel_reason()), "); file anew"));
  }
  const FilingSpan span = SpanOf(current);
  if (!span.covers_nothing && span.last.has_value() && *span.last < today) {
    return absl::FailedPreconditionError(absl::StrCat("filing_id: ", current.filing_id(),
                                                      " ended on ", FormatDate(*span.last),
                                                      "; file anew"));
  }
  const bool new_region = !request.treatment_region().empty();
  const bool new_end = !request.end_date().empty();
  if (!new_region && !new_end && request.materials_supplied().empty()) {
    return absl::InvalidArgumentError(
        "nothing to change: give treatment_region, end_date or materials_supplied");
  }
  const CategoryRule* rule = FindCategoryRule(rules, current.category());
  if (rule == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "region ", rules.insured_region(), " no longer offers ", CategoryName(current.category()),
        " filings; cancel this one and file anew"));
  }
  Filing next = current;
  ASSIGN_OR_RETURN(std::set<int> supplied,
                   MaterialSet(request.materials_supplied(), "materials_supplied"));
  std::set<int> materials(current.materials().begin(), current.materials().end());
  materials.insert(supplied.begin(), supplied.end());
  SetMaterials(materials, &next);
  if (!next.materials_complete() &&
      FirstUnmet(*rule, materials, /*undertaking_may_stand_in=*/false) == nullptr) {
    next.set_materials_complete(true);  // the undertaking is fulfilled
  }
  auto start = ParseDate(current.start_date());
  if (!start.ok()) return absl::InternalError("a stored filing has a start date");
  if (new_end) {
    auto end = ParseDate(request.end_date());
    if (!end.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("end_date: ", end.status().message()));
    }
    if (*end < today) {
      return absl::InvalidArgumentError(absl::StrCat("end_date: ", request.end_date(),
                                                     " is before today (", FormatDate(today),
                                                     ")"));
    }
    ASSIGN_OR_RETURN(std::string resolved,
                     ResolveEnd(rule->validity(), current.category(), *start, request.end_date(),
                                rules.insured_region()));
    next.set_end_date(resolved);
  }
  ChangeDraft draft;
  if (!new_region) {
    next.set_version(current.version() + 1);
    draft.changed = std::move(next);
    return draft;
  }
  return MoveToRegion(rules, directory, request, current, std::move(next), *start, today);
}

absl::StatusOr<Filing> DraftCancel(const FilingRules& rules,
                                   const yidi::v1::CancelFilingRequest& request,
                                   const Filing& current, absl::CivilDay today) {
  switch (request.reason()) {
    case yidi::v1::FILING_CANCEL_REASON_REQUESTED:
    case yidi::v1::FILING_CANCEL_REASON_UNDERTAKING_UNMET:
    case yidi::v1::FILING_CANCEL_REASON_INSURANCE_ENDED:
      break;
    case yidi::v1::FILING_CANCEL_REASON_TREATMENT_REGION_CHANGED:
      return absl::InvalidArgumentError(
          "reason: TREATMENT_REGION_CHANGED is set by ChangeFiling, not by a cancellation");
    default:
      return absl::InvalidArgumentError(
          "reason: required: REQUESTED, INSURANCE_ENDED or UNDERTAKING_UNMET");
  }
  if (current.cancelled()) {
    return absl::FailedPreconditionError(absl::StrCat("filing_id: ", current.filing_id(),
                                                      " was already cancelled on ",
                                                      current.cancelled_on()));
  }
  if (request.reason() == yidi::v1::FILING_CANCEL_REASON_REQUESTED) {
    RETURN_IF_ERROR(CheckLock(rules, current, request.objective_reason(), today,
                              /*cancellation=*/true));
  }
  Filing next = current;
  next.set_cancelled(true);
  next.set_cancelled_on(FormatDate(today));
  next.set_cancel_reason(request.reason());
  next.set_version(current.version() + 1);
  return next;
}

std::optional<Filing> DraftLapse(const Filing& filing, absl::CivilDay today) {
  if (filing.cancelled() || !UndertakingLapsed(filing, today)) return std::nullopt;
  auto due = ParseDate(filing.materials_due_date());
  YIDI_CHECK(due.ok(), "a lapsed undertaking has a due date");
  Filing next = filing;
  next.set_cancelled(true);
  next.set_cancelled_on(FormatDate(*due + 1));
  next.set_cancel_reason(yidi::v1::FILING_CANCEL_REASON_UNDERTAKING_UNMET);
  next.set_version(filing.version() + 1);
  return next;
}

absl::StatusOr<ChronicDiseaseEligibility> DraftChronicDisease(
    const yidi::v1::RecordChronicDiseaseRequest& request,
    const std::vector<ChronicDiseaseEligibility>& existing, absl::CivilDay today) {
  const std::string code = absl::AsciiStrToUpper(request.disease_code());
  const bool code_ok =
      !code.empty() && code.size() <= static_cast<size_t>(kDiseaseCodeLengthMax) &&
      std::all_of(code.begin(), code.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.';
      });
  if (!code_ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "disease_code: 1 to ", kDiseaseCodeLengthMax, " letters, digits or '.' (e.g. I10)"));
  }
  if (request.disease_name().size() > static_cast<size_t>(kDiseaseNameLengthMax)) {
    return absl::InvalidArgumentError(
        absl::StrCat("disease_name: at most ", kDiseaseNameLengthMax, " bytes"));
  }
  ASSIGN_OR_RETURN(absl::CivilDay start, ResolveStart(request.start_date(), today));
  std::string end;
  if (!request.end_date().empty()) {
    auto parsed = ParseDate(request.end_date());
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("end_date: ", parsed.status().message()));
    }
    if (*parsed < start) {
      return absl::InvalidArgumentError(absl::StrCat("end_date: ", request.end_date(),
                                                     " is before start_date ", FormatDate(start)));
    }
    end = FormatDate(*parsed);
  }
  ChronicDiseaseEligibility draft;
  draft.set_id_number(request.id_number());
  draft.set_disease_code(code);
  draft.set_disease_name(request.disease_name());
  draft.set_start_date(FormatDate(start));
  draft.set_end_date(end);
  for (const auto& other : existing) {
    if (other.disease_code() != code) continue;
    auto other_start = ParseDate(other.start_date());
    if (!other_start.ok()) continue;
    FilingSpan a{start, std::nullopt, false};
    if (!end.empty()) a.last = *ParseDate(end);
    FilingSpan b{*other_start, std::nullopt, false};
    if (!other.end_date().empty()) {
      if (auto other_end = ParseDate(other.end_date()); other_end.ok()) b.last = *other_end;
    }
    if (other.revoked()) {
      auto revoked_on = ParseDate(other.revoked_on());
      if (!revoked_on.ok()) continue;
      if (!b.last.has_value() || *revoked_on - 1 < *b.last) b.last = *revoked_on - 1;
      if (*b.last < b.first) continue;
    }
    if (Overlaps(a, b)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "disease_code: the person's eligibility ", other.eligibility_id(), " for ", code,
          " is in force over the same time"));
    }
  }
  return draft;
}

absl::StatusOr<ChronicDiseaseEligibility> DraftRevocation(
    const ChronicDiseaseEligibility& current, absl::CivilDay today) {
  if (current.revoked()) {
    return absl::FailedPreconditionError(absl::StrCat("eligibility_id: ",
                                                      current.eligibility_id(),
                                                      " was already revoked on ",
                                                      current.revoked_on()));
  }
  ChronicDiseaseEligibility next = current;
  next.set_revoked(true);
  next.set_revoked_on(FormatDate(today));
  next.set_version(current.version() + 1);
  return next;
}

}  // namespace yidi::municipal
