// The prepayment forms in 万元 (000_… 附件5–9), with "*" on returned money (RULES.md 5.4).
#include "common/prepayment_notices.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yidi {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kWan = 1'000'000;

yidi::v1::PrepaymentQuota Quota(const char* payer, const char* receiver, int64_t previous,
                                int64_t quota) {
  yidi::v1::PrepaymentQuota q;
  q.set_year(2026);
  q.set_payer_region(payer);
  q.set_receiver_region(receiver);
  q.set_previous_quota_fen(previous);
  q.set_quota_fen(quota);
  q.set_adjustment_fen(quota - previous);
  return q;
}

std::string Name(const std::string& code) {
  if (code == "360000") return "江西省";
  if (code == "210000") return "辽宁省";
  if (code == "500000") return "重庆市";
  return code;
}

// Jiangxi pays Liaoning 660 − 500 = 160 万元; Chongqing's quota for Jiangxi fell from 300 to 240,
// so Chongqing returns 60 万元 to Jiangxi: "*重庆市" on Chongqing's payment notice and on
// Jiangxi's receipt notice.
TEST(PrepaymentNoticesTest, AdjustmentNoticesAndMatrix) {
  const std::vector<yidi::v1::PrepaymentQuota> quotas = {
      Quota("360000", "210000", 500 * kWan, 660 * kWan),
      Quota("360000", "500000", 300 * kWan, 240 * kWan)};
  yidi::v1::TransferObligation obligation;
  obligation.set_payer_region("360000");
  obligation.set_pay_by("2026-02-28");

  const std::string payment = RenderPaymentNotice(2026, "360000", quotas, {obligation}, true, Name);
  EXPECT_THAT(payment, HasSubstr("江西省跨省异地就医预付金额度调整付款通知书"));
  EXPECT_THAT(payment, HasSubstr("于2026-02-28前拨付"));
  EXPECT_THAT(payment, HasSubstr("辽宁省"));
  EXPECT_THAT(payment, HasSubstr("500.0000"));
  EXPECT_THAT(payment, HasSubstr("660.0000"));
  EXPECT_THAT(payment, HasSubstr("160.0000"));
  EXPECT_THAT(payment, Not(HasSubstr("重庆市")));  // Jiangxi pays Chongqing nothing

  const std::string returned = RenderPaymentNotice(2026, "500000", quotas, {}, true, Name);
  EXPECT_THAT(returned, HasSubstr("*江西省"));
  EXPECT_THAT(returned, HasSubstr("60.0000"));

  const std::string receipt = RenderReceiptNotice(2026, "360000", quotas, true, Name);
  EXPECT_THAT(receipt, HasSubstr("*重庆市"));
  EXPECT_THAT(receipt, HasSubstr("60.0000"));
  EXPECT_EQ(RenderReceiptNotice(2026, "999999", quotas, true, Name), "");

  const std::string matrix = RenderAdjustmentMatrix(2026, quotas, true, Name);
  EXPECT_THAT(matrix, HasSubstr("全国跨省异地就医预付金额度调整明细表"));
  EXPECT_THAT(matrix, HasSubstr("*60.0000"));
  EXPECT_THAT(matrix, HasSubstr("160.0000"));
  EXPECT_THAT(matrix, HasSubstr("100.0000"));  // Jiangxi's column: 160 − 60
}

TEST(PrepaymentNoticesTest, EmergencyNotices) {
  yidi::v1::TransferObligation increase;
  increase.set_obligation_id("EI-2026-05-360000-210000-T");
  increase.set_payer_region("360000");
  increase.set_receiver_region("210000");
  increase.set_amount_fen(160 * kWan);
  increase.set_pay_by("2026-07-20");
  increase.set_signed_date("2026-06-29");
  EXPECT_THAT(RenderEmergencyNotice(increase, true, Name), HasSubstr("根据辽宁省的紧急调增申请"));
  EXPECT_THAT(RenderEmergencyNotice(increase, true, Name),
              HasSubstr("请你单位于2026-07-20前，补充拨付预付金160.0000万元"));
  EXPECT_THAT(RenderEmergencyNotice(increase, false, Name),
              HasSubstr("请你单位对江西省补充拨付预付金160.0000万元进行查收确认"));
}

}  // namespace
}  // namespace yidi
