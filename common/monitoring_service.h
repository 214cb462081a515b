// MonitoringService (api/yidi/v1/monitoring.proto) on every node kind: the monitoring report of
// this node's settlement records (common/monitoring.h). Read only.
#ifndef YIDI_COMMON_MONITORING_SERVICE_H_
#define YIDI_COMMON_MONITORING_SERVICE_H_

#include "absl/status/statusor.h"
#include "common/node.h"
#include "yidi/v1/monitoring.grpc.pb.h"

namespace yidi {

// The report for `request` from this node's records. INVALID_ARGUMENT naming the field.
absl::StatusOr<yidi::v1::MonitoringReport> BuildMonitoringReport(
    NodeContext& context, const yidi::v1::GetMonitoringReportRequest& request);

class NodeMonitoringService final : public yidi::v1::MonitoringService::CallbackService {
 public:
  explicit NodeMonitoringService(NodeContext* context) : context_(context) {}
  grpc::ServerUnaryReactor* GetMonitoringReport(
      grpc::CallbackServerContext* ctx, const yidi::v1::GetMonitoringReportRequest* request,
      yidi::v1::MonitoringReport* response) override;

 private:
  NodeContext* const context_;
};

}  // namespace yidi

#endif  // YIDI_COMMON_MONITORING_SERVICE_H_
