// The clearing tables and notices (附件14–16 of 000_65644e9492a1c962.txt; RULES.md 5.3–5.4)
// rendered from a built Clearing as CSV or printable HTML in the forms' layout: header with
// 制表单位 and 清算所属月份, amounts in 元 with two decimals (FormatYuan, the one formatting
// function), footer with 单位负责人 / 审核人 / 制表人 / 制表日期. Every number is a sum of the
// clearing's cells (common/clearing.h), so each is traceable to settlement ids.
// Reverse clearing (a pair whose net runs back to the insured side) is marked "*" before the
// counterparty's name on the payment notice of the treatment side and the receipt notice of
// the insured side (5.4). Pure functions; thread-safe.
#ifndef YIDI_COMMON_CLEARING_RENDER_H_
#define YIDI_COMMON_CLEARING_RENDER_H_

#include <functional>
#include <string>
#include <vector>

#include "common/clearing.h"
#include "yidi/v1/clearing.pb.h"

namespace yidi {

using ClearingNamer = std::function<std::string(const std::string&)>;

// A table in the abstract: what CSV and HTML both render.
struct ClearingTable {
  std::string title;
  std::string region;               // notices: the addressee; "" for whole tables
  std::vector<std::string> preamble;  // lines above the grid (制表单位, month, notice text)
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

// The tables of `kind` (UNSPECIFIED: all) for `region` ("" = every region for notices; for the
// tables, a region restricts 14-2/14-3/14-5/14-6 to that payer's rows by receiver).
std::vector<ClearingTable> ClearingTables(const yidi::v1::Clearing& clearing,
                                          const ClearingNode& node,
                                          yidi::v1::ClearingDocumentKind kind,
                                          const std::string& region, const ClearingNamer& name_of,
                                          const std::string& prepared_on);

// RFC 4180 CSV: preamble lines as single-cell rows, then the header and the rows.
std::string RenderCsv(const ClearingTable& table);
// A self-contained printable HTML page (A4 landscape, borders, right-aligned amounts).
std::string RenderHtml(const ClearingTable& table);

// Jiangxi's combined table (全省异地就医费用清算表, 002_… 附件12): per city, cross-province
// payable (1) and receivable (2) from the national clearing, intra-province payable (3) and
// receivable (4) from the province's, 应付合计 = 1+3, 应收合计 = 2+4, and a 合计 row.
ClearingTable CombinedProvinceTable(const yidi::v1::Clearing& national,
                                    const yidi::v1::Clearing& provincial,
                                    const std::string& province, const ClearingNamer& name_of,
                                    const std::string& prepared_on);

}  // namespace yidi

#endif  // YIDI_COMMON_CLEARING_RENDER_H_
