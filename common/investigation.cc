#include "common/investigation.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "common/directory.h"
#include "common/id_number.h"
#include "common/money.h"
#include "common/status_macros.h"

namespace yidi {
namespace {

using yidi::v1::Investigation;
using yidi::v1::InvestigationScope;
using yidi::v1::InvestigationState;

absl::Status CheckText(absl::string_view field, absl::string_view text, bool required) {
  if (required && text.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  }
  if (text.size() > static_cast<size_t>(kInvestigationTextLengthMax)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": longer than ",
                                                   kInvestigationTextLengthMax, " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string InvestigationPeriodOf(absl::Time opened_at) {
  const absl::CivilDay day = CstDay(opened_at);
  absl::CivilMonth month(day);
  if (day.day() >= kInvestigationCloseDayOfMonth) month += 1;
  return FormatInvestigationPeriod(month);
}

absl::StatusOr<absl::CivilMonth> ParseInvestigationPeriod(absl::string_view period) {
  absl::CivilMonth month;
  if (period.size() != 7 || !absl::ParseCivilTime(period, &month)) {
    return absl::InvalidArgumentError(
        absl::StrCat("period: \"", period, "\" is not a month YYYY-MM"));
  }
  return month;
}

std::string FormatInvestigationPeriod(absl::CivilMonth period) {
  return absl::StrFormat("%04d-%02d", period.year(), period.month());
}

absl::Time InvestigationPeriodCloseTime(absl::CivilMonth period) {
  const absl::CivilSecond close(period.year(), period.month(), kInvestigationCloseDayOfMonth);
  return absl::FromCivil(close, ChinaStandardTime());
}

bool IsInvestigationSummarised(const Investigation& investigation, absl::Time now) {
  auto period = ParseInvestigationPeriod(investigation.period());
  YIDI_CHECK(period.ok(), "a stored investigation always carries the period it was given");
  return now >= InvestigationPeriodCloseTime(*period);
}

absl::CivilDay InvestigationAnswerDueDay(absl::CivilMonth period) {
  const absl::CivilMonth next = period + 1;
  return absl::CivilDay(next.year(), next.month(), kInvestigationCloseDayOfMonth - 1);
}

InvestigationScope InvestigationScopeOf(absl::string_view insured_region,
                                        absl::string_view treatment_region) {
  return ProvinceCodeOf(insured_region) == ProvinceCodeOf(treatment_region)
             ? yidi::v1::INVESTIGATION_SCOPE_INTRA_PROVINCE
             : yidi::v1::INVESTIGATION_SCOPE_CROSS_PROVINCE;
}

int64_t InvestigationThresholdFen(const yidi::v1::CollaborationPolicy& policy,
                                  InvestigationScope scope) {
  if (scope == yidi::v1::INVESTIGATION_SCOPE_INTRA_PROVINCE) {
    return policy.has_intra_province_threshold_fen() ? policy.intra_province_threshold_fen()
                                                     : kInvestigationThresholdDefaultFen;
  }
  return policy.has_cross_province_threshold_fen() ? policy.cross_province_threshold_fen()
                                                   : kInvestigationThresholdDefaultFen;
}

absl::Status ValidateInvestigationId(absl::string_view field, absl::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  if (id.size() > static_cast<size_t>(kInvestigationIdLengthMax)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": longer than ", kInvestigationIdLengthMax, " characters"));
  }
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": only letters, digits and '-' are allowed"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateInvestigationSubject(const yidi::v1::InvestigationSubject& subject) {
  RETURN_IF_ERROR(ValidateInvestigationId("subject.settlement_id", subject.settlement_id()));
  if (subject.id_number().empty()) {
    return absl::InvalidArgumentError("subject.id_number: required (身份证号码)");
  }
  if (absl::Status valid = ValidateIdNumber(subject.id_number()); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("subject.id_number: ", valid.message()));
  }
  RETURN_IF_ERROR(CheckText("subject.name", subject.name(), true));
  if (subject.sex() != yidi::v1::SEX_MALE && subject.sex() != yidi::v1::SEX_FEMALE) {
    return absl::InvalidArgumentError("subject.sex: required (性别), MALE or FEMALE");
  }
  RETURN_IF_ERROR(CheckText("subject.institution_name", subject.institution_name(), true));
  RETURN_IF_ERROR(CheckText("subject.admission_number", subject.admission_number(), true));
  RETURN_IF_ERROR(CheckText("subject.invoice_number", subject.invoice_number(), true));
  if (subject.admission_date().empty()) {
    return absl::InvalidArgumentError("subject.admission_date: required (入院日期)");
  }
  auto admission = ParseDate(subject.admission_date());
  if (!admission.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("subject.admission_date: ", admission.status().message()));
  }
  if (subject.discharge_date().empty()) {
    return absl::InvalidArgumentError("subject.discharge_date: required (出院日期)");
  }
  auto discharge = ParseDate(subject.discharge_date());
  if (!discharge.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("subject.discharge_date: ", discharge.status().message()));
  }
  if (*discharge < *admission) {
    return absl::InvalidArgumentError("subject.discharge_date: before the admission date");
  }
  if (subject.total_fen() <= 0) {
    return absl::InvalidArgumentError("subject.total_fen: required (费用总额), above zero");
  }
  return absl::OkStatus();
}

absl::Status ValidateOpenInvestigation(const yidi::v1::OpenInvestigationRequest& request,
                                       const yidi::v1::CollaborationPolicy& policy) {
  RETURN_IF_ERROR(ValidateInvestigationId("investigation_id", request.investigation_id()));
  if (!IsRegionCode(request.insured_region())) {
    return absl::InvalidArgumentError("insured_region: a six-digit region code is required");
  }
  if (!IsRegionCode(request.treatment_region())) {
    return absl::InvalidArgumentError("treatment_region: a six-digit region code is required");
  }
  if (request.insured_region() == request.treatment_region()) {
    return absl::InvalidArgumentError(
        "treatment_region: equals insured_region; a fee investigation concerns a stay in "
        "another region");
  }
  if (!request.has_subject()) {
    return absl::InvalidArgumentError("subject: required (000_… 第54条 fields)");
  }
  RETURN_IF_ERROR(ValidateInvestigationSubject(request.subject()));
  RETURN_IF_ERROR(CheckText("concern", request.concern(), false));
  const InvestigationScope scope =
      InvestigationScopeOf(request.insured_region(), request.treatment_region());
  const int64_t threshold = InvestigationThresholdFen(policy, scope);
  if (request.subject().total_fen() < threshold) {
    return absl::InvalidArgumentError(absl::StrCat(
        "subject.total_fen: ", FormatYuan(request.subject().total_fen()), " 元 is below the ",
        FormatYuan(threshold), " 元 threshold of a ",
        scope == yidi::v1::INVESTIGATION_SCOPE_INTRA_PROVINCE ? "intra-province"
                                                              : "cross-province",
        " fee investigation"));
  }
  return absl::OkStatus();
}

absl::Status ValidateInvestigationAnswer(const yidi::v1::AnswerInvestigationRequest& request) {
  RETURN_IF_ERROR(ValidateInvestigationId("investigation_id", request.investigation_id()));
  switch (request.finding()) {
    case yidi::v1::INVESTIGATION_FINDING_VERIFIED_CORRECT:
      break;
    case yidi::v1::INVESTIGATION_FINDING_VERIFIED_INCORRECT:
      if (request.finding_reason().empty()) {
        return absl::InvalidArgumentError(
            "finding_reason: required for VERIFIED_INCORRECT (核查有误 needs its reason)");
      }
      break;
    default:
      return absl::InvalidArgumentError(
          "finding: VERIFIED_CORRECT (核查无误) or VERIFIED_INCORRECT (核查有误) is required");
  }
  return CheckText("finding_reason", request.finding_reason(), false);
}

absl::Status ValidateInvestigationConfirmation(
    const yidi::v1::ConfirmInvestigationRequest& request) {
  RETURN_IF_ERROR(ValidateInvestigationId("investigation_id", request.investigation_id()));
  if (request.dispute() && request.dispute_reason().empty()) {
    return absl::InvalidArgumentError("dispute_reason: required when disputing");
  }
  return CheckText("dispute_reason", request.dispute_reason(), false);
}

Investigation NewInvestigation(const yidi::v1::OpenInvestigationRequest& request,
                               absl::Time now) {
  Investigation investigation;
  investigation.set_investigation_id(request.investigation_id());
  investigation.set_insured_region(request.insured_region());
  investigation.set_treatment_region(request.treatment_region());
  investigation.set_scope(InvestigationScopeOf(request.insured_region(),
                                               request.treatment_region()));
  *investigation.mutable_subject() = request.subject();
  investigation.set_concern(request.concern());
  investigation.set_state(yidi::v1::INVESTIGATION_STATE_OPEN);
  investigation.set_opened_at(FormatCstTimestamp(now));
  investigation.set_period(InvestigationPeriodOf(now));
  auto period = ParseInvestigationPeriod(investigation.period());
  YIDI_CHECK(period.ok(), "InvestigationPeriodOf formats a valid period");
  investigation.set_answer_due_date(FormatDate(InvestigationAnswerDueDay(*period)));
  return investigation;
}

yidi::v1::InvestigationStatistics ComputeInvestigationStatistics(
    absl::string_view period, const std::vector<Investigation>& investigations,
    absl::CivilDay today) {
  yidi::v1::InvestigationStatistics statistics;
  statistics.set_period(std::string(period));
  for (const Investigation& investigation : investigations) {
    if (investigation.period() != period) continue;
    if (investigation.state() == yidi::v1::INVESTIGATION_STATE_WITHDRAWN) {
      statistics.set_withdrawn(statistics.withdrawn() + 1);
      continue;
    }
    statistics.set_requests(statistics.requests() + 1);
    auto due = ParseDate(investigation.answer_due_date());
    YIDI_CHECK(due.ok(), "a stored investigation always carries its answer due date");
    switch (investigation.state()) {
      case yidi::v1::INVESTIGATION_STATE_OPEN:
        if (today > *due) {
          statistics.set_unanswered_overdue(statistics.unanswered_overdue() + 1);
        } else {
          statistics.set_unanswered_pending(statistics.unanswered_pending() + 1);
        }
        continue;
      case yidi::v1::INVESTIGATION_STATE_CONFIRMED:
        statistics.set_confirmed(statistics.confirmed() + 1);
        break;
      case yidi::v1::INVESTIGATION_STATE_DISPUTED:
        statistics.set_disputed(statistics.disputed() + 1);
        break;
      case yidi::v1::INVESTIGATION_STATE_ANSWERED: {
        auto confirmation_due = ParseDate(investigation.confirmation_due_date());
        if (confirmation_due.ok() && today > *confirmation_due) {
          statistics.set_confirmation_overdue(statistics.confirmation_overdue() + 1);
        }
        break;
      }
      default:
        YIDI_CHECK(false, "every stored investigation has a known state");
    }
    // Answered (ANSWERED, CONFIRMED or DISPUTED).
    if (investigation.answered_late()) {
      statistics.set_answered_late(statistics.answered_late() + 1);
    } else {
      statistics.set_answered_on_time(statistics.answered_on_time() + 1);
    }
  }
  YIDI_CHECK(statistics.requests() ==
                 statistics.answered_on_time() + statistics.answered_late() +
                     statistics.unanswered_overdue() + statistics.unanswered_pending(),
             "every request is answered (on time or late) or unanswered (overdue or pending)");
  if (statistics.requests() > 0) {
    statistics.set_completion_rate_bp(static_cast<int32_t>(
        MulDivRoundHalfUp(statistics.answered_on_time(), 10000, statistics.requests())));
  }
  return statistics;
}

}  // namespace yidi
