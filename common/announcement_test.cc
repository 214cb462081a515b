#include "common/announcement.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using ::testing::HasSubstr;

DirectoryIndex Directory() {
  yidi::v1::Directory directory;
  EXPECT_TRUE(
      LoadTextProtoFile(absl::StrCat(YIDI_SOURCE_DIR, "/deploy/demo/directory.textproto"),
                        &directory)
          .ok());
  auto index = DirectoryIndex::Build(directory);
  EXPECT_TRUE(index.ok()) << index.status();
  return *std::move(index);
}

yidi::v1::Announcement Downtime(const char* start, const char* end) {
  yidi::v1::Announcement a;
  a.set_announcement_id("A-1");
  a.set_kind(yidi::v1::ANNOUNCEMENT_KIND_DOWNTIME);
  a.set_title("系统升级");
  a.set_text("settlement is suspended during the upgrade");
  a.set_downtime_start(start);
  a.set_downtime_end(end);
  return a;
}

TEST(DowntimeGateTest, RefusesOrdinaryCallsInsideTheWindowOnlyOnTheAffectedNode) {
  const NodeIdentity self{yidi::v1::NODE_KIND_MUNICIPAL, "500000"};
  auto board = std::make_shared<AnnouncementBoard>(self, "municipal 500000");
  auto a = Downtime("2026-11-28T22:00:00+08:00", "2026-11-29T02:00:00+08:00");
  a.mutable_publisher()->set_kind(yidi::v1::NODE_KIND_MUNICIPAL);
  a.mutable_publisher()->set_region_code("500000");
  board->Add(a);
  // Another node's downtime does not concern this one.
  auto other = a;
  other.set_announcement_id("A-2");
  other.mutable_affected()->set_kind(yidi::v1::NODE_KIND_PROVINCIAL);
  other.mutable_affected()->set_region_code("500000");
  other.set_downtime_start("2026-11-27T00:00:00+08:00");
  board->Add(other);

  FakeClock clock(absl::FromCivil(absl::CivilSecond(2026, 11, 28, 21, 59, 59),
                                  ChinaStandardTime()));
  const CallGate gate = MakeDowntimeGate(board, &clock);
  const CallInfo settle{"/yidi.v1.SettlementService/Settle", ""};
  EXPECT_TRUE(gate(settle).ok());
  clock.Advance(absl::Seconds(1));  // 22:00:00: the window opens
  absl::Status down = gate(settle);
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(down.message(), HasSubstr("系统升级"));
  EXPECT_THAT(down.message(), HasSubstr("settlement is suspended during the upgrade"));
  EXPECT_THAT(down.message(), HasSubstr("2026-11-29T02:00:00+08:00"));
  // Health, reflection and the announcements stay reachable.
  EXPECT_TRUE(gate({"/grpc.health.v1.Health/Check", ""}).ok());
  EXPECT_TRUE(gate({"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", ""}).ok());
  EXPECT_TRUE(gate({"/yidi.v1.AnnouncementService/ListAnnouncements", ""}).ok());
  clock.Set(absl::FromCivil(absl::CivilSecond(2026, 11, 29, 2, 0, 0), ChinaStandardTime()));
  EXPECT_TRUE(gate(settle).ok());  // the end is exclusive
}

TEST(AnnouncementValidationTest, WindowKindAndAffectedNode) {
  const auto directory = Directory();
  const NodeIdentity province{yidi::v1::NODE_KIND_PROVINCIAL, "360000"};
  EXPECT_TRUE(ValidateAnnouncement(Downtime("2026-11-28T22:00:00+08:00",
                                            "2026-11-29T02:00:00+08:00"),
                                   province, directory)
                  .ok());
  EXPECT_THAT(ValidateAnnouncement(Downtime("2026-11-29T02:00:00+08:00",
                                            "2026-11-28T22:00:00+08:00"),
                                   province, directory)
                  .message(),
              HasSubstr("downtime_end"));
  EXPECT_THAT(ValidateAnnouncement(Downtime("tonight", "2026-11-28T22:00:00+08:00"), province,
                                   directory)
                  .message(),
              HasSubstr("downtime_start"));
  auto below = Downtime("2026-11-28T22:00:00+08:00", "2026-11-29T02:00:00+08:00");
  below.mutable_affected()->set_kind(yidi::v1::NODE_KIND_MUNICIPAL);
  below.mutable_affected()->set_region_code("360700");
  EXPECT_TRUE(ValidateAnnouncement(below, province, directory).ok());
  below.mutable_affected()->set_region_code("210100");  // another province's city
  EXPECT_THAT(ValidateAnnouncement(below, province, directory).message(),
              HasSubstr("announcement.affected"));
  yidi::v1::Announcement general;
  general.set_announcement_id("G-1");
  general.set_title("新增定点医疗机构");
  general.set_text("…");
  EXPECT_THAT(ValidateAnnouncement(general, province, directory).message(),
              HasSubstr("announcement.kind"));
  general.set_kind(yidi::v1::ANNOUNCEMENT_KIND_GENERAL);
  EXPECT_TRUE(ValidateAnnouncement(general, province, directory).ok());
}

TEST(AnnouncementHierarchyTest, ChildrenAreTheLevelDirectlyBelow) {
  const auto directory = Directory();
  auto names = [&](const NodeIdentity& self) {
    std::vector<std::string> out;
    for (const auto* region : ChildNodes(self, directory)) {
      out.push_back(absl::StrCat(region->kind(), ":", region->code()));
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_THAT(names({yidi::v1::NODE_KIND_NATIONAL, "000000"}),
              ::testing::ElementsAre("2:210000", "2:360000", "2:500000"));
  EXPECT_THAT(names({yidi::v1::NODE_KIND_PROVINCIAL, "360000"}),
              ::testing::ElementsAre("1:360100", "1:360700"));
  EXPECT_THAT(names({yidi::v1::NODE_KIND_PROVINCIAL, "500000"}),
              ::testing::ElementsAre("1:500000"));
  EXPECT_TRUE(names({yidi::v1::NODE_KIND_MUNICIPAL, "360100"}).empty());
}

}  // namespace
}  // namespace yidi
