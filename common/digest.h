// Request digests: the idempotency key's companion. Two requests under one settlement_id are
// "the same" when their canonical digests match (docs/API.md).
#ifndef YIDI_COMMON_DIGEST_H_
#define YIDI_COMMON_DIGEST_H_

#include <string>

#include "google/protobuf/message.h"

namespace yidi {

// Hex SHA-256 of the deterministic serialisation of `message`.
std::string DigestMessage(const google::protobuf::Message& message);

}  // namespace yidi

#endif  // YIDI_COMMON_DIGEST_H_
