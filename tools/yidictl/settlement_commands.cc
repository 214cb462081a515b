// yidictl commands of the settlement path and the directory: info, regions, settle, reverse,
// correct, get, person. The filing commands are in filing_commands.cc.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/config.h"
#include "common/grpc_status.h"
#include "common/money.h"
#include "grpcpp/grpcpp.h"
#include "yidi/v1/directory.grpc.pb.h"
#include "yidi/v1/filing.grpc.pb.h"
#include "yidi/v1/person.grpc.pb.h"
#include "tools/yidictl/command.h"
#include "yidi/v1/settlement.grpc.pb.h"

ABSL_FLAG(std::string, request, "", "settle: SettleRequest in text format");
ABSL_FLAG(bool, pre, false, "settle: pre-settle only (commits nothing)");
ABSL_FLAG(std::string, settlement_id, "", "settlement id");
ABSL_FLAG(std::string, original, "", "reverse: the settlement to undo");
ABSL_FLAG(std::string, insured_region, "", "insured region code");
ABSL_FLAG(std::string, treatment_region, "", "treatment region code");
ABSL_FLAG(std::string, institution, "", "institution code");
ABSL_FLAG(std::string, reason, "",
          "reverse: reason; filing cancel: requested | insurance_ended | undertaking_unmet");
ABSL_FLAG(std::string, id_number, "", "person's resident ID number");
ABSL_FLAG(std::string, date, "", "person / filing check: the date (YYYY-MM-DD)");
ABSL_FLAG(bool, emergency, false, "person: emergency treatment");

namespace {

using yidi::FormatYuan;

using yidictl::Fail;
using yidictl::MakeContext;

std::string Yuan(int64_t fen) { return FormatYuan(fen); }

void PrintSlip(const yidi::v1::SettlementResult& r, bool replayed) {
  if (absl::GetFlag(FLAGS_text)) {
    std::cout << r.DebugString();
    return;
  }
  std::cout << "────────────────────────── 异地就医结算单 settlement slip ──────────────────────────\n";
  std::cout << "settlement_id      " << r.settlement_id()
            << (r.kind() == yidi::v1::SETTLEMENT_KIND_REVERSAL
                    ? absl::StrCat("  (reversal of ", r.original_settlement_id(), ")")
                    : "")
            << (replayed ? "  [stored result, replayed]" : "") << "\n";
  std::cout << "state              " << yidi::v1::SettlementState_Name(r.state()) << "\n";
  std::cout << "patient            " << r.name() << "  " << r.id_number() << "  age " << r.age()
            << "  " << yidi::v1::PersonType_Name(r.person_type()) << "\n";
  std::cout << "insured region     " << r.insured_region() << "  "
            << yidi::v1::InsuranceType_Name(r.insurance_type())
            << (r.deemed_filed() ? "  deemed filed (emergency)" : "")
            << (r.filing_category() != yidi::v1::FILING_CATEGORY_UNSPECIFIED
                    ? absl::StrCat("  filed: ", yidi::v1::FilingCategory_Name(r.filing_category()))
                    : "")
            << "\n";
  std::cout << "treatment region   " << r.treatment_region() << "  " << r.institution_name() << " ("
            << r.institution_code() << ", level " << static_cast<int>(r.hospital_level()) << ")\n";
  std::cout << "visit              " << yidi::v1::MedicalType_Name(r.medical_type()) << "  no. "
            << r.admission_number() << "  " << r.admission_date() << " → " << r.discharge_date()
            << "  days " << r.inpatient_days() << "  diagnoses "
            << absl::StrJoin(r.diagnosis_codes(), ",") << "\n";
  std::cout << "amounts (元)\n";
  std::cout << "  总费用 total                         " << Yuan(r.total_fen()) << "\n";
  std::cout << "  统筹基金支付范围内 in scope          " << Yuan(r.in_scope_fen()) << "\n";
  std::cout << "  乙类先行自付 class-B co-pay          " << Yuan(r.class_b_copay_fen()) << "\n";
  std::cout << "  超限价自付 over price cap            " << Yuan(r.over_cap_fen()) << "\n";
  std::cout << "  自费 out of scope                    " << Yuan(r.self_pay_fen()) << "\n";
  std::cout << "  本次起付标准 deductible applied      " << Yuan(r.deductible_applied_fen()) << "\n";
  for (const auto& payment : r.fund_payments()) {
    std::cout << "  # " << payment.name() << " ("
              << static_cast<int>(payment.fund_payment_type()) << ")  " << Yuan(payment.amount_fen())
              << "\n";
  }
  std::cout << "  基金支付合计 fund total (slip)       " << Yuan(r.slip_fund_total_fen()) << "\n";
  std::cout << "  个人账户 personal account            " << Yuan(r.personal_account_fen()) << "\n";
  std::cout << "  个人现金支付 cash                    " << Yuan(r.cash_fen()) << "\n";
  std::cout << "settled at         " << r.settled_at() << "\n";
}

int Info(yidi::v1::DirectoryService::Stub& stub) {
  yidi::v1::GetNodeInfoResponse response;
  auto context = MakeContext();
  grpc::Status status = stub.GetNodeInfo(context.get(), {}, &response);
  if (!status.ok()) return Fail(status);
  int64_t total = 0;
  std::vector<std::string> counts;
  for (const auto& count : response.settlement_records()) {
    total += count.count();
    counts.push_back(absl::StrCat(yidi::v1::SettlementState_Name(count.state()).substr(17), "=",
                                  count.count()));
  }
  std::cout << response.name() << "  kind=" << yidi::v1::NodeKind_Name(response.kind()).substr(10)
            << "  region=" << response.region_code() << "  address=" << response.address()
            << "  records=" << total << (counts.empty() ? "" : "  ") << absl::StrJoin(counts, " ")
            << "\n";
  return 0;
}


using Channel = std::shared_ptr<grpc::Channel>;
using Args = std::vector<std::string>;

int Regions(const Channel& channel, const Args&) {
  auto stub = yidi::v1::DirectoryService::NewStub(channel);
  yidi::v1::ListRegionsResponse response;
  auto context = MakeContext();
  grpc::Status status = stub->ListRegions(context.get(), {}, &response);
  if (!status.ok()) return Fail(status);
  for (const auto& region : response.regions()) {
    std::cout << region.code() << "  " << yidi::v1::NodeKind_Name(region.kind()).substr(10)
              << "  " << region.address() << "  " << region.name() << "\n";
  }
  return 0;
}

int Settle(const Channel& channel, const Args&) {
  yidi::v1::SettleRequest request;
  if (absl::Status loaded = yidi::LoadTextProtoFile(absl::GetFlag(FLAGS_request), &request);
      !loaded.ok()) {
    std::cerr << loaded.message() << "\n";
    return yidictl::kExitUsage;
  }
  auto settlement = yidi::v1::SettlementService::NewStub(channel);
  yidi::v1::SettleResponse response;
  auto context = MakeContext();
  grpc::Status status = absl::GetFlag(FLAGS_pre)
                            ? settlement->PreSettle(context.get(), request, &response)
                            : settlement->Settle(context.get(), request, &response);
  if (!status.ok()) return Fail(status);
  if (absl::GetFlag(FLAGS_pre)) std::cout << "PRE-SETTLEMENT (nothing committed)\n";
  PrintSlip(response.result(), response.replayed());
  return 0;
}

int Reverse(const Channel& channel, const Args&) {
  yidi::v1::ReverseRequest request;
  request.set_settlement_id(absl::GetFlag(FLAGS_settlement_id));
  request.set_original_settlement_id(absl::GetFlag(FLAGS_original));
  request.set_insured_region(absl::GetFlag(FLAGS_insured_region));
  request.set_treatment_region(absl::GetFlag(FLAGS_treatment_region));
  request.set_institution_code(absl::GetFlag(FLAGS_institution));
  request.set_reason(absl::GetFlag(FLAGS_reason));
  auto settlement = yidi::v1::SettlementService::NewStub(channel);
  yidi::v1::SettleResponse response;
  auto context = MakeContext();
  grpc::Status status = settlement->Reverse(context.get(), request, &response);
  if (!status.ok()) return Fail(status);
  PrintSlip(response.result(), response.replayed());
  return 0;
}

int Correct(const Channel& channel, const Args&) {
  yidi::v1::CorrectRequest request;
  request.set_settlement_id(absl::GetFlag(FLAGS_settlement_id));
  request.set_insured_region(absl::GetFlag(FLAGS_insured_region));
  request.set_treatment_region(absl::GetFlag(FLAGS_treatment_region));
  request.set_institution_code(absl::GetFlag(FLAGS_institution));
  auto settlement = yidi::v1::SettlementService::NewStub(channel);
  yidi::v1::CorrectResponse response;
  auto context = MakeContext();
  grpc::Status status = settlement->Correct(context.get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::cout << "corrected " << response.settlement_id() << ": "
            << (response.was_committed() ? "it had been committed and is now voided"
                                         : "it never reached the insured region; recorded as "
                                           "voided")
            << "\n";
  return 0;
}

int Get(const Channel& channel, const Args&) {
  yidi::v1::GetSettlementRequest request;
  request.set_settlement_id(absl::GetFlag(FLAGS_settlement_id));
  auto settlement = yidi::v1::SettlementService::NewStub(channel);
  yidi::v1::GetSettlementResponse response;
  auto context = MakeContext();
  grpc::Status status = settlement->GetSettlement(context.get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::cout << "recorded at " << absl::GetFlag(FLAGS_target) << ": "
            << yidi::v1::SettlementState_Name(response.state()) << "  digest "
            << response.request_digest().substr(0, 16) << "…\n";
  if (response.result().total_fen() != 0 || absl::GetFlag(FLAGS_text)) {
    PrintSlip(response.result(), false);
  }
  return 0;
}

int Person(const Channel& channel, const Args&) {
  auto stub = yidi::v1::PersonService::NewStub(channel);
  yidi::v1::GetInsuredPersonRequest request;
  request.set_id_number(absl::GetFlag(FLAGS_id_number));
  request.set_insured_region(absl::GetFlag(FLAGS_insured_region));
  request.set_treatment_region(absl::GetFlag(FLAGS_treatment_region));
  request.set_date(absl::GetFlag(FLAGS_date));
  request.set_emergency(absl::GetFlag(FLAGS_emergency));
  yidi::v1::GetInsuredPersonResponse response;
  auto context = MakeContext();
  grpc::Status status = stub->GetInsuredPerson(context.get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::cout << response.DebugString();
  return 0;
}

}  // namespace

YIDICTL_COMMAND("info", "info                      node name, kind, region, address, records by state",
                [](const Channel& channel, const Args&) {
                  auto stub = yidi::v1::DirectoryService::NewStub(channel);
                  return Info(*stub);
                });
YIDICTL_COMMAND("regions", "regions                   the directory's regions", Regions);
YIDICTL_COMMAND("settle",
                "settle --request=FILE [--pre]   settle (or pre-settle) a bill; prints the slip",
                Settle);
YIDICTL_COMMAND("reverse",
                "reverse --settlement_id=NEW --original=OLD --insured_region=R "
                "--treatment_region=R --institution=CODE [--reason=TEXT]",
                Reverse);
YIDICTL_COMMAND("correct",
                "correct --settlement_id=S --insured_region=R --treatment_region=R "
                "--institution=CODE",
                Correct);
YIDICTL_COMMAND("get", "get --settlement_id=S     this node's own record of a settlement", Get);
YIDICTL_COMMAND("person",
                "person --id_number=ID --insured_region=R [--treatment_region=R --date=D "
                "--emergency]",
                Person);
// filing-check and filing-list live with the other filing commands (filing_commands.cc).
