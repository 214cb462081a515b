// Tests for municipal/policy_set.h: a policy that breaks a national limit or is not well-formed
// is rejected at load with the field and the reason; versions are found by date; every demo
// policy of deploy/demo loads.
#include "municipal/policy_set.h"

#include <filesystem>
#include <functional>
#include <string>

#include "common/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "municipal/policy_engine_testing.h"

#ifndef YIDI_SOURCE_DIR
#define YIDI_SOURCE_DIR "."
#endif

namespace yidi::municipal {
namespace {

using ::testing::HasSubstr;
using testing::kEmployeePolicyText;
using testing::kResidentPolicyText;
using testing::ParsePolicy;

TEST(PolicySetTest, AcceptsTheTestPoliciesAndTheNationalLimitsExactly) {
  yidi::v1::PolicyConfig policy = ParsePolicy(kEmployeePolicyText);
  policy.mutable_remote_care()->set_referred_or_emergency_reduction_bp(1000);
  policy.mutable_remote_care()->set_other_temporary_reduction_bp(2000);
  PolicySet set;
  EXPECT_TRUE(set.Add(policy, "530100").ok());
  EXPECT_TRUE(set.Add(ParsePolicy(kResidentPolicyText), "530100").ok());
}

struct BadPolicyCase {
  const char* name;
  const char* text;  // the policy to spoil
  std::function<void(yidi::v1::PolicyConfig&)> spoil;
  const char* message_part;
};

yidi::v1::FundRule& InpatientFund(yidi::v1::PolicyConfig& p, int i) {
  return *p.mutable_benefits(0)->mutable_funds(i);
}

TEST(PolicySetTest, RejectsBadPoliciesWithTheReason) {
  const BadPolicyCase cases[] = {
      {"referred reduction 1001 bp", kEmployeePolicyText,
       [](auto& p) { p.mutable_remote_care()->set_referred_or_emergency_reduction_bp(1001); },
       "breaks the national limit of 10 percentage points"},
      {"other temporary reduction 2001 bp", kEmployeePolicyText,
       [](auto& p) { p.mutable_remote_care()->set_other_temporary_reduction_bp(2001); },
       "breaks the national limit of 20 percentage points"},
      {"negative reduction", kEmployeePolicyText,
       [](auto& p) { p.mutable_remote_care()->set_other_temporary_reduction_bp(-1); },
       "remote_care.other_temporary_reduction_bp"},
      {"unfiled floor above 100%", kEmployeePolicyText,
       [](auto& p) { p.mutable_remote_care()->set_unfiled_ratio_floor_bp(10001); },
       "remote_care.unfiled_ratio_floor_bp"},
      {"unfiled reduction without the switch", kResidentPolicyText,
       [](auto& p) { p.mutable_remote_care()->set_unfiled_reduction_bp(1000); },
       "unfiled_direct_settlement"},
      {"ratio above 100%", kEmployeePolicyText,
       [](auto& p) { InpatientFund(p, 0).mutable_schedules(1)->set_ratio_bp(10001); },
       "benefits[0].funds[0].schedules[1].ratio_bp"},
      {"band ratio negative", kResidentPolicyText,
       [](auto& p) {
         InpatientFund(p, 1).mutable_schedules(1)->mutable_bands(2)->set_ratio_bp(-5);
       },
       "benefits[0].funds[1].schedules[1].bands[2].ratio_bp"},
      {"bands out of order", kResidentPolicyText,
       [](auto& p) {
         InpatientFund(p, 1).mutable_schedules(1)->mutable_bands(1)->set_from_fen(100);
       },
       "bands must ascend strictly"},
      {"ratio and bands", kResidentPolicyText,
       [](auto& p) { InpatientFund(p, 1).mutable_schedules(1)->set_ratio_bp(5000); },
       "not both"},
      {"negative deductible", kEmployeePolicyText,
       [](auto& p) { p.mutable_benefits(0)->mutable_deductibles(5)->set_amount_fen(-1); },
       "benefits[0].deductibles[5].amount_fen"},
      {"negative cap", kEmployeePolicyText,
       [](auto& p) { InpatientFund(p, 0).set_annual_cap_fen(-1); },
       "benefits[0].funds[0].annual_cap_fen"},
      {"cap above the amount limit", kEmployeePolicyText,
       [](auto& p) { InpatientFund(p, 1).set_annual_cap_fen(2'000'000'000'000); },
       "benefits[0].funds[1].annual_cap_fen"},
      {"a level without a deductible for everyone", kEmployeePolicyText,
       [](auto& p) { p.mutable_benefits(0)->mutable_deductibles()->RemoveLast(); },
       "no rule for hospital level 3"},
      {"a level without a pooled-fund ratio for everyone", kEmployeePolicyText,
       [](auto& p) { InpatientFund(p, 0).mutable_schedules()->RemoveLast(); },
       "no pooled-fund schedule for hospital level 3"},
      {"chain out of order", kEmployeePolicyText,
       [](auto& p) { InpatientFund(p, 1).set_base(yidi::v1::FUND_BASE_IN_SCOPE_PERSONAL);
                     InpatientFund(p, 2).set_base(yidi::v1::FUND_BASE_UNCOVERED_IN_SCOPE); },
       "must come before every rule on the person's burden"},
      {"large expense in a resident policy", kResidentPolicyText,
       [](auto& p) { InpatientFund(p, 1).set_column(yidi::v1::FUND_COLUMN_LARGE_EXPENSE); },
       "FUND_COLUMN_LARGE_EXPENSE is not a fund of INSURANCE_TYPE_RESIDENT"},
      {"critical illness in an employee policy", kEmployeePolicyText,
       [](auto& p) { InpatientFund(p, 1).set_column(yidi::v1::FUND_COLUMN_CRITICAL_ILLNESS); },
       "is not a fund of INSURANCE_TYPE_EMPLOYEE"},
      {"personal account in a resident policy", kResidentPolicyText,
       [](auto& p) {
         p.mutable_benefits(0)->mutable_personal_account()->add_parts(
             yidi::v1::BILL_PART_IN_SCOPE);
       },
       "employee insurance (310) only"},
      {"key twice in one chain", kEmployeePolicyText,
       [](auto& p) { InpatientFund(p, 2).set_key("large_expense"); }, "appears twice"},
      {"key with a capital", kEmployeePolicyText,
       [](auto& p) { InpatientFund(p, 0).set_key("Pooled"); }, "may hold only a-z, 0-9 and _"},
      {"shared key, other column", kResidentPolicyText,
       [](auto& p) {
         p.mutable_benefits(2)->mutable_funds(1)->set_column(
             yidi::v1::FUND_COLUMN_MEDICAL_ASSISTANCE);
       },
       "same column and base"},
      {"fund without a name", kEmployeePolicyText,
       [](auto& p) { InpatientFund(p, 0).clear_name(); }, "name"},
      {"no outpatient benefit", kEmployeePolicyText,
       [](auto& p) { p.mutable_benefits()->DeleteSubrange(1, 1); },
       "an inpatient and an outpatient benefit are required"},
      {"two inpatient benefits", kEmployeePolicyText,
       [](auto& p) {
         auto copy = p.benefits(0);
         copy.set_id("inpatient_again");
         *p.add_benefits() = copy;
       },
       "a second benefit of this kind"},
      {"chronic code listed twice", kEmployeePolicyText,
       [](auto& p) { p.mutable_benefits(3)->set_chronic_disease_codes(0, "I10"); },
       "listed by two chronic benefits"},
      {"deductible per admission for outpatient", kEmployeePolicyText,
       [](auto& p) {
         p.mutable_benefits(1)->set_deductible_period(yidi::v1::DEDUCTIBLE_PERIOD_ADMISSION);
       },
       "needs an inpatient benefit"},
      {"age bounds reversed", kEmployeePolicyText,
       [](auto& p) {
         auto* who = p.mutable_benefits(0)->mutable_deductibles(0)->mutable_who();
         who->set_age_from_years(70);
         who->set_age_below_years(6);
       },
       "from < below"},
      {"bad effective date", kEmployeePolicyText,
       [](auto& p) { p.set_effective_from("2026-1-1"); }, "effective_from"},
      {"insurance type unspecified", kEmployeePolicyText,
       [](auto& p) { p.set_insurance_type(yidi::v1::INSURANCE_TYPE_UNSPECIFIED); },
       "insurance_type"},
      {"wrong insured region", kEmployeePolicyText,
       [](auto& p) { p.set_insured_region("360100"); }, "is not this node's 530100"},
  };
  for (const BadPolicyCase& c : cases) {
    SCOPED_TRACE(c.name);
    yidi::v1::PolicyConfig policy = ParsePolicy(c.text);
    c.spoil(policy);
    PolicySet set;
    const absl::Status status = set.Add(policy, "530100");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(status.message(), HasSubstr(c.message_part));
    // A rejected policy is not in force afterwards.
    EXPECT_EQ(set.Find(policy.insurance_type(), absl::CivilDay(2026, 6, 1)).status().code(),
              absl::StatusCode::kNotFound);
  }
}

TEST(PolicySetTest, RejectsTwoVersionsStartingOnOneDay) {
  PolicySet set;
  ASSERT_TRUE(set.Add(ParsePolicy(kEmployeePolicyText), "530100").ok());
  const absl::Status again = set.Add(ParsePolicy(kEmployeePolicyText), "530100");
  EXPECT_EQ(again.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(again.message(), HasSubstr("already starts on 2026-01-01"));
  EXPECT_TRUE(set.Add(ParsePolicy(kResidentPolicyText), "530100").ok());  // other type
}

TEST(PolicySetTest, FindPicksTheVersionInForce) {
  yidi::v1::PolicyConfig v2025 = ParsePolicy(kEmployeePolicyText);
  v2025.set_effective_from("2025-01-01");
  v2025.set_name("v2025");
  yidi::v1::PolicyConfig v2026 = ParsePolicy(kEmployeePolicyText);
  v2026.set_name("v2026");
  v2026.set_effective_from("2026-07-01");
  PolicySet set;
  ASSERT_TRUE(set.Add(v2026, "530100").ok());  // added out of order on purpose
  ASSERT_TRUE(set.Add(v2025, "530100").ok());

  const auto employee = yidi::v1::INSURANCE_TYPE_EMPLOYEE;
  const auto before = set.Find(employee, absl::CivilDay(2024, 12, 31));
  EXPECT_EQ(before.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(before.status().message(), HasSubstr("2024-12-31"));
  struct {
    absl::CivilDay day;
    const char* name;
  } expectations[] = {{absl::CivilDay(2025, 1, 1), "v2025"},
                      {absl::CivilDay(2026, 6, 30), "v2025"},
                      {absl::CivilDay(2026, 7, 1), "v2026"},
                      {absl::CivilDay(2030, 6, 1), "v2026"}};
  for (const auto& e : expectations) {
    const auto found = set.Find(employee, e.day);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ((*found)->config().name(), e.name) << e.day;
  }
  EXPECT_EQ(set.Find(yidi::v1::INSURANCE_TYPE_RESIDENT, absl::CivilDay(2026, 6, 1))
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST(PolicySetTest, EveryDemoPolicyLoadsAndIsLabelledDemo) {
  const std::filesystem::path demo = std::filesystem::path(YIDI_SOURCE_DIR) / "deploy" / "demo";
  int loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(demo)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind("policy_", 0) != 0) continue;
    SCOPED_TRACE(file);
    yidi::v1::PolicyConfig policy;
    ASSERT_TRUE(LoadTextProtoFile(entry.path().string(), &policy).ok());
    PolicySet set;
    const absl::Status added = set.Add(policy, policy.insured_region());
    EXPECT_TRUE(added.ok()) << added;
    EXPECT_TRUE(policy.demo_values());
    EXPECT_THAT(policy.name(), HasSubstr("DEMO values"));
    ++loaded;
  }
  EXPECT_EQ(loaded, 8);  // 4 insured regions × 2 insurance types
}

}  // namespace
}  // namespace yidi::municipal
