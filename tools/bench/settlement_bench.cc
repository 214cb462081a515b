// Micro-benchmarks of the CPU a settlement costs outside gRPC: validation at the edge, fee
// classification at the treatment region, the request digest every hop computes, and the basic
// policy at the insured region. Run: build/tools/bench/yidi-settlement-bench
#include <benchmark/benchmark.h>

#include "common/config.h"
#include "common/digest.h"
#include "common/directory.h"
#include "common/settlement_validation.h"
#include "municipal/basic_policy.h"
#include "municipal/catalogue.h"

#ifndef YIDI_SOURCE_DIR
#error "YIDI_SOURCE_DIR must point at the repository"
#endif

namespace {

struct Fixture {
  yidi::DirectoryIndex directory;
  yidi::municipal::CatalogueIndex catalogue;
  yidi::v1::PolicyConfig policy;
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
    must(yidi::LoadTextProtoFile(demo + "policy_360100_employee.textproto", &f->policy));
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

void BM_BasicPolicy(benchmark::State& state) {
  const Fixture& f = GetFixture();
  auto bill = yidi::municipal::ClassifyBill(f.catalogue, f.request, *f.institution);
  yidi::municipal::PolicyInput input;
  input.split = bill->split();
  input.medical_type = f.request.visit().medical_type();
  input.hospital_level = bill->hospital_level();
  input.person_type = yidi::v1::PERSON_TYPE_EMPLOYEE_RETIRED;
  input.insurance_type = yidi::v1::INSURANCE_TYPE_EMPLOYEE;
  const yidi::municipal::AccumulatorValues accumulators = {
      {yidi::municipal::kAccInpatientAdmissions, 1},
      {yidi::municipal::kAccInpatientPooledFundFen, 1'000'000}};
  for (auto _ : state) {
    benchmark::DoNotOptimize(yidi::municipal::ComputeBasicPolicy(f.policy, input, accumulators));
  }
}
BENCHMARK(BM_BasicPolicy);

}  // namespace

BENCHMARK_MAIN();
