#include "municipal/settlement_links.h"

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/id_number.h"
#include "common/status_macros.h"
#include "municipal/insured_registry.h"

namespace yidi::municipal {

absl::Status RecordFamilyAccountDebit(Transaction& tx, const FamilyAccountDebit& debit,
                                      absl::Time now) {
  YIDI_CHECK(debit.amount_fen > 0, "only a debit that took something is recorded");
  YIDI_CHECK(debit.owner_id_number != debit.user_id_number,
             "a relative's account belongs to another person");
  RETURN_IF_ERROR(AdjustPersonalAccountBalance(tx, debit.owner_id_number, -debit.amount_fen));
  return tx
      .Execute("INSERT INTO family_account_debit (settlement_id, owner_id_number, "
               "user_id_number, amount_fen, created_at) VALUES (?, ?, ?, ?, ?)",
               {debit.settlement_id, debit.owner_id_number, debit.user_id_number,
                debit.amount_fen, FormatCstTimestamp(now)})
      .status();
}

absl::StatusOr<std::optional<FamilyAccountDebit>> FindFamilyAccountDebit(
    Transaction& tx, absl::string_view settlement_id) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT owner_id_number, user_id_number, amount_fen "
                                       "FROM family_account_debit WHERE settlement_id = ?",
                                       {std::string(settlement_id)}));
  if (rows.empty()) return std::optional<FamilyAccountDebit>();
  FamilyAccountDebit debit;
  debit.settlement_id = std::string(settlement_id);
  debit.owner_id_number = rows.front().Text(0);
  debit.user_id_number = rows.front().Text(1);
  debit.amount_fen = rows.front().Int(2);
  return std::optional<FamilyAccountDebit>(std::move(debit));
}

absl::StatusOr<int64_t> RestoreFamilyAccountDebit(Transaction& tx,
                                                  absl::string_view settlement_id) {
  ASSIGN_OR_RETURN(auto debit, FindFamilyAccountDebit(tx, settlement_id));
  if (!debit.has_value()) return 0;
  RETURN_IF_ERROR(AdjustPersonalAccountBalance(tx, debit->owner_id_number, debit->amount_fen));
  ASSIGN_OR_RETURN(int64_t removed, tx.Execute("DELETE FROM family_account_debit WHERE "
                                               "settlement_id = ?",
                                               {std::string(settlement_id)}));
  YIDI_CHECK(removed == 1, "a debit is restored once");
  return debit->amount_fen;
}

absl::StatusOr<ReferralEpisode> EpisodeOf(Transaction& tx, absl::string_view from_settlement_id,
                                          int64_t from_deductible_fen) {
  ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT episode_id FROM referral_episode WHERE "
                                       "settlement_id = ?",
                                       {std::string(from_settlement_id)}));
  ReferralEpisode episode;
  if (rows.empty()) {
    episode.episode_id = std::string(from_settlement_id);
    episode.deductible_fen = from_deductible_fen;
    return episode;
  }
  episode.episode_id = rows.front().Text(0);
  ASSIGN_OR_RETURN(auto sums, tx.Query("SELECT SUM(deductible_fen) FROM referral_episode WHERE "
                                       "episode_id = ?",
                                       {episode.episode_id}));
  episode.deductible_fen = sums.empty() ? 0 : sums.front().Int(0);
  return episode;
}

absl::Status JoinEpisode(Transaction& tx, const ReferralEpisode& episode,
                         absl::string_view settlement_id, absl::string_view id_number,
                         int64_t first_deductible_fen, int64_t deductible_fen) {
  ASSIGN_OR_RETURN(auto first, tx.Query("SELECT settlement_id FROM referral_episode WHERE "
                                        "settlement_id = ?",
                                        {episode.episode_id}));
  if (first.empty()) {
    RETURN_IF_ERROR(tx.Execute("INSERT INTO referral_episode (settlement_id, episode_id, "
                               "id_number, deductible_fen) VALUES (?, ?, ?, ?)",
                               {episode.episode_id, episode.episode_id, std::string(id_number),
                                first_deductible_fen})
                        .status());
  }
  return tx
      .Execute("INSERT INTO referral_episode (settlement_id, episode_id, id_number, "
               "deductible_fen) VALUES (?, ?, ?, ?)",
               {std::string(settlement_id), episode.episode_id, std::string(id_number),
                deductible_fen})
      .status();
}

absl::Status LeaveEpisode(Transaction& tx, absl::string_view settlement_id) {
  return tx
      .Execute("DELETE FROM referral_episode WHERE settlement_id = ?",
               {std::string(settlement_id)})
      .status();
}

}  // namespace yidi::municipal
