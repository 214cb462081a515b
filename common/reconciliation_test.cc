// Unit tests of daily reconciliation: the sides of a pair, the totals comparison, the
// classification of differences and the choice of the authority (table tests), and the store
// part on an in-memory SQLite database (day totals and detail, corrections and their
// idempotency, institution totals, bad input storing nothing).
#include "common/reconciliation.h"

#include <map>
#include <set>
#include <string>

#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/reconciliation_store.h"
#include "common/settlement_record.h"
#include "common/status_macros.h"
#include "common/store/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using yidi::v1::DayDetailEntry;
using yidi::v1::SettlementState;

constexpr auto kSettled = yidi::v1::SETTLEMENT_STATE_SETTLED;
constexpr auto kReversed = yidi::v1::SETTLEMENT_STATE_REVERSED;
constexpr auto kInDoubt = yidi::v1::SETTLEMENT_STATE_IN_DOUBT;
constexpr auto kVoided = yidi::v1::SETTLEMENT_STATE_VOIDED;
constexpr auto kNormal = yidi::v1::SETTLEMENT_KIND_NORMAL;
constexpr auto kReversal = yidi::v1::SETTLEMENT_KIND_REVERSAL;

// ---------------------------------------------------------------------------------------------
// Sides of a pair.

DirectoryIndex TestDirectory() {
  yidi::v1::Directory directory;
  auto add = [&](yidi::v1::NodeKind kind, const char* code) {
    auto* region = directory.add_regions();
    region->set_kind(kind);
    region->set_code(code);
    region->set_address("127.0.0.1:1");
  };
  add(yidi::v1::NODE_KIND_NATIONAL, "000000");
  add(yidi::v1::NODE_KIND_PROVINCIAL, "360000");
  add(yidi::v1::NODE_KIND_PROVINCIAL, "500000");
  add(yidi::v1::NODE_KIND_MUNICIPAL, "360100");
  add(yidi::v1::NODE_KIND_MUNICIPAL, "360700");
  add(yidi::v1::NODE_KIND_MUNICIPAL, "500000");
  auto built = DirectoryIndex::Build(directory);
  YIDI_CHECK(built.ok(), "the test directory is valid");
  return *built;
}

std::string Names(const std::vector<ReconciliationNode>& sides) {
  std::string text;
  for (const auto& side : sides) absl::StrAppend(&text, text.empty() ? "" : ", ", NameOfNode(side));
  return text;
}

TEST(PairSidesTest, EachNodeKindAndPair) {
  const DirectoryIndex directory = TestDirectory();
  const NodeIdentity national{yidi::v1::NODE_KIND_NATIONAL, "000000"};
  const NodeIdentity jiangxi{yidi::v1::NODE_KIND_PROVINCIAL, "360000"};
  const NodeIdentity chongqing{yidi::v1::NODE_KIND_PROVINCIAL, "500000"};
  const NodeIdentity nanchang{yidi::v1::NODE_KIND_MUNICIPAL, "360100"};
  struct Case {
    NodeIdentity self;
    PairKey pair;  // insured, treatment
    std::string sides;
  } cases[] = {
      // Cross-province at national: treatment province, national, insured province.
      {national, {"360100", "500000"}, "provincial 500000, national, provincial 360000"},
      // Intra-province traffic never reaches national.
      {national, {"360100", "360700"}, ""},
      // A province as treatment side (Chongqing's city is its province-level pool).
      {chongqing, {"360100", "500000"}, "municipal 500000, provincial 500000"},
      // A province as insured side.
      {jiangxi, {"360100", "500000"}, "provincial 360000, municipal 360100"},
      // Intra-province: treatment city, province, insured city.
      {jiangxi, {"360100", "360700"}, "municipal 360700, provincial 360000, municipal 360100"},
      // Local to one city: never relayed.
      {jiangxi, {"360100", "360100"}, ""},
      // Not this province's pair.
      {jiangxi, {"500000", "210100"}, ""},
      // A municipal node runs nothing.
      {nanchang, {"360100", "500000"}, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.self.region_code, " ", c.pair.insured_region, "<-",
                              c.pair.treatment_region));
    EXPECT_EQ(Names(PairSides(c.self, directory, c.pair)), c.sides);
  }
}

// ---------------------------------------------------------------------------------------------
// Totals.

PairTotals Totals(std::initializer_list<std::tuple<SettlementState, int64_t, int64_t>> groups) {
  PairTotals totals;
  for (const auto& [state, count, total] : groups) {
    totals[{state, kNormal}] = DayAmounts{count, total, total / 2, 0, total - total / 2};
  }
  return totals;
}

TEST(PairNeedsDetailTest, Table) {
  const PairTotals a = Totals({{kSettled, 3, 30000}});
  const PairTotals same = Totals({{kSettled, 3, 30000}});
  const PairTotals fewer = Totals({{kSettled, 2, 20000}});
  const PairTotals other_amount = Totals({{kSettled, 3, 30001}});
  const PairTotals with_doubt = Totals({{kSettled, 3, 30000}, {kInDoubt, 1, 0}});
  EXPECT_FALSE(PairNeedsDetail({&a, &same, &same}));
  EXPECT_TRUE(PairNeedsDetail({&a, &fewer, &same}));
  EXPECT_TRUE(PairNeedsDetail({&a, &other_amount}));
  EXPECT_TRUE(PairNeedsDetail({&a, nullptr, &same}));  // a side without the pair
  EXPECT_FALSE(PairNeedsDetail({nullptr, nullptr}));
  // Equal totals that hold an unknown outcome still need detail: equality would hide it.
  EXPECT_TRUE(PairNeedsDetail({&with_doubt, &with_doubt, &with_doubt}));
}

TEST(DayTotalsFromProtoTest, GroupsByPairStateAndKind) {
  yidi::v1::GetDayTotalsResponse response;
  auto* g = response.add_groups();
  g->set_insured_region("360100");
  g->set_treatment_region("500000");
  g->set_state(kSettled);
  g->set_kind(kNormal);
  g->set_count(2);
  g->set_total_fen(500);
  const DayTotals totals = DayTotalsFromProto(response);
  ASSERT_EQ(totals.size(), 1u);
  const auto& pair = totals.at(PairKey{"360100", "500000"});
  EXPECT_EQ(pair.at({kSettled, kNormal}).count, 2);
  EXPECT_EQ(pair.at({kSettled, kNormal}).total_fen, 500);
}

// ---------------------------------------------------------------------------------------------
// Classification and authority.

DayDetailEntry Entry(const std::string& id, SettlementState state, int64_t total,
                     yidi::v1::SettlementKind kind = kNormal) {
  DayDetailEntry entry;
  entry.set_settlement_id(id);
  entry.set_state(state);
  entry.set_kind(kind);
  entry.set_total_fen(total);
  entry.set_fund_total_fen(total / 2);
  entry.set_cash_fen(total - total / 2);
  return entry;
}

using Side = std::map<std::string, DayDetailEntry>;

TEST(ClassifyDifferencesTest, Table) {
  // Three sides: treatment province, national, insured province.
  Side treatment, national, insured;
  auto all = [&](const DayDetailEntry& e) {
    treatment[e.settlement_id()] = national[e.settlement_id()] = insured[e.settlement_id()] = e;
  };
  all(Entry("A-agree", kSettled, 1000));
  // Missing at national (a relay's crash gap).
  treatment["B-missing"] = insured["B-missing"] = Entry("B-missing", kSettled, 2000);
  // Amount altered at the insured side.
  all(Entry("C-amount", kSettled, 3000));
  insured["C-amount"] = Entry("C-amount", kSettled, 3100);
  // Reversal recorded at the treatment side only: original REVERSED there, reversal missing.
  all(Entry("D-orig", kSettled, 4000));
  treatment["D-orig"] = Entry("D-orig", kReversed, 4000);
  treatment["D-rev"] = Entry("D-rev", kSettled, -4000, kReversal);
  // Reply lost: IN_DOUBT at the treatment side (no amounts), settled further on.
  all(Entry("E-doubt", kSettled, 5000));
  treatment["E-doubt"] = Entry("E-doubt", kInDoubt, 0);
  // IN_DOUBT everywhere: equal, yet unknown.
  all(Entry("F-doubt-all", kInDoubt, 0));
  // Voided at one side, settled at the others.
  all(Entry("G-voided", kSettled, 7000));
  national["G-voided"] = Entry("G-voided", kVoided, 7000);

  const auto differences = ClassifyDifferences(
      {&treatment, &national, &insured}, {"provincial 500000", "national", "provincial 360000"});
  std::map<std::string, yidi::v1::DifferenceKind> kinds;
  for (const auto& d : differences) kinds[d.settlement_id] = d.kind;
  EXPECT_EQ(kinds, (std::map<std::string, yidi::v1::DifferenceKind>{
                       {"B-missing", yidi::v1::DIFFERENCE_KIND_MISSING},
                       {"C-amount", yidi::v1::DIFFERENCE_KIND_AMOUNTS_DIFFER},
                       {"D-orig", yidi::v1::DIFFERENCE_KIND_REVERSED_ONE_SIDE},
                       {"D-rev", yidi::v1::DIFFERENCE_KIND_REVERSED_ONE_SIDE},
                       {"E-doubt", yidi::v1::DIFFERENCE_KIND_IN_DOUBT},
                       {"F-doubt-all", yidi::v1::DIFFERENCE_KIND_IN_DOUBT},
                       {"G-voided", yidi::v1::DIFFERENCE_KIND_STATE_DIFFERS},
                   }));
  for (const auto& d : differences) {
    ASSERT_EQ(d.records.size(), 3u);
    if (d.settlement_id == "B-missing") {
      EXPECT_FALSE(d.records[1].has_value());
      EXPECT_THAT(d.detail, HasSubstr("national: missing"));
      EXPECT_THAT(d.detail, HasSubstr("provincial 500000: SETTLED 20.00"));
    }
  }
}

std::optional<DayDetailEntry> Opt(SettlementState state, int64_t total = 100) {
  return Entry("X", state, total);
}

TEST(ChooseAuthorityTest, Table) {
  const std::optional<DayDetailEntry> missing;
  struct Case {
    std::vector<std::optional<DayDetailEntry>> records;
    bool ask_owner;
    int side;
  } cases[] = {
      // The treatment side knows: it prevails, even against the others.
      {{Opt(kSettled, 100), Opt(kSettled, 120), Opt(kSettled, 120)}, false, 0},
      {{Opt(kReversed), Opt(kSettled), missing}, false, 0},
      {{Opt(kVoided), Opt(kSettled), Opt(kSettled)}, false, 0},
      // Treatment side in doubt or missing: the definitive record nearest the insured side.
      {{Opt(kInDoubt), Opt(kSettled), Opt(kSettled)}, false, 2},
      {{missing, Opt(kSettled), missing}, false, 1},
      {{Opt(kInDoubt), Opt(kSettled), Opt(kInDoubt)}, false, 1},
      // Nobody knows: ask the owner.
      {{Opt(kInDoubt), Opt(kInDoubt), Opt(kInDoubt)}, true, -1},
      {{Opt(kInDoubt), missing}, true, -1},
  };
  int i = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(i++);
    const Authority authority = ChooseAuthority(c.records);
    EXPECT_EQ(authority.ask_owner, c.ask_owner);
    EXPECT_EQ(authority.side, c.side);
  }
}

TEST(AgreesWithTest, Table) {
  const std::optional<DayDetailEntry> none;
  EXPECT_TRUE(AgreesWith(Opt(kSettled, 100), Opt(kSettled, 100)));
  EXPECT_FALSE(AgreesWith(Opt(kSettled, 100), Opt(kSettled, 101)));
  EXPECT_FALSE(AgreesWith(none, Opt(kSettled)));
  EXPECT_FALSE(AgreesWith(Opt(kSettled), Opt(kReversed)));
  // Never committed: missing and VOIDED agree, anything else does not.
  EXPECT_TRUE(AgreesWith(none, none));
  EXPECT_TRUE(AgreesWith(Opt(kVoided), none));
  EXPECT_FALSE(AgreesWith(Opt(kInDoubt), none));
  EXPECT_TRUE(AgreesWith(none, Opt(kVoided)));
  EXPECT_FALSE(AgreesWith(Opt(kSettled), Opt(kVoided)));
}

TEST(CorrectionIdTest, DeterministicAndDistinct) {
  const ReconciliationNode national{yidi::v1::NODE_KIND_NATIONAL, "000000"};
  const ReconciliationNode jiangxi{yidi::v1::NODE_KIND_PROVINCIAL, "360000"};
  const auto supplement = yidi::v1::CORRECTION_ACTION_SUPPLEMENT;
  EXPECT_EQ(CorrectionIdFor("2026-11-22", "S1", national, supplement, kSettled),
            CorrectionIdFor("2026-11-22", "S1", national, supplement, kSettled));
  EXPECT_NE(CorrectionIdFor("2026-11-22", "S1", national, supplement, kSettled),
            CorrectionIdFor("2026-11-22", "S1", jiangxi, supplement, kSettled));
  EXPECT_NE(CorrectionIdFor("2026-11-22", "S1", national, supplement, kSettled),
            CorrectionIdFor("2026-11-22", "S1", national, supplement, kReversed));
  EXPECT_LE(CorrectionIdFor("2026-11-22", std::string(kSettlementIdLengthMax, 'x'), national,
                            supplement, kSettled)
                .size(),
            static_cast<size_t>(kCorrectionIdLengthMax));
}

// ---------------------------------------------------------------------------------------------
// Store.

constexpr char kDay[] = "2026-11-22";
// 2026-11-22 15:00 CST.
absl::Time DayTime() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 22, 15, 0, 0), ChinaStandardTime());
}

yidi::v1::SettlementResult Result(const std::string& id, int64_t total, int64_t fund,
                                  int64_t account, const std::string& institution = "H50000000001",
                                  const std::string& day = kDay) {
  yidi::v1::SettlementResult r;
  r.set_settlement_id(id);
  r.set_kind(kNormal);
  r.set_state(kSettled);
  r.set_insured_region("360100");
  r.set_treatment_region("500000");
  r.set_institution_code(institution);
  r.set_insurance_type(yidi::v1::INSURANCE_TYPE_EMPLOYEE);
  r.set_total_fen(total);
  r.set_in_scope_fen(total);
  r.set_pooled_fund_fen(fund);
  r.set_fund_total_fen(fund);
  r.set_personal_account_fen(account);
  r.set_cash_fen(total - fund - account);
  r.set_person_part_fen(total - fund);
  r.set_slip_fund_total_fen(fund + account);
  auto* payment = r.add_fund_payments();
  payment->set_name("统筹基金");
  payment->set_amount_fen(fund + account);
  r.set_settlement_date(day);
  return r;
}

class ReconciliationStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenStore("sqlite::memory:");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    std::vector<Migration> all = CommonMigrations();
    for (auto& m : ReconciliationMigrations()) all.push_back(std::move(m));
    ASSERT_TRUE(store_->Migrate(all).ok());
  }

  void Insert(const yidi::v1::SettlementResult& result, SettlementState state = kSettled,
              absl::Time at = DayTime()) {
    SettlementRecord record;
    record.settlement_id = result.settlement_id();
    record.kind = result.kind();
    record.request_digest = "digest";
    record.state = state;
    record.insured_region = result.insured_region();
    record.treatment_region = result.treatment_region();
    record.institution_code = result.institution_code();
    record.insurance_type = result.insurance_type();
    record.result = result;
    auto tx = store_->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(InsertSettlementRecord(**tx, record, at).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  // A record without a result (IN_DOUBT at a relay).
  void InsertUnknown(const std::string& id, absl::Time at) {
    SettlementRecord record;
    record.settlement_id = id;
    record.request_digest = "digest";
    record.state = kInDoubt;
    record.insured_region = "360100";
    record.treatment_region = "500000";
    record.institution_code = "H50000000001";
    auto tx = store_->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(InsertSettlementRecord(**tx, record, at).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }

  yidi::v1::GetDayTotalsResponse Totals(const std::string& counterparty = "") {
    yidi::v1::GetDayTotalsRequest request;
    request.set_day(kDay);
    request.set_counterparty(counterparty);
    auto tx = store_->Begin(TransactionMode::kRead);
    auto totals = ReadDayTotals(**tx, request);
    EXPECT_TRUE(totals.ok()) << totals.status();
    return totals.ok() ? *totals : yidi::v1::GetDayTotalsResponse();
  }

  absl::StatusOr<yidi::v1::ApplyCorrectionResponse> Apply(
      const yidi::v1::ApplyCorrectionRequest& request) {
    RETURN_IF_ERROR(ValidateApplyCorrection(request));
    ASSIGN_OR_RETURN(auto tx, store_->Begin(TransactionMode::kWrite));
    ASSIGN_OR_RETURN(auto response, ApplyCorrectionInTransaction(*tx, request, DayTime()));
    RETURN_IF_ERROR(tx->Commit());
    return response;
  }

  int64_t Count(const std::string& sql) {
    auto tx = store_->Begin(TransactionMode::kRead);
    auto rows = (*tx)->Query(sql);
    return rows.ok() ? rows->front().Int(0) : -1;
  }

  std::unique_ptr<Store> store_;
};

TEST_F(ReconciliationStoreTest, DayTotalsGroupAndCountUndatedRecordsOnTheirCreationDay) {
  Insert(Result("S1", 10000, 6000, 1000));
  Insert(Result("S2", 20000, 12000, 0));
  Insert(Result("S3", 5000, 3000, 0, "H50000000001", "2026-11-21"));  // another day
  InsertUnknown("S4", DayTime());                                     // undated, that day
  InsertUnknown("S5", DayTime() + absl::Hours(12));                   // undated, next day
  const auto totals = Totals();
  ASSERT_EQ(totals.groups_size(), 2);
  EXPECT_EQ(totals.groups(0).state(), kSettled);
  EXPECT_EQ(totals.groups(0).count(), 2);
  EXPECT_EQ(totals.groups(0).total_fen(), 30000);
  EXPECT_EQ(totals.groups(0).fund_total_fen(), 18000);
  EXPECT_EQ(totals.groups(0).personal_account_fen(), 1000);
  EXPECT_EQ(totals.groups(0).cash_fen(), 11000);
  EXPECT_EQ(totals.groups(1).state(), kInDoubt);
  EXPECT_EQ(totals.groups(1).count(), 1);
  // Counterparty filters: the province takes its cities, another region nothing.
  EXPECT_EQ(Totals("360000").groups_size(), 2);
  EXPECT_EQ(Totals("360100").groups_size(), 2);
  EXPECT_EQ(Totals("210000").groups_size(), 0);
}

TEST_F(ReconciliationStoreTest, DayTotalsPageByWholeKeysAndTheirConcatenationIsTheDay) {
  // 7 institutions × (a settled record, and for some a reversed one and an undated IN_DOUBT
  // one): more keys than one page, and keys with several groups that must not be split.
  for (int i = 0; i < 7; ++i) {
    const std::string institution = absl::StrCat("H5000000000", i);
    Insert(Result(absl::StrCat("S", i), 1000 + i, 500, 0, institution));
    if (i % 2 == 0) Insert(Result(absl::StrCat("R", i), 2000 + i, 900, 0, institution), kReversed);
    if (i % 3 == 0) {
      auto tx = store_->Begin(TransactionMode::kWrite);
      SettlementRecord record;
      record.settlement_id = absl::StrCat("D", i);
      record.state = kInDoubt;
      record.insured_region = "360100";
      record.treatment_region = "500000";
      record.institution_code = institution;
      ASSERT_TRUE(InsertSettlementRecord(**tx, record, DayTime()).ok());
      ASSERT_TRUE((*tx)->Commit().ok());
    }
  }
  Insert(Result("X", 100, 50, 0, "H50000000009", "2026-11-21"));  // another day: not counted
  const yidi::v1::GetDayTotalsResponse whole = Totals();
  ASSERT_TRUE(whole.next_page_token().empty());
  ASSERT_EQ(whole.groups_size(), 7 + 4 + 3);
  for (int page_size : {1, 2, 3, 6, 7, 8}) {
    yidi::v1::GetDayTotalsRequest request;
    request.set_day(kDay);
    request.set_page_size(page_size);
    yidi::v1::GetDayTotalsResponse concatenated;
    int pages = 0;
    while (true) {
      ASSERT_TRUE(ValidateGetDayTotals(request).ok());
      auto tx = store_->Begin(TransactionMode::kRead);
      auto page = ReadDayTotals(**tx, request);
      ASSERT_TRUE(page.ok()) << page.status();
      ++pages;
      std::set<std::string> keys;
      for (const auto& group : page->groups()) {
        keys.insert(group.institution_code());
        *concatenated.add_groups() = group;
      }
      EXPECT_LE(keys.size(), static_cast<size_t>(page_size));
      if (page->next_page_token().empty()) break;
      EXPECT_EQ(keys.size(), static_cast<size_t>(page_size)) << "only the last page is short";
      request.set_page_token(page->next_page_token());
    }
    EXPECT_EQ(pages, (7 + page_size - 1) / page_size) << page_size;
    ASSERT_EQ(concatenated.groups_size(), whole.groups_size()) << page_size;
    for (int i = 0; i < whole.groups_size(); ++i) {
      EXPECT_EQ(concatenated.groups(i).SerializeAsString(), whole.groups(i).SerializeAsString())
          << "page size " << page_size << ", group " << i;
    }
  }
  // Bad paging input names the field.
  yidi::v1::GetDayTotalsRequest bad;
  bad.set_day(kDay);
  bad.set_page_size(kDayTotalsPageSizeMax + 1);
  EXPECT_THAT(ValidateGetDayTotals(bad).message(), HasSubstr("page_size"));
  bad.set_page_size(-1);
  EXPECT_THAT(ValidateGetDayTotals(bad).message(), HasSubstr("page_size"));
  bad.set_page_size(0);
  for (const char* token : {"garbage", "36010|500000|H1", "360100|500000", "a|b|c|d"}) {
    bad.set_page_token(token);
    EXPECT_EQ(ValidateGetDayTotals(bad).code(), absl::StatusCode::kInvalidArgument) << token;
    EXPECT_THAT(ValidateGetDayTotals(bad).message(), HasSubstr("page_token")) << token;
  }
  bad.set_page_token("360100|500000|H50000000003");
  EXPECT_TRUE(ValidateGetDayTotals(bad).ok());
}

TEST_F(ReconciliationStoreTest, DetailPagesInIdOrder) {
  for (int i = 0; i < 7; ++i) Insert(Result(absl::StrCat("S", i), 1000 + i, 500, 0));
  InsertUnknown("S3x", DayTime());
  yidi::v1::GetDayDetailRequest request;
  request.set_day(kDay);
  request.set_insured_region("360100");
  request.set_treatment_region("500000");
  request.set_page_size(3);
  std::vector<std::string> ids;
  int pages = 0;
  while (true) {
    ASSERT_TRUE(ValidateGetDayDetail(request).ok());
    auto tx = store_->Begin(TransactionMode::kRead);
    auto page = ReadDayDetail(**tx, request);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    for (const auto& e : page->entries()) ids.push_back(e.settlement_id());
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(ids, ElementsAre("S0", "S1", "S2", "S3", "S3x", "S4", "S5", "S6"));
}

TEST_F(ReconciliationStoreTest, SupplementInsertsMissingRecordAndReplays) {
  yidi::v1::ApplyCorrectionRequest request;
  request.set_correction_id("C1");
  request.set_settlement_id("S9");
  request.set_action(yidi::v1::CORRECTION_ACTION_SUPPLEMENT);
  request.set_state(kSettled);
  *request.mutable_result() = Result("S9", 10000, 6000, 1000);
  request.set_request_digest("d9");
  request.set_institution_confirmed_on(kDay);
  request.set_reason("MISSING");
  auto first = Apply(request);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->replayed());
  EXPECT_EQ(first->previous_state(), yidi::v1::SETTLEMENT_STATE_UNSPECIFIED);
  EXPECT_EQ(first->state(), kSettled);
  // The same correction again: replayed, nothing applied twice.
  auto second = Apply(request);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->replayed());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM reconciliation_correction"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM settlement_record WHERE institution_confirmed_on = "
                  "'2026-11-22' AND total_fen = 10000"),
            1);
  // The same id for another settlement is refused, naming the field.
  request.set_settlement_id("S10");
  *request.mutable_result() = Result("S10", 100, 0, 0);
  auto reused = Apply(request);
  EXPECT_EQ(reused.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(reused.status().message(), HasSubstr("correction_id"));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM settlement_record"), 1);
}

TEST_F(ReconciliationStoreTest, SupplementOverwritesAmountsAndOffsetVoids) {
  Insert(Result("S1", 10000, 6000, 1000));
  {
    auto tx = store_->Begin(TransactionMode::kWrite);
    ASSERT_TRUE((*tx)->Execute("UPDATE settlement_record SET total_fen = 99 WHERE "
                               "settlement_id = 'S1'").ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  yidi::v1::ApplyCorrectionRequest supplement;
  supplement.set_correction_id("C1");
  supplement.set_settlement_id("S1");
  supplement.set_action(yidi::v1::CORRECTION_ACTION_SUPPLEMENT);
  supplement.set_state(kSettled);
  *supplement.mutable_result() = Result("S1", 10000, 6000, 1000);
  auto applied = Apply(supplement);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(Count("SELECT total_fen FROM settlement_record WHERE settlement_id = 'S1'"), 10000);
  EXPECT_EQ(Count("SELECT previous_total_fen FROM reconciliation_correction"), 99);

  yidi::v1::ApplyCorrectionRequest offset;
  offset.set_correction_id("C2");
  offset.set_settlement_id("S1");
  offset.set_action(yidi::v1::CORRECTION_ACTION_OFFSET);
  ASSERT_TRUE(Apply(offset).ok());
  EXPECT_EQ(Count("SELECT state FROM settlement_record WHERE settlement_id = 'S1'"), kVoided);
  // 冲减 of a record this node never had leaves a tombstone.
  offset.set_correction_id("C3");
  offset.set_settlement_id("S2");
  offset.set_insured_region("360100");
  offset.set_treatment_region("500000");
  ASSERT_TRUE(Apply(offset).ok());
  EXPECT_EQ(Count("SELECT state FROM settlement_record WHERE settlement_id = 'S2'"), kVoided);
}

TEST_F(ReconciliationStoreTest, BadCorrectionsNameTheFieldAndStoreNothing) {
  yidi::v1::ApplyCorrectionRequest good;
  good.set_correction_id("C1");
  good.set_settlement_id("S1");
  good.set_action(yidi::v1::CORRECTION_ACTION_SUPPLEMENT);
  good.set_state(kSettled);
  *good.mutable_result() = Result("S1", 10000, 6000, 1000);
  struct Case {
    std::function<void(yidi::v1::ApplyCorrectionRequest&)> mutate;
    std::string field;
  } cases[] = {
      {[](auto& r) { r.clear_correction_id(); }, "correction_id"},
      {[](auto& r) { r.set_correction_id(std::string(kCorrectionIdLengthMax + 1, 'c')); },
       "correction_id"},
      {[](auto& r) { r.clear_settlement_id(); }, "settlement_id"},
      {[](auto& r) { r.set_action(yidi::v1::CORRECTION_ACTION_UNSPECIFIED); }, "action"},
      {[](auto& r) { r.set_state(kInDoubt); }, "state"},
      {[](auto& r) { r.clear_result(); }, "result"},
      {[](auto& r) { r.mutable_result()->set_settlement_id("S2"); }, "result.settlement_id"},
      {[](auto& r) { r.mutable_result()->set_cash_fen(1); }, "result"},
      {[](auto& r) { r.mutable_result()->set_settlement_date("22/11/2026"); },
       "result.settlement_date"},
      {[](auto& r) { r.set_institution_confirmed_on("yesterday"); }, "institution_confirmed_on"},
      {[](auto& r) { r.set_reason(std::string(kReconciliationReasonLengthMax + 1, 'r')); },
       "reason"},
  };
  for (const Case& c : cases) {
    yidi::v1::ApplyCorrectionRequest request = good;
    c.mutate(request);
    auto applied = Apply(request);
    EXPECT_EQ(applied.status().code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(std::string(applied.status().message()), ::testing::StartsWith(c.field + ":"));
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM settlement_record"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM reconciliation_correction"), 0);
  EXPECT_TRUE(Apply(good).ok());
}

TEST_F(ReconciliationStoreTest, InstitutionTotalsMatchConfirmsAndMismatchListsDifferences) {
  Insert(Result("S1", 10000, 6000, 1000));
  Insert(Result("S2", 20000, 12000, 0));
  Insert(Result("S3", 7000, 3000, 0, "H50000000002"));  // another institution
  auto submit = [&](const yidi::v1::SubmitInstitutionDayTotalsRequest& request)
      -> absl::StatusOr<yidi::v1::SubmitInstitutionDayTotalsResponse> {
    ASSIGN_OR_RETURN(auto tx, store_->Begin(TransactionMode::kWrite));
    ASSIGN_OR_RETURN(auto response,
                     SubmitInstitutionDayTotalsInTransaction(*tx, request, "500000", DayTime()));
    RETURN_IF_ERROR(tx->Commit());
    return response;
  };
  yidi::v1::SubmitInstitutionDayTotalsRequest wrong;
  wrong.set_request_id("R1");
  wrong.set_institution_code("H50000000001");
  wrong.set_day(kDay);
  wrong.set_count(2);
  wrong.set_total_fen(30500);
  wrong.set_fund_total_fen(18000);
  wrong.set_personal_account_fen(1000);
  auto* d1 = wrong.add_details();
  d1->set_settlement_id("S1");
  d1->set_total_fen(10500);
  auto* d9 = wrong.add_details();
  d9->set_settlement_id("S9");
  d9->set_total_fen(20000);
  auto mismatch = submit(wrong);
  ASSERT_TRUE(mismatch.ok()) << mismatch.status();
  EXPECT_FALSE(mismatch->matched());
  EXPECT_EQ(mismatch->total_fen(), 30000);
  std::map<std::string, std::string> reasons;
  for (const auto& d : mismatch->differences()) reasons[d.settlement_id()] = d.reason();
  EXPECT_THAT(reasons["S1"], HasSubstr("amounts differ"));
  EXPECT_THAT(reasons["S2"], HasSubstr("missing at the institution"));
  EXPECT_THAT(reasons["S9"], HasSubstr("missing at the node"));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM settlement_record WHERE institution_confirmed_on <> ''"),
            0);

  yidi::v1::SubmitInstitutionDayTotalsRequest right = wrong;
  right.set_request_id("R2");
  right.set_total_fen(30000);
  right.clear_details();
  auto match = submit(right);
  ASSERT_TRUE(match.ok()) << match.status();
  EXPECT_TRUE(match->matched());
  EXPECT_EQ(match->confirmed(), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM settlement_record WHERE institution_confirmed_on = "
                  "'2026-11-22'"),
            2);
  // A retry of R2 replays; R1's id for another day is refused.
  auto replay = submit(right);
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed());
  EXPECT_TRUE(replay->matched());
  wrong.set_day("2026-11-21");
  EXPECT_EQ(submit(wrong).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(ReconciliationStoreTest, ReportsRoundTripAndRetryDays) {
  yidi::v1::ReconciliationReport report;
  report.set_day("2026-11-20");
  report.set_status(yidi::v1::RUN_STATUS_FAILED);
  report.set_error("provincial 360000: down");
  yidi::v1::ReconciliationDifference difference;
  difference.set_settlement_id("S1");
  difference.set_kind(yidi::v1::DIFFERENCE_KIND_MISSING);
  difference.set_resolution("open");
  *report.add_differences() = difference;
  {
    auto tx = store_->Begin(TransactionMode::kWrite);
    ASSERT_TRUE(SaveReconciliationReport(**tx, report).ok());
    report.set_day("2026-11-21");
    report.set_status(yidi::v1::RUN_STATUS_BALANCED);
    report.clear_differences();
    ASSERT_TRUE(SaveReconciliationReport(**tx, report).ok());
    report.set_day("2026-11-20");
    report.set_status(yidi::v1::RUN_STATUS_OPEN);
    *report.add_differences() = difference;
    ASSERT_TRUE(SaveReconciliationReport(**tx, report).ok());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  auto tx = store_->Begin(TransactionMode::kRead);
  auto loaded = LoadReconciliationReport(**tx, "2026-11-20");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->attempts(), 2);
  EXPECT_EQ(loaded->status(), yidi::v1::RUN_STATUS_OPEN);
  ASSERT_EQ(loaded->differences_size(), 1);
  EXPECT_EQ(loaded->differences(0).settlement_id(), "S1");
  auto days = DaysNotBalanced(**tx, "2026-11-01", "2026-11-23");
  ASSERT_TRUE(days.ok());
  EXPECT_THAT(*days, ElementsAre("2026-11-20"));
  EXPECT_EQ(LoadReconciliationReport(**tx, "2026-11-19").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace yidi
