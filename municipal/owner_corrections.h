// What a reconciliation correction (补正 / 冲减, common/reconciliation_store.h) replays at the
// owner, the insured municipal node, besides its settlement record (D410, D413). A committed
// settlement fed the owner's year accumulators, the personal account, the 门诊共济 family
// account and the referral episode; a correction that changes whether the settlement counts
// must change them the same way Reverse and Correct do, in the correction's transaction:
//   - 冲减 (VOIDED) of a committed settlement (SETTLED, kind NORMAL): undone exactly, as
//     SettlementService.Correct does (the stored accumulator changes negated under
//     "<id>#void", the accounts restored, the stay leaves its episode);
//   - 补正 bringing a reversal the owner lacks (kind REVERSAL, SETTLED) of a settlement it
//     committed: applied exactly, as Reverse does (the original's changes negated under the
//     reversal's id, the accounts restored, the episode left, the original REVERSED);
//   - a correction that leaves the settlement counting as before (same state and amounts, a
//     state REVERSED whose reversal carries the replay, a tombstone for a settlement never
//     committed here): nothing to replay.
// Anything else would ask the owner to take amounts its policy engine did not compute (a
// committed settlement with other amounts, a settlement it never committed, undoing a refund
// it committed): FAILED_PRECONDITION, so the correction is not applied and the difference stays
// open in the reconciliation report for an operator.
// Idempotent: a correction id applied twice is replayed by the store without calling this; a
// second correction with another id finds the state already changed and replays nothing.
// Records whose insured region is not this node's are not the owner's: nothing to replay.
#ifndef YIDI_MUNICIPAL_OWNER_CORRECTIONS_H_
#define YIDI_MUNICIPAL_OWNER_CORRECTIONS_H_

#include "common/node.h"
#include "common/reconciliation_store.h"

namespace yidi::municipal {

// The replayer of this municipal node. `context` must outlive it.
CorrectionReplayer OwnerCorrectionReplayer(const NodeContext* context);

}  // namespace yidi::municipal

#endif  // YIDI_MUNICIPAL_OWNER_CORRECTIONS_H_
