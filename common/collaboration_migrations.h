// Schema of fee investigations, collaboration tickets and announcements (migrations 500–549,
// every node kind). Each table keeps the queried columns plus the whole message as base64
// protobuf (`body`), read back and checked by its module (investigation_store.h, ticket_store.h,
// announcement_store.h).
#ifndef YIDI_COMMON_COLLABORATION_MIGRATIONS_H_
#define YIDI_COMMON_COLLABORATION_MIGRATIONS_H_

#include <vector>

#include "common/store/store.h"

namespace yidi {

std::vector<Migration> CollaborationMigrations();

}  // namespace yidi

#endif  // YIDI_COMMON_COLLABORATION_MIGRATIONS_H_
