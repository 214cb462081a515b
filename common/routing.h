// Routing: which node handles a request that concerns an insured region, as a pure function
// of (this node, the directory, the target region). docs/ARCHITECTURE.md section 2:
//  - municipal: handle when the target is its own pooling region, else forward to its province;
//  - provincial: a target inside the province goes to that city's node, anything else to
//    national; intra-province traffic therefore never reaches national;
//  - national: forward to the target's province.
#ifndef YIDI_COMMON_ROUTING_H_
#define YIDI_COMMON_ROUTING_H_

#include <string>

#include "absl/strings/string_view.h"
#include <string_view>

#include "absl/status/statusor.h"
#include "common/directory.h"
#include "yidi/v1/common.pb.h"

namespace yidi {

struct NodeIdentity {
  yidi::v1::NodeKind kind = yidi::v1::NODE_KIND_UNSPECIFIED;
  std::string region_code;
};

struct Route {
  bool handle_locally = false;
  // When forwarding: the next hop.
  yidi::v1::NodeKind next_kind = yidi::v1::NODE_KIND_UNSPECIFIED;
  std::string next_region_code;
  std::string next_address;

  // "provincial 360000 (127.0.0.1:17036)": how errors name the hop.
  std::string NextHopName() const;
};

// Errors: INVALID_ARGUMENT when `target_region` is not a region code or no pooling region
// covers it (the message names the code); FAILED_PRECONDITION when the directory lacks the
// next hop's node (a configuration error).
absl::StatusOr<Route> RouteToward(const NodeIdentity& self, const DirectoryIndex& directory,
                                  absl::string_view target_region);

// "municipal 360100": a node's name in messages.
std::string NodeName(yidi::v1::NodeKind kind, absl::string_view region_code);

}  // namespace yidi

#endif  // YIDI_COMMON_ROUTING_H_
