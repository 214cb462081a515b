#include "common/clearing_forwarding.h"

#include <map>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/clearing.h"
#include "common/clearing_year.h"
#include "common/clock.h"
#include "common/money.h"
#include "common/prepayment.h"
#include "common/status_macros.h"
#include "common/transfer_obligations.h"

namespace yidi {

using yidi::v1::Clearing;
using yidi::v1::ClearingCell;
using yidi::v1::ClearingForwarding;
using yidi::v1::ForwardedNotice;
using yidi::v1::ForwardingPolicy;
using yidi::v1::TransferObligation;

std::vector<Migration> ClearingForwardingMigrations() {
  return {
      {330,
       "clearing_forwarding: a province's forwarding of national's clearing to its cities",
       {"CREATE TABLE clearing_forwarding ("
        " clearing_month VARCHAR(7) NOT NULL PRIMARY KEY,"
        " province VARCHAR(6) NOT NULL,"
        " body MEDIUMTEXT NOT NULL,"
        " created_at VARCHAR(32) NOT NULL)"}},
  };
}

std::vector<Migration> ClearingCycleMigrations() {
  std::vector<Migration> all = ClearingForwardingMigrations();
  for (Migration& migration : ClearingYearMigrations()) all.push_back(std::move(migration));
  return all;
}

ForwardingPolicy NationalForwardingPolicy() {
  ForwardingPolicy policy;
  policy.set_name("national (000_… 第46条: 5 WD collect up / distribute down)");
  policy.set_city_remit_working_days(kForwardCollectWorkingDays);
  policy.set_forward_working_days(0);
  policy.set_distribute_working_days(kForwardCollectWorkingDays);
  policy.set_distribute_after_funds(false);
  return policy;
}

ForwardingPolicy LiaoningForwardingPolicy() {
  ForwardingPolicy policy;
  policy.set_name("Liaoning (003_… 第49条: remit 10 WD, forward 5 WD, distribute 5 WD)");
  policy.set_city_remit_working_days(10);
  policy.set_forward_working_days(5);
  policy.set_distribute_working_days(5);
  policy.set_distribute_after_funds(true);
  return policy;
}

ForwardingPolicy WithNationalForwardingDefaults(ForwardingPolicy policy) {
  const ForwardingPolicy national = NationalForwardingPolicy();
  if (policy.name().empty()) policy.set_name(national.name());
  if (policy.city_remit_working_days() == 0) {
    policy.set_city_remit_working_days(national.city_remit_working_days());
  }
  if (policy.distribute_working_days() == 0) {
    policy.set_distribute_working_days(national.distribute_working_days());
  }
  return policy;
}

absl::Status ValidateForwardingPolicy(const ForwardingPolicy& policy) {
  const std::pair<const char*, int> steps[] = {
      {"forwarding.city_remit_working_days", policy.city_remit_working_days()},
      {"forwarding.forward_working_days", policy.forward_working_days()},
      {"forwarding.distribute_working_days", policy.distribute_working_days()},
  };
  for (const auto& [field, days] : steps) {
    if (days < 0 || days > kWorkingDaysMax) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": ", days, " is outside 0..", kWorkingDaysMax));
    }
  }
  if (policy.name().size() > 200) {
    return absl::InvalidArgumentError("forwarding.name: at most 200 bytes");
  }
  return absl::OkStatus();
}

namespace {

std::string Encode(const google::protobuf::Message& message) {
  std::string bytes;
  YIDI_CHECK(message.SerializeToString(&bytes), "a message serialises");
  return absl::Base64Escape(bytes);
}

absl::StatusOr<ClearingForwarding> Decode(const std::string& text) {
  std::string bytes;
  ClearingForwarding forwarding;
  if (!absl::Base64Unescape(text, &bytes) || !forwarding.ParseFromString(bytes)) {
    return absl::InternalError("clearing_forwarding: stored body is corrupt");
  }
  return forwarding;
}

// Province pair nets of national's matrix: (insured province, treatment province) → net.
std::map<std::pair<std::string, std::string>, int64_t> PairNets(const Clearing& national) {
  std::map<std::pair<std::string, std::string>, int64_t> nets;
  for (const ClearingCell& cell : national.cells()) {
    nets[{ProvinceOf(cell.insured_region()), ProvinceOf(cell.treatment_region())}] +=
        cell.net_fen();
  }
  return nets;
}

// What national's notices say `province` pays and receives (附件15 / 16 totals): a positive
// pair net runs insured → treatment, a negative one back (第48条), each direction in full.
std::pair<int64_t, int64_t> NationalNoticeTotals(const Clearing& national,
                                                 const std::string& province) {
  int64_t pays = 0;
  int64_t receives = 0;
  for (const auto& [pair, net] : PairNets(national)) {
    const auto& [insured, treatment] = pair;
    if (net > 0) {
      if (insured == province) pays += net;
      if (treatment == province) receives += net;
    } else if (net < 0) {
      if (treatment == province) pays += -net;
      if (insured == province) receives += -net;
    }
  }
  return {pays, receives};
}

std::string ObligationIdOf(const std::string& month, const ForwardedNotice& notice) {
  return absl::StrCat("FW-", month, "-", notice.city(), "-",
                      notice.kind() == yidi::v1::FORWARDED_NOTICE_KIND_PAYMENT ? "P" : "R");
}

}  // namespace

namespace {

struct ForwardingDeadlines {
  absl::CivilDay remit_due;       // city → province
  absl::CivilDay forward_by;      // province sends the collected money on
  absl::CivilDay distribute_due;  // province → city
};

absl::StatusOr<ForwardingDeadlines> DeadlinesOf(const ForwardingNode& node, absl::CivilDay base) {
  const ForwardingPolicy& policy = node.policy;
  ForwardingDeadlines d;
  ASSIGN_OR_RETURN(d.remit_due,
                   node.calendar->AddWorkingDays(base, policy.city_remit_working_days()));
  ASSIGN_OR_RETURN(d.forward_by,
                   node.calendar->AddWorkingDays(d.remit_due, policy.forward_working_days()));
  ASSIGN_OR_RETURN(d.distribute_due, node.calendar->AddWorkingDays(
                                         policy.distribute_after_funds() ? d.forward_by : base,
                                         policy.distribute_working_days()));
  return d;
}

// (city, notice kind) → (counterparty province, "*") → the city's signed share of that line.
using Shares =
    std::map<std::pair<std::string, int>, std::map<std::pair<std::string, bool>, int64_t>>;

// Each city's signed share of each line of national's notices to the province. A line is a
// province pair's net ("*" when it runs back); the city's share is the sum of its own cells in
// that pair. Adds the province's cells to `forwarding` with its payable and receivable.
Shares SplitByCity(const Clearing& national, const std::string& province,
                   ClearingForwarding& forwarding) {
  const auto pair_nets = PairNets(national);
  Shares shares;
  int64_t payable = 0;
  int64_t receivable = 0;
  for (const ClearingCell& cell : national.cells()) {
    const std::string insured_province = ProvinceOf(cell.insured_region());
    const std::string treatment_province = ProvinceOf(cell.treatment_region());
    if (insured_province == treatment_province) continue;  // not national's to clear
    if (insured_province != province && treatment_province != province) continue;
    *forwarding.add_cells() = cell;
    // A pair netting to zero has no line on national's notices, but its cities' shares still
    // move money inside the province (one city's +x is another's −x): kept as a normal line.
    const bool reverse = pair_nets.at({insured_province, treatment_province}) < 0;
    // On a reverse line money runs back: the city's share of what moves is −net.
    const int64_t share = reverse ? -cell.net_fen() : cell.net_fen();
    if (insured_province == province) {
      payable += cell.net_fen();
      // A normal line is on the province's payment notice; a reverse one (the treatment
      // province returns money) on its receipt notice.
      const int kind = reverse ? yidi::v1::FORWARDED_NOTICE_KIND_RECEIPT
                               : yidi::v1::FORWARDED_NOTICE_KIND_PAYMENT;
      shares[{cell.insured_region(), kind}][{treatment_province, reverse}] += share;
    }
    if (treatment_province == province) {
      receivable += cell.net_fen();
      const int kind = reverse ? yidi::v1::FORWARDED_NOTICE_KIND_PAYMENT
                               : yidi::v1::FORWARDED_NOTICE_KIND_RECEIPT;
      shares[{cell.treatment_region(), kind}][{insured_province, reverse}] += share;
    }
  }
  forwarding.set_payable_fen(payable);
  forwarding.set_receivable_fen(receivable);
  return shares;
}

}  // namespace

absl::StatusOr<ClearingForwarding> PlanForwarding(const Clearing& national,
                                                  const ForwardingNode& node) {
  if (node.calendar == nullptr || node.province.size() != 6 || node.province.substr(2) != "0000" ||
      node.province == "000000") {
    return absl::FailedPreconditionError(
        "forwarding: only a provincial node forwards national's notices to its cities");
  }
  if (national.issuer_region() != "000000") {
    return absl::InvalidArgumentError(absl::StrCat("clearing: issued by ", national.issuer_region(),
                                                   ", not by national (000000)"));
  }
  if (national.state() != yidi::v1::CLEARING_STATE_NOTICES_ISSUED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "clearing_month: national has not issued the notices of ", national.clearing_month(),
        " yet (state ", yidi::v1::ClearingState_Name(national.state()),
        "); the cities' notices follow national's (000_… 第46条)"));
  }
  ASSIGN_OR_RETURN(const absl::CivilDay base, ParseDate(national.notices_issued_on()));
  ASSIGN_OR_RETURN(const ForwardingDeadlines due, DeadlinesOf(node, base));
  ClearingForwarding forwarding;
  forwarding.set_clearing_month(national.clearing_month());
  forwarding.set_province(node.province);
  forwarding.set_national_notices_issued_on(national.notices_issued_on());
  forwarding.set_forwarded_on(FormatDate(CstDay(node.now)));
  forwarding.set_policy_name(node.policy.name());
  forwarding.set_forward_by(FormatDate(due.forward_by));

  int64_t payments = 0;
  int64_t receipts = 0;
  for (const auto& [key, lines] : SplitByCity(national, node.province, forwarding)) {
    ForwardedNotice& notice = *forwarding.add_notices();
    notice.set_city(key.first);
    notice.set_kind(static_cast<yidi::v1::ForwardedNoticeKind>(key.second));
    int64_t net = 0;
    for (const auto& [line_key, fen] : lines) {
      auto& line = *notice.add_lines();
      line.set_counterparty_region(line_key.first);
      line.set_net_fen(fen);
      line.set_returned(line_key.second);  // the "*" of national's line (第48条)
      net += fen;
    }
    notice.set_net_fen(net);
    const bool payment = notice.kind() == yidi::v1::FORWARDED_NOTICE_KIND_PAYMENT;
    (payment ? payments : receipts) += net;
    if (net == 0) continue;
    // City → province runs on the remittance deadline, province → city on the distribution.
    const bool city_pays = payment == (net > 0);
    notice.set_pay_by(FormatDate(city_pays ? due.remit_due : due.distribute_due));
  }

  // Conservation: the cities' notices add up to national's notices to the province, and
  // their difference is the province's net position in the matrix (payable − receivable).
  const auto [national_pays, national_receives] = NationalNoticeTotals(national, node.province);
  YIDI_CHECK(payments == national_pays,
             "the cities' payment notices sum to national's payment notice to the province");
  YIDI_CHECK(receipts == national_receives,
             "the cities' receipt notices sum to national's receipt notice to the province");
  YIDI_CHECK(payments - receipts == forwarding.payable_fen() - forwarding.receivable_fen(),
             "notices net to the province's payable minus its receivable (附件14-1, 14-7)");
  return forwarding;
}

absl::StatusOr<ClearingForwarding> GetForwarding(Transaction& tx, absl::string_view month) {
  RETURN_IF_ERROR(ParseClearingMonth(month, "clearing_month").status());
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT body FROM clearing_forwarding WHERE "
                                       "clearing_month = ?",
                                       {std::string(month)}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("clearing_month: national's clearing of ", month,
                                            " has not been forwarded to the cities yet"));
  }
  return Decode(rows.front().Text(0));
}

absl::StatusOr<yidi::v1::ForwardClearingResponse> ForwardClearing(Transaction& tx,
                                                                  const ForwardingNode& node,
                                                                  const Clearing& national) {
  RETURN_IF_ERROR(ValidateForwardingPolicy(node.policy));
  RETURN_IF_ERROR(ParseClearingMonth(national.clearing_month(), "clearing_month").status());
  ASSIGN_OR_RETURN(ClearingForwarding planned, PlanForwarding(national, node));
  yidi::v1::ForwardClearingResponse response;
  absl::StatusOr<ClearingForwarding> stored = GetForwarding(tx, national.clearing_month());
  if (stored.ok()) {
    // The same national figures again: a replay. National never rebuilds an issued month,
    // so different figures mean something is wrong upstream: stop, don't re-issue.
    if (stored->payable_fen() != planned.payable_fen() ||
        stored->receivable_fen() != planned.receivable_fen() ||
        stored->cells_size() != planned.cells_size()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "clearing_month: ", national.clearing_month(),
          " was forwarded with other figures (payable ", FormatYuan(stored->payable_fen()),
          " 元, receivable ", FormatYuan(stored->receivable_fen()),
          " 元); national's clearing changed after its notices"));
    }
    *response.mutable_forwarding() = std::move(*stored);
    response.set_replayed(true);
    return response;
  }
  if (!absl::IsNotFound(stored.status())) return stored.status();

  ASSIGN_OR_RETURN(const absl::CivilMonth month,
                   ParseClearingMonth(national.clearing_month(), "clearing_month"));
  for (ForwardedNotice& notice : *planned.mutable_notices()) {
    // A province-level pooling region (Chongqing 500000) is its own city: the notice is
    // printed, but no money moves between the two, so there is no obligation.
    if (notice.net_fen() == 0 || notice.city() == node.province) continue;
    const bool city_pays =
        (notice.kind() == yidi::v1::FORWARDED_NOTICE_KIND_PAYMENT) == (notice.net_fen() > 0);
    TransferObligation obligation;
    obligation.set_obligation_id(ObligationIdOf(planned.clearing_month(), notice));
    obligation.set_notice_kind(yidi::v1::NOTICE_KIND_CLEARING);
    obligation.set_issuer_region(node.province);
    obligation.set_payer_region(city_pays ? notice.city() : node.province);
    obligation.set_receiver_region(city_pays ? node.province : notice.city());
    obligation.set_amount_fen(notice.net_fen() > 0 ? notice.net_fen() : -notice.net_fen());
    // A negative notice runs against its kind: reverse clearing (RULES.md 5.4, "*").
    obligation.set_returned(notice.net_fen() < 0);
    obligation.set_year(static_cast<int32_t>(month.year()));
    obligation.set_clearing_month(planned.clearing_month());
    obligation.set_signed_date(planned.forwarded_on());
    obligation.set_scope(yidi::v1::QUOTA_SCOPE_CROSS_PROVINCE);
    // The whole chain of a forwarded notice ends on its pay-by (第46条 / 第49条 give one
    // deadline); the finance side reports back within 5 WD of it (第45条).
    obligation.set_agency_to_finance_due(notice.pay_by());
    obligation.set_finance_transfer_due(notice.pay_by());
    ASSIGN_OR_RETURN(const absl::CivilDay pay_by, ParseDate(notice.pay_by()));
    ASSIGN_OR_RETURN(const absl::CivilDay feedback,
                     node.calendar->AddWorkingDays(pay_by, kForwardFeedbackWorkingDays));
    obligation.set_feedback_due(FormatDate(feedback));
    obligation.set_pay_by(notice.pay_by());
    obligation.set_state(yidi::v1::OBLIGATION_STATE_OPEN);
    obligation.set_memo(absl::StrCat(planned.clearing_month(), " 跨省清算资金 ",
                                     city_pays ? "上解 " : "下拨 ", obligation.payer_region(), "→",
                                     obligation.receiver_region(),
                                     obligation.returned() ? " (*反向清算)" : ""));
    RETURN_IF_ERROR(InsertObligation(tx, obligation, node.now));
    notice.set_obligation_id(obligation.obligation_id());
  }
  RETURN_IF_ERROR(tx.Execute("INSERT INTO clearing_forwarding (clearing_month, province, body, "
                             "created_at) VALUES (?, ?, ?, ?)",
                             {planned.clearing_month(), node.province, Encode(planned),
                              FormatCstTimestamp(node.now)})
                      .status());
  *response.mutable_forwarding() = std::move(planned);
  return response;
}

std::vector<ClearingTable> ForwardedNoticeTables(const ClearingForwarding& forwarding,
                                                 const std::string& city,
                                                 const ClearingNamer& name_of,
                                                 const std::string& prepared_on) {
  const std::string& month = forwarding.clearing_month();
  const std::string month_label = absl::StrCat(month.substr(0, 4), "年", month.substr(5, 2), "月");
  std::vector<ClearingTable> tables;
  for (const ForwardedNotice& notice : forwarding.notices()) {
    if (!city.empty() && notice.city() != city) continue;
    const bool payment = notice.kind() == yidi::v1::FORWARDED_NOTICE_KIND_PAYMENT;
    ClearingTable table;
    table.title = absl::StrCat(name_of(forwarding.province()), "跨省异地就医费用",
                               payment ? "付款" : "收款", "通知书（", name_of(notice.city()), "）");
    table.region = notice.city();
    table.preamble.push_back(absl::StrCat("制表单位（盖章）：", name_of(forwarding.province())));
    table.preamble.push_back(absl::StrCat("清算所属月份：", month_label));
    table.preamble.push_back(absl::StrCat(name_of(notice.city()), "医疗保障经办机构："));
    const int64_t net = notice.net_fen();
    if (payment) {
      table.preamble.push_back(
          absl::StrCat("根据国家级经办机构", forwarding.national_notices_issued_on(), "发布的",
                       month_label, "跨省异地就医费用付款通知书，你单位应付跨省异地就医费用",
                       FormatYuan(net), "元，请于", notice.pay_by(), "前上解至省级经办机构专户",
                       net < 0 ? "（合计为负：由省级经办机构返还你单位）。" : "。"));
    } else {
      table.preamble.push_back(absl::StrCat(
          "根据国家级经办机构", forwarding.national_notices_issued_on(), "发布的", month_label,
          "跨省异地就医费用收款通知书，你单位应收跨省异地就医费用", FormatYuan(net), "元，",
          net < 0 ? absl::StrCat("合计为负：请于", notice.pay_by(), "前返还省级经办机构专户。")
                  : absl::StrCat("省级经办机构于", notice.pay_by(), "前下拨。")));
    }
    table.preamble.push_back("（标注“*”的地区为反向清算）");
    table.preamble.push_back("单位：元");
    table.columns = {payment ? "就医地" : "参保地", "金额"};
    for (const auto& line : notice.lines()) {
      table.rows.push_back(
          {absl::StrCat(line.returned() ? "*" : "", name_of(line.counterparty_region())),
           FormatYuan(line.net_fen())});
    }
    table.rows.push_back({"合计", FormatYuan(net)});
    table.rows.push_back({absl::StrCat(name_of(forwarding.province()), "（盖章）")});
    table.rows.push_back({});
    table.rows.push_back(
        {absl::StrCat("单位负责人：    审核人：    制表人：    制表日期：", prepared_on)});
    tables.push_back(std::move(table));
  }
  return tables;
}

}  // namespace yidi
