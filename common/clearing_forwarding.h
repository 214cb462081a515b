// A province forwarding national's clearing to its cities (RULES.md 5.1 "省、市两级清算", 5.5;
// 000_65644e9492a1c962.txt 第44–46条; Liaoning 003_… 第49–50条).
//
// Once national's clearing of month M has issued its notices (NOTICES_ISSUED), the province
// takes national's cells that concern it (GetClearing with the province as region) and
// produces its own notices for the cross-province part:
//  - a PAYMENT notice to each insured city: its share of the province's payable, one line per
//    treatment province (net of that city with it);
//  - a RECEIPT notice to each treatment city: its share of the receivable, one line per
//    insured province.
// Each notice with a non-zero net becomes one transfer obligation on the province's Store
// (except where the city is the province itself, a province-level pooling region like
// Chongqing 500000: nothing moves between the two)
// (common/transfer_obligations.h): a payment notice city → province, a receipt notice
// province → city. A negative net runs the other way and is a return (reverse clearing,
// `returned` = "*", 第48条): a city whose lines net below zero is owed money by the province.
//
// Deadlines (ForwardingPolicy, RULES.md 5.5) count from the day national issued its notices:
// city remittance = base + city_remit WD (national 5, Liaoning 10); the province sends the
// collected money on within forward WD of that (Liaoning 5; recorded as forward_by); a
// receipt is distributed within distribute WD of the base (national), or, when
// distribute_after_funds (Liaoning), of the day the paying side's money is due to arrive
// (base + city_remit + forward).
//
// Conservation (asserted, YIDI_CHECK): Σ payment notices = the province's payable (附件14-1),
// Σ receipt notices = its receivable (附件14-7), both computed again from national's matrix.
//
// Forwarding is idempotent: the forwarding of a month is stored (clearing_forwarding) with its
// obligation ids; running it again returns the stored one and creates nothing. Each function
// runs inside the caller's Transaction. Thread safety: as the Transaction.
#ifndef YIDI_COMMON_CLEARING_FORWARDING_H_
#define YIDI_COMMON_CLEARING_FORWARDING_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/calendar.h"
#include "common/clearing_render.h"
#include "common/store/store.h"
#include "yidi/v1/clearing.pb.h"
#include "yidi/v1/clearing_cycle.pb.h"

namespace yidi {

// National rule, 000_… 第46条: collect up / distribute down within 5 WD of national's notices.
inline constexpr int kForwardCollectWorkingDays = 5;
// After the finance transfer the finance side reports back within 5 WD (第45条).
inline constexpr int kForwardFeedbackWorkingDays = 5;

// Schema (version 330).
std::vector<Migration> ClearingForwardingMigrations();
// Every table of the clearing cycle (330–339): forwarding and the year close (clearing_year.h).
std::vector<Migration> ClearingCycleMigrations();

// National rule: 5 WD remit, no separate forward step, 5 WD distribute.
yidi::v1::ForwardingPolicy NationalForwardingPolicy();
// Liaoning 003_… 第49条: 10 WD remit, 5 WD forward, 5 WD distribute after the funds.
yidi::v1::ForwardingPolicy LiaoningForwardingPolicy();
// Zero fields take the national rule's value.
yidi::v1::ForwardingPolicy WithNationalForwardingDefaults(yidi::v1::ForwardingPolicy policy);
// INVALID_ARGUMENT naming the field when a step is negative or above kWorkingDaysMax.
absl::Status ValidateForwardingPolicy(const yidi::v1::ForwardingPolicy& policy);

struct ForwardingNode {
  std::string province;  // "xx0000"
  const WorkingDayCalendar* calendar = nullptr;
  yidi::v1::ForwardingPolicy policy;  // with national defaults applied
  absl::Time now;
};

// The forwarding of `national` (a clearing in NOTICES_ISSUED, as national returns it with or
// without a region filter) for node.province, without obligation ids: pure. FAILED_PRECONDITION
// when national has not issued its notices; OUT_OF_RANGE when a deadline leaves the calendar.
absl::StatusOr<yidi::v1::ClearingForwarding> PlanForwarding(const yidi::v1::Clearing& national,
                                                            const ForwardingNode& node);

// Plans, stores the forwarding and inserts its obligations; the same month again returns the
// stored forwarding (replayed) and creates nothing. A stored forwarding whose national figures
// differ from `national` (national re-cleared?) is FAILED_PRECONDITION: never silently
// re-issued.
absl::StatusOr<yidi::v1::ForwardClearingResponse> ForwardClearing(
    Transaction& tx, const ForwardingNode& node, const yidi::v1::Clearing& national);

// The stored forwarding of a month; NOT_FOUND before it is forwarded.
absl::StatusOr<yidi::v1::ClearingForwarding> GetForwarding(Transaction& tx,
                                                           absl::string_view month);

// The forwarded notices as tables (CSV / HTML through RenderCsv / RenderHtml): one per notice,
// of `city` only when given. Lines of a return carry "*" before the counterparty's name.
std::vector<ClearingTable> ForwardedNoticeTables(const yidi::v1::ClearingForwarding& forwarding,
                                                 const std::string& city,
                                                 const ClearingNamer& name_of,
                                                 const std::string& prepared_on);

}  // namespace yidi

#endif  // YIDI_COMMON_CLEARING_FORWARDING_H_
