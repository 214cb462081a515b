#include "common/prepayment_service.h"

#include <functional>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/ledger.h"
#include "common/prepayment_notices.h"
#include "common/settlement_relay.h"
#include "common/status_macros.h"
#include "common/transfer_obligations.h"
#include "common/unary_handler.h"

namespace yidi {
namespace {

using yidi::v1::TransferObligation;

RegionNamer NamerOf(const NodeContext& context) {
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

// Posts this node's side of an obligation's payment or receipt when it is that side; returns
// the ledger transfer id, or "" when this node is not that side.
absl::StatusOr<std::string> PostOwnSide(Transaction& tx, const NodeContext& context,
                                        const TransferObligation& obligation, bool payer_side,
                                        absl::string_view date) {
  const std::string& side = payer_side ? obligation.payer_region() : obligation.receiver_region();
  if (side != context.identity.region_code) return std::string();
  const Movement movement = MovementOf(obligation, payer_side, date);
  ASSIGN_OR_RETURN(
      RecordedTransfer posted,
      RecordTransfer(tx, payer_side ? PaymentTransfer(movement) : ReceiptTransfer(movement),
                     context.clock->Now()));
  return posted.transfer.transfer_id();
}

grpc::Status ForwardFailure(const grpc::Status& status, absl::string_view parent,
                            absl::string_view address) {
  if (IsDefinitiveRefusal(static_cast<absl::StatusCode>(status.error_code()))) return status;
  if (absl::StartsWith(status.error_message(), "yidi: ")) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, status.error_message());
  }
  return grpc::Status(
      grpc::StatusCode::UNAVAILABLE,
      absl::StrCat("yidi: ", parent, " (", address, ") did not answer (", status.error_message(),
                   "); nothing was posted here; retry with the same request"));
}

// Forwards a payment or receipt to the node one hop up; on success the node posts its own side.
template <typename Request, typename Response, typename Method, typename Post>
void ForwardUp(grpc::CallbackServerContext* ctx, int forward_deadline_ms,
               const std::string& parent_name, const std::string& address, const Request& request,
               Response* response, Method method, Post post, grpc::ServerUnaryReactor* reactor) {
  struct Call {
    grpc::ClientContext context;
    Request request;
    Response response;
  };
  auto* call = new Call();
  call->context.set_deadline(ForwardDeadline(ctx->deadline(), forward_deadline_ms));
  call->request = request;
  method(&call->context, &call->request, &call->response,
         [call, response, reactor, post, parent_name, address](grpc::Status status) {
           std::unique_ptr<Call> owned(call);
           if (!status.ok()) {
             reactor->Finish(ForwardFailure(status, parent_name, address));
             return;
           }
           *response = std::move(call->response);
           response->clear_ledger_transfer_id();
           reactor->Finish(ToGrpcStatus(post(response)));
         });
}

}  // namespace

PrepaymentIssuer IssuerOfNode(const NodeContext& context) {
  PrepaymentIssuer issuer;
  issuer.kind = context.identity.kind;
  issuer.region = context.identity.region_code;
  issuer.policy = &context.prepayment_policy;
  issuer.calendar = &context.calendar;
  issuer.pooling_region_of = [&context](const std::string& code) {
    auto pool = context.directory.PoolingRegionFor(code);
    return pool.ok() ? *pool : code;
  };
  for (const auto& region : context.directory.directory().regions()) {
    if (region.kind() == yidi::v1::NODE_KIND_MUNICIPAL &&
        ProvinceOf(region.code()) == context.identity.region_code) {
      issuer.cities.push_back(region.code());
    }
  }
  issuer.now = context.clock->Now();
  return issuer;
}

yidi::v1::PrepaymentService::Stub* NodePrepaymentService::Parent(std::string* address) {
  const yidi::v1::Region* parent = nullptr;
  switch (context_->identity.kind) {
    case yidi::v1::NODE_KIND_MUNICIPAL:
      parent = context_->directory.FindNode(yidi::v1::NODE_KIND_PROVINCIAL,
                                            ProvinceOf(context_->identity.region_code));
      break;
    case yidi::v1::NODE_KIND_PROVINCIAL:
      parent = context_->directory.FindNode(yidi::v1::NODE_KIND_NATIONAL, "000000");
      break;
    default:
      return nullptr;
  }
  if (parent == nullptr) return nullptr;
  absl::MutexLock lock(&mutex_);
  if (parent_ == nullptr || parent_address_ != parent->address()) {
    parent_address_ = parent->address();
    parent_ = yidi::v1::PrepaymentService::NewStub(
        MakeChannel(parent_address_, context_->channel_credentials));
  }
  *address = parent_address_;
  return parent_.get();
}

grpc::ServerUnaryReactor* NodePrepaymentService::ComputeQuotas(
    grpc::CallbackServerContext* ctx, const yidi::v1::ComputeQuotasRequest* request,
    yidi::v1::ComputeQuotasResponse* response) {
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(*response,
                                        yidi::ComputeQuotas(tx, IssuerOfNode(*context_), *request));
                       return absl::OkStatus();
                     }));
}

grpc::ServerUnaryReactor* NodePrepaymentService::GetQuotas(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetQuotasRequest* request,
    yidi::v1::GetQuotasResponse* response) {
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(auto quotas,
                                        yidi::GetQuotas(tx, request->year(), request->region()));
                       for (auto& quota : quotas) *response->add_quotas() = std::move(quota);
                       return absl::OkStatus();
                     }));
}

grpc::ServerUnaryReactor* NodePrepaymentService::GetNotices(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetNoticesRequest* request,
    yidi::v1::GetNoticesResponse* response) {
  return FinishUnary(
      ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
        ASSIGN_OR_RETURN(auto quotas, yidi::GetQuotas(tx, request->year(), ""));
        const bool cross = context_->identity.kind == yidi::v1::NODE_KIND_NATIONAL;
        const RegionNamer name_of = NamerOf(*context_);
        if (request->region().empty()) {
          response->add_documents(RenderAdjustmentMatrix(request->year(), quotas, cross, name_of));
          return absl::OkStatus();
        }
        ASSIGN_OR_RETURN(auto obligations,
                         yidi::ListObligations(tx, request->region(), request->year()));
        for (std::string document :
             {RenderPaymentNotice(request->year(), request->region(), quotas, obligations, cross,
                                  name_of),
              RenderReceiptNotice(request->year(), request->region(), quotas, cross, name_of)}) {
          if (!document.empty()) response->add_documents(std::move(document));
        }
        for (const auto& obligation : obligations) {
          if (obligation.notice_kind() != yidi::v1::NOTICE_KIND_EMERGENCY_INCREASE) {
            continue;
          }
          response->add_documents(RenderEmergencyNotice(
              obligation, obligation.payer_region() == request->region(), name_of));
        }
        return absl::OkStatus();
      }));
}

grpc::ServerUnaryReactor* NodePrepaymentService::RecordClearing(
    grpc::CallbackServerContext* ctx, const yidi::v1::RecordClearingRequest* request,
    yidi::v1::RecordClearingResponse* response) {
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(
                           *response, yidi::RecordClearing(tx, IssuerOfNode(*context_), *request));
                       return absl::OkStatus();
                     }));
}

grpc::ServerUnaryReactor* NodePrepaymentService::GetUsage(grpc::CallbackServerContext* ctx,
                                                          const yidi::v1::GetUsageRequest* request,
                                                          yidi::v1::GetUsageResponse* response) {
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(auto reports,
                                        yidi::GetUsage(tx, request->year(), request->region()));
                       for (auto& report : reports) *response->add_reports() = std::move(report);
                       return absl::OkStatus();
                     }));
}

grpc::ServerUnaryReactor* NodePrepaymentService::ListWarnings(
    grpc::CallbackServerContext* ctx, const yidi::v1::ListWarningsRequest* request,
    yidi::v1::ListWarningsResponse* response) {
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(auto reports,
                                        yidi::GetUsage(tx, request->year(), request->region()));
                       for (auto& report : reports) {
                         if (report.level() == yidi::v1::WARNING_LEVEL_YELLOW ||
                             report.level() == yidi::v1::WARNING_LEVEL_RED) {
                           *response->add_warnings() = std::move(report);
                         }
                       }
                       return absl::OkStatus();
                     }));
}

grpc::ServerUnaryReactor* NodePrepaymentService::RequestEmergencyIncrease(
    grpc::CallbackServerContext* ctx, const yidi::v1::RequestEmergencyIncreaseRequest* request,
    yidi::v1::RequestEmergencyIncreaseResponse* response) {
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(*response, yidi::RequestEmergencyIncrease(
                                                       tx, IssuerOfNode(*context_), *request));
                       return absl::OkStatus();
                     }));
}

grpc::ServerUnaryReactor* NodePrepaymentService::ListObligations(
    grpc::CallbackServerContext* ctx, const yidi::v1::ListObligationsRequest* request,
    yidi::v1::ListObligationsResponse* response) {
  return FinishUnary(
      ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
        const absl::CivilDay today = context_->calendar.Today();
        response->set_today(FormatDate(today));
        ASSIGN_OR_RETURN(auto obligations,
                         yidi::ListObligations(tx, request->region(), request->year()));
        for (auto& obligation : obligations) {
          if (request->overdue_only() && !IsOverdue(obligation, today)) continue;
          ASSIGN_OR_RETURN(int late, WorkingDaysLate(context_->calendar, obligation, today));
          obligation.set_working_days_late(late);
          *response->add_obligations() = std::move(obligation);
        }
        return absl::OkStatus();
      }));
}

grpc::ServerUnaryReactor* NodePrepaymentService::RecordPayment(
    grpc::CallbackServerContext* ctx, const yidi::v1::RecordPaymentRequest* request,
    yidi::v1::RecordPaymentResponse* response) {
  if (request->obligation_id().empty()) {
    return FinishUnary(ctx, absl::InvalidArgumentError("obligation_id: required"));
  }
  if (absl::Status valid = ValidatePaymentConfirmation(request->payment()); !valid.ok()) {
    return FinishUnary(ctx, valid);
  }
  const std::string& date = request->payment().transaction_date();
  bool issued_here = false;
  absl::Status local = InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
    ASSIGN_OR_RETURN(auto found, FindObligation(tx, request->obligation_id()));
    if (!found.has_value()) return absl::OkStatus();
    issued_here = true;
    ASSIGN_OR_RETURN(ObligationChange change,
                     MarkObligationPaid(tx, request->obligation_id(), request->payment(),
                                        context_->clock->Now()));
    ASSIGN_OR_RETURN(std::string posted,
                     PostOwnSide(tx, *context_, change.obligation, /*payer_side=*/true, date));
    response->set_ledger_transfer_id(posted);
    response->set_replayed(change.replayed);
    *response->mutable_obligation() = std::move(change.obligation);
    return absl::OkStatus();
  });
  if (!local.ok() || issued_here) return FinishUnary(ctx, local);
  std::string address;
  auto* parent = Parent(&address);
  if (parent == nullptr) {
    return FinishUnary(
        ctx, absl::NotFoundError(
                 absl::StrCat("obligation_id: ", request->obligation_id(), " is not issued here")));
  }
  auto* reactor = ctx->DefaultReactor();
  ForwardUp(
      ctx, context_->config.forward_deadline_ms(),
      NodeName(context_->identity.kind == yidi::v1::NODE_KIND_MUNICIPAL
                   ? yidi::v1::NODE_KIND_PROVINCIAL
                   : yidi::v1::NODE_KIND_NATIONAL,
               context_->identity.kind == yidi::v1::NODE_KIND_MUNICIPAL
                   ? ProvinceOf(context_->identity.region_code)
                   : "000000"),
      address, *request, response,
      [parent](grpc::ClientContext* c, const yidi::v1::RecordPaymentRequest* q,
               yidi::v1::RecordPaymentResponse* r, std::function<void(grpc::Status)> done) {
        parent->async()->RecordPayment(c, q, r, std::move(done));
      },
      [this, date](yidi::v1::RecordPaymentResponse* forwarded) {
        return InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
          ASSIGN_OR_RETURN(std::string posted, PostOwnSide(tx, *context_, forwarded->obligation(),
                                                           /*payer_side=*/true, date));
          forwarded->set_ledger_transfer_id(posted);
          return absl::OkStatus();
        });
      },
      reactor);
  return reactor;
}

grpc::ServerUnaryReactor* NodePrepaymentService::RecordReceipt(
    grpc::CallbackServerContext* ctx, const yidi::v1::RecordReceiptRequest* request,
    yidi::v1::RecordReceiptResponse* response) {
  if (request->obligation_id().empty()) {
    return FinishUnary(ctx, absl::InvalidArgumentError("obligation_id: required"));
  }
  yidi::v1::RecordReceiptRequest forwarded_request = *request;
  if (forwarded_request.received_date().empty()) {
    forwarded_request.set_received_date(FormatDate(context_->calendar.Today()));
  }
  const std::string date = forwarded_request.received_date();
  bool issued_here = false;
  absl::Status local = InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
    ASSIGN_OR_RETURN(auto found, FindObligation(tx, request->obligation_id()));
    if (!found.has_value()) return absl::OkStatus();
    issued_here = true;
    ASSIGN_OR_RETURN(ObligationChange change, MarkObligationReceived(tx, request->obligation_id(),
                                                                     date, context_->clock->Now()));
    ASSIGN_OR_RETURN(std::string posted,
                     PostOwnSide(tx, *context_, change.obligation, /*payer_side=*/false, date));
    response->set_ledger_transfer_id(posted);
    response->set_replayed(change.replayed);
    *response->mutable_obligation() = std::move(change.obligation);
    return absl::OkStatus();
  });
  if (!local.ok() || issued_here) return FinishUnary(ctx, local);
  std::string address;
  auto* parent = Parent(&address);
  if (parent == nullptr) {
    return FinishUnary(
        ctx, absl::NotFoundError(
                 absl::StrCat("obligation_id: ", request->obligation_id(), " is not issued here")));
  }
  auto* reactor = ctx->DefaultReactor();
  ForwardUp(
      ctx, context_->config.forward_deadline_ms(),
      context_->identity.kind == yidi::v1::NODE_KIND_MUNICIPAL
          ? NodeName(yidi::v1::NODE_KIND_PROVINCIAL, ProvinceOf(context_->identity.region_code))
          : NodeName(yidi::v1::NODE_KIND_NATIONAL, "000000"),
      address, forwarded_request, response,
      [parent](grpc::ClientContext* c, const yidi::v1::RecordReceiptRequest* q,
               yidi::v1::RecordReceiptResponse* r, std::function<void(grpc::Status)> done) {
        parent->async()->RecordReceipt(c, q, r, std::move(done));
      },
      [this, date](yidi::v1::RecordReceiptResponse* forwarded) {
        return InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
          ASSIGN_OR_RETURN(std::string posted, PostOwnSide(tx, *context_, forwarded->obligation(),
                                                           /*payer_side=*/false, date));
          forwarded->set_ledger_transfer_id(posted);
          return absl::OkStatus();
        });
      },
      reactor);
  return reactor;
}

grpc::ServerUnaryReactor* NodePrepaymentService::RecordDelayReason(
    grpc::CallbackServerContext* ctx, const yidi::v1::RecordDelayReasonRequest* request,
    yidi::v1::RecordDelayReasonResponse* response) {
  return FinishUnary(ctx, InTransaction(*context_, TransactionMode::kWrite, [&](Transaction& tx) {
                       ASSIGN_OR_RETURN(
                           *response->mutable_obligation(),
                           SetDelayReason(tx, request->obligation_id(), request->reason()));
                       return absl::OkStatus();
                     }));
}

grpc::ServerUnaryReactor* NodePrepaymentService::GetSuspensions(
    grpc::CallbackServerContext* ctx, const yidi::v1::GetSuspensionsRequest* request,
    yidi::v1::GetSuspensionsResponse* response) {
  return FinishUnary(
      ctx, InTransaction(*context_, TransactionMode::kRead, [&](Transaction& tx) {
        ASSIGN_OR_RETURN(auto obligations, yidi::ListObligations(tx, request->region(), 0));
        std::set<std::string> payers;
        for (const auto& obligation : obligations) {
          if (request->region().empty() || obligation.payer_region() == request->region()) {
            payers.insert(obligation.payer_region());
          }
        }
        for (const std::string& payer : payers) {
          ASSIGN_OR_RETURN(auto suspensions,
                           SuspensionsOf(obligations, payer, context_->prepayment_policy,
                                         context_->calendar, context_->calendar.Today()));
          for (auto& suspension : suspensions) {
            *response->add_suspensions() = std::move(suspension);
          }
        }
        return absl::OkStatus();
      }));
}

}  // namespace yidi
