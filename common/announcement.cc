#include "common/announcement.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/investigation.h"
#include "common/routing.h"
#include "common/status_macros.h"

namespace yidi {

absl::StatusOr<absl::Time> ParseInstant(absl::string_view field, absl::string_view text) {
  absl::Time t;
  std::string error;
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  if (!absl::ParseTime(absl::RFC3339_full, std::string(text), &t, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", text, "\" is not an RFC 3339 time (", error, ")"));
  }
  return t;
}

namespace {

bool IsSelfOrBelow(const NodeIdentity& self, const yidi::v1::Agency& node) {
  if (node.kind() == self.kind && node.region_code() == self.region_code) return true;
  switch (self.kind) {
    case yidi::v1::NODE_KIND_NATIONAL:
      return node.kind() != yidi::v1::NODE_KIND_NATIONAL;
    case yidi::v1::NODE_KIND_PROVINCIAL:
      return node.kind() == yidi::v1::NODE_KIND_MUNICIPAL &&
             ProvinceCodeOf(node.region_code()) == ProvinceCodeOf(self.region_code);
    default:
      return false;
  }
}

}  // namespace

absl::Status ValidateAnnouncement(const yidi::v1::Announcement& a, const NodeIdentity& self,
                                  const DirectoryIndex& directory) {
  RETURN_IF_ERROR(ValidateInvestigationId("announcement.announcement_id", a.announcement_id()));
  switch (a.kind()) {
    case yidi::v1::ANNOUNCEMENT_KIND_DOWNTIME:
    case yidi::v1::ANNOUNCEMENT_KIND_GENERAL:
    case yidi::v1::ANNOUNCEMENT_KIND_POLICY:
      break;
    default:
      return absl::InvalidArgumentError(
          "announcement.kind: DOWNTIME, GENERAL or POLICY is required");
  }
  if (a.title().empty() || a.title().size() > static_cast<size_t>(kAnnouncementTitleLengthMax)) {
    return absl::InvalidArgumentError(absl::StrCat("announcement.title: required, at most ",
                                                   kAnnouncementTitleLengthMax, " bytes"));
  }
  if (a.text().empty() || a.text().size() > static_cast<size_t>(kAnnouncementTextLengthMax)) {
    return absl::InvalidArgumentError(absl::StrCat("announcement.text: required, at most ",
                                                   kAnnouncementTextLengthMax, " bytes"));
  }
  if (a.kind() != yidi::v1::ANNOUNCEMENT_KIND_DOWNTIME) {
    if (!a.downtime_start().empty() || !a.downtime_end().empty() || a.has_affected()) {
      return absl::InvalidArgumentError(
          "announcement.downtime_start: only a DOWNTIME notice has a window and affected node");
    }
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(absl::Time start, ParseInstant("announcement.downtime_start",
                                                  a.downtime_start()));
  ASSIGN_OR_RETURN(absl::Time end, ParseInstant("announcement.downtime_end", a.downtime_end()));
  if (end <= start) {
    return absl::InvalidArgumentError("announcement.downtime_end: not after downtime_start");
  }
  if (end - start > kDowntimeWindowMax) {
    return absl::InvalidArgumentError("announcement.downtime_end: the window exceeds 7 days");
  }
  if (a.has_affected()) {
    if (directory.FindNode(a.affected().kind(), a.affected().region_code()) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "announcement.affected: no ", NodeName(a.affected().kind(), a.affected().region_code()),
          " in the directory"));
    }
    if (!IsSelfOrBelow(self, a.affected())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "announcement.affected: ", NodeName(a.affected().kind(), a.affected().region_code()),
          " is not this node or below it"));
    }
  }
  return absl::OkStatus();
}

std::vector<const yidi::v1::Region*> ChildNodes(const NodeIdentity& self,
                                                const DirectoryIndex& directory) {
  std::vector<const yidi::v1::Region*> children;
  for (const auto& region : directory.directory().regions()) {
    if (region.address().empty()) continue;
    if (self.kind == yidi::v1::NODE_KIND_NATIONAL &&
        region.kind() == yidi::v1::NODE_KIND_PROVINCIAL) {
      children.push_back(&region);
    } else if (self.kind == yidi::v1::NODE_KIND_PROVINCIAL &&
               region.kind() == yidi::v1::NODE_KIND_MUNICIPAL &&
               ProvinceCodeOf(region.code()) == ProvinceCodeOf(self.region_code)) {
      children.push_back(&region);
    }
  }
  return children;
}

bool IsExemptFromDowntime(absl::string_view method) {
  return absl::StartsWith(method, "/grpc.health.v1.Health/") ||
         absl::StartsWith(method, "/grpc.reflection.") ||
         absl::StartsWith(method, "/yidi.v1.AnnouncementService/");
}

void AnnouncementBoard::Add(const yidi::v1::Announcement& a) {
  if (a.kind() != yidi::v1::ANNOUNCEMENT_KIND_DOWNTIME) return;
  const yidi::v1::Agency& affected = a.has_affected() ? a.affected() : a.publisher();
  if (affected.kind() != self_.kind || affected.region_code() != self_.region_code) return;
  auto start = ParseInstant("downtime_start", a.downtime_start());
  auto end = ParseInstant("downtime_end", a.downtime_end());
  YIDI_CHECK(start.ok() && end.ok(), "only validated downtime notices reach the board");
  Window window{*start, *end,
                absl::StrCat("yidi: ", self_name_, " is down for maintenance until ",
                             FormatCstTimestamp(*end), " (announcement ", a.announcement_id(),
                             "): ", a.title(), ": ", a.text())};
  absl::MutexLock lock(&mutex_);
  windows_.push_back(std::move(window));
}

absl::Status AnnouncementBoard::Check(absl::string_view method, absl::Time now) const {
  if (IsExemptFromDowntime(method)) return absl::OkStatus();
  absl::MutexLock lock(&mutex_);
  for (const Window& window : windows_) {
    if (now >= window.start && now < window.end) return absl::UnavailableError(window.message);
  }
  return absl::OkStatus();
}

CallGate MakeDowntimeGate(std::shared_ptr<const AnnouncementBoard> board, const Clock* clock) {
  return [board = std::move(board), clock](const CallInfo& call) {
    return board->Check(call.method, clock->Now());
  };
}

}  // namespace yidi
