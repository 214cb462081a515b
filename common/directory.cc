#include "common/directory.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace yidi {

using yidi::v1::NodeKind;

std::string ProvinceCodeOf(absl::string_view region_code) {
  YIDI_CHECK(region_code.size() >= 2, "a region code has a province prefix");
  return absl::StrCat(region_code.substr(0, 2), "0000");
}

bool IsRegionCode(absl::string_view text) {
  if (text.size() != 6) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

absl::StatusOr<DirectoryIndex> DirectoryIndex::Build(const yidi::v1::Directory& directory) {
  DirectoryIndex index;
  index.directory_ = directory;
  for (int i = 0; i < directory.regions_size(); ++i) {
    const auto& region = directory.regions(i);
    if (!IsRegionCode(region.code())) {
      return absl::InvalidArgumentError(
          absl::StrCat("directory regions[", i, "].code: \"", region.code(),
                       "\" is not a 6-digit region code"));
    }
    bool inserted = false;
    switch (region.kind()) {
      case NodeKind::NODE_KIND_MUNICIPAL:
        inserted = index.municipal_.emplace(region.code(), i).second;
        break;
      case NodeKind::NODE_KIND_PROVINCIAL:
        if (region.code().substr(2) != "0000") {
          return absl::InvalidArgumentError(absl::StrCat(
              "directory regions[", i, "].code: a province's code ends in 0000"));
        }
        inserted = index.provincial_.emplace(region.code(), i).second;
        break;
      case NodeKind::NODE_KIND_NATIONAL:
        inserted = index.national_ < 0;
        index.national_ = i;
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("directory regions[", i, "].kind: unspecified"));
    }
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat("directory regions[", i, "]: \"",
                                                     region.code(), "\" listed twice"));
    }
  }
  for (const auto& [code, i] : index.municipal_) {
    if (!index.provincial_.contains(ProvinceCodeOf(code))) {
      return absl::InvalidArgumentError(
          absl::StrCat("directory: municipal region ", code, " has no provincial node ",
                       ProvinceCodeOf(code)));
    }
  }
  for (int i = 0; i < directory.institutions_size(); ++i) {
    const auto& institution = directory.institutions(i);
    if (!index.municipal_.contains(institution.region_code())) {
      return absl::InvalidArgumentError(
          absl::StrCat("directory institutions[", i, "].region_code: \"",
                       institution.region_code(), "\" is not a pooling region"));
    }
    if (!index.institutions_.emplace(institution.code(), i).second) {
      return absl::InvalidArgumentError(absl::StrCat("directory institutions[", i, "]: \"",
                                                     institution.code(), "\" listed twice"));
    }
  }
  return index;
}

const yidi::v1::Region* DirectoryIndex::FindNode(NodeKind kind, absl::string_view code) const {
  const absl::flat_hash_map<std::string, int>* map = nullptr;
  switch (kind) {
    case NodeKind::NODE_KIND_MUNICIPAL:
      map = &municipal_;
      break;
    case NodeKind::NODE_KIND_PROVINCIAL:
      map = &provincial_;
      break;
    case NodeKind::NODE_KIND_NATIONAL:
      return national_ < 0 ? nullptr : &directory_.regions(national_);
    default:
      return nullptr;
  }
  auto it = map->find(code);
  return it == map->end() ? nullptr : &directory_.regions(it->second);
}

absl::StatusOr<std::string> DirectoryIndex::PoolingRegionFor(absl::string_view region_code) const {
  if (!IsRegionCode(region_code)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", region_code.substr(0, 12), "\" is not a 6-digit region code"));
  }
  if (municipal_.contains(region_code)) return std::string(region_code);
  const std::string province = ProvinceCodeOf(region_code);
  if (auto it = provincial_.find(province);
      it != provincial_.end() && directory_.regions(it->second).provincial_pooling() &&
      municipal_.contains(province)) {
    return province;
  }
  const std::string prefecture = absl::StrCat(region_code.substr(0, 4), "00");
  if (municipal_.contains(prefecture)) return prefecture;
  return absl::NotFoundError(absl::StrCat("no pooling region covers ", region_code));
}

const yidi::v1::Institution* DirectoryIndex::FindInstitution(absl::string_view code) const {
  auto it = institutions_.find(code);
  return it == institutions_.end() ? nullptr : &directory_.institutions(it->second);
}

}  // namespace yidi
