#include "common/clearing_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/grpc_status.h"
#include "common/prepayment_service.h"
#include "common/status_macros.h"

namespace yidi {
namespace {

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* ctx, const absl::Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

template <typename Body>
absl::Status InTransaction(NodeContext& context, TransactionMode mode, Body body) {
  ASSIGN_OR_RETURN(auto tx, context.store->Begin(mode));
  RETURN_IF_ERROR(body(*tx));
  if (mode == TransactionMode::kWrite) RETURN_IF_ERROR(tx->Commit());
  return absl::OkStatus();
}

}  // namespace

ClearingNode ClearingNodeOf(const NodeContext& context) {
  ClearingNode node;
  node.region = context.identity.region_code;
  node.calendar = &context.calendar;
  node.pooling_region_of = [&context](const std::string& code) {
    auto pool = context.directory.PoolingRegionFor(code);
    return pool.ok() ? *pool : code;
  };
  node.issuer = IssuerOfNode(context);
  node.now = context.clock->Now();
  if (context.identity.kind == yidi::v1::NODE_KIND_MUNICIPAL) node.issuer.policy = nullptr;
  return node;
}

ClearingNamer ClearingNamerOf(const NodeContext& context) {
  return [&context](const std::string& code) {
    std::string name = code;
    for (const auto& region : context.directory.directory().regions()) {
      if (region.code() != code) continue;
      name = region.name().substr(0, region.name().find(" ("));
      if (region.kind() == yidi::v1::NODE_KIND_PROVINCIAL) break;
    }
    return name;
  };
}

grpc::ServerUnaryReactor* NodeClearingService::RunClearing(
    grpc::CallbackServerContext* ctx, const yidi::v1::RunClearingRequest* request,
    yidi::v1::RunClearingResponse* response) {
  const ClearingNode node = ClearingNodeOf(*context_);
  return Finish(ctx, InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
    ASSIGN_OR_RETURN(*response->mutable_clearing(),
                     yidi::RunClearing(tx, node, request->clearing_month()));
    return absl::OkStatus();
  }));
}

grpc::ServerUnaryReactor* NodeClearingService::GetClearing(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetClearingRequest* request,
    yidi::v1::GetClearingResponse* response) {
  const ClearingNode node = ClearingNodeOf(*context_);
  return Finish(ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
    ASSIGN_OR_RETURN(*response->mutable_clearing(),
                     yidi::GetClearing(tx, request->clearing_month(), request->region(), node));
    return absl::OkStatus();
  }));
}

grpc::ServerUnaryReactor* NodeClearingService::ReplyClearing(
    grpc::CallbackServerContext* ctx, const yidi::v1::ReplyClearingRequest* request,
    yidi::v1::ReplyClearingResponse* response) {
  const ClearingNode node = ClearingNodeOf(*context_);
  return Finish(ctx, InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
    ASSIGN_OR_RETURN(*response, yidi::ReplyClearing(tx, node, *request));
    return absl::OkStatus();
  }));
}

grpc::ServerUnaryReactor* NodeClearingService::SubmitClaim(
    grpc::CallbackServerContext* ctx, const yidi::v1::SubmitClaimRequest* request,
    yidi::v1::SubmitClaimResponse* response) {
  const ClearingNode node = ClearingNodeOf(*context_);
  return Finish(ctx, InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
    ASSIGN_OR_RETURN(*response, yidi::SubmitClaim(tx, node, request->claim()));
    return absl::OkStatus();
  }));
}

grpc::ServerUnaryReactor* NodeClearingService::GetClearingDocuments(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetClearingDocumentsRequest* request,
    yidi::v1::GetClearingDocumentsResponse* response) {
  const ClearingNode node = ClearingNodeOf(*context_);
  return Finish(ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
    ASSIGN_OR_RETURN(yidi::v1::Clearing clearing,
                     yidi::GetClearing(tx, request->clearing_month(), "", node));
    if (!request->region().empty() && !IsRegionCode(request->region())) {
      return absl::InvalidArgumentError("region: 6 digits");
    }
    const bool html = request->format() == yidi::v1::CLEARING_FORMAT_HTML;
    for (const ClearingTable& table :
         ClearingTables(clearing, node, request->kind(), request->region(),
                        ClearingNamerOf(*context_), FormatDate(CstDay(node.now)))) {
      auto& document = *response->add_documents();
      document.set_title(table.title);
      document.set_region(table.region);
      document.set_content(html ? RenderHtml(table) : RenderCsv(table));
    }
    return absl::OkStatus();
  }));
}

grpc::ServerUnaryReactor* NodeClearingService::TraceClearing(
    grpc::CallbackServerContext* ctx, const yidi::v1::TraceClearingRequest* request,
    yidi::v1::TraceClearingResponse* response) {
  const ClearingNode node = ClearingNodeOf(*context_);
  return Finish(ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
    ASSIGN_OR_RETURN(*response, yidi::TraceClearing(tx, node, *request));
    return absl::OkStatus();
  }));
}

grpc::ServerUnaryReactor* NodeAuditService::RecordDeduction(
    grpc::CallbackServerContext* ctx, const yidi::v1::RecordDeductionRequest* request,
    yidi::v1::RecordDeductionResponse* response) {
  const ClearingNode node = ClearingNodeOf(*context_);
  return Finish(ctx, InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
    ASSIGN_OR_RETURN(*response, yidi::RecordDeduction(tx, node, request->deduction()));
    return absl::OkStatus();
  }));
}

}  // namespace yidi
