#include "common/collaboration_migrations.h"

namespace yidi {

std::vector<Migration> CollaborationMigrations() {
  return {
      {500,
       "investigation: fee investigations seen by this node (费用协查)",
       {"CREATE TABLE investigation ("
        " investigation_id VARCHAR(64) NOT NULL PRIMARY KEY,"
        " request_digest VARCHAR(64) NOT NULL,"
        " insured_region VARCHAR(6) NOT NULL,"
        " treatment_region VARCHAR(6) NOT NULL,"
        " scope INTEGER NOT NULL,"
        " period VARCHAR(7) NOT NULL,"
        " state INTEGER NOT NULL,"
        " body MEDIUMTEXT NOT NULL,"
        " created_at VARCHAR(32) NOT NULL,"
        " updated_at VARCHAR(32) NOT NULL)",
        "CREATE INDEX investigation_by_period ON investigation (period, state)"}},
      {501,
       "investigation_summary: periods this node closed, per treatment region",
       {"CREATE TABLE investigation_summary ("
        " period VARCHAR(7) NOT NULL,"
        " treatment_region VARCHAR(6) NOT NULL,"
        " request_count INTEGER NOT NULL,"
        " delivered INTEGER NOT NULL,"
        " summarised_at VARCHAR(32) NOT NULL,"
        " PRIMARY KEY (period, treatment_region))"}},
      {502,
       "investigation_close: periods the automatic close has handled here (D564)",
       {"CREATE TABLE investigation_close ("
        " period VARCHAR(7) NOT NULL PRIMARY KEY,"
        " complete INTEGER NOT NULL,"
        " attempts INTEGER NOT NULL,"
        " closed_at VARCHAR(32) NOT NULL,"
        " last_attempt_at VARCHAR(32) NOT NULL)"}},
      {510,
       "ticket: collaboration tickets this node opened or received (问题协同)",
       {"CREATE TABLE ticket ("
        " ticket_id VARCHAR(64) NOT NULL PRIMARY KEY,"
        " request_digest VARCHAR(64) NOT NULL,"
        " state INTEGER NOT NULL,"
        " version BIGINT NOT NULL,"
        " body MEDIUMTEXT NOT NULL,"
        " updated_at VARCHAR(32) NOT NULL)"}},
      {520,
       "announcement: announcements published here or received from above (公告)",
       {"CREATE TABLE announcement ("
        " announcement_id VARCHAR(64) NOT NULL PRIMARY KEY,"
        " request_digest VARCHAR(64) NOT NULL,"
        " kind INTEGER NOT NULL,"
        " published_at VARCHAR(32) NOT NULL,"
        " body MEDIUMTEXT NOT NULL)"}},
  };
}

}  // namespace yidi
