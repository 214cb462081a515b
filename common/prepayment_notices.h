// The prepayment documents as text, in 万元 with four decimals (money.h FormatWanYuan), laid out
// after the forms of 000_… 附件3–9 (Jiangxi's 附件2–6 are the same forms one level down):
//  附件5  the adjustment matrix (rows = receiving region, columns = paying region);
//  附件3/6 a region's initial or adjustment payment notice (上年额度, 本年核定额度, 实际划款额度);
//  附件4/7 a region's receipt notice;
//  附件8/9 an emergency increase's payment and receipt notices.
// Returned money is listed on the returner's payment notice and the insured side's receipt
// notice with "*" before the counterpart's name (RULES.md 5.4). Pure functions.
#ifndef YIDI_COMMON_PREPAYMENT_NOTICES_H_
#define YIDI_COMMON_PREPAYMENT_NOTICES_H_

#include <functional>
#include <string>
#include <vector>

#include "yidi/v1/prepayment.pb.h"

namespace yidi {

// A region's display name ("辽宁省"); the code itself when unknown.
using RegionNamer = std::function<std::string(const std::string&)>;

// 附件5. `cross_province`: "跨省异地就医" (national) or "异地就医" (a province's own notices).
std::string RenderAdjustmentMatrix(int year, const std::vector<yidi::v1::PrepaymentQuota>& quotas,
                                   bool cross_province, const RegionNamer& name_of);

// 附件3 (first year) or 附件6 for `region`; empty when it pays nothing.
std::string RenderPaymentNotice(int year, const std::string& region,
                                const std::vector<yidi::v1::PrepaymentQuota>& quotas,
                                const std::vector<yidi::v1::TransferObligation>& obligations,
                                bool cross_province, const RegionNamer& name_of);

// 附件4 / 附件7 for `region`; empty when it receives nothing.
std::string RenderReceiptNotice(int year, const std::string& region,
                                const std::vector<yidi::v1::PrepaymentQuota>& quotas,
                                bool cross_province, const RegionNamer& name_of);

// 附件8 (payment side) or 附件9 (receipt side) of an emergency increase.
std::string RenderEmergencyNotice(const yidi::v1::TransferObligation& obligation, bool payment_side,
                                  const RegionNamer& name_of);

}  // namespace yidi

#endif  // YIDI_COMMON_PREPAYMENT_NOTICES_H_
