// Tests for common/routing.h and common/directory.h: the next hop from every node kind, pooling
// regions of county and district codes, whole paths walked hop by hop, and the directory's
// own validation.
#include "common/routing.h"

#include <string>
#include <vector>

#include "common/directory.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using ::testing::HasSubstr;
using yidi::v1::NodeKind;

constexpr NodeKind kMunicipal = yidi::v1::NODE_KIND_MUNICIPAL;
constexpr NodeKind kProvincial = yidi::v1::NODE_KIND_PROVINCIAL;
constexpr NodeKind kNational = yidi::v1::NODE_KIND_NATIONAL;
constexpr NodeKind kNone = yidi::v1::NODE_KIND_UNSPECIFIED;

// National; Chongqing and Beijing pool at provincial level; Jiangxi has Nanchang (360100) and
// Ganzhou (360700); Liaoning has Shenyang (210100).
constexpr char kDirectoryText[] = R"pb(
  regions { code: "000000" kind: NODE_KIND_NATIONAL address: "127.0.0.1:17000" }
  regions { code: "500000" kind: NODE_KIND_PROVINCIAL provincial_pooling: true address: "127.0.0.1:17050" }
  regions { code: "500000" kind: NODE_KIND_MUNICIPAL address: "127.0.0.1:17500" }
  regions { code: "360000" kind: NODE_KIND_PROVINCIAL address: "127.0.0.1:17036" }
  regions { code: "360100" kind: NODE_KIND_MUNICIPAL address: "127.0.0.1:17361" }
  regions { code: "360700" kind: NODE_KIND_MUNICIPAL address: "127.0.0.1:17367" }
  regions { code: "210000" kind: NODE_KIND_PROVINCIAL address: "127.0.0.1:17021" }
  regions { code: "210100" kind: NODE_KIND_MUNICIPAL address: "127.0.0.1:17211" }
  regions { code: "110000" kind: NODE_KIND_PROVINCIAL provincial_pooling: true address: "127.0.0.1:17011" }
  regions { code: "110000" kind: NODE_KIND_MUNICIPAL address: "127.0.0.1:17110" }
  institutions { code: "H36010000001" region_code: "360100" level: HOSPITAL_LEVEL_3 networked: true }
  institutions { code: "H50000000001" region_code: "500000" level: HOSPITAL_LEVEL_2 networked: true }
)pb";

const std::vector<std::string> kMunicipalCodes = {"500000", "360100", "360700", "210100",
                                                  "110000"};

yidi::v1::Directory ParseDirectory(const char* text) {
  yidi::v1::Directory directory;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &directory)) << text;
  return directory;
}

DirectoryIndex BuildIndex(const yidi::v1::Directory& directory) {
  auto index = DirectoryIndex::Build(directory);
  EXPECT_TRUE(index.ok()) << index.status();
  return *std::move(index);
}

class RoutingTest : public ::testing::Test {
 protected:
  RoutingTest() : directory_(BuildIndex(ParseDirectory(kDirectoryText))) {}
  DirectoryIndex directory_;
};

// ---------------------------------------------------------------------------------------------
// One hop

struct RouteCase {
  const char* name;
  NodeKind self_kind;
  const char* self_region;
  const char* target;
  absl::StatusCode code;  // kOk: expect a route
  bool handle_locally;
  NodeKind next_kind;
  const char* next_region;
  const char* next_address;
};

TEST_F(RoutingTest, OneHopTable) {
  using C = absl::StatusCode;
  const RouteCase cases[] = {
      // Municipal.
      {"municipal own region", kMunicipal, "360100", "360100", C::kOk, true, kNone, "", ""},
      {"municipal own county", kMunicipal, "360100", "360102", C::kOk, true, kNone, "", ""},
      {"municipal other city same province", kMunicipal, "360100", "360700", C::kOk, false,
       kProvincial, "360000", "127.0.0.1:17036"},
      {"municipal county of other city", kMunicipal, "360700", "360102", C::kOk, false,
       kProvincial, "360000", "127.0.0.1:17036"},
      {"municipal other province", kMunicipal, "360100", "210100", C::kOk, false, kProvincial,
       "360000", "127.0.0.1:17036"},
      {"municipal to Chongqing district", kMunicipal, "210100", "500103", C::kOk, false,
       kProvincial, "210000", "127.0.0.1:17021"},
      {"Chongqing municipal own district", kMunicipal, "500000", "500103", C::kOk, true, kNone,
       "", ""},
      {"Chongqing municipal own county 500241", kMunicipal, "500000", "500241", C::kOk, true,
       kNone, "", ""},
      {"Chongqing municipal to Beijing", kMunicipal, "500000", "110105", C::kOk, false,
       kProvincial, "500000", "127.0.0.1:17050"},
      {"Beijing municipal own district", kMunicipal, "110000", "110105", C::kOk, true, kNone, "",
       ""},
      // Provincial.
      {"provincial own city", kProvincial, "360000", "360100", C::kOk, false, kMunicipal,
       "360100", "127.0.0.1:17361"},
      {"provincial own county resolves to city", kProvincial, "360000", "360702", C::kOk, false,
       kMunicipal, "360700", "127.0.0.1:17367"},
      {"provincial other province", kProvincial, "360000", "210100", C::kOk, false, kNational,
       "000000", "127.0.0.1:17000"},
      {"provincial other province district", kProvincial, "360000", "500103", C::kOk, false,
       kNational, "000000", "127.0.0.1:17000"},
      {"Chongqing provincial own district", kProvincial, "500000", "500103", C::kOk, false,
       kMunicipal, "500000", "127.0.0.1:17500"},
      {"Beijing provincial own district", kProvincial, "110000", "110105", C::kOk, false,
       kMunicipal, "110000", "127.0.0.1:17110"},
      {"Liaoning provincial own city", kProvincial, "210000", "210100", C::kOk, false, kMunicipal,
       "210100", "127.0.0.1:17211"},
      // National.
      {"national to Jiangxi county", kNational, "000000", "360102", C::kOk, false, kProvincial,
       "360000", "127.0.0.1:17036"},
      {"national to Chongqing district", kNational, "000000", "500103", C::kOk, false,
       kProvincial, "500000", "127.0.0.1:17050"},
      {"national to Beijing district", kNational, "000000", "110105", C::kOk, false, kProvincial,
       "110000", "127.0.0.1:17011"},
      {"national to Liaoning city", kNational, "000000", "210100", C::kOk, false, kProvincial,
       "210000", "127.0.0.1:17021"},
      // Errors.
      {"unknown province", kMunicipal, "360100", "990100", C::kInvalidArgument, false, kNone, "",
       ""},
      {"unknown city in known province", kMunicipal, "360100", "360300", C::kInvalidArgument,
       false, kNone, "", ""},
      {"unknown region at national", kNational, "000000", "990100", C::kInvalidArgument, false,
       kNone, "", ""},
      {"five digits", kMunicipal, "360100", "36010", C::kInvalidArgument, false, kNone, "", ""},
      {"seven digits", kProvincial, "360000", "3601001", C::kInvalidArgument, false, kNone, "",
       ""},
      {"letters", kNational, "000000", "3601AB", C::kInvalidArgument, false, kNone, "", ""},
      {"empty", kMunicipal, "360100", "", C::kInvalidArgument, false, kNone, "", ""},
      {"self kind unspecified", kNone, "360100", "360100", C::kFailedPrecondition, false, kNone,
       "", ""},
  };
  for (const RouteCase& c : cases) {
    SCOPED_TRACE(c.name);
    const NodeIdentity self{c.self_kind, c.self_region};
    const auto route = RouteToward(self, directory_, c.target);
    if (c.code != absl::StatusCode::kOk) {
      EXPECT_EQ(route.status().code(), c.code) << route.status();
      continue;
    }
    ASSERT_TRUE(route.ok()) << route.status();
    EXPECT_EQ(route->handle_locally, c.handle_locally);
    EXPECT_EQ(route->next_kind, c.next_kind);
    EXPECT_EQ(route->next_region_code, c.next_region);
    EXPECT_EQ(route->next_address, c.next_address);
  }
}

TEST_F(RoutingTest, ErrorMessagesNameTheTarget) {
  const NodeIdentity self{kMunicipal, "360100"};
  const auto unknown = RouteToward(self, directory_, "990100");
  EXPECT_THAT(unknown.status().message(), HasSubstr("990100"));
  const auto malformed = RouteToward(self, directory_, "36010");
  EXPECT_THAT(malformed.status().message(), HasSubstr("36010"));
}

TEST_F(RoutingTest, NextHopNameNamesKindRegionAndAddress) {
  const auto route = RouteToward({kMunicipal, "360100"}, directory_, "210100");
  ASSERT_TRUE(route.ok()) << route.status();
  EXPECT_EQ(route->NextHopName(), "provincial 360000 (127.0.0.1:17036)");
  EXPECT_EQ(NodeName(kMunicipal, "360100"), "municipal 360100");
  EXPECT_EQ(NodeName(kNational, "000000"), "national");
}

TEST(RoutingMissingNodeTest, MissingNextHopIsFailedPrecondition) {
  // No national node: a cross-province forward from a province has nowhere to go.
  const DirectoryIndex directory = BuildIndex(ParseDirectory(R"pb(
    regions { code: "360000" kind: NODE_KIND_PROVINCIAL }
    regions { code: "360100" kind: NODE_KIND_MUNICIPAL }
    regions { code: "210000" kind: NODE_KIND_PROVINCIAL }
    regions { code: "210100" kind: NODE_KIND_MUNICIPAL }
  )pb"));
  const auto route = RouteToward({kProvincial, "360000"}, directory, "210100");
  EXPECT_EQ(route.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(route.status().message(), HasSubstr("national"));
  // Intra-province still works without a national node.
  const auto local = RouteToward({kProvincial, "360000"}, directory, "360100");
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(local->next_region_code, "360100");
}

// ---------------------------------------------------------------------------------------------
// Whole paths

struct Hop {
  NodeKind kind;
  std::string region;
};

// Walks RouteToward from `start` until a node handles the request locally. Fails the test if
// the walk takes more than `forwards_max` forwards.
std::vector<Hop> Walk(const DirectoryIndex& directory, Hop start, const std::string& target,
                      int forwards_max = 4) {
  std::vector<Hop> path = {start};
  for (int forwards = 0; forwards <= forwards_max; ++forwards) {
    const auto route =
        RouteToward(NodeIdentity{path.back().kind, path.back().region}, directory, target);
    EXPECT_TRUE(route.ok()) << route.status();
    if (!route.ok() || route->handle_locally) return path;
    path.push_back(Hop{route->next_kind, route->next_region_code});
  }
  ADD_FAILURE() << "more than " << forwards_max << " forwards toward " << target;
  return path;
}

TEST_F(RoutingTest, EveryMunicipalReachesEveryOwnerWithinFourForwards) {
  for (const std::string& from : kMunicipalCodes) {
    for (const std::string& to : kMunicipalCodes) {
      SCOPED_TRACE(from + " -> " + to);
      const std::vector<Hop> path = Walk(directory_, {kMunicipal, from}, to);
      ASSERT_LE(path.size(), 5u);
      EXPECT_EQ(path.back().kind, kMunicipal);
      EXPECT_EQ(path.back().region, to);
      const bool same_province = from.substr(0, 2) == to.substr(0, 2);
      if (from == to) {
        EXPECT_EQ(path.size(), 1u);  // handled at once
      } else if (same_province) {
        EXPECT_EQ(path.size(), 3u);  // municipal → provincial → municipal
      } else {
        // municipal → own provincial → national → target provincial → municipal
        ASSERT_EQ(path.size(), 5u);
        EXPECT_EQ(path[1].kind, kProvincial);
        EXPECT_EQ(path[1].region, from.substr(0, 2) + "0000");
        EXPECT_EQ(path[2].kind, kNational);
        EXPECT_EQ(path[3].kind, kProvincial);
        EXPECT_EQ(path[3].region, to.substr(0, 2) + "0000");
      }
    }
  }
}

TEST_F(RoutingTest, IntraProvinceNeverReachesNational) {
  // Every ordered pair of cities within one province, by city code and by a county inside it.
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"360100", "360700"}, {"360700", "360100"}, {"360100", "360702"},
      {"360700", "360102"}, {"360100", "360100"}, {"360700", "360700"}};
  for (const auto& [from, target] : pairs) {
    SCOPED_TRACE(from + " -> " + target);
    const std::vector<Hop> path = Walk(directory_, {kMunicipal, from}, target);
    for (const Hop& hop : path) {
      EXPECT_NE(hop.kind, kNational);
      EXPECT_EQ(hop.region.substr(0, 2), "36");
    }
    EXPECT_EQ(path.back().region, target.substr(0, 4) + "00");
    EXPECT_LE(path.size(), 3u);
  }
}

TEST_F(RoutingTest, CountyAndDistrictTargetsEndAtTheirPool) {
  const std::vector<std::pair<std::string, std::string>> targets = {
      {"360102", "360100"}, {"360702", "360700"}, {"500103", "500000"},
      {"500241", "500000"}, {"110105", "110000"}, {"210102", "210100"}};
  for (const std::string& from : kMunicipalCodes) {
    for (const auto& [target, owner] : targets) {
      SCOPED_TRACE(from + " -> " + target);
      const std::vector<Hop> path = Walk(directory_, {kMunicipal, from}, target);
      EXPECT_EQ(path.back().kind, kMunicipal);
      EXPECT_EQ(path.back().region, owner);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// DirectoryIndex

TEST_F(RoutingTest, PoolingRegionFor) {
  EXPECT_EQ(directory_.PoolingRegionFor("360100").value(), "360100");
  EXPECT_EQ(directory_.PoolingRegionFor("360102").value(), "360100");  // county
  EXPECT_EQ(directory_.PoolingRegionFor("360702").value(), "360700");
  EXPECT_EQ(directory_.PoolingRegionFor("500103").value(), "500000");  // Chongqing district
  EXPECT_EQ(directory_.PoolingRegionFor("500000").value(), "500000");
  EXPECT_EQ(directory_.PoolingRegionFor("110105").value(), "110000");  // Beijing district
  EXPECT_EQ(directory_.PoolingRegionFor("210102").value(), "210100");
  EXPECT_EQ(directory_.PoolingRegionFor("990100").status().code(),
            absl::StatusCode::kNotFound);
  // Jiangxi does not pool at provincial level: a city the directory lacks is not covered.
  EXPECT_EQ(directory_.PoolingRegionFor("360300").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(directory_.PoolingRegionFor("360000").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(directory_.PoolingRegionFor("36010").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RoutingTest, FindNodeAndInstitution) {
  ASSERT_NE(directory_.FindNode(kMunicipal, "500000"), nullptr);
  EXPECT_EQ(directory_.FindNode(kMunicipal, "500000")->address(), "127.0.0.1:17500");
  ASSERT_NE(directory_.FindNode(kProvincial, "500000"), nullptr);
  EXPECT_EQ(directory_.FindNode(kProvincial, "500000")->address(), "127.0.0.1:17050");
  EXPECT_EQ(directory_.FindNode(kMunicipal, "360000"), nullptr);
  EXPECT_EQ(directory_.FindNode(kProvincial, "360100"), nullptr);
  ASSERT_NE(directory_.FindNode(kNational, "000000"), nullptr);
  EXPECT_EQ(directory_.FindNode(kNone, "360100"), nullptr);
  ASSERT_NE(directory_.FindInstitution("H36010000001"), nullptr);
  EXPECT_EQ(directory_.FindInstitution("H36010000001")->region_code(), "360100");
  EXPECT_EQ(directory_.FindInstitution("H99"), nullptr);
}

TEST(DirectoryHelpersTest, ProvinceCodeOfAndIsRegionCode) {
  EXPECT_EQ(ProvinceCodeOf("360102"), "360000");
  EXPECT_EQ(ProvinceCodeOf("36"), "360000");
  EXPECT_TRUE(IsRegionCode("000000"));
  EXPECT_TRUE(IsRegionCode("360102"));
  EXPECT_FALSE(IsRegionCode("36010"));
  EXPECT_FALSE(IsRegionCode("3601021"));
  EXPECT_FALSE(IsRegionCode("36010a"));
  EXPECT_FALSE(IsRegionCode(""));
}

struct BadDirectoryCase {
  const char* name;
  const char* text;
  const char* message_part;
};

TEST(DirectoryBuildTest, RejectsBadDirectories) {
  const BadDirectoryCase cases[] = {
      {"municipal without its province",
       R"pb(regions { code: "000000" kind: NODE_KIND_NATIONAL }
            regions { code: "360100" kind: NODE_KIND_MUNICIPAL })pb",
       "360000"},
      {"duplicate municipal",
       R"pb(regions { code: "360000" kind: NODE_KIND_PROVINCIAL }
            regions { code: "360100" kind: NODE_KIND_MUNICIPAL }
            regions { code: "360100" kind: NODE_KIND_MUNICIPAL })pb",
       "listed twice"},
      {"duplicate provincial",
       R"pb(regions { code: "360000" kind: NODE_KIND_PROVINCIAL }
            regions { code: "360000" kind: NODE_KIND_PROVINCIAL })pb",
       "listed twice"},
      {"two national nodes",
       R"pb(regions { code: "000000" kind: NODE_KIND_NATIONAL }
            regions { code: "000000" kind: NODE_KIND_NATIONAL })pb",
       "listed twice"},
      {"duplicate institution",
       R"pb(regions { code: "360000" kind: NODE_KIND_PROVINCIAL }
            regions { code: "360100" kind: NODE_KIND_MUNICIPAL }
            institutions { code: "H1" region_code: "360100" }
            institutions { code: "H1" region_code: "360100" })pb",
       "H1"},
      {"institution in unknown region",
       R"pb(regions { code: "360000" kind: NODE_KIND_PROVINCIAL }
            regions { code: "360100" kind: NODE_KIND_MUNICIPAL }
            institutions { code: "H1" region_code: "360700" })pb",
       "360700"},
      {"institution in a province, not a pool",
       R"pb(regions { code: "360000" kind: NODE_KIND_PROVINCIAL }
            regions { code: "360100" kind: NODE_KIND_MUNICIPAL }
            institutions { code: "H1" region_code: "360000" })pb",
       "institutions[0].region_code"},
      {"province code not ending in 0000",
       R"pb(regions { code: "360100" kind: NODE_KIND_PROVINCIAL })pb", "0000"},
      {"malformed region code",
       R"pb(regions { code: "3601" kind: NODE_KIND_MUNICIPAL })pb", "regions[0].code"},
      {"unspecified kind", R"pb(regions { code: "360100" })pb", "regions[0].kind"},
  };
  for (const BadDirectoryCase& c : cases) {
    SCOPED_TRACE(c.name);
    const auto index = DirectoryIndex::Build(ParseDirectory(c.text));
    ASSERT_EQ(index.status().code(), absl::StatusCode::kInvalidArgument) << index.status();
    EXPECT_THAT(index.status().message(), HasSubstr(c.message_part));
  }
}

TEST(DirectoryBuildTest, SameCodeForMunicipalAndProvincialIsAllowed) {
  // Provincial-level pooling: municipal 500000 and provincial 500000 are two different nodes.
  const auto index = DirectoryIndex::Build(ParseDirectory(R"pb(
    regions { code: "500000" kind: NODE_KIND_PROVINCIAL provincial_pooling: true }
    regions { code: "500000" kind: NODE_KIND_MUNICIPAL }
  )pb"));
  EXPECT_TRUE(index.ok()) << index.status();
}

}  // namespace
}  // namespace yidi
