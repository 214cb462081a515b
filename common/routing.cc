#include "common/routing.h"

#include "absl/strings/str_cat.h"

namespace yidi {

using yidi::v1::NodeKind;

std::string NodeName(NodeKind kind, absl::string_view region_code) {
  switch (kind) {
    case NodeKind::NODE_KIND_MUNICIPAL:
      return absl::StrCat("municipal ", region_code);
    case NodeKind::NODE_KIND_PROVINCIAL:
      return absl::StrCat("provincial ", region_code);
    case NodeKind::NODE_KIND_NATIONAL:
      return "national";
    default:
      return absl::StrCat("node ", region_code);
  }
}

std::string Route::NextHopName() const {
  return absl::StrCat(NodeName(next_kind, next_region_code), " (", next_address, ")");
}

absl::StatusOr<Route> RouteToward(const NodeIdentity& self, const DirectoryIndex& directory,
                                  absl::string_view target_region) {
  auto pooling = directory.PoolingRegionFor(target_region);
  if (!pooling.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown region ", target_region.substr(0, 12), ": ",
                     pooling.status().message()));
  }
  const std::string& target = *pooling;
  Route route;
  switch (self.kind) {
    case NodeKind::NODE_KIND_MUNICIPAL:
      if (target == self.region_code) {
        route.handle_locally = true;
        return route;
      }
      route.next_kind = NodeKind::NODE_KIND_PROVINCIAL;
      route.next_region_code = ProvinceCodeOf(self.region_code);
      break;
    case NodeKind::NODE_KIND_PROVINCIAL:
      if (ProvinceCodeOf(target) == self.region_code) {
        route.next_kind = NodeKind::NODE_KIND_MUNICIPAL;
        route.next_region_code = target;
      } else {
        route.next_kind = NodeKind::NODE_KIND_NATIONAL;
        route.next_region_code = std::string(kNationalRegionCode);
      }
      break;
    case NodeKind::NODE_KIND_NATIONAL:
      route.next_kind = NodeKind::NODE_KIND_PROVINCIAL;
      route.next_region_code = ProvinceCodeOf(target);
      break;
    default:
      return absl::FailedPreconditionError("this node's kind is unspecified");
  }
  const auto* next = directory.FindNode(route.next_kind, route.next_region_code);
  if (next == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("the directory has no ", NodeName(route.next_kind, route.next_region_code),
                     " node on the way to ", target));
  }
  route.next_address = next->address();
  return route;
}

}  // namespace yidi
