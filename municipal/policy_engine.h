// The insured region's policy engine (参保地政策): one engine for every insurance type. The
// policy is data (PolicyConfig, compiled by municipal/policy_set.h; docs/POLICY.md): per kind
// of care a benefit with its deductible rules and an ordered chain of fund rules.
// ComputeSettlement walks the chain over the treatment region's classified bill and returns
// every fund column, the deductible, the personal account, the cash and the accumulator changes
// the settlement makes. Employee (310) and resident (390) insurance are two configurations of
// the same walk.
//
// Pure and thread-safe: the same inputs give the same outcome, so PreSettle and Settle compute
// identically.
//
// Rounding: one rule, half up to the fen, once per computed amount (common/money.h): a fund's
// payment once over all its bands; the expense a capped fund covered once; a year's share of a
// split stay once per part of the bill.
#ifndef YIDI_MUNICIPAL_POLICY_ENGINE_H_
#define YIDI_MUNICIPAL_POLICY_ENGINE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "municipal/policy_set.h"
#include "municipal/remote_care.h"
#include "yidi/v1/common.pb.h"
#include "yidi/v1/config.pb.h"

namespace yidi::municipal {

// Accumulators not named by a benefit or a fund key (per person, insurance type and year).
inline constexpr char kAccInScopePersonalBurdenFen[] = "in_scope_personal_burden_fen";
inline constexpr char kAccPersonalAccountFen[] = "personal_account_fen";
// 门诊共济: what a relative's account paid for this person (the patient's accumulator; the
// relative's balance is debited by InsuredSettlement).
inline constexpr char kAccFamilyAccountFen[] = "family_account_fen";

// A person's accumulators of one year, by name; absent = 0. Heterogeneous lookup.
using AccumulatorValues = std::map<std::string, int64_t, std::less<>>;
// The years a settlement touches, each with its accumulators; an absent year reads as empty.
using YearlyAccumulators = std::map<int, AccumulatorValues>;

// The four parts of a bill, adding up to total.
struct BillAmounts {
  int64_t total_fen = 0;
  int64_t in_scope_fen = 0;
  int64_t class_b_copay_fen = 0;
  int64_t over_cap_fen = 0;
  int64_t self_pay_fen = 0;
};
BillAmounts BillAmountsOf(const yidi::v1::FeeSplit& split);

struct SettlementInput {
  BillAmounts bill;
  yidi::v1::MedicalType medical_type = yidi::v1::MEDICAL_TYPE_UNSPECIFIED;
  yidi::v1::HospitalLevel hospital_level = yidi::v1::HOSPITAL_LEVEL_UNSPECIFIED;
  RemoteCare remote_care = RemoteCare::kLocal;
  absl::CivilDay admission_date;
  absl::CivilDay discharge_date;     // the policy's settlement date; ≥ admission_date
  std::string chronic_disease_code;  // the visit's, for medical type 14
  bool personal_account_consent = false;
  // The person: type, assistance category, subsidies, account balance, chronic diseases on
  // record. Not owned; REQUIRES: non-null, outlives the call.
  const yidi::v1::PersonRecord* person = nullptr;
  int age_years = 0;  // on the admission date
  // 门诊共济: the balance of the relative's account this person may use
  // (PersonRecord.family_account_owner_id_number); 0 = none. Used only with consent, for the
  // benefit's family_parts_with_consent, after the person's own account.
  int64_t family_account_balance_fen = 0;
  // A referred stay: the deductibles the earlier stays of its episode applied
  // (Visit.referral_from_settlement_id). Under REFERRAL_DEDUCTIBLE_CONTINUOUS the stay's own
  // deductible is reduced by it, never below 0.
  int64_t episode_deductible_fen = 0;
};

// SettlementResult's fund columns, indexed by FundColumn number (index 0 unused).
using ColumnAmounts = std::array<int64_t, 9>;

struct FundPaymentLine {
  yidi::v1::FundPaymentType fund_payment_type = yidi::v1::FUND_PAYMENT_TYPE_UNSPECIFIED;
  absl::string_view name;  // points into the CompiledPolicy
  int64_t amount_fen = 0;
};

struct AccumulatorDelta {
  int year = 0;
  absl::string_view name;  // points into the CompiledPolicy or at a constant above
  int64_t delta = 0;
};

struct PolicyOutcome {
  int64_t deductible_applied_fen = 0;
  ColumnAmounts column_fen{};  // what each FundColumn paid
  int64_t fund_total_fen = 0;  // the columns' sum, without the personal account
  int64_t personal_account_fen = 0;  // the person's own account
  int64_t family_account_fen = 0;    // a relative's account (门诊共济)
  int64_t cash_fen = 0;
  // ＃参保地基金 lines: one per fund rule that paid, in chain order, then the personal account,
  // then the relative's account.
  std::vector<FundPaymentLine> fund_payments;
  // What this settlement adds, per year and name: never zero, each (year, name) once.
  std::vector<AccumulatorDelta> accumulator_deltas;
  const CompiledBenefit* benefit = nullptr;  // the benefit the visit settled under
  int year_parts = 1;  // >1 when a stay was split at the year end
};

bool IsRetired(yidi::v1::PersonType type);

// The accumulator years `input` touches under `policy`: the discharge year, or each year
// holding inpatient days of a stay the policy splits at the year end.
// REQUIRES: input.admission_date ≤ input.discharge_date.
std::vector<int> SettlementYears(const CompiledPolicy& policy, const SettlementInput& input);

// Computes the settlement. REQUIRES: input.bill adds up with every part ≥ 0 and ≤ kAmountMaxFen;
// input.person set; `accumulators` holds the years SettlementYears names (absent = zero).
// FAILED_PRECONDITION, with the reason, when the visit has no benefit: a chronic visit whose
// disease is not on the person's record or not on the region's list, or a hospital level
// without a deductible rule.
absl::StatusOr<PolicyOutcome> ComputeSettlement(const CompiledPolicy& policy,
                                                const SettlementInput& input,
                                                const YearlyAccumulators& accumulators);

// Writes the outcome into a slip: deductible, every fund column, fund_total, personal_account
// (the own and a relative's account together: acct_pay), cash, person_part, slip_fund_total and fund_payments (replaced).
void FillSlipAmounts(const PolicyOutcome& outcome, yidi::v1::SettlementResult* result);

}  // namespace yidi::municipal

#endif  // YIDI_MUNICIPAL_POLICY_ENGINE_H_
