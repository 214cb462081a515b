#include "common/monitoring.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using ::testing::HasSubstr;

MonitoringCase Case(const char* region, int year, int month, yidi::v1::ReportCareKind kind,
                    int64_t total_fen, int64_t fund_fen) {
  return MonitoringCase{region, absl::CivilMonth(year, month), kind, total_fen, fund_fen};
}

constexpr auto kIn = yidi::v1::REPORT_CARE_KIND_INPATIENT;
constexpr auto kOut = yidi::v1::REPORT_CARE_KIND_OUTPATIENT;

TEST(MonitoringTest, AverageChangeAndRatioRoundHalfUp) {
  const std::vector<MonitoringCase> cases = {
      Case("500000", 2026, 11, kIn, 100000, 70000),
      Case("500000", 2026, 11, kIn, 200001, 150000),
      Case("500000", 2026, 10, kIn, 120000, 90000),
      Case("500000", 2025, 11, kIn, 100000, 80000),
      Case("500000", 2026, 11, kOut, 5000, 2500),
      Case("360100", 2026, 11, kOut, 3000, 0),
  };
  const auto rows = ComputeMonitoringRows(cases, absl::CivilMonth(2026, 11), "");
  ASSERT_EQ(rows.size(), 3u);
  // Sorted by region, then care kind.
  EXPECT_EQ(rows[0].region_code(), "360100");
  EXPECT_EQ(rows[0].reimbursement_ratio_bp(), 0);
  const auto& in = rows[1];
  EXPECT_EQ(in.region_code(), "500000");
  EXPECT_EQ(in.care_kind(), kIn);
  EXPECT_EQ(in.cases(), 2);
  EXPECT_EQ(in.total_fen(), 300001);
  EXPECT_EQ(in.fund_fen(), 220000);
  EXPECT_EQ(in.average_cost_fen(), 150001);         // 150000.5 rounds up
  EXPECT_TRUE(in.has_month_change());
  EXPECT_EQ(in.month_change_bp(), 2500);            // (150001 − 120000) ÷ 120000 = 25.0008%
  EXPECT_TRUE(in.has_year_change());
  EXPECT_EQ(in.year_change_bp(), 5000);             // against 100000: 50.001%
  EXPECT_EQ(in.reimbursement_ratio_bp(), 7333);     // 220000 ÷ 300001 = 73.3331%
  const auto& out = rows[2];
  EXPECT_EQ(out.care_kind(), kOut);
  EXPECT_FALSE(out.has_month_change());
  EXPECT_FALSE(out.has_year_change());
  EXPECT_EQ(out.reimbursement_ratio_bp(), 5000);

  const auto only = ComputeMonitoringRows(cases, absl::CivilMonth(2026, 11), "360100");
  ASSERT_EQ(only.size(), 1u);
  EXPECT_TRUE(ComputeMonitoringRows(cases, absl::CivilMonth(2026, 9), "").empty());
}

TEST(MonitoringTest, FallingCostsGiveNegativeChange) {
  const std::vector<MonitoringCase> cases = {
      Case("210100", 2026, 11, kIn, 90000, 60000),
      Case("210100", 2026, 10, kIn, 100000, 60000),
  };
  const auto rows = ComputeMonitoringRows(cases, absl::CivilMonth(2026, 11), "");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].month_change_bp(), -1000);
  EXPECT_THAT(MonitoringCsv(rows), HasSubstr("210100,2026-11,inpatient,1,900.00,600.00,900.00,"
                                             "-10.00,,66.67\n"));
}

TEST(MonitoringTest, CsvAndHtml) {
  const auto rows = ComputeMonitoringRows({Case("500000", 2026, 11, kIn, 300001, 220000)},
                                          absl::CivilMonth(2026, 11), "");
  const std::string csv = MonitoringCsv(rows);
  EXPECT_THAT(csv, HasSubstr("region_code,month,care_kind,cases,total_yuan"));
  EXPECT_THAT(csv, HasSubstr("500000,2026-11,inpatient,1,3000.01,2200.00,3000.01,,,73.33\n"));
  const std::string html = MonitoringHtml(rows, "report <2026-11>");
  EXPECT_THAT(html, HasSubstr("<title>report &lt;2026-11&gt;</title>"));
  EXPECT_THAT(html, HasSubstr("@page{size:A4 landscape"));
  EXPECT_THAT(html, HasSubstr("3000.01"));
  EXPECT_THAT(html, HasSubstr("73.33%"));
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

TEST(MonitoringTest, CareKindFollowsMedicalType) {
  EXPECT_EQ(ReportCareKindOf(yidi::v1::MEDICAL_TYPE_EMERGENCY_INPATIENT), kIn);
  EXPECT_EQ(ReportCareKindOf(yidi::v1::MEDICAL_TYPE_INPATIENT), kIn);
  EXPECT_EQ(ReportCareKindOf(yidi::v1::MEDICAL_TYPE_CHRONIC_OUTPATIENT), kOut);
  EXPECT_EQ(ReportCareKindOf(yidi::v1::MEDICAL_TYPE_PHARMACY), kOut);
  EXPECT_FALSE(ParseReportMonth("2026-13").ok());
}

}  // namespace
}  // namespace yidi
