// Google Benchmark of the policy engine alone (municipal/policy_engine.h): ComputeSettlement
// over the demo policies of Nanchang (employee and resident), no storage, no gRPC. Each
// iteration computes one settlement from a fixed mix of 1024 inputs: inpatient at the three
// levels (some hitting the pooled cap, so the large-expense subsidy or critical illness pays),
// outpatient, chronic, persons with and without subsidies, assistance categories and
// personal-account consent, and some stays across the year end. Items per second = settlements
// computed per second on one core. Run (docs/PERFORMANCE.md):
//   taskset -c 1 build/tools/bench/yidi-policy-engine-bench --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/config.h"
#include "municipal/policy_engine.h"

#ifndef YIDI_SOURCE_DIR
#error "YIDI_SOURCE_DIR must point at the repository"
#endif

namespace {

using yidi::municipal::CompiledPolicy;
using yidi::municipal::SettlementInput;
using yidi::municipal::YearlyAccumulators;

constexpr int kInputs = 1024;  // a power of two: the loop picks inputs with a mask

struct Case {
  const CompiledPolicy* policy = nullptr;
  SettlementInput input;
  YearlyAccumulators accumulators;
};

struct Fixture {
  std::unique_ptr<const CompiledPolicy> employee;
  std::unique_ptr<const CompiledPolicy> resident;
  std::vector<yidi::v1::PersonRecord> persons;  // stable addresses: reserved up front
  std::vector<Case> cases;
};

std::unique_ptr<const CompiledPolicy> LoadPolicy(const std::string& file) {
  yidi::v1::PolicyConfig config;
  absl::Status loaded = yidi::LoadTextProtoFile(
      std::string(YIDI_SOURCE_DIR) + "/deploy/demo/" + file, &config);
  auto compiled = loaded.ok() ? CompiledPolicy::Compile(config)
                              : absl::StatusOr<std::unique_ptr<const CompiledPolicy>>(loaded);
  if (!compiled.ok()) {
    std::fprintf(stderr, "%s: %s\n", file.c_str(),
                 std::string(compiled.status().message()).c_str());
    std::abort();
  }
  return std::move(*compiled);
}

const Fixture& GetFixture() {
  static const Fixture* const fixture = [] {
    auto* f = new Fixture();
    f->employee = LoadPolicy("policy_360100_employee.textproto");
    f->resident = LoadPolicy("policy_360100_resident.textproto");
    std::mt19937_64 rng(20261123);  // fixed: every run measures the same mix
    auto uniform = [&](int64_t lo, int64_t hi) {
      return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
    };
    f->persons.reserve(kInputs);
    for (int i = 0; i < kInputs; ++i) {
      Case c;
      const bool employee = i % 2 == 0;
      c.policy = employee ? f->employee.get() : f->resident.get();
      yidi::v1::PersonRecord person;
      person.set_person_type(employee ? (i % 4 == 0 ? yidi::v1::PERSON_TYPE_EMPLOYEE_RETIRED
                                                    : yidi::v1::PERSON_TYPE_CIVIL_SERVANT_WORKING)
                                      : yidi::v1::PERSON_TYPE_RESIDENT_ORDINARY);
      person.set_civil_servant_subsidy(employee && i % 8 == 2);
      person.set_supplementary_insurance(employee && i % 6 == 0);
      if (i % 10 == 1) person.set_assistance_category(yidi::v1::ASSISTANCE_CATEGORY_MINIMUM_LIVING);
      if (employee) person.set_personal_account_balance_fen(uniform(0, 1'000'000));
      person.add_chronic_disease_codes("I10");
      f->persons.push_back(person);
      SettlementInput& in = c.input;
      in.person = &f->persons.back();
      in.age_years = static_cast<int>(uniform(1, 90));
      const int kind = static_cast<int>(uniform(0, 9));  // 6 inpatient, 3 outpatient, 1 chronic
      in.medical_type = kind < 6   ? yidi::v1::MEDICAL_TYPE_INPATIENT
                        : kind < 9 ? yidi::v1::MEDICAL_TYPE_OUTPATIENT
                                   : yidi::v1::MEDICAL_TYPE_CHRONIC_OUTPATIENT;
      in.chronic_disease_code = "I10";
      in.hospital_level = static_cast<yidi::v1::HospitalLevel>(uniform(1, 3));
      in.remote_care = static_cast<yidi::municipal::RemoteCare>(uniform(0, 2));
      in.personal_account_consent = i % 3 == 0;
      const int64_t scale = kind < 6 ? (i % 7 == 0 ? 30'000'000 : 3'000'000) : 50'000;
      in.bill.in_scope_fen = uniform(0, scale);
      in.bill.class_b_copay_fen = uniform(0, scale / 10);
      in.bill.over_cap_fen = uniform(0, scale / 50);
      in.bill.self_pay_fen = uniform(0, scale / 10);
      in.bill.total_fen = in.bill.in_scope_fen + in.bill.class_b_copay_fen +
                          in.bill.over_cap_fen + in.bill.self_pay_fen;
      in.admission_date = absl::CivilDay(2026, 3, 1) + uniform(0, 200);
      in.discharge_date = in.admission_date + (kind < 6 ? uniform(1, 20) : 0);
      if (kind < 6 && i % 16 == 0) {  // across the year end (one bill in the demo policies)
        in.admission_date = absl::CivilDay(2026, 12, 24);
        in.discharge_date = absl::CivilDay(2027, 1, 8);
      }
      // A year already under way: earlier admissions, deductibles, fund payments.
      auto& year = c.accumulators[static_cast<int>(in.discharge_date.year())];
      year["admissions:inpatient"] = uniform(0, 3);
      year["deductible_fen:outpatient"] = uniform(0, 30'000);
      year["paid_fen:pooled_inpatient"] = uniform(0, 10'000'000);
      year["paid_fen:pooled_outpatient"] = uniform(0, 200'000);
      year["base_fen:critical_illness"] = uniform(0, 6'000'000);
      year["paid_fen:critical_illness"] = uniform(0, 1'000'000);
      f->cases.push_back(std::move(c));
    }
    return f;
  }();
  return *fixture;
}

void BM_ComputeSettlement(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  int64_t failed = 0;
  for (auto _ : state) {
    const Case& c = f.cases[i++ & (kInputs - 1)];
    auto outcome = yidi::municipal::ComputeSettlement(*c.policy, c.input, c.accumulators);
    failed += outcome.ok() ? 0 : 1;
    benchmark::DoNotOptimize(outcome);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["refused"] = static_cast<double>(failed);
}
BENCHMARK(BM_ComputeSettlement);

// The same with the slip filled (FillSlipAmounts: the fund columns and ＃参保地基金 lines), as
// InsuredSettlement does before it commits.
void BM_ComputeSettlementAndFillSlip(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  yidi::v1::SettlementResult slip;
  for (auto _ : state) {
    const Case& c = f.cases[i++ & (kInputs - 1)];
    auto outcome = yidi::municipal::ComputeSettlement(*c.policy, c.input, c.accumulators);
    if (outcome.ok()) yidi::municipal::FillSlipAmounts(*outcome, &slip);
    benchmark::DoNotOptimize(slip);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ComputeSettlementAndFillSlip);

// Loading: parse and compile one policy file (done once per node start; for scale only).
void BM_CompilePolicy(benchmark::State& state) {
  yidi::v1::PolicyConfig config;
  if (!yidi::LoadTextProtoFile(
           std::string(YIDI_SOURCE_DIR) + "/deploy/demo/policy_360100_employee.textproto", &config)
           .ok()) {
    state.SkipWithError("cannot read the demo policy");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(CompiledPolicy::Compile(config));
}
BENCHMARK(BM_CompilePolicy);

}  // namespace

BENCHMARK_MAIN();
