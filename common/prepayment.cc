#include "common/prepayment.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/money.h"
#include "common/prepayment_formulas.h"
#include "common/status_macros.h"
#include "common/transfer_obligations.h"

namespace yidi {

using yidi::v1::PrepaymentPolicy;
using yidi::v1::PrepaymentQuota;
using yidi::v1::QuotaScope;
using yidi::v1::TransferObligation;
using yidi::v1::UsageReport;

std::vector<Migration> PrepaymentMigrations() {
  return {
      {23,
       "prepayment_quota: each year's quotas and their adjustment against last year",
       {"CREATE TABLE prepayment_quota ("
        " year INTEGER NOT NULL,"
        " payer_region VARCHAR(6) NOT NULL,"
        " receiver_region VARCHAR(6) NOT NULL,"
        " scope INTEGER NOT NULL,"
        " receiver_reserve INTEGER NOT NULL,"
        " base_total_fen BIGINT NOT NULL,"
        " base_months INTEGER NOT NULL,"
        " formula_quota_fen BIGINT NOT NULL,"
        " quota_fen BIGINT NOT NULL,"
        " previous_quota_fen BIGINT NOT NULL,"
        " first_year INTEGER NOT NULL,"
        " adjustment_fen BIGINT NOT NULL,"
        " formula VARCHAR(100) NOT NULL,"
        " obligation_id VARCHAR(96) NOT NULL,"
        " computed_at VARCHAR(32) NOT NULL,"
        " PRIMARY KEY (year, payer_region, receiver_region, scope))"}},
      {24,
       "prepayment_clearing: each signed clearing of a pair and its usage rate",
       {"CREATE TABLE prepayment_clearing ("
        " clearing_month VARCHAR(7) NOT NULL,"
        " payer_region VARCHAR(6) NOT NULL,"
        " receiver_region VARCHAR(6) NOT NULL,"
        " scope INTEGER NOT NULL,"
        " clearing_fen BIGINT NOT NULL,"
        " settlement_fen BIGINT NOT NULL,"
        " uncleared_fen BIGINT NOT NULL,"
        " signed_date VARCHAR(10) NOT NULL,"
        " next_clearing_date VARCHAR(10) NOT NULL,"
        " quota_fen BIGINT NOT NULL,"
        " increases_fen BIGINT NOT NULL,"
        " numerator_fen BIGINT NOT NULL,"
        " usage_bp INTEGER NOT NULL,"
        " warning_level INTEGER NOT NULL,"
        " formula VARCHAR(200) NOT NULL,"
        " apply_by VARCHAR(10) NOT NULL,"
        " suggested_increase_fen BIGINT NOT NULL,"
        " increase_mandatory INTEGER NOT NULL,"
        " suggested_top_up_fen BIGINT NOT NULL,"
        " clearing_obligation_id VARCHAR(96) NOT NULL,"
        " emergency_obligation_id VARCHAR(96) NOT NULL,"
        " recorded_at VARCHAR(32) NOT NULL,"
        " PRIMARY KEY (clearing_month, payer_region, receiver_region, scope))"}},
  };
}

PrepaymentPolicy NationalPrepaymentPolicy() {
  PrepaymentPolicy policy;
  policy.set_name("national (000_… 第16–24条)");
  policy.set_quota_base_period(yidi::v1::QUOTA_BASE_PERIOD_Q4);
  policy.set_payer_months(2);
  policy.set_pairwise(true);
  policy.set_usage_numerator(yidi::v1::USAGE_NUMERATOR_MONTHLY_CLEARING);
  policy.set_yellow_bp(7000);
  policy.set_red_bp(9000);
  policy.set_emergency_formula(yidi::v1::EMERGENCY_FORMULA_AS_REQUESTED);
  policy.set_emergency_apply_working_days(3);
  policy.mutable_finance_chain()->set_agency_to_finance_working_days(5);
  policy.mutable_finance_chain()->set_finance_transfer_working_days(10);
  policy.mutable_finance_chain()->set_feedback_working_days(5);
  policy.set_initial_payment_working_days(15);
  policy.set_adjustment_pay_by_month(2);
  policy.set_adjustment_pay_by_day(0);
  policy.mutable_suspension()->set_filings_after_working_days(10);
  policy.mutable_suspension()->set_admissions_after_working_days(20);
  return policy;
}

PrepaymentPolicy WithNationalDefaults(PrepaymentPolicy policy) {
  const PrepaymentPolicy national = NationalPrepaymentPolicy();
  if (policy.name().empty()) policy.set_name(national.name());
  if (policy.quota_base_period() == yidi::v1::QUOTA_BASE_PERIOD_UNSPECIFIED) {
    policy.set_quota_base_period(national.quota_base_period());
  }
  if (policy.payer_months() == 0) policy.set_payer_months(national.payer_months());
  if (policy.usage_numerator() == yidi::v1::USAGE_NUMERATOR_UNSPECIFIED) {
    policy.set_usage_numerator(national.usage_numerator());
  }
  if (policy.yellow_bp() == 0) policy.set_yellow_bp(national.yellow_bp());
  if (policy.red_bp() == 0) policy.set_red_bp(national.red_bp());
  if (policy.emergency_formula() == yidi::v1::EMERGENCY_FORMULA_UNSPECIFIED) {
    policy.set_emergency_formula(national.emergency_formula());
  }
  if (policy.emergency_apply_working_days() == 0) {
    policy.set_emergency_apply_working_days(national.emergency_apply_working_days());
  }
  auto* chain = policy.mutable_finance_chain();
  if (chain->agency_to_finance_working_days() == 0) {
    chain->set_agency_to_finance_working_days(5);
  }
  if (chain->finance_transfer_working_days() == 0) chain->set_finance_transfer_working_days(10);
  if (chain->feedback_working_days() == 0) chain->set_feedback_working_days(5);
  if (policy.initial_payment_working_days() == 0) {
    policy.set_initial_payment_working_days(national.initial_payment_working_days());
  }
  if (policy.adjustment_pay_by_month() == 0) {
    policy.set_adjustment_pay_by_month(national.adjustment_pay_by_month());
  }
  auto* suspension = policy.mutable_suspension();
  if (suspension->filings_after_working_days() == 0) {
    suspension->set_filings_after_working_days(10);
  }
  if (suspension->admissions_after_working_days() == 0) {
    suspension->set_admissions_after_working_days(20);
  }
  return policy;
}

absl::Status ValidatePrepaymentPolicy(const PrepaymentPolicy& policy) {
  auto invalid = [](absl::string_view field, absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
  };
  if (policy.quota_base_period() == yidi::v1::QUOTA_BASE_PERIOD_UNSPECIFIED) {
    return invalid("quota_base_period", "required");
  }
  if (policy.payer_months() < 1 || policy.payer_months() > 12) {
    return invalid("payer_months", "1 to 12");
  }
  if (policy.receiver_months() < 0 || policy.receiver_months() > 12) {
    return invalid("receiver_months", "0 to 12");
  }
  if (policy.pairwise() && policy.receiver_months() != 0) {
    return invalid("receiver_months", "a pairwise policy pays the receiver directly");
  }
  if (policy.yellow_bp() <= 0 || policy.yellow_bp() > policy.red_bp() ||
      policy.red_bp() > kRatioFullBp) {
    return invalid("yellow_bp", "0 < yellow_bp <= red_bp <= 10000");
  }
  if (policy.usage_numerator() == yidi::v1::USAGE_NUMERATOR_UNSPECIFIED) {
    return invalid("usage_numerator", "required");
  }
  if (policy.emergency_formula() == yidi::v1::EMERGENCY_FORMULA_UNSPECIFIED) {
    return invalid("emergency_formula", "required");
  }
  const auto& chain = policy.finance_chain();
  for (auto [field, days] :
       {std::pair<const char*, int>{"finance_chain.agency_to_finance_working_days",
                                    chain.agency_to_finance_working_days()},
        {"finance_chain.finance_transfer_working_days", chain.finance_transfer_working_days()},
        {"finance_chain.feedback_working_days", chain.feedback_working_days()},
        {"emergency_apply_working_days", policy.emergency_apply_working_days()},
        {"initial_payment_working_days", policy.initial_payment_working_days()},
        {"suspension.filings_after_working_days", policy.suspension().filings_after_working_days()},
        {"suspension.admissions_after_working_days",
         policy.suspension().admissions_after_working_days()}}) {
    if (days < 0 || days > kWorkingDaysMax) {
      return invalid(field, absl::StrCat("0 to ", kWorkingDaysMax, " working days"));
    }
  }
  if (policy.adjustment_pay_by_month() < 1 || policy.adjustment_pay_by_month() > 12) {
    return invalid("adjustment_pay_by_month", "1 to 12");
  }
  if (policy.adjustment_pay_by_day() < 0 || policy.adjustment_pay_by_day() > 28) {
    return invalid("adjustment_pay_by_day", "0 (month end) to 28");
  }
  for (const auto& rule : policy.emergency_overrides()) {
    if (rule.region().size() != 6) return invalid("emergency_overrides.region", "6 digits");
    if (rule.emergency_formula() == yidi::v1::EMERGENCY_FORMULA_UNSPECIFIED) {
      return invalid("emergency_overrides.emergency_formula", "required");
    }
  }
  return absl::OkStatus();
}

std::string ProvinceOf(absl::string_view region_code) {
  return absl::StrCat(region_code.substr(0, 2), "0000");
}

std::string IssuerOf(absl::string_view payer_region, absl::string_view receiver_region) {
  const std::string payer_province = ProvinceOf(payer_region);
  return payer_province == ProvinceOf(receiver_region) ? payer_province : "000000";
}

namespace {

constexpr int kYearMin = 2000;
constexpr int kYearMax = 2100;

bool IsRegionCode(absl::string_view text) {
  if (text.size() != 6) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

const char* ScopeLetter(QuotaScope scope) {
  switch (scope) {
    case yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE:
      return "X";
    case yidi::v1::QUOTA_SCOPE_INTRA_PROVINCE:
      return "I";
    case yidi::v1::QUOTA_SCOPE_ALL:
      return "A";
    default:
      return "T";
  }
}

absl::StatusOr<absl::CivilDay> DateOrToday(absl::string_view text, absl::string_view field,
                                           const PrepaymentIssuer& issuer) {
  if (text.empty()) return CstDay(issuer.now);
  auto day = ParseDate(text);
  if (!day.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", day.status().message()));
  }
  return *day;
}

absl::StatusOr<absl::CivilMonth> ParseMonth(absl::string_view text) {
  auto day = ParseDate(absl::StrCat(text, "-01"));
  if (text.size() != 7 || !day.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("clearing_month: \"", text.substr(0, 16), "\" is not YYYY-MM"));
  }
  return absl::CivilMonth(*day);
}

// The same day one month later, or the month's last day when it has fewer days.
absl::CivilDay OneMonthLater(absl::CivilDay day) {
  const absl::CivilMonth next = absl::CivilMonth(day) + 1;
  const absl::CivilDay last = LastDayOfMonth(absl::CivilDay(next));
  return std::min(absl::CivilDay(next) + (day.day() - 1), last);
}

absl::Status CheckIssuer(const PrepaymentIssuer& issuer) {
  if (issuer.kind == yidi::v1::NODE_KIND_MUNICIPAL) {
    return absl::FailedPreconditionError(
        "a municipal node issues no prepayment notices: its province or national does");
  }
  YIDI_CHECK(issuer.policy != nullptr && issuer.calendar != nullptr,
             "an issuer has a policy and a calendar");
  return absl::OkStatus();
}

absl::Status CheckPair(const PrepaymentIssuer& issuer, absl::string_view payer,
                       absl::string_view receiver) {
  if (!IsRegionCode(payer)) return absl::InvalidArgumentError("payer_region: 6 digits");
  if (!IsRegionCode(receiver)) return absl::InvalidArgumentError("receiver_region: 6 digits");
  if (payer == receiver) {
    return absl::InvalidArgumentError("receiver_region: the same as payer_region");
  }
  const std::string issuer_region = IssuerOf(payer, receiver);
  if (issuer_region != issuer.region) {
    return absl::InvalidArgumentError(absl::StrCat("payer_region: notices of ", payer, " → ",
                                                   receiver, " are issued by region ",
                                                   issuer_region, ", not by ", issuer.region));
  }
  return absl::OkStatus();
}

// -------------------------------------------------------------------------------------------
// Quotas

struct QuotaKey {
  std::string payer;
  std::string receiver;
  QuotaScope scope;
  friend bool operator<(const QuotaKey& a, const QuotaKey& b) {
    return std::tie(a.payer, a.receiver, a.scope) < std::tie(b.payer, b.receiver, b.scope);
  }
};

struct QuotaSeries {
  MonthlyFen monthly{};
  bool receiver_reserve = false;
};

constexpr char kQuotaColumns[] =
    "year, payer_region, receiver_region, scope, receiver_reserve, base_total_fen, base_months, "
    "formula_quota_fen, quota_fen, previous_quota_fen, first_year, adjustment_fen, formula, "
    "obligation_id";

PrepaymentQuota QuotaFromRow(const Row& row) {
  PrepaymentQuota quota;
  quota.set_year(static_cast<int32_t>(row.Int(0)));
  quota.set_payer_region(row.Text(1));
  quota.set_receiver_region(row.Text(2));
  quota.set_scope(static_cast<QuotaScope>(row.Int(3)));
  quota.set_receiver_reserve(row.Int(4) != 0);
  quota.set_base_total_fen(row.Int(5));
  quota.set_base_months(static_cast<int32_t>(row.Int(6)));
  quota.set_formula_quota_fen(row.Int(7));
  quota.set_quota_fen(row.Int(8));
  quota.set_previous_quota_fen(row.Int(9));
  quota.set_first_year(row.Int(10) != 0);
  quota.set_adjustment_fen(row.Int(11));
  quota.set_formula(row.Text(12));
  quota.set_obligation_id(row.Text(13));
  return quota;
}

// Last year's settlements by pair and month, as the insured regions' funds paid them (pooled
// fund + personal account); reversals are negative rows and net out.
absl::StatusOr<std::map<QuotaKey, QuotaSeries>> SeriesFromSettlements(
    Transaction& tx, const PrepaymentIssuer& issuer, int base_year) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT insured_region, treatment_region, SUBSTR(settlement_date, 6, 2), "
               "SUM(fund_total_fen + personal_account_fen) FROM settlement_record "
               "WHERE state IN (?, ?) AND settlement_date >= ? AND settlement_date <= ? "
               "GROUP BY insured_region, treatment_region, SUBSTR(settlement_date, 6, 2)",
               {int64_t{yidi::v1::SETTLEMENT_STATE_SETTLED},
                int64_t{yidi::v1::SETTLEMENT_STATE_REVERSED}, absl::StrCat(base_year, "-01-01"),
                absl::StrCat(base_year, "-12-31")}));
  const PrepaymentPolicy& policy = *issuer.policy;
  const std::string& province = issuer.region;
  std::map<QuotaKey, QuotaSeries> series;
  auto add = [&](const std::string& payer, const std::string& receiver, QuotaScope scope,
                 bool reserve, int month, int64_t fen) {
    QuotaSeries& entry = series[{payer, receiver, scope}];
    entry.receiver_reserve = reserve;
    entry.monthly[month] += fen;
  };
  for (const Row& row : rows) {
    const std::string insured = issuer.pooling_region_of(row.Text(0));
    const std::string treatment = issuer.pooling_region_of(row.Text(1));
    int month = 0;
    if (!absl::SimpleAtoi(row.Text(2), &month) || month < 1 || month > 12) continue;
    const int index = month - 1;
    const int64_t fen = row.Int(3);
    if (insured == treatment) continue;
    if (issuer.kind == yidi::v1::NODE_KIND_NATIONAL) {
      const std::string payer = ProvinceOf(insured), receiver = ProvinceOf(treatment);
      if (payer != receiver)
        add(payer, receiver, yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE, false, index, fen);
      continue;
    }
    const bool insured_here = ProvinceOf(insured) == province && insured != province;
    const bool treated_here = ProvinceOf(treatment) == province && treatment != province;
    if (policy.pairwise()) {
      // Yunnan: 州市 ↔ 州市 inside the province; cross-province quotas are national's.
      if (insured_here && treated_here) {
        add(insured, treatment, yidi::v1::QUOTA_SCOPE_INTRA_PROVINCE, false, index, fen);
      }
      continue;
    }
    if (insured_here) {
      const QuotaScope scope =
          !policy.separate_cross_and_intra()
              ? yidi::v1::QUOTA_SCOPE_ALL
              : (ProvinceOf(treatment) == province ? yidi::v1::QUOTA_SCOPE_INTRA_PROVINCE
                                                   : yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE);
      add(insured, province, scope, false, index, fen);
    }
    if (policy.receiver_months() > 0 && treated_here) {
      add(province, treatment, yidi::v1::QUOTA_SCOPE_ALL, true, index, fen);
    }
  }
  return series;
}

std::string QuotaObligationId(int year, const QuotaKey& key) {
  return absl::StrCat("PP-", year, "-", key.payer, "-", key.receiver, "-", ScopeLetter(key.scope));
}

absl::Status InsertQuota(Transaction& tx, const PrepaymentQuota& q, absl::Time now) {
  return tx
      .Execute(absl::StrCat("INSERT INTO prepayment_quota (", kQuotaColumns,
                            ", computed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
               {int64_t{q.year()}, q.payer_region(), q.receiver_region(), int64_t{q.scope()},
                int64_t{q.receiver_reserve() ? 1 : 0}, q.base_total_fen(), int64_t{q.base_months()},
                q.formula_quota_fen(), q.quota_fen(), q.previous_quota_fen(),
                int64_t{q.first_year() ? 1 : 0}, q.adjustment_fen(), q.formula(), q.obligation_id(),
                FormatCstTimestamp(now)})
      .status();
}

// The obligation a quota's notice creates, or nullopt when nothing moves.
absl::StatusOr<std::optional<TransferObligation>> QuotaObligation(const PrepaymentIssuer& issuer,
                                                                  const PrepaymentQuota& quota,
                                                                  const QuotaKey& key,
                                                                  absl::CivilDay signed_day) {
  const int64_t amount = quota.first_year() ? quota.quota_fen() : quota.adjustment_fen();
  if (amount == 0) return std::optional<TransferObligation>();
  TransferObligation obligation;
  obligation.set_obligation_id(QuotaObligationId(quota.year(), key));
  obligation.set_state(yidi::v1::OBLIGATION_STATE_OPEN);
  obligation.set_notice_kind(quota.first_year() ? yidi::v1::NOTICE_KIND_INITIAL_PREPAYMENT
                                                : yidi::v1::NOTICE_KIND_PREPAYMENT_ADJUSTMENT);
  obligation.set_issuer_region(issuer.region);
  obligation.set_returned(amount < 0);
  // A smaller quota is returned by the receiving side ("*", RULES.md 5.4).
  obligation.set_payer_region(amount > 0 ? key.payer : key.receiver);
  obligation.set_receiver_region(amount > 0 ? key.receiver : key.payer);
  obligation.set_amount_fen(amount > 0 ? amount : -amount);
  obligation.set_year(quota.year());
  obligation.set_scope(key.scope);
  obligation.set_signed_date(FormatDate(signed_day));
  obligation.set_memo(absl::StrCat(quota.year(), " 预付金", quota.first_year() ? "" : "额度调整",
                                   amount < 0 ? " *返还" : "", " ", key.payer, "→", key.receiver,
                                   " (", quota.formula(), ")"));
  RETURN_IF_ERROR(
      SetObligationDates(*issuer.calendar, *issuer.policy, OneMonthLater(signed_day), &obligation));
  return std::optional<TransferObligation>(std::move(obligation));
}

}  // namespace

absl::StatusOr<std::vector<PrepaymentQuota>> GetQuotas(Transaction& tx, int year,
                                                       absl::string_view region) {
  std::string sql = absl::StrCat("SELECT ", kQuotaColumns, " FROM prepayment_quota WHERE year = ?");
  std::vector<SqlValue> params = {int64_t{year}};
  if (!region.empty()) {
    sql += " AND (payer_region = ? OR receiver_region = ?)";
    params.emplace_back(std::string(region));
    params.emplace_back(std::string(region));
  }
  sql += " ORDER BY payer_region, receiver_region, scope";
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<PrepaymentQuota> quotas;
  for (const Row& row : rows) quotas.push_back(QuotaFromRow(row));
  return quotas;
}

namespace {

// A year already computed: what was issued, never recomputed.
absl::StatusOr<yidi::v1::ComputeQuotasResponse> StoredQuotas(Transaction& tx,
                                                             std::vector<PrepaymentQuota> stored,
                                                             const PrepaymentPolicy& policy) {
  yidi::v1::ComputeQuotasResponse response;
  response.set_replayed(true);
  int64_t reserve = 0;
  for (auto& quota : stored) {
    if (!quota.obligation_id().empty()) {
      ASSIGN_OR_RETURN(auto obligation, FindObligation(tx, quota.obligation_id()));
      if (obligation.has_value()) *response.add_obligations() = std::move(*obligation);
    }
    reserve += quota.receiver_reserve() ? -quota.quota_fen() : quota.quota_fen();
    *response.add_quotas() = std::move(quota);
  }
  if (policy.receiver_months() > 0) response.set_province_reserve_fen(reserve);
  return response;
}

// 上年额度 of each pair: last year's stored quota plus last year's emergency increases, else the
// figure given for the first year on Yidi. Pairs with one get a quota this year too (possibly 0,
// a return).
absl::Status AddPreviousQuotas(Transaction& tx, const PrepaymentIssuer& issuer,
                               const yidi::v1::ComputeQuotasRequest& request,
                               std::map<QuotaKey, QuotaSeries>* series,
                               std::map<QuotaKey, int64_t>* previous) {
  const int year = request.year();
  std::set<QuotaKey> stored_previous;
  ASSIGN_OR_RETURN(std::vector<PrepaymentQuota> last_year, GetQuotas(tx, year - 1, ""));
  for (const auto& quota : last_year) {
    const QuotaKey key{quota.payer_region(), quota.receiver_region(), quota.scope()};
    ASSIGN_OR_RETURN(int64_t increases,
                     SumObligations(tx, yidi::v1::NOTICE_KIND_EMERGENCY_INCREASE, year - 1,
                                    key.payer, key.receiver, key.scope, std::nullopt));
    (*previous)[key] = quota.quota_fen() + increases;
    stored_previous.insert(key);
    (*series)[key].receiver_reserve = quota.receiver_reserve();
  }
  for (const auto& given : request.previous_quotas()) {
    RETURN_IF_ERROR(CheckPair(issuer, given.payer_region(), given.receiver_region()));
    if (given.quota_fen() < 0 || given.quota_fen() > kAmountMaxFen) {
      return absl::InvalidArgumentError("previous_quotas.quota_fen: out of range");
    }
    const QuotaKey key{given.payer_region(), given.receiver_region(), given.scope()};
    if (stored_previous.count(key) != 0) continue;  // the record wins over a hand-given figure
    (*previous)[key] = given.quota_fen();
    (*series)[key];  // make sure the pair is computed
  }
  return absl::OkStatus();
}

// A province's cities get their quotas (0 without data), so every city sees its line.
void AddCities(const PrepaymentIssuer& issuer, std::map<QuotaKey, QuotaSeries>* series) {
  const PrepaymentPolicy& policy = *issuer.policy;
  if (policy.pairwise() || issuer.kind != yidi::v1::NODE_KIND_PROVINCIAL) return;
  for (const std::string& city : issuer.cities) {
    if (city == issuer.region || ProvinceOf(city) != issuer.region) continue;
    if (policy.separate_cross_and_intra()) {
      (*series)[{city, issuer.region, yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE}];
      (*series)[{city, issuer.region, yidi::v1::QUOTA_SCOPE_INTRA_PROVINCE}];
    } else {
      (*series)[{city, issuer.region, yidi::v1::QUOTA_SCOPE_ALL}];
    }
    if (policy.receiver_months() > 0) {
      (*series)[{issuer.region, city, yidi::v1::QUOTA_SCOPE_ALL}].receiver_reserve = true;
    }
  }
}

// One pair's quota by the policy's formula and its adjustment against 上年额度 (pure).
PrepaymentQuota MakeQuota(int year, const QuotaKey& key, const QuotaSeries& entry,
                          const std::map<QuotaKey, int64_t>& previous,
                          const PrepaymentPolicy& policy) {
  const int months = entry.receiver_reserve ? policy.receiver_months() : policy.payer_months();
  const QuotaComputation computation =
      QuotaFromMonthly(entry.monthly, policy.quota_base_period(), months);
  PrepaymentQuota quota;
  quota.set_year(year);
  quota.set_payer_region(key.payer);
  quota.set_receiver_region(key.receiver);
  quota.set_scope(key.scope);
  quota.set_receiver_reserve(entry.receiver_reserve);
  quota.set_base_total_fen(computation.base_total_fen);
  quota.set_base_months(computation.base_months);
  quota.set_formula_quota_fen(computation.quota_fen);
  quota.set_formula(computation.formula);
  const auto found = previous.find(key);
  quota.set_first_year(found == previous.end());
  const int64_t previous_fen = quota.first_year() ? 0 : found->second;
  const QuotaAdjustment adjustment =
      AdjustQuota(computation.quota_fen, previous_fen, policy.no_decrease() && !quota.first_year());
  quota.set_previous_quota_fen(previous_fen);
  quota.set_quota_fen(adjustment.quota_fen);
  quota.set_adjustment_fen(quota.first_year() ? quota.quota_fen() : adjustment.adjustment_fen);
  return quota;
}

}  // namespace

absl::StatusOr<yidi::v1::ComputeQuotasResponse> ComputeQuotas(
    Transaction& tx, const PrepaymentIssuer& issuer,
    const yidi::v1::ComputeQuotasRequest& request) {
  RETURN_IF_ERROR(CheckIssuer(issuer));
  const int year = request.year();
  if (year < kYearMin || year > kYearMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("year: ", year, " is outside [", kYearMin, ", ", kYearMax, "]"));
  }
  ASSIGN_OR_RETURN(absl::CivilDay signed_day,
                   DateOrToday(request.signed_date(), "signed_date", issuer));
  if (signed_day.year() < year) {
    // The base is the whole previous year (its Q4 or all twelve months): not known before it ends.
    return absl::FailedPreconditionError(
        absl::StrCat("year: the ", year, " quotas rest on all of ", year - 1,
                     "'s settlements; compute them "
                     "from ",
                     year, "-01-01 on (signed_date ", FormatDate(signed_day), ")"));
  }
  const PrepaymentPolicy& policy = *issuer.policy;
  ASSIGN_OR_RETURN(std::vector<PrepaymentQuota> stored, GetQuotas(tx, year, ""));
  if (!stored.empty()) return StoredQuotas(tx, std::move(stored), policy);

  ASSIGN_OR_RETURN(auto series, SeriesFromSettlements(tx, issuer, year - 1));
  std::map<QuotaKey, int64_t> previous;
  RETURN_IF_ERROR(AddPreviousQuotas(tx, issuer, request, &series, &previous));
  AddCities(issuer, &series);
  yidi::v1::ComputeQuotasResponse response;
  int64_t reserve = 0;
  for (const auto& [key, entry] : series) {
    PrepaymentQuota quota = MakeQuota(year, key, entry, previous, policy);
    ASSIGN_OR_RETURN(auto obligation, QuotaObligation(issuer, quota, key, signed_day));
    if (obligation.has_value()) {
      quota.set_obligation_id(obligation->obligation_id());
      RETURN_IF_ERROR(InsertObligation(tx, *obligation, issuer.now));
      *response.add_obligations() = std::move(*obligation);
    }
    RETURN_IF_ERROR(InsertQuota(tx, quota, issuer.now));
    reserve += entry.receiver_reserve ? -quota.quota_fen() : quota.quota_fen();
    *response.add_quotas() = std::move(quota);
  }
  if (policy.receiver_months() > 0) response.set_province_reserve_fen(reserve);
  return response;
}

// ---------------------------------------------------------------------------------------------
// Clearings, usage, emergency increases

namespace {

constexpr char kClearingColumns[] =
    "clearing_month, payer_region, receiver_region, scope, clearing_fen, settlement_fen, "
    "uncleared_fen, signed_date, next_clearing_date, quota_fen, increases_fen, numerator_fen, "
    "usage_bp, warning_level, formula, apply_by, suggested_increase_fen, increase_mandatory, "
    "suggested_top_up_fen, clearing_obligation_id, emergency_obligation_id";

struct ClearingRow {
  UsageReport report;
  int64_t settlement_fen = 0;
  int64_t uncleared_fen = 0;
  std::string next_clearing_date;
};

ClearingRow ClearingFromRow(const Row& row) {
  ClearingRow clearing;
  UsageReport& r = clearing.report;
  r.set_clearing_month(row.Text(0));
  r.set_payer_region(row.Text(1));
  r.set_receiver_region(row.Text(2));
  r.set_scope(static_cast<QuotaScope>(row.Int(3)));
  r.set_clearing_fen(row.Int(4));
  clearing.settlement_fen = row.Int(5);
  clearing.uncleared_fen = row.Int(6);
  r.set_signed_date(row.Text(7));
  clearing.next_clearing_date = row.Text(8);
  r.set_quota_fen(row.Int(9));
  r.set_increases_fen(row.Int(10));
  r.set_prepayment_fen(r.quota_fen() + r.increases_fen());
  r.set_numerator_fen(row.Int(11));
  r.set_usage_bp(static_cast<int32_t>(row.Int(12)));
  r.set_level(static_cast<yidi::v1::WarningLevel>(row.Int(13)));
  r.set_formula(row.Text(14));
  r.set_apply_by(row.Text(15));
  r.set_suggested_increase_fen(row.Int(16));
  r.set_increase_mandatory(row.Int(17) != 0);
  r.set_suggested_top_up_fen(row.Int(18));
  r.set_clearing_obligation_id(row.Text(19));
  r.set_emergency_obligation_id(row.Text(20));
  return clearing;
}

absl::StatusOr<std::optional<ClearingRow>> FindClearing(Transaction& tx, absl::string_view month,
                                                        absl::string_view payer,
                                                        absl::string_view receiver,
                                                        QuotaScope scope) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(absl::StrCat("SELECT ", kClearingColumns,
                            " FROM prepayment_clearing WHERE clearing_month = ? AND "
                            "payer_region = ? AND receiver_region = ? AND scope = ?"),
               {std::string(month), std::string(payer), std::string(receiver), int64_t{scope}}));
  if (rows.empty()) return std::optional<ClearingRow>();
  return std::optional<ClearingRow>(ClearingFromRow(rows.front()));
}

// The receiving region's own rule where the policy names one (national applies Liaoning's).
struct EmergencyRule {
  yidi::v1::EmergencyFormula formula;
  bool red_strictly_above;
};
EmergencyRule RuleFor(const PrepaymentPolicy& policy, absl::string_view receiver) {
  for (const auto& rule : policy.emergency_overrides()) {
    if (rule.region() == receiver) return {rule.emergency_formula(), rule.red_strictly_above()};
  }
  return {policy.emergency_formula(), policy.red_strictly_above()};
}

absl::StatusOr<int64_t> QuotaOfPair(Transaction& tx, int year, absl::string_view payer,
                                    absl::string_view receiver, QuotaScope scope, bool* found) {
  std::string sql =
      "SELECT COUNT(*), COALESCE(SUM(quota_fen), 0) FROM prepayment_quota WHERE year = ? AND "
      "payer_region = ? AND receiver_region = ?";
  std::vector<SqlValue> params = {int64_t{year}, std::string(payer), std::string(receiver)};
  if (scope != yidi::v1::QUOTA_SCOPE_UNSPECIFIED) {
    sql += " AND scope = ?";
    params.emplace_back(int64_t{scope});
  }
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  *found = rows.front().Int(0) > 0;
  return rows.front().Int(1);
}

absl::Status CheckAmount(int64_t fen, absl::string_view field) {
  if (fen < 0 || fen > kAmountMaxFen) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be in [0, ", kAmountMaxFen, "] fen"));
  }
  return absl::OkStatus();
}

}  // namespace

namespace {

// The same clearing again: the stored report (a replay); other figures: ALREADY_EXISTS.
absl::StatusOr<yidi::v1::RecordClearingResponse> StoredClearing(
    Transaction& tx, ClearingRow existing, const yidi::v1::RecordClearingRequest& request,
    absl::CivilDay signed_day) {
  if (existing.report.clearing_fen() != request.clearing_fen() ||
      existing.settlement_fen != request.settlement_fen() ||
      existing.uncleared_fen != request.uncleared_fen() ||
      existing.report.signed_date() != FormatDate(signed_day)) {
    return absl::AlreadyExistsError(absl::StrCat(
        "clearing_fen: the clearing of ", request.clearing_month(), " ", request.payer_region(),
        " → ", request.receiver_region(), " is already recorded with other figures (",
        FormatYuan(existing.report.clearing_fen()), " 元 signed ", existing.report.signed_date(),
        ")"));
  }
  yidi::v1::RecordClearingResponse response;
  response.set_replayed(true);
  if (!existing.report.clearing_obligation_id().empty()) {
    ASSIGN_OR_RETURN(auto obligation, FindObligation(tx, existing.report.clearing_obligation_id()));
    if (obligation.has_value()) *response.mutable_obligation() = std::move(*obligation);
  }
  *response.mutable_usage() = std::move(existing.report);
  return response;
}

// The clearing's payment obligation payer → receiver, due before the next clearing.
std::string ClearingObligationId(const yidi::v1::RecordClearingRequest& request, bool returned) {
  return absl::StrCat("CL-", request.clearing_month(), "-", request.payer_region(), "-",
                      request.receiver_region(), "-", ScopeLetter(request.scope()),
                      returned ? "-R" : "");
}

absl::StatusOr<TransferObligation> IssueClearingObligation(
    Transaction& tx, const PrepaymentIssuer& issuer, const yidi::v1::RecordClearingRequest& request,
    int year, absl::CivilDay signed_day, absl::CivilDay next_clearing, bool returned = false) {
  const std::string& month = request.clearing_month();
  TransferObligation obligation;
  obligation.set_obligation_id(ClearingObligationId(request, returned));
  obligation.set_returned(returned);
  obligation.set_state(yidi::v1::OBLIGATION_STATE_OPEN);
  obligation.set_notice_kind(yidi::v1::NOTICE_KIND_CLEARING);
  obligation.set_issuer_region(issuer.region);
  obligation.set_payer_region(request.payer_region());
  obligation.set_receiver_region(request.receiver_region());
  obligation.set_amount_fen(request.clearing_fen());
  obligation.set_year(year);
  obligation.set_scope(request.scope());
  obligation.set_clearing_month(month);
  obligation.set_signed_date(FormatDate(signed_day));
  obligation.set_memo(absl::StrCat(month, " 清算资金 ", request.payer_region(), "→",
                                   request.receiver_region(), returned ? " (*反向清算)" : ""));
  RETURN_IF_ERROR(SetObligationDates(*issuer.calendar, *issuer.policy, next_clearing, &obligation));
  RETURN_IF_ERROR(InsertObligation(tx, obligation, issuer.now));
  return obligation;
}

// Fills the usage part of `report`: prepayment (quota + increases signed before this clearing),
// the policy's numerator, the level, and when red the window and the formula's increase.
absl::Status AssessUsage(Transaction& tx, const PrepaymentIssuer& issuer,
                         const yidi::v1::RecordClearingRequest& request, int year,
                         absl::CivilDay signed_day, UsageReport* report) {
  const PrepaymentPolicy& policy = *issuer.policy;
  const std::string& payer = request.payer_region();
  const std::string& receiver = request.receiver_region();
  bool has_quota = false;
  ASSIGN_OR_RETURN(int64_t quota,
                   QuotaOfPair(tx, year, payer, receiver, request.scope(), &has_quota));
  ASSIGN_OR_RETURN(int64_t increases,
                   SumObligations(tx, yidi::v1::NOTICE_KIND_EMERGENCY_INCREASE, year, payer,
                                  receiver, request.scope(), signed_day));
  ASSIGN_OR_RETURN(int64_t cleared_unpaid,
                   SumUnpaidClearings(tx, payer, receiver, request.scope()));
  report->set_quota_fen(quota);
  report->set_increases_fen(increases);
  report->set_prepayment_fen(quota + increases);
  int64_t numerator = 0;
  switch (policy.usage_numerator()) {
    case yidi::v1::USAGE_NUMERATOR_MONTHLY_SETTLEMENT:
      numerator = request.settlement_fen();
      report->set_formula("usage = the month's settlement funds ÷ prepayment (002_… 第27条)");
      break;
    case yidi::v1::USAGE_NUMERATOR_OUTSTANDING_PAYABLES:
      numerator = request.uncleared_fen() + cleared_unpaid;
      report->set_formula(absl::StrCat("usage = (uncleared ",
                                       FormatWanYuan(request.uncleared_fen()), " + cleared unpaid ",
                                       FormatWanYuan(cleared_unpaid),
                                       " 万元) ÷ (quota + this year's increases) (003_… 第23条)"));
      break;
    default:
      numerator = request.clearing_fen();
      report->set_formula("usage = the month's clearing ÷ prepayment (000_… 第21条)");
  }
  report->set_numerator_fen(numerator);
  if (!has_quota) {
    report->set_level(yidi::v1::WARNING_LEVEL_UNSPECIFIED);
    report->set_formula("no prepayment quota for this pair: no usage rate");
    return absl::OkStatus();
  }
  const EmergencyRule rule = RuleFor(policy, receiver);
  const UsageFigures figures = ClassifyUsage(numerator, quota + increases, policy.yellow_bp(),
                                             policy.red_bp(), rule.red_strictly_above);
  report->set_usage_bp(figures.usage_bp);
  report->set_level(figures.level);
  const bool liaoning = rule.formula == yidi::v1::EMERGENCY_FORMULA_LIAONING_CAPPED;
  if (figures.level == yidi::v1::WARNING_LEVEL_RED) {
    ASSIGN_OR_RETURN(
        absl::CivilDay apply_by,
        issuer.calendar->AddWorkingDays(signed_day, policy.emergency_apply_working_days()));
    report->set_apply_by(FormatDate(apply_by));
    report->set_increase_mandatory(policy.emergency_mandatory() || liaoning);
    if (rule.formula == yidi::v1::EMERGENCY_FORMULA_TWICE_MONTHLY_MINUS_PREPAYMENT) {
      report->set_suggested_increase_fen(TwiceMonthlyMinusPrepayment(numerator, quota + increases));
    } else if (liaoning) {
      report->set_suggested_increase_fen(
          LiaoningEmergencyIncrease(quota, increases, request.uncleared_fen(), cleared_unpaid,
                                    request.clearing_fen())
              .amount_fen);
    }
  }
  if (figures.level == yidi::v1::WARNING_LEVEL_YELLOW && liaoning) {
    report->set_suggested_top_up_fen(
        LiaoningTopUp(quota, increases, request.uncleared_fen(), cleared_unpaid));
  }
  return absl::OkStatus();
}

absl::Status InsertClearing(Transaction& tx, const UsageReport& report,
                            const yidi::v1::RecordClearingRequest& request,
                            absl::CivilDay next_clearing, absl::Time now) {
  return tx
      .Execute(absl::StrCat("INSERT INTO prepayment_clearing (", kClearingColumns,
                            ", recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                            "?, ?, ?, ?, ?, ?, ?)"),
               {report.clearing_month(),
                report.payer_region(),
                report.receiver_region(),
                int64_t{report.scope()},
                report.clearing_fen(),
                request.settlement_fen(),
                request.uncleared_fen(),
                report.signed_date(),
                FormatDate(next_clearing),
                report.quota_fen(),
                report.increases_fen(),
                report.numerator_fen(),
                int64_t{report.usage_bp()},
                int64_t{report.level()},
                report.formula(),
                report.apply_by(),
                report.suggested_increase_fen(),
                int64_t{report.increase_mandatory() ? 1 : 0},
                report.suggested_top_up_fen(),
                report.clearing_obligation_id(),
                std::string(),
                FormatCstTimestamp(now)})
      .status();
}

}  // namespace

// A reverse-clearing flow (see prepayment.h): only its obligation, idempotent by its id.
absl::StatusOr<yidi::v1::RecordClearingResponse> RecordReturnedClearing(
    Transaction& tx, const PrepaymentIssuer& issuer, const yidi::v1::RecordClearingRequest& request,
    int year, absl::CivilDay signed_day, absl::CivilDay next_clearing) {
  yidi::v1::RecordClearingResponse response;
  UsageReport& report = *response.mutable_usage();
  report.set_clearing_month(request.clearing_month());
  report.set_payer_region(request.payer_region());
  report.set_receiver_region(request.receiver_region());
  report.set_scope(request.scope());
  report.set_clearing_fen(request.clearing_fen());
  report.set_signed_date(FormatDate(signed_day));
  report.set_level(yidi::v1::WARNING_LEVEL_UNSPECIFIED);
  report.set_formula("reverse clearing (RULES.md 5.4): a return, not a use of prepayment");
  ASSIGN_OR_RETURN(auto existing,
                   FindObligation(tx, ClearingObligationId(request, /*returned=*/true)));
  if (existing.has_value()) {
    if (existing->amount_fen() != request.clearing_fen() ||
        existing->signed_date() != FormatDate(signed_day)) {
      return absl::AlreadyExistsError(absl::StrCat(
          "clearing_fen: the return of ", request.clearing_month(), " ", request.payer_region(),
          " → ", request.receiver_region(), " is already recorded with other figures (",
          FormatYuan(existing->amount_fen()), " 元 signed ", existing->signed_date(), ")"));
    }
    report.set_clearing_obligation_id(existing->obligation_id());
    *response.mutable_obligation() = std::move(*existing);
    response.set_replayed(true);
    return response;
  }
  if (request.clearing_fen() == 0) return response;
  ASSIGN_OR_RETURN(*response.mutable_obligation(),
                   IssueClearingObligation(tx, issuer, request, year, signed_day, next_clearing,
                                           /*returned=*/true));
  report.set_clearing_obligation_id(response.obligation().obligation_id());
  return response;
}

absl::StatusOr<yidi::v1::RecordClearingResponse> RecordClearing(
    Transaction& tx, const PrepaymentIssuer& issuer,
    const yidi::v1::RecordClearingRequest& request, bool returned) {
  RETURN_IF_ERROR(CheckIssuer(issuer));
  ASSIGN_OR_RETURN(absl::CivilMonth month, ParseMonth(request.clearing_month()));
  RETURN_IF_ERROR(CheckPair(issuer, request.payer_region(), request.receiver_region()));
  RETURN_IF_ERROR(CheckAmount(request.clearing_fen(), "clearing_fen"));
  RETURN_IF_ERROR(CheckAmount(request.settlement_fen(), "settlement_fen"));
  RETURN_IF_ERROR(CheckAmount(request.uncleared_fen(), "uncleared_fen"));
  ASSIGN_OR_RETURN(absl::CivilDay signed_day,
                   DateOrToday(request.signed_date(), "signed_date", issuer));
  absl::CivilDay next_clearing = OneMonthLater(signed_day);
  if (!request.next_clearing_date().empty()) {
    ASSIGN_OR_RETURN(next_clearing,
                     DateOrToday(request.next_clearing_date(), "next_clearing_date", issuer));
    if (next_clearing <= signed_day) {
      return absl::InvalidArgumentError("next_clearing_date: must be after signed_date");
    }
  }
  if (signed_day < absl::CivilDay(month + 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "signed_date: the costs of ", request.clearing_month(),
        " are cleared from the next month on (RULES.md 5.2), not on ", FormatDate(signed_day)));
  }
  if (returned) {
    return RecordReturnedClearing(tx, issuer, request, static_cast<int>(month.year()), signed_day,
                                  next_clearing);
  }
  ASSIGN_OR_RETURN(auto existing, FindClearing(tx, request.clearing_month(), request.payer_region(),
                                               request.receiver_region(), request.scope()));
  if (existing.has_value()) return StoredClearing(tx, std::move(*existing), request, signed_day);
  if (issuer.policy->usage_numerator() == yidi::v1::USAGE_NUMERATOR_MONTHLY_SETTLEMENT &&
      request.settlement_fen() == 0 && request.clearing_fen() > 0) {
    return absl::InvalidArgumentError(
        "settlement_fen: required: this policy's usage rate divides the month's settlement "
        "funds (002_… 第27条)");
  }
  const int year = static_cast<int>(month.year());
  yidi::v1::RecordClearingResponse response;
  UsageReport& report = *response.mutable_usage();
  report.set_clearing_month(request.clearing_month());
  report.set_payer_region(request.payer_region());
  report.set_receiver_region(request.receiver_region());
  report.set_scope(request.scope());
  report.set_clearing_fen(request.clearing_fen());
  report.set_signed_date(FormatDate(signed_day));
  // The clearing's own obligation first: at signing it is cleared and unpaid (Liaoning's
  // numerator counts it).
  if (request.clearing_fen() > 0) {
    ASSIGN_OR_RETURN(*response.mutable_obligation(),
                     IssueClearingObligation(tx, issuer, request, year, signed_day, next_clearing));
    report.set_clearing_obligation_id(response.obligation().obligation_id());
  }
  RETURN_IF_ERROR(AssessUsage(tx, issuer, request, year, signed_day, &report));
  RETURN_IF_ERROR(InsertClearing(tx, report, request, next_clearing, issuer.now));
  return response;
}

absl::StatusOr<std::vector<UsageReport>> GetUsage(Transaction& tx, int year,
                                                  absl::string_view region) {
  std::string sql = absl::StrCat("SELECT ", kClearingColumns,
                                 " FROM prepayment_clearing WHERE clearing_month >= ? AND "
                                 "clearing_month <= ?");
  std::vector<SqlValue> params = {absl::StrCat(year, "-01"), absl::StrCat(year, "-12")};
  if (!region.empty()) {
    sql += " AND (payer_region = ? OR receiver_region = ?)";
    params.emplace_back(std::string(region));
    params.emplace_back(std::string(region));
  }
  sql += " ORDER BY clearing_month, payer_region, receiver_region, scope";
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<UsageReport> reports;
  for (const Row& row : rows) reports.push_back(ClearingFromRow(row).report);
  return reports;
}

absl::StatusOr<yidi::v1::RequestEmergencyIncreaseResponse> RequestEmergencyIncrease(
    Transaction& tx, const PrepaymentIssuer& issuer,
    const yidi::v1::RequestEmergencyIncreaseRequest& request) {
  RETURN_IF_ERROR(CheckIssuer(issuer));
  ASSIGN_OR_RETURN(absl::CivilMonth month, ParseMonth(request.clearing_month()));
  RETURN_IF_ERROR(CheckPair(issuer, request.payer_region(), request.receiver_region()));
  RETURN_IF_ERROR(CheckAmount(request.requested_fen(), "requested_fen"));
  ASSIGN_OR_RETURN(absl::CivilDay applied_day,
                   DateOrToday(request.applied_date(), "applied_date", issuer));
  ASSIGN_OR_RETURN(auto clearing, FindClearing(tx, request.clearing_month(), request.payer_region(),
                                               request.receiver_region(), request.scope()));
  if (!clearing.has_value()) {
    return absl::NotFoundError(absl::StrCat("clearing_month: no clearing of ",
                                            request.clearing_month(), " ", request.payer_region(),
                                            " → ", request.receiver_region(), " is recorded"));
  }
  const UsageReport& usage = clearing->report;
  const EmergencyRule rule = RuleFor(*issuer.policy, request.receiver_region());
  yidi::v1::RequestEmergencyIncreaseResponse response;
  int64_t amount = 0;
  if (rule.formula == yidi::v1::EMERGENCY_FORMULA_AS_REQUESTED) {
    amount = request.requested_fen();
    response.set_computation(absl::StrCat("as requested: ", FormatWanYuan(amount), " 万元"));
  } else {
    amount = usage.suggested_increase_fen();
    response.set_computation(
        rule.formula == yidi::v1::EMERGENCY_FORMULA_TWICE_MONTHLY_MINUS_PREPAYMENT
            ? absl::StrCat("2 × ", FormatWanYuan(usage.numerator_fen()), " − ",
                           FormatWanYuan(usage.prepayment_fen()), " = ", FormatWanYuan(amount),
                           " 万元 (002_… 第28条)")
            : absl::StrCat("|quota + added − uncleared − cleared unpaid| capped at 2 × ",
                           FormatWanYuan(usage.clearing_fen()), " − ",
                           FormatWanYuan(usage.quota_fen()), " = ", FormatWanYuan(amount),
                           " 万元 (003_… 第26条)"));
  }
  const std::string id =
      absl::StrCat("EI-", request.clearing_month(), "-", request.payer_region(), "-",
                   request.receiver_region(), "-", ScopeLetter(request.scope()));
  ASSIGN_OR_RETURN(auto existing, FindObligation(tx, id));
  if (existing.has_value()) {
    if (existing->amount_fen() != amount) {
      return absl::AlreadyExistsError(absl::StrCat("requested_fen: the emergency increase ", id,
                                                   " is already issued for ",
                                                   FormatWanYuan(existing->amount_fen()), " 万元"));
    }
    response.set_replayed(true);
    *response.mutable_obligation() = std::move(*existing);
    return response;
  }
  if (usage.level() != yidi::v1::WARNING_LEVEL_RED) {
    return absl::FailedPreconditionError(absl::StrCat("the clearing of ", request.clearing_month(),
                                                      " is at ", FormatYuan(usage.usage_bp()),
                                                      "% usage, not red: no emergency increase"));
  }
  if (applied_day > *ParseDate(usage.apply_by())) {
    return absl::FailedPreconditionError(
        absl::StrCat("applied_date: the application window closed on ", usage.apply_by(), " (",
                     issuer.policy->emergency_apply_working_days(),
                     " working days after the signing on ", usage.signed_date(), ")"));
  }
  if (applied_day < *ParseDate(usage.signed_date())) {
    return absl::InvalidArgumentError("applied_date: before the clearing was signed");
  }
  if (rule.formula == yidi::v1::EMERGENCY_FORMULA_AS_REQUESTED && amount == 0) {
    return absl::InvalidArgumentError(
        "requested_fen: required: national reviews the amount the "
        "treatment side applies for (000_… 第22条)");
  }
  if (amount == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the formula gives no increase: ", response.computation()));
  }
  TransferObligation obligation;
  obligation.set_obligation_id(id);
  obligation.set_state(yidi::v1::OBLIGATION_STATE_OPEN);
  obligation.set_notice_kind(yidi::v1::NOTICE_KIND_EMERGENCY_INCREASE);
  obligation.set_issuer_region(issuer.region);
  obligation.set_payer_region(request.payer_region());
  obligation.set_receiver_region(request.receiver_region());
  obligation.set_amount_fen(amount);
  obligation.set_year(static_cast<int32_t>(month.year()));
  obligation.set_scope(request.scope());
  obligation.set_clearing_month(request.clearing_month());
  obligation.set_signed_date(FormatDate(applied_day));
  obligation.set_memo(absl::StrCat(request.clearing_month(), " 预付金紧急调增 ",
                                   request.payer_region(), "→", request.receiver_region()));
  ASSIGN_OR_RETURN(absl::CivilDay next_clearing, ParseDate(clearing->next_clearing_date));
  RETURN_IF_ERROR(SetObligationDates(*issuer.calendar, *issuer.policy, next_clearing, &obligation));
  RETURN_IF_ERROR(InsertObligation(tx, obligation, issuer.now));
  RETURN_IF_ERROR(tx.Execute("UPDATE prepayment_clearing SET emergency_obligation_id = ? WHERE "
                             "clearing_month = ? AND payer_region = ? AND receiver_region = ? "
                             "AND scope = ?",
                             {id, request.clearing_month(), request.payer_region(),
                              request.receiver_region(), int64_t{request.scope()}})
                      .status());
  *response.mutable_obligation() = std::move(obligation);
  return response;
}

}  // namespace yidi
