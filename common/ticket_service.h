// TicketService (api/yidi/v1/ticket.proto) on every node kind. Each change is made on the node
// whose turn it is (the requester opens, extends, confirms, disputes and escalates; the first
// responder replies and logs its handling), stored in table `ticket` in one write transaction,
// then sent directly to the other end's node (SyncTicket; the directory gives its address),
// which keeps the higher version. When the other end does not answer, the change stays stored
// and the call returns UNAVAILABLE naming it; repeating the call replays and delivers again.
// Automatic confirmation (10 WD after the reply) is applied by both ends when they next read.
// Thread safety: handlers may run concurrently; the store serialises writes.
#ifndef YIDI_COMMON_TICKET_SERVICE_H_
#define YIDI_COMMON_TICKET_SERVICE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/node.h"
#include "yidi/v1/ticket.grpc.pb.h"

namespace yidi {

struct TicketOutcome {
  yidi::v1::Ticket ticket;
  bool replayed = false;
  // Escalation: the new ticket raised to the next level (delivered to its target too).
  std::vector<yidi::v1::Ticket> also_changed;
};

// The acting node's step, one write transaction each; errors name the field or the state.
absl::StatusOr<TicketOutcome> OpenTicketHere(NodeContext& context,
                                             const yidi::v1::OpenTicketRequest& request);
absl::StatusOr<TicketOutcome> ReplyTicketHere(NodeContext& context,
                                              const yidi::v1::ReplyTicketRequest& request);
absl::StatusOr<TicketOutcome> LogTicketHandlingHere(
    NodeContext& context, const yidi::v1::LogTicketHandlingRequest& request);
absl::StatusOr<TicketOutcome> ExtendTicketHere(NodeContext& context,
                                               const yidi::v1::ExtendTicketRequest& request);
absl::StatusOr<TicketOutcome> ConfirmTicketHere(NodeContext& context,
                                                const yidi::v1::ConfirmTicketRequest& request);
absl::StatusOr<TicketOutcome> EscalateTicketHere(NodeContext& context,
                                                 const yidi::v1::EscalateTicketRequest& request);
// Keeps `ticket` when newer than this node's copy; INVALID_ARGUMENT when this node is neither
// end of it.
absl::StatusOr<bool> SyncTicketHere(NodeContext& context, const yidi::v1::Ticket& ticket);
// Applies due automatic confirmations, then lists (overdue ones with how late they are).
absl::StatusOr<yidi::v1::ListTicketsResponse> ListTicketsHere(
    NodeContext& context, const yidi::v1::ListTicketsRequest& request);

class NodeTicketService final : public yidi::v1::TicketService::CallbackService {
 public:
  explicit NodeTicketService(NodeContext* context) : context_(context) {}

  grpc::ServerUnaryReactor* OpenTicket(grpc::CallbackServerContext* ctx,
                                       const yidi::v1::OpenTicketRequest* request,
                                       yidi::v1::TicketResponse* response) override;
  grpc::ServerUnaryReactor* ReplyTicket(grpc::CallbackServerContext* ctx,
                                        const yidi::v1::ReplyTicketRequest* request,
                                        yidi::v1::TicketResponse* response) override;
  grpc::ServerUnaryReactor* LogTicketHandling(grpc::CallbackServerContext* ctx,
                                              const yidi::v1::LogTicketHandlingRequest* request,
                                              yidi::v1::TicketResponse* response) override;
  grpc::ServerUnaryReactor* ExtendTicket(grpc::CallbackServerContext* ctx,
                                         const yidi::v1::ExtendTicketRequest* request,
                                         yidi::v1::TicketResponse* response) override;
  grpc::ServerUnaryReactor* ConfirmTicket(grpc::CallbackServerContext* ctx,
                                          const yidi::v1::ConfirmTicketRequest* request,
                                          yidi::v1::TicketResponse* response) override;
  grpc::ServerUnaryReactor* EscalateTicket(grpc::CallbackServerContext* ctx,
                                           const yidi::v1::EscalateTicketRequest* request,
                                           yidi::v1::TicketResponse* response) override;
  grpc::ServerUnaryReactor* SyncTicket(grpc::CallbackServerContext* ctx,
                                       const yidi::v1::SyncTicketRequest* request,
                                       yidi::v1::SyncTicketResponse* response) override;
  grpc::ServerUnaryReactor* ListTickets(grpc::CallbackServerContext* ctx,
                                        const yidi::v1::ListTicketsRequest* request,
                                        yidi::v1::ListTicketsResponse* response) override;

 private:
  // Sends every changed ticket to its other end, then finishes the call.
  grpc::ServerUnaryReactor* FinishDelivered(grpc::CallbackServerContext* ctx,
                                            absl::StatusOr<TicketOutcome> outcome,
                                            yidi::v1::TicketResponse* response);
  yidi::v1::TicketService::Stub* StubFor(const std::string& address);

  NodeContext* const context_;
  absl::Mutex mutex_;
  absl::flat_hash_map<std::string, std::unique_ptr<yidi::v1::TicketService::Stub>> stubs_
      ABSL_GUARDED_BY(mutex_);
};

}  // namespace yidi

#endif  // YIDI_COMMON_TICKET_SERVICE_H_
