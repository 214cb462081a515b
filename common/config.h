// Configuration files are protobuf text format read through the contract's own generated
// classes (api/yidi/v1/config.proto), so a mistake is a parse error with a line and column,
// never a silent default.
#ifndef YIDI_COMMON_CONFIG_H_
#define YIDI_COMMON_CONFIG_H_

#include <string>

#include "absl/strings/string_view.h"
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace yidi {

// Parses the text-format file at `path` into `message`. Errors: NOT_FOUND when the file
// cannot be read, INVALID_ARGUMENT "path:line:column: reason" when it does not parse.
absl::Status LoadTextProtoFile(const std::string& path, google::protobuf::Message* message);

// Same, from a string; `source_name` names it in errors.
absl::Status ParseTextProto(absl::string_view text, absl::string_view source_name,
                            google::protobuf::Message* message);

// `path` resolved against `base_dir` when relative.
std::string ResolvePath(absl::string_view base_dir, absl::string_view path);

// The folder of a file path ("." for a bare name).
std::string DirectoryOf(absl::string_view path);

}  // namespace yidi

#endif  // YIDI_COMMON_CONFIG_H_
