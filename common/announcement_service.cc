#include "common/announcement_service.h"

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/grpc_status.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/proto_column.h"
#include "common/routing.h"
#include "common/settlement_relay.h"
#include "common/status_macros.h"
#include "common/unary_handler.h"

namespace yidi {
namespace {

absl::StatusOr<std::vector<yidi::v1::Announcement>> ReadAll(Store& store) {
  ASSIGN_OR_RETURN(auto tx, store.Begin(TransactionMode::kRead));
  ASSIGN_OR_RETURN(auto rows, tx->Query(absl::StrCat(
                                  "SELECT announcement_id, body FROM announcement ORDER BY "
                                  "published_at DESC, announcement_id LIMIT ",
                                  kAnnouncementListMax)));
  std::vector<yidi::v1::Announcement> all;
  for (const Row& row : rows) {
    yidi::v1::Announcement a;
    RETURN_IF_ERROR(DecodeProtoColumn(row.Text(1), absl::StrCat("announcement ", row.Text(0)), &a));
    all.push_back(std::move(a));
  }
  return all;
}

}  // namespace

NodeAnnouncementService::NodeAnnouncementService(NodeContext* context)
    : context_(context),
      board_(std::make_shared<AnnouncementBoard>(context->identity, context->name)) {
  auto stored = ReadAll(*context_->store);
  if (stored.ok()) {
    for (const auto& a : *stored) board_->Add(a);
  } else {
    LogError("announcements: %s", std::string(stored.status().message()));
  }
  context_->call_gates.push_back(MakeDowntimeGate(board_, context_->clock));
}

yidi::v1::AnnouncementService::Stub* NodeAnnouncementService::StubFor(const std::string& address) {
  absl::MutexLock lock(&mutex_);
  auto& stub = stubs_[address];
  if (stub == nullptr) {
    stub = yidi::v1::AnnouncementService::NewStub(MakeChannel(address, context_->channel_credentials));
  }
  return stub.get();
}

absl::StatusOr<NodeAnnouncementService::Stored> NodeAnnouncementService::StoreHere(
    const yidi::v1::Announcement& given) {
  yidi::v1::Announcement announcement = given;
  const bool origin = !given.has_publisher();
  if (origin) {
    RETURN_IF_ERROR(ValidateAnnouncement(given, context_->identity, context_->directory));
  } else {
    if (given.published_at().empty() ||
        context_->directory.FindNode(given.publisher().kind(), given.publisher().region_code()) ==
            nullptr) {
      return absl::InvalidArgumentError(
          "announcement.publisher: a passed-on announcement names a known publisher and its "
          "time");
    }
    // A copy from above passes the same checks, from its publisher's place in the hierarchy
    // (the downtime board relies on a well-formed window).
    const NodeIdentity publisher{given.publisher().kind(), given.publisher().region_code()};
    RETURN_IF_ERROR(ValidateAnnouncement(given, publisher, context_->directory));
  }
  // The origin's digest is of what the caller sent (its retry has no publication time).
  const std::string digest = DigestMessage(given);
  const absl::Time now = context_->clock->Now();
  if (origin) {
    announcement.mutable_publisher()->set_kind(context_->identity.kind);
    announcement.mutable_publisher()->set_region_code(context_->identity.region_code);
    announcement.set_published_at(FormatCstTimestamp(now));
  }
  ASSIGN_OR_RETURN(auto tx, context_->store->Begin(TransactionMode::kWrite));
  ASSIGN_OR_RETURN(auto rows, tx->Query("SELECT request_digest, body FROM announcement WHERE "
                                        "announcement_id = ?",
                                        {announcement.announcement_id()}));
  if (!rows.empty()) {
    Stored stored;
    RETURN_IF_ERROR(DecodeProtoColumn(rows[0].Text(1), "announcement", &stored.announcement));
    if (rows[0].Text(0) != digest) {
      return absl::AlreadyExistsError(absl::StrCat("announcement.announcement_id: ",
                                                   announcement.announcement_id(),
                                                   " was already used for another announcement"));
    }
    stored.replayed = true;
    return stored;
  }
  RETURN_IF_ERROR(tx->Execute("INSERT INTO announcement (announcement_id, request_digest, kind, "
                              "published_at, body) VALUES (?, ?, ?, ?, ?)",
                              {announcement.announcement_id(), digest,
                               static_cast<int64_t>(announcement.kind()),
                               announcement.published_at(), EncodeProtoColumn(announcement)})
                      .status());
  RETURN_IF_ERROR(tx->Commit());
  board_->Add(announcement);
  LogInfo("announcement %s (%s) stored: %s", announcement.announcement_id(),
          yidi::v1::AnnouncementKind_Name(announcement.kind()), announcement.title());
  return Stored{announcement, false};
}

grpc::ServerUnaryReactor* NodeAnnouncementService::PublishAnnouncement(
    grpc::CallbackServerContext* ctx, const yidi::v1::PublishAnnouncementRequest* request,
    yidi::v1::PublishAnnouncementResponse* response) {
  auto stored = StoreHere(request->announcement());
  if (!stored.ok()) return FinishUnary(ctx, stored.status());
  *response->mutable_announcement() = stored->announcement;
  response->set_replayed(stored->replayed);
  auto* reactor = ctx->DefaultReactor();
  const auto children = ChildNodes(context_->identity, context_->directory);
  if (children.empty()) {
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  // Pass it to every child at once; the last answer finishes the call.
  struct FanOut {
    absl::Mutex mutex;
    int remaining ABSL_GUARDED_BY(mutex) = 0;
  };
  auto fan_out = std::make_shared<FanOut>();
  fan_out->remaining = static_cast<int>(children.size());
  const int deadline_ms = context_->config.forward_deadline_ms() > 0
                              ? context_->config.forward_deadline_ms()
                              : kForwardDeadlineDefaultMs;
  for (const yidi::v1::Region* child : children) {
    struct Call {
      grpc::ClientContext context;
      yidi::v1::PublishAnnouncementRequest request;
      yidi::v1::PublishAnnouncementResponse response;
    };
    auto* call = new Call();
    call->context.set_deadline(ForwardDeadline(ctx->deadline(), deadline_ms));
    *call->request.mutable_announcement() = stored->announcement;
    const std::string name = NodeName(child->kind(), child->code());
    StubFor(child->address())
        ->async()
        ->PublishAnnouncement(
            &call->context, &call->request, &call->response,
            [call, fan_out, reactor, response, name](grpc::Status status) {
              std::unique_ptr<Call> owned(call);
              bool last = false;
              {
                absl::MutexLock lock(&fan_out->mutex);
                if (status.ok()) {
                  for (const auto& below : call->response.undelivered()) {
                    response->add_undelivered(below);
                  }
                } else {
                  response->add_undelivered(name);
                }
                last = --fan_out->remaining == 0;
              }
              if (last) reactor->Finish(grpc::Status::OK);
            });
  }
  return reactor;
}

grpc::ServerUnaryReactor* NodeAnnouncementService::ListAnnouncements(
    grpc::CallbackServerContext* ctx, const yidi::v1::ListAnnouncementsRequest* request,
    yidi::v1::ListAnnouncementsResponse* response) {
  if (!request->institution_code().empty()) {
    const auto* institution = context_->directory.FindInstitution(request->institution_code());
    auto pool = institution == nullptr
                    ? absl::StatusOr<std::string>(absl::NotFoundError(""))
                    : context_->directory.PoolingRegionFor(institution->region_code());
    if (context_->identity.kind != yidi::v1::NODE_KIND_MUNICIPAL || !pool.ok() ||
        *pool != context_->identity.region_code) {
      return FinishUnary(
          ctx, absl::InvalidArgumentError(absl::StrCat(
                   "institution_code: ", request->institution_code(), " is not an institution of ",
                   context_->name, "; an institution asks its own municipal node")));
    }
  }
  auto all = ReadAll(*context_->store);
  if (!all.ok()) return FinishUnary(ctx, all.status());
  for (auto& a : *all) {
    if (request->kind() != yidi::v1::ANNOUNCEMENT_KIND_UNSPECIFIED && a.kind() != request->kind()) {
      continue;
    }
    *response->add_announcements() = std::move(a);
  }
  return FinishUnary(ctx, absl::OkStatus());
}

}  // namespace yidi
