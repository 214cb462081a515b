#include "common/clearing_cycle_service.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/clearing.h"
#include "common/clearing_service.h"
#include "common/clearing_year.h"
#include "common/clock.h"
#include "common/directory.h"
#include "common/grpc_status.h"
#include "common/settlement_relay.h"
#include "common/status_macros.h"
#include "common/unary_handler.h"

namespace yidi {
namespace {

absl::Status CheckProvince(const NodeContext& context) {
  if (context.identity.kind != yidi::v1::NODE_KIND_PROVINCIAL) {
    return absl::FailedPreconditionError(
        "forwarding: only a provincial node forwards national's notices to its cities");
  }
  return absl::OkStatus();
}

}  // namespace

ForwardingNode ForwardingNodeOf(const NodeContext& context) {
  ForwardingNode node;
  node.province = context.identity.region_code;
  node.calendar = &context.calendar;
  node.policy = WithNationalForwardingDefaults(context.config.clearing_cycle().forwarding());
  node.now = context.clock->Now();
  return node;
}

grpc::ServerUnaryReactor* NodeClearingCycleService::ForwardClearing(
    grpc::CallbackServerContext* ctx, const yidi::v1::ForwardClearingRequest* request,
    yidi::v1::ForwardClearingResponse* response) {
  absl::Status valid = CheckProvince(*context_);
  if (valid.ok()) {
    valid = ParseClearingMonth(request->clearing_month(), "clearing_month").status();
  }
  if (valid.ok()) valid = ValidateForwardingPolicy(ForwardingNodeOf(*context_).policy);
  if (!valid.ok()) return FinishUnary(ctx, valid);
  const yidi::v1::Region* national =
      context_->directory.FindNode(yidi::v1::NODE_KIND_NATIONAL, "000000");
  if (national == nullptr) {
    return FinishUnary(ctx, absl::FailedPreconditionError(
                                "forwarding: the directory names no national node to fetch from"));
  }
  const std::string address = national->address();
  struct Call {
    std::unique_ptr<yidi::v1::ClearingService::Stub> stub;
    grpc::ClientContext context;
    yidi::v1::GetClearingRequest request;
    yidi::v1::GetClearingResponse response;
  };
  auto* call = new Call();
  call->stub =
      yidi::v1::ClearingService::NewStub(MakeChannel(address, context_->channel_credentials));
  call->context.set_deadline(
      ForwardDeadline(ctx->deadline(), context_->config.forward_deadline_ms()));
  call->request.set_clearing_month(request->clearing_month());
  call->request.set_region(context_->identity.region_code);
  auto* reactor = ctx->DefaultReactor();
  NodeContext* context = context_;
  call->stub->async()->GetClearing(
      &call->context, &call->request, &call->response,
      [call, response, reactor, context, address](grpc::Status status) {
        std::unique_ptr<Call> owned(call);
        if (!status.ok()) {
          if (IsDefinitiveRefusal(static_cast<absl::StatusCode>(status.error_code()))) {
            // NOT_FOUND (national has not built the month), a refusal: passed on as is.
            reactor->Finish(
                grpc::Status(status.error_code(),
                             absl::StrCat("national (", address, "): ", status.error_message())));
          } else {
            reactor->Finish(
                grpc::Status(grpc::StatusCode::UNAVAILABLE,
                             absl::StrCat("yidi: national (", address, ") did not answer (",
                                          status.error_message(),
                                          "); nothing was forwarded; retry later (idempotent)")));
          }
          return;
        }
        const ForwardingNode node = ForwardingNodeOf(*context);
        reactor->Finish(
            ToGrpcStatus(InTransaction(*context, TransactionMode::kWrite, [&](Transaction& tx) {
              ASSIGN_OR_RETURN(*response,
                               yidi::ForwardClearing(tx, node, owned->response.clearing()));
              return absl::OkStatus();
            })));
      });
  return reactor;
}

grpc::ServerUnaryReactor* NodeClearingCycleService::GetForwardedNotices(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetForwardedNoticesRequest* request,
    yidi::v1::GetForwardedNoticesResponse* response) {
  if (!request->city().empty() && !IsRegionCode(request->city())) {
    return FinishUnary(ctx, absl::InvalidArgumentError("city: 6 digits"));
  }
  const std::string today = FormatDate(CstDay(context_->clock->Now()));
  return FinishUnary(
      ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
        ASSIGN_OR_RETURN(*response->mutable_forwarding(),
                         GetForwarding(tx, request->clearing_month()));
        const bool html = request->format() == yidi::v1::CLEARING_FORMAT_HTML;
        for (const ClearingTable& table : ForwardedNoticeTables(
                 response->forwarding(), request->city(), ClearingNamerOf(*context_), today)) {
          auto& document = *response->add_documents();
          document.set_title(table.title);
          document.set_region(table.region);
          document.set_content(html ? RenderHtml(table) : RenderCsv(table));
        }
        return absl::OkStatus();
      }));
}

grpc::ServerUnaryReactor* NodeClearingCycleService::CloseYear(
    grpc::CallbackServerContext* ctx, const yidi::v1::CloseYearRequest* request,
    yidi::v1::CloseYearResponse* response) {
  const ClearingNode node = ClearingNodeOf(*context_);
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(*response, yidi::CloseYear(tx, node, request->year()));
                       return absl::OkStatus();
                     }));
}

grpc::ServerUnaryReactor* NodeClearingCycleService::GetYearStatus(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetYearStatusRequest* request,
    yidi::v1::GetYearStatusResponse* response) {
  const ClearingNode node = ClearingNodeOf(*context_);
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(*response, yidi::GetYearStatus(tx, node, request->year()));
                       return absl::OkStatus();
                     }));
}

}  // namespace yidi
