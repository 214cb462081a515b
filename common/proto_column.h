// A protobuf message kept in one text column as base64 of its binary form (the store holds
// only int64 and text), as settlement_record keeps its result.
#ifndef YIDI_COMMON_PROTO_COLUMN_H_
#define YIDI_COMMON_PROTO_COLUMN_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/message.h"

namespace yidi {

inline std::string EncodeProtoColumn(const google::protobuf::Message& message) {
  return absl::Base64Escape(message.SerializeAsString());
}

// INTERNAL naming `what` when the column does not decode: a stored row never fails to.
inline absl::Status DecodeProtoColumn(const std::string& column, absl::string_view what,
                                      google::protobuf::Message* message) {
  std::string bytes;
  if (!absl::Base64Unescape(column, &bytes) || !message->ParseFromString(bytes)) {
    return absl::InternalError(absl::StrCat(what, ": stored body does not parse"));
  }
  return absl::OkStatus();
}

// The same, returning the message.
template <typename M>
absl::StatusOr<M> DecodeProtoColumn(const std::string& column, absl::string_view what) {
  M message;
  if (absl::Status decoded = DecodeProtoColumn(column, what, &message); !decoded.ok()) {
    return decoded;
  }
  return message;
}

}  // namespace yidi

#endif  // YIDI_COMMON_PROTO_COLUMN_H_
