#include "municipal/insured_settlement.h"

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/digest.h"
#include "common/id_number.h"
#include "common/log.h"
#include "common/settlement_record.h"
#include "common/settlement_validation.h"
#include "common/status_macros.h"
#include "municipal/accumulators.h"
#include "municipal/catalogue.h"
#include "municipal/eligibility.h"
#include "municipal/insured_registry.h"
#include "municipal/policy_engine.h"
#include "municipal/settlement_links.h"

namespace yidi::municipal {
namespace {

using yidi::v1::SettlementState;

void NegateSplit(yidi::v1::FeeSplit* split) {
  split->set_total_fen(-split->total_fen());
  split->set_in_scope_fen(-split->in_scope_fen());
  split->set_class_b_copay_fen(-split->class_b_copay_fen());
  split->set_over_cap_fen(-split->over_cap_fen());
  split->set_self_pay_fen(-split->self_pay_fen());
}

int AgeOn(absl::string_view birth_date, absl::CivilDay day) {
  auto birth = ParseDate(birth_date);
  if (!birth.ok()) return 0;
  int age = static_cast<int>(day.year() - birth->year());
  if (day.month() < birth->month() || (day.month() == birth->month() && day.day() < birth->day())) {
    --age;
  }
  return age < 0 ? 0 : age;
}

// The settlement's identity part (patient, stay), shared by PreSettle and Settle.
void FillIdentity(const yidi::v1::SettleRequest& request, const yidi::v1::PersonRecord& person,
                  absl::CivilDay admission, absl::CivilDay discharge,
                  yidi::v1::SettlementResult* result) {
  const auto& visit = request.visit();
  const auto& bill = request.classified_bill();
  result->set_settlement_id(request.settlement_id());
  result->set_kind(yidi::v1::SETTLEMENT_KIND_NORMAL);
  result->set_id_number(request.id_number());
  result->set_name(person.name());
  result->set_sex(person.sex());
  result->set_age(AgeOn(person.birth_date(), admission));
  result->set_insured_region(request.insured_region());
  result->set_insurance_type(request.insurance_type());
  result->set_person_type(person.person_type());
  result->set_treatment_region(request.treatment_region());
  result->set_institution_code(visit.institution_code());
  result->set_institution_name(bill.institution_name());
  result->set_hospital_level(bill.hospital_level());
  result->set_medical_type(visit.medical_type());
  result->set_admission_number(visit.admission_number());
  result->set_department(visit.department());
  *result->mutable_diagnosis_codes() = visit.diagnosis_codes();
  result->set_admission_date(FormatDate(admission));
  result->set_discharge_date(FormatDate(discharge));
  result->set_inpatient_days(
      IsInpatient(visit.medical_type()) ? std::max<int>(1, static_cast<int>(discharge - admission))
                                        : 0);
  result->set_total_fen(bill.split().total_fen());
  result->set_in_scope_fen(bill.split().in_scope_fen());
  result->set_class_b_copay_fen(bill.split().class_b_copay_fen());
  result->set_over_cap_fen(bill.split().over_cap_fen());
  result->set_self_pay_fen(bill.split().self_pay_fen());
  *result->mutable_fee_categories() = bill.fee_categories();
  *result->mutable_lines() = bill.lines();
}

// The accumulator changes of an outcome, for ApplyAccumulatorChanges.
std::vector<AccumulatorChange> ChangesOf(const yidi::v1::SettleRequest& request,
                                         const PolicyOutcome& outcome) {
  std::vector<AccumulatorChange> changes;
  changes.reserve(outcome.accumulator_deltas.size());
  for (const AccumulatorDelta& delta : outcome.accumulator_deltas) {
    changes.push_back({request.id_number(), request.insurance_type(), delta.year,
                       std::string(delta.name), delta.delta});
  }
  return changes;
}

// 门诊共济: the relative's account a settlement may draw on.
struct FamilyAccount {
  std::string owner_id_number;  // empty = none
  int64_t balance_fen = 0;
};

// The account of the person's 授权人 when the request carries consent and the owner is an
// active employee of this region; none otherwise (the own account and cash pay, as before).
absl::StatusOr<FamilyAccount> LoadFamilyAccount(Transaction& tx,
                                                const yidi::v1::PersonRecord& person,
                                                const yidi::v1::SettleRequest& request) {
  FamilyAccount account;
  if (person.family_account_owner_id_number().empty() || !request.personal_account_consent()) {
    return account;
  }
  ASSIGN_OR_RETURN(auto owner, FindPerson(tx, person.family_account_owner_id_number()));
  if (!owner.has_value() || owner->status() != yidi::v1::INSURED_STATUS_ACTIVE ||
      owner->insurance_type() != yidi::v1::INSURANCE_TYPE_EMPLOYEE) {
    LogInfo("settlement %s: the family account of %s is not usable (owner unknown, inactive or "
            "not an employee)",
            request.settlement_id(), MaskIdNumber(request.id_number()));
    return account;
  }
  account.owner_id_number = owner->id_number();
  account.balance_fen = std::max<int64_t>(0, owner->personal_account_balance_fen());
  return account;
}

// A referred stay and the episode it joins.
struct Referral {
  ReferralEpisode episode;
  int64_t from_deductible_fen = 0;  // what the stay it was referred from applied
};

// The episode named by visit.referral_from_settlement_id: a settled, unreversed inpatient stay
// of the same person, discharged on or before this admission. FAILED_PRECONDITION naming the
// field otherwise; nothing when the field is empty.
absl::StatusOr<std::optional<Referral>> LoadReferral(Transaction& tx,
                                                     const yidi::v1::SettleRequest& request,
                                                     absl::CivilDay admission) {
  const std::string& from = request.visit().referral_from_settlement_id();
  if (from.empty()) return std::optional<Referral>();
  auto refuse = [&](absl::string_view why) {
    return absl::FailedPreconditionError(
        absl::StrCat("visit.referral_from_settlement_id: ", from, " ", why));
  };
  if (from == request.settlement_id()) return refuse("is this settlement itself");
  if (!IsInpatient(request.visit().medical_type())) {
    return refuse("is given for a visit that is not an inpatient stay");
  }
  ASSIGN_OR_RETURN(auto previous, FindSettlementRecord(tx, from));
  if (!previous.has_value() || !previous->result.has_value()) {
    return refuse("is not a settlement of this insured region");
  }
  const yidi::v1::SettlementResult& result = *previous->result;
  if (previous->kind != yidi::v1::SETTLEMENT_KIND_NORMAL ||
      previous->state != SettlementState::SETTLEMENT_STATE_SETTLED) {
    return refuse("is not a settled, unreversed stay");
  }
  if (result.id_number() != request.id_number() ||
      result.insurance_type() != request.insurance_type()) {
    return refuse("belongs to another person or insurance type");
  }
  if (!IsInpatient(result.medical_type())) return refuse("is not an inpatient stay");
  auto discharged = ParseDate(result.discharge_date());
  if (!discharged.ok() || *discharged > admission) {
    return refuse("was discharged after this admission");
  }
  Referral referral;
  referral.from_deductible_fen = result.deductible_applied_fen();
  ASSIGN_OR_RETURN(referral.episode, EpisodeOf(tx, from, referral.from_deductible_fen));
  return std::optional<Referral>(std::move(referral));
}

}  // namespace

void NegateAmounts(yidi::v1::SettlementResult* r) {
  r->set_total_fen(-r->total_fen());
  r->set_in_scope_fen(-r->in_scope_fen());
  r->set_class_b_copay_fen(-r->class_b_copay_fen());
  r->set_over_cap_fen(-r->over_cap_fen());
  r->set_self_pay_fen(-r->self_pay_fen());
  r->set_deductible_applied_fen(-r->deductible_applied_fen());
  r->set_pooled_fund_fen(-r->pooled_fund_fen());
  r->set_large_expense_fen(-r->large_expense_fen());
  r->set_civil_servant_fen(-r->civil_servant_fen());
  r->set_supplementary_fen(-r->supplementary_fen());
  r->set_disabled_veteran_fen(-r->disabled_veteran_fen());
  r->set_critical_illness_fen(-r->critical_illness_fen());
  r->set_medical_assistance_fen(-r->medical_assistance_fen());
  r->set_other_fund_fen(-r->other_fund_fen());
  r->set_fund_total_fen(-r->fund_total_fen());
  r->set_personal_account_fen(-r->personal_account_fen());
  r->set_cash_fen(-r->cash_fen());
  r->set_person_part_fen(-r->person_part_fen());
  r->set_slip_fund_total_fen(-r->slip_fund_total_fen());
  for (auto& payment : *r->mutable_fund_payments()) payment.set_amount_fen(-payment.amount_fen());
  for (auto& category : *r->mutable_fee_categories()) NegateSplit(category.mutable_split());
  for (auto& line : *r->mutable_lines()) NegateSplit(line.mutable_split());
}

InsuredSettlement::InsuredSettlement(NodeContext* context, const PolicySet* policies,
                                     const yidi::v1::FilingRules* filing_rules)
    : context_(context), policies_(policies), filing_rules_(filing_rules) {}

absl::StatusOr<yidi::v1::SettleResponse> InsuredSettlement::Settle(
    const yidi::v1::SettleRequest& request, bool commit) {
  yidi::v1::SettleRequest canonical = request;
  canonical.clear_classified_bill();
  const std::string digest = DigestMessage(canonical);
  ASSIGN_OR_RETURN(auto tx, context_->store->Begin(commit ? TransactionMode::kWrite
                                                          : TransactionMode::kRead));
  yidi::v1::SettleResponse response;
  bool record_exists = false;
  if (commit) {
    ASSIGN_OR_RETURN(auto existing, FindSettlementRecord(*tx, request.settlement_id()));
    if (existing.has_value()) {
      // A voided id stays voided whatever is sent under it (a tombstone has no digest).
      if (existing->state == SettlementState::SETTLEMENT_STATE_VOIDED) {
        return absl::FailedPreconditionError(absl::StrCat(
            "settlement_id: ", request.settlement_id(),
            " was voided by Correct; settle again under a new id"));
      }
      if (existing->request_digest != digest) {
        return absl::AlreadyExistsError(absl::StrCat("settlement_id: ", request.settlement_id(),
                                                     " was already used for a different request"));
      }
      if (existing->result.has_value()) {
        *response.mutable_result() = *existing->result;
        response.mutable_result()->set_state(existing->state);
        response.set_replayed(true);
        return response;
      }
      record_exists = true;  // PENDING or IN_DOUBT at this node: compute and settle now
    }
  }

  ASSIGN_OR_RETURN(absl::CivilDay admission, ParseDate(request.visit().admission_date()));
  absl::CivilDay discharge = admission;
  if (!request.visit().discharge_date().empty()) {
    ASSIGN_OR_RETURN(discharge, ParseDate(request.visit().discharge_date()));
  }
  ASSIGN_OR_RETURN(std::string treatment_pool,
                   context_->directory.PoolingRegionFor(request.treatment_region()));
  // The version in force at discharge, the settlement date of the stay: a stay across a year
  // end settles as one bill at its discharge date (000_65644e9492a1c962.txt 第38条) unless the
  // policy splits it by days (001_3a9ac0cfb3167a7f.txt 第36条).
  ASSIGN_OR_RETURN(const CompiledPolicy* policy,
                   policies_->Find(request.insurance_type(), discharge));
  const auto& remote_care = policy->config().remote_care();

  ASSIGN_OR_RETURN(auto person, FindPerson(*tx, request.id_number()));
  ASSIGN_OR_RETURN(auto filings,
                   yidi::municipal::ListFilings(*tx, request.id_number(), request.insured_region()));
  EligibilityInput eligibility_input;
  eligibility_input.insured_region = context_->identity.region_code;
  eligibility_input.treatment_region = treatment_pool;
  eligibility_input.insurance_type = request.insurance_type();
  eligibility_input.admission_date = admission;
  eligibility_input.discharge_date = discharge;
  eligibility_input.emergency =
      request.visit().emergency() ||
      request.visit().medical_type() == yidi::v1::MEDICAL_TYPE_EMERGENCY_OUTPATIENT ||
      request.visit().medical_type() == yidi::v1::MEDICAL_TYPE_EMERGENCY_INPATIENT;
  eligibility_input.intra_province_filing_required = remote_care.intra_province_filing_required();
  eligibility_input.unfiled_direct_settlement = remote_care.unfiled_direct_settlement();
  eligibility_input.medical_type = request.visit().medical_type();  // filing coverage
  eligibility_input.filing_rules = filing_rules_;
  const Eligibility eligibility = DecideEligibility(eligibility_input, person, filings);
  if (!eligibility.status.ok()) {
    LogInfo("settlement %s refused for %s: %s", request.settlement_id(),
            MaskIdNumber(request.id_number()), eligibility.status.message());
    return eligibility.status;
  }

  // Chronic eligibility is read from the eligibility records in force on the admission date
  // (RULES.md 3.14: the insured region certifies it), not from the person record.
  yidi::v1::PersonRecord patient = *person;
  patient.clear_chronic_disease_codes();
  ASSIGN_OR_RETURN(auto chronic, ChronicDiseasesInForce(*tx, request.id_number(),
                                                        context_->identity.region_code, admission));
  for (std::string& code : chronic) patient.add_chronic_disease_codes(std::move(code));
  ASSIGN_OR_RETURN(FamilyAccount family, LoadFamilyAccount(*tx, *person, request));
  ASSIGN_OR_RETURN(std::optional<Referral> referral, LoadReferral(*tx, request, admission));

  SettlementInput input;
  input.family_account_balance_fen = family.balance_fen;
  if (referral.has_value()) input.episode_deductible_fen = referral->episode.deductible_fen;
  input.bill = BillAmountsOf(request.classified_bill().split());
  input.medical_type = request.visit().medical_type();
  input.hospital_level = request.classified_bill().hospital_level();
  input.remote_care = eligibility.remote_care;
  input.admission_date = admission;
  input.discharge_date = discharge;
  input.chronic_disease_code = request.visit().chronic_disease_code();
  input.personal_account_consent = request.personal_account_consent();
  input.person = &patient;
  input.age_years = AgeOn(person->birth_date(), admission);
  YearlyAccumulators accumulators;
  for (int year : SettlementYears(*policy, input)) {
    ASSIGN_OR_RETURN(accumulators[year], LoadAccumulators(*tx, request.id_number(),
                                                          request.insurance_type(), year));
  }
  ASSIGN_OR_RETURN(PolicyOutcome outcome, ComputeSettlement(*policy, input, accumulators));

  yidi::v1::SettlementResult* result = response.mutable_result();
  FillIdentity(request, *person, admission, discharge, result);
  FillSlipAmounts(outcome, result);
  if (eligibility.filing.has_value()) result->set_filing_category(eligibility.filing->category());
  result->set_deemed_filed(eligibility.deemed_filed);
  const absl::Time now = context_->clock->Now();
  result->set_settled_at(FormatCstTimestamp(now));
  result->set_settlement_date(FormatDate(CstDay(now)));
  result->set_state(commit ? SettlementState::SETTLEMENT_STATE_SETTLED
                           : SettlementState::SETTLEMENT_STATE_UNSPECIFIED);
  YIDI_CHECK(CheckSlipIdentities(*result).ok(), "every computed slip obeys the identities");
  if (!commit) return response;

  // Accumulators and the account move in the transaction that read them: a concurrent
  // settlement of the same person waits for the write lock and reads what this one wrote.
  RETURN_IF_ERROR(
      ApplyAccumulatorChanges(*tx, request.settlement_id(), ChangesOf(request, outcome)));
  RETURN_IF_ERROR(AdjustPersonalAccountBalance(*tx, request.id_number(),
                                               -outcome.personal_account_fen));
  if (outcome.family_account_fen > 0) {
    RETURN_IF_ERROR(RecordFamilyAccountDebit(
        *tx, {request.settlement_id(), family.owner_id_number, request.id_number(),
              outcome.family_account_fen},
        context_->clock->Now()));
  }
  if (referral.has_value()) {
    RETURN_IF_ERROR(JoinEpisode(*tx, referral->episode, request.settlement_id(),
                                request.id_number(), referral->from_deductible_fen,
                                outcome.deductible_applied_fen));
  }
  if (record_exists) {
    RETURN_IF_ERROR(UpdateSettlementRecord(*tx, request.settlement_id(),
                                           SettlementState::SETTLEMENT_STATE_SETTLED, result, now));
  } else {
    SettlementRecord record;
    record.settlement_id = request.settlement_id();
    record.kind = yidi::v1::SETTLEMENT_KIND_NORMAL;
    record.request_digest = digest;
    record.state = SettlementState::SETTLEMENT_STATE_SETTLED;
    record.insured_region = request.insured_region();
    record.treatment_region = request.treatment_region();
    record.institution_code = request.visit().institution_code();
    record.insurance_type = request.insurance_type();
    record.result = *result;
    RETURN_IF_ERROR(InsertSettlementRecord(*tx, record, now));
  }
  RETURN_IF_ERROR(tx->Commit());
  LogInfo("settled %s for %s: total %d fen, funds %d, cash %d", request.settlement_id(),
          MaskIdNumber(request.id_number()), result->total_fen(), result->fund_total_fen(),
          result->cash_fen());
  return response;
}

absl::StatusOr<yidi::v1::SettleResponse> InsuredSettlement::Reverse(
    const yidi::v1::ReverseRequest& request) {
  const std::string digest = DigestMessage(request);
  ASSIGN_OR_RETURN(auto tx, context_->store->Begin(TransactionMode::kWrite));
  yidi::v1::SettleResponse response;
  ASSIGN_OR_RETURN(auto existing, FindSettlementRecord(*tx, request.settlement_id()));
  bool record_exists = false;
  if (existing.has_value()) {
    if (existing->request_digest != digest) {
      return absl::AlreadyExistsError(absl::StrCat("settlement_id: ", request.settlement_id(),
                                                   " was already used for a different request"));
    }
    if (existing->result.has_value()) {
      *response.mutable_result() = *existing->result;
      response.set_replayed(true);
      return response;
    }
    record_exists = true;
  }
  ASSIGN_OR_RETURN(auto original, FindSettlementRecord(*tx, request.original_settlement_id()));
  if (!original.has_value() || !original->result.has_value()) {
    return absl::NotFoundError(absl::StrCat("original_settlement_id: ",
                                            request.original_settlement_id(),
                                            " is not a settlement of region ",
                                            context_->identity.region_code));
  }
  if (original->kind != yidi::v1::SETTLEMENT_KIND_NORMAL) {
    return absl::FailedPreconditionError("original_settlement_id: a reversal cannot be reversed");
  }
  if (original->institution_code != request.institution_code()) {
    return absl::FailedPreconditionError(
        "original_settlement_id: settled by another institution");
  }
  if (original->state != SettlementState::SETTLEMENT_STATE_SETTLED) {
    return absl::FailedPreconditionError(absl::StrCat(
        "original_settlement_id: ", request.original_settlement_id(), " is ",
        yidi::v1::SettlementState_Name(original->state), ", not SETTLED"));
  }
  ASSIGN_OR_RETURN(auto changes, LoadAccumulatorChanges(*tx, request.original_settlement_id()));
  RETURN_IF_ERROR(ApplyAccumulatorChanges(*tx, request.settlement_id(), Negated(changes)));
  // The accounts get back exactly what the original debited: a relative's (门诊共济) what its
  // debit record says, the patient's the rest of the slip's personal account.
  ASSIGN_OR_RETURN(int64_t family_restored,
                   RestoreFamilyAccountDebit(*tx, request.original_settlement_id()));
  RETURN_IF_ERROR(AdjustPersonalAccountBalance(
      *tx, original->result->id_number(),
      original->result->personal_account_fen() - family_restored));
  RETURN_IF_ERROR(LeaveEpisode(*tx, request.original_settlement_id()));

  yidi::v1::SettlementResult* result = response.mutable_result();
  *result = *original->result;
  NegateAmounts(result);
  const absl::Time now = context_->clock->Now();
  result->set_settlement_id(request.settlement_id());
  result->set_kind(yidi::v1::SETTLEMENT_KIND_REVERSAL);
  result->set_original_settlement_id(request.original_settlement_id());
  result->set_state(SettlementState::SETTLEMENT_STATE_SETTLED);
  // A refund counts in the month it happens (003_8507b755cfadb9d9.txt 第42条).
  result->set_settled_at(FormatCstTimestamp(now));
  result->set_settlement_date(FormatDate(CstDay(now)));
  YIDI_CHECK(CheckSlipIdentities(*result).ok(), "a reversal's slip obeys the identities");

  RETURN_IF_ERROR(UpdateSettlementRecord(*tx, request.original_settlement_id(),
                                         SettlementState::SETTLEMENT_STATE_REVERSED, nullptr, now));
  SettlementRecord record;
  record.settlement_id = request.settlement_id();
  record.kind = yidi::v1::SETTLEMENT_KIND_REVERSAL;
  record.original_settlement_id = request.original_settlement_id();
  record.request_digest = digest;
  record.state = SettlementState::SETTLEMENT_STATE_SETTLED;
  record.insured_region = request.insured_region();
  record.treatment_region = request.treatment_region();
  record.institution_code = request.institution_code();
  record.insurance_type = original->insurance_type;
  record.result = *result;
  if (record_exists) {
    RETURN_IF_ERROR(UpdateSettlementRecord(*tx, record.settlement_id,
                                           SettlementState::SETTLEMENT_STATE_SETTLED, result, now));
  } else {
    RETURN_IF_ERROR(InsertSettlementRecord(*tx, record, now));
  }
  RETURN_IF_ERROR(tx->Commit());
  LogInfo("reversed %s by %s", request.original_settlement_id(), request.settlement_id());
  return response;
}

absl::StatusOr<yidi::v1::CorrectResponse> InsuredSettlement::Correct(
    const yidi::v1::CorrectRequest& request) {
  ASSIGN_OR_RETURN(auto tx, context_->store->Begin(TransactionMode::kWrite));
  yidi::v1::CorrectResponse response;
  response.set_settlement_id(request.settlement_id());
  response.set_state(SettlementState::SETTLEMENT_STATE_VOIDED);
  ASSIGN_OR_RETURN(auto existing, FindSettlementRecord(*tx, request.settlement_id()));
  const absl::Time now = context_->clock->Now();
  if (!existing.has_value()) {
    // Never reached us: leave a tombstone so a late copy of the Settle is refused.
    SettlementRecord tombstone;
    tombstone.settlement_id = request.settlement_id();
    tombstone.state = SettlementState::SETTLEMENT_STATE_VOIDED;
    tombstone.insured_region = request.insured_region();
    tombstone.treatment_region = request.treatment_region();
    tombstone.institution_code = request.institution_code();
    RETURN_IF_ERROR(InsertSettlementRecord(*tx, tombstone, now));
    RETURN_IF_ERROR(tx->Commit());
    response.set_was_committed(false);
    return response;
  }
  if (existing->institution_code != request.institution_code()) {
    return absl::FailedPreconditionError("settlement_id: settled by another institution");
  }
  switch (existing->state) {
    case SettlementState::SETTLEMENT_STATE_VOIDED:
      response.set_was_committed(existing->result.has_value());
      return response;  // already corrected: idempotent
    case SettlementState::SETTLEMENT_STATE_SETTLED:
      break;
    default:
      return absl::FailedPreconditionError(
          absl::StrCat("settlement_id: ", request.settlement_id(), " is ",
                       yidi::v1::SettlementState_Name(existing->state),
                       "; only a settled, unreversed settlement can be corrected"));
  }
  if (existing->kind != yidi::v1::SETTLEMENT_KIND_NORMAL) {
    return absl::FailedPreconditionError(
        "settlement_id: a reversal is not corrected; retry it with the same id");
  }
  ASSIGN_OR_RETURN(auto changes, LoadAccumulatorChanges(*tx, request.settlement_id()));
  RETURN_IF_ERROR(ApplyAccumulatorChanges(*tx, absl::StrCat(request.settlement_id(), "#void"),
                                          Negated(changes)));
  if (existing->result.has_value()) {
    ASSIGN_OR_RETURN(int64_t family_restored,
                     RestoreFamilyAccountDebit(*tx, request.settlement_id()));
    RETURN_IF_ERROR(AdjustPersonalAccountBalance(
        *tx, existing->result->id_number(),
        existing->result->personal_account_fen() - family_restored));
    RETURN_IF_ERROR(LeaveEpisode(*tx, request.settlement_id()));
  }
  RETURN_IF_ERROR(UpdateSettlementRecord(*tx, request.settlement_id(),
                                         SettlementState::SETTLEMENT_STATE_VOIDED, nullptr, now));
  RETURN_IF_ERROR(tx->Commit());
  response.set_was_committed(true);
  LogInfo("corrected (voided) %s", request.settlement_id());
  return response;
}

absl::StatusOr<yidi::v1::GetInsuredPersonResponse> InsuredSettlement::GetInsuredPerson(
    const yidi::v1::GetInsuredPersonRequest& request) {
  ASSIGN_OR_RETURN(auto tx, context_->store->Begin(TransactionMode::kRead));
  ASSIGN_OR_RETURN(auto person, FindPerson(*tx, request.id_number()));
  if (!person.has_value()) {
    return absl::NotFoundError(absl::StrCat("id_number: no insured person with this ID number in "
                                            "region ",
                                            context_->identity.region_code));
  }
  ASSIGN_OR_RETURN(auto filings, yidi::municipal::ListFilings(*tx, request.id_number(),
                                                              context_->identity.region_code));
  yidi::v1::GetInsuredPersonResponse response;
  auto* out = response.mutable_person();
  out->set_id_number(person->id_number());
  out->set_name(person->name());
  out->set_sex(person->sex());
  out->set_birth_date(person->birth_date());
  out->set_insured_region(context_->identity.region_code);
  out->set_insurance_type(person->insurance_type());
  out->set_person_type(person->person_type());
  out->set_status(person->status());
  for (const auto& filing : filings) *out->add_filings() = filing;

  absl::CivilDay date = CstDay(context_->clock->Now());
  if (!request.date().empty()) {
    auto parsed = ParseDate(request.date());
    if (!parsed.ok()) return absl::InvalidArgumentError(absl::StrCat("date: ", parsed.status().message()));
    date = *parsed;
  }
  ASSIGN_OR_RETURN(auto chronic, ChronicDiseasesInForce(*tx, request.id_number(),
                                                        context_->identity.region_code, date));
  for (std::string& code : chronic) out->add_chronic_disease_codes(std::move(code));
  out->set_assistance_category(person->assistance_category());
  out->set_civil_servant_subsidy(person->civil_servant_subsidy());
  out->set_disabled_veteran(person->disabled_veteran());
  out->set_supplementary_insurance(person->supplementary_insurance());
  out->set_personal_account_balance_fen(person->personal_account_balance_fen());
  if (!person->family_account_owner_id_number().empty()) {
    out->set_family_account_owner_id_number(person->family_account_owner_id_number());
    ASSIGN_OR_RETURN(auto owner, FindPerson(*tx, person->family_account_owner_id_number()));
    if (owner.has_value()) {
      out->set_family_account_balance_fen(owner->personal_account_balance_fen());
    }
  }
  if (request.treatment_region().empty()) {
    response.set_eligible(person->status() == yidi::v1::INSURED_STATUS_ACTIVE);
    return response;
  }
  auto treatment_pool = context_->directory.PoolingRegionFor(request.treatment_region());
  if (!treatment_pool.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("treatment_region: ", treatment_pool.status().message()));
  }
  auto policy = policies_->Find(person->insurance_type(), date);
  EligibilityInput input;
  input.insured_region = context_->identity.region_code;
  input.treatment_region = *treatment_pool;
  input.insurance_type = person->insurance_type();
  input.admission_date = date;
  input.discharge_date = date;
  input.emergency = request.emergency();
  input.filing_rules = filing_rules_;
  input.intra_province_filing_required =
      policy.ok() ? (*policy)->config().remote_care().intra_province_filing_required() : true;
  input.unfiled_direct_settlement =
      policy.ok() && (*policy)->config().remote_care().unfiled_direct_settlement();
  const Eligibility eligibility = DecideEligibility(input, person, filings);
  response.set_eligible(eligibility.status.ok());
  response.set_eligibility_message(eligibility.status.ok() ? "eligible for direct settlement"
                                                           : std::string(eligibility.status.message()));
  response.set_deemed_filed(eligibility.deemed_filed);
  if (eligibility.filing.has_value()) {
    response.set_filed_for_treatment(true);
    *response.mutable_filing_in_force() = *eligibility.filing;
  }
  return response;
}

absl::StatusOr<yidi::v1::CheckFilingResponse> InsuredSettlement::CheckFiling(
    const yidi::v1::CheckFilingRequest& request) {
  ASSIGN_OR_RETURN(absl::CivilDay date, ParseDate(request.date()));
  auto treatment_pool = context_->directory.PoolingRegionFor(request.treatment_region());
  if (!treatment_pool.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("treatment_region: ", treatment_pool.status().message()));
  }
  ASSIGN_OR_RETURN(auto tx, context_->store->Begin(TransactionMode::kRead));
  ASSIGN_OR_RETURN(auto filings, yidi::municipal::ListFilings(*tx, request.id_number(),
                                                              context_->identity.region_code));
  yidi::v1::CheckFilingResponse response;
  for (auto it = filings.rbegin(); it != filings.rend(); ++it) {
    if (FilingCovers(*it, *treatment_pool, date, date)) {
      response.set_filed(true);
      *response.mutable_filing() = *it;
      break;
    }
  }
  response.set_answered_by(context_->name);
  response.set_as_of(FormatCstTimestamp(context_->clock->Now()));
  return response;
}

absl::StatusOr<yidi::v1::ListFilingsResponse> InsuredSettlement::ListFilings(
    const yidi::v1::ListFilingsRequest& request) {
  ASSIGN_OR_RETURN(auto tx, context_->store->Begin(TransactionMode::kRead));
  ASSIGN_OR_RETURN(auto filings, yidi::municipal::ListFilings(*tx, request.id_number(),
                                                              context_->identity.region_code));
  yidi::v1::ListFilingsResponse response;
  for (auto& filing : filings) *response.add_filings() = std::move(filing);
  return response;
}

}  // namespace yidi::municipal
