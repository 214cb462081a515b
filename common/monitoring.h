// The monitoring report (RULES.md section 7; 000_65644e9492a1c962.txt 第52条): per region, month
// and care kind (inpatient / outpatient): cases, average cost per case (次均费用水平), its change
// against the previous month and the same month a year before (医疗费用涨幅), and the
// reimbursement ratio (报销比例 = fund payments ÷ total). Computed from settlement_record, read
// only. A case is a normal settlement in state SETTLED whose settlement_date falls in the month;
// a reversed settlement and its reversal are both left out (the stay was undone). "Fund
// payments" are fund_total_fen: every fund, without the personal account (the person's own
// money). Rounding through common/money.h (half up).
// Thread safety: pure functions, plus one read inside the caller's transaction.
#ifndef YIDI_COMMON_MONITORING_H_
#define YIDI_COMMON_MONITORING_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/store/store.h"
#include "yidi/v1/common.pb.h"
#include "yidi/v1/monitoring.pb.h"

namespace yidi {

// One settled stay or visit as the report counts it.
struct MonitoringCase {
  std::string region_code;  // of the perspective (treatment or insured pooling region)
  absl::CivilMonth month;
  yidi::v1::ReportCareKind care_kind = yidi::v1::REPORT_CARE_KIND_UNSPECIFIED;
  int64_t total_fen = 0;
  int64_t fund_fen = 0;
};

// The care kind of a medical type: 21–24 inpatient, everything else outpatient.
yidi::v1::ReportCareKind ReportCareKindOf(yidi::v1::MedicalType medical_type);

// Parses "YYYY-MM". INVALID_ARGUMENT "month: …".
absl::StatusOr<absl::CivilMonth> ParseReportMonth(absl::string_view month);

// Reads the cases of `months` from settlement_record. `pooling_region_of` maps a record's region
// code to its pooling region (a county code to its prefecture). INTERNAL when a stored result
// does not parse.
absl::StatusOr<std::vector<MonitoringCase>> LoadMonitoringCases(
    Transaction& tx, yidi::v1::MonitoringPerspective perspective,
    const std::vector<absl::CivilMonth>& months,
    const std::function<std::string(const std::string&)>& pooling_region_of);

// The rows of `month` (every region with cases in it, or only `region_code`), sorted by region
// then care kind; changes against month − 1 and month − 12 when those had cases.
std::vector<yidi::v1::MonitoringRow> ComputeMonitoringRows(
    const std::vector<MonitoringCase>& cases, absl::CivilMonth month,
    absl::string_view region_code);

// One header line, then one line per row; amounts in 元 with two decimals, ratios in percent
// with two decimals.
std::string MonitoringCsv(const std::vector<yidi::v1::MonitoringRow>& rows);

// A self-contained printable page (A4 landscape, no scripts, no external resources).
std::string MonitoringHtml(const std::vector<yidi::v1::MonitoringRow>& rows,
                           absl::string_view title);

}  // namespace yidi

#endif  // YIDI_COMMON_MONITORING_H_
