// AnnouncementService (api/yidi/v1/announcement.proto) on every node kind. A publication is
// stored here (table `announcement`, idempotent by announcement_id) and passed to every node
// directly below (common/announcement.h ChildNodes), which stores it and passes it on; nodes
// that did not answer are listed in `undelivered` and a repeat of the same call delivers again.
// Downtime notices affecting this node feed the downtime gate (NodeContext::call_gates).
// Thread safety: handlers may run concurrently; the store serialises writes.
#ifndef YIDI_COMMON_ANNOUNCEMENT_SERVICE_H_
#define YIDI_COMMON_ANNOUNCEMENT_SERVICE_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/announcement.h"
#include "common/node.h"
#include "yidi/v1/announcement.grpc.pb.h"

namespace yidi {

class NodeAnnouncementService final : public yidi::v1::AnnouncementService::CallbackService {
 public:
  // Loads the stored downtime notices into the board and registers the downtime gate in
  // context->call_gates. REQUIRES: called before the server starts; `context` outlives this.
  explicit NodeAnnouncementService(NodeContext* context);

  grpc::ServerUnaryReactor* PublishAnnouncement(
      grpc::CallbackServerContext* ctx, const yidi::v1::PublishAnnouncementRequest* request,
      yidi::v1::PublishAnnouncementResponse* response) override;
  grpc::ServerUnaryReactor* ListAnnouncements(
      grpc::CallbackServerContext* ctx, const yidi::v1::ListAnnouncementsRequest* request,
      yidi::v1::ListAnnouncementsResponse* response) override;

  const AnnouncementBoard& board() const { return *board_; }

 private:
  struct Stored {
    yidi::v1::Announcement announcement;
    bool replayed = false;
  };
  // Stores the announcement (origin: fills publisher and published_at). Errors as the proto says.
  absl::StatusOr<Stored> StoreHere(const yidi::v1::Announcement& announcement);
  yidi::v1::AnnouncementService::Stub* StubFor(const std::string& address);

  NodeContext* const context_;
  std::shared_ptr<AnnouncementBoard> board_;
  absl::Mutex mutex_;
  absl::flat_hash_map<std::string, std::unique_ptr<yidi::v1::AnnouncementService::Stub>> stubs_
      ABSL_GUARDED_BY(mutex_);
};

}  // namespace yidi

#endif  // YIDI_COMMON_ANNOUNCEMENT_SERVICE_H_
