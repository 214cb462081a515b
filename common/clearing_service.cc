#include "common/clearing_service.h"

#include <chrono>
#include <functional>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/clearing_claims.h"
#include "common/clock.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/prepayment_service.h"
#include "common/status_macros.h"
#include "common/unary_handler.h"

namespace yidi {
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
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(*response->mutable_clearing(),
                                        yidi::RunClearing(tx, node, request->clearing_month()));
                       return absl::OkStatus();
                     }));
}

grpc::ServerUnaryReactor* NodeClearingService::GetClearing(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetClearingRequest* request,
    yidi::v1::GetClearingResponse* response) {
  const ClearingNode node = ClearingNodeOf(*context_);
  return FinishUnary(
      ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
        ASSIGN_OR_RETURN(*response->mutable_clearing(),
                         yidi::GetClearing(tx, request->clearing_month(), request->region(), node));
        return absl::OkStatus();
      }));
}

grpc::ServerUnaryReactor* NodeClearingService::ReplyClearing(
    grpc::CallbackServerContext* ctx, const yidi::v1::ReplyClearingRequest* request,
    yidi::v1::ReplyClearingResponse* response) {
  const ClearingNode node = ClearingNodeOf(*context_);
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(*response, yidi::ReplyClearing(tx, node, *request));
                       return absl::OkStatus();
                     }));
}

grpc::ServerUnaryReactor* NodeClearingService::SubmitClaim(
    grpc::CallbackServerContext* ctx, const yidi::v1::SubmitClaimRequest* request,
    yidi::v1::SubmitClaimResponse* response) {
  const ClearingNode node = ClearingNodeOf(*context_);
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(*response, yidi::SubmitClaim(tx, node, request->claim()));
                       return absl::OkStatus();
                     }));
}

grpc::ServerUnaryReactor* NodeClearingService::GetClearingDocuments(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetClearingDocumentsRequest* request,
    yidi::v1::GetClearingDocumentsResponse* response) {
  const ClearingNode node = ClearingNodeOf(*context_);
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(yidi::v1::Clearing clearing,
                                        yidi::GetClearing(tx, request->clearing_month(), "", node));
                       if (!request->region().empty() && !IsRegionCode(request->region())) {
                         return absl::InvalidArgumentError("region: 6 digits");
                       }
                       const bool html = request->format() == yidi::v1::CLEARING_FORMAT_HTML;
                       for (const ClearingTable& table : ClearingTables(
                                clearing, node, request->kind(), request->region(),
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
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(*response, yidi::TraceClearing(tx, node, *request));
                       return absl::OkStatus();
                     }));
}

namespace {

// Sends a stored batch to the level above (the province of a city, national for a province)
// without blocking the handler's thread (D408: a callback thread must not wait on another
// node): `done` runs on a gRPC client thread with the answer.
void SendClaims(NodeContext& context, const yidi::v1::ClaimBatch& batch,
                std::function<void(absl::StatusOr<yidi::v1::SubmitClaimsResponse>)> done) {
  const bool municipal = context.identity.kind == yidi::v1::NODE_KIND_MUNICIPAL;
  const auto* above =
      municipal ? context.directory.FindNode(yidi::v1::NODE_KIND_PROVINCIAL,
                                             ProvinceCodeOf(context.identity.region_code))
                : context.directory.FindNode(yidi::v1::NODE_KIND_NATIONAL, "000000");
  if (above == nullptr || above->address().empty()) {
    done(absl::FailedPreconditionError("the node above is not in the directory"));
    return;
  }
  struct Call {
    std::unique_ptr<yidi::v1::ClearingService::Stub> stub;
    grpc::ClientContext context;
    yidi::v1::SubmitClaimsRequest request;
    yidi::v1::SubmitClaimsResponse response;
  };
  auto call = std::make_shared<Call>();
  call->stub = yidi::v1::ClearingService::NewStub(
      MakeChannel(above->address(), context.channel_credentials));
  call->context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::milliseconds(kClaimsCallDeadlineMs));
  *call->request.mutable_batch() = batch;
  const std::string address = above->address();
  call->stub->async()->SubmitClaims(
      &call->context, &call->request, &call->response,
      [call, address, done = std::move(done)](grpc::Status status) {
        if (status.ok()) {
          LogInfo("claims: batch %s taken by %s (%d claims)", call->request.batch().batch_id(),
                  address, call->request.batch().claims_size());
          done(std::move(call->response));
          return;
        }
        const absl::Status why = FromGrpcStatus(status);
        LogWarning("claims: batch %s kept, %s did not take it: %s",
                   call->request.batch().batch_id(), address, why.ToString());
        // Kept and resent by the same call again: say so, whatever the cause.
        done(absl::Status(why.code(),
                          absl::StrCat("batch ", call->request.batch().batch_id(),
                                       " is stored here but ", address, " did not take it (",
                                       why.message(), "); call again to resend it")));
      });
}

}  // namespace

grpc::ServerUnaryReactor* NodeClearingService::DeclareClaims(
    grpc::CallbackServerContext* ctx, const yidi::v1::DeclareClaimsRequest* request,
    yidi::v1::DeclareClaimsResponse* response) {
  if (context_->identity.kind != yidi::v1::NODE_KIND_MUNICIPAL) {
    return FinishUnary(ctx, absl::FailedPreconditionError(
                                "DeclareClaims: a treatment municipal node declares its claims"));
  }
  const ClearingNode clearing = ClearingNodeOf(*context_);
  ClaimsNode node;
  node.region = clearing.pooling_region_of(context_->identity.region_code);
  node.pooling_region_of = clearing.pooling_region_of;
  node.include_unconfirmed = context_->config.clearing_claims().include_unconfirmed();
  node.now = clearing.now;
  Declaration declaration;
  absl::Status status = InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
    ASSIGN_OR_RETURN(declaration, yidi::DeclareClaims(tx, node, request->clearing_month()));
    return absl::OkStatus();
  });
  if (!status.ok()) return FinishUnary(ctx, status);
  *response->mutable_batch() = declaration.batch;
  response->set_replayed(declaration.replayed);
  if (declaration.sent) return FinishUnary(ctx, absl::OkStatus());
  auto* reactor = ctx->DefaultReactor();
  NodeContext* context = context_;
  SendClaims(*context_, declaration.batch,
             [context, reactor, response, batch_id = declaration.batch.batch_id()](
                 absl::StatusOr<yidi::v1::SubmitClaimsResponse> sent) {
               if (!sent.ok()) {
                 reactor->Finish(ToGrpcStatus(sent.status()));
                 return;
               }
               *response->mutable_accepted() = sent->accepted();
               reactor->Finish(ToGrpcStatus(
                   InTransaction(*context, TransactionMode::kWrite, [&](Transaction& tx) {
                     return MarkClaimsSent(tx, batch_id, context->clock->Now());
                   })));
             });
  return reactor;
}

grpc::ServerUnaryReactor* NodeClearingService::SubmitClaims(
    grpc::CallbackServerContext* ctx, const yidi::v1::SubmitClaimsRequest* request,
    yidi::v1::SubmitClaimsResponse* response) {
  const ClearingNode node = ClearingNodeOf(*context_);
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(*response, yidi::ReceiveClaims(tx, node, request->batch()));
                       return absl::OkStatus();
                     }));
}

grpc::ServerUnaryReactor* NodeClearingService::ForwardClaims(
    grpc::CallbackServerContext* ctx, const yidi::v1::ForwardClaimsRequest* request,
    yidi::v1::ForwardClaimsResponse* response) {
  const ClearingNode node = ClearingNodeOf(*context_);
  Freeze freeze;
  absl::Status status = InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
    ASSIGN_OR_RETURN(freeze, FreezeClaims(tx, node, request->clearing_month()));
    return absl::OkStatus();
  });
  if (!status.ok()) return FinishUnary(ctx, status);
  *response->mutable_batch() = freeze.batch;
  response->set_replayed(freeze.replayed);
  if (freeze.sent) return FinishUnary(ctx, absl::OkStatus());
  auto* reactor = ctx->DefaultReactor();
  NodeContext* context = context_;
  SendClaims(*context_, freeze.batch,
             [context, reactor, batch_id = freeze.batch.batch_id()](
                 absl::StatusOr<yidi::v1::SubmitClaimsResponse> sent) {
               if (!sent.ok()) {
                 reactor->Finish(ToGrpcStatus(sent.status()));
                 return;
               }
               reactor->Finish(ToGrpcStatus(
                   InTransaction(*context, TransactionMode::kWrite, [&](Transaction& tx) {
                     return MarkClaimsSent(tx, batch_id, context->clock->Now());
                   })));
             });
  return reactor;
}

grpc::ServerUnaryReactor* NodeClearingService::ListClaims(
    grpc::CallbackServerContext* ctx, const yidi::v1::ListClaimsRequest* request,
    yidi::v1::ListClaimsResponse* response) {
  const bool municipal = context_->identity.kind == yidi::v1::NODE_KIND_MUNICIPAL;
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(*response,
                                        yidi::ListClaims(tx, request->clearing_month(), municipal));
                       return absl::OkStatus();
                     }));
}

grpc::ServerUnaryReactor* NodeAuditService::RecordDeduction(
    grpc::CallbackServerContext* ctx, const yidi::v1::RecordDeductionRequest* request,
    yidi::v1::RecordDeductionResponse* response) {
  const ClearingNode node = ClearingNodeOf(*context_);
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(*response,
                                        yidi::RecordDeduction(tx, node, request->deduction()));
                       return absl::OkStatus();
                     }));
}

}  // namespace yidi
