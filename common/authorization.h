// Who may call what: ONE table (kAuthorizationTable in authorization.cc), consulted by the call
// front (common/call_front.h) for every call a node receives, before any handler runs.
// docs/SECURITY.md explains each row; authorization_test.cc tests them one by one.
//
// A row grants a method to classes of callers, relative to the node that receives the call:
//  - kInstitution: an institution of this municipal node's pooling region (directory), and,
//    for the fields the row names, only for itself (visit.institution_code = its code, ids
//    that start "<its code>-");
//  - kParent / kChild: the node one level up / down in the hierarchy (routed calls);
//  - kRoleAdmin/Clearing/Service/Auditor: an operator with that role whose certificate names
//    this node's region or none. An admin may call every method of the table;
//  - kAnyNode: any node of the directory (calls between nodes that are not one link apart);
//  - kAnyone: every authenticated caller (the public directory).
// A method the table does not name is denied. A plaintext node (security.allow_plaintext)
// skips the table: it trusts every caller, as its start-up warning says.
#ifndef YIDI_COMMON_AUTHORIZATION_H_
#define YIDI_COMMON_AUTHORIZATION_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/directory.h"
#include "common/routing.h"
#include "common/security.h"
#include "google/protobuf/message.h"

namespace yidi {

enum Grant : uint32_t {
  kInstitution = 1u << 0,
  kParent = 1u << 1,
  kChild = 1u << 2,
  kRoleAdmin = 1u << 3,  // implied by every row
  kRoleClearing = 1u << 4,
  kRoleService = 1u << 5,
  kRoleAuditor = 1u << 6,
  kAnyone = 1u << 7,
  kAnyNode = 1u << 8,  // any node of the directory (node-to-node calls not along one link)
};

struct AuthorizationRule {
  // "/yidi.v1.SettlementService/Settle", or "/yidi.v1.DirectoryService/*" for every method.
  absl::string_view method;
  uint32_t grants = 0;
  // Recorded in the audit log (one row per call, refused ones included).
  bool state_changing = false;
  // For an institution caller: request fields (dotted paths) that must equal its code …
  std::vector<absl::string_view> institution_fields;
  // … and id fields that must start with "<its code>-" (its own settlements).
  std::vector<absl::string_view> own_id_fields;
  // For a node caller: request fields (dotted paths) naming a region that must lie within the
  // caller's own region (a province answers only for itself and its cities, a city only for
  // itself): a province may not confirm another province's clearing table.
  std::vector<absl::string_view> own_region_fields;
};

// Whether `region` lies within `caller_region` ("360100" within "360000" and within "360100";
// "500000" within "500000"): the caller's code with its trailing "00" pairs removed is a prefix.
bool RegionWithin(absl::string_view region, absl::string_view caller_region);

// The table, in order; the first row whose method matches applies.
const std::vector<AuthorizationRule>& AuthorizationTable();

// The row for `method`, or nullptr (denied).
const AuthorizationRule* FindAuthorizationRule(absl::string_view method);

// Whether `caller` may call `method` at the node `self` with `request` (nullptr when the
// request is not parsed yet: the request checks are then skipped; the front calls again with
// it). PERMISSION_DENIED naming the caller, the method and the reason.
absl::Status Authorize(const CallerIdentity& caller, const NodeIdentity& self,
                       const DirectoryIndex& directory, absl::string_view method,
                       const google::protobuf::Message* request);

// Whether `caller` is the parent / a child of `self` in the hierarchy (and in the directory).
bool IsParentOf(const CallerIdentity& caller, const NodeIdentity& self,
                const DirectoryIndex& directory);
bool IsChildOf(const CallerIdentity& caller, const NodeIdentity& self,
               const DirectoryIndex& directory);

}  // namespace yidi

#endif  // YIDI_COMMON_AUTHORIZATION_H_
