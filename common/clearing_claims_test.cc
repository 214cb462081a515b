// Claims up the hierarchy on a real Store (SQLite in memory) and the shipped calendars: the
// treatment city's declaration (confirmed vs unconfirmed, withheld and released, reversals,
// replay), the receiving node's checks (malformed input naming the field with nothing stored,
// replay, ALREADY_EXISTS, the freeze and late declarations, too late), and the clearing node's
// comparison at the build (detail vs totals, detail vs its records, withheld and undeclared
// rows pending and released in a later month), with conservation and tracing. 1 元 = 100 fen.
#include "common/clearing_claims.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/ledger.h"
#include "common/prepayment.h"
#include "common/settlement_record.h"
#include "common/transfer_obligations.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using yidi::v1::ClaimBatch;
using yidi::v1::Clearing;
using yidi::v1::ClearingClaim;

constexpr int64_t kYuan = 100;

absl::Time At(absl::string_view day) {
  return absl::FromCivil(absl::CivilSecond(*ParseDate(day)) + 10 * 3600, ChinaStandardTime());
}

// One node's database; `region` says which node it is ("360100" a city, "360000" a province,
// "000000" national).
class Node {
 public:
  explicit Node(std::string region) {
    store_ = std::move(*OpenStore("sqlite::memory:"));
    std::vector<Migration> all = CommonMigrations();
    for (auto* more : {&LedgerMigrations, &TransferObligationMigrations, &PrepaymentMigrations,
                       &ClearingMigrations}) {
      for (auto& migration : (*more)()) all.push_back(migration);
    }
    EXPECT_TRUE(store_->Migrate(all).ok());
    calendar_ = std::move(*WorkingDayCalendar::LoadFiles(
        {absl::StrCat(YIDI_SOURCE_DIR, "/deploy/calendar/2025.textproto"),
         absl::StrCat(YIDI_SOURCE_DIR, "/deploy/calendar/2026.textproto")},
        &clock_));
    policy_ = NationalPrepaymentPolicy();
    node_.region = region;
    node_.calendar = &calendar_;
    node_.pooling_region_of = [](const std::string& code) { return code; };
    node_.issuer.kind = region == "000000" ? yidi::v1::NODE_KIND_NATIONAL
                                           : yidi::v1::NODE_KIND_PROVINCIAL;
    node_.issuer.region = region;
    node_.issuer.policy = &policy_;
    node_.issuer.calendar = &calendar_;
    node_.issuer.pooling_region_of = node_.pooling_region_of;
    city_.region = region;
    city_.pooling_region_of = node_.pooling_region_of;
  }

  // A settlement (negative: a reversal of `original`) of `date`, recorded on `recorded_on`
  // (default: that day), confirmed by its institution on `confirmed_on` ("" = not yet).
  void Record(const std::string& id, absl::string_view date, absl::string_view insured,
              absl::string_view treatment, int64_t yuan, absl::string_view confirmed_on,
              absl::string_view institution = "H1", bool resident = false,
              absl::string_view original = "", absl::string_view recorded_on = "") {
    SettlementRecord record;
    record.settlement_id = id;
    record.kind = yuan < 0 ? yidi::v1::SETTLEMENT_KIND_REVERSAL : yidi::v1::SETTLEMENT_KIND_NORMAL;
    record.original_settlement_id = std::string(original);
    record.request_digest = "d";
    record.state = yidi::v1::SETTLEMENT_STATE_SETTLED;
    record.insured_region = std::string(insured);
    record.treatment_region = std::string(treatment);
    record.institution_code = std::string(institution);
    record.insurance_type =
        resident ? yidi::v1::INSURANCE_TYPE_RESIDENT : yidi::v1::INSURANCE_TYPE_EMPLOYEE;
    yidi::v1::SettlementResult result;
    result.set_pooled_fund_fen(yuan * kYuan);
    result.set_fund_total_fen(yuan * kYuan);
    result.set_total_fen(yuan * kYuan);
    result.set_settlement_date(std::string(date));
    record.result = result;
    clock_.Set(At(recorded_on.empty() ? date : recorded_on));
    auto tx = *store_->Begin(TransactionMode::kWrite);
    EXPECT_TRUE(InsertSettlementRecord(*tx, record, clock_.Now()).ok());
    EXPECT_TRUE(Confirm(*tx, id, confirmed_on).ok());
    EXPECT_TRUE(tx->Commit().ok());
  }
  void Confirm(const std::string& id, absl::string_view day) {
    auto tx = *store_->Begin(TransactionMode::kWrite);
    EXPECT_TRUE(Confirm(*tx, id, day).ok());
    EXPECT_TRUE(tx->Commit().ok());
  }

  template <typename Body>
  auto Write(absl::string_view day, Body body) -> decltype(body(std::declval<Transaction&>())) {
    clock_.Set(At(day));
    node_.now = clock_.Now();
    node_.issuer.now = node_.now;
    city_.now = node_.now;
    auto tx = *store_->Begin(TransactionMode::kWrite);
    auto result = body(*tx);
    if (result.ok()) EXPECT_TRUE(tx->Commit().ok());
    return result;
  }

  absl::StatusOr<Declaration> Declare(absl::string_view day, absl::string_view month) {
    return Write(day, [&](Transaction& tx) { return DeclareClaims(tx, city_, month); });
  }
  absl::StatusOr<yidi::v1::SubmitClaimsResponse> Receive(absl::string_view day,
                                                         const ClaimBatch& batch) {
    return Write(day, [&](Transaction& tx) { return ReceiveClaims(tx, node_, batch); });
  }
  absl::StatusOr<Clearing> Run(absl::string_view day, absl::string_view month) {
    return Write(day, [&](Transaction& tx) { return RunClearing(tx, node_, month); });
  }
  absl::StatusOr<std::vector<std::string>> Trace(absl::string_view month,
                                                 absl::string_view insured,
                                                 absl::string_view treatment) {
    auto tx = *store_->Begin(TransactionMode::kRead);
    yidi::v1::TraceClearingRequest request;
    request.set_clearing_month(std::string(month));
    request.set_insured_region(std::string(insured));
    request.set_treatment_region(std::string(treatment));
    auto response = TraceClearing(*tx, node_, request);
    if (!response.ok()) return response.status();
    return std::vector<std::string>(response->settlement_ids().begin(),
                                    response->settlement_ids().end());
  }
  int64_t Count(const std::string& sql) {
    auto tx = *store_->Begin(TransactionMode::kRead);
    auto rows = tx->Query(sql, {});
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() && !rows->empty() ? rows->front().Int(0) : -1;
  }

  ClearingNode& node() { return node_; }
  ClaimsNode& city() { return city_; }

 private:
  static absl::Status Confirm(Transaction& tx, const std::string& id, absl::string_view day) {
    if (day.empty()) return absl::OkStatus();
    return tx
        .Execute("UPDATE settlement_record SET institution_confirmed_on = ? WHERE "
                 "settlement_id = ?",
                 {std::string(day), id})
        .status();
  }

  FakeClock clock_{At("2026-10-01")};
  std::unique_ptr<Store> store_;
  WorkingDayCalendar calendar_;
  yidi::v1::PrepaymentPolicy policy_;
  ClearingNode node_;
  ClaimsNode city_;
};

const ClearingClaim* ClaimFor(const ClaimBatch& batch, absl::string_view insured) {
  for (const ClearingClaim& claim : batch.claims()) {
    if (claim.insured_region() == insured) return &claim;
  }
  return nullptr;
}

int64_t Net(const Clearing& clearing, absl::string_view insured, absl::string_view treatment) {
  int64_t fen = 0;
  for (const auto& cell : clearing.cells()) {
    if (cell.insured_region() == insured && cell.treatment_region() == treatment) {
      fen += cell.net_fen();
    }
  }
  return fen;
}

// --- The treatment city declares ------------------------------------------------------------

TEST(DeclareClaimsTest, OnlyConfirmedSettlementsAreClaimedTheOthersWithheld) {
  Node city("360100");
  city.Record("A1", "2026-10-03", "210100", "360100", 300, "2026-10-04");
  city.Record("A2", "2026-10-05", "210100", "360100", 200, "2026-10-06", "H2", true);
  city.Record("A3", "2026-10-30", "210100", "360100", 50, "");       // not confirmed yet
  city.Record("B1", "2026-10-07", "500000", "360100", 80, "2026-10-08");
  city.Record("L1", "2026-10-07", "360100", "360100", 999, "2026-10-08");  // local: no claim
  city.Record("X1", "2026-10-07", "360100", "500000", 999, "");      // insured here: not ours
  city.Record("N1", "2026-11-02", "210100", "360100", 70, "2026-11-02");  // November

  auto declared = city.Declare("2026-11-03", "2026-10");
  ASSERT_TRUE(declared.ok()) << declared.status();
  const ClaimBatch& batch = declared->batch;
  EXPECT_EQ(batch.batch_id(), "D360100-202610");
  ASSERT_EQ(batch.claims_size(), 2);
  const ClearingClaim* liaoning = ClaimFor(batch, "210100");
  ASSERT_NE(liaoning, nullptr);
  EXPECT_EQ(liaoning->claim_id(), "360100-210100-202610");
  EXPECT_EQ(liaoning->settlement_count(), 2);
  EXPECT_EQ(liaoning->total_fen(), 500 * kYuan);
  ASSERT_EQ(liaoning->lines_size(), 2);  // H1 employees, H2 residents
  EXPECT_EQ(liaoning->lines(0).institution_code(), "H1");
  EXPECT_EQ(liaoning->lines(1).total_fen(), 200 * kYuan);
  EXPECT_TRUE(liaoning->lines(1).resident());
  EXPECT_THAT(liaoning->withheld_settlement_ids(), ElementsAre("A3"));
  EXPECT_EQ(ClaimFor(batch, "500000")->total_fen(), 80 * kYuan);
  EXPECT_EQ(batch.total_fen(), 580 * kYuan);
  EXPECT_EQ(batch.settlement_count(), 3);
  ASSERT_EQ(batch.declarations_size(), 1);
  EXPECT_EQ(city.Count("SELECT COUNT(*) FROM clearing_pending WHERE released_in = ''"), 1);

  // The same month again: the stored batch, nothing new.
  auto again = city.Declare("2026-11-04", "2026-10");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->batch.SerializeAsString(), batch.SerializeAsString());
  EXPECT_EQ(city.Count("SELECT COUNT(*) FROM claim_batch"), 1);
}

TEST(DeclareClaimsTest, WithTheSwitchOffEverySettlementIsClaimed) {
  Node city("360100");
  city.city().include_unconfirmed = true;
  city.Record("A1", "2026-10-03", "210100", "360100", 300, "2026-10-04");
  city.Record("A3", "2026-10-30", "210100", "360100", 50, "");
  auto declared = city.Declare("2026-11-03", "2026-10");
  ASSERT_TRUE(declared.ok());
  EXPECT_EQ(declared->batch.claims(0).total_fen(), 350 * kYuan);
  EXPECT_EQ(declared->batch.claims(0).withheld_settlement_ids_size(), 0);
}

TEST(DeclareClaimsTest, WithheldOnesAreReleasedOnceConfirmedAndReversalsFollowTheirOriginal) {
  Node city("360100");
  city.Record("A1", "2026-10-03", "210100", "360100", 300, "2026-10-04");
  city.Record("A3", "2026-10-30", "210100", "360100", 50, "");
  city.Record("A4", "2026-10-20", "210100", "360100", 40, "");
  // A4's reversal, confirmed: withheld with its original, or the refund would clear alone.
  city.Record("R4", "2026-10-21", "210100", "360100", -40, "2026-10-21", "H1", false, "A4");
  auto october = city.Declare("2026-11-02", "2026-10");
  ASSERT_TRUE(october.ok());
  const ClearingClaim* claim = ClaimFor(october->batch, "210100");
  EXPECT_EQ(claim->total_fen(), 300 * kYuan);
  EXPECT_EQ(claim->settlement_count(), 1);
  EXPECT_THAT(claim->withheld_settlement_ids(), UnorderedElementsAre("A3", "A4", "R4"));

  // A3 is confirmed in November (late for October): November's claim releases it; A4 stays.
  city.Confirm("A3", "2026-11-05");
  city.Record("N1", "2026-11-06", "210100", "360100", 70, "2026-11-06");
  auto november = city.Declare("2026-12-01", "2026-11");
  ASSERT_TRUE(november.ok());
  claim = ClaimFor(november->batch, "210100");
  EXPECT_THAT(claim->released_settlement_ids(), ElementsAre("A3"));
  EXPECT_EQ(claim->total_fen(), 120 * kYuan);  // N1 + A3
  EXPECT_EQ(claim->settlement_count(), 2);
  EXPECT_EQ(claim->withheld_settlement_ids_size(), 0);

  // A4 confirmed too: December releases it and its reversal together (net 0, two rows).
  city.Confirm("A4", "2026-12-02");
  auto december = city.Declare("2027-01-04", "2026-12");
  ASSERT_TRUE(december.ok());
  claim = ClaimFor(december->batch, "210100");
  ASSERT_NE(claim, nullptr);
  EXPECT_THAT(claim->released_settlement_ids(), UnorderedElementsAre("A4", "R4"));
  EXPECT_EQ(claim->total_fen(), 0);
  EXPECT_EQ(claim->settlement_count(), 2);
}

TEST(DeclareClaimsTest, PendingLongerThanTwoMonthsIsNotReleased) {
  Node city("360100");
  city.Record("A3", "2026-09-30", "210100", "360100", 50, "");
  ASSERT_TRUE(city.Declare("2026-10-02", "2026-09").ok());
  city.Confirm("A3", "2026-12-20");
  // Released by November at the latest (≤ 2 months); December is too late.
  auto december = city.Declare("2027-01-04", "2026-12");
  ASSERT_TRUE(december.ok());
  EXPECT_EQ(december->batch.claims_size(), 0);
  EXPECT_EQ(city.Count("SELECT COUNT(*) FROM clearing_pending WHERE released_in = ''"), 1);
}

TEST(DeclareClaimsTest, BadMonthOrAMonthNotOverIsRefusedAndNothingStored) {
  Node city("360100");
  city.Record("A1", "2026-10-03", "210100", "360100", 300, "2026-10-04");
  auto bad = city.Declare("2026-11-03", "2026-13");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("clearing_month"));
  auto early = city.Declare("2026-10-31", "2026-10");
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(city.Count("SELECT COUNT(*) FROM claim_batch"), 0);
}

// --- Receiving: the province -----------------------------------------------------------------

ClaimBatch CityBatch(absl::string_view month = "2026-10") {
  ClaimBatch batch;
  batch.set_batch_id(absl::StrCat("D360100-", month.substr(0, 4), month.substr(5)));
  batch.set_clearing_month(std::string(month));
  batch.set_from_region("360100");
  auto add = [&](absl::string_view insured, int64_t fen) {
    ClearingClaim& claim = *batch.add_claims();
    claim.set_claim_id(absl::StrCat("360100-", insured, "-", month));
    claim.set_clearing_month(std::string(month));
    claim.set_treatment_region("360100");
    claim.set_insured_region(std::string(insured));
    claim.set_settlement_count(1);
    claim.set_total_fen(fen);
    auto& line = *claim.add_lines();
    line.set_institution_code("H1");
    line.set_settlement_count(1);
    line.set_total_fen(fen);
  };
  add("210100", 300 * kYuan);  // cross-province: forwarded to national
  add("360700", 100 * kYuan);  // intra-province: the province clears it
  batch.set_settlement_count(2);
  batch.set_total_fen(400 * kYuan);
  auto& declared = *batch.add_declarations();
  declared.set_region("360100");
  declared.set_clearing_month(std::string(month));
  return batch;
}

TEST(ReceiveClaimsTest, MalformedBatchesNameTheFieldAndStoreNothing) {
  Node province("360000");
  struct Case {
    std::function<void(ClaimBatch&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](ClaimBatch& b) { b.clear_batch_id(); }, "batch.batch_id"},
      {[](ClaimBatch& b) { b.set_clearing_month("2026/10"); }, "batch.clearing_month"},
      {[](ClaimBatch& b) { b.set_from_region("210100"); }, "batch.from_region"},
      {[](ClaimBatch& b) { b.mutable_claims(0)->clear_claim_id(); }, "batch.claims[0].claim_id"},
      {[](ClaimBatch& b) { b.mutable_claims(1)->set_claim_id(b.claims(0).claim_id()); },
       "batch.claims[1].claim_id"},
      {[](ClaimBatch& b) { b.mutable_claims(0)->set_treatment_region("360700"); },
       "batch.claims[0].treatment_region"},
      {[](ClaimBatch& b) { b.mutable_claims(0)->set_insured_region("360100"); },
       "batch.claims[0].insured_region"},
      {[](ClaimBatch& b) { b.mutable_claims(0)->set_clearing_month("2026-06"); },
       "batch.claims[0].clearing_month"},
      {[](ClaimBatch& b) { b.mutable_claims(0)->mutable_lines(0)->clear_institution_code(); },
       "batch.claims[0].lines[0].institution_code"},
      {[](ClaimBatch& b) { b.set_total_fen(b.total_fen() + 1); }, "batch.total_fen"},
      {[](ClaimBatch& b) { b.mutable_declarations(0)->set_region("360700"); },
       "batch.declarations[0].region"},
  };
  for (const Case& c : cases) {
    ClaimBatch batch = CityBatch();
    c.mutate(batch);
    auto received = province.Receive("2026-11-03", batch);
    EXPECT_EQ(received.status().code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(std::string(received.status().message()), HasSubstr(c.field));
  }
  EXPECT_EQ(province.Count("SELECT COUNT(*) FROM claim_batch"), 0);
  EXPECT_EQ(province.Count("SELECT COUNT(*) FROM clearing_claim"), 0);
  EXPECT_EQ(province.Count("SELECT COUNT(*) FROM claim_forward"), 0);
  EXPECT_EQ(province.Count("SELECT COUNT(*) FROM clearing_declarant"), 0);
}

TEST(ReceiveClaimsTest, ReplayIsIdempotentAndOtherFiguresUnderTheSameIdAlreadyExist) {
  Node province("360000");
  auto first = province.Receive("2026-11-03", CityBatch());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->replayed());
  ASSERT_EQ(first->accepted_size(), 2);
  EXPECT_EQ(first->accepted(0).state(), yidi::v1::CLAIM_STATE_HELD);
  EXPECT_EQ(first->accepted(1).state(), yidi::v1::CLAIM_STATE_AWAITING_BUILD);
  EXPECT_EQ(first->accepted(0).cleared_in_month(), "2026-10");

  auto replay = province.Receive("2026-11-04", CityBatch());
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed());
  EXPECT_EQ(province.Count("SELECT COUNT(*) FROM claim_forward"), 1);
  EXPECT_EQ(province.Count("SELECT COUNT(*) FROM clearing_claim"), 1);

  ClaimBatch changed = CityBatch();
  changed.mutable_claims(0)->set_total_fen(1);
  changed.mutable_claims(0)->mutable_lines(0)->set_total_fen(1);
  changed.set_total_fen(1 + 100 * kYuan);
  auto conflict = province.Receive("2026-11-04", changed);
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(conflict.status().message()), HasSubstr("batch.batch_id"));
  // The same claim id in another batch with other figures.
  changed.set_batch_id("D360100-202610-2");
  conflict = province.Receive("2026-11-04", changed);
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(conflict.status().message()), HasSubstr("batch.claims[0].claim_id"));
  EXPECT_EQ(province.Count("SELECT COUNT(*) FROM claim_batch"), 1);
}

TEST(ReceiveClaimsTest, AfterTheFreezeABatchGoesToTheNextMonthAndNotBeyondTwo) {
  Node province("360000");
  ClaimBatch other = CityBatch();
  other.set_batch_id("D360700-202610");
  other.set_from_region("360700");
  other.mutable_claims(0)->set_claim_id("360700-210100-2026-10");
  other.mutable_claims(0)->set_treatment_region("360700");
  other.mutable_claims(1)->set_claim_id("360700-360100-2026-10");
  other.mutable_claims(1)->set_treatment_region("360700");
  other.mutable_claims(1)->set_insured_region("360100");
  other.mutable_declarations(0)->set_region("360700");
  ASSERT_TRUE(province.Receive("2026-11-10", other).ok());

  auto early = province.Write("2026-10-31", [&](Transaction& tx) {
    return FreezeClaims(tx, province.node(), "2026-10");
  });
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  auto frozen = province.Write("2026-11-15", [&](Transaction& tx) {
    return FreezeClaims(tx, province.node(), "2026-10");
  });
  ASSERT_TRUE(frozen.ok()) << frozen.status();
  EXPECT_EQ(frozen->batch.batch_id(), "F360000-202610");
  ASSERT_EQ(frozen->batch.claims_size(), 1);  // the cross-province one only
  EXPECT_EQ(frozen->batch.claims(0).insured_region(), "210100");
  EXPECT_EQ(frozen->batch.total_fen(), 300 * kYuan);
  ASSERT_EQ(frozen->batch.declarations_size(), 1);
  auto again = province.Write("2026-11-16", [&](Transaction& tx) {
    return FreezeClaims(tx, province.node(), "2026-10");
  });
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);

  // Nanchang declares after the freeze: its cross-province claim waits for November's batch.
  auto late = province.Receive("2026-11-17", CityBatch());
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(late->accepted(0).cleared_in_month(), "2026-11");
  EXPECT_EQ(late->accepted(1).cleared_in_month(), "2026-10");  // intra: not built yet

  province.Write("2026-12-01", [&](Transaction& tx) {
    return FreezeClaims(tx, province.node(), "2026-11");
  }).IgnoreError();
  province.Write("2027-01-01", [&](Transaction& tx) {
    return FreezeClaims(tx, province.node(), "2026-12");
  }).IgnoreError();
  // August's costs arriving after October's freeze would be cleared in November: too late.
  ClaimBatch august = CityBatch("2026-10");
  august.set_batch_id("D360100-late");
  for (auto& claim : *august.mutable_claims()) {
    claim.set_clearing_month("2026-08");
    claim.set_claim_id(claim.claim_id() + "-08");
  }
  august.mutable_declarations(0)->set_clearing_month("2026-08");
  auto too_late = province.Receive("2027-01-02", august);
  EXPECT_EQ(too_late.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(too_late.status().message()), HasSubstr("第47条"));
}

TEST(ReceiveClaimsTest, ChongqingsCityDeclaresToItsProvinceAndACityNodeReceivesNothing) {
  Node chongqing("500000");
  ClaimBatch batch;
  batch.set_batch_id("D500000-202610");
  batch.set_clearing_month("2026-10");
  batch.set_from_region("500000");  // the one city has the province's code
  ClearingClaim& claim = *batch.add_claims();
  claim.set_claim_id("500000-210100-202610");
  claim.set_clearing_month("2026-10");
  claim.set_treatment_region("500000");
  claim.set_insured_region("210100");
  auto received = chongqing.Receive("2026-11-03", batch);
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->accepted(0).state(), yidi::v1::CLAIM_STATE_HELD);

  chongqing.node().issuer.policy = nullptr;  // as ClearingNodeOf makes it at a municipal node
  batch.set_batch_id("D500000-202610-b");
  claim.set_claim_id("other");
  EXPECT_EQ(chongqing.Receive("2026-11-03", batch).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// --- The clearing node compares at the build --------------------------------------------------

ClaimBatch ProvinceBatch(const std::string& id, absl::string_view month,
                         std::vector<ClearingClaim> claims, absl::string_view cost_month = "") {
  ClaimBatch batch;
  batch.set_batch_id(id);
  batch.set_clearing_month(std::string(month));
  batch.set_from_region("360000");
  for (ClearingClaim& claim : claims) {
    batch.set_settlement_count(batch.settlement_count() + claim.settlement_count());
    batch.set_total_fen(batch.total_fen() + claim.total_fen());
    *batch.add_claims() = std::move(claim);
  }
  auto& declared = *batch.add_declarations();
  declared.set_region("360100");
  declared.set_clearing_month(std::string(cost_month.empty() ? month : cost_month));
  return batch;
}

ClearingClaim Claim(const std::string& id, absl::string_view month, absl::string_view insured,
                    std::vector<std::pair<int64_t, int64_t>> lines_count_fen,
                    std::vector<std::string> withheld = {},
                    std::vector<std::string> released = {}) {
  ClearingClaim claim;
  claim.set_claim_id(id);
  claim.set_clearing_month(std::string(month));
  claim.set_treatment_region("360100");
  claim.set_insured_region(std::string(insured));
  for (const auto& [count, fen] : lines_count_fen) {
    auto& line = *claim.add_lines();
    line.set_institution_code("H1");
    line.set_settlement_count(count);
    line.set_total_fen(fen);
    claim.set_settlement_count(claim.settlement_count() + count);
    claim.set_total_fen(claim.total_fen() + fen);
  }
  for (auto& id2 : withheld) claim.add_withheld_settlement_ids(id2);
  for (auto& id2 : released) claim.add_released_settlement_ids(id2);
  return claim;
}

TEST(ClaimsAtTheBuildTest, WithheldOnesWaitAndAreClearedWhenReleased) {
  Node national("000000");
  national.Record("A1", "2026-10-03", "210100", "360100", 300, "");
  national.Record("A3", "2026-10-30", "210100", "360100", 50, "");
  ASSERT_TRUE(national
                  .Receive("2026-11-15", ProvinceBatch("F360000-202610", "2026-10",
                                                       {Claim("C-10", "2026-10", "210100",
                                                              {{1, 300 * kYuan}}, {"A3"})}))
                  .ok());
  auto october = national.Run("2026-11-21", "2026-10");
  ASSERT_TRUE(october.ok()) << october.status();
  EXPECT_EQ(october->excluded_claims_size(), 0);
  EXPECT_EQ(Net(*october, "210100", "360100"), 300 * kYuan);
  EXPECT_TRUE(CheckConservation(*october, national.node()).ok());
  EXPECT_THAT(*national.Trace("2026-10", "210100", "360100"), ElementsAre("A1"));

  // November: A3 released (confirmed since) beside November's own N1.
  national.Record("N1", "2026-11-06", "210100", "360100", 70, "");
  ASSERT_TRUE(national
                  .Receive("2026-12-15", ProvinceBatch("F360000-202611", "2026-11",
                                                       {Claim("C-11", "2026-11", "210100",
                                                              {{2, 120 * kYuan}}, {}, {"A3"})}))
                  .ok());
  auto november = national.Run("2026-12-21", "2026-11");
  ASSERT_TRUE(november.ok()) << november.status();
  EXPECT_EQ(november->excluded_claims_size(), 0);
  EXPECT_EQ(Net(*november, "210100", "360100"), 120 * kYuan);
  EXPECT_TRUE(CheckConservation(*november, national.node()).ok());
  EXPECT_THAT(*national.Trace("2026-11", "210100", "360100"), ElementsAre("A3", "N1"));
  // Each settlement cleared exactly once across the two months.
  EXPECT_THAT(*national.Trace("2026-10", "210100", "360100"), ElementsAre("A1"));
}

TEST(ClaimsAtTheBuildTest, AClaimNotMatchingItsTotalsOrTheRecordsIsExcludedWithTheReason) {
  Node national("000000");
  national.Record("A1", "2026-10-03", "210100", "360100", 300, "");
  national.Record("B1", "2026-10-04", "500000", "360100", 80, "");
  ClearingClaim wrong_total = Claim("C-LN", "2026-10", "210100", {{1, 300 * kYuan}});
  wrong_total.set_total_fen(310 * kYuan);  // the summary says more than its lines
  ClearingClaim wrong_detail = Claim("C-CQ", "2026-10", "500000", {{1, 90 * kYuan}});
  ASSERT_TRUE(national
                  .Receive("2026-11-15", ProvinceBatch("F360000-202610", "2026-10",
                                                       {wrong_total, wrong_detail}))
                  .ok());
  auto october = national.Run("2026-11-21", "2026-10");
  ASSERT_TRUE(october.ok()) << october.status();
  ASSERT_EQ(october->excluded_claims_size(), 2);
  // In claim id order: C-CQ (the records differ), C-LN (the detail differs from its totals).
  EXPECT_THAT(october->excluded_claims(0).reason(),
              HasSubstr("recorded here: 1 settlements, 8000 fen"));
  EXPECT_THAT(october->excluded_claims(1).reason(), HasSubstr("does not match its totals"));
  EXPECT_EQ(Net(*october, "210100", "360100"), 0);
  EXPECT_EQ(Net(*october, "500000", "360100"), 0);
  EXPECT_TRUE(CheckConservation(*october, national.node()).ok());
  EXPECT_TRUE(national.Trace("2026-10", "500000", "360100")->empty());

  // The corrected claim, declared late (November's batch, costs of October), clears them.
  ClaimBatch corrected = ProvinceBatch(
      "F360000-202611", "2026-11", {Claim("C-CQ-2", "2026-10", "500000", {{1, 80 * kYuan}})},
      "2026-11");
  ASSERT_TRUE(national.Receive("2026-12-15", corrected).ok());
  auto november = national.Run("2026-12-21", "2026-11");
  ASSERT_TRUE(november.ok()) << november.status();
  EXPECT_EQ(november->excluded_claims_size(), 0);
  EXPECT_EQ(Net(*november, "500000", "360100"), 80 * kYuan);
  // Liaoning's pair was not re-declared: it waits (and November declared nothing for it).
  EXPECT_EQ(Net(*november, "210100", "360100"), 0);
  EXPECT_TRUE(CheckConservation(*november, national.node()).ok());
  EXPECT_THAT(*national.Trace("2026-11", "500000", "360100"), ElementsAre("B1"));
}

TEST(ClaimsAtTheBuildTest, ADeclaringCitysPairWithoutAClaimWaitsForItsLateClaim) {
  Node national("000000");
  national.Record("A1", "2026-10-03", "210100", "360100", 300, "");
  national.Record("B1", "2026-10-04", "500000", "360100", 80, "");
  national.Record("G1", "2026-10-04", "500000", "360700", 60, "");  // Ganzhou: never declares
  ASSERT_TRUE(national
                  .Receive("2026-11-15",
                           ProvinceBatch("F360000-202610", "2026-10",
                                         {Claim("C-LN", "2026-10", "210100", {{1, 300 * kYuan}})}))
                  .ok());
  auto october = national.Run("2026-11-21", "2026-10");
  ASSERT_TRUE(october.ok());
  EXPECT_EQ(Net(*october, "210100", "360100"), 300 * kYuan);
  EXPECT_EQ(Net(*october, "500000", "360100"), 0);   // undeclared: pending
  EXPECT_EQ(Net(*october, "500000", "360700"), 60 * kYuan);  // not in the claims process
  EXPECT_TRUE(CheckConservation(*october, national.node()).ok());

  ClaimBatch late = ProvinceBatch(
      "F360000-202611", "2026-11", {Claim("C-CQ", "2026-10", "500000", {{1, 80 * kYuan}})},
      "2026-11");
  ASSERT_TRUE(national.Receive("2026-12-15", late).ok());
  auto november = national.Run("2026-12-21", "2026-11");
  ASSERT_TRUE(november.ok());
  EXPECT_EQ(Net(*november, "500000", "360100"), 80 * kYuan);
  EXPECT_EQ(november->excluded_claims_size(), 0);
  EXPECT_TRUE(CheckConservation(*november, national.node()).ok());
}

TEST(ClaimsAtTheBuildTest, UnknownWithheldOrReleasedIdsExcludeTheClaim) {
  Node national("000000");
  national.Record("A1", "2026-10-03", "210100", "360100", 300, "");
  ASSERT_TRUE(national
                  .Receive("2026-11-15",
                           ProvinceBatch("F360000-202610", "2026-10",
                                         {Claim("C-LN", "2026-10", "210100", {{1, 300 * kYuan}},
                                                {"NOPE"})}))
                  .ok());
  auto october = national.Run("2026-11-21", "2026-10");
  ASSERT_TRUE(october.ok());
  ASSERT_EQ(october->excluded_claims_size(), 1);
  EXPECT_THAT(october->excluded_claims(0).reason(), HasSubstr("withholds settlement NOPE"));
  EXPECT_TRUE(CheckConservation(*october, national.node()).ok());
}

TEST(ClaimsAtTheBuildTest, TheProvinceClearsItsCitiesClaimsTheSameWay) {
  Node province("360000");
  province.Record("I1", "2026-10-03", "360700", "360100", 100, "");
  province.Record("I2", "2026-10-04", "360700", "360100", 20, "");
  ClaimBatch batch = CityBatch();
  batch.mutable_claims(1)->add_withheld_settlement_ids("I2");
  ASSERT_TRUE(province.Receive("2026-11-03", batch).ok());
  auto october = province.Run("2026-11-21", "2026-10");
  ASSERT_TRUE(october.ok()) << october.status();
  EXPECT_EQ(october->excluded_claims_size(), 0);
  EXPECT_EQ(Net(*october, "360700", "360100"), 100 * kYuan);
  EXPECT_TRUE(CheckConservation(*october, province.node()).ok());
  auto tx = province.Write("2026-11-22", [&](Transaction& tx) {
    return ListClaims(tx, "2026-10", false);
  });
  ASSERT_TRUE(tx.ok());
  ASSERT_EQ(tx->claims_size(), 2);
  EXPECT_EQ(tx->claims(0).state(), yidi::v1::CLAIM_STATE_HELD);     // cross: not frozen yet
  EXPECT_EQ(tx->claims(1).state(), yidi::v1::CLAIM_STATE_CLEARED);  // intra
  EXPECT_EQ(tx->pending_count(), 1);
}

}  // namespace
}  // namespace yidi
