// A seeded, deterministic simulation of a clearing month across the in-process demo mesh
// (TigerBeetle's VOPR in spirit: one seed drives every choice; the seed is printed and replays
// the run: YIDI_SIMULATION_SEED=<seed> runs only that one).
//
// September 2026 (M) and October (M+1): settlements every day, cross-province and intra-
// province, employee and resident, through the real path (hospital → treatment city → … →
// insured city); reversals within the month, after it and after its clearing (清算后退费);
// audit deductions at national and at Jiangxi, one recorded after M was built. Faults, each on
// its own day, each on a settlement of its own:
//   kLostReply          the owner's answer lost between national and the treatment province:
//                       treatment province and city hold IN_DOUBT without a result;
//   kOwnerDownAtSettle  the insured city is down during the Settle: every hop IN_DOUBT, the
//                       owner committed nothing (a real fault: the node is stopped);
//   kMissingAtNode      national (or the insured province) lost the record;
//   kAmountDiffers      national's record carries 1.00 元 more fund than the slip;
//   kReversedOneSide    the insured province lost a reversal (and still shows SETTLED);
//   kIntraMissing       Jiangxi lost the record of one of its intra-province settlements;
//   kOwnerUnreachable   every relay IN_DOUBT and the owner down when national reconciles: the
//                       day stays OPEN (reported), the provinces settle it with the owner once
//                       it is back, and national's re-run the next day balances;
//   kLate               the treatment city of that day's settlement declares M after its
//                       province froze M's claims: its cross-province costs of M are a late
//                       declaration, cleared in M+1 (its rows of M wait pending at national).
// Every day at 02:00 the national scheduler reconciles, at 04:00 the provinces' (the real
// ReconciliationScheduler, driven by the mesh's FakeClock); at 05:00 every institution sends
// its past days' totals (3201) until they match, so its settlements are confirmed. The claim
// step (SubmitClaims): on the 15th of the next month every treatment city declares the month
// from its confirmed settlements and the provinces freeze and submit to national. Then the
// clearing of M (built on the 21st of M+1) and of M+1 at national and at Jiangxi, confirmed
// (by reply or silence) and the notices issued.
//
// Checked: every injected difference is found, classified and resolved (or reported open where
// meant to be); afterwards every node on every path agrees; the clearing invariants
// (CheckConservation, Σ payables = Σ receivables by the matrix, each province's payable and
// receivable = Σ of its cities' cells) and an independent recomputation of every cell from the
// simulation's own ledger of what it did; the obligations issued with the notices and the usage
// reports they feed.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "common/clearing.h"
#include "common/clearing_service.h"
#include "common/clock.h"
#include "common/reconciliation_service.h"
#include "common/store/store.h"
#include "gtest/gtest.h"
#include "tests/testing/demo_requests.h"
#include "tests/testing/in_process_mesh.h"
#include "yidi/v1/clearing.grpc.pb.h"
#include "yidi/v1/prepayment.grpc.pb.h"
#include "yidi/v1/reconciliation.grpc.pb.h"

namespace yidi::testing {
namespace {

using yidi::v1::SettlementState;

constexpr absl::Duration kCallDeadline = absl::Seconds(10);
// A hospital's retries of a call that ended UNAVAILABLE, and the real pause between them.
constexpr int kAttemptsMax = 20;
constexpr absl::Duration kRetryPause = absl::Milliseconds(250);
// M and M+1. The shipped calendars hold 2025 and 2026 only, and the notices of a month's
// clearing are due in M+2 (pay-by the 21st): September and October keep every date in 2026.
constexpr char kMonth[] = "2026-09";
constexpr char kNextMonth[] = "2026-10";
constexpr absl::CivilMonth kMonthM(2026, 9);
constexpr absl::CivilMonth kMonthNext = kMonthM + 1;
constexpr absl::CivilMonth kMonthAfter = kMonthM + 2;

std::string FormatMonth(absl::CivilMonth month) {
  return absl::StrFormat("%04d-%02d", month.year(), month.month());
}

absl::CivilDay DayOf(absl::CivilMonth month, int day) {
  return absl::CivilDay(month.year(), month.month(), day);
}
// Seeds run by default; YIDI_SIMULATION_SEED replaces them with one.
constexpr uint64_t kDefaultSeeds[] = {1, 20261023, 977};

absl::Time AtCst(absl::CivilDay day, int hour, int minute = 0) {
  return absl::FromCivil(absl::CivilSecond(day.year(), day.month(), day.day(), hour, minute, 0),
                         ChinaStandardTime());
}

std::string ProvinceOf(const std::string& region) { return region.substr(0, 2) + "0000"; }

// ---------------------------------------------------------------------------------------------
// What the simulation did: its own ledger, never read back from the nodes' tables.

enum class Fault {
  kNone,
  kLostReply,
  kOwnerDownAtSettle,
  kMissingAtNode,
  kAmountDiffers,
  kReversedOneSide,
  kIntraMissing,
  kOwnerUnreachable,
  kLate,
};

const char* FaultName(Fault fault) {
  switch (fault) {
    case Fault::kNone: return "none";
    case Fault::kLostReply: return "lost reply";
    case Fault::kOwnerDownAtSettle: return "owner down at settle";
    case Fault::kMissingAtNode: return "missing at a node";
    case Fault::kAmountDiffers: return "amount differs";
    case Fault::kReversedOneSide: return "reversed at one side";
    case Fault::kIntraMissing: return "intra-province missing";
    case Fault::kOwnerUnreachable: return "owner unreachable";
    case Fault::kLate: return "late declaration";
  }
  return "?";
}

// One settlement or reversal the mesh committed (the owner's slip).
struct Event {
  std::string settlement_id;
  std::string original_id;  // reversals
  std::string insured;      // pooling regions
  std::string treatment;
  bool resident = false;
  int64_t owed_fen = 0;     // 基金支付合计 of the slip (negative for a reversal)
  int64_t total_fen = 0;
  int64_t fund_fen = 0;
  int64_t account_fen = 0;
  std::string institution;
  std::string day;          // its settlement date
  std::string month;        // YYYY-MM of its settlement date
  bool late = false;        // recorded at national after M froze
  bool cross() const { return ProvinceOf(insured) != ProvinceOf(treatment); }
};

// The cell key: insured pooling region, treatment pooling region, resident.
using CellKey = std::tuple<std::string, std::string, bool>;

// An audit deduction the simulation recorded.
struct Deduction {
  std::string issuer;  // "000000" or "360000"
  std::string insured, treatment;
  bool resident = false;
  int64_t fen = 0;
  std::string applies_in;  // the clearing month it must enter
};

// A difference the simulation expects a run to report.
struct Expected {
  Fault fault = Fault::kNone;
  std::string day;
  NodeId runner;
  std::string settlement_id;
  yidi::v1::DifferenceKind kind = yidi::v1::DIFFERENCE_KIND_UNSPECIFIED;
};

// The templates: demo hospital requests that settle any day of the simulation.
struct Template {
  const char* workload;
  bool cross;
};
constexpr Template kTemplates[] = {
    {"01_cross_province_inpatient", true},   // 360100 insured, treated in 500000, employee
    {"02_cross_province_outpatient", true},  // 210100 → 360100
    {"06_reversal_inpatient", true},         // 500000 → 210100
    {"07_resident_big_bill", true},          // 210100 → 500000, resident
    {"load_template_a", true},               // 210100 → 500000 (H50000000002)
    {"load_template_b", true},               // 500000 → 360100
    {"load_template_c", true},               // 360100 → 210100
    {"03_intra_province_inpatient", false},  // 360700 → 360100
    {"08_employee_several_funds", false},    // 360100 → 360700
    {"09_family_account_outpatient", false}, // 360100 → 360700, resident
};

class MonthSimulation {
 public:
  MonthSimulation(uint64_t seed, InProcessMesh* mesh) : seed_(seed), rng_(seed), mesh_(mesh) {}

  void Run();

 private:
  // --- randomness (deterministic: one generator, consumed in a fixed order) ---
  uint64_t Next() { return rng_(); }
  int Uniform(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }
  bool Chance(int percent) { return Uniform(100) < percent; }

  // --- the mesh ---
  std::shared_ptr<grpc::Channel> Channel(const NodeId& node) {
    return mesh_->ChannelAs(node, InProcessMesh::kHarnessIdentity);
  }
  absl::StatusOr<yidi::v1::SettlementResult> Settle(const yidi::v1::SettleRequest& request,
                                                    bool retry = true);
  absl::StatusOr<yidi::v1::SettlementResult> Reverse(const Event& original,
                                                     const std::string& institution);
  std::vector<NodeId> PathOf(const std::string& insured, const std::string& treatment) const;
  void Execute(const NodeId& node, const std::string& sql);
  void MarkInDoubt(const NodeId& node, const std::string& id);

  // --- the phases ---
  void PrepareTemplates();
  void PlanFaults();
  void SimulateDay(absl::CivilDay day);
  // One settlement from a template; returns the event when the owner committed it.
  std::optional<Event> SettleOne(const Template& t, absl::CivilDay day, Fault fault);
  void InjectAfterSettle(Fault fault, const Event& event, absl::CivilDay day,
                         const yidi::v1::SettleRequest& request);
  void ReconcileNight(absl::CivilDay night);  // the runs of the previous day
  void RecordDeductions(absl::CivilDay day);
  // The institutions' day totals (3201), until each day matched.
  void ConfirmInstitutionDays(absl::CivilDay today);
  void DeclareClaims(const std::string& city, const std::string& month);
  void ForwardClaims(const std::string& province, const std::string& month);
  // The claim step, one function (docs/CLEARING.md "Claims"): the treatment cities declare,
  // the provinces freeze and submit to national. `skip_city` declares later (kLate).
  void SubmitClaims(const std::string& month, const std::string& skip_city = "");
  yidi::v1::Clearing RunClearing(const NodeId& node, const std::string& month);
  // On the 21st of the next month: national and Jiangxi build; Jiangxi confirms at national.
  void BuildMonth(const std::string& month);
  // Past confirm_by: silence confirms, the notices become obligations.
  void IssueNotices(const std::string& month);

  // --- the checks ---
  void CheckDifferencesFound();
  void CheckPathsAgree();
  void CheckClearing(const NodeId& node, const yidi::v1::Clearing& clearing,
                     const std::string& month);
  void CheckObligations(const NodeId& node, const std::string& month);

  const uint64_t seed_;
  std::mt19937_64 rng_;
  InProcessMesh* const mesh_;
  std::map<std::string, yidi::v1::SettleRequest> templates_;  // by workload name
  int serial_ = 0;
  int retries_ = 0;  // hospital retries after UNAVAILABLE
  std::set<std::tuple<std::string, std::string, std::string>> confirmed_days_;  // city, inst, day
  int unconfirmed_submissions_ = 0;
  std::string late_city_;  // kLate: the treatment city that declares M after the freeze

  std::vector<Event> events_;                       // committed settlements and reversals
  std::set<std::string> voided_;                    // never committed (owner down)
  std::set<std::string> reversed_;                  // originals reversed
  std::map<std::string, std::string> institution_;  // settlement id → institution
  std::vector<Deduction> deductions_;
  std::vector<Expected> expected_;
  std::map<absl::CivilDay, Fault> fault_days_;      // the day each fault happens
  std::string open_day_;                            // kOwnerUnreachable's day
  std::map<std::string, std::vector<std::string>> reversals_due_;  // day → originals refunded
  std::map<std::pair<std::string, std::string>, yidi::v1::ReconciliationReport> reports_;
  std::unique_ptr<Reconciler> national_reconciler_;
  std::unique_ptr<ReconciliationScheduler> national_scheduler_;
  std::map<std::string, std::unique_ptr<Reconciler>> province_reconcilers_;
  std::map<std::string, std::unique_ptr<ReconciliationScheduler>> province_schedulers_;
};

absl::StatusOr<yidi::v1::SettlementResult> MonthSimulation::Settle(
    const yidi::v1::SettleRequest& request, bool retry) {
  // A hospital whose call ends UNAVAILABLE retries with the same settlement_id (every hop is
  // idempotent). A relay's channel to a node that just came back may still be in gRPC's
  // reconnect backoff (real time, about a second), hence the real sleep between attempts.
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    yidi::v1::SettleResponse response;
    grpc::Status status = mesh_->Settlement(Municipal(request.treatment_region()))
                              .Settle(&context, request, &response);
    if (status.ok()) return response.result();
    if (!retry || status.error_code() != grpc::StatusCode::UNAVAILABLE ||
        attempt == kAttemptsMax) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    ++retries_;
    absl::SleepFor(kRetryPause);
  }
}

absl::StatusOr<yidi::v1::SettlementResult> MonthSimulation::Reverse(
    const Event& original, const std::string& institution) {
  yidi::v1::ReverseRequest request;
  request.set_settlement_id(absl::StrCat(institution, "-R", seed_ % 100000, "-", ++serial_));
  request.set_original_settlement_id(original.settlement_id);
  request.set_insured_region(original.insured);
  request.set_treatment_region(original.treatment);
  request.set_institution_code(institution);
  request.set_reason("患者退费");
  for (int attempt = 1;; ++attempt) {  // retried like Settle
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    yidi::v1::SettleResponse response;
    grpc::Status status =
        mesh_->Settlement(Municipal(original.treatment)).Reverse(&context, request, &response);
    if (status.ok()) return response.result();
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE || attempt == kAttemptsMax) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    ++retries_;
    absl::SleepFor(kRetryPause);
  }
}

// The nodes that record a settlement, from the treatment side to the owner.
std::vector<NodeId> MonthSimulation::PathOf(const std::string& insured,
                                            const std::string& treatment) const {
  std::vector<NodeId> path = {Municipal(treatment), Provincial(ProvinceOf(treatment))};
  if (ProvinceOf(insured) != ProvinceOf(treatment)) {
    path.push_back(National());
    path.push_back(Provincial(ProvinceOf(insured)));
  }
  path.push_back(Municipal(insured));
  return path;
}

void MonthSimulation::Execute(const NodeId& node, const std::string& sql) {
  auto tx = mesh_->Context(node)->store->Begin(TransactionMode::kWrite);
  ASSERT_TRUE(tx.ok()) << tx.status();
  auto changed = (*tx)->Execute(sql);
  ASSERT_TRUE(changed.ok()) << changed.status();
  ASSERT_GT(*changed, 0) << NameOf(node) << ": " << sql;
  ASSERT_TRUE((*tx)->Commit().ok());
}

// What a relay holds when the owner's answer never came back through it.
void MonthSimulation::MarkInDoubt(const NodeId& node, const std::string& id) {
  Execute(node, absl::StrCat("UPDATE settlement_record SET state = 3, result = '', total_fen = 0, "
                             "fund_total_fen = 0, personal_account_fen = 0, cash_fen = 0, "
                             "settlement_date = '' WHERE settlement_id = '", id, "'"));
}

void MonthSimulation::PrepareTemplates() {
  for (const Template& t : kTemplates) {
    auto request = LoadWorkload(t.workload);
    ASSERT_TRUE(request.ok()) << t.workload << ": " << request.status();
    templates_[t.workload] = *request;
  }
}

void MonthSimulation::PlanFaults() {
  // Distinct days of M for the faults (the 2nd to the 27th: each leaves a few days of daily
  // runs before the month ends). kLate's settlement is made on its day; its record is lost on
  // the 20th of M+1.
  std::vector<int> days;
  for (int d = 2; d <= 27; ++d) days.push_back(d);
  for (size_t i = days.size() - 1; i > 0; --i) std::swap(days[i], days[Uniform(i + 1)]);
  const Fault faults[] = {Fault::kLostReply,       Fault::kOwnerDownAtSettle,
                          Fault::kMissingAtNode,   Fault::kAmountDiffers,
                          Fault::kReversedOneSide, Fault::kIntraMissing,
                          Fault::kOwnerUnreachable, Fault::kLate};
  for (size_t i = 0; i < std::size(faults); ++i) {
    fault_days_[DayOf(kMonthM, days[i])] = faults[i];
  }
}

std::optional<Event> MonthSimulation::SettleOne(const Template& t, absl::CivilDay day,
                                                Fault fault) {
  yidi::v1::SettleRequest request = templates_[t.workload];
  const std::string institution = request.visit().institution_code();
  const std::string serial = absl::StrCat("S", seed_ % 100000, "-", ++serial_);
  request.set_settlement_id(absl::StrCat(institution, "-", serial));
  request.mutable_visit()->set_admission_number(serial);
  SCOPED_TRACE(absl::StrCat(request.settlement_id(), " (", t.workload, ", ", FaultName(fault),
                            ")"));
  if (fault == Fault::kOwnerDownAtSettle) {
    const NodeId owner = Municipal(request.insured_region());
    EXPECT_TRUE(mesh_->StopNode(owner).ok());
    auto refused = Settle(request, /*retry=*/false);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
    EXPECT_TRUE(mesh_->RestartNode(owner).ok());
    voided_.insert(request.settlement_id());
    institution_[request.settlement_id()] = institution;
    // National finds it IN_DOUBT at all three sides, asks the owner, who has no record: 冲减
    // everywhere. The provinces then see their cities agree (the treatment city IN_DOUBT is
    // settled by the treatment province's run the same night).
    expected_.push_back({fault, FormatDate(day), National(), request.settlement_id(),
                         yidi::v1::DIFFERENCE_KIND_IN_DOUBT});
    expected_.push_back({fault, FormatDate(day), Provincial(ProvinceOf(request.treatment_region())),
                         request.settlement_id(), yidi::v1::DIFFERENCE_KIND_IN_DOUBT});
    return std::nullopt;
  }
  auto result = Settle(request);
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok()) return std::nullopt;
  Event event;
  event.settlement_id = request.settlement_id();
  event.insured = result->insured_region();
  event.treatment = result->treatment_region();
  event.resident = IsResidentScheme(result->insurance_type());
  event.owed_fen = result->fund_total_fen() + result->personal_account_fen();
  event.total_fen = result->total_fen();
  event.fund_fen = result->fund_total_fen();
  event.account_fen = result->personal_account_fen();
  event.institution = institution;
  event.day = result->settlement_date();
  event.month = result->settlement_date().substr(0, 7);
  EXPECT_EQ(result->settlement_date(), FormatDate(day));
  institution_[event.settlement_id] = institution;
  events_.push_back(event);
  if (fault != Fault::kNone) {
    InjectAfterSettle(fault, event, day, request);
  } else if (Chance(15)) {
    // A refund: later this month, next month before the clearing, or after it (清算后退费).
    const int choice = Uniform(3);
    absl::CivilDay when = day + 1 + Uniform(5);
    if (choice == 1) when = DayOf(kMonthNext, 2 + Uniform(17));
    if (choice == 2) when = DayOf(kMonthNext, 22 + Uniform(7));
    if (absl::CivilMonth(day) == kMonthNext) when = day + 1 + Uniform(3);  // M+1's own refunds
    if (absl::CivilMonth(when) == kMonthNext || absl::CivilMonth(when) == kMonthM) {
      reversals_due_[FormatDate(when)].push_back(event.settlement_id);
    }
  }
  return event;
}

void MonthSimulation::InjectAfterSettle(Fault fault, const Event& event, absl::CivilDay day,
                                        const yidi::v1::SettleRequest& request) {
  const std::string& id = event.settlement_id;
  const std::string today = FormatDate(day);
  const NodeId treatment_province = Provincial(ProvinceOf(event.treatment));
  const NodeId insured_province = Provincial(ProvinceOf(event.insured));
  switch (fault) {
    case Fault::kLostReply:
      MarkInDoubt(treatment_province, id);
      MarkInDoubt(Municipal(event.treatment), id);
      expected_.push_back({fault, today, National(), id, yidi::v1::DIFFERENCE_KIND_IN_DOUBT});
      expected_.push_back({fault, today, treatment_province, id,
                           yidi::v1::DIFFERENCE_KIND_IN_DOUBT});
      break;
    case Fault::kMissingAtNode: {
      const NodeId where = Chance(50) ? National() : insured_province;
      Execute(where, absl::StrCat("DELETE FROM settlement_record WHERE settlement_id = '", id,
                                  "'"));
      expected_.push_back({fault, today, National(), id, yidi::v1::DIFFERENCE_KIND_MISSING});
      break;
    }
    case Fault::kAmountDiffers:
      Execute(National(), absl::StrCat("UPDATE settlement_record SET total_fen = total_fen + 100, "
                                       "fund_total_fen = fund_total_fen + 100, pooled_fund_fen = "
                                       "pooled_fund_fen + 100 WHERE settlement_id = '", id, "'"));
      expected_.push_back({fault, today, National(), id,
                           yidi::v1::DIFFERENCE_KIND_AMOUNTS_DIFFER});
      break;
    case Fault::kReversedOneSide: {
      mesh_->clock().Advance(absl::Minutes(30));
      auto reversal = Reverse(event, request.visit().institution_code());
      ASSERT_TRUE(reversal.ok()) << reversal.status();
      Event negative = event;
      negative.settlement_id = reversal->settlement_id();
      negative.original_id = id;
      negative.owed_fen = reversal->fund_total_fen() + reversal->personal_account_fen();
      negative.total_fen = reversal->total_fen();
      negative.fund_fen = reversal->fund_total_fen();
      negative.account_fen = reversal->personal_account_fen();
      negative.day = reversal->settlement_date();
      negative.month = reversal->settlement_date().substr(0, 7);
      EXPECT_EQ(negative.owed_fen, -event.owed_fen);
      events_.push_back(negative);
      reversed_.insert(id);
      institution_[negative.settlement_id] = institution_[id];
      Execute(insured_province, absl::StrCat("DELETE FROM settlement_record WHERE settlement_id = '",
                                             negative.settlement_id, "'"));
      Execute(insured_province, absl::StrCat("UPDATE settlement_record SET state = 2 WHERE "
                                             "settlement_id = '", id, "'"));
      expected_.push_back({fault, today, National(), id,
                           yidi::v1::DIFFERENCE_KIND_REVERSED_ONE_SIDE});
      expected_.push_back({fault, today, National(), negative.settlement_id,
                           yidi::v1::DIFFERENCE_KIND_REVERSED_ONE_SIDE});
      break;
    }
    case Fault::kIntraMissing:
      Execute(Provincial("360000"), absl::StrCat("DELETE FROM settlement_record WHERE "
                                                 "settlement_id = '", id, "'"));
      expected_.push_back({fault, today, Provincial("360000"), id,
                           yidi::v1::DIFFERENCE_KIND_MISSING});
      break;
    case Fault::kOwnerUnreachable:
      // Every relay lost the answer; the owner committed it. The owner is stopped before
      // national's run tonight (ReconcileNight) and back before the provinces run.
      for (const NodeId& node : PathOf(event.insured, event.treatment)) {
        if (node == Municipal(event.insured)) continue;
        MarkInDoubt(node, id);
      }
      open_day_ = today;
      expected_.push_back({fault, today, National(), id, yidi::v1::DIFFERENCE_KIND_IN_DOUBT});
      expected_.push_back({fault, today, treatment_province, id,
                           yidi::v1::DIFFERENCE_KIND_IN_DOUBT});
      expected_.push_back({fault, today, insured_province, id,
                           yidi::v1::DIFFERENCE_KIND_IN_DOUBT});
      break;
    case Fault::kLate:
      late_city_ = event.treatment;
      break;
    case Fault::kOwnerDownAtSettle:
    case Fault::kNone:
      break;
  }
}

void MonthSimulation::SimulateDay(absl::CivilDay day) {
  SCOPED_TRACE(absl::StrCat("day ", FormatDate(day)));
  // Refunds due today first (morning), then the day's settlements.
  mesh_->clock().Set(AtCst(day, 8, Uniform(50)));
  for (const std::string& original_id : reversals_due_[FormatDate(day)]) {
    auto it = std::find_if(events_.begin(), events_.end(),
                           [&](const Event& e) { return e.settlement_id == original_id; });
    ASSERT_NE(it, events_.end());
    const Event original = *it;
    auto reversal = Reverse(original, institution_[original_id]);
    ASSERT_TRUE(reversal.ok()) << original_id << ": " << reversal.status();
    Event negative = original;
    negative.settlement_id = reversal->settlement_id();
    negative.original_id = original_id;
    negative.owed_fen = reversal->fund_total_fen() + reversal->personal_account_fen();
    negative.total_fen = reversal->total_fen();
    negative.fund_fen = reversal->fund_total_fen();
    negative.account_fen = reversal->personal_account_fen();
    negative.day = reversal->settlement_date();
    negative.month = reversal->settlement_date().substr(0, 7);
    EXPECT_EQ(negative.owed_fen, -original.owed_fen) << original_id;
    events_.push_back(negative);
    reversed_.insert(original_id);
    institution_[negative.settlement_id] = institution_[original_id];
  }
  const int count = absl::CivilMonth(day) == kMonthM ? 2 + Uniform(3) : Uniform(2);
  auto fault_it = fault_days_.find(day);
  const Fault fault = fault_it == fault_days_.end() ? Fault::kNone : fault_it->second;
  for (int i = 0; i < count || (i == 0 && fault != Fault::kNone); ++i) {
    mesh_->clock().Set(AtCst(day, 9 + i, Uniform(60)));
    // The day's fault falls on its first settlement, of a kind that fits it.
    const bool faulty = i == 0 && fault != Fault::kNone;
    std::vector<const Template*> fitting;
    for (const Template& t : kTemplates) {
      const bool want_cross = !faulty || fault != Fault::kIntraMissing;
      if (!faulty || t.cross == want_cross) fitting.push_back(&t);
    }
    const Template& t = *fitting[Uniform(static_cast<int>(fitting.size()))];
    SettleOne(t, day, faulty ? fault : Fault::kNone);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

void MonthSimulation::ReconcileNight(absl::CivilDay night) {
  // `night` is the calendar day of the runs; they reconcile night − 1 (and re-run open days).
  const std::string reconciled = FormatDate(night - 1);
  const bool owner_away = reconciled == open_day_;
  std::optional<NodeId> owner;
  if (owner_away) {
    for (const Expected& e : expected_) {
      if (e.fault != Fault::kOwnerUnreachable) continue;
      for (const Event& event : events_) {
        if (event.settlement_id == e.settlement_id) owner = Municipal(event.insured);
      }
    }
    ASSERT_TRUE(owner.has_value());
    mesh_->clock().Set(AtCst(night, 1, 30));
    ASSERT_TRUE(mesh_->StopNode(*owner).ok());
  }
  mesh_->clock().Set(AtCst(night, 2));
  national_scheduler_->RunDue();
  if (owner_away) {
    mesh_->clock().Set(AtCst(night, 3));
    ASSERT_TRUE(mesh_->RestartNode(*owner).ok());
  }
  mesh_->clock().Set(AtCst(night, 4));
  for (auto& [province, scheduler] : province_schedulers_) scheduler->RunDue();
  // Keep every report of the day reconciled tonight, as first seen (the OPEN one included).
  for (const NodeId& node : {National(), Provincial("500000"), Provincial("360000"),
                             Provincial("210000")}) {
    yidi::v1::GetReconciliationReportRequest request;
    request.set_day(reconciled);
    yidi::v1::ReconciliationReport report;
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    grpc::Status status = yidi::v1::ReconciliationService::NewStub(Channel(node))
                              ->GetReconciliationReport(&context, request, &report);
    ASSERT_TRUE(status.ok()) << NameOf(node) << " " << reconciled << ": "
                             << status.error_message();
    reports_.emplace(std::make_pair(NameOf(node), reconciled), report);
  }
}

void MonthSimulation::RecordDeductions(absl::CivilDay day) {
  // One deduction per issuer on a pair the ledger has in M, at most a tenth of what it owes.
  auto record = [&](const std::string& issuer, bool cross, const std::string& applies_in,
                    const std::string& id) {
    std::map<CellKey, int64_t> owed;
    for (const Event& e : events_) {
      if (e.cross() == cross && e.month == kMonth && e.treatment != late_city_) {
        owed[{e.insured, e.treatment, e.resident}] += e.owed_fen;
      }
    }
    std::vector<CellKey> cells;
    for (const auto& [cell, fen] : owed) {
      if (fen >= 1000) cells.push_back(cell);
    }
    ASSERT_FALSE(cells.empty()) << "no pair to deduct from";
    const CellKey cell = cells[Uniform(static_cast<int>(cells.size()))];
    const int64_t fen =
        100 + Uniform(static_cast<int>(std::min<int64_t>(owed[cell] / 10 - 99, 5000)));
    yidi::v1::RecordDeductionRequest request;
    auto& deduction = *request.mutable_deduction();
    deduction.set_deduction_id(id);
    deduction.set_clearing_month(kMonth);
    const auto& [insured, treatment, resident] = cell;
    deduction.set_insured_region(insured);
    deduction.set_treatment_region(treatment);
    deduction.set_insurance_type(resident ? yidi::v1::INSURANCE_TYPE_RESIDENT
                                          : yidi::v1::INSURANCE_TYPE_EMPLOYEE);
    deduction.mutable_amounts()->set_pooled_fund_fen(fen);
    deduction.mutable_amounts()->set_total_fen(fen);
    deduction.set_reason("超标准收费");
    const NodeId node = issuer == "000000" ? National() : Provincial(issuer);
    for (int attempt = 0; attempt < 2; ++attempt) {  // a retried call replays
      grpc::ClientContext context;
      context.set_deadline(DeadlineIn(kCallDeadline));
      yidi::v1::RecordDeductionResponse response;
      grpc::Status status = yidi::v1::AuditService::NewStub(Channel(node))
                                ->RecordDeduction(&context, request, &response);
      ASSERT_TRUE(status.ok()) << id << ": " << status.error_message();
    }
    deductions_.push_back({issuer, insured, treatment, resident, fen, applies_in});
  };
  mesh_->clock().Set(AtCst(day, 16));
  if (absl::CivilMonth(day) == kMonthM) {
    record("000000", true, kMonth, absl::StrCat("SIM-", seed_, "-N1"));
    record("360000", false, kMonth, absl::StrCat("SIM-", seed_, "-J1"));
  } else {
    record("000000", true, kNextMonth, absl::StrCat("SIM-", seed_, "-N2"));
  }
}

void MonthSimulation::ConfirmInstitutionDays(absl::CivilDay today) {
  // Each institution sends each past day's totals (3201) once its records are final: what the
  // simulation's ledger says it settled at its treatment city (settlements and reversals of the
  // day, reversals negative; originals reversed later still count on their own day). A day
  // that does not match (its city still holds a record in doubt) is sent again the next day.
  std::map<std::tuple<std::string, std::string, std::string>, std::array<int64_t, 4>> totals;
  for (const Event& e : events_) {
    if (e.day >= FormatDate(today)) continue;
    auto& t = totals[{e.treatment, e.institution, e.day}];
    t[0] += 1;
    t[1] += e.total_fen;
    t[2] += e.fund_fen;
    t[3] += e.account_fen;
  }
  for (const auto& [key, t] : totals) {
    if (confirmed_days_.count(key) > 0) continue;
    const auto& [city, institution, day] = key;
    yidi::v1::SubmitInstitutionDayTotalsRequest request;
    request.set_request_id(absl::StrCat(institution, "-3201-", day, "-", FormatDate(today)));
    request.set_institution_code(institution);
    request.set_day(day);
    request.set_count(t[0]);
    request.set_total_fen(t[1]);
    request.set_fund_total_fen(t[2]);
    request.set_personal_account_fen(t[3]);
    yidi::v1::SubmitInstitutionDayTotalsResponse response;
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    grpc::Status status =
        yidi::v1::ReconciliationService::NewStub(
            mesh_->ChannelAs(Municipal(city), absl::StrCat("yidi://institution/", institution)))
            ->SubmitInstitutionDayTotals(&context, request, &response);
    ASSERT_TRUE(status.ok()) << institution << " " << day << ": " << status.error_message();
    if (response.matched()) {
      EXPECT_EQ(response.confirmed(), t[0]);
      confirmed_days_.insert(key);
    } else {
      ++unconfirmed_submissions_;
    }
  }
}

void MonthSimulation::DeclareClaims(const std::string& city, const std::string& month) {
  yidi::v1::DeclareClaimsRequest request;
  request.set_clearing_month(month);
  yidi::v1::DeclareClaimsResponse response;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kCallDeadline));
  grpc::Status status = yidi::v1::ClearingService::NewStub(Channel(Municipal(city)))
                            ->DeclareClaims(&context, request, &response);
  ASSERT_TRUE(status.ok()) << "municipal " << city << " declares " << month << ": "
                           << status.error_message();
  for (const auto& claim : response.batch().claims()) {
    EXPECT_EQ(claim.withheld_settlement_ids_size(), 0)
        << "every day was confirmed: " << claim.DebugString();
  }
}

void MonthSimulation::ForwardClaims(const std::string& province, const std::string& month) {
  yidi::v1::ForwardClaimsRequest request;
  request.set_clearing_month(month);
  yidi::v1::ForwardClaimsResponse response;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kCallDeadline));
  grpc::Status status = yidi::v1::ClearingService::NewStub(Channel(Provincial(province)))
                            ->ForwardClaims(&context, request, &response);
  ASSERT_TRUE(status.ok()) << "provincial " << province << " forwards " << month << ": "
                           << status.error_message();
}

void MonthSimulation::SubmitClaims(const std::string& month, const std::string& skip_city) {
  // The claim step (docs/CLEARING.md "Claims"): every treatment city declares the month from
  // its institution-confirmed settlements; each province freezes its cities' cross-province
  // claims and submits them to national. `skip_city` declares late (DeclareLate).
  for (const char* city : {"500000", "360100", "360700", "210100"}) {
    if (city == skip_city) continue;
    DeclareClaims(city, month);
    if (::testing::Test::HasFatalFailure()) return;
  }
  for (const char* province : {"500000", "360000", "210000"}) ForwardClaims(province, month);
}

yidi::v1::Clearing MonthSimulation::RunClearing(const NodeId& node, const std::string& month) {
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(absl::Seconds(30)));
  yidi::v1::RunClearingRequest request;
  request.set_clearing_month(month);
  yidi::v1::RunClearingResponse response;
  grpc::Status status = yidi::v1::ClearingService::NewStub(Channel(node))
                            ->RunClearing(&context, request, &response);
  EXPECT_TRUE(status.ok()) << NameOf(node) << " " << month << ": " << status.error_message();
  return response.clearing();
}

void MonthSimulation::BuildMonth(const std::string& month) {
  SCOPED_TRACE(absl::StrCat("building ", month));
  for (const NodeId& node : {National(), Provincial("360000")}) {
    const yidi::v1::Clearing built = RunClearing(node, month);
    EXPECT_EQ(built.state(), yidi::v1::CLEARING_STATE_BUILT) << NameOf(node);
    CheckClearing(node, built, month);
  }
  // Jiangxi confirms at national (twice: a retried reply replays); the rest say nothing.
  for (int attempt = 0; attempt < 2; ++attempt) {
    yidi::v1::ReplyClearingRequest request;
    request.set_clearing_month(month);
    request.set_region("360000");
    request.set_kind(yidi::v1::CLEARING_REPLY_KIND_CONFIRMED);
    request.set_reply_id(absl::StrCat("SIM-", month, "-JX"));
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    yidi::v1::ReplyClearingResponse response;
    grpc::Status status = yidi::v1::ClearingService::NewStub(Channel(National()))
                              ->ReplyClearing(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.replayed(), attempt > 0);
  }
}

void MonthSimulation::IssueNotices(const std::string& month) {
  SCOPED_TRACE(absl::StrCat("notices of ", month));
  for (const NodeId& node : {National(), Provincial("360000")}) {
    const yidi::v1::Clearing issued = RunClearing(node, month);
    EXPECT_EQ(issued.state(), yidi::v1::CLEARING_STATE_NOTICES_ISSUED) << NameOf(node);
    CheckClearing(node, issued, month);
    CheckObligations(node, month);
  }
}

void MonthSimulation::Run() {
  SCOPED_TRACE(absl::StrCat("seed ", seed_, " (replay: YIDI_SIMULATION_SEED=", seed_, ")"));
  PrepareTemplates();
  if (::testing::Test::HasFatalFailure()) return;
  PlanFaults();

  national_reconciler_ = std::make_unique<Reconciler>(mesh_->Context(National()));
  national_scheduler_ = std::make_unique<ReconciliationScheduler>(mesh_->Context(National()),
                                                                  national_reconciler_.get());
  for (const char* province : {"500000", "360000", "210000"}) {
    NodeContext* context = mesh_->Context(Provincial(province));
    province_reconcilers_[province] = std::make_unique<Reconciler>(context);
    province_schedulers_[province] = std::make_unique<ReconciliationScheduler>(
        context, province_reconcilers_[province].get());
  }

  // M and M+1, day by day; each night reconciles the day before (the last night, the 1st of
  // M+2, reconciles the last day of M+1).
  for (absl::CivilDay day = DayOf(kMonthM, 2); day <= DayOf(kMonthAfter, 1); ++day) {
    ReconcileNight(day);
    if (::testing::Test::HasFatalFailure()) return;
    mesh_->clock().Set(AtCst(day, 5));
    ConfirmInstitutionDays(day);
    if (::testing::Test::HasFatalFailure()) return;
    if (day == DayOf(kMonthM, 2)) {
      // Every treatment city has declared before (the month before M, empty): from now on its
      // pairs are cleared on its claims only.
      SubmitClaims(FormatMonth(kMonthM - 1));
    }
    if (day == DayOf(kMonthNext, 15)) {
      // kLate's treatment city misses the freeze of M: its cross-province claims of M are
      // assigned to M+1 (a late declaration), its rows of M wait pending at national.
      ASSERT_FALSE(late_city_.empty());
      SubmitClaims(kMonth, late_city_);
      for (Event& e : events_) {
        if (e.treatment == late_city_ && e.cross() && e.month == kMonth) e.late = true;
      }
    }
    if (day == DayOf(kMonthNext, 17)) DeclareClaims(late_city_, kMonth);
    if (day == DayOf(kMonthNext, 21)) {
      BuildMonth(kMonth);
      if (::testing::Test::HasFatalFailure()) return;
    }
    if (day == DayOf(kMonthNext, 27)) {
      // Past confirm_by (the 25th, or the next working day): silence confirmed, the notices
      // are issued.
      mesh_->clock().Set(AtCst(day, 5));
      IssueNotices(kMonth);
      if (::testing::Test::HasFatalFailure()) return;
    }
    if (absl::CivilMonth(day) == kMonthAfter) break;
    SimulateDay(day);
    if (::testing::Test::HasFatalFailure()) return;
    if (day == DayOf(kMonthM, 28)) RecordDeductions(day);
    // Recorded after M was built: enters the next clearing built (M+1's).
    if (day == DayOf(kMonthNext, 22)) RecordDeductions(day);
    if (::testing::Test::HasFatalFailure()) return;
  }
  CheckDifferencesFound();
  CheckPathsAgree();
  if (::testing::Test::HasFatalFailure()) return;
  mesh_->clock().Set(AtCst(DayOf(kMonthAfter, 15), 5));
  SubmitClaims(kNextMonth);
  if (::testing::Test::HasFatalFailure()) return;
  mesh_->clock().Set(AtCst(DayOf(kMonthAfter, 21), 5));
  BuildMonth(kNextMonth);
  mesh_->clock().Set(AtCst(DayOf(kMonthAfter, 28), 5));
  IssueNotices(kNextMonth);

  int settlements = 0, reversals = 0, cross = 0, resident = 0, reports_with_differences = 0;
  int late = 0;
  for (const Event& e : events_) {
    late += e.late ? 1 : 0;
    (e.original_id.empty() ? settlements : reversals) += 1;
    cross += e.cross() ? 1 : 0;
    resident += e.resident ? 1 : 0;
  }
  for (const auto& [key, report] : reports_) reports_with_differences += report.differences_size() > 0;
  std::printf("month simulation: seed %llu: %d settlements, %d reversals (%d cross-province, %d "
              "resident), %zu never committed, %zu differences expected in %d reports, "
              "%zu deductions, %d late from municipal %s, %zu institution days confirmed "
              "(%d submissions sent again), %d hospital retries\n",
              static_cast<unsigned long long>(seed_), settlements, reversals, cross, resident,
              voided_.size(), expected_.size(), reports_with_differences, deductions_.size(),
              late, late_city_.c_str(), confirmed_days_.size(), unconfirmed_submissions_,
              retries_);
  EXPECT_GT(late, 0);
  // The simulation is not vacuous: every kind of fault happened.
  EXPECT_EQ(fault_days_.size(), 8u);
  EXPECT_GE(expected_.size(), 12u);
  EXPECT_GT(reversals, 0);
  EXPECT_GT(resident, 0);
}

// ---------------------------------------------------------------------------------------------
// Checks.

void MonthSimulation::CheckDifferencesFound() {
  SCOPED_TRACE("differences");
  auto latest_report = [&](const NodeId& node, const std::string& day) {
    yidi::v1::GetReconciliationReportRequest request;
    request.set_day(day);
    yidi::v1::ReconciliationReport latest;
    grpc::ClientContext context;
    context.set_deadline(DeadlineIn(kCallDeadline));
    grpc::Status status = yidi::v1::ReconciliationService::NewStub(Channel(node))
                              ->GetReconciliationReport(&context, request, &latest);
    EXPECT_TRUE(status.ok()) << NameOf(node) << " " << day << ": " << status.error_message();
    return latest;
  };
  for (const Expected& e : expected_) {
    SCOPED_TRACE(absl::StrCat(FaultName(e.fault), " ", e.settlement_id, " on ", e.day, " at ",
                              NameOf(e.runner)));
    // Found and classified by the night's run.
    auto it = reports_.find({NameOf(e.runner), e.day});
    ASSERT_NE(it, reports_.end());
    const yidi::v1::ReconciliationReport& first = it->second;
    const yidi::v1::ReconciliationDifference* found = nullptr;
    for (const auto& d : first.differences()) {
      if (d.settlement_id() == e.settlement_id) found = &d;
    }
    ASSERT_NE(found, nullptr) << first.DebugString();
    EXPECT_EQ(found->kind(), e.kind) << found->DebugString();
    if (e.fault == Fault::kOwnerUnreachable && e.runner == National()) {
      // Meant to stay open that night: nobody on the path knows and the owner does not answer.
      EXPECT_EQ(first.status(), yidi::v1::RUN_STATUS_OPEN) << first.DebugString();
      EXPECT_FALSE(found->resolved());
      EXPECT_EQ(first.differences_open(), 1);
    }
    // Resolved: by that run or, when a node was not reachable yet, by a later night's re-run.
    const yidi::v1::ReconciliationReport latest = latest_report(e.runner, e.day);
    EXPECT_EQ(latest.status(), yidi::v1::RUN_STATUS_BALANCED) << latest.DebugString();
    for (const auto& d : latest.differences()) {
      if (d.settlement_id() == e.settlement_id) EXPECT_TRUE(d.resolved()) << d.resolution();
    }
    if (e.fault == Fault::kOwnerUnreachable && e.runner == National()) {
      EXPECT_GE(latest.attempts(), 2);
    }
  }
  // Nothing else differed: every difference reported is one the simulation made, and every day
  // at every node ends balanced.
  std::set<std::string> made;
  for (const Expected& e : expected_) made.insert(e.settlement_id);
  for (const auto& [key, report] : reports_) {
    for (const auto& d : report.differences()) {
      EXPECT_TRUE(made.count(d.settlement_id()) > 0)
          << key.first << " " << key.second << ": unexpected " << d.DebugString();
    }
  }
  for (const auto& [key, report] : reports_) {
    const std::string& node_name = key.first;
    NodeId node = National();
    for (const NodeId& candidate : mesh_->Nodes()) {
      if (NameOf(candidate) == node_name) node = candidate;
    }
    EXPECT_EQ(latest_report(node, key.second).status(), yidi::v1::RUN_STATUS_BALANCED)
        << node_name << " " << key.second;
  }
}

void MonthSimulation::CheckPathsAgree() {
  SCOPED_TRACE("paths agree");
  std::map<std::string, const Event*> by_id;
  for (const Event& e : events_) by_id[e.settlement_id] = &e;
  for (const Event& e : events_) {
    const bool reversed = reversed_.count(e.settlement_id) > 0;
    for (const NodeId& node : PathOf(e.insured, e.treatment)) {
      auto record = mesh_->GetSettlement(node, e.settlement_id);
      ASSERT_TRUE(record.ok()) << e.settlement_id << " at " << NameOf(node) << ": "
                               << record.status();
      EXPECT_EQ(record->state(), reversed ? yidi::v1::SETTLEMENT_STATE_REVERSED
                                          : yidi::v1::SETTLEMENT_STATE_SETTLED)
          << e.settlement_id << " at " << NameOf(node);
      EXPECT_EQ(record->result().fund_total_fen() + record->result().personal_account_fen(),
                e.owed_fen)
          << e.settlement_id << " at " << NameOf(node);
      EXPECT_EQ(record->result().total_fen(), e.total_fen)
          << e.settlement_id << " at " << NameOf(node);
    }
  }
  // Every counted record carries the owner's insurance type: the clearing files each row under
  // 职工 or 居民 by that column. (A relay records a Reverse before the owner answers, without
  // the type; the owner's result must set it when it arrives.)
  for (const NodeId& node : mesh_->Nodes()) {
    auto tx = mesh_->Context(node)->store->Begin(TransactionMode::kRead);
    ASSERT_TRUE(tx.ok());
    auto rows = (*tx)->Query("SELECT settlement_id FROM settlement_record WHERE state IN (2, 5) "
                             "AND insurance_type = 0 ORDER BY settlement_id");
    ASSERT_TRUE(rows.ok()) << rows.status();
    EXPECT_TRUE(rows->empty())
        << NameOf(node) << " counts " << rows->size() << " record(s) without insurance_type, e.g. "
        << rows->front().Text(0)
        << ": the clearing files them under 职工 whatever the scheme (UpdateSettlementRecord "
           "does not copy result.insurance_type into the column)";
  }
  for (const std::string& id : voided_) {
    // The owner never committed it: VOIDED wherever a record exists.
    for (const NodeId& node : mesh_->Nodes()) {
      auto record = mesh_->GetSettlement(node, id);
      if (!record.ok()) continue;
      EXPECT_EQ(record->state(), yidi::v1::SETTLEMENT_STATE_VOIDED) << id << " at " << NameOf(node);
    }
  }
}

void MonthSimulation::CheckClearing(const NodeId& node, const yidi::v1::Clearing& clearing,
                                    const std::string& month) {
  SCOPED_TRACE(absl::StrCat(NameOf(node), " clearing ", month));
  NodeContext* context = mesh_->Context(node);
  ASSERT_NE(context, nullptr);
  const ClearingNode clearing_node = ClearingNodeOf(*context);
  const absl::Status conserved = CheckConservation(clearing, clearing_node);
  EXPECT_TRUE(conserved.ok()) << conserved;
  const bool national = node == National();

  // The simulation's own figures: what each cell must hold.
  struct Figures {
    int64_t count = 0, covered = 0, deducted = 0;
  };
  std::map<CellKey, Figures> expected;
  for (const Event& e : events_) {
    if (e.cross() != national) continue;
    if (!national && ProvinceOf(e.insured) != node.region) continue;
    const bool in_month = e.late ? month == kNextMonth : e.month == month;
    if (!in_month) continue;
    auto& f = expected[{e.insured, e.treatment, e.resident}];
    ++f.count;
    f.covered += e.owed_fen;
  }
  for (const Deduction& d : deductions_) {
    if (d.applies_in != month || (d.issuer == "000000") != national) continue;
    if (!national && d.issuer != node.region) continue;
    expected[{d.insured, d.treatment, d.resident}].deducted += d.fen;
  }
  std::map<CellKey, Figures> actual;
  for (const auto& cell : clearing.cells()) {
    auto& f = actual[{cell.insured_region(), cell.treatment_region(), cell.resident()}];
    f.count += cell.settlement_count();
    f.covered += cell.covered().total_fen();
    f.deducted += cell.deducted().total_fen();
    EXPECT_EQ(cell.net_fen(), cell.covered().total_fen() - cell.deducted().total_fen());
  }
  for (const auto& [key, f] : expected) {
    const auto& [insured, treatment, resident] = key;
    SCOPED_TRACE(absl::StrCat("cell ", insured, " → ", treatment, resident ? " 居民" : " 职工"));
    auto it = actual.find(key);
    if (f.count == 0 && f.covered == 0 && f.deducted == 0) continue;
    ASSERT_NE(it, actual.end());
    EXPECT_EQ(it->second.count, f.count);
    EXPECT_EQ(it->second.covered, f.covered);
    EXPECT_EQ(it->second.deducted, f.deducted);
  }
  for (const auto& [key, f] : actual) {
    if (f.count == 0 && f.covered == 0 && f.deducted == 0) continue;
    EXPECT_TRUE(expected.count(key) > 0)
        << "a cell the simulation never made: " << std::get<0>(key) << " → "
        << std::get<1>(key);
  }
  EXPECT_EQ(clearing.excluded_claims_size(), 0);

  // Σ payables = Σ receivables through the matrix; each matrix region's payable and receivable
  // is the sum of its pooling regions' cells as the simulation computed them.
  int64_t grand = 0;
  for (const auto& [key, f] : expected) grand += f.covered - f.deducted;
  std::map<std::string, int64_t> payable, receivable;
  for (const auto& [receiver, row] : ClearingMatrix(clearing, clearing_node)) {
    for (const auto& [payer, fen] : row) {
      payable[payer] += fen;
      receivable[receiver] += fen;
    }
  }
  int64_t payables = 0, receivables = 0;
  for (const auto& [region, fen] : payable) payables += fen;
  for (const auto& [region, fen] : receivable) receivables += fen;
  EXPECT_EQ(payables, receivables);
  EXPECT_EQ(payables, grand);
  std::map<std::string, int64_t> expected_payable, expected_receivable;
  for (const auto& [key, f] : expected) {
    const auto& [insured, treatment, resident] = key;
    expected_payable[national ? ProvinceOf(insured) : insured] += f.covered - f.deducted;
    expected_receivable[national ? ProvinceOf(treatment) : treatment] += f.covered - f.deducted;
  }
  for (const auto& [region, fen] : expected_payable) {
    EXPECT_EQ(payable[region], fen) << "payable of " << region;
  }
  for (const auto& [region, fen] : expected_receivable) {
    EXPECT_EQ(receivable[region], fen) << "receivable of " << region;
  }
}

void MonthSimulation::CheckObligations(const NodeId& node, const std::string& month) {
  SCOPED_TRACE(absl::StrCat(NameOf(node), " obligations ", month));
  const bool national = node == National();
  // The matrix-level nets the simulation expects: a positive net flows insured → treatment, a
  // negative one back (reverse clearing).
  std::map<std::pair<std::string, std::string>, int64_t> nets;
  for (const Event& e : events_) {
    if (e.cross() != national) continue;
    if (!national && ProvinceOf(e.insured) != node.region) continue;
    const bool in_month = e.late ? month == kNextMonth : e.month == month;
    if (!in_month) continue;
    nets[{national ? ProvinceOf(e.insured) : e.insured,
          national ? ProvinceOf(e.treatment) : e.treatment}] += e.owed_fen;
  }
  for (const Deduction& d : deductions_) {
    if (d.applies_in != month || (d.issuer == "000000") != national) continue;
    if (!national && d.issuer != node.region) continue;
    nets[{national ? ProvinceOf(d.insured) : d.insured,
          national ? ProvinceOf(d.treatment) : d.treatment}] -= d.fen;
  }
  // payer, receiver, returned ("*": reverse clearing) → fen; the two directions of a pair are
  // separate obligations (按月全额, not netted).
  std::map<std::tuple<std::string, std::string, bool>, int64_t> expected;
  for (const auto& [pair, net] : nets) {
    if (net > 0) expected[{pair.first, pair.second, false}] += net;
    if (net < 0) expected[{pair.second, pair.first, true}] += -net;
  }
  yidi::v1::ListObligationsRequest request;
  yidi::v1::ListObligationsResponse response;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(kCallDeadline));
  ASSERT_TRUE(yidi::v1::PrepaymentService::NewStub(Channel(node))
                  ->ListObligations(&context, request, &response)
                  .ok());
  std::map<std::tuple<std::string, std::string, bool>, int64_t> actual;
  std::vector<yidi::v1::TransferObligation> uses;  // obligations that use a prepayment
  for (const auto& obligation : response.obligations()) {
    if (obligation.notice_kind() != yidi::v1::NOTICE_KIND_CLEARING) continue;
    if (obligation.clearing_month() != month) continue;
    actual[{obligation.payer_region(), obligation.receiver_region(), obligation.returned()}] +=
        obligation.amount_fen();
    if (!obligation.returned()) uses.push_back(obligation);
  }
  EXPECT_EQ(actual, expected);
  // The usage reports the notices fed: one per obligation that uses the payer's prepayment
  // (a return uses none), for its amount.
  std::set<std::string> payers;
  for (const auto& obligation : uses) payers.insert(obligation.payer_region());
  std::map<std::string, const yidi::v1::UsageReport*> by_obligation;
  std::vector<yidi::v1::GetUsageResponse> usages(payers.size());
  size_t next = 0;
  for (const std::string& payer : payers) {
    yidi::v1::GetUsageRequest usage_request;
    usage_request.set_year(2026);
    usage_request.set_region(payer);
    grpc::ClientContext usage_context;
    usage_context.set_deadline(DeadlineIn(kCallDeadline));
    yidi::v1::GetUsageResponse& usage = usages[next++];
    ASSERT_TRUE(yidi::v1::PrepaymentService::NewStub(Channel(node))
                    ->GetUsage(&usage_context, usage_request, &usage)
                    .ok());
    for (const auto& report : usage.reports()) {
      by_obligation[report.clearing_obligation_id()] = &report;
    }
  }
  for (const auto& obligation : uses) {
    auto it = by_obligation.find(obligation.obligation_id());
    ASSERT_NE(it, by_obligation.end()) << "no usage report for " << obligation.DebugString();
    EXPECT_EQ(it->second->clearing_fen(), obligation.amount_fen());
    EXPECT_EQ(it->second->clearing_month(), month);
    EXPECT_EQ(it->second->payer_region(), obligation.payer_region());
    EXPECT_EQ(it->second->receiver_region(), obligation.receiver_region());
  }
}

// ---------------------------------------------------------------------------------------------

std::vector<uint64_t> Seeds() {
  if (const char* one = std::getenv("YIDI_SIMULATION_SEED"); one != nullptr && *one != '\0') {
    return {std::strtoull(one, nullptr, 10)};
  }
  return std::vector<uint64_t>(std::begin(kDefaultSeeds), std::end(kDefaultSeeds));
}

class MonthSimulationTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(MonthSimulationTest, EveryDifferenceIsFoundAndTheClearingBalances) {
  const uint64_t seed = GetParam();
  std::printf("month simulation: seed %llu (replay: YIDI_SIMULATION_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  InProcessMesh::Options options;
  options.now = AtCst(DayOf(kMonthM, 1), 8);
  auto mesh = InProcessMesh::Start(options);
  ASSERT_TRUE(mesh.ok()) << mesh.status();
  MonthSimulation simulation(seed, mesh->get());
  simulation.Run();
}

INSTANTIATE_TEST_SUITE_P(Seeds, MonthSimulationTest, ::testing::ValuesIn(Seeds()),
                         [](const ::testing::TestParamInfo<uint64_t>& info) {
                           return absl::StrCat("seed_", info.param);
                         });

}  // namespace
}  // namespace yidi::testing
