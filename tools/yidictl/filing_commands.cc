// yidictl commands of filings (备案) and chronic-disease eligibility (门诊慢特病资格), over
// FilingService (api/yidi/v1/filing.proto, docs/FILING.md):
//   filing create | change | cancel | list | check | chronic-record | chronic-revoke | status
// plus the older names filing-check and filing-list. Any node routes a filing call to the
// insured region; `--from_index` asks the first node on the way that keeps an index instead.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/grpcpp.h"
#include "tools/yidictl/command.h"
#include "yidi/v1/filing.grpc.pb.h"

// Defined with the settlement commands (settlement_commands.cc); shared here.
ABSL_DECLARE_FLAG(std::string, id_number);
ABSL_DECLARE_FLAG(std::string, insured_region);
ABSL_DECLARE_FLAG(std::string, treatment_region);
ABSL_DECLARE_FLAG(std::string, date);
ABSL_DECLARE_FLAG(std::string, reason);

ABSL_FLAG(std::string, request_id, "",
          "filing writes: the idempotency key (the same id and request return the stored answer)");
ABSL_FLAG(std::string, filing_id, "", "filing change / cancel: the filing");
ABSL_FLAG(std::string, category, "",
          "filing create: relocated_retiree | long_term_resident | posted_worker | "
          "referred_patient | emergency_patient | other_temporary_traveller");
ABSL_FLAG(std::string, start_date, "", "filing create / chronic-record: first day (default today)");
ABSL_FLAG(std::string, end_date, "", "filing create / change / chronic-record: last day");
ABSL_FLAG(std::string, materials, "",
          "filing create / change: comma-separated materials, e.g. identity,filing_form,"
          "household_register,residence_proof,property_proof,employment_proof,"
          "referral_certificate,guardianship");
ABSL_FLAG(bool, undertaking, false, "filing create: on a personal undertaking (承诺制)");
ABSL_FLAG(std::string, objective_reason, "",
          "filing change / cancel: job_transfer | moving_to_another_child (lifts a lock)");
ABSL_FLAG(bool, from_index, false,
          "filing list / check: answer from the provincial or national index, not the insured "
          "region");
ABSL_FLAG(std::string, medical_type, "",
          "filing check: inpatient | outpatient | chronic_outpatient | pharmacy | ...");
ABSL_FLAG(std::string, disease_code, "", "filing chronic-record: e.g. I10, E11.9");
ABSL_FLAG(std::string, disease_name, "", "filing chronic-record: the disease's name");
ABSL_FLAG(std::string, eligibility_id, "", "filing chronic-revoke: the eligibility");

namespace {

using Channel = std::shared_ptr<grpc::Channel>;
using Args = std::vector<std::string>;
using yidictl::Fail;
using yidictl::MakeContext;

// An enum value by its short name ("other_temporary_traveller") or full name, any case.
// False when it names none.
template <typename Enum>
bool ParseEnum(const google::protobuf::EnumDescriptor* descriptor, absl::string_view prefix,
               absl::string_view text, Enum* out) {
  const std::string upper = absl::AsciiStrToUpper(text);
  for (const std::string& name : {upper, absl::StrCat(prefix, upper)}) {
    if (const auto* value = descriptor->FindValueByName(name); value != nullptr) {
      *out = static_cast<Enum>(value->number());
      return true;
    }
  }
  return false;
}

int Usage(const std::string& message) {
  std::cerr << message << "\n";
  return yidictl::kExitUsage;
}

// Fills `materials` from --materials; false (after printing why) on an unknown one.
template <typename Repeated>
bool ParseMaterials(Repeated* materials) {
  for (absl::string_view part :
       absl::StrSplit(absl::GetFlag(FLAGS_materials), ',', absl::SkipWhitespace())) {
    yidi::v1::FilingMaterial material = yidi::v1::FILING_MATERIAL_UNSPECIFIED;
    if (!ParseEnum(yidi::v1::FilingMaterial_descriptor(), "FILING_MATERIAL_",
                   absl::StripAsciiWhitespace(part), &material)) {
      std::cerr << "--materials: unknown material " << part << "\n";
      return false;
    }
    materials->Add(material);
  }
  return true;
}

bool ParseObjectiveReason(yidi::v1::ObjectiveReason* reason) {
  const std::string text = absl::GetFlag(FLAGS_objective_reason);
  *reason = yidi::v1::OBJECTIVE_REASON_NONE;
  if (text.empty()) return true;
  if (ParseEnum(yidi::v1::ObjectiveReason_descriptor(), "OBJECTIVE_REASON_", text, reason)) {
    return true;
  }
  std::cerr << "--objective_reason: job_transfer or moving_to_another_child\n";
  return false;
}

std::string Short(const std::string& name, absl::string_view prefix) {
  return name.substr(std::min(name.size(), prefix.size()));
}

void PrintFiling(const yidi::v1::Filing& f) {
  std::vector<std::string> materials;
  for (int m : f.materials()) {
    materials.push_back(Short(yidi::v1::FilingMaterial_Name(m), "FILING_MATERIAL_"));
  }
  std::vector<std::string> care;
  for (int c : f.covered_care()) care.push_back(Short(yidi::v1::CareKind_Name(c), "CARE_KIND_"));
  std::cout << f.filing_id() << "  v" << f.version() << "  "
            << Short(yidi::v1::FilingCategory_Name(f.category()), "FILING_CATEGORY_") << " → "
            << f.treatment_region() << "  " << f.start_date() << " … "
            << (f.end_date().empty() ? "no end" : f.end_date());
  if (f.cancelled()) {
    std::cout << "  CANCELLED " << f.cancelled_on() << " "
              << Short(yidi::v1::FilingCancelReason_Name(f.cancel_reason()),
                       "FILING_CANCEL_REASON_");
  }
  if (f.undertaking()) {
    std::cout << "  undertaking"
              << (f.materials_complete() ? " (materials supplied)"
                                         : f.materials_due_date().empty()
                                               ? " (materials missing)"
                                               : absl::StrCat(" (materials due ",
                                                              f.materials_due_date(), ")"));
  }
  if (!materials.empty()) std::cout << "  materials " << absl::StrJoin(materials, ",");
  if (!care.empty()) std::cout << "  covers " << absl::StrJoin(care, ",");
  if (!f.replaces_filing_id().empty()) std::cout << "  replaces " << f.replaces_filing_id();
  std::cout << "  updated " << f.updated_at() << "\n";
}

void PrintChronic(const yidi::v1::ChronicDiseaseEligibility& e) {
  std::cout << e.eligibility_id() << "  v" << e.version() << "  chronic disease "
            << e.disease_code() << " " << e.disease_name() << "  " << e.start_date() << " … "
            << (e.end_date().empty() ? "until revoked" : e.end_date())
            << (e.revoked() ? absl::StrCat("  REVOKED ", e.revoked_on()) : "") << "\n";
}

int PrintFilingResponse(const yidi::v1::FilingResponse& response) {
  if (absl::GetFlag(FLAGS_text)) {
    std::cout << response.DebugString();
    return 0;
  }
  if (response.replayed()) std::cout << "[stored answer, replayed]\n";
  if (response.has_previous()) {
    std::cout << "closed: ";
    PrintFiling(response.previous());
    std::cout << "opened: ";
  }
  PrintFiling(response.filing());
  return 0;
}

int Create(const Channel& channel, const Args&) {
  yidi::v1::CreateFilingRequest request;
  request.set_request_id(absl::GetFlag(FLAGS_request_id));
  request.set_id_number(absl::GetFlag(FLAGS_id_number));
  request.set_insured_region(absl::GetFlag(FLAGS_insured_region));
  yidi::v1::FilingCategory category = yidi::v1::FILING_CATEGORY_UNSPECIFIED;
  if (!ParseEnum(yidi::v1::FilingCategory_descriptor(), "FILING_CATEGORY_",
                 absl::GetFlag(FLAGS_category), &category)) {
    return Usage("--category: one of relocated_retiree, long_term_resident, posted_worker, "
                 "referred_patient, emergency_patient, other_temporary_traveller");
  }
  request.set_category(category);
  request.set_treatment_region(absl::GetFlag(FLAGS_treatment_region));
  request.set_start_date(absl::GetFlag(FLAGS_start_date));
  request.set_end_date(absl::GetFlag(FLAGS_end_date));
  if (!ParseMaterials(request.mutable_materials())) return yidictl::kExitUsage;
  request.set_undertaking(absl::GetFlag(FLAGS_undertaking));
  auto stub = yidi::v1::FilingService::NewStub(channel);
  yidi::v1::FilingResponse response;
  auto context = MakeContext();
  const grpc::Status status = stub->CreateFiling(context.get(), request, &response);
  if (!status.ok()) return Fail(status);
  return PrintFilingResponse(response);
}

int Change(const Channel& channel, const Args&) {
  yidi::v1::ChangeFilingRequest request;
  request.set_request_id(absl::GetFlag(FLAGS_request_id));
  request.set_filing_id(absl::GetFlag(FLAGS_filing_id));
  request.set_id_number(absl::GetFlag(FLAGS_id_number));
  request.set_insured_region(absl::GetFlag(FLAGS_insured_region));
  request.set_treatment_region(absl::GetFlag(FLAGS_treatment_region));
  request.set_end_date(absl::GetFlag(FLAGS_end_date));
  if (!ParseMaterials(request.mutable_materials_supplied())) return yidictl::kExitUsage;
  yidi::v1::ObjectiveReason reason;
  if (!ParseObjectiveReason(&reason)) return yidictl::kExitUsage;
  request.set_objective_reason(reason);
  auto stub = yidi::v1::FilingService::NewStub(channel);
  yidi::v1::FilingResponse response;
  auto context = MakeContext();
  const grpc::Status status = stub->ChangeFiling(context.get(), request, &response);
  if (!status.ok()) return Fail(status);
  return PrintFilingResponse(response);
}

int Cancel(const Channel& channel, const Args&) {
  yidi::v1::CancelFilingRequest request;
  request.set_request_id(absl::GetFlag(FLAGS_request_id));
  request.set_filing_id(absl::GetFlag(FLAGS_filing_id));
  request.set_id_number(absl::GetFlag(FLAGS_id_number));
  request.set_insured_region(absl::GetFlag(FLAGS_insured_region));
  const std::string reason_text =
      absl::GetFlag(FLAGS_reason).empty() ? "requested" : absl::GetFlag(FLAGS_reason);
  yidi::v1::FilingCancelReason reason = yidi::v1::FILING_CANCEL_REASON_UNSPECIFIED;
  if (!ParseEnum(yidi::v1::FilingCancelReason_descriptor(), "FILING_CANCEL_REASON_", reason_text,
                 &reason)) {
    return Usage("--reason: requested, insurance_ended or undertaking_unmet");
  }
  request.set_reason(reason);
  yidi::v1::ObjectiveReason objective;
  if (!ParseObjectiveReason(&objective)) return yidictl::kExitUsage;
  request.set_objective_reason(objective);
  auto stub = yidi::v1::FilingService::NewStub(channel);
  yidi::v1::FilingResponse response;
  auto context = MakeContext();
  const grpc::Status status = stub->CancelFiling(context.get(), request, &response);
  if (!status.ok()) return Fail(status);
  return PrintFilingResponse(response);
}

int List(const Channel& channel, const Args&) {
  yidi::v1::ListFilingsRequest request;
  request.set_id_number(absl::GetFlag(FLAGS_id_number));
  request.set_insured_region(absl::GetFlag(FLAGS_insured_region));
  request.set_from_index(absl::GetFlag(FLAGS_from_index));
  auto stub = yidi::v1::FilingService::NewStub(channel);
  yidi::v1::ListFilingsResponse response;
  auto context = MakeContext();
  const grpc::Status status = stub->ListFilings(context.get(), request, &response);
  if (!status.ok()) return Fail(status);
  if (absl::GetFlag(FLAGS_text)) {
    std::cout << response.DebugString();
    return 0;
  }
  std::cout << "answered by " << response.answered_by() << " as of "
            << (response.as_of().empty() ? "(never heard of this person)" : response.as_of())
            << "\n";
  for (const auto& filing : response.filings()) PrintFiling(filing);
  for (const auto& chronic : response.chronic_diseases()) PrintChronic(chronic);
  if (response.filings().empty() && response.chronic_diseases().empty()) std::cout << "none\n";
  return 0;
}

int Check(const Channel& channel, const Args&) {
  yidi::v1::CheckFilingRequest request;
  request.set_id_number(absl::GetFlag(FLAGS_id_number));
  request.set_insured_region(absl::GetFlag(FLAGS_insured_region));
  request.set_treatment_region(absl::GetFlag(FLAGS_treatment_region));
  request.set_date(absl::GetFlag(FLAGS_date));
  request.set_from_index(absl::GetFlag(FLAGS_from_index));
  if (!absl::GetFlag(FLAGS_medical_type).empty()) {
    yidi::v1::MedicalType medical_type = yidi::v1::MEDICAL_TYPE_UNSPECIFIED;
    if (!ParseEnum(yidi::v1::MedicalType_descriptor(), "MEDICAL_TYPE_",
                   absl::GetFlag(FLAGS_medical_type), &medical_type)) {
      return Usage("--medical_type: inpatient, outpatient, chronic_outpatient, pharmacy, ...");
    }
    request.set_medical_type(medical_type);
  }
  auto stub = yidi::v1::FilingService::NewStub(channel);
  yidi::v1::CheckFilingResponse response;
  auto context = MakeContext();
  const grpc::Status status = stub->CheckFiling(context.get(), request, &response);
  if (!status.ok()) return Fail(status);
  if (absl::GetFlag(FLAGS_text)) {
    std::cout << response.DebugString();
    return 0;
  }
  std::cout << (response.filed() ? "FILED" : "NOT FILED") << "  answered by "
            << response.answered_by() << (response.from_index() ? " (index)" : " (live)")
            << " as of " << (response.as_of().empty() ? "(never)" : response.as_of()) << "\n";
  if (response.filed()) PrintFiling(response.filing());
  for (const auto& chronic : response.chronic_diseases()) PrintChronic(chronic);
  return 0;
}

int ChronicRecord(const Channel& channel, const Args&) {
  yidi::v1::RecordChronicDiseaseRequest request;
  request.set_request_id(absl::GetFlag(FLAGS_request_id));
  request.set_id_number(absl::GetFlag(FLAGS_id_number));
  request.set_insured_region(absl::GetFlag(FLAGS_insured_region));
  request.set_disease_code(absl::GetFlag(FLAGS_disease_code));
  request.set_disease_name(absl::GetFlag(FLAGS_disease_name));
  request.set_start_date(absl::GetFlag(FLAGS_start_date));
  request.set_end_date(absl::GetFlag(FLAGS_end_date));
  auto stub = yidi::v1::FilingService::NewStub(channel);
  yidi::v1::ChronicDiseaseResponse response;
  auto context = MakeContext();
  const grpc::Status status = stub->RecordChronicDisease(context.get(), request, &response);
  if (!status.ok()) return Fail(status);
  if (response.replayed()) std::cout << "[stored answer, replayed]\n";
  PrintChronic(response.eligibility());
  return 0;
}

int ChronicRevoke(const Channel& channel, const Args&) {
  yidi::v1::RevokeChronicDiseaseRequest request;
  request.set_request_id(absl::GetFlag(FLAGS_request_id));
  request.set_eligibility_id(absl::GetFlag(FLAGS_eligibility_id));
  request.set_id_number(absl::GetFlag(FLAGS_id_number));
  request.set_insured_region(absl::GetFlag(FLAGS_insured_region));
  auto stub = yidi::v1::FilingService::NewStub(channel);
  yidi::v1::ChronicDiseaseResponse response;
  auto context = MakeContext();
  const grpc::Status status = stub->RevokeChronicDisease(context.get(), request, &response);
  if (!status.ok()) return Fail(status);
  if (response.replayed()) std::cout << "[stored answer, replayed]\n";
  PrintChronic(response.eligibility());
  return 0;
}

int Status(const Channel& channel, const Args&) {
  auto stub = yidi::v1::FilingService::NewStub(channel);
  yidi::v1::GetFilingReplicationResponse response;
  auto context = MakeContext();
  const grpc::Status status = stub->GetFilingReplication(context.get(), {}, &response);
  if (!status.ok()) return Fail(status);
  if (absl::GetFlag(FLAGS_text)) {
    std::cout << response.DebugString();
    return 0;
  }
  std::cout << response.node() << "\n";
  if (!response.upstream().empty()) {
    std::cout << "  outbox to " << response.upstream() << ": pending=" << response.outbox_pending()
              << " parked=" << response.outbox_parked()
              << (response.outbox_oldest_pending_at().empty()
                      ? ""
                      : absl::StrCat(" oldest=", response.outbox_oldest_pending_at()))
              << (response.outbox_last_error().empty()
                      ? ""
                      : absl::StrCat(" last_error=\"", response.outbox_last_error(), "\""))
              << "\n";
  }
  if (response.index_filings() > 0 || response.index_applied() > 0) {
    std::cout << "  index: filings=" << response.index_filings()
              << " chronic_diseases=" << response.index_chronic_diseases()
              << " applied=" << response.index_applied()
              << " duplicates=" << response.index_duplicates()
              << " stale=" << response.index_stale()
              << " last_applied=" << response.index_last_applied_at() << "\n";
  }
  return 0;
}

}  // namespace

YIDICTL_COMMAND("filing create",
                "filing create --request_id=R --id_number=ID --insured_region=R --category=C "
                "--treatment_region=R [--start_date=D] [--end_date=D] [--materials=a,b] "
                "[--undertaking]",
                Create);
YIDICTL_COMMAND("filing change",
                "filing change --request_id=R --filing_id=F --id_number=ID --insured_region=R "
                "[--treatment_region=R] [--end_date=D] [--materials=a,b] [--objective_reason=O]",
                Change);
YIDICTL_COMMAND("filing cancel",
                "filing cancel --request_id=R --filing_id=F --id_number=ID --insured_region=R "
                "[--reason=requested|insurance_ended|undertaking_unmet] [--objective_reason=O]",
                Cancel);
YIDICTL_COMMAND("filing list",
                "filing list --id_number=ID --insured_region=R [--from_index]", List);
YIDICTL_COMMAND("filing check",
                "filing check --id_number=ID --insured_region=R --treatment_region=R --date=D "
                "[--medical_type=T] [--from_index]",
                Check);
YIDICTL_COMMAND("filing chronic-record",
                "filing chronic-record --request_id=R --id_number=ID --insured_region=R "
                "--disease_code=C [--disease_name=N] [--start_date=D] [--end_date=D]",
                ChronicRecord);
YIDICTL_COMMAND("filing chronic-revoke",
                "filing chronic-revoke --request_id=R --eligibility_id=M --id_number=ID "
                "--insured_region=R",
                ChronicRevoke);
YIDICTL_COMMAND("filing status", "filing status             this node's filing outbox and index",
                Status);
// The names before `filing …` existed; same behaviour.
YIDICTL_COMMAND("filing-check",
                "filing-check --id_number=ID --insured_region=R --treatment_region=R --date=D",
                Check);
YIDICTL_COMMAND("filing-list", "filing-list --id_number=ID --insured_region=R", List);
