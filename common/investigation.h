// Fee investigation rules (费用协查, RULES.md section 8; 000_65644e9492a1c962.txt 第54条): which
// stays may be investigated, the monthly period a request belongs to, when the period closes,
// when an answer is due and late, when a confirmation is due, and the completion statistics of
// a period. Pure functions of their arguments (the clock and the calendar are passed in).
//
// Periods. A request opened at instant t (China Standard Time) belongs to period "YYYY-MM" of the
// month whose 26th, 00:00 CST, is the first such instant after t: requests from 2026-10-26 00:00
// to 2026-11-25 23:59:59 form period "2026-11", closed at 2026-11-26 00:00. From that instant the
// request is summarised and can be neither amended nor withdrawn ("原则上不予修改或删除").
//
// Answers. "次月26日前": an answer is on time through the 25th of the month after the period
// (period "2026-11" → 2026-12-25); later answers are accepted but counted late, and an
// unanswered request is carried into the next summary.
#ifndef YIDI_COMMON_INVESTIGATION_H_
#define YIDI_COMMON_INVESTIGATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/calendar.h"
#include "yidi/v1/common.pb.h"
#include "yidi/v1/investigation.pb.h"

namespace yidi {

// 3万元 in fen: "超过3万元(含3万元)" (000_… 第54条), the default of both scopes.
inline constexpr int64_t kInvestigationThresholdDefaultFen = 3'000'000;
// "参保地…5个工作日内确认" (000_… 第54条).
inline constexpr int kInvestigationConfirmationWorkingDaysDefault = 5;
// The day of the month at whose 00:00 the period closes ("每月26日零时").
inline constexpr int kInvestigationCloseDayOfMonth = 26;
// Identifiers are keys in every hop's table (VARCHAR(64)).
inline constexpr int kInvestigationIdLengthMax = 64;
// Free text (concern, reasons, names): enough for a sentence of explanation, bounded.
inline constexpr int kInvestigationTextLengthMax = 500;
// One listing answer: a month of one region's requests is far below it.
inline constexpr int kInvestigationPageMax = 1000;
// One summary delivery: every request of one treatment region in one period.
inline constexpr int kInvestigationSummaryIdsMax = 10000;

// The period ("YYYY-MM") of a request opened at `opened_at`.
std::string InvestigationPeriodOf(absl::Time opened_at);

// Parses "YYYY-MM". INVALID_ARGUMENT "period: …" otherwise.
absl::StatusOr<absl::CivilMonth> ParseInvestigationPeriod(absl::string_view period);
std::string FormatInvestigationPeriod(absl::CivilMonth period);

// 00:00 CST on the 26th of the period's month: the period closes (is summarised) then.
absl::Time InvestigationPeriodCloseTime(absl::CivilMonth period);

// True when the request's period has closed at `now`: it can no longer be amended or withdrawn.
bool IsInvestigationSummarised(const yidi::v1::Investigation& investigation, absl::Time now);

// The last day an answer is on time: the 25th of the month after the period.
absl::CivilDay InvestigationAnswerDueDay(absl::CivilMonth period);

// Cross-province when the two regions lie in different provinces.
yidi::v1::InvestigationScope InvestigationScopeOf(absl::string_view insured_region,
                                                  absl::string_view treatment_region);

// The threshold of a scope under `policy` (defaults: kInvestigationThresholdDefaultFen).
int64_t InvestigationThresholdFen(const yidi::v1::CollaborationPolicy& policy,
                                  yidi::v1::InvestigationScope scope);

// Checks the identifier: non-empty, at most 64 characters of [A-Za-z0-9-].
absl::Status ValidateInvestigationId(absl::string_view field, absl::string_view id);

// Every field of 000_… 第54条 present and well-formed (ID number check digit, dates, discharge
// not before admission, total > 0), texts bounded. INVALID_ARGUMENT naming the first bad field.
absl::Status ValidateInvestigationSubject(const yidi::v1::InvestigationSubject& subject);

// The whole request: id, regions (different pooling regions), subject, and the threshold of
// its scope: "subject.total_fen: 2500000 fen is below the 3000000 fen threshold of a
// cross-province investigation". INVALID_ARGUMENT naming the field.
absl::Status ValidateOpenInvestigation(const yidi::v1::OpenInvestigationRequest& request,
                                       const yidi::v1::CollaborationPolicy& policy);

// The answer: a finding, and a reason when it is VERIFIED_INCORRECT.
absl::Status ValidateInvestigationAnswer(const yidi::v1::AnswerInvestigationRequest& request);

// A dispute needs its reason.
absl::Status ValidateInvestigationConfirmation(
    const yidi::v1::ConfirmInvestigationRequest& request);

// A new investigation as the first node stores it: OPEN, period and due date from `now`.
yidi::v1::Investigation NewInvestigation(const yidi::v1::OpenInvestigationRequest& request,
                                         absl::Time now);

// The completion statistics of `period` over the requests given (those of other periods are
// ignored), as of the CST day `today`. The confirmation due dates are already on the requests.
yidi::v1::InvestigationStatistics ComputeInvestigationStatistics(
    absl::string_view period, const std::vector<yidi::v1::Investigation>& investigations,
    absl::CivilDay today);

}  // namespace yidi

#endif  // YIDI_COMMON_INVESTIGATION_H_
