// Test support for the policy engine's tests: two small policies with round figures, so that
// every worked case can be computed by hand in the test's comments, and helpers to build
// persons and inputs. Not linked into the node; header-only, included by *_test.cc.
#ifndef YIDI_MUNICIPAL_POLICY_ENGINE_TESTING_H_
#define YIDI_MUNICIPAL_POLICY_ENGINE_TESTING_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "common/id_number.h"
#include "common/status_macros.h"
#include "google/protobuf/text_format.h"
#include "municipal/policy_engine.h"

namespace yidi::municipal::testing {

// Employee policy "Kunming-like" (Yunnan: unfiled direct settlement with a 50% floor, stays
// split at the year end). Figures (元):
//   inpatient deductible per admission: L1 200 (later 100), L2 500 (later 250), L3 1000 (later 500)
//   pooled fund: working L1 90%, L2 85%, L3 80%; retired L1 95%, L2 90%, L3 86%; cap 100 000
//   large-expense subsidy: 90% of what the pooled cap leaves, cap 300 000
//   civil-servant subsidy: 60% of the in-scope personal burden, cap 20 000
//   supplementary insurance: 50% of in-scope burden + class-B co-pay, cap 10 000
//   disabled veteran: 100% of the in-scope burden
//   medical assistance: 特困 90%, 低保 70%, cap 30 000
//   personal account: in scope always; class-B co-pay and self-pay with consent
//   outpatient: deductible 500 a year; L1 60%, L2 55%, L3 50% (retired 70/65/60%); cap 3 000;
//     the account (门诊共济) for every part with consent
//   a relative's account (门诊共济, outpatient, with consent): in scope, class B, self-pay
//   referred stays: the episode's deductibles count (REFERRAL_DEDUCTIBLE_CONTINUOUS)
//   chronic I10: no deductible, 80%, cap 2 000; E11.9: deductible 100 a year, 70%, cap 1 500
//   remote care: referred/emergency −10, other temporary −20, unfiled −35 but not below 50%
inline constexpr char kEmployeePolicyText[] = R"pb(
  insured_region: "530100"
  insurance_type: INSURANCE_TYPE_EMPLOYEE
  effective_from: "2026-01-01"
  name: "test employee"
  demo_values: true
  remote_care {
    referred_or_emergency_reduction_bp: 1000
    other_temporary_reduction_bp: 2000
    intra_province_filing_required: false
    unfiled_direct_settlement: true
    unfiled_reduction_bp: 3500
    unfiled_ratio_floor_bp: 5000
  }
  year_end_split: YEAR_END_SPLIT_BY_DAYS
  benefits {
    id: "inpatient"
    kind: BENEFIT_KIND_INPATIENT
    deductible_period: DEDUCTIBLE_PERIOD_ADMISSION
    referral_deductible: REFERRAL_DEDUCTIBLE_CONTINUOUS
    deductibles { levels: HOSPITAL_LEVEL_1 from_admission: 2 amount_fen: 10000 }
    deductibles { levels: HOSPITAL_LEVEL_1 amount_fen: 20000 }
    deductibles { levels: HOSPITAL_LEVEL_2 from_admission: 2 amount_fen: 25000 }
    deductibles { levels: HOSPITAL_LEVEL_2 amount_fen: 50000 }
    deductibles { levels: HOSPITAL_LEVEL_3 from_admission: 2 amount_fen: 50000 }
    deductibles { levels: HOSPITAL_LEVEL_3 amount_fen: 100000 }
    funds {
      key: "pooled_inpatient"
      column: FUND_COLUMN_POOLED_FUND
      name: "职工基本医疗保险统筹基金"
      base: FUND_BASE_UNCOVERED_IN_SCOPE
      annual_cap_fen: 10000000
      schedules { levels: HOSPITAL_LEVEL_1 who { retirement: RETIREMENT_RETIRED } ratio_bp: 9500 }
      schedules { levels: HOSPITAL_LEVEL_1 ratio_bp: 9000 }
      schedules { levels: HOSPITAL_LEVEL_2 who { retirement: RETIREMENT_RETIRED } ratio_bp: 9000 }
      schedules { levels: HOSPITAL_LEVEL_2 ratio_bp: 8500 }
      schedules { levels: HOSPITAL_LEVEL_3 who { retirement: RETIREMENT_RETIRED } ratio_bp: 8600 }
      schedules { levels: HOSPITAL_LEVEL_3 ratio_bp: 8000 }
    }
    funds {
      key: "large_expense"
      column: FUND_COLUMN_LARGE_EXPENSE
      name: "职工大额医疗费用补助"
      base: FUND_BASE_UNCOVERED_IN_SCOPE
      annual_cap_fen: 30000000
      schedules { ratio_bp: 9000 }
    }
    funds {
      key: "civil_servant"
      column: FUND_COLUMN_CIVIL_SERVANT
      name: "公务员医疗补助"
      base: FUND_BASE_IN_SCOPE_PERSONAL
      who { civil_servant_subsidy: true }
      annual_cap_fen: 2000000
      schedules { ratio_bp: 6000 }
    }
    funds {
      key: "supplementary"
      column: FUND_COLUMN_SUPPLEMENTARY
      name: "补充医疗保险"
      base: FUND_BASE_IN_SCOPE_AND_CLASS_B
      who { supplementary_insurance: true }
      annual_cap_fen: 1000000
      schedules { ratio_bp: 5000 }
    }
    funds {
      key: "disabled_veteran"
      column: FUND_COLUMN_DISABLED_VETERAN
      name: "伤残人员医疗保障"
      base: FUND_BASE_IN_SCOPE_PERSONAL
      who { disabled_veteran: true }
      schedules { ratio_bp: 10000 }
    }
    funds {
      key: "assistance"
      column: FUND_COLUMN_MEDICAL_ASSISTANCE
      name: "医疗救助"
      base: FUND_BASE_IN_SCOPE_PERSONAL
      annual_cap_fen: 3000000
      schedules { who { assistance_categories: ASSISTANCE_CATEGORY_EXTREMELY_POOR } ratio_bp: 9000 }
      schedules { who { assistance_categories: ASSISTANCE_CATEGORY_MINIMUM_LIVING } ratio_bp: 7000 }
    }
    personal_account {
      parts: BILL_PART_IN_SCOPE
      parts_with_consent: [BILL_PART_CLASS_B_COPAY, BILL_PART_SELF_PAY]
    }
  }
  benefits {
    id: "outpatient"
    kind: BENEFIT_KIND_OUTPATIENT
    deductible_period: DEDUCTIBLE_PERIOD_YEAR
    deductibles { amount_fen: 50000 }
    funds {
      key: "pooled_outpatient"
      column: FUND_COLUMN_POOLED_FUND
      name: "职工基本医疗保险统筹基金（门诊）"
      base: FUND_BASE_UNCOVERED_IN_SCOPE
      annual_cap_fen: 300000
      schedules { levels: HOSPITAL_LEVEL_1 who { retirement: RETIREMENT_RETIRED } ratio_bp: 7000 }
      schedules { levels: HOSPITAL_LEVEL_1 ratio_bp: 6000 }
      schedules { levels: HOSPITAL_LEVEL_2 who { retirement: RETIREMENT_RETIRED } ratio_bp: 6500 }
      schedules { levels: HOSPITAL_LEVEL_2 ratio_bp: 5500 }
      schedules { levels: HOSPITAL_LEVEL_3 who { retirement: RETIREMENT_RETIRED } ratio_bp: 6000 }
      schedules { levels: HOSPITAL_LEVEL_3 ratio_bp: 5000 }
    }
    personal_account {
      parts_with_consent: [BILL_PART_IN_SCOPE, BILL_PART_CLASS_B_COPAY, BILL_PART_OVER_CAP,
                           BILL_PART_SELF_PAY]
      family_parts_with_consent: [BILL_PART_IN_SCOPE, BILL_PART_CLASS_B_COPAY, BILL_PART_SELF_PAY]
    }
  }
  benefits {
    id: "chronic_hypertension"
    kind: BENEFIT_KIND_CHRONIC_OUTPATIENT
    chronic_disease_codes: "I10"
    deductible_period: DEDUCTIBLE_PERIOD_YEAR
    deductibles { amount_fen: 0 }
    funds {
      key: "pooled_hypertension"
      column: FUND_COLUMN_POOLED_FUND
      name: "职工基本医疗保险统筹基金（门诊慢特病）"
      base: FUND_BASE_UNCOVERED_IN_SCOPE
      annual_cap_fen: 200000
      schedules { ratio_bp: 8000 }
    }
  }
  benefits {
    id: "chronic_diabetes"
    kind: BENEFIT_KIND_CHRONIC_OUTPATIENT
    chronic_disease_codes: "E11.9"
    deductible_period: DEDUCTIBLE_PERIOD_YEAR
    deductibles { amount_fen: 10000 }
    funds {
      key: "pooled_diabetes"
      column: FUND_COLUMN_POOLED_FUND
      name: "职工基本医疗保险统筹基金（门诊慢特病）"
      base: FUND_BASE_UNCOVERED_IN_SCOPE
      annual_cap_fen: 150000
      schedules { ratio_bp: 7000 }
    }
  }
)pb";

// Resident policy (one bill at a year end). Figures (元):
//   inpatient deductible per admission: 特困 none; L1 100, L2 300, L3 600
//   pooled fund: L1 90%, L2 75%, L3 60%; cap 150 000
//   critical illness on the yearly cumulative in-scope personal burden (inpatient and chronic
//     share it): ordinary persons from 10 000 at 60%, from 50 000 65%, from 100 000 75%, cap
//     300 000; 特困 and 低保 from 5 000 at 65%, from 50 000 70%, from 100 000 80%, no cap
//   medical assistance: 特困 80%, 低保 70%, cap 50 000
//   outpatient: deductible L1 none, else 200 a year; 50%; cap 800; an employee relative's
//     account (门诊共济) for the in-scope burden, with consent
//   chronic I10: no deductible, 60%, cap 1 000, then critical illness
inline constexpr char kResidentPolicyText[] = R"pb(
  insured_region: "530100"
  insurance_type: INSURANCE_TYPE_RESIDENT
  effective_from: "2026-01-01"
  name: "test resident"
  demo_values: true
  remote_care {
    referred_or_emergency_reduction_bp: 1000
    other_temporary_reduction_bp: 2000
    intra_province_filing_required: true
  }
  benefits {
    id: "inpatient"
    kind: BENEFIT_KIND_INPATIENT
    deductible_period: DEDUCTIBLE_PERIOD_ADMISSION
    deductibles { who { assistance_categories: ASSISTANCE_CATEGORY_EXTREMELY_POOR } amount_fen: 0 }
    deductibles { levels: HOSPITAL_LEVEL_1 amount_fen: 10000 }
    deductibles { levels: HOSPITAL_LEVEL_2 amount_fen: 30000 }
    deductibles { levels: HOSPITAL_LEVEL_3 amount_fen: 60000 }
    funds {
      key: "pooled_inpatient"
      column: FUND_COLUMN_POOLED_FUND
      name: "城乡居民基本医疗保险统筹基金"
      base: FUND_BASE_UNCOVERED_IN_SCOPE
      annual_cap_fen: 15000000
      schedules { levels: HOSPITAL_LEVEL_1 ratio_bp: 9000 }
      schedules { levels: HOSPITAL_LEVEL_2 ratio_bp: 7500 }
      schedules { levels: HOSPITAL_LEVEL_3 ratio_bp: 6000 }
    }
    funds {
      key: "critical_illness"
      column: FUND_COLUMN_CRITICAL_ILLNESS
      name: "城乡居民大病保险"
      base: FUND_BASE_IN_SCOPE_PERSONAL
      annual_cap_fen: 30000000
      schedules {
        who { assistance_categories: [ASSISTANCE_CATEGORY_EXTREMELY_POOR,
                                      ASSISTANCE_CATEGORY_MINIMUM_LIVING] }
        bands { from_fen: 500000 ratio_bp: 6500 }
        bands { from_fen: 5000000 ratio_bp: 7000 }
        bands { from_fen: 10000000 ratio_bp: 8000 }
        no_annual_cap: true
      }
      schedules {
        bands { from_fen: 1000000 ratio_bp: 6000 }
        bands { from_fen: 5000000 ratio_bp: 6500 }
        bands { from_fen: 10000000 ratio_bp: 7500 }
      }
    }
    funds {
      key: "assistance"
      column: FUND_COLUMN_MEDICAL_ASSISTANCE
      name: "医疗救助"
      base: FUND_BASE_IN_SCOPE_PERSONAL
      annual_cap_fen: 5000000
      schedules { who { assistance_categories: ASSISTANCE_CATEGORY_EXTREMELY_POOR } ratio_bp: 8000 }
      schedules { who { assistance_categories: ASSISTANCE_CATEGORY_MINIMUM_LIVING } ratio_bp: 7000 }
    }
  }
  benefits {
    id: "outpatient"
    kind: BENEFIT_KIND_OUTPATIENT
    deductible_period: DEDUCTIBLE_PERIOD_YEAR
    deductibles { levels: HOSPITAL_LEVEL_1 amount_fen: 0 }
    deductibles { amount_fen: 20000 }
    funds {
      key: "pooled_outpatient"
      column: FUND_COLUMN_POOLED_FUND
      name: "城乡居民基本医疗保险统筹基金（门诊）"
      base: FUND_BASE_UNCOVERED_IN_SCOPE
      annual_cap_fen: 80000
      schedules { ratio_bp: 5000 }
    }
    personal_account { family_parts_with_consent: BILL_PART_IN_SCOPE }
  }
  benefits {
    id: "chronic_hypertension"
    kind: BENEFIT_KIND_CHRONIC_OUTPATIENT
    chronic_disease_codes: "I10"
    deductible_period: DEDUCTIBLE_PERIOD_YEAR
    deductibles { amount_fen: 0 }
    funds {
      key: "pooled_hypertension"
      column: FUND_COLUMN_POOLED_FUND
      name: "城乡居民基本医疗保险统筹基金（门诊慢特病）"
      base: FUND_BASE_UNCOVERED_IN_SCOPE
      annual_cap_fen: 100000
      schedules { ratio_bp: 6000 }
    }
    funds {
      key: "critical_illness"
      column: FUND_COLUMN_CRITICAL_ILLNESS
      name: "城乡居民大病保险"
      base: FUND_BASE_IN_SCOPE_PERSONAL
      annual_cap_fen: 30000000
      schedules { bands { from_fen: 1000000 ratio_bp: 6000 } }
    }
  }
)pb";

// The policy text parsed, with its insured region replaced by `region` when given.
inline yidi::v1::PolicyConfig ParsePolicy(const char* text, absl::string_view region = "") {
  yidi::v1::PolicyConfig policy;
  const bool parsed = google::protobuf::TextFormat::ParseFromString(text, &policy);
  YIDI_CHECK(parsed, "the test policies parse");
  if (!region.empty()) policy.set_insured_region(std::string(region));
  return policy;
}

// A well-formed ID number: region + birth date + 3-digit sequence + check character.
inline std::string TestIdNumber(absl::string_view region, absl::string_view birth_yyyymmdd,
                                int sequence) {
  std::string first17 = absl::StrCat(region, birth_yyyymmdd, absl::Dec(sequence, absl::kZeroPad3));
  return absl::StrCat(first17, std::string(1, IdNumberCheckCharacter(first17)));
}

}  // namespace yidi::municipal::testing

#endif  // YIDI_MUNICIPAL_POLICY_ENGINE_TESTING_H_
