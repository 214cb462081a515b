#include "common/clearing_render.h"

#include <array>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/money.h"
#include "common/prepayment.h"

namespace yidi {
namespace {

using yidi::v1::Clearing;
using yidi::v1::ClearingCell;
using yidi::v1::FundColumns;

const std::vector<std::string> kFooter = {"单位负责人：", "审核人：", "制表人："};

std::string MonthLabel(const std::string& month) {
  // "2026-10" → "2026年10月"
  return absl::StrCat(month.substr(0, 4), "年", month.substr(5, 2), "月");
}

std::string Scope(const ClearingNode& node) { return node.national() ? "跨省" : "省内"; }

void Header(ClearingTable& table, const ClearingNode& node, const Clearing& clearing,
            const ClearingNamer& name_of) {
  table.preamble.push_back(absl::StrCat("制表单位（盖章）：", name_of(node.region)));
  table.preamble.push_back(absl::StrCat("清算所属月份：", MonthLabel(clearing.clearing_month())));
  table.preamble.push_back("单位：元");
}

void Footer(ClearingTable& table, const std::string& prepared_on) {
  table.rows.push_back({});
  table.rows.push_back({absl::StrCat(kFooter[0], "    ", kFooter[1], "    ", kFooter[2],
                                     "    制表日期：", prepared_on)});
}

// Employee fund columns (附件14-2) and resident ones (附件14-3).
std::vector<std::string> EmployeeColumns() {
  return {"统筹基金", "个人账户", "职工大额医疗费用补助", "补充医疗保险", "公务员医疗补助",
          "伤残人员医疗保障", "医疗救助", "其他", "合计"};
}
std::vector<std::string> EmployeeCells(const FundColumns& f) {
  return {FormatYuan(f.pooled_fund_fen()),      FormatYuan(f.personal_account_fen()),
          FormatYuan(f.large_expense_fen()),    FormatYuan(f.supplementary_fen()),
          FormatYuan(f.civil_servant_fen()),    FormatYuan(f.disabled_veteran_fen()),
          FormatYuan(f.medical_assistance_fen()),
          FormatYuan(f.other_fund_fen() + f.critical_illness_fen()), FormatYuan(f.total_fen())};
}
std::vector<std::string> ResidentColumns() {
  return {"基本医疗保险", "城乡居民大病保险", "医疗救助", "其他", "合计"};
}
std::vector<std::string> ResidentCells(const FundColumns& f) {
  return {FormatYuan(f.pooled_fund_fen() + f.personal_account_fen()),
          FormatYuan(f.critical_illness_fen()), FormatYuan(f.medical_assistance_fen()),
          FormatYuan(f.other_fund_fen() + f.large_expense_fen() + f.supplementary_fen() +
                     f.civil_servant_fen() + f.disabled_veteran_fen()),
          FormatYuan(f.total_fen())};
}

struct Sums {
  int64_t total = 0;
  int64_t employee = 0;
  int64_t resident = 0;
  void Add(int64_t fen, bool is_resident) {
    total += fen;
    (is_resident ? resident : employee) += fen;
  }
};

ClearingTable Matrix(const Clearing& clearing, const ClearingNode& node,
                     const ClearingNamer& name_of) {
  ClearingTable table;
  table.title = node.national() ? "全国跨省异地就医费用清算表" : "全省省内异地就医费用清算表";
  Header(table, node, clearing, name_of);
  const auto matrix = ClearingMatrix(clearing, node);
  std::set<std::string> regions;
  for (const auto& [receiver, row] : matrix) {
    regions.insert(receiver);
    for (const auto& [payer, fen] : row) regions.insert(payer);
  }
  table.columns.push_back("收款地区＼付款地区");
  for (const std::string& payer : regions) table.columns.push_back(name_of(payer));
  table.columns.push_back("合计");
  std::map<std::string, int64_t> column_totals;
  int64_t grand = 0;
  for (const std::string& receiver : regions) {
    std::vector<std::string> row = {name_of(receiver)};
    int64_t row_total = 0;
    for (const std::string& payer : regions) {
      if (receiver == payer) {
        row.push_back("——");
        continue;
      }
      int64_t fen = 0;
      auto it = matrix.find(receiver);
      if (it != matrix.end()) {
        auto cell = it->second.find(payer);
        if (cell != it->second.end()) fen = cell->second;
      }
      row.push_back(FormatYuan(fen));
      row_total += fen;
      column_totals[payer] += fen;
    }
    row.push_back(FormatYuan(row_total));
    grand += row_total;
    table.rows.push_back(std::move(row));
  }
  std::vector<std::string> total_row = {"合计"};
  for (const std::string& payer : regions) total_row.push_back(FormatYuan(column_totals[payer]));
  total_row.push_back(FormatYuan(grand));
  table.rows.push_back(std::move(total_row));
  return table;
}

// 14-1 / 14-4 / 14-7: per region, 合计 / 职工 / 居民 of `pick` on the payer or receiver side.
template <typename Pick>
ClearingTable BySide(const Clearing& clearing, const ClearingNode& node,
                     const ClearingNamer& name_of, std::string title, bool payer_side,
                     Pick pick) {
  ClearingTable table;
  table.title = std::move(title);
  Header(table, node, clearing, name_of);
  table.columns = {"地区", "合计", "职工医保", "居民医保"};
  std::map<std::string, Sums> sums;
  Sums all;
  for (const ClearingCell& cell : clearing.cells()) {
    const std::string region =
        node.MatrixRegionOf(payer_side ? cell.insured_region() : cell.treatment_region());
    sums[region].Add(pick(cell), cell.resident());
    all.Add(pick(cell), cell.resident());
  }
  for (const auto& [region, s] : sums) {
    table.rows.push_back(
        {name_of(region), FormatYuan(s.total), FormatYuan(s.employee), FormatYuan(s.resident)});
  }
  table.rows.push_back(
      {"合计", FormatYuan(all.total), FormatYuan(all.employee), FormatYuan(all.resident)});
  return table;
}

// 14-2/14-3 (covered) and 14-5/14-6 (deducted): fund columns by paying region, or by receiving
// region for one payer.
ClearingTable FundTable(const Clearing& clearing, const ClearingNode& node,
                        const ClearingNamer& name_of, const std::string& region, bool resident,
                        bool deducted) {
  ClearingTable table;
  table.title = absl::StrCat(resident ? "居民" : "职工", Scope(node), "异地就医",
                             deducted ? "审核扣款明细表" : "应付医疗费用明细表");
  table.region = region;
  Header(table, node, clearing, name_of);
  if (!region.empty()) table.preamble.push_back(absl::StrCat("付款地区：", name_of(region)));
  table.columns = {region.empty() ? "付款地区" : "收款地区"};
  for (const std::string& c : resident ? ResidentColumns() : EmployeeColumns()) {
    table.columns.push_back(c);
  }
  std::map<std::string, FundColumns> rows;
  FundColumns all;
  for (const ClearingCell& cell : clearing.cells()) {
    if (cell.resident() != resident) continue;
    const std::string payer = node.MatrixRegionOf(cell.insured_region());
    if (!region.empty() && payer != region && cell.insured_region() != region) continue;
    const std::string key =
        region.empty() ? payer : node.MatrixRegionOf(cell.treatment_region());
    const FundColumns& f = deducted ? cell.deducted() : cell.covered();
    AddFunds(rows[key], f);
    AddFunds(all, f);
  }
  auto emit = [&](const std::string& label, const FundColumns& f) {
    std::vector<std::string> row = {label};
    for (std::string& v : resident ? ResidentCells(f) : EmployeeCells(f)) row.push_back(v);
    table.rows.push_back(std::move(row));
  };
  for (const auto& [key, f] : rows) emit(name_of(key), f);
  emit("合计", all);
  return table;
}

// Net per matrix pair: (payer, receiver) → fen.
std::map<std::pair<std::string, std::string>, int64_t> PairNets(const Clearing& clearing,
                                                                 const ClearingNode& node) {
  std::map<std::pair<std::string, std::string>, int64_t> nets;
  for (const ClearingCell& cell : clearing.cells()) {
    nets[{node.MatrixRegionOf(cell.insured_region()),
          node.MatrixRegionOf(cell.treatment_region())}] += cell.net_fen();
  }
  return nets;
}

ClearingTable Notice(const Clearing& clearing, const ClearingNode& node,
                     const ClearingNamer& name_of, const std::string& region, bool payment) {
  ClearingTable table;
  table.title = absl::StrCat(Scope(node), "异地就医费用", payment ? "付款" : "收款", "通知书");
  table.region = region;
  std::vector<std::pair<std::string, int64_t>> lines;
  int64_t total = 0;
  for (const auto& [pair, net] : PairNets(clearing, node)) {
    const auto& [payer, receiver] = pair;
    if (net == 0) continue;
    // Normal: the insured side pays the treatment side. Reverse ("*"): the treatment side
    // returns money to the insured side (RULES.md 5.4).
    const bool reverse = net < 0;
    const std::string& from = reverse ? receiver : payer;
    const std::string& to = reverse ? payer : receiver;
    const std::string& me = payment ? from : to;
    if (me != region) continue;
    const std::string& other = payment ? to : from;
    lines.emplace_back(absl::StrCat(reverse ? "*" : "", name_of(other)), reverse ? -net : net);
    total += reverse ? -net : net;
  }
  table.preamble.push_back(absl::StrCat(name_of(region), "医疗保障经办机构："));
  if (payment) {
    table.preamble.push_back(absl::StrCat(
        "根据", MonthLabel(clearing.clearing_month()), Scope(node),
        "异地就医费用清算结果（见附件14-1至14-6），请你单位将", MonthLabel(clearing.clearing_month()),
        Scope(node), "异地就医费用", FormatYuan(total), "元及时拨付给就医地。"));
  } else {
    table.preamble.push_back(absl::StrCat(
        "根据", MonthLabel(clearing.clearing_month()), Scope(node),
        "异地就医费用清算结果（见附件14-7），你单位应收", Scope(node), "异地就医费用",
        FormatYuan(total), "元。"));
  }
  table.preamble.push_back("（标注“*”的地区为反向清算）");
  table.preamble.push_back("单位：元");
  table.columns = {"地区", "金额"};
  for (const auto& [label, fen] : lines) table.rows.push_back({label, FormatYuan(fen)});
  table.rows.push_back({"合计", FormatYuan(total)});
  table.rows.push_back({absl::StrCat(name_of(node.region), "（盖章）")});
  return table;
}

ClearingTable CitySplit(const Clearing& clearing, const ClearingNode& node,
                        const ClearingNamer& name_of, const std::string& province) {
  ClearingTable table;
  table.title = absl::StrCat(name_of(province), Scope(node), "异地就医费用分市清算表");
  table.region = province;
  Header(table, node, clearing, name_of);
  table.columns = {"统筹地区", "应付", "应收"};
  std::map<std::string, std::pair<int64_t, int64_t>> cities;
  int64_t pay = 0;
  int64_t receive = 0;
  for (const ClearingCell& cell : clearing.cells()) {
    if (ProvinceOf(cell.insured_region()) == province) {
      cities[cell.insured_region()].first += cell.net_fen();
      pay += cell.net_fen();
    }
    if (ProvinceOf(cell.treatment_region()) == province) {
      cities[cell.treatment_region()].second += cell.net_fen();
      receive += cell.net_fen();
    }
  }
  for (const auto& [city, sums] : cities) {
    table.rows.push_back({name_of(city), FormatYuan(sums.first), FormatYuan(sums.second)});
  }
  table.rows.push_back({"合计", FormatYuan(pay), FormatYuan(receive)});
  return table;
}

std::set<std::string> NoticeRegions(const Clearing& clearing, const ClearingNode& node) {
  std::set<std::string> regions;
  for (const ClearingCell& cell : clearing.cells()) {
    regions.insert(node.MatrixRegionOf(cell.insured_region()));
    regions.insert(node.MatrixRegionOf(cell.treatment_region()));
  }
  return regions;
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

std::string HtmlEscape(const std::string& text) {
  return absl::StrReplaceAll(text, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}});
}

}  // namespace

std::vector<ClearingTable> ClearingTables(const Clearing& clearing, const ClearingNode& node,
                                          yidi::v1::ClearingDocumentKind kind,
                                          const std::string& region, const ClearingNamer& name_of,
                                          const std::string& prepared_on) {
  using K = yidi::v1::ClearingDocumentKind;
  const bool all = kind == K::CLEARING_DOCUMENT_KIND_UNSPECIFIED;
  std::vector<ClearingTable> tables;
  if (all || kind == K::CLEARING_DOCUMENT_KIND_MATRIX) {
    tables.push_back(Matrix(clearing, node, name_of));
  }
  if (all || kind == K::CLEARING_DOCUMENT_KIND_PAYABLE) {
    tables.push_back(BySide(clearing, node, name_of,
                            absl::StrCat(Scope(node), "异地就医应付医疗费用清算表"), true,
                            [](const ClearingCell& c) { return c.net_fen(); }));
  }
  if (all || kind == K::CLEARING_DOCUMENT_KIND_PAYABLE_FUNDS) {
    tables.push_back(FundTable(clearing, node, name_of, region, false, false));
    tables.push_back(FundTable(clearing, node, name_of, region, true, false));
  }
  if (all || kind == K::CLEARING_DOCUMENT_KIND_DEDUCTIONS) {
    tables.push_back(BySide(clearing, node, name_of,
                            absl::StrCat(Scope(node), "异地就医审核扣款明细表"), true,
                            [](const ClearingCell& c) { return c.deducted().total_fen(); }));
  }
  if (all || kind == K::CLEARING_DOCUMENT_KIND_DEDUCTION_FUNDS) {
    tables.push_back(FundTable(clearing, node, name_of, region, false, true));
    tables.push_back(FundTable(clearing, node, name_of, region, true, true));
  }
  if (all || kind == K::CLEARING_DOCUMENT_KIND_RECEIVABLE) {
    tables.push_back(BySide(clearing, node, name_of,
                            absl::StrCat(Scope(node), "异地就医应收医疗费用清算表"), false,
                            [](const ClearingCell& c) { return c.net_fen(); }));
  }
  const std::set<std::string> regions =
      region.empty() ? NoticeRegions(clearing, node) : std::set<std::string>{region};
  for (const bool payment : {true, false}) {
    const K notice = payment ? K::CLEARING_DOCUMENT_KIND_PAYMENT_NOTICE
                             : K::CLEARING_DOCUMENT_KIND_RECEIPT_NOTICE;
    if (!all && kind != notice) continue;
    for (const std::string& r : regions) tables.push_back(Notice(clearing, node, name_of, r, payment));
  }
  if (all || kind == K::CLEARING_DOCUMENT_KIND_CITY_SPLIT) {
    for (const std::string& r : regions) {
      if (r.substr(2) == "0000") tables.push_back(CitySplit(clearing, node, name_of, r));
    }
  }
  for (ClearingTable& table : tables) Footer(table, prepared_on);
  return tables;
}

std::string RenderCsv(const ClearingTable& table) {
  std::string out = absl::StrCat(CsvField(table.title), "\r\n");
  for (const std::string& line : table.preamble) absl::StrAppend(&out, CsvField(line), "\r\n");
  std::vector<std::string> header;
  for (const std::string& c : table.columns) header.push_back(CsvField(c));
  absl::StrAppend(&out, absl::StrJoin(header, ","), "\r\n");
  for (const auto& row : table.rows) {
    std::vector<std::string> fields;
    for (const std::string& v : row) fields.push_back(CsvField(v));
    absl::StrAppend(&out, absl::StrJoin(fields, ","), "\r\n");
  }
  return out;
}

std::string RenderHtml(const ClearingTable& table) {
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>",
      HtmlEscape(table.title),
      "</title>\n<style>@page{size:A4 landscape;margin:15mm}body{font-family:serif}"
      "h1{text-align:center;font-size:18pt}table{border-collapse:collapse;width:100%}"
      "td,th{border:1px solid #000;padding:2pt 4pt}td.n{text-align:right}"
      "p{margin:2pt 0}</style></head><body>\n<h1>",
      HtmlEscape(table.title), "</h1>\n");
  for (const std::string& line : table.preamble) {
    absl::StrAppend(&out, "<p>", HtmlEscape(line), "</p>\n");
  }
  absl::StrAppend(&out, "<table>\n<tr>");
  for (const std::string& c : table.columns) absl::StrAppend(&out, "<th>", HtmlEscape(c), "</th>");
  absl::StrAppend(&out, "</tr>\n");
  for (const auto& row : table.rows) {
    if (row.size() < table.columns.size()) {
      // Footer and seal lines span the table.
      if (!row.empty()) {
        absl::StrAppend(&out, "</table>\n<p>", HtmlEscape(row.front()), "</p>\n<table>\n");
      }
      continue;
    }
    absl::StrAppend(&out, "<tr>");
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&out, i == 0 ? "<td>" : "<td class=\"n\">", HtmlEscape(row[i]), "</td>");
    }
    absl::StrAppend(&out, "</tr>\n");
  }
  absl::StrAppend(&out, "</table>\n</body></html>\n");
  return out;
}

ClearingTable CombinedProvinceTable(const Clearing& national, const Clearing& provincial,
                                    const std::string& province, const ClearingNamer& name_of,
                                    const std::string& prepared_on) {
  ClearingTable table;
  table.title = "全省异地就医费用清算表";
  table.region = province;
  table.preamble.push_back(absl::StrCat("制表单位（盖章）：", name_of(province)));
  table.preamble.push_back(absl::StrCat("清算所属月份：", MonthLabel(national.clearing_month())));
  table.preamble.push_back("单位：元");
  table.columns = {"地区",     "跨省应付(1)", "跨省应收(2)",      "省内应付(3)",
                   "省内应收(4)", "应付合计(5)=(1)+(3)", "应收合计(6)=(2)+(4)"};
  std::map<std::string, std::array<int64_t, 4>> cities;
  auto add = [&](const Clearing& clearing, int offset) {
    for (const ClearingCell& cell : clearing.cells()) {
      if (ProvinceOf(cell.insured_region()) == province) {
        cities[cell.insured_region()][offset] += cell.net_fen();
      }
      if (ProvinceOf(cell.treatment_region()) == province) {
        cities[cell.treatment_region()][offset + 1] += cell.net_fen();
      }
    }
  };
  add(national, 0);
  add(provincial, 2);
  std::array<int64_t, 4> total{};
  for (const auto& [city, v] : cities) {
    table.rows.push_back({name_of(city), FormatYuan(v[0]), FormatYuan(v[1]), FormatYuan(v[2]),
                          FormatYuan(v[3]), FormatYuan(v[0] + v[2]), FormatYuan(v[1] + v[3])});
    for (int i = 0; i < 4; ++i) total[i] += v[i];
  }
  table.rows.push_back({"合计", FormatYuan(total[0]), FormatYuan(total[1]), FormatYuan(total[2]),
                        FormatYuan(total[3]), FormatYuan(total[0] + total[2]),
                        FormatYuan(total[1] + total[3])});
  Footer(table, prepared_on);
  return table;
}

}  // namespace yidi
