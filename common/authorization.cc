#include "common/authorization.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"

namespace yidi {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Shorthands for the table.
constexpr uint32_t kRouted = kParent | kChild;
constexpr uint32_t kReaders = kRoleClearing | kRoleService | kRoleAuditor;

}  // namespace

const std::vector<AuthorizationRule>& AuthorizationTable() {
  // clang-format off
  static const auto* const table = new std::vector<AuthorizationRule>{
      // --- Direct settlement (RULES.md 1, 22号文 §五(三)): a hospital at its own municipal
      // node, only as itself; every other hop is a routed call along one link.
      {"/yidi.v1.SettlementService/PreSettle", kInstitution | kRouted, false,
       {"visit.institution_code"}, {"settlement_id"}},
      {"/yidi.v1.SettlementService/Settle", kInstitution | kRouted, true,
       {"visit.institution_code"}, {"settlement_id"}},
      {"/yidi.v1.SettlementService/Reverse", kInstitution | kRouted, true,
       {"institution_code"}, {"settlement_id", "original_settlement_id"}},
      {"/yidi.v1.SettlementService/Correct", kInstitution | kRouted, true,
       {"institution_code"}, {"settlement_id"}},
      // Any node: national reconciles with the insured city, the owner of the outcome, when no
      // side knows it (docs/RECONCILIATION.md).
      {"/yidi.v1.SettlementService/GetSettlement", kInstitution | kAnyNode | kReaders, false,
       {}, {"settlement_id"}},
      // --- The public directory: regions, institutions, node info.
      {"/yidi.v1.DirectoryService/*", kAnyone, false, {}, {}},
      // --- Persons and filings: the hospital asks its own node, which routes.
      {"/yidi.v1.PersonService/GetInsuredPerson",
       kInstitution | kRouted | kRoleService | kRoleAuditor, false, {}, {}},
      {"/yidi.v1.FilingService/CheckFiling",
       kInstitution | kRouted | kRoleService | kRoleAuditor, false, {}, {}},
      {"/yidi.v1.FilingService/ListFilings",
       kInstitution | kRouted | kRoleService | kRoleAuditor, false, {}, {}},
      {"/yidi.v1.FilingService/CreateFiling", kInstitution | kRouted | kRoleService, true, {}, {}},
      {"/yidi.v1.FilingService/ChangeFiling", kInstitution | kRouted | kRoleService, true, {}, {}},
      {"/yidi.v1.FilingService/CancelFiling", kInstitution | kRouted | kRoleService, true, {}, {}},
      {"/yidi.v1.FilingService/RecordChronicDisease", kRouted | kRoleService, true, {}, {}},
      {"/yidi.v1.FilingService/RevokeChronicDisease", kRouted | kRoleService, true, {}, {}},
      // Replication goes up one link at a time, and national passes filings down to the
      // treatment province (docs/FILING.md).
      {"/yidi.v1.FilingService/UploadFilingChanges", kRouted, true, {}, {}},
      {"/yidi.v1.FilingService/GetFilingReplication", kRouted | kReaders, false, {}, {}},
      // --- Back office: the agency's own operators; the prepayment flows go up one link.
      {"/yidi.v1.LedgerService/GetBalances", kRouted | kRoleClearing | kRoleAuditor, false, {}, {}},
      {"/yidi.v1.LedgerService/ListTransfers", kRouted | kRoleClearing | kRoleAuditor, false, {}, {}},
      {"/yidi.v1.LedgerService/GetTrialBalance", kRouted | kRoleClearing | kRoleAuditor, false,
       {}, {}},
      {"/yidi.v1.LedgerService/RecordTransfer", kRoleClearing, true, {}, {}},
      {"/yidi.v1.PrepaymentService/ComputeQuotas", kRoleClearing, true, {}, {}},
      {"/yidi.v1.PrepaymentService/RecordClearing", kChild | kRoleClearing, true, {}, {}},
      {"/yidi.v1.PrepaymentService/RequestEmergencyIncrease", kChild | kRoleClearing, true, {}, {}},
      {"/yidi.v1.PrepaymentService/RecordPayment", kChild | kRoleClearing, true, {}, {}},
      {"/yidi.v1.PrepaymentService/RecordReceipt", kChild | kRoleClearing, true, {}, {}},
      {"/yidi.v1.PrepaymentService/RecordDelayReason", kChild | kRoleClearing, true, {}, {}},
      {"/yidi.v1.PrepaymentService/*", kRouted | kRoleClearing | kRoleAuditor, false, {}, {}},
      // --- Rows asked for by the reconciliation, clearing and collaboration work (their docs:
      // RECONCILIATION.md, CLEARING.md, API.md "Authorization rows to add"). Daily
      // reconciliation: the parent asks its children; institutions confirm their own totals.
      {"/yidi.v1.ReconciliationService/GetDayTotals", kParent | kRoleClearing | kRoleAuditor,
       false, {}, {}},
      {"/yidi.v1.ReconciliationService/GetDayDetail", kParent | kRoleClearing | kRoleAuditor,
       false, {}, {}},
      {"/yidi.v1.ReconciliationService/ApplyCorrection", kParent | kRoleClearing, true, {}, {}},
      {"/yidi.v1.ReconciliationService/SubmitInstitutionDayTotals", kInstitution | kRoleClearing,
       true, {"institution_code"}, {}},
      {"/yidi.v1.ReconciliationService/RunReconciliation", kRoleClearing, true, {}, {}},
      {"/yidi.v1.ReconciliationService/GetReconciliationReport", kRoleClearing | kRoleAuditor,
       false, {}, {}},
      // Monthly clearing at the clearing node (national; a province for its own regions); the
      // regions below reply, claim and record deductions through their node or operators.
      {"/yidi.v1.ClearingService/RunClearing", kRoleClearing, true, {}, {}},
      {"/yidi.v1.ClearingService/ReplyClearing", kChild | kRoleClearing, true, {}, {},
       {"region"}},
      {"/yidi.v1.ClearingService/SubmitClaim", kChild | kRoleClearing, true, {}, {},
       {"claim.treatment_region"}},
      // Claims up the hierarchy (docs/CLEARING.md "Claims"): a city declares through its
      // operator and submits to its province, a province freezes and submits to national.
      {"/yidi.v1.ClearingService/DeclareClaims", kRoleClearing, true, {}, {}},
      {"/yidi.v1.ClearingService/SubmitClaims", kChild | kRoleClearing, true, {}, {},
       {"batch.from_region"}},
      {"/yidi.v1.ClearingService/ForwardClaims", kRoleClearing, true, {}, {}},
      {"/yidi.v1.ClearingService/ListClaims", kRoleClearing | kRoleAuditor, false, {}, {}},
      {"/yidi.v1.ClearingService/*", kRouted | kRoleClearing | kRoleAuditor, false, {}, {}},
      {"/yidi.v1.AuditService/RecordDeduction", kChild | kRoleClearing, true, {}, {},
       {"deduction.treatment_region"}},
      // The clearing cycle (docs/CLEARING.md): a province forwards national's notices; a
      // clearing node closes a year; cities read their notices, auditors and parents the status.
      {"/yidi.v1.ClearingCycleService/ForwardClearing", kRoleClearing, true, {}, {}},
      {"/yidi.v1.ClearingCycleService/CloseYear", kRoleClearing, true, {}, {}},
      {"/yidi.v1.ClearingCycleService/*", kRouted | kRoleClearing | kRoleAuditor, false, {}, {}},
      // Collaboration: investigations, tickets, announcements, monitoring (docs/API.md).
      {"/yidi.v1.InvestigationService/OpenInvestigation", kRoleService, true, {}, {}},
      {"/yidi.v1.InvestigationService/AmendInvestigation", kRoleService, true, {}, {}},
      {"/yidi.v1.InvestigationService/WithdrawInvestigation", kRoleService, true, {}, {}},
      {"/yidi.v1.InvestigationService/ConfirmInvestigation", kRoleService, true, {}, {}},
      {"/yidi.v1.InvestigationService/AnswerInvestigation", kRoleService, true, {}, {}},
      {"/yidi.v1.InvestigationService/CloseInvestigationPeriod", kRoleService, true, {}, {}},
      {"/yidi.v1.InvestigationService/ReplicateInvestigation", kRouted, true, {}, {}},
      {"/yidi.v1.InvestigationService/PublishInvestigationSummary", kParent, true, {}, {}},
      {"/yidi.v1.InvestigationService/*", kRoleService | kRoleAuditor, false, {}, {}},
      {"/yidi.v1.TicketService/SyncTicket", kAnyNode, true, {}, {}},
      {"/yidi.v1.TicketService/ListTickets", kRoleService | kRoleAuditor, false, {}, {}},
      {"/yidi.v1.TicketService/*", kRoleService, true, {}, {}},
      {"/yidi.v1.AnnouncementService/PublishAnnouncement", kParent | kRoleService, true, {}, {}},
      {"/yidi.v1.AnnouncementService/ListAnnouncements",
       kInstitution | kAnyNode | kRoleService | kRoleAuditor, false, {}, {}},
      {"/yidi.v1.MonitoringService/GetMonitoringReport",
       kRoleService | kRoleClearing | kRoleAuditor, false, {}, {}},
      // --- This node's audit log (read only; there is no method that writes it).
      {"/yidi.v1.AuditLogService/ListAuditRecords", kRoleAuditor, false, {}, {}},
  };
  // clang-format on
  return *table;
}

const AuthorizationRule* FindAuthorizationRule(absl::string_view method) {
  for (const AuthorizationRule& rule : AuthorizationTable()) {
    if (rule.method == method) return &rule;
    if (absl::EndsWith(rule.method, "/*") &&
        absl::StartsWith(method, rule.method.substr(0, rule.method.size() - 1))) {
      return &rule;
    }
  }
  return nullptr;
}

bool IsParentOf(const CallerIdentity& caller, const NodeIdentity& self,
                const DirectoryIndex& directory) {
  if (caller.kind != CallerKind::kNode) return false;
  if (directory.FindNode(caller.node_kind, caller.region_code) == nullptr) return false;
  switch (self.kind) {
    case yidi::v1::NODE_KIND_MUNICIPAL:
      return caller.node_kind == yidi::v1::NODE_KIND_PROVINCIAL &&
             caller.region_code == ProvinceCodeOf(self.region_code);
    case yidi::v1::NODE_KIND_PROVINCIAL:
      return caller.node_kind == yidi::v1::NODE_KIND_NATIONAL;
    default:
      return false;
  }
}

bool IsChildOf(const CallerIdentity& caller, const NodeIdentity& self,
               const DirectoryIndex& directory) {
  if (caller.kind != CallerKind::kNode) return false;
  if (directory.FindNode(caller.node_kind, caller.region_code) == nullptr) return false;
  switch (self.kind) {
    case yidi::v1::NODE_KIND_NATIONAL:
      return caller.node_kind == yidi::v1::NODE_KIND_PROVINCIAL;
    case yidi::v1::NODE_KIND_PROVINCIAL:
      return caller.node_kind == yidi::v1::NODE_KIND_MUNICIPAL &&
             ProvinceCodeOf(caller.region_code) == self.region_code;
    default:
      return false;
  }
}

namespace {

absl::Status Denied(const CallerIdentity& caller, absl::string_view method,
                    absl::string_view why) {
  return absl::PermissionDeniedError(
      absl::StrCat(caller.uri, " may not call ", method, ": ", why));
}

// The string at a dotted path of singular message / string fields; nullopt when a part of the
// path is not such a field (a table error, reported as denied).
std::optional<std::string> StringAt(const Message& message, absl::string_view path) {
  const Message* current = &message;
  std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field =
        current->GetDescriptor()->FindFieldByName(std::string(parts[i]));
    if (field == nullptr || field->is_repeated()) return std::nullopt;
    const auto* reflection = current->GetReflection();
    if (i + 1 == parts.size()) {
      if (field->cpp_type() != FieldDescriptor::CPPTYPE_STRING) return std::nullopt;
      return reflection->GetString(*current, field);
    }
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return std::nullopt;
    current = &reflection->GetMessage(*current, field);
  }
  return std::nullopt;
}

bool Granted(const AuthorizationRule& rule, const CallerIdentity& caller,
             const NodeIdentity& self, const DirectoryIndex& directory) {
  const uint32_t grants = rule.grants | kRoleAdmin;
  if (grants & kAnyone) return true;
  switch (caller.kind) {
    case CallerKind::kPlaintext:
      return false;
    case CallerKind::kInstitution: {
      if (!(grants & kInstitution) || self.kind != yidi::v1::NODE_KIND_MUNICIPAL) return false;
      const auto* institution = directory.FindInstitution(caller.institution_code);
      return institution != nullptr && institution->region_code() == self.region_code;
    }
    case CallerKind::kNode:
      return ((grants & kParent) && IsParentOf(caller, self, directory)) ||
             ((grants & kChild) && IsChildOf(caller, self, directory)) ||
             ((grants & kAnyNode) &&
              directory.FindNode(caller.node_kind, caller.region_code) != nullptr);
    case CallerKind::kOperator: {
      if (!caller.region_code.empty() && caller.region_code != self.region_code) return false;
      if (caller.role == "admin") return true;
      if (caller.role == "clearing") return grants & kRoleClearing;
      if (caller.role == "service") return grants & kRoleService;
      if (caller.role == "auditor") return grants & kRoleAuditor;
      return false;
    }
  }
  return false;
}

std::string WhyNot(const CallerIdentity& caller, const NodeIdentity& self,
                   const DirectoryIndex& directory) {
  const std::string self_name = NodeName(self.kind, self.region_code);
  switch (caller.kind) {
    case CallerKind::kInstitution: {
      const auto* institution = directory.FindInstitution(caller.institution_code);
      if (institution == nullptr) return "the institution is not in the directory";
      if (self.kind != yidi::v1::NODE_KIND_MUNICIPAL ||
          institution->region_code() != self.region_code) {
        return absl::StrCat("an institution of region ", institution->region_code(),
                            " calls its own municipal node, not ", self_name);
      }
      return "institutions may not call this method";
    }
    case CallerKind::kNode:
      return absl::StrCat("not granted to this caller at ", self_name,
                          " (routed calls come only from the parent or a child)");
    case CallerKind::kOperator:
      if (!caller.region_code.empty() && caller.region_code != self.region_code) {
        return absl::StrCat("the operator's certificate is for region ", caller.region_code);
      }
      return absl::StrCat("role ", caller.role, " is not entitled to it");
    case CallerKind::kPlaintext:
      return "the caller is not authenticated";
  }
  return "not granted";
}

}  // namespace

bool RegionWithin(absl::string_view region, absl::string_view caller_region) {
  absl::string_view prefix = caller_region;
  while (prefix.size() > 2 && absl::EndsWith(prefix, "00")) prefix.remove_suffix(2);
  return region.size() == caller_region.size() && absl::StartsWith(region, prefix);
}

absl::Status Authorize(const CallerIdentity& caller, const NodeIdentity& self,
                       const DirectoryIndex& directory, absl::string_view method,
                       const google::protobuf::Message* request) {
  const AuthorizationRule* rule = FindAuthorizationRule(method);
  if (rule == nullptr) return Denied(caller, method, "the method is not in the authorization table");
  if (!Granted(*rule, caller, self, directory)) {
    return Denied(caller, method, WhyNot(caller, self, directory));
  }
  if (request == nullptr) return absl::OkStatus();
  if (caller.kind == CallerKind::kNode) {
    for (absl::string_view path : rule->own_region_fields) {
      std::optional<std::string> value = StringAt(*request, path);
      if (!value.has_value()) return Denied(caller, method, absl::StrCat("no field ", path));
      if (!RegionWithin(*value, caller.region_code)) {
        return Denied(caller, method,
                      absl::StrCat(path, " is \"", *value, "\": a node acts only for its own region"));
      }
    }
    return absl::OkStatus();
  }
  if (caller.kind != CallerKind::kInstitution) return absl::OkStatus();
  for (absl::string_view path : rule->institution_fields) {
    std::optional<std::string> value = StringAt(*request, path);
    if (!value.has_value()) return Denied(caller, method, absl::StrCat("no field ", path));
    if (*value != caller.institution_code) {
      return Denied(caller, method,
                    absl::StrCat(path, " is \"", *value, "\": an institution acts only for itself"));
    }
  }
  const std::string own_prefix = absl::StrCat(caller.institution_code, "-");
  for (absl::string_view path : rule->own_id_fields) {
    std::optional<std::string> value = StringAt(*request, path);
    if (!value.has_value()) return Denied(caller, method, absl::StrCat("no field ", path));
    if (!absl::StartsWith(*value, own_prefix)) {
      return Denied(caller, method,
                    absl::StrCat(path, " \"", *value, "\" is not one of its own settlements (",
                                 own_prefix, "…)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace yidi
