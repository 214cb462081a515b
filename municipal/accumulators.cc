#include "municipal/accumulators.h"

#include "common/status_macros.h"

namespace yidi::municipal {

absl::StatusOr<AccumulatorValues> LoadAccumulators(Transaction& tx, absl::string_view id_number,
                                                   yidi::v1::InsuranceType type, int year) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT name, amount FROM accumulator WHERE id_number = ? "
                                       "AND insurance_type = ? AND year = ?",
                                       {std::string(id_number), int64_t{type}, int64_t{year}}));
  AccumulatorValues values;
  for (const Row& row : rows) values[row.Text(0)] = row.Int(1);
  return values;
}

absl::Status ApplyAccumulatorChanges(Transaction& tx, absl::string_view change_key,
                                     const std::vector<AccumulatorChange>& changes) {
  for (const AccumulatorChange& change : changes) {
    if (change.delta == 0) continue;
    const std::vector<SqlValue> key = {change.id_number, int64_t{change.insurance_type},
                                       int64_t{change.year}, change.name};
    ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT amount FROM accumulator WHERE id_number = ? AND "
                                         "insurance_type = ? AND year = ? AND name = ?",
                                         key));
    if (rows.empty()) {
      RETURN_IF_ERROR(tx.Execute("INSERT INTO accumulator (id_number, insurance_type, year, name, "
                                 "amount) VALUES (?, ?, ?, ?, ?)",
                                 {change.id_number, int64_t{change.insurance_type},
                                  int64_t{change.year}, change.name, change.delta})
                          .status());
    } else {
      const int64_t updated = rows.front().Int(0) + change.delta;
      YIDI_CHECK(updated >= 0, "an accumulator never goes below zero: a reversal only removes "
                               "what its settlement added");
      RETURN_IF_ERROR(tx.Execute("UPDATE accumulator SET amount = ? WHERE id_number = ? AND "
                                 "insurance_type = ? AND year = ? AND name = ?",
                                 {updated, change.id_number, int64_t{change.insurance_type},
                                  int64_t{change.year}, change.name})
                          .status());
    }
    RETURN_IF_ERROR(tx.Execute("INSERT INTO accumulator_change (settlement_id, id_number, "
                               "insurance_type, year, name, delta) VALUES (?, ?, ?, ?, ?, ?)",
                               {std::string(change_key), change.id_number,
                                int64_t{change.insurance_type}, int64_t{change.year},
                                change.name, change.delta})
                        .status());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AccumulatorChange>> LoadAccumulatorChanges(
    Transaction& tx, absl::string_view change_key) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id_number, insurance_type, year, name, delta FROM "
                                       "accumulator_change WHERE settlement_id = ? "
                                       "ORDER BY year, name",
                                       {std::string(change_key)}));
  std::vector<AccumulatorChange> changes;
  for (const Row& row : rows) {
    changes.push_back({row.Text(0), static_cast<yidi::v1::InsuranceType>(row.Int(1)),
                       static_cast<int>(row.Int(2)), row.Text(3), row.Int(4)});
  }
  return changes;
}

std::vector<AccumulatorChange> Negated(std::vector<AccumulatorChange> changes) {
  for (auto& change : changes) change.delta = -change.delta;
  return changes;
}

}  // namespace yidi::municipal
