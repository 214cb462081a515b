#include "common/prepayment_notices.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/money.h"

namespace yidi {
namespace {

using yidi::v1::PrepaymentQuota;

// The amount that moves under a quota's notice: the initial quota, or the adjustment.
int64_t Moved(const PrepaymentQuota& quota) {
  return quota.first_year() ? quota.quota_fen() : quota.adjustment_fen();
}

const char* Scope(bool cross_province) { return cross_province ? "跨省异地就医" : "异地就医"; }

// Columns as a terminal shows them: a CJK character is two columns wide.
int DisplayWidth(absl::string_view text) {
  int width = 0;
  for (size_t i = 0; i < text.size();) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    const size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    width += length >= 3 ? 2 : 1;
    i += length;
  }
  return width;
}

std::string Cell(absl::string_view text, int width = 16) {
  std::string cell(text);
  for (int pad = width - DisplayWidth(text); pad > 0; --pad) cell.push_back(' ');
  if (DisplayWidth(text) >= width) cell.push_back(' ');
  return cell;
}

std::string PayByOf(const std::vector<yidi::v1::TransferObligation>& obligations,
                    const std::string& region) {
  std::string pay_by;
  for (const auto& obligation : obligations) {
    if (obligation.payer_region() == region && (pay_by.empty() || obligation.pay_by() > pay_by)) {
      pay_by = obligation.pay_by();
    }
  }
  return pay_by;
}

}  // namespace

std::string RenderAdjustmentMatrix(int year, const std::vector<PrepaymentQuota>& quotas,
                                   bool cross_province, const RegionNamer& name_of) {
  std::set<std::string> payers, receivers;
  std::map<std::pair<std::string, std::string>, int64_t> cell;
  for (const auto& quota : quotas) {
    payers.insert(quota.payer_region());
    receivers.insert(quota.receiver_region());
    cell[{quota.receiver_region(), quota.payer_region()}] += Moved(quota);
  }
  std::string text = absl::StrCat("全国", Scope(cross_province), "预付金额度调整明细表\n", "年度：",
                                  year, "年    单位：万元    (\"*\" = 返还 returned)\n");
  absl::StrAppend(&text, Cell("收款省 \\ 付款省"));
  for (const auto& payer : payers) absl::StrAppend(&text, Cell(name_of(payer)));
  absl::StrAppend(&text, Cell("合计"), "\n");
  std::map<std::string, int64_t> column_total;
  int64_t grand_total = 0;
  for (const auto& receiver : receivers) {
    absl::StrAppend(&text, Cell(name_of(receiver)));
    int64_t row_total = 0;
    for (const auto& payer : payers) {
      if (payer == receiver) {
        absl::StrAppend(&text, Cell("——"));
        continue;
      }
      auto found = cell.find({receiver, payer});
      if (found == cell.end()) {
        absl::StrAppend(&text, Cell(""));
        continue;
      }
      const int64_t fen = found->second;
      absl::StrAppend(&text,
                      Cell(fen < 0 ? absl::StrCat("*", FormatWanYuan(-fen)) : FormatWanYuan(fen)));
      row_total += fen;
      column_total[payer] += fen;
    }
    grand_total += row_total;
    absl::StrAppend(&text, Cell(FormatWanYuan(row_total)), "\n");
  }
  absl::StrAppend(&text, Cell("合计"));
  for (const auto& payer : payers) absl::StrAppend(&text, Cell(FormatWanYuan(column_total[payer])));
  absl::StrAppend(&text, Cell(FormatWanYuan(grand_total)), "\n");
  absl::StrAppend(&text, "单位负责人：        审核人：        制表人：        制表日期：\n");
  return text;
}

std::string RenderPaymentNotice(int year, const std::string& region,
                                const std::vector<PrepaymentQuota>& quotas,
                                const std::vector<yidi::v1::TransferObligation>& obligations,
                                bool cross_province, const RegionNamer& name_of) {
  std::string rows;
  int64_t previous_total = 0, quota_total = 0, moved_total = 0;
  bool first_year = false;
  for (const auto& quota : quotas) {
    const int64_t moved = Moved(quota);
    std::string counterpart;
    if (quota.payer_region() == region && moved > 0) {
      counterpart = name_of(quota.receiver_region());
    } else if (quota.receiver_region() == region && moved < 0) {
      counterpart = absl::StrCat("*", name_of(quota.payer_region()));
    } else {
      continue;
    }
    first_year = first_year || quota.first_year();
    const int64_t paid = moved < 0 ? -moved : moved;
    absl::StrAppend(&rows, Cell(counterpart), Cell(FormatWanYuan(quota.previous_quota_fen())),
                    Cell(FormatWanYuan(quota.quota_fen())), Cell(FormatWanYuan(paid)), "\n");
    previous_total += quota.previous_quota_fen();
    quota_total += quota.quota_fen();
    moved_total += paid;
  }
  if (rows.empty()) return "";
  const std::string pay_by = PayByOf(obligations, region);
  std::string text = absl::StrCat(
      name_of(region), Scope(cross_province),
      first_year ? "预付金付款通知书\n" : "预付金额度调整付款通知书\n", "（经办机构全称）：\n",
      "请你单位将", year, "年", Scope(cross_province), "预付金于",
      first_year ? "签章之日起15个工作日内" : absl::StrCat(pay_by, "前"),
      "拨付。付款明细清单如下：\n", "预付金年度：", year, "年    付款方：", name_of(region),
      "    单位：万元\n", Cell("地区"), Cell("上年额度"), Cell("本年核定额度"),
      Cell("实际划款额度"), "\n", rows, Cell("合计"), Cell(FormatWanYuan(previous_total)),
      Cell(FormatWanYuan(quota_total)), Cell(FormatWanYuan(moved_total)), "\n");
  absl::StrAppend(&text, "注：上年额度指核定的上年度预付金额（含紧急调整额度）\n",
                  "（落款：由出具单据的部门落款并加盖公章）\n");
  return text;
}

std::string RenderReceiptNotice(int year, const std::string& region,
                                const std::vector<PrepaymentQuota>& quotas, bool cross_province,
                                const RegionNamer& name_of) {
  std::string rows;
  int64_t total = 0;
  bool first_year = false;
  for (const auto& quota : quotas) {
    const int64_t moved = Moved(quota);
    std::string counterpart;
    if (quota.receiver_region() == region && moved > 0) {
      counterpart = name_of(quota.payer_region());
    } else if (quota.payer_region() == region && moved < 0) {
      counterpart = absl::StrCat("*", name_of(quota.receiver_region()));
    } else {
      continue;
    }
    first_year = first_year || quota.first_year();
    const int64_t received = moved < 0 ? -moved : moved;
    absl::StrAppend(&rows, Cell(counterpart), Cell(FormatWanYuan(received)), "\n");
    total += received;
  }
  if (rows.empty()) return "";
  return absl::StrCat(name_of(region), Scope(cross_province),
                      first_year ? "预付金收款通知书\n" : "预付金额度调整收款通知书\n",
                      "（经办机构全称）：\n你单位", year, "年", Scope(cross_province),
                      "预付金收款明细清单如下：\n", "预付金年度：", year, "年    收款方：",
                      name_of(region), "    单位：万元\n", Cell("地区"), Cell("金额"), "\n", rows,
                      Cell("合计"), Cell(FormatWanYuan(total)), "\n",
                      "（落款：由出具单据的部门落款并加盖公章）\n");
}

std::string RenderEmergencyNotice(const yidi::v1::TransferObligation& obligation, bool payment_side,
                                  const RegionNamer& name_of) {
  const std::string amount = FormatWanYuan(obligation.amount_fen());
  if (payment_side) {
    return absl::StrCat(
        name_of(obligation.payer_region()),
        "跨省异地就医预付金额度紧急调增付款通知书\n（经办机构全称）：\n根据",
        name_of(obligation.receiver_region()),
        "的紧急调增申请，按照《国家医保局 财政部关于进一步做好基本医疗保险跨省异地就医"
        "直接结算工作的通知》（医保发〔2022〕22号）文件规定，请你单位于",
        obligation.pay_by(), "前，补充拨付预付金", amount, "万元。\n", "（",
        obligation.obligation_id(), "，签章日期：", obligation.signed_date(), "）\n");
  }
  return absl::StrCat(
      name_of(obligation.receiver_region()),
      "跨省异地就医预付金额度紧急调增收款通知书\n（经办机构全称）：\n根据紧急调增申请，"
      "按照《国家医保局 财政部关于进一步做好基本医疗保险跨省异地就医直接结算工作的通知》"
      "（医保发〔2022〕22号）文件规定，请你单位对",
      name_of(obligation.payer_region()), "补充拨付预付金", amount, "万元进行查收确认。\n", "（",
      obligation.obligation_id(), "，签章日期：", obligation.signed_date(), "）\n");
}

}  // namespace yidi
