#include "common/monitoring.h"

#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "common/money.h"
#include "common/proto_column.h"
#include "common/status_macros.h"
#include "yidi/v1/common.pb.h"

namespace yidi {
namespace {

using yidi::v1::MonitoringRow;

constexpr int64_t kBasisPoints = 10000;

struct Totals {
  int64_t cases = 0;
  int64_t total_fen = 0;
  int64_t fund_fen = 0;
};

std::string MonthText(absl::CivilMonth month) {
  return absl::StrFormat("%04d-%02d", month.year(), month.month());
}

// "12.34" for 1234 bp; "-5.00" for -500.
std::string Percent(int64_t bp) {
  const char* sign = bp < 0 ? "-" : "";
  const int64_t magnitude = bp < 0 ? -bp : bp;
  return absl::StrFormat("%s%d.%02d", sign, magnitude / 100, magnitude % 100);
}

std::string CareName(yidi::v1::ReportCareKind kind) {
  return kind == yidi::v1::REPORT_CARE_KIND_INPATIENT ? "inpatient" : "outpatient";
}

std::string HtmlEscape(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}});
}

}  // namespace

yidi::v1::ReportCareKind ReportCareKindOf(yidi::v1::MedicalType type) {
  switch (type) {
    case yidi::v1::MEDICAL_TYPE_INPATIENT:
    case yidi::v1::MEDICAL_TYPE_TRAUMA_INPATIENT:
    case yidi::v1::MEDICAL_TYPE_REFERRED_OUT_INPATIENT:
    case yidi::v1::MEDICAL_TYPE_EMERGENCY_INPATIENT:
      return yidi::v1::REPORT_CARE_KIND_INPATIENT;
    default:
      return yidi::v1::REPORT_CARE_KIND_OUTPATIENT;
  }
}

absl::StatusOr<absl::CivilMonth> ParseReportMonth(absl::string_view month) {
  absl::CivilMonth parsed;
  if (month.size() != 7 || !absl::ParseCivilTime(month, &parsed)) {
    return absl::InvalidArgumentError(absl::StrCat("month: \"", month, "\" is not YYYY-MM"));
  }
  return parsed;
}

absl::StatusOr<std::vector<MonitoringCase>> LoadMonitoringCases(
    Transaction& tx, yidi::v1::MonitoringPerspective perspective,
    const std::vector<absl::CivilMonth>& months,
    const std::function<std::string(const std::string&)>& pooling_region_of) {
  std::vector<MonitoringCase> cases;
  for (const absl::CivilMonth month : months) {
    const std::string from = absl::StrCat(MonthText(month), "-01");
    const std::string to = absl::StrCat(MonthText(month + 1), "-01");
    ASSIGN_OR_RETURN(
        auto rows,
        tx.Query("SELECT settlement_id, insured_region, treatment_region, total_fen, "
                 "fund_total_fen, result FROM settlement_record WHERE settlement_date >= ? AND "
                 "settlement_date < ? AND state = ? AND kind = ?",
                 {from, to, static_cast<int64_t>(yidi::v1::SETTLEMENT_STATE_SETTLED),
                  static_cast<int64_t>(yidi::v1::SETTLEMENT_KIND_NORMAL)}));
    for (const Row& row : rows) {
      yidi::v1::SettlementResult result;
      RETURN_IF_ERROR(
          DecodeProtoColumn(row.Text(5), absl::StrCat("settlement ", row.Text(0)), &result));
      YIDI_CHECK(result.total_fen() == row.Int(3) && result.fund_total_fen() == row.Int(4),
                 "a settlement record's columns repeat its slip's amounts");
      MonitoringCase c;
      c.region_code = pooling_region_of(
          perspective == yidi::v1::MONITORING_PERSPECTIVE_INSURED_REGION ? row.Text(1)
                                                                         : row.Text(2));
      c.month = month;
      c.care_kind = ReportCareKindOf(result.medical_type());
      c.total_fen = row.Int(3);
      c.fund_fen = row.Int(4);
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

std::vector<MonitoringRow> ComputeMonitoringRows(const std::vector<MonitoringCase>& cases,
                                                 absl::CivilMonth month,
                                                 absl::string_view region_code) {
  // (region, care kind, month) → totals.
  std::map<std::tuple<std::string, int, absl::CivilMonth>, Totals> totals;
  for (const MonitoringCase& c : cases) {
    if (!region_code.empty() && c.region_code != region_code) continue;
    Totals& t = totals[{c.region_code, static_cast<int>(c.care_kind), c.month}];
    t.cases += 1;
    t.total_fen += c.total_fen;
    t.fund_fen += c.fund_fen;
  }
  auto average = [](const Totals& t) { return MulDivRoundHalfUp(t.total_fen, 1, t.cases); };
  std::vector<MonitoringRow> rows;
  for (const auto& [key, t] : totals) {
    const auto& [region, care, at] = key;
    if (at != month) continue;
    YIDI_CHECK(t.cases > 0, "a month appears only with cases");
    MonitoringRow row;
    row.set_region_code(region);
    row.set_month(MonthText(month));
    row.set_care_kind(static_cast<yidi::v1::ReportCareKind>(care));
    row.set_cases(t.cases);
    row.set_total_fen(t.total_fen);
    row.set_fund_fen(t.fund_fen);
    row.set_average_cost_fen(average(t));
    if (t.total_fen > 0) {
      row.set_reimbursement_ratio_bp(
          static_cast<int32_t>(MulDivRoundHalfUp(t.fund_fen, kBasisPoints, t.total_fen)));
    }
    auto change_against = [&](absl::CivilMonth other, bool* has, int32_t* bp) {
      auto it = totals.find({region, care, other});
      if (it == totals.end()) return;
      const int64_t before = average(it->second);
      if (before <= 0) return;
      *has = true;
      *bp = static_cast<int32_t>(MulDivRoundHalfUp(row.average_cost_fen() - before,
                                                   kBasisPoints, before));
    };
    bool has = false;
    int32_t bp = 0;
    change_against(month - 1, &has, &bp);
    row.set_has_month_change(has);
    row.set_month_change_bp(bp);
    has = false;
    bp = 0;
    change_against(month - 12, &has, &bp);
    row.set_has_year_change(has);
    row.set_year_change_bp(bp);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string MonitoringCsv(const std::vector<MonitoringRow>& rows) {
  std::string csv =
      "region_code,month,care_kind,cases,total_yuan,fund_yuan,average_cost_yuan,"
      "month_change_percent,year_change_percent,reimbursement_ratio_percent\n";
  for (const MonitoringRow& r : rows) {
    absl::StrAppend(&csv, r.region_code(), ",", r.month(), ",", CareName(r.care_kind()), ",",
                    r.cases(), ",", FormatYuan(r.total_fen()), ",", FormatYuan(r.fund_fen()), ",",
                    FormatYuan(r.average_cost_fen()), ",",
                    r.has_month_change() ? Percent(r.month_change_bp()) : "", ",",
                    r.has_year_change() ? Percent(r.year_change_bp()) : "", ",",
                    Percent(r.reimbursement_ratio_bp()), "\n");
  }
  return csv;
}

std::string MonitoringHtml(const std::vector<MonitoringRow>& rows, absl::string_view title) {
  std::string html = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>",
      HtmlEscape(title),
      "</title>\n<style>@page{size:A4 landscape;margin:15mm}body{font-family:sans-serif;"
      "font-size:10pt}table{border-collapse:collapse;width:100%}th,td{border:1px solid #444;"
      "padding:3px 6px}td.n{text-align:right}</style></head><body>\n<h1>",
      HtmlEscape(title),
      "</h1>\n<table><thead><tr><th>地区 region</th><th>月份 month</th><th>类别 care</th>"
      "<th>人次 cases</th><th>总费用 total (元)</th><th>基金支付 fund (元)</th>"
      "<th>次均费用 average (元)</th><th>环比涨幅 vs previous month</th>"
      "<th>同比涨幅 vs a year before</th><th>报销比例 reimbursement ratio</th></tr></thead>"
      "<tbody>\n");
  for (const MonitoringRow& r : rows) {
    absl::StrAppend(
        &html, "<tr><td>", HtmlEscape(r.region_code()), "</td><td>", r.month(), "</td><td>",
        r.care_kind() == yidi::v1::REPORT_CARE_KIND_INPATIENT ? "住院 inpatient" : "门诊 outpatient",
        "</td><td class=\"n\">", r.cases(), "</td><td class=\"n\">", FormatYuan(r.total_fen()),
        "</td><td class=\"n\">", FormatYuan(r.fund_fen()), "</td><td class=\"n\">",
        FormatYuan(r.average_cost_fen()), "</td><td class=\"n\">",
        r.has_month_change() ? absl::StrCat(Percent(r.month_change_bp()), "%") : "—",
        "</td><td class=\"n\">",
        r.has_year_change() ? absl::StrCat(Percent(r.year_change_bp()), "%") : "—",
        "</td><td class=\"n\">", Percent(r.reimbursement_ratio_bp()), "%</td></tr>\n");
  }
  absl::StrAppend(&html, "</tbody></table>\n</body></html>\n");
  return html;
}

}  // namespace yidi
