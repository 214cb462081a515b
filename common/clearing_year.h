// The year close of the clearing (000_65644e9492a1c962.txt 第47条: "当年跨省异地就医直接结算费用，
// 最晚应于次年第一季度清算完毕"; RULES.md 5.2).
//
// A clearing node (national, or a province for its own cities) closes year Y once every
// clearing that may cover Y's costs is done: each month of Y this node clears (from January,
// or from its first clearing when it started later in the year) through December, plus
// January and February of Y+1, which may still carry Y's late declarations (≤ 2 months late,
// 第47条), all in NOTICES_ISSUED. The close stores a year statement: per pair (insured ×
// treatment pooling region) the totals of the clearings of Y's months, equal to the sum of
// those monthly clearings (asserted, YIDI_CHECK). The close is due by the last working day of
// March of Y+1 (close_by); a year still open after it is reported overdue.
//
// After the close, no clearing can cover a settlement dated in Y (the late window of March of
// Y+1 starts in January of Y+1), so settlements of Y recorded later are too late: counted by
// GetYearStatus (too_late_count / too_late_fen) for manual handling, never cleared.
//
// Dates come from the WorkingDayCalendar: closing 2026 needs the 2027 calendar (OUT_OF_RANGE
// with the shipped 2025–2026 files). Each function runs inside the caller's Transaction.
#ifndef YIDI_COMMON_CLEARING_YEAR_H_
#define YIDI_COMMON_CLEARING_YEAR_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "common/calendar.h"
#include "common/clearing.h"
#include "common/store/store.h"
#include "yidi/v1/clearing_cycle.pb.h"

namespace yidi {

// The years a close may name: settlement data starts well after 2000.
inline constexpr int kClearingYearMin = 2000;
inline constexpr int kClearingYearMax = 2100;

// Schema (version 331).
std::vector<Migration> ClearingYearMigrations();

// The last working day of March of year + 1. OUT_OF_RANGE when the calendar lacks that year.
absl::StatusOr<absl::CivilDay> YearCloseBy(const WorkingDayCalendar& calendar, int year);

// Closes `year` (see the file comment). The same year again returns the stored statement
// (replayed). INVALID_ARGUMENT naming `year`; FAILED_PRECONDITION naming every clearing that
// is missing or not yet issued.
absl::StatusOr<yidi::v1::CloseYearResponse> CloseYear(Transaction& tx, const ClearingNode& node,
                                                      int year);

// Closed or not, overdue or not (as of node.now), what blocks the close, and the settlements of
// the year recorded after the close (too late).
absl::StatusOr<yidi::v1::GetYearStatusResponse> GetYearStatus(Transaction& tx,
                                                              const ClearingNode& node, int year);

}  // namespace yidi

#endif  // YIDI_COMMON_CLEARING_YEAR_H_
