// yidi-clearing-bench: one national monthly clearing (common/clearing.h RunClearing) over a
// SQLite database of settlement_record rows, timed. tools/bench/clearing_bench.sh generates
// the rows and times a plain sqlite3 GROUP BY over the same rows in the same run
// (docs/PERFORMANCE.md, "Monthly clearing").
//
//   yidi-clearing-bench --db=PATH --init            create the schema (all node migrations)
//   yidi-clearing-bench --db=PATH --month=2026-09 --today=2026-10-21
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/calendar.h"
#include "common/clearing.h"
#include "common/clock.h"
#include "common/ledger.h"
#include "common/money.h"
#include "common/prepayment.h"
#include "common/settlement_record.h"
#include "common/store/store.h"
#include "common/transfer_obligations.h"

ABSL_FLAG(std::string, db, "", "SQLite database file");
ABSL_FLAG(bool, init, false, "create the schema and exit");
ABSL_FLAG(std::string, month, "2026-09", "clearing month YYYY-MM");
ABSL_FLAG(std::string, today, "2026-10-21", "the day the clearing runs (the 21st)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string db = absl::GetFlag(FLAGS_db);
  if (db.empty()) {
    std::fprintf(stderr, "--db is required\n");
    return 1;
  }
  auto store = yidi::OpenStore(absl::StrCat("sqlite://", db));
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  std::vector<yidi::Migration> all = yidi::CommonMigrations();
  for (auto* more : {&yidi::LedgerMigrations, &yidi::TransferObligationMigrations,
                     &yidi::PrepaymentMigrations, &yidi::ClearingMigrations}) {
    for (auto& migration : (*more)()) all.push_back(migration);
  }
  if (auto migrated = (*store)->Migrate(all); !migrated.ok()) {
    std::fprintf(stderr, "%s\n", migrated.ToString().c_str());
    return 1;
  }
  if (absl::GetFlag(FLAGS_init)) return 0;

  auto today = yidi::ParseDate(absl::GetFlag(FLAGS_today));
  if (!today.ok()) return 1;
  yidi::FakeClock clock(
      absl::FromCivil(absl::CivilSecond(*today) + 10 * 3600, yidi::ChinaStandardTime()));
  auto calendar = yidi::WorkingDayCalendar::LoadFiles(
      {absl::StrCat(YIDI_SOURCE_DIR, "/deploy/calendar/2025.textproto"),
       absl::StrCat(YIDI_SOURCE_DIR, "/deploy/calendar/2026.textproto")},
      &clock);
  if (!calendar.ok()) {
    std::fprintf(stderr, "%s\n", calendar.status().ToString().c_str());
    return 1;
  }
  const yidi::v1::PrepaymentPolicy policy = yidi::NationalPrepaymentPolicy();
  yidi::ClearingNode node;
  node.region = "000000";
  node.calendar = &*calendar;
  node.pooling_region_of = [](const std::string& code) { return code; };
  node.issuer.kind = yidi::v1::NODE_KIND_NATIONAL;
  node.issuer.region = "000000";
  node.issuer.policy = &policy;
  node.issuer.calendar = &*calendar;
  node.issuer.pooling_region_of = node.pooling_region_of;
  node.now = clock.Now();
  node.issuer.now = node.now;

  const absl::Time start = absl::Now();
  auto tx = (*store)->Begin(yidi::TransactionMode::kWrite);
  if (!tx.ok()) return 1;
  auto clearing = yidi::RunClearing(**tx, node, absl::GetFlag(FLAGS_month));
  if (!clearing.ok()) {
    std::fprintf(stderr, "%s\n", clearing.status().ToString().c_str());
    return 2;
  }
  if (auto committed = (*tx)->Commit(); !committed.ok()) return 2;
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  int64_t count = 0;
  int64_t net = 0;
  for (const auto& cell : clearing->cells()) {
    count += cell.settlement_count();
    net += cell.net_fen();
  }
  auto conserved = yidi::CheckConservation(*clearing, node);
  std::printf("RESULT clearing month=%s settlements=%lld cells=%d net_yuan=%s conserved=%s "
              "seconds=%.2f\n",
              clearing->clearing_month().c_str(), static_cast<long long>(count),
              clearing->cells_size(), yidi::FormatYuan(net).c_str(),
              conserved.ok() ? "yes" : "NO", seconds);
  return conserved.ok() ? 0 : 2;
}
