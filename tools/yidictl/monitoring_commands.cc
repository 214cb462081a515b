// yidictl command of the monitoring report (MonitoringService, docs/COLLABORATION.md):
//   monitoring report MONTH [csv|html|rows] [REGION|-] [insured]
// CSV by default; html gives a printable page; REGION "-" = every region; "insured" groups by
// insured region instead of treatment region.
#include <iostream>
#include <string>
#include <vector>

#include "tools/yidictl/command.h"
#include "yidi/v1/monitoring.grpc.pb.h"

namespace {

using Args = std::vector<std::string>;
using Channel = std::shared_ptr<grpc::Channel>;

YIDICTL_COMMAND("monitoring report",
                "monitoring report MONTH [csv|html|rows] [REGION] [insured]  (次均费用, 涨幅, "
                "报销比例)",
                [](const Channel& channel, const Args& args) {
                  if (args.empty() || args.size() > 4) {
                    std::cerr << "usage: yidictl monitoring report MONTH [csv|html|rows] [REGION] "
                                 "[insured]\n";
                    return yidictl::kExitUsage;
                  }
                  yidi::v1::GetMonitoringReportRequest request;
                  request.set_month(args[0]);
                  const std::string format = args.size() > 1 ? args[1] : "csv";
                  if (args.size() > 2) request.set_region_code(args[2] == "-" ? "" : args[2]);
                  if (args.size() > 3 && args[3] == "insured") {
                    request.set_perspective(yidi::v1::MONITORING_PERSPECTIVE_INSURED_REGION);
                  }
                  yidi::v1::MonitoringReport report;
                  auto context = yidictl::MakeContext();
                  grpc::Status status = yidi::v1::MonitoringService::NewStub(channel)
                                            ->GetMonitoringReport(context.get(), request, &report);
                  if (!status.ok()) return yidictl::Fail(status);
                  if (format == "html") {
                    std::cout << report.html();
                  } else if (format == "rows") {
                    for (const auto& row : report.rows()) std::cout << row.DebugString() << "\n";
                  } else {
                    std::cout << report.csv();
                  }
                  return yidictl::kExitOk;
                });

}  // namespace
