// Announcements (公告, RULES.md section 11): validation, who receives them (the hierarchy below
// the publisher), and the downtime gate: while a downtime notice's window is open, every call to
// the affected node except health checks, reflection and AnnouncementService itself is refused
// UNAVAILABLE with the notice's text (so institutions and nodes can still read why).
//
// Thread safety: AnnouncementBoard is shared by the service and the gate; it locks itself.
#ifndef YIDI_COMMON_ANNOUNCEMENT_H_
#define YIDI_COMMON_ANNOUNCEMENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/directory.h"
#include "common/node.h"
#include "yidi/v1/announcement.pb.h"

namespace yidi {

// Titles are one line; texts a notice of a few paragraphs.
inline constexpr int kAnnouncementTitleLengthMax = 200;
inline constexpr int kAnnouncementTextLengthMax = 4000;
// A downtime window longer than a week is a typo, not maintenance.
inline constexpr absl::Duration kDowntimeWindowMax = absl::Hours(7 * 24);
// One listing: far above what a year of notices holds.
inline constexpr int kAnnouncementListMax = 1000;

// Parses an RFC 3339 instant ("2026-11-28T22:00:00+08:00"). INVALID_ARGUMENT naming `field`.
absl::StatusOr<absl::Time> ParseInstant(absl::string_view field, absl::string_view text);

// Checks a publication made at `self` (publisher and published_at are filled by the node):
// id, kind, title, text; for DOWNTIME the window (start < end, at most kDowntimeWindowMax) and
// the affected node (default: self), which must be self or a node below it in `directory`.
// INVALID_ARGUMENT naming the field.
absl::Status ValidateAnnouncement(const yidi::v1::Announcement& announcement,
                                  const NodeIdentity& self, const DirectoryIndex& directory);

// The nodes directly below `self` that an announcement propagates to: national → every
// provincial node; provincial → the municipal nodes of its province; municipal → none.
std::vector<const yidi::v1::Region*> ChildNodes(const NodeIdentity& self,
                                                const DirectoryIndex& directory);

// True for the calls a downtime never blocks: health checks, reflection, AnnouncementService.
bool IsExemptFromDowntime(absl::string_view method);

// The downtime notices that concern this node, for the gate.
class AnnouncementBoard {
 public:
  AnnouncementBoard(NodeIdentity self, std::string self_name)
      : self_(std::move(self)), self_name_(std::move(self_name)) {}

  // Keeps `announcement` when it is a downtime notice affecting this node.
  void Add(const yidi::v1::Announcement& announcement);

  // UNAVAILABLE "yidi: municipal 500000 is down for maintenance until …: <title>: <text>" when
  // a window is open at `now` and `method` is not exempt; OK otherwise.
  absl::Status Check(absl::string_view method, absl::Time now) const;

 private:
  struct Window {
    absl::Time start;
    absl::Time end;
    std::string message;
  };
  const NodeIdentity self_;
  const std::string self_name_;
  mutable absl::Mutex mutex_;
  std::vector<Window> windows_ ABSL_GUARDED_BY(mutex_);
};

// The gate for NodeContext::call_gates: AnnouncementBoard::Check with the clock's now.
CallGate MakeDowntimeGate(std::shared_ptr<const AnnouncementBoard> board, const Clock* clock);

}  // namespace yidi

#endif  // YIDI_COMMON_ANNOUNCEMENT_H_
