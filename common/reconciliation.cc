#include "common/reconciliation.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "common/money.h"
#include "common/status_macros.h"

namespace yidi {

using yidi::v1::DayDetailEntry;
using yidi::v1::SettlementState;

DayTotals DayTotalsFromProto(const yidi::v1::GetDayTotalsResponse& response) {
  DayTotals totals;
  for (const auto& group : response.groups()) {
    DayAmounts& amounts =
        totals[PairKey{group.insured_region(), group.treatment_region(), group.institution_code()}]
              [{static_cast<int>(group.state()), static_cast<int>(group.kind())}];
    amounts.count += group.count();
    amounts.total_fen += group.total_fen();
    amounts.fund_total_fen += group.fund_total_fen();
    amounts.personal_account_fen += group.personal_account_fen();
    amounts.cash_fen += group.cash_fen();
  }
  return totals;
}

namespace {

bool Unknown(SettlementState state) {
  return state == yidi::v1::SETTLEMENT_STATE_IN_DOUBT ||
         state == yidi::v1::SETTLEMENT_STATE_PENDING;
}

bool HoldsUnknown(const PairTotals* totals) {
  if (totals == nullptr) return false;
  for (const auto& [state_kind, amounts] : *totals) {
    if (Unknown(static_cast<SettlementState>(state_kind.first)) && amounts.count > 0) return true;
  }
  return false;
}

bool SameAmounts(const DayDetailEntry& a, const DayDetailEntry& b) {
  return a.total_fen() == b.total_fen() && a.fund_total_fen() == b.fund_total_fen() &&
         a.personal_account_fen() == b.personal_account_fen() && a.cash_fen() == b.cash_fen();
}

bool SameRecord(const DayDetailEntry& a, const DayDetailEntry& b) {
  return a.state() == b.state() && a.kind() == b.kind() && SameAmounts(a, b);
}

}  // namespace

bool PairNeedsDetail(const std::vector<const PairTotals*>& sides) {
  static const PairTotals kEmpty;
  YIDI_CHECK(!sides.empty(), "a pair has at least one side");
  const PairTotals& first = sides.front() ? *sides.front() : kEmpty;
  for (const PairTotals* side : sides) {
    if (HoldsUnknown(side)) return true;
    if ((side ? *side : kEmpty) != first) return true;
  }
  return false;
}

std::string NameOfNode(const ReconciliationNode& node) {
  switch (node.kind) {
    case yidi::v1::NODE_KIND_NATIONAL:
      return "national";
    case yidi::v1::NODE_KIND_PROVINCIAL:
      return absl::StrCat("provincial ", node.region);
    case yidi::v1::NODE_KIND_MUNICIPAL:
      return absl::StrCat("municipal ", node.region);
    default:
      return absl::StrCat("node ", node.region);
  }
}

std::vector<ReconciliationNode> PairSides(const NodeIdentity& self,
                                          const DirectoryIndex& directory, const PairKey& pair) {
  auto pool = [&](const std::string& region) {
    auto pooled = directory.PoolingRegionFor(region);
    return pooled.ok() ? *pooled : region;
  };
  const std::string insured = pool(pair.insured_region);
  const std::string treatment = pool(pair.treatment_region);
  const std::string insured_province = ProvinceCodeOf(insured);
  const std::string treatment_province = ProvinceCodeOf(treatment);
  std::vector<ReconciliationNode> sides;
  if (self.kind == yidi::v1::NODE_KIND_NATIONAL) {
    if (insured_province == treatment_province) return sides;
    sides.push_back({yidi::v1::NODE_KIND_PROVINCIAL, treatment_province});
    sides.push_back({yidi::v1::NODE_KIND_NATIONAL, std::string(kNationalRegionCode)});
    sides.push_back({yidi::v1::NODE_KIND_PROVINCIAL, insured_province});
    return sides;
  }
  if (self.kind != yidi::v1::NODE_KIND_PROVINCIAL) return sides;
  const std::string& province = self.region_code;
  const bool treated_here = treatment_province == province;
  const bool insured_here = insured_province == province;
  if (!treated_here && !insured_here) return sides;
  if (insured == treatment) return sides;  // local to one pooling region: never relayed
  if (treated_here) sides.push_back({yidi::v1::NODE_KIND_MUNICIPAL, treatment});
  sides.push_back({yidi::v1::NODE_KIND_PROVINCIAL, province});
  if (insured_here) sides.push_back({yidi::v1::NODE_KIND_MUNICIPAL, insured});
  return sides;
}

bool IsDefinitive(SettlementState state) {
  return state == yidi::v1::SETTLEMENT_STATE_SETTLED ||
         state == yidi::v1::SETTLEMENT_STATE_REVERSED ||
         state == yidi::v1::SETTLEMENT_STATE_VOIDED;
}

std::string DescribeRecord(const std::optional<DayDetailEntry>& record) {
  if (!record) return "missing";
  std::string text = yidi::v1::SettlementState_Name(record->state());
  if (absl::StartsWith(text, "SETTLEMENT_STATE_")) text = text.substr(17);
  if (record->kind() == yidi::v1::SETTLEMENT_KIND_REVERSAL) absl::StrAppend(&text, " reversal");
  absl::StrAppend(&text, " ", FormatYuan(record->total_fen()), "/",
                  FormatYuan(record->fund_total_fen()), "/",
                  FormatYuan(record->personal_account_fen()));
  return text;
}

std::vector<Difference> ClassifyDifferences(
    const std::vector<const std::map<std::string, DayDetailEntry>*>& sides,
    const std::vector<std::string>& side_names) {
  YIDI_CHECK(sides.size() >= 2 && sides.size() == side_names.size(),
             "a comparison has at least two named sides");
  std::set<std::string> ids;
  for (const auto* side : sides) {
    for (const auto& [id, entry] : *side) ids.insert(id);
  }
  std::vector<Difference> differences;
  for (const std::string& id : ids) {
    Difference difference;
    difference.settlement_id = id;
    bool missing = false, unknown = false, reversed_vs_settled = false, reversal = false;
    bool amounts_differ = false, state_differs = false;
    const DayDetailEntry* first_present = nullptr;
    for (const auto* side : sides) {
      auto it = side->find(id);
      if (it == side->end()) {
        missing = true;
        difference.records.push_back(std::nullopt);
        continue;
      }
      const DayDetailEntry& entry = it->second;
      difference.records.push_back(entry);
      if (Unknown(entry.state())) unknown = true;
      if (entry.kind() == yidi::v1::SETTLEMENT_KIND_REVERSAL) reversal = true;
      if (first_present == nullptr) {
        first_present = &entry;
        continue;
      }
      if (!SameAmounts(entry, *first_present)) amounts_differ = true;
      if (entry.state() != first_present->state() || entry.kind() != first_present->kind()) {
        state_differs = true;
        const std::set<SettlementState> pair = {entry.state(), first_present->state()};
        if (pair == std::set<SettlementState>{yidi::v1::SETTLEMENT_STATE_SETTLED,
                                              yidi::v1::SETTLEMENT_STATE_REVERSED}) {
          reversed_vs_settled = true;
        }
      }
    }
    if (unknown) {
      difference.kind = yidi::v1::DIFFERENCE_KIND_IN_DOUBT;
    } else if ((missing && reversal) || reversed_vs_settled) {
      difference.kind = yidi::v1::DIFFERENCE_KIND_REVERSED_ONE_SIDE;
    } else if (missing) {
      difference.kind = yidi::v1::DIFFERENCE_KIND_MISSING;
    } else if (amounts_differ) {
      difference.kind = yidi::v1::DIFFERENCE_KIND_AMOUNTS_DIFFER;
    } else if (state_differs) {
      difference.kind = yidi::v1::DIFFERENCE_KIND_STATE_DIFFERS;
    } else {
      continue;  // every side agrees
    }
    std::vector<std::string> parts;
    for (size_t i = 0; i < sides.size(); ++i) {
      parts.push_back(absl::StrCat(side_names[i], ": ", DescribeRecord(difference.records[i])));
    }
    difference.detail = absl::StrJoin(parts, "; ");
    differences.push_back(std::move(difference));
  }
  return differences;
}

Authority ChooseAuthority(const std::vector<std::optional<DayDetailEntry>>& records) {
  YIDI_CHECK(!records.empty(), "a difference has sides");
  if (records.front() && IsDefinitive(records.front()->state())) return Authority{false, 0};
  for (int i = static_cast<int>(records.size()) - 1; i >= 0; --i) {
    if (records[i] && IsDefinitive(records[i]->state())) return Authority{false, i};
  }
  return Authority{true, -1};
}

bool AgreesWith(const std::optional<DayDetailEntry>& record,
                const std::optional<DayDetailEntry>& authority) {
  if (!authority || authority->state() == yidi::v1::SETTLEMENT_STATE_VOIDED) {
    // Never committed (or voided): a missing record or a tombstone says the same.
    return !record || record->state() == yidi::v1::SETTLEMENT_STATE_VOIDED;
  }
  return record && SameRecord(*record, *authority);
}

std::string CorrectionIdFor(const std::string& day, const std::string& settlement_id,
                            const ReconciliationNode& target, yidi::v1::CorrectionAction action,
                            SettlementState state) {
  return absl::StrCat("R", day, "/", settlement_id, "/", static_cast<int>(target.kind), "-",
                      target.region, "/", static_cast<int>(action), "-",
                      static_cast<int>(state));
}

}  // namespace yidi
