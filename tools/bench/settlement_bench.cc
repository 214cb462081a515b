// Micro-benchmarks of the CPU a settlement costs outside gRPC: validation at the edge, fee
// classification at the treatment region, the request digest every hop computes, and the policy
// engine at the insured region (its own benchmark: policy_engine_bench.cc).
// Run: build/tools/bench/yidi-settlement-bench
#include <benchmark/benchmark.h>

#include "common/config.h"
#include "common/digest.h"
#include "common/directory.h"
#include "common/settlement_validation.h"
#include "municipal/catalogue.h"
#include "municipal/policy_engine.h"

#ifndef YIDI_SOURCE_DIR
#error "YIDI_SOURCE_DIR must point at the repository"
#endif

namespace {

struct Fixture {
  yidi::DirectoryIndex directory;
  yidi::municipal::CatalogueIndex catalogue;
  std::unique_ptr<const yidi::municipal::CompiledPolicy> policy;
  yidi::v1::PersonRecord person;    // N1, the retiree of case 01
  yidi::v1::SettleRequest request;  // workload case 01: 5 hops, ~15 lines
  const yidi::v1::Institution* institution = nullptr;
};

const Fixture& GetFixture() {
  static const Fixture* const fixture = [] {
    auto* f = new Fixture();
    const std::string demo = std::string(YIDI_SOURCE_DIR) + "/deploy/demo/";
    yidi::v1::Directory directory;
    yidi::v1::Catalogue catalogue;
    auto must = [](const absl::Status& status) {
      if (!status.ok()) {
        std::fprintf(stderr, "%s\n", std::string(status.message()).c_str());
        std::abort();
      }
    };
    must(yidi::LoadTextProtoFile(demo + "directory.textproto", &directory));
    must(yidi::LoadTextProtoFile(demo + "catalogue_500000.textproto", &catalogue));
    yidi::v1::PolicyConfig policy;
    must(yidi::LoadTextProtoFile(demo + "policy_360100_employee.textproto", &policy));
    f->policy = std::move(*yidi::municipal::CompiledPolicy::Compile(policy));
    f->person.set_person_type(yidi::v1::PERSON_TYPE_EMPLOYEE_RETIRED);
    f->person.set_personal_account_balance_fen(486000);
    must(yidi::LoadTextProtoFile(demo + "workload/01_cross_province_inpatient.textproto",
                                 &f->request));
    f->directory = *yidi::DirectoryIndex::Build(directory);
    f->catalogue = *yidi::municipal::CatalogueIndex::Build(catalogue);
    f->institution = f->directory.FindInstitution(f->request.visit().institution_code());
    return f;
  }();
  return *fixture;
}

void BM_ValidateHospitalRequest(benchmark::State& state) {
  const Fixture& f = GetFixture();
  for (auto _ : state) {
    benchmark::DoNotOptimize(yidi::ValidateHospitalSettleRequest(f.request, f.directory));
  }
}
BENCHMARK(BM_ValidateHospitalRequest);

void BM_ClassifyBill(benchmark::State& state) {
  const Fixture& f = GetFixture();
  for (auto _ : state) {
    benchmark::DoNotOptimize(yidi::municipal::ClassifyBill(f.catalogue, f.request, *f.institution));
  }
}
BENCHMARK(BM_ClassifyBill);

void BM_DigestRequest(benchmark::State& state) {
  const Fixture& f = GetFixture();
  for (auto _ : state) benchmark::DoNotOptimize(yidi::DigestMessage(f.request));
}
BENCHMARK(BM_DigestRequest);

void BM_PolicyEngine(benchmark::State& state) {
  const Fixture& f = GetFixture();
  auto bill = yidi::municipal::ClassifyBill(f.catalogue, f.request, *f.institution);
  yidi::municipal::SettlementInput input;
  input.bill = yidi::municipal::BillAmountsOf(bill->split());
  input.medical_type = f.request.visit().medical_type();
  input.hospital_level = bill->hospital_level();
  input.admission_date = absl::CivilDay(2026, 10, 8);
  input.discharge_date = absl::CivilDay(2026, 10, 17);
  input.person = &f.person;
  input.age_years = 70;
  const yidi::municipal::YearlyAccumulators accumulators = {
      {2026, {{"admissions:inpatient", 1}, {"paid_fen:pooled_inpatient", 1'000'000}}}};
  for (auto _ : state) {
    benchmark::DoNotOptimize(yidi::municipal::ComputeSettlement(*f.policy, input, accumulators));
  }
}
BENCHMARK(BM_PolicyEngine);

}  // namespace

BENCHMARK_MAIN();
