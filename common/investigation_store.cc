#include "common/investigation_store.h"

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/investigation.h"
#include "common/proto_column.h"
#include "common/status_macros.h"

namespace yidi {
namespace {

using yidi::v1::Investigation;

constexpr char kColumns[] =
    "investigation_id, request_digest, insured_region, treatment_region, period, state, body";

absl::StatusOr<StoredInvestigation> FromRow(const Row& row) {
  StoredInvestigation stored;
  stored.request_digest = row.Text(1);
  RETURN_IF_ERROR(DecodeProtoColumn(row.Text(6), absl::StrCat("investigation ", row.Text(0)),
                                    &stored.investigation));
  const Investigation& i = stored.investigation;
  if (i.investigation_id() != row.Text(0) || i.insured_region() != row.Text(2) ||
      i.treatment_region() != row.Text(3) || i.period() != row.Text(4) ||
      static_cast<int64_t>(i.state()) != row.Int(5)) {
    return absl::InternalError(
        absl::StrCat("investigation ", row.Text(0), ": stored body disagrees with its columns"));
  }
  return stored;
}

}  // namespace

absl::StatusOr<std::optional<StoredInvestigation>> FindInvestigation(Transaction& tx,
                                                                     absl::string_view id) {
  ASSIGN_OR_RETURN(auto rows,
                   tx.Query(absl::StrCat("SELECT ", kColumns,
                                         " FROM investigation WHERE investigation_id = ?"),
                            {std::string(id)}));
  if (rows.empty()) return std::nullopt;
  ASSIGN_OR_RETURN(StoredInvestigation stored, FromRow(rows[0]));
  return stored;
}

absl::Status InsertInvestigation(Transaction& tx, const StoredInvestigation& stored,
                                 absl::Time now) {
  const Investigation& i = stored.investigation;
  YIDI_CHECK(!i.investigation_id().empty() && !i.period().empty(),
             "only validated investigations are stored");
  const std::string at = FormatCstTimestamp(now);
  ASSIGN_OR_RETURN(
      int64_t changed,
      tx.Execute("INSERT INTO investigation (investigation_id, request_digest, insured_region, "
                 "treatment_region, scope, period, state, body, created_at, updated_at) VALUES "
                 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 {i.investigation_id(), stored.request_digest, i.insured_region(),
                  i.treatment_region(), static_cast<int64_t>(i.scope()), i.period(),
                  static_cast<int64_t>(i.state()), EncodeProtoColumn(i), at, at}));
  YIDI_CHECK(changed == 1, "an insert that did not fail wrote one row");
  return absl::OkStatus();
}

absl::Status UpdateInvestigation(Transaction& tx, const Investigation& i, absl::Time now) {
  ASSIGN_OR_RETURN(int64_t changed,
                   tx.Execute("UPDATE investigation SET state = ?, body = ?, updated_at = ? "
                              "WHERE investigation_id = ?",
                              {static_cast<int64_t>(i.state()), EncodeProtoColumn(i),
                               FormatCstTimestamp(now), i.investigation_id()}));
  if (changed == 0) {
    return absl::NotFoundError(absl::StrCat("investigation_id: ", i.investigation_id(),
                                            " is not known here"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Investigation>> ListStoredInvestigations(
    Transaction& tx, absl::string_view period, yidi::v1::InvestigationState state, int limit) {
  YIDI_CHECK(limit > 0 && limit <= kInvestigationSummaryIdsMax, "listings are bounded");
  std::string sql = absl::StrCat("SELECT ", kColumns, " FROM investigation WHERE 1 = 1");
  std::vector<SqlValue> params;
  if (!period.empty()) {
    sql += " AND period = ?";
    params.push_back(std::string(period));
  }
  if (state != yidi::v1::INVESTIGATION_STATE_UNSPECIFIED) {
    sql += " AND state = ?";
    params.push_back(static_cast<int64_t>(state));
  }
  absl::StrAppend(&sql, " ORDER BY created_at, investigation_id LIMIT ", limit);
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<Investigation> result;
  for (const Row& row : rows) {
    ASSIGN_OR_RETURN(StoredInvestigation stored, FromRow(row));
    result.push_back(std::move(stored.investigation));
  }
  return result;
}

}  // namespace yidi
