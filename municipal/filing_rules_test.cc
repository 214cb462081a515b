// Tests for municipal/filing_rules.h: the provinces' filing rules as the demo files express
// them (deploy/demo/filing_rules_*.textproto: Chongqing 500000, Jiangxi 360100 and 360700,
// Liaoning 210100, and the Yunnan-style 530100 kept for tests), as tables of cases, each citing
// the article it checks. "Today" is 2026-11-23.
#include "municipal/filing_rules.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yidi::municipal {
namespace {

using ::testing::HasSubstr;
using yidi::v1::Filing;
using yidi::v1::FilingCategory;
using yidi::v1::FilingMaterial;
using yidi::v1::FilingRules;
using C = absl::StatusCode;

constexpr FilingCategory kRetiree = yidi::v1::FILING_CATEGORY_RELOCATED_RETIREE;
constexpr FilingCategory kLongTerm = yidi::v1::FILING_CATEGORY_LONG_TERM_RESIDENT;
constexpr FilingCategory kPosted = yidi::v1::FILING_CATEGORY_POSTED_WORKER;
constexpr FilingCategory kReferred = yidi::v1::FILING_CATEGORY_REFERRED_PATIENT;
constexpr FilingCategory kEmergency = yidi::v1::FILING_CATEGORY_EMERGENCY_PATIENT;
constexpr FilingCategory kOther = yidi::v1::FILING_CATEGORY_OTHER_TEMPORARY_TRAVELLER;

constexpr FilingMaterial kIdentity = yidi::v1::FILING_MATERIAL_IDENTITY;
constexpr FilingMaterial kForm = yidi::v1::FILING_MATERIAL_FILING_FORM;
constexpr FilingMaterial kHousehold = yidi::v1::FILING_MATERIAL_HOUSEHOLD_REGISTER;
constexpr FilingMaterial kResidence = yidi::v1::FILING_MATERIAL_RESIDENCE_PROOF;
constexpr FilingMaterial kReferral = yidi::v1::FILING_MATERIAL_REFERRAL_CERTIFICATE;

const absl::CivilDay kToday(2026, 11, 23);

FilingRules LoadRules(const std::string& region) {
  FilingRules rules;
  const absl::Status loaded = LoadTextProtoFile(
      absl::StrCat(YIDI_SOURCE_DIR, "/deploy/demo/filing_rules_", region, ".textproto"), &rules);
  EXPECT_TRUE(loaded.ok()) << loaded;
  return rules;
}

// The demo directory, plus Yunnan (530000) and Kunming (530100) for the Yunnan-style rules.
const DirectoryIndex& Directory() {
  static const DirectoryIndex* const directory = [] {
    yidi::v1::Directory proto;
    const absl::Status loaded = LoadTextProtoFile(
        absl::StrCat(YIDI_SOURCE_DIR, "/deploy/demo/directory.textproto"), &proto);
    EXPECT_TRUE(loaded.ok()) << loaded;
    auto* province = proto.add_regions();
    province->set_code("530000");
    province->set_kind(yidi::v1::NODE_KIND_PROVINCIAL);
    province->set_address("127.0.0.1:1");
    auto* city = proto.add_regions();
    city->set_code("530100");
    city->set_kind(yidi::v1::NODE_KIND_MUNICIPAL);
    city->set_address("127.0.0.1:2");
    auto built = DirectoryIndex::Build(proto);
    EXPECT_TRUE(built.ok()) << built.status();
    return new DirectoryIndex(*std::move(built));
  }();
  return *directory;
}

TEST(FilingRulesTest, DemoFilesLoad) {
  for (const char* region : {"500000", "360100", "360700", "210100", "530100"}) {
    SCOPED_TRACE(region);
    const absl::Status valid = ValidateFilingRules(LoadRules(region), region);
    EXPECT_TRUE(valid.ok()) << valid;
  }
}

TEST(FilingRulesTest, RefusesRulesBeyondTheNationalLimits) {
  FilingRules rules = LoadRules("360100");
  EXPECT_THAT(ValidateFilingRules(rules, "360700").message(), HasSubstr("insured_region"));
  FilingRules lock = rules;
  lock.mutable_long_term_lock()->set_months(7);  // 22号文 §二(三): at most 6 months
  EXPECT_THAT(ValidateFilingRules(lock, "360100").message(), HasSubstr("long_term_lock"));
  FilingRules twice = rules;
  *twice.add_categories() = rules.categories(0);
  EXPECT_THAT(ValidateFilingRules(twice, "360100").message(), HasSubstr("twice"));
  FilingRules open_temporary = rules;
  open_temporary.mutable_categories(5)->mutable_validity()->set_no_expiry(true);
  EXPECT_THAT(ValidateFilingRules(open_temporary, "360100").message(),
              HasSubstr("temporary filing has an end"));
}

TEST(FilingRulesTest, ValidityLastDayCountsCalendarMonths) {
  EXPECT_EQ(ValidityLastDay(absl::CivilDay(2026, 4, 1), 12), absl::CivilDay(2027, 3, 31));
  EXPECT_EQ(ValidityLastDay(absl::CivilDay(2026, 11, 23), 6), absl::CivilDay(2027, 5, 22));
  EXPECT_EQ(ValidityLastDay(absl::CivilDay(2026, 3, 1), 6), absl::CivilDay(2026, 8, 31));
  // No 31 February: the validity ends with February.
  EXPECT_EQ(ValidityLastDay(absl::CivilDay(2026, 8, 31), 6), absl::CivilDay(2027, 2, 28));
  EXPECT_EQ(ValidityLastDay(absl::CivilDay(2027, 8, 29), 6), absl::CivilDay(2028, 2, 28));
  EXPECT_EQ(AddMonthsClamped(absl::CivilDay(2026, 8, 31), 6), absl::CivilDay(2027, 2, 28));
  EXPECT_EQ(AddMonthsClamped(absl::CivilDay(2026, 5, 23), 6), absl::CivilDay(2026, 11, 23));
}

// ---------------------------------------------------------------------------------------------
// New filings.

struct CreateCase {
  const char* name;
  const char* article;
  const char* region;  // the insured region's rules
  FilingCategory category;
  const char* treatment_region;
  const char* start_date;
  const char* end_date;
  std::vector<FilingMaterial> materials;
  bool undertaking;
  C code;
  // When OK:
  const char* stored_region;  // the treatment region stored
  const char* stored_end;     // "" = open-ended
  bool complete;
  const char* due_date;       // "" = none
  // When refused:
  const char* message_part;
};

TEST(DraftNewFilingTest, ProvinceVariants) {
  const CreateCase cases[] = {
      // Chongqing 000_65644e9492a1c962.txt
      {"CQ temporary lasts one year", "000 第8条", "500000", kOther, "210100", "", "",
       {kIdentity, kForm}, false, C::kOk, "210100", "2027-11-22", true, "", ""},
      {"CQ temporary end is fixed, another is refused", "000 第8条", "500000", kOther, "210100",
       "", "2027-05-22", {kIdentity, kForm}, false, C::kInvalidArgument, "", "", false, "",
       "fixes the validity"},
      {"CQ referral needs the referral certificate", "000 第6条(四)", "500000", kReferred,
       "210100", "", "", {kIdentity, kForm}, false, C::kInvalidArgument, "", "", false, "",
       "转诊转院证明"},
      {"CQ referral with its certificate", "000 第6条(四)", "500000", kReferred, "210100", "", "",
       {kIdentity, kForm, kReferral}, false, C::kOk, "210100", "2027-11-22", true, "", ""},
      {"CQ retiree on an undertaking, no deadline", "000 第6条(一), 附件2", "500000", kRetiree,
       "360100", "", "", {kIdentity, kForm}, true, C::kOk, "360100", "", false, "", ""},
      {"CQ retiree without proof nor undertaking", "000 第6条(一)", "500000", kRetiree, "360100",
       "", "", {kIdentity, kForm}, false, C::kInvalidArgument, "", "", false, "",
       "or file on an undertaking"},
      {"CQ long-term filings do not expire", "000 第8条", "500000", kLongTerm, "360100", "",
       "2027-12-31", {kIdentity, kForm, kResidence}, false, C::kInvalidArgument, "", "", false,
       "", "does not expire"},
      {"CQ emergency is deemed filed, no category", "000 第6条(五)", "500000", kEmergency,
       "210100", "", "2026-12-31", {kIdentity}, false, C::kInvalidArgument, "", "", false, "",
       "deemed filed"},
      {"never a hospital", "000 第9条, 003 第8条", "500000", kOther, "H21010000001", "", "",
       {kIdentity, kForm}, false, C::kInvalidArgument, "", "", false, "", "never a hospital"},
      {"never the insured region itself", "000 第9条", "500000", kOther, "500103", "", "",
       {kIdentity, kForm}, false, C::kInvalidArgument, "", "", false, "", "itself"},
      {"a county is stored as its city", "000 第9条", "500000", kOther, "360102", "", "",
       {kIdentity, kForm}, false, C::kOk, "360100", "2027-11-22", true, "", ""},
      {"an unknown region is refused", "RULES 2.9", "500000", kOther, "440300", "", "",
       {kIdentity, kForm}, false, C::kInvalidArgument, "", "", false, "", "not a pooling region"},
      {"a province whose cities pool is refused", "002 第12条", "500000", kOther, "360000", "",
       "", {kIdentity, kForm}, false, C::kInvalidArgument, "", "", false, "",
       "not a pooling region"},
      {"never back-dated", "22号文 §二(四)", "500000", kOther, "210100", "2026-11-01", "",
       {kIdentity, kForm}, false, C::kInvalidArgument, "", "", false, "", "back-dated"},
      {"a start a few weeks ahead", "000 第8条", "500000", kOther, "210100", "2027-01-01", "",
       {kIdentity, kForm}, false, C::kOk, "210100", "2027-12-31", true, "", ""},
      // Jiangxi 002_6dce6ff9939e483e.txt
      {"JX temporary may be shorter than 6 months", "002 第10条", "360100", kOther, "210100", "",
       "2027-02-22", {}, false, C::kOk, "210100", "2027-02-22", true, "", ""},
      {"JX temporary needs a chosen end", "002 第10条", "360100", kOther, "210100", "", "", {},
       false, C::kInvalidArgument, "", "", false, "", "chooses"},
      {"JX long-term at least 6 months", "002 第10条", "360100", kLongTerm, "500000", "",
       "2027-02-22", {}, false, C::kInvalidArgument, "", "", false, "", "at least 6 months"},
      {"JX long-term 6 months exactly", "002 第10条", "360100", kLongTerm, "500000", "",
       "2027-05-22", {}, false, C::kOk, "500000", "2027-05-22", true, "", ""},
      {"JX long-term open-ended", "22号文 §二(三)", "360100", kRetiree, "500000", "", "", {},
       false, C::kOk, "500000", "", true, "", ""},
      {"JX no certificates asked", "002 第8条", "360700", kPosted, "210100", "", "", {}, false,
       C::kOk, "210100", "", true, "", ""},
      {"JX emergency filing offered", "002 附件1", "360100", kEmergency, "210100", "",
       "2026-12-23", {}, false, C::kOk, "210100", "2026-12-23", true, "", ""},
      {"JX dates in the wrong order", "RULES 2.5", "360100", kOther, "210100", "2026-12-01",
       "2026-11-30", {}, false, C::kInvalidArgument, "", "", false, "", "before start_date"},
      {"JX no intra-province filing", "002 第8条", "360100", kOther, "360700", "", "2027-01-31",
       {}, false, C::kInvalidArgument, "", "", false, "", "needs no filing"},
      // Liaoning 003_8507b755cfadb9d9.txt
      {"LN undertaking with a 90-day deadline", "003 第7条", "210100", kLongTerm, "500000", "", "",
       {kIdentity}, true, C::kOk, "500000", "", false, "2027-02-21", ""},
      {"LN undertaking not for the employer's proof", "003 第4条(三), 第7条", "210100", kPosted,
       "500000", "", "", {kIdentity}, true, C::kInvalidArgument, "", "", false, "",
       "异地工作证明材料"},
      {"LN residence or property proof", "003 第4条(二)", "210100", kLongTerm, "500000", "", "",
       {kIdentity, yidi::v1::FILING_MATERIAL_PROPERTY_PROOF}, false, C::kOk, "500000", "", true,
       "", ""},
      {"LN referral lasts one year", "003 第9条", "210100", kReferred, "500000", "", "",
       {kReferral}, false, C::kOk, "500000", "2027-11-22", true, "", ""},
      {"LN other temporary at least 6 months", "22号文 §二(三)", "210100", kOther, "500000", "",
       "2027-04-22", {kIdentity}, false, C::kInvalidArgument, "", "", false, "",
       "at least 6 months"},
      {"LN other temporary at most 12 months", "003 (city rules)", "210100", kOther, "500000", "",
       "2027-12-31", {kIdentity}, false, C::kInvalidArgument, "", "", false, "",
       "at most 12 months"},
      {"LN emergency has no category", "RULES 2.7", "210100", kEmergency, "500000", "", "",
       {kIdentity}, false, C::kInvalidArgument, "", "", false, "", "does not offer"},
      // Yunnan-style 001_3a9ac0cfb3167a7f.txt
      {"YN temporary lasts 6 months", "001 第10条", "530100", kOther, "500000", "", "", {}, false,
       C::kOk, "500000", "2027-05-22", true, "", ""},
      {"YN emergency is deemed filed", "001 第10条", "530100", kEmergency, "500000", "", "", {},
       false, C::kInvalidArgument, "", "", false, "", "deemed filed"},
      {"YN long-term without expiry", "001 第10条", "530100", kRetiree, "360100", "", "", {},
       false, C::kOk, "360100", "", true, "", ""},
  };
  for (const CreateCase& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.name, " (", c.article, ")"));
    const FilingRules rules = LoadRules(c.region);
    yidi::v1::CreateFilingRequest request;
    request.set_request_id("r-1");
    request.set_id_number("210102197006150042");
    request.set_insured_region(c.region);
    request.set_category(c.category);
    request.set_treatment_region(c.treatment_region);
    request.set_start_date(c.start_date);
    request.set_end_date(c.end_date);
    for (FilingMaterial material : c.materials) request.add_materials(material);
    request.set_undertaking(c.undertaking);
    auto filing = DraftNewFiling(rules, Directory(), request, kToday);
    ASSERT_EQ(filing.status().code(), c.code) << filing.status();
    if (!filing.ok()) {
      EXPECT_THAT(filing.status().message(), HasSubstr(c.message_part));
      continue;
    }
    EXPECT_EQ(filing->treatment_region(), c.stored_region);
    EXPECT_EQ(filing->end_date(), c.stored_end);
    EXPECT_EQ(filing->materials_complete(), c.complete);
    EXPECT_EQ(filing->materials_due_date(), c.due_date);
    EXPECT_EQ(filing->insured_region(), c.region);
    EXPECT_EQ(filing->covered_care_size(), rules.covered_care_size());
    EXPECT_FALSE(filing->start_date().empty());
  }
}

// ---------------------------------------------------------------------------------------------
// Changes and cancellations of a long-term filing: the lock (RULES.md 2.5, last column).

Filing Stored(const char* region, FilingCategory category, const char* treatment_region,
              const char* start, const char* end = "") {
  Filing filing;
  filing.set_filing_id("F-1");
  filing.set_id_number("210102197006150042");
  filing.set_insured_region(region);
  filing.set_category(category);
  filing.set_treatment_region(treatment_region);
  filing.set_start_date(start);
  filing.set_end_date(end);
  filing.set_materials_complete(true);
  filing.set_version(3);
  return filing;
}

struct LockCase {
  const char* name;
  const char* article;
  Filing current;
  bool cancel;  // false: change the treatment region to `new_region`
  const char* new_region;
  yidi::v1::ObjectiveReason reason;
  C code;
};

TEST(ChangeLockTest, ProvinceVariants) {
  constexpr auto kNone = yidi::v1::OBJECTIVE_REASON_NONE;
  constexpr auto kTransfer = yidi::v1::OBJECTIVE_REASON_JOB_TRANSFER;
  const LockCase cases[] = {
      {"JX change inside 6 months", "002 第11条", Stored("360100", kLongTerm, "500000", "2026-09-01"),
       false, "210100", kNone, C::kFailedPrecondition},
      {"JX objective reason lifts the lock", "002 第11条",
       Stored("360100", kLongTerm, "500000", "2026-09-01"), false, "210100", kTransfer, C::kOk},
      {"JX cancel inside 6 months", "002 第11条",
       Stored("360100", kLongTerm, "500000", "2026-09-01"), true, "", kNone,
       C::kFailedPrecondition},
      {"JX cancel with an objective reason", "002 第11条",
       Stored("360100", kRetiree, "500000", "2026-09-01"), true, "",
       yidi::v1::OBJECTIVE_REASON_MOVING_TO_ANOTHER_CHILD, C::kOk},
      {"JX temporary is free at any time", "002 第11条",
       Stored("360100", kOther, "500000", "2026-11-01", "2027-01-31"), true, "", kNone, C::kOk},
      {"JX free once filed 6 months", "002 第11条",
       Stored("360100", kLongTerm, "500000", "2026-05-23"), false, "210100", kNone, C::kOk},
      {"LN region locked 6 months", "003 第10条(二)",
       Stored("210100", kLongTerm, "500000", "2026-09-01"), false, "360100", kNone,
       C::kFailedPrecondition},
      {"LN no exemption written", "003 第10条(二)",
       Stored("210100", kLongTerm, "500000", "2026-09-01"), false, "360100", kTransfer,
       C::kFailedPrecondition},
      {"LN cancellation is not locked", "003 第10条(二)",
       Stored("210100", kPosted, "500000", "2026-09-01"), true, "", kNone, C::kOk},
      {"LN after 6 months", "003 第10条(二)", Stored("210100", kLongTerm, "500000", "2026-05-23"),
       false, "360100", kNone, C::kOk},
      {"LN a day short of 6 months", "003 第10条(二)",
       Stored("210100", kLongTerm, "500000", "2026-05-24"), false, "360100", kNone,
       C::kFailedPrecondition},
      {"CQ sets no lock", "000 第8条; RULES 13 q.3",
       Stored("500000", kRetiree, "360100", "2026-11-01"), false, "210100", kNone, C::kOk},
      {"YN insured region's lock covers cancellation", "001 第10条",
       Stored("530100", kRetiree, "500000", "2026-10-01"), true, "", kNone,
       C::kFailedPrecondition},
  };
  for (const LockCase& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.name, " (", c.article, ")"));
    const FilingRules rules = LoadRules(c.current.insured_region());
    if (c.cancel) {
      yidi::v1::CancelFilingRequest request;
      request.set_filing_id(c.current.filing_id());
      request.set_reason(yidi::v1::FILING_CANCEL_REASON_REQUESTED);
      request.set_objective_reason(c.reason);
      auto cancelled = DraftCancel(rules, request, c.current, kToday);
      ASSERT_EQ(cancelled.status().code(), c.code) << cancelled.status();
      if (cancelled.ok()) {
        EXPECT_TRUE(cancelled->cancelled());
        EXPECT_EQ(cancelled->cancelled_on(), "2026-11-23");
        EXPECT_EQ(cancelled->version(), 4);
      } else {
        EXPECT_THAT(cancelled.status().message(), HasSubstr("only from"));
      }
      continue;
    }
    yidi::v1::ChangeFilingRequest request;
    request.set_filing_id(c.current.filing_id());
    request.set_treatment_region(c.new_region);
    request.set_objective_reason(c.reason);
    auto change = DraftChange(rules, Directory(), request, c.current, kToday);
    ASSERT_EQ(change.status().code(), c.code) << change.status();
    if (!change.ok()) {
      EXPECT_THAT(change.status().message(), HasSubstr("only from"));
      continue;
    }
    // A new treatment region closes the filing today and opens another from today.
    ASSERT_TRUE(change->opened.has_value());
    EXPECT_TRUE(change->changed.cancelled());
    EXPECT_EQ(change->changed.cancelled_on(), "2026-11-23");
    EXPECT_EQ(change->changed.cancel_reason(),
              yidi::v1::FILING_CANCEL_REASON_TREATMENT_REGION_CHANGED);
    EXPECT_EQ(change->changed.version(), 4);
    EXPECT_EQ(change->opened->treatment_region(), c.new_region);
    EXPECT_EQ(change->opened->start_date(), "2026-11-23");
    EXPECT_EQ(change->opened->replaces_filing_id(), "F-1");
  }
}

TEST(DraftChangeTest, MaterialsEndDatesAndRefusals) {
  const FilingRules liaoning = LoadRules("210100");
  Filing promised = Stored("210100", kLongTerm, "500000", "2026-10-01");
  promised.set_undertaking(true);
  promised.set_materials_complete(false);
  promised.set_materials_due_date("2026-12-30");
  promised.add_materials(kIdentity);

  // Supplying the residence proof fulfils the undertaking (003 第7条).
  yidi::v1::ChangeFilingRequest supply;
  supply.set_filing_id("F-1");
  supply.add_materials_supplied(kResidence);
  auto supplied = DraftChange(liaoning, Directory(), supply, promised, kToday);
  ASSERT_TRUE(supplied.ok()) << supplied.status();
  EXPECT_FALSE(supplied->opened.has_value());
  EXPECT_TRUE(supplied->changed.materials_complete());
  EXPECT_EQ(supplied->changed.version(), 4);
  EXPECT_EQ(supplied->changed.materials_size(), 2);

  // Nothing to change; an end date on a filing without expiry; a cancelled filing.
  yidi::v1::ChangeFilingRequest empty;
  empty.set_filing_id("F-1");
  EXPECT_EQ(DraftChange(liaoning, Directory(), empty, promised, kToday).status().code(),
            C::kInvalidArgument);
  yidi::v1::ChangeFilingRequest end;
  end.set_filing_id("F-1");
  end.set_end_date("2027-12-31");
  EXPECT_THAT(DraftChange(liaoning, Directory(), end, promised, kToday).status().message(),
              HasSubstr("does not expire"));
  Filing cancelled = promised;
  cancelled.set_cancelled(true);
  cancelled.set_cancelled_on("2026-11-01");
  EXPECT_EQ(DraftChange(liaoning, Directory(), supply, cancelled, kToday).status().code(),
            C::kFailedPrecondition);

  // Jiangxi: the person moves the chosen end, never before today (002 第10条).
  const FilingRules jiangxi = LoadRules("360100");
  const Filing temporary = Stored("360100", kOther, "210100", "2026-11-01", "2027-01-31");
  yidi::v1::ChangeFilingRequest extend;
  extend.set_filing_id("F-1");
  extend.set_end_date("2027-04-30");
  auto extended = DraftChange(jiangxi, Directory(), extend, temporary, kToday);
  ASSERT_TRUE(extended.ok()) << extended.status();
  EXPECT_EQ(extended->changed.end_date(), "2027-04-30");
  extend.set_end_date("2026-11-22");
  EXPECT_THAT(DraftChange(jiangxi, Directory(), extend, temporary, kToday).status().message(),
              HasSubstr("before today"));
  // The same treatment region again is no change; a hospital never (003 第8条).
  yidi::v1::ChangeFilingRequest same;
  same.set_filing_id("F-1");
  same.set_treatment_region("210100");
  EXPECT_THAT(DraftChange(jiangxi, Directory(), same, temporary, kToday).status().message(),
              HasSubstr("already names"));
  same.set_treatment_region("H50000000001");
  EXPECT_THAT(DraftChange(jiangxi, Directory(), same, temporary, kToday).status().message(),
              HasSubstr("never a hospital"));
}

TEST(DraftCancelTest, ReasonsAndRepeats) {
  const FilingRules rules = LoadRules("360100");
  const Filing filing = Stored("360100", kOther, "210100", "2026-11-01", "2027-01-31");
  yidi::v1::CancelFilingRequest request;
  request.set_filing_id("F-1");
  EXPECT_THAT(DraftCancel(rules, request, filing, kToday).status().message(),
              HasSubstr("reason: required"));
  request.set_reason(yidi::v1::FILING_CANCEL_REASON_TREATMENT_REGION_CHANGED);
  EXPECT_EQ(DraftCancel(rules, request, filing, kToday).status().code(), C::kInvalidArgument);
  // 退保/停保 ends a filing whatever the lock (003 第10条(四)).
  request.set_reason(yidi::v1::FILING_CANCEL_REASON_INSURANCE_ENDED);
  const Filing locked = Stored("360100", kLongTerm, "500000", "2026-10-01");
  auto ended = DraftCancel(rules, request, locked, kToday);
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_EQ(ended->cancel_reason(), yidi::v1::FILING_CANCEL_REASON_INSURANCE_ENDED);
  EXPECT_EQ(DraftCancel(rules, request, *ended, kToday).status().code(), C::kFailedPrecondition);
}

// ---------------------------------------------------------------------------------------------
// Undertakings, spans and overlaps.

TEST(DraftLapseTest, UnmetUndertakingIsCancelledFromTheDayAfterItsDeadline) {
  // Liaoning: "对未履行承诺...即时取消备案资格" (003 第7条).
  Filing promised = Stored("210100", kLongTerm, "500000", "2026-08-01");
  promised.set_undertaking(true);
  promised.set_materials_complete(false);
  promised.set_materials_due_date("2026-10-30");
  EXPECT_FALSE(DraftLapse(promised, absl::CivilDay(2026, 10, 30)).has_value());
  auto lapsed = DraftLapse(promised, kToday);
  ASSERT_TRUE(lapsed.has_value());
  EXPECT_TRUE(lapsed->cancelled());
  EXPECT_EQ(lapsed->cancelled_on(), "2026-10-31");
  EXPECT_EQ(lapsed->cancel_reason(), yidi::v1::FILING_CANCEL_REASON_UNDERTAKING_UNMET);
  EXPECT_EQ(lapsed->version(), 4);
  // Kept: materials supplied, or an undertaking without a deadline (Chongqing).
  Filing supplied = promised;
  supplied.set_materials_complete(true);
  EXPECT_FALSE(DraftLapse(supplied, kToday).has_value());
  Filing no_deadline = promised;
  no_deadline.clear_materials_due_date();
  EXPECT_FALSE(DraftLapse(no_deadline, kToday).has_value());
}

TEST(CheckNoOverlapTest, OneFilingAtATime) {
  const Filing in_force = Stored("360100", kOther, "210100", "2026-11-01", "2027-01-31");
  Filing wanted = Stored("360100", kOther, "500000", "2026-12-01", "2027-02-28");
  wanted.set_filing_id("");
  EXPECT_THAT(CheckNoOverlap({in_force}, wanted).message(), HasSubstr("F-1"));
  EXPECT_EQ(CheckNoOverlap({in_force}, wanted).code(), C::kFailedPrecondition);
  // After the old one ends; or the old one cancelled before; or replaced by the change itself.
  wanted.set_start_date("2027-02-01");
  EXPECT_TRUE(CheckNoOverlap({in_force}, wanted).ok());
  wanted.set_start_date("2026-12-01");
  Filing cancelled = in_force;
  cancelled.set_cancelled(true);
  cancelled.set_cancelled_on("2026-11-23");
  EXPECT_TRUE(CheckNoOverlap({cancelled}, wanted).ok());
  EXPECT_TRUE(CheckNoOverlap({in_force}, wanted, "F-1").ok());
  // An open-ended long-term filing overlaps anything later.
  const Filing long_term = Stored("360100", kRetiree, "500000", "2024-03-15");
  EXPECT_FALSE(CheckNoOverlap({long_term}, wanted).ok());
  // A lapsed undertaking ends at its due date.
  Filing promised = long_term;
  promised.set_undertaking(true);
  promised.set_materials_complete(false);
  promised.set_materials_due_date("2026-11-30");
  EXPECT_TRUE(CheckNoOverlap({promised}, wanted).ok());
}

TEST(ChronicDiseaseTest, RecordAndRevoke) {
  yidi::v1::RecordChronicDiseaseRequest request;
  request.set_id_number("210102197006150042");
  request.set_disease_code("i10");
  request.set_disease_name("高血压");
  auto first = DraftChronicDisease(request, {}, kToday);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->disease_code(), "I10");
  EXPECT_EQ(first->start_date(), "2026-11-23");
  first->set_eligibility_id("M-1");
  first->set_version(1);
  // The same disease twice at once is refused; another disease is fine.
  EXPECT_EQ(DraftChronicDisease(request, {*first}, kToday).status().code(),
            C::kFailedPrecondition);
  request.set_disease_code("E11.9");
  EXPECT_TRUE(DraftChronicDisease(request, {*first}, kToday).ok());
  request.set_disease_code("I10; DROP");
  EXPECT_EQ(DraftChronicDisease(request, {}, kToday).status().code(), C::kInvalidArgument);
  request.set_disease_code("I10");
  request.set_end_date("2026-11-01");
  EXPECT_THAT(DraftChronicDisease(request, {}, kToday).status().message(),
              HasSubstr("before start_date"));
  auto revoked = DraftRevocation(*first, kToday);
  ASSERT_TRUE(revoked.ok());
  EXPECT_TRUE(revoked->revoked());
  EXPECT_EQ(revoked->version(), 2);
  EXPECT_EQ(DraftRevocation(*revoked, kToday).status().code(), C::kFailedPrecondition);
}

TEST(RequestIdTest, Bounded) {
  EXPECT_TRUE(ValidateRequestId("app-20261123:0001_a.b").ok());
  EXPECT_FALSE(ValidateRequestId("").ok());
  EXPECT_FALSE(ValidateRequestId("has space").ok());
  EXPECT_FALSE(ValidateRequestId(std::string(kRequestIdLengthMax + 1, 'a')).ok());
}

}  // namespace
}  // namespace yidi::municipal
