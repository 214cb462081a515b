#include "common/payment_suspension.h"

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/directory.h"
#include "common/settlement_validation.h"
#include "common/status_macros.h"
#include "common/transfer_obligations.h"

namespace yidi {
namespace {

}  // namespace

absl::Status CheckPaymentSuspension(Transaction& tx, const NodeContext& context,
                                    absl::string_view region, yidi::v1::SuspensionKind kind,
                                    absl::CivilDay day) {
  if (!context.prepayment_policy.suspension().enabled()) return absl::OkStatus();
  std::vector<std::string> payers = {std::string(region)};
  const std::string province = ProvinceCodeOf(region);
  if (province != region) payers.push_back(province);
  for (const std::string& payer : payers) {
    ASSIGN_OR_RETURN(auto obligations, ListObligations(tx, payer, 0));
    if (obligations.empty()) continue;
    // SuspensionsOf reads "unpaid" from the obligation's state now and the deadline against
    // `day`: suspended on `day` and still unpaid.
    ASSIGN_OR_RETURN(auto suspensions, SuspensionsOf(obligations, payer,
                                                     context.prepayment_policy, context.calendar,
                                                     day));
    RETURN_IF_ERROR(CheckNotSuspended(suspensions, payer, kind));
  }
  return absl::OkStatus();
}

absl::Status CheckAdmissionNotSuspended(const NodeContext& context,
                                        const yidi::v1::SettleRequest& request) {
  if (!context.prepayment_policy.suspension().enabled() ||
      !IsInpatient(request.visit().medical_type())) {
    return absl::OkStatus();
  }
  auto admission = ParseDate(request.visit().admission_date());
  if (!admission.ok()) return absl::OkStatus();  // validation names the field
  ASSIGN_OR_RETURN(auto tx, context.store->Begin(TransactionMode::kRead));
  return CheckPaymentSuspension(*tx, context, request.insured_region(),
                                yidi::v1::SUSPENSION_KIND_ADMISSIONS, *admission);
}

absl::Status CheckFilingUploadNotSuspended(Transaction& tx, const NodeContext& context,
                                           const yidi::v1::FilingChange& change) {
  if (!context.prepayment_policy.suspension().enabled() || !change.has_filing() ||
      change.filing().version() != 1 || change.filing().cancelled()) {
    return absl::OkStatus();
  }
  return CheckPaymentSuspension(tx, context, change.filing().insured_region(),
                                yidi::v1::SUSPENSION_KIND_NEW_FILINGS,
                                context.calendar.Today());
}

}  // namespace yidi
