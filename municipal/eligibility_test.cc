// Tests for municipal/eligibility.h: a table of persons, filings and stays, and what the
// insured region decides (RULES.md 2.7–2.9).
#include "municipal/eligibility.h"

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yidi::municipal {
namespace {

using ::testing::HasSubstr;
using yidi::v1::Filing;
using yidi::v1::FilingCategory;

constexpr char kIdNumber[] = "210102197006150042";

yidi::v1::PersonRecord Person(yidi::v1::InsuredStatus status = yidi::v1::INSURED_STATUS_ACTIVE) {
  yidi::v1::PersonRecord person;
  person.set_id_number(kIdNumber);
  person.set_name("王五");
  person.set_insurance_type(yidi::v1::INSURANCE_TYPE_EMPLOYEE);
  person.set_person_type(yidi::v1::PERSON_TYPE_EMPLOYEE_WORKING);
  person.set_status(status);
  return person;
}

Filing MakeFiling(const char* id, FilingCategory category, const char* treatment_region,
                  const char* start, const char* end, bool cancelled = false) {
  Filing filing;
  filing.set_filing_id(id);
  filing.set_id_number(kIdNumber);
  filing.set_insured_region("210100");
  filing.set_category(category);
  filing.set_treatment_region(treatment_region);
  filing.set_start_date(start);
  filing.set_end_date(end);
  filing.set_cancelled(cancelled);
  return filing;
}

constexpr FilingCategory kRetiree = yidi::v1::FILING_CATEGORY_RELOCATED_RETIREE;
constexpr FilingCategory kLongTerm = yidi::v1::FILING_CATEGORY_LONG_TERM_RESIDENT;
constexpr FilingCategory kPosted = yidi::v1::FILING_CATEGORY_POSTED_WORKER;
constexpr FilingCategory kReferred = yidi::v1::FILING_CATEGORY_REFERRED_PATIENT;
constexpr FilingCategory kEmergency = yidi::v1::FILING_CATEGORY_EMERGENCY_PATIENT;
constexpr FilingCategory kOther = yidi::v1::FILING_CATEGORY_OTHER_TEMPORARY_TRAVELLER;

// A Shenyang (210100) employee admitted in Nanchang (360100) on 2026-03-10, discharged
// 2026-03-20.
EligibilityInput BaseInput() {
  EligibilityInput input;
  input.insured_region = "210100";
  input.treatment_region = "360100";
  input.insurance_type = yidi::v1::INSURANCE_TYPE_EMPLOYEE;
  input.admission_date = absl::CivilDay(2026, 3, 10);
  input.discharge_date = absl::CivilDay(2026, 3, 20);
  input.emergency = false;
  input.intra_province_filing_required = true;
  return input;
}

struct EligibilityCase {
  const char* name;
  void (*adjust)(EligibilityInput&);  // nullptr: the base input
  std::optional<yidi::v1::PersonRecord> person;
  std::vector<Filing> filings;
  absl::StatusCode code;
  RemoteCare remote_care;       // checked when OK
  const char* filing_id;        // "" = no filing applies
  bool deemed_filed;
  const char* message_part;     // checked when refused
};

TEST(DecideEligibilityTest, Table) {
  using C = absl::StatusCode;
  const auto person = Person();
  const EligibilityCase cases[] = {
      {"local care needs no filing",
       [](EligibilityInput& i) { i.treatment_region = "210100"; }, person, {}, C::kOk,
       RemoteCare::kLocal, "", false, ""},
      {"filed long-term resident", nullptr, person,
       {MakeFiling("F-LT", kLongTerm, "360100", "2025-01-01", "")}, C::kOk, RemoteCare::kLocal,
       "F-LT", false, ""},
      {"relocated retiree", nullptr, person,
       {MakeFiling("F-RR", kRetiree, "360100", "2020-05-01", "")}, C::kOk, RemoteCare::kLocal,
       "F-RR", false, ""},
      {"posted worker", nullptr, person,
       {MakeFiling("F-PW", kPosted, "360100", "2026-01-01", "2027-01-01")}, C::kOk,
       RemoteCare::kLocal, "F-PW", false, ""},
      {"referred patient", nullptr, person,
       {MakeFiling("F-RF", kReferred, "360100", "2026-03-01", "2026-09-01")}, C::kOk,
       RemoteCare::kReferredOrEmergency, "F-RF", false, ""},
      {"emergency filing", nullptr, person,
       {MakeFiling("F-EM", kEmergency, "360100", "2026-03-10", "2026-04-10")}, C::kOk,
       RemoteCare::kReferredOrEmergency, "F-EM", false, ""},
      {"other temporary traveller", nullptr, person,
       {MakeFiling("F-OT", kOther, "360100", "2026-01-01", "2026-06-30")}, C::kOk,
       RemoteCare::kOtherTemporary, "F-OT", false, ""},
      {"filing expired before admission", nullptr, person,
       {MakeFiling("F-OT", kOther, "360100", "2025-09-10", "2026-03-09")},
       C::kFailedPrecondition, RemoteCare::kLocal, "", false, "备案"},
      {"admitted within validity, discharged after expiry", nullptr, person,
       {MakeFiling("F-OT", kOther, "360100", "2025-09-15", "2026-03-15")}, C::kOk,
       RemoteCare::kOtherTemporary, "F-OT", false, ""},
      {"filing expires on the admission day", nullptr, person,
       {MakeFiling("F-OT", kOther, "360100", "2025-09-10", "2026-03-10")}, C::kOk,
       RemoteCare::kOtherTemporary, "F-OT", false, ""},
      {"late filing during the stay", nullptr, person,
       {MakeFiling("F-LATE", kOther, "360100", "2026-03-15", "2026-09-15")}, C::kOk,
       RemoteCare::kOtherTemporary, "F-LATE", false, ""},
      {"late filing on the discharge day", nullptr, person,
       {MakeFiling("F-LATE", kReferred, "360100", "2026-03-20", "2026-09-20")}, C::kOk,
       RemoteCare::kReferredOrEmergency, "F-LATE", false, ""},
      {"filing starting after discharge", nullptr, person,
       {MakeFiling("F-AFTER", kOther, "360100", "2026-03-21", "2026-09-21")},
       C::kFailedPrecondition, RemoteCare::kLocal, "", false, "备案"},
      {"cancelled filing ignored", nullptr, person,
       {MakeFiling("F-LT", kLongTerm, "360100", "2025-01-01", "", /*cancelled=*/true)},
       C::kFailedPrecondition, RemoteCare::kLocal, "", false, "备案"},
      {"cancelled filing skipped, older valid one used", nullptr, person,
       {MakeFiling("F-OT", kOther, "360100", "2026-01-01", "2026-06-30"),
        MakeFiling("F-LT", kLongTerm, "360100", "2026-02-01", "", /*cancelled=*/true)},
       C::kOk, RemoteCare::kOtherTemporary, "F-OT", false, ""},
      {"filing to another city", nullptr, person,
       {MakeFiling("F-GZ", kLongTerm, "360700", "2025-01-01", "")}, C::kFailedPrecondition,
       RemoteCare::kLocal, "", false, "360100"},
      {"filing to a county of another city", nullptr, person,
       {MakeFiling("F-GZ", kLongTerm, "360702", "2025-01-01", "")}, C::kFailedPrecondition,
       RemoteCare::kLocal, "", false, "备案"},
      {"filing to the province of a city-pooled province", nullptr, person,
       {MakeFiling("F-JX", kLongTerm, "360000", "2025-01-01", "")}, C::kFailedPrecondition,
       RemoteCare::kLocal, "", false, "备案"},
      {"filing names a county of the city", nullptr, person,
       {MakeFiling("F-CTY", kLongTerm, "360102", "2025-01-01", "")}, C::kOk, RemoteCare::kLocal,
       "F-CTY", false, ""},
      {"filing with a malformed start date", nullptr, person,
       {MakeFiling("F-BAD", kLongTerm, "360100", "2025-1-01", "")}, C::kFailedPrecondition,
       RemoteCare::kLocal, "", false, "备案"},
      {"emergency unfiled is deemed filed", [](EligibilityInput& i) { i.emergency = true; },
       person, {}, C::kOk, RemoteCare::kReferredOrEmergency, "", true, ""},
      {"emergency with an expired filing is deemed filed",
       [](EligibilityInput& i) { i.emergency = true; }, person,
       {MakeFiling("F-OT", kOther, "360100", "2025-01-01", "2025-06-30")}, C::kOk,
       RemoteCare::kReferredOrEmergency, "", true, ""},
      {"emergency with a covering filing uses the filing",
       [](EligibilityInput& i) { i.emergency = true; }, person,
       {MakeFiling("F-LT", kLongTerm, "360100", "2025-01-01", "")}, C::kOk, RemoteCare::kLocal,
       "F-LT", false, ""},
      {"intra-province, filing not required",
       [](EligibilityInput& i) {
         i.insured_region = "360700";
         i.treatment_region = "360100";
         i.intra_province_filing_required = false;
       },
       person, {}, C::kOk, RemoteCare::kLocal, "", false, ""},
      {"intra-province, filing required",
       [](EligibilityInput& i) {
         i.insured_region = "360700";
         i.treatment_region = "360100";
         i.intra_province_filing_required = true;
       },
       person, {}, C::kFailedPrecondition, RemoteCare::kLocal, "", false, "备案"},
      {"cross-province ignores the intra-province exemption",
       [](EligibilityInput& i) { i.intra_province_filing_required = false; }, person, {},
       C::kFailedPrecondition, RemoteCare::kLocal, "", false, "备案"},
      {"suspended person", nullptr, Person(yidi::v1::INSURED_STATUS_SUSPENDED),
       {MakeFiling("F-LT", kLongTerm, "360100", "2025-01-01", "")}, C::kFailedPrecondition,
       RemoteCare::kLocal, "", false, "SUSPENDED"},
      {"terminated person", nullptr, Person(yidi::v1::INSURED_STATUS_TERMINATED),
       {MakeFiling("F-LT", kLongTerm, "360100", "2025-01-01", "")}, C::kFailedPrecondition,
       RemoteCare::kLocal, "", false, "TERMINATED"},
      {"suspended person treated locally",
       [](EligibilityInput& i) { i.treatment_region = "210100"; },
       Person(yidi::v1::INSURED_STATUS_SUSPENDED), {}, C::kFailedPrecondition,
       RemoteCare::kLocal, "", false, "SUSPENDED"},
      {"unknown person", nullptr, std::nullopt, {}, C::kNotFound, RemoteCare::kLocal, "", false,
       "210100"},
      {"wrong insurance type",
       [](EligibilityInput& i) { i.insurance_type = yidi::v1::INSURANCE_TYPE_RESIDENT; }, person,
       {MakeFiling("F-LT", kLongTerm, "360100", "2025-01-01", "")}, C::kFailedPrecondition,
       RemoteCare::kLocal, "", false, "insurance_type"},
      {"Chongqing: filing names district 500103",
       [](EligibilityInput& i) { i.treatment_region = "500000"; }, person,
       {MakeFiling("F-CQ", kLongTerm, "500103", "2025-01-01", "")}, C::kOk, RemoteCare::kLocal,
       "F-CQ", false, ""},
      {"Chongqing: filing names the province",
       [](EligibilityInput& i) { i.treatment_region = "500000"; }, person,
       {MakeFiling("F-CQ", kReferred, "500000", "2026-03-01", "2026-09-01")}, C::kOk,
       RemoteCare::kReferredOrEmergency, "F-CQ", false, ""},
      {"Beijing: filing names district 110105",
       [](EligibilityInput& i) { i.treatment_region = "110000"; }, person,
       {MakeFiling("F-BJ", kOther, "110105", "2026-03-01", "2026-09-01")}, C::kOk,
       RemoteCare::kOtherTemporary, "F-BJ", false, ""},
      {"Chongqing filing does not cover Beijing",
       [](EligibilityInput& i) { i.treatment_region = "110000"; }, person,
       {MakeFiling("F-CQ", kLongTerm, "500103", "2025-01-01", "")}, C::kFailedPrecondition,
       RemoteCare::kLocal, "", false, "备案"},
  };
  for (const EligibilityCase& c : cases) {
    SCOPED_TRACE(c.name);
    EligibilityInput input = BaseInput();
    if (c.adjust != nullptr) c.adjust(input);
    const Eligibility decision = DecideEligibility(input, c.person, c.filings);
    EXPECT_EQ(decision.status.code(), c.code) << decision.status;
    if (c.code == C::kOk) {
      EXPECT_EQ(decision.remote_care, c.remote_care);
      EXPECT_EQ(decision.deemed_filed, c.deemed_filed);
      if (std::string(c.filing_id).empty()) {
        EXPECT_FALSE(decision.filing.has_value());
      } else {
        ASSERT_TRUE(decision.filing.has_value());
        EXPECT_EQ(decision.filing->filing_id(), c.filing_id);
      }
    } else {
      EXPECT_THAT(decision.status.message(), HasSubstr(c.message_part));
      EXPECT_FALSE(decision.filing.has_value());
      EXPECT_FALSE(decision.deemed_filed);
    }
  }
}

TEST(DecideEligibilityTest, NotFiledMessageExplainsWhatToDo) {
  const Eligibility decision = DecideEligibility(BaseInput(), Person(), {});
  ASSERT_EQ(decision.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(decision.status.message(), HasSubstr("备案"));
  EXPECT_THAT(decision.status.message(), HasSubstr("File"));
  EXPECT_THAT(decision.status.message(), HasSubstr("360100"));
  EXPECT_THAT(decision.status.message(), HasSubstr("2026-03-10"));
}

TEST(DecideEligibilityTest, MessagesDoNotEchoTheIdNumber) {
  for (const auto& person :
       {std::optional<yidi::v1::PersonRecord>(), std::optional(Person()),
        std::optional(Person(yidi::v1::INSURED_STATUS_SUSPENDED))}) {
    const Eligibility decision = DecideEligibility(BaseInput(), person, {});
    ASSERT_FALSE(decision.status.ok());
    EXPECT_THAT(std::string(decision.status.message()), ::testing::Not(HasSubstr(kIdNumber)));
  }
}

// ---------------------------------------------------------------------------------------------
// FilingCovers and RemoteCareOf

TEST(FilingCoversTest, ValidityWindow) {
  const absl::CivilDay admission(2026, 3, 10);
  const absl::CivilDay discharge(2026, 3, 20);
  struct {
    const char* start;
    const char* end;
    bool covers;
  } cases[] = {
      {"2026-01-01", "", true},             // no expiry
      {"2026-01-01", "2026-03-09", false},  // expired the day before admission
      {"2026-01-01", "2026-03-10", true},   // expires on the admission day
      {"2026-01-01", "2026-03-11", true},   // expires during the stay
      {"2026-03-10", "2026-09-10", true},   // starts on the admission day
      {"2026-03-20", "2026-09-20", true},   // late filing on the discharge day
      {"2026-03-21", "2026-09-21", false},  // after discharge: manual claim
      {"", "", false},                      // no start date
      {"2026-01-01", "2026-3-31", false},   // malformed end date
  };
  for (const auto& c : cases) {
    const Filing filing = MakeFiling("F", kOther, "360100", c.start, c.end);
    EXPECT_EQ(FilingCovers(filing, "360100", admission, discharge), c.covers)
        << c.start << " .. " << c.end;
  }
}

TEST(FilingCoversTest, WhichRegionsAFilingNames) {
  const absl::CivilDay admission(2026, 3, 10);
  const absl::CivilDay discharge(2026, 3, 20);
  struct {
    const char* filed;
    const char* treatment;
    bool covers;
  } cases[] = {
      {"360100", "360100", true},   // the city
      {"360102", "360100", true},   // a county in it
      {"360700", "360100", false},  // another city
      {"360702", "360100", false},  // a county of another city
      {"360000", "360100", false},  // a province that does not pool at provincial level
      {"500000", "500000", true},   // provincial-level pool named as the province
      {"500103", "500000", true},   // a district of it
      {"500241", "500000", true},   // a county of it
      {"110105", "500000", false},  // another province's district
      {"", "360100", false},        // names nothing
  };
  for (const auto& c : cases) {
    const Filing filing = MakeFiling("F", kLongTerm, c.filed, "2025-01-01", "");
    EXPECT_EQ(FilingCovers(filing, c.treatment, admission, discharge), c.covers)
        << c.filed << " for " << c.treatment;
  }
}

TEST(FilingCoversTest, CancelledNeverCovers) {
  const Filing filing = MakeFiling("F", kLongTerm, "360100", "2025-01-01", "", true);
  EXPECT_FALSE(FilingCovers(filing, "360100", absl::CivilDay(2026, 3, 10),
                            absl::CivilDay(2026, 3, 20)));
}

TEST(RemoteCareOfTest, CategoryGroups) {
  EXPECT_EQ(RemoteCareOf(kRetiree), RemoteCare::kLocal);
  EXPECT_EQ(RemoteCareOf(kLongTerm), RemoteCare::kLocal);
  EXPECT_EQ(RemoteCareOf(kPosted), RemoteCare::kLocal);
  EXPECT_EQ(RemoteCareOf(kReferred), RemoteCare::kReferredOrEmergency);
  EXPECT_EQ(RemoteCareOf(kEmergency), RemoteCare::kReferredOrEmergency);
  EXPECT_EQ(RemoteCareOf(kOther), RemoteCare::kOtherTemporary);
}

// --- Coverage by kind of care, cancellation dates, undertakings (filing life cycle) ----------

// Rules covering inpatient and chronic care only, with outpatient and pharmacy free of filing
// (the Yunnan reading of 001_3a9ac0cfb3167a7f.txt 第12条).
yidi::v1::FilingRules YunnanStyleRules() {
  yidi::v1::FilingRules rules;
  rules.set_insured_region("210100");
  rules.add_covered_care(yidi::v1::CARE_KIND_INPATIENT);
  rules.add_covered_care(yidi::v1::CARE_KIND_CHRONIC_OUTPATIENT);
  rules.add_care_without_filing(yidi::v1::CARE_KIND_OUTPATIENT);
  rules.add_care_without_filing(yidi::v1::CARE_KIND_PHARMACY);
  rules.set_intra_province_filing_required(true);
  return rules;
}

TEST(DecideEligibilityTest, CoverageByKindOfCare) {
  const auto person = Person();
  const yidi::v1::FilingRules rules = YunnanStyleRules();
  Filing inpatient_only = MakeFiling("F-IN", kOther, "360100", "2026-01-01", "2026-06-30");
  inpatient_only.add_covered_care(yidi::v1::CARE_KIND_INPATIENT);
  const Filing seeded = MakeFiling("F-ALL", kOther, "360100", "2026-01-01", "2026-06-30");

  struct Case {
    const char* name;
    yidi::v1::MedicalType medical_type;
    const yidi::v1::FilingRules* rules;
    std::vector<Filing> filings;
    absl::StatusCode code;
    RemoteCare remote_care;
    const char* filing_id;
  };
  const Case cases[] = {
      {"covered inpatient", yidi::v1::MEDICAL_TYPE_INPATIENT, nullptr, {inpatient_only},
       absl::StatusCode::kOk, RemoteCare::kOtherTemporary, "F-IN"},
      {"the filing does not cover chronic care", yidi::v1::MEDICAL_TYPE_CHRONIC_OUTPATIENT,
       nullptr, {inpatient_only}, absl::StatusCode::kFailedPrecondition, RemoteCare::kLocal, ""},
      {"no medical type: an identity check", yidi::v1::MEDICAL_TYPE_UNSPECIFIED, nullptr,
       {inpatient_only}, absl::StatusCode::kOk, RemoteCare::kOtherTemporary, "F-IN"},
      {"a seeded filing follows the rules: chronic covered", yidi::v1::MEDICAL_TYPE_CHRONIC_OUTPATIENT,
       &rules, {seeded}, absl::StatusCode::kOk, RemoteCare::kOtherTemporary, "F-ALL"},
      {"a seeded filing follows the rules: pharmacy not covered, but free of filing",
       yidi::v1::MEDICAL_TYPE_PHARMACY, &rules, {seeded}, absl::StatusCode::kOk,
       RemoteCare::kUnfiled, ""},
      {"Yunnan outpatient needs no filing (001 第12条)", yidi::v1::MEDICAL_TYPE_OUTPATIENT,
       &rules, {}, absl::StatusCode::kOk, RemoteCare::kUnfiled, ""},
      {"Yunnan inpatient needs one", yidi::v1::MEDICAL_TYPE_INPATIENT, &rules, {},
       absl::StatusCode::kFailedPrecondition, RemoteCare::kLocal, ""},
      {"without rules nothing is free of filing", yidi::v1::MEDICAL_TYPE_OUTPATIENT, nullptr, {},
       absl::StatusCode::kFailedPrecondition, RemoteCare::kLocal, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EligibilityInput input = BaseInput();
    input.medical_type = c.medical_type;
    input.filing_rules = c.rules;
    const Eligibility decision = DecideEligibility(input, person, c.filings);
    ASSERT_EQ(decision.status.code(), c.code) << decision.status;
    if (!decision.status.ok()) {
      EXPECT_THAT(decision.status.message(), ::testing::AnyOf(HasSubstr("does not cover"),
                                                              HasSubstr("备案")));
      continue;
    }
    EXPECT_EQ(decision.remote_care, c.remote_care);
    EXPECT_EQ(decision.filing.has_value() ? decision.filing->filing_id() : "",
              std::string(c.filing_id));
  }
}

TEST(FilingCoversTest, CancellationTakesEffectOnItsDay) {
  // Admitted before the cancellation: the filing was in force on the admission date.
  Filing filing = MakeFiling("F", kOther, "360100", "2026-01-01", "2026-12-31", true);
  filing.set_cancelled_on("2026-03-15");
  EXPECT_TRUE(FilingCovers(filing, "360100", absl::CivilDay(2026, 3, 10),
                           absl::CivilDay(2026, 3, 20)));
  EXPECT_FALSE(FilingCovers(filing, "360100", absl::CivilDay(2026, 3, 15),
                            absl::CivilDay(2026, 3, 20)));
}

TEST(FilingCoversTest, UnmetUndertakingEndsAtItsDueDate) {
  // 003_8507b755cfadb9d9.txt 第7条: unfulfilled, the filing is cancelled; coverage does not wait
  // for the sweep that records it.
  Filing filing = MakeFiling("F", kLongTerm, "360100", "2026-01-01", "");
  filing.set_undertaking(true);
  filing.set_materials_complete(false);
  filing.set_materials_due_date("2026-03-31");
  EXPECT_TRUE(FilingCovers(filing, "360100", absl::CivilDay(2026, 3, 31),
                           absl::CivilDay(2026, 4, 5)));
  EXPECT_FALSE(FilingCovers(filing, "360100", absl::CivilDay(2026, 4, 1),
                            absl::CivilDay(2026, 4, 5)));
  filing.set_materials_complete(true);
  EXPECT_TRUE(FilingCovers(filing, "360100", absl::CivilDay(2026, 4, 1),
                           absl::CivilDay(2026, 4, 5)));
}

}  // namespace
}  // namespace yidi::municipal
