#include "common/monitoring_service.h"

#include "absl/strings/str_cat.h"
#include "common/directory.h"
#include "common/grpc_status.h"
#include "common/monitoring.h"
#include "common/status_macros.h"

namespace yidi {

absl::StatusOr<yidi::v1::MonitoringReport> BuildMonitoringReport(
    NodeContext& context, const yidi::v1::GetMonitoringReportRequest& request) {
  ASSIGN_OR_RETURN(absl::CivilMonth month, ParseReportMonth(request.month()));
  if (!request.region_code().empty() && !IsRegionCode(request.region_code())) {
    return absl::InvalidArgumentError("region_code: a six-digit region code or empty");
  }
  auto perspective = request.perspective();
  if (perspective == yidi::v1::MONITORING_PERSPECTIVE_UNSPECIFIED) {
    perspective = yidi::v1::MONITORING_PERSPECTIVE_TREATMENT_REGION;
  }
  ASSIGN_OR_RETURN(auto tx, context.store->Begin(TransactionMode::kRead));
  ASSIGN_OR_RETURN(auto cases,
                   LoadMonitoringCases(*tx, perspective, {month, month - 1, month - 12},
                                       [&context](const std::string& code) {
                                         auto pool = context.directory.PoolingRegionFor(code);
                                         return pool.ok() ? *pool : code;
                                       }));
  yidi::v1::MonitoringReport report;
  const auto rows = ComputeMonitoringRows(cases, month, request.region_code());
  for (const auto& row : rows) *report.add_rows() = row;
  report.set_csv(MonitoringCsv(rows));
  report.set_html(MonitoringHtml(
      rows, absl::StrCat("异地就医监测报告 monitoring report ", request.month(), " — ",
                         context.name,
                         perspective == yidi::v1::MONITORING_PERSPECTIVE_INSURED_REGION
                             ? " (by insured region 参保地)"
                             : " (by treatment region 就医地)")));
  return report;
}

grpc::ServerUnaryReactor* NodeMonitoringService::GetMonitoringReport(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetMonitoringReportRequest* request,
    yidi::v1::MonitoringReport* response) {
  auto report = BuildMonitoringReport(*context_, *request);
  if (report.ok()) *response = std::move(*report);
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(report.status()));
  return reactor;
}

}  // namespace yidi
