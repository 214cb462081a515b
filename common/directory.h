// DirectoryIndex: the regions, nodes and institutions a node knows, indexed for routing and
// validation. Built once from the Directory config; immutable afterwards, so any thread may
// read it without locking.
#ifndef YIDI_COMMON_DIRECTORY_H_
#define YIDI_COMMON_DIRECTORY_H_

#include <string>

#include "absl/strings/string_view.h"
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "yidi/v1/directory.pb.h"

namespace yidi {

// The region code of the national node.
inline constexpr absl::string_view kNationalRegionCode = "000000";

// "36" → "360000": the province code of any region code. REQUIRES: at least 2 characters.
std::string ProvinceCodeOf(absl::string_view region_code);

// True for a 6-digit string.
bool IsRegionCode(absl::string_view text);

class DirectoryIndex {
 public:
  // INVALID_ARGUMENT when a region code is malformed or duplicated for one kind, an
  // institution names an unknown pooling region, or a municipal region has no province node.
  static absl::StatusOr<DirectoryIndex> Build(const yidi::v1::Directory& directory);

  // The node of a kind and region code, or nullptr.
  const yidi::v1::Region* FindNode(yidi::v1::NodeKind kind, absl::string_view code) const;

  // The pooling region (municipal node) responsible for `region_code`:
  //  - the code itself when a municipal node has it;
  //  - for a provincial-level pooling province (Chongqing, Beijing, ...), its xx0000 pool;
  //  - otherwise the prefecture xxxx00 containing a county code.
  // NOT_FOUND when no pooling region covers it.
  absl::StatusOr<std::string> PoolingRegionFor(absl::string_view region_code) const;

  const yidi::v1::Institution* FindInstitution(absl::string_view code) const;

  const yidi::v1::Directory& directory() const { return directory_; }

 private:
  yidi::v1::Directory directory_;
  absl::flat_hash_map<std::string, int> municipal_;   // code → index in directory_.regions
  absl::flat_hash_map<std::string, int> provincial_;  // code → index
  int national_ = -1;
  absl::flat_hash_map<std::string, int> institutions_;  // code → index
};

}  // namespace yidi

#endif  // YIDI_COMMON_DIRECTORY_H_
