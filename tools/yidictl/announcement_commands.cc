// yidictl commands of announcements (AnnouncementService, docs/COLLABORATION.md):
//   announcement publish FILE            Announcement (text format); passes down the hierarchy
//   announcement list [INSTITUTION]      what reached this node (or, asked for an institution,
//                                        what it sees through its municipal node)
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/config.h"
#include "tools/yidictl/command.h"
#include "yidi/v1/announcement.grpc.pb.h"

namespace {

using Args = std::vector<std::string>;
using Channel = std::shared_ptr<grpc::Channel>;

YIDICTL_COMMAND("announcement publish", "announcement publish FILE (Announcement)",
                [](const Channel& channel, const Args& args) {
                  if (args.size() != 1) {
                    std::cerr << "usage: yidictl announcement publish FILE\n";
                    return yidictl::kExitUsage;
                  }
                  yidi::v1::PublishAnnouncementRequest request;
                  if (absl::Status loaded =
                          yidi::LoadTextProtoFile(args[0], request.mutable_announcement());
                      !loaded.ok()) {
                    std::cerr << loaded << "\n";
                    return yidictl::kExitUsage;
                  }
                  yidi::v1::PublishAnnouncementResponse response;
                  auto context = yidictl::MakeContext();
                  grpc::Status status = yidi::v1::AnnouncementService::NewStub(channel)
                                            ->PublishAnnouncement(context.get(), request,
                                                                  &response);
                  if (!status.ok()) return yidictl::Fail(status);
                  std::cout << response.DebugString();
                  return yidictl::kExitOk;
                });

YIDICTL_COMMAND("announcement list", "announcement list [INSTITUTION]",
                [](const Channel& channel, const Args& args) {
                  yidi::v1::ListAnnouncementsRequest request;
                  if (args.size() == 1) request.set_institution_code(args[0]);
                  yidi::v1::ListAnnouncementsResponse response;
                  auto context = yidictl::MakeContext();
                  grpc::Status status = yidi::v1::AnnouncementService::NewStub(channel)
                                            ->ListAnnouncements(context.get(), request, &response);
                  if (!status.ok()) return yidictl::Fail(status);
                  for (const auto& a : response.announcements()) {
                    if (absl::GetFlag(FLAGS_text)) {
                      std::cout << a.DebugString() << "\n";
                      continue;
                    }
                    std::cout << absl::StrFormat(
                        "%s  %-8s %-20s %s%s\n    %s\n", a.published_at(),
                        yidi::v1::AnnouncementKind_Name(a.kind()).substr(18), a.announcement_id(),
                        a.title(),
                        a.downtime_start().empty()
                            ? ""
                            : absl::StrCat("  [", a.downtime_start(), " – ", a.downtime_end(), "]"),
                        a.text());
                  }
                  return yidictl::kExitOk;
                });

}  // namespace
