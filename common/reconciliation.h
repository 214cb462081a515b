// Daily reconciliation (日对账), the pure part: what a node's day looks like as totals per pair
// of regions, which nodes must agree on a pair, how the records of one settlement at those
// nodes are classified when they disagree, and whose record prevails (RULES.md section 4;
// docs/RECONCILIATION.md). No I/O here: common/reconciliation_store.h reads and writes the
// tables, common/reconciliation_service.h talks to the other nodes.
//
// Sides. The nodes that recorded a settlement are listed in path order, from the treatment
// side to the insured side ("sides"); the first side is the treatment side, whose record was
// confirmed with the institution and prevails (Liaoning 003 第37条), the last is the side nearest
// the insured region (the owner's word came back through it).
#ifndef YIDI_COMMON_RECONCILIATION_H_
#define YIDI_COMMON_RECONCILIATION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/directory.h"
#include "common/routing.h"
#include "yidi/v1/reconciliation.pb.h"

namespace yidi {

// A page of GetDayDetail holds at most this many entries (about 200 bytes each).
inline constexpr int kReconciliationPageSizeMax = 5000;
inline constexpr int kReconciliationPageSizeDefault = 1000;
// A page of GetDayTotals holds the groups of at most this many (insured region, treatment
// region, institution) keys (D412). A key has a handful of (state, kind) groups of about 80 bytes
// each, so a full page stays far below gRPC's 4 MiB message limit; a national day with hundreds
// of thousands of keys pages instead of failing.
inline constexpr int kDayTotalsPageSizeMax = 5000;
inline constexpr int kDayTotalsPageSizeDefault = 2000;
static_assert(kDayTotalsPageSizeDefault <= kDayTotalsPageSizeMax);
// Days not balanced are re-run daily (Jiangxi 002 第42条) for at most this many days back;
// older ones stay in the report for an operator.
inline constexpr int kReconciliationRetryDaysMax = 31;
// Correction ids, request ids and reasons are bounded.
inline constexpr int kCorrectionIdLengthMax = 160;
inline constexpr int kReconciliationReasonLengthMax = 500;

// The pair of regions a settlement belongs to, and the treating institution: the unit whose
// totals are compared (a pair's day split by institution, so that a difference fetches the
// detail of one institution's day only).
struct PairKey {
  std::string insured_region;
  std::string treatment_region;
  std::string institution_code;  // empty: the whole pair
  friend bool operator<(const PairKey& a, const PairKey& b) {
    return std::tie(a.insured_region, a.treatment_region, a.institution_code) <
           std::tie(b.insured_region, b.treatment_region, b.institution_code);
  }
  friend bool operator==(const PairKey& a, const PairKey& b) {
    return a.insured_region == b.insured_region && a.treatment_region == b.treatment_region &&
           a.institution_code == b.institution_code;
  }
};

struct DayAmounts {
  int64_t count = 0;
  int64_t total_fen = 0;
  int64_t fund_total_fen = 0;
  int64_t personal_account_fen = 0;
  int64_t cash_fen = 0;
  friend bool operator==(const DayAmounts&, const DayAmounts&) = default;
};

// (state, kind) → amounts, for one pair.
using PairTotals = std::map<std::pair<int, int>, DayAmounts>;
// A node's day.
using DayTotals = std::map<PairKey, PairTotals>;

DayTotals DayTotalsFromProto(const yidi::v1::GetDayTotalsResponse& response);

// True when the pair must be looked at in detail: the sides' totals differ, or some side holds
// a settlement whose outcome it does not know (IN_DOUBT, PENDING), which equal totals would hide.
// A side without the pair counts as empty.
bool PairNeedsDetail(const std::vector<const PairTotals*>& sides);

// A node taking part in reconciliation.
struct ReconciliationNode {
  yidi::v1::NodeKind kind = yidi::v1::NODE_KIND_UNSPECIFIED;
  std::string region;
  friend bool operator==(const ReconciliationNode&, const ReconciliationNode&) = default;
  friend bool operator<(const ReconciliationNode& a, const ReconciliationNode& b) {
    return std::make_pair(static_cast<int>(a.kind), a.region) <
           std::make_pair(static_cast<int>(b.kind), b.region);
  }
};
std::string NameOfNode(const ReconciliationNode& node);  // "provincial 360000", "national"

// The sides that reconcile `pair` at `self`: the nodes of the settlement path from the
// treatment municipal node to the insured one that are `self` or directly below it, in path
// order. National: (treatment province, national, insured province) for a cross-province pair,
// none otherwise (intra-province traffic never reaches it). A province: its treatment city (when
// the treatment region is its own), itself, its insured city (when the insured region is its
// own); none when the pair does not touch it or is local to one city. A municipal node: none.
std::vector<ReconciliationNode> PairSides(const NodeIdentity& self,
                                          const DirectoryIndex& directory, const PairKey& pair);

// One settlement's disagreement across the sides.
struct Difference {
  std::string settlement_id;
  yidi::v1::DifferenceKind kind = yidi::v1::DIFFERENCE_KIND_UNSPECIFIED;
  std::vector<std::optional<yidi::v1::DayDetailEntry>> records;  // per side; nullopt = missing
  std::string detail;  // "provincial 500000: SETTLED 1234.00; national: missing; ..."
};

// Classifies every settlement id of the sides' detail (each map keyed by settlement_id) that is
// not recorded identically (state, kind, amounts) by every side, or is IN_DOUBT / PENDING at
// some side. In settlement_id order. The precedence, first that applies:
//   IN_DOUBT (a side does not know the outcome), REVERSED_ONE_SIDE (a reversal missing at a side,
//   or REVERSED next to SETTLED), MISSING, AMOUNTS_DIFFER, STATE_DIFFERS.
// REQUIRES: side_names.size() == sides.size() >= 2.
std::vector<Difference> ClassifyDifferences(
    const std::vector<const std::map<std::string, yidi::v1::DayDetailEntry>*>& sides,
    const std::vector<std::string>& side_names);

// SETTLED, REVERSED and VOIDED: the node knows how the settlement ended.
bool IsDefinitive(yidi::v1::SettlementState state);

// Whose record prevails (RULES.md section 4):
//  - the treatment side's (side 0) when it knows the outcome: it is the amount confirmed with
//    the institution, and it prevails at every level (Liaoning 003 第37条);
//  - otherwise (a reply lost on the way back, a relay's crash gap) the definitive record
//    nearest the insured side: the owner's answer travelled through it;
//  - otherwise nobody on the sides knows: ask the owner (the insured municipal node).
struct Authority {
  bool ask_owner = false;
  int side = -1;  // when !ask_owner
};
Authority ChooseAuthority(const std::vector<std::optional<yidi::v1::DayDetailEntry>>& records);

// True when `record` already says what `authority` says (state, kind and amounts); nullopt
// authority means "never committed": agreeing is VOIDED or missing.
bool AgreesWith(const std::optional<yidi::v1::DayDetailEntry>& record,
                const std::optional<yidi::v1::DayDetailEntry>& authority);

// "1234.56 元"-free compact text of one record for reports: "SETTLED 1234.56" or "missing".
std::string DescribeRecord(const std::optional<yidi::v1::DayDetailEntry>& record);

// The correction id of one fix: deterministic, so that a re-run of the same day (a retry, a
// second operator run) replays instead of applying twice.
std::string CorrectionIdFor(const std::string& day, const std::string& settlement_id,
                            const ReconciliationNode& target, yidi::v1::CorrectionAction action,
                            yidi::v1::SettlementState state);

}  // namespace yidi

#endif  // YIDI_COMMON_RECONCILIATION_H_
