// What a settlement links to beyond its own person: the relative's account it drew on
// (门诊共济, table `family_account_debit`) and the referral episode it belongs to (table
// `referral_episode`). Both are written in the settlement's own write transaction and undone
// by its reversal or correction, so both persons' records stay right (docs/POLICY.md §3.6,
// §3.2).
#ifndef YIDI_MUNICIPAL_SETTLEMENT_LINKS_H_
#define YIDI_MUNICIPAL_SETTLEMENT_LINKS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/store/store.h"

namespace yidi::municipal {

// 门诊共济: what one settlement took from a relative's account.
struct FamilyAccountDebit {
  std::string settlement_id;
  std::string owner_id_number;  // 授权人: whose balance was debited
  std::string user_id_number;   // 使用人: the patient
  int64_t amount_fen = 0;
};

// Debits the owner's balance by `debit.amount_fen` (> 0) and records the debit. INTERNAL when
// the balance would go below zero; ALREADY_EXISTS when the settlement already has one.
absl::Status RecordFamilyAccountDebit(Transaction& tx, const FamilyAccountDebit& debit,
                                      absl::Time now);

// The debit `settlement_id` made, if any.
absl::StatusOr<std::optional<FamilyAccountDebit>> FindFamilyAccountDebit(
    Transaction& tx, absl::string_view settlement_id);

// Gives the owner back what `settlement_id` took (its reversal or correction) and removes the
// record; nothing when it took nothing. Returns the amount restored.
absl::StatusOr<int64_t> RestoreFamilyAccountDebit(Transaction& tx,
                                                  absl::string_view settlement_id);

// A referral episode (转诊): the chain of stays linked by Visit.referral_from_settlement_id.
struct ReferralEpisode {
  std::string episode_id;        // the settlement id of the episode's first stay
  int64_t deductible_fen = 0;    // what its settled, unreversed stays applied together
};

// The episode `from_settlement_id` belongs to: its own when it was itself referred, else a new
// episode starting with it (whose deductible is `from_deductible_fen`, the slip's).
absl::StatusOr<ReferralEpisode> EpisodeOf(Transaction& tx, absl::string_view from_settlement_id,
                                          int64_t from_deductible_fen);

// Records that `settlement_id` (of `id_number`) joined `episode`, applying `deductible_fen`;
// also records the episode's first stay when it is not recorded yet.
absl::Status JoinEpisode(Transaction& tx, const ReferralEpisode& episode,
                         absl::string_view settlement_id, absl::string_view id_number,
                         int64_t first_deductible_fen, int64_t deductible_fen);

// A reversed or voided stay leaves its episode: its deductible no longer counts.
absl::Status LeaveEpisode(Transaction& tx, absl::string_view settlement_id);

}  // namespace yidi::municipal

#endif  // YIDI_MUNICIPAL_SETTLEMENT_LINKS_H_
