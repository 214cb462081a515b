// The authorization table (common/authorization.h), row by row, against the demo directory:
// for each row, a caller it grants and callers it must refuse. And the identity URI scheme.
#include "common/authorization.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "gtest/gtest.h"
#include "yidi/v1/clearing.pb.h"
#include "yidi/v1/settlement.pb.h"

namespace yidi {
namespace {

using yidi::v1::NODE_KIND_MUNICIPAL;
using yidi::v1::NODE_KIND_NATIONAL;
using yidi::v1::NODE_KIND_PROVINCIAL;

class AuthorizationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    yidi::v1::Directory directory;
    ASSERT_TRUE(LoadTextProtoFile(absl::StrCat(YIDI_SOURCE_DIR, "/deploy/demo/directory.textproto"),
                                  &directory)
                    .ok());
    auto index = DirectoryIndex::Build(directory);
    ASSERT_TRUE(index.ok());
    directory_ = std::move(*index);
  }

  static CallerIdentity Caller(const std::string& uri) {
    auto identity = ParseIdentityUri(uri);
    EXPECT_TRUE(identity.ok()) << uri << ": " << identity.status();
    return *identity;
  }
  static NodeIdentity Node(yidi::v1::NodeKind kind, const std::string& region) {
    return NodeIdentity{kind, region};
  }
  absl::StatusCode Check(const std::string& caller, const NodeIdentity& self,
                         const std::string& method,
                         const google::protobuf::Message* request = nullptr) {
    return Authorize(Caller(caller), self, directory_, method, request).code();
  }

  DirectoryIndex directory_;
};

constexpr absl::StatusCode kOk = absl::StatusCode::kOk;
constexpr absl::StatusCode kDenied = absl::StatusCode::kPermissionDenied;

TEST(IdentityUriTest, ParsesTheThreeKindsAndRefusesTheRest) {
  auto node = ParseIdentityUri("yidi://node/municipal/360100");
  ASSERT_TRUE(node.ok());
  EXPECT_EQ(node->kind, CallerKind::kNode);
  EXPECT_EQ(node->node_kind, NODE_KIND_MUNICIPAL);
  EXPECT_EQ(node->region_code, "360100");
  auto institution = ParseIdentityUri("yidi://institution/H36010000001");
  ASSERT_TRUE(institution.ok());
  EXPECT_EQ(institution->institution_code, "H36010000001");
  auto op = ParseIdentityUri("yidi://operator/li.wei?role=clearing&region=360000");
  ASSERT_TRUE(op.ok());
  EXPECT_EQ(op->operator_name, "li.wei");
  EXPECT_EQ(op->role, "clearing");
  EXPECT_EQ(op->region_code, "360000");
  EXPECT_EQ(op->uri, "yidi://operator/li.wei?role=clearing&region=360000");
  for (const char* bad :
       {"https://node/municipal/360100", "yidi://node/city/360100", "yidi://node/municipal/3601",
        "yidi://node/national/110000", "yidi://institution/", "yidi://institution/a b",
        "yidi://operator/x", "yidi://operator/x?role=admin&role=admin",
        "yidi://operator/x?role=admin&region=12", "yidi://operator/x?role=admin&extra=1",
        "yidi://person/360102195604120138"}) {
    EXPECT_EQ(ParseIdentityUri(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST_F(AuthorizationTest, SettleRowsInstitutionOfTheRegionForItselfAndRoutedNeighbours) {
  const NodeIdentity nanchang = Node(NODE_KIND_MUNICIPAL, "360100");
  yidi::v1::SettleRequest own;
  own.set_settlement_id("H36010000001-1");
  own.mutable_visit()->set_institution_code("H36010000001");
  for (const char* method : {"/yidi.v1.SettlementService/Settle",
                             "/yidi.v1.SettlementService/PreSettle"}) {
    EXPECT_EQ(Check("yidi://institution/H36010000001", nanchang, method, &own), kOk);
    // Another institution of the same region, acting as the first.
    EXPECT_EQ(Check("yidi://institution/H36010000002", nanchang, method, &own), kDenied);
    // An institution of another region.
    EXPECT_EQ(Check("yidi://institution/H50000000001", nanchang, method, &own), kDenied);
    // An institution the directory does not know.
    EXPECT_EQ(Check("yidi://institution/H99999999999", nanchang, method, &own), kDenied);
    EXPECT_EQ(Check("yidi://node/provincial/360000", nanchang, method, &own), kOk);
    EXPECT_EQ(Check("yidi://node/provincial/210000", nanchang, method, &own), kDenied);
    EXPECT_EQ(Check("yidi://node/national/000000", nanchang, method, &own), kDenied);
    EXPECT_EQ(Check("yidi://node/municipal/360700", nanchang, method, &own), kDenied);
    EXPECT_EQ(Check("yidi://operator/a?role=auditor", nanchang, method, &own), kDenied);
    EXPECT_EQ(Check("yidi://operator/a?role=admin", nanchang, method, &own), kOk);
    EXPECT_EQ(Check("yidi://operator/a?role=admin&region=210100", nanchang, method, &own),
              kDenied);
    // Institutions call municipal nodes only.
    EXPECT_EQ(Check("yidi://institution/H36010000001", Node(NODE_KIND_PROVINCIAL, "360000"),
                    method, &own),
              kDenied);
  }
  // An id that does not start with the caller's code.
  yidi::v1::SettleRequest borrowed_id = own;
  borrowed_id.set_settlement_id("H36010000002-1");
  EXPECT_EQ(Check("yidi://institution/H36010000001", nanchang,
                  "/yidi.v1.SettlementService/Settle", &borrowed_id),
            kDenied);
  // Routed neighbours at the provincial and national nodes.
  const NodeIdentity jiangxi = Node(NODE_KIND_PROVINCIAL, "360000");
  EXPECT_EQ(Check("yidi://node/municipal/360100", jiangxi, "/yidi.v1.SettlementService/Settle",
                  &own),
            kOk);
  EXPECT_EQ(Check("yidi://node/national/000000", jiangxi, "/yidi.v1.SettlementService/Settle",
                  &own),
            kOk);
  EXPECT_EQ(Check("yidi://node/municipal/210100", jiangxi, "/yidi.v1.SettlementService/Settle",
                  &own),
            kDenied);
  const NodeIdentity national = Node(NODE_KIND_NATIONAL, "000000");
  EXPECT_EQ(Check("yidi://node/provincial/500000", national, "/yidi.v1.SettlementService/Settle",
                  &own),
            kOk);
  EXPECT_EQ(Check("yidi://node/municipal/500000", national, "/yidi.v1.SettlementService/Settle",
                  &own),
            kDenied);
}

TEST_F(AuthorizationTest, ReverseAndCorrectOnlyOwnSettlements) {
  const NodeIdentity nanchang = Node(NODE_KIND_MUNICIPAL, "360100");
  yidi::v1::ReverseRequest reverse;
  reverse.set_settlement_id("H36010000001-R1");
  reverse.set_original_settlement_id("H36010000001-1");
  reverse.set_institution_code("H36010000001");
  EXPECT_EQ(Check("yidi://institution/H36010000001", nanchang,
                  "/yidi.v1.SettlementService/Reverse", &reverse),
            kOk);
  yidi::v1::ReverseRequest theirs = reverse;
  theirs.set_original_settlement_id("H36010000002-1");
  EXPECT_EQ(Check("yidi://institution/H36010000001", nanchang,
                  "/yidi.v1.SettlementService/Reverse", &theirs),
            kDenied);
  EXPECT_EQ(Check("yidi://institution/H36010000002", nanchang,
                  "/yidi.v1.SettlementService/Reverse", &reverse),
            kDenied);
  yidi::v1::CorrectRequest correct;
  correct.set_settlement_id("H36010000001-1");
  correct.set_institution_code("H36010000001");
  EXPECT_EQ(Check("yidi://institution/H36010000001", nanchang,
                  "/yidi.v1.SettlementService/Correct", &correct),
            kOk);
  EXPECT_EQ(Check("yidi://institution/H36010000002", nanchang,
                  "/yidi.v1.SettlementService/Correct", &correct),
            kDenied);
  yidi::v1::GetSettlementRequest get;
  get.set_settlement_id("H36010000001-1");
  EXPECT_EQ(Check("yidi://institution/H36010000001", nanchang,
                  "/yidi.v1.SettlementService/GetSettlement", &get),
            kOk);
  EXPECT_EQ(Check("yidi://institution/H36010000002", nanchang,
                  "/yidi.v1.SettlementService/GetSettlement", &get),
            kDenied);
  EXPECT_EQ(Check("yidi://operator/x?role=auditor", nanchang,
                  "/yidi.v1.SettlementService/GetSettlement", &get),
            kOk);
}

TEST_F(AuthorizationTest, BackOfficeRowsOnlyForEntitledRolesAndLinks) {
  const NodeIdentity jiangxi = Node(NODE_KIND_PROVINCIAL, "360000");
  const NodeIdentity national = Node(NODE_KIND_NATIONAL, "000000");
  EXPECT_EQ(Check("yidi://operator/c?role=clearing&region=360000", jiangxi,
                  "/yidi.v1.LedgerService/RecordTransfer"),
            kOk);
  EXPECT_EQ(Check("yidi://operator/c?role=clearing&region=210000", jiangxi,
                  "/yidi.v1.LedgerService/RecordTransfer"),
            kDenied);
  EXPECT_EQ(Check("yidi://operator/a?role=auditor", jiangxi,
                  "/yidi.v1.LedgerService/RecordTransfer"),
            kDenied);
  EXPECT_EQ(Check("yidi://operator/s?role=service", jiangxi,
                  "/yidi.v1.LedgerService/GetBalances"),
            kDenied);
  EXPECT_EQ(Check("yidi://node/national/000000", jiangxi, "/yidi.v1.LedgerService/RecordTransfer"),
            kDenied);
  EXPECT_EQ(Check("yidi://institution/H36010000001", Node(NODE_KIND_MUNICIPAL, "360100"),
                  "/yidi.v1.LedgerService/GetBalances"),
            kDenied);
  // Prepayment flows go up one link.
  EXPECT_EQ(Check("yidi://node/provincial/360000", national,
                  "/yidi.v1.PrepaymentService/RecordPayment"),
            kOk);
  EXPECT_EQ(Check("yidi://node/municipal/360100", national,
                  "/yidi.v1.PrepaymentService/RecordPayment"),
            kDenied);
  EXPECT_EQ(Check("yidi://node/national/000000", jiangxi,
                  "/yidi.v1.PrepaymentService/RecordPayment"),
            kDenied);
  EXPECT_EQ(Check("yidi://operator/c?role=clearing", national,
                  "/yidi.v1.PrepaymentService/ComputeQuotas"),
            kOk);
  EXPECT_EQ(Check("yidi://node/provincial/360000", national,
                  "/yidi.v1.PrepaymentService/ComputeQuotas"),
            kDenied);
  EXPECT_EQ(Check("yidi://node/provincial/360000", national,
                  "/yidi.v1.PrepaymentService/GetQuotas"),
            kOk);
  // Filing replication: up from a child, down from national to the treatment province; never
  // from outside the link.
  EXPECT_EQ(Check("yidi://node/municipal/360100", jiangxi,
                  "/yidi.v1.FilingService/UploadFilingChanges"),
            kOk);
  EXPECT_EQ(Check("yidi://node/national/000000", jiangxi,
                  "/yidi.v1.FilingService/UploadFilingChanges"),
            kOk);
  EXPECT_EQ(Check("yidi://node/municipal/210100", jiangxi,
                  "/yidi.v1.FilingService/UploadFilingChanges"),
            kDenied);
  EXPECT_EQ(Check("yidi://institution/H36010000001", Node(NODE_KIND_MUNICIPAL, "360100"),
                  "/yidi.v1.FilingService/UploadFilingChanges"),
            kDenied);
  // The audit log: auditors only.
  EXPECT_EQ(Check("yidi://operator/a?role=auditor", jiangxi,
                  "/yidi.v1.AuditLogService/ListAuditRecords"),
            kOk);
  EXPECT_EQ(Check("yidi://operator/c?role=clearing", jiangxi,
                  "/yidi.v1.AuditLogService/ListAuditRecords"),
            kDenied);
  EXPECT_EQ(Check("yidi://node/national/000000", jiangxi,
                  "/yidi.v1.AuditLogService/ListAuditRecords"),
            kDenied);
}

TEST_F(AuthorizationTest, ClearingRepliesClaimsAndDeductionsOnlyForTheCallersOwnRegion) {
  const NodeIdentity national = Node(NODE_KIND_NATIONAL, "000000");
  const NodeIdentity jiangxi = Node(NODE_KIND_PROVINCIAL, "360000");
  yidi::v1::ReplyClearingRequest reply;
  reply.set_clearing_month("2026-10");
  reply.set_region("360000");
  EXPECT_EQ(Check("yidi://node/provincial/360000", national,
                  "/yidi.v1.ClearingService/ReplyClearing", &reply),
            kOk);
  // Liaoning may not confirm (or dispute) Jiangxi's clearing table.
  EXPECT_EQ(Check("yidi://node/provincial/210000", national,
                  "/yidi.v1.ClearingService/ReplyClearing", &reply),
            kDenied);
  // National's clearing operator answers for a province that cannot (no region check on
  // operators: their role and their node are the limit).
  EXPECT_EQ(Check("yidi://operator/c?role=clearing&region=000000", national,
                  "/yidi.v1.ClearingService/ReplyClearing", &reply),
            kOk);
  // Intra-province: Nanchang answers for itself at Jiangxi, not for Ganzhou.
  reply.set_region("360100");
  EXPECT_EQ(Check("yidi://node/municipal/360100", jiangxi,
                  "/yidi.v1.ClearingService/ReplyClearing", &reply),
            kOk);
  reply.set_region("360700");
  EXPECT_EQ(Check("yidi://node/municipal/360100", jiangxi,
                  "/yidi.v1.ClearingService/ReplyClearing", &reply),
            kDenied);

  yidi::v1::SubmitClaimRequest claim;
  claim.mutable_claim()->set_treatment_region("360700");  // a city of the caller's province
  EXPECT_EQ(Check("yidi://node/provincial/360000", national,
                  "/yidi.v1.ClearingService/SubmitClaim", &claim),
            kOk);
  claim.mutable_claim()->set_treatment_region("500000");
  EXPECT_EQ(Check("yidi://node/provincial/360000", national,
                  "/yidi.v1.ClearingService/SubmitClaim", &claim),
            kDenied);

  yidi::v1::RecordDeductionRequest deduction;
  deduction.mutable_deduction()->set_treatment_region("210100");
  EXPECT_EQ(Check("yidi://node/provincial/210000", national,
                  "/yidi.v1.AuditService/RecordDeduction", &deduction),
            kOk);
  EXPECT_EQ(Check("yidi://node/provincial/360000", national,
                  "/yidi.v1.AuditService/RecordDeduction", &deduction),
            kDenied);
}

TEST(RegionWithinTest, ACodeWithItsTrailingZeroPairsRemovedIsThePrefix) {
  EXPECT_TRUE(RegionWithin("360100", "360000"));
  EXPECT_TRUE(RegionWithin("360000", "360000"));
  EXPECT_TRUE(RegionWithin("360100", "360100"));
  EXPECT_TRUE(RegionWithin("500000", "500000"));
  EXPECT_FALSE(RegionWithin("360700", "360100"));
  EXPECT_FALSE(RegionWithin("210100", "360000"));
  EXPECT_FALSE(RegionWithin("36", "360000"));       // not a region code
  EXPECT_FALSE(RegionWithin("", "360000"));
}

TEST_F(AuthorizationTest, DirectoryIsPublicAndUnknownMethodsAreDenied) {
  const NodeIdentity nanchang = Node(NODE_KIND_MUNICIPAL, "360100");
  EXPECT_EQ(Check("yidi://institution/H50000000001", nanchang,
                  "/yidi.v1.DirectoryService/GetNodeInfo"),
            kOk);
  absl::Status unknown = Authorize(Caller("yidi://operator/a?role=admin"), nanchang, directory_,
                                   "/yidi.v1.NoSuchService/DoIt", nullptr);
  EXPECT_EQ(unknown.code(), kDenied);
  EXPECT_NE(unknown.message().find("yidi://operator/a?role=admin"), absl::string_view::npos);
  EXPECT_NE(unknown.message().find("/yidi.v1.NoSuchService/DoIt"), absl::string_view::npos);
  CallerIdentity plaintext;
  EXPECT_EQ(Authorize(plaintext, nanchang, directory_, "/yidi.v1.SettlementService/Settle",
                      nullptr)
                .code(),
            kDenied);
}

// Every method of every service in api/yidi/v1 has a row: a method without one is refused on
// every TLS node, which would break its feature silently. Read from the .proto files, so a new
// service fails here until the table says who may call it.
TEST(AuthorizationTableTest, EveryMethodOfTheContractHasARow) {
  const std::filesystem::path api = std::filesystem::path(YIDI_SOURCE_DIR) / "api/yidi/v1";
  const std::regex service_re(R"(^service\s+(\w+))");
  const std::regex rpc_re(R"(^\s*rpc\s+(\w+)\s*\()");
  int methods = 0;
  for (const auto& entry : std::filesystem::directory_iterator(api)) {
    if (entry.path().extension() != ".proto") continue;
    std::ifstream in(entry.path());
    std::string line;
    std::string service;
    while (std::getline(in, line)) {
      std::smatch match;
      if (std::regex_search(line, match, service_re)) {
        service = match[1];
      } else if (!service.empty() && std::regex_search(line, match, rpc_re)) {
        const std::string method = absl::StrCat("/yidi.v1.", service, "/", match[1].str());
        EXPECT_NE(FindAuthorizationRule(method), nullptr)
            << method << " (" << entry.path().filename().string()
            << ") has no row in common/authorization.cc";
        ++methods;
      }
    }
  }
  EXPECT_GT(methods, 40);
}

}  // namespace
}  // namespace yidi
