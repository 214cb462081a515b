// SettlementRelay: what a node does with a settlement call it does not own. It records the
// call (PENDING) in its own database, forwards it one hop toward the insured region with the
// async client stub, and records what came back:
//   - OK: SETTLED with the result (REVERSED on the original for a reversal);
//   - a definitive refusal (INVALID_ARGUMENT, FAILED_PRECONDITION, ...): the record is removed,
//     since nothing was committed downstream, and the refusal is passed back unchanged;
//   - anything else (hop down, deadline, lost reply): IN_DOUBT, never SETTLED, and the caller
//     gets UNAVAILABLE naming the hop. A retry of the same settlement_id, Correct, or
//     reconciliation resolves it.
// Used by provincial and national nodes, and by the treatment municipal node after it has
// classified the bill. Only the entry node (the hospital's) records PENDING before it forwards,
// so that it knows of every call in flight even across a crash; a pure relay writes once, when
// the outcome is known (IN_DOUBT when it is not), and a crash in between leaves a gap that
// reconciliation finds (docs/DECISIONS.md D15).
//
// Thread-safe: every method may be called from any gRPC callback thread at once.
#ifndef YIDI_COMMON_SETTLEMENT_RELAY_H_
#define YIDI_COMMON_SETTLEMENT_RELAY_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/routing.h"
#include "common/settlement_record.h"
#include "common/store/store.h"
#include "grpcpp/grpcpp.h"
#include "yidi/v1/filing.grpc.pb.h"
#include "yidi/v1/person.grpc.pb.h"
#include "yidi/v1/settlement.grpc.pb.h"

namespace yidi {

// Called once with the final status; the response object given to the call is filled on OK.
using DoneCallback = std::function<void(grpc::Status)>;

// The deadline of a forward: the configured forward deadline, but never later than the
// caller's own deadline less a margin, so the hop nearest a failure answers first.
std::chrono::system_clock::time_point ForwardDeadline(
    std::chrono::system_clock::time_point caller_deadline, int forward_deadline_ms);

// "yidi: " prefixes every UNAVAILABLE a node produces, so an upstream hop passes a downstream
// hop's message through instead of blaming its direct neighbour.
grpc::Status HopUnavailable(const Route& route, const grpc::Status& cause,
                            absl::string_view detail);

// Channels and stubs per next-hop address, created on first use and kept.
class StubCache {
 public:
  yidi::v1::SettlementService::Stub* Settlement(const std::string& address);
  yidi::v1::PersonService::Stub* Person(const std::string& address);
  yidi::v1::FilingService::Stub* Filing(const std::string& address);
  // The node's TLS client credentials (NodeContext::channel_credentials); set once at start,
  // before the first stub. nullptr = plaintext.
  void set_credentials(std::shared_ptr<grpc::ChannelCredentials> credentials) {
    credentials_ = std::move(credentials);
  }

 private:
  struct Stubs {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<yidi::v1::SettlementService::Stub> settlement;
    std::unique_ptr<yidi::v1::PersonService::Stub> person;
    std::unique_ptr<yidi::v1::FilingService::Stub> filing;
  };
  Stubs& Get(const std::string& address);

  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  absl::Mutex mutex_;
  absl::flat_hash_map<std::string, std::unique_ptr<Stubs>> stubs_ ABSL_GUARDED_BY(mutex_);
};

class SettlementRelay {
 public:
  // `store`, `clock` and `stubs` must outlive the relay. `self_name` names this node in
  // messages ("provincial 360000").
  // `record_before_forward`: true at the entry node (records PENDING first).
  SettlementRelay(Store* store, const Clock* clock, StubCache* stubs, std::string self_name,
                  int forward_deadline_ms, bool record_before_forward);

  // REQUIRES: `request` has been validated and classified; `route` forwards (not local).
  // `response` must stay valid until `done` runs.
  void Settle(std::chrono::system_clock::time_point caller_deadline,
              const yidi::v1::SettleRequest& request, const Route& route,
              yidi::v1::SettleResponse* response, DoneCallback done);

  // Forwards only: PreSettle commits nothing anywhere, so nothing is recorded.
  void PreSettle(std::chrono::system_clock::time_point caller_deadline,
                 const yidi::v1::SettleRequest& request, const Route& route,
                 yidi::v1::SettleResponse* response, DoneCallback done);

  void Reverse(std::chrono::system_clock::time_point caller_deadline,
               const yidi::v1::ReverseRequest& request, const Route& route,
               yidi::v1::SettleResponse* response, DoneCallback done);

  // Forwards; on OK marks the local record VOIDED (a tombstone when it had none).
  void Correct(std::chrono::system_clock::time_point caller_deadline,
               const yidi::v1::CorrectRequest& request, const Route& route,
               yidi::v1::CorrectResponse* response, DoneCallback done);

 private:
  struct Admission {
    bool forward = false;  // false: `status` / the replayed response is the answer
    grpc::Status status;
  };
  // Checks idempotency and, at the entry node, records PENDING in the same transaction.
  Admission Admit(const SettlementRecord& pending, yidi::v1::SettleResponse* response);
  // Marks the local record VOIDED, inserting a tombstone when there is none.
  absl::Status MarkVoided(const yidi::v1::CorrectRequest& request);
  // Records what the forward of `draft` returned and answers the caller.
  void RecordOutcome(const SettlementRecord& draft, const Route& route,
                     const grpc::Status& status, yidi::v1::SettleResponse* response,
                     DoneCallback done);
  // Inserts `draft` in `state` or, when a record exists, sets its state (and result).
  absl::Status Upsert(Transaction& tx, const SettlementRecord& draft,
                      yidi::v1::SettlementState state, const yidi::v1::SettlementResult* result);

  Store* const store_;
  const Clock* const clock_;
  StubCache* const stubs_;
  const std::string self_name_;
  const int forward_deadline_ms_;
  const bool record_before_forward_;
};

}  // namespace yidi

#endif  // YIDI_COMMON_SETTLEMENT_RELAY_H_
