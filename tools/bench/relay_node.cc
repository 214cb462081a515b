// yidi-relay: one hop of a bare relay chain, the yardstick for the settlement mesh
// (ARCHITECTURE.md section 10). It serves yidi.v1.SettlementService with the callback server
// API and forwards Settle / PreSettle unchanged to --next with the async callback client stub;
// the last hop (no --next) answers a fixed, identity-respecting result. No storage, no
// validation beyond the money sign: whatever the real mesh costs above this chain is its own.
//
// Threading: handlers run on gRPC's callback threads and never block; the main thread only
// waits for SIGTERM / SIGINT.

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "yidi/v1/settlement.grpc.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0",
          "address to serve on, HOST:PORT; port 0 picks a free one (printed when ready)");
ABSL_FLAG(std::string, next, "", "next hop HOST:PORT; empty means this is the last hop");
ABSL_FLAG(int64_t, forward_deadline_ms, 2000,
          "deadline of a forward to --next, capped by the caller's own deadline");

namespace yidi::bench {
namespace {

// A forward deadline beyond a minute would hide a stuck hop rather than measure one.
constexpr int64_t kForwardDeadlineMsMax = 60'000;
// How long in-flight calls get to finish once a stop signal arrives; then they are cancelled.
constexpr auto kShutdownGrace = std::chrono::seconds(2);

using v1::SettleRequest;
using v1::SettleResponse;

// The last hop's answer: echoes the identifiers and puts the whole bill on the patient's cash
// so that the slip identities hold (total = in_scope + ... and total = funds + cash).
void FillLastHopResult(const SettleRequest& request, bool commits, SettleResponse* response) {
  v1::SettlementResult* result = response->mutable_result();
  result->set_settlement_id(request.settlement_id());
  result->set_kind(v1::SETTLEMENT_KIND_NORMAL);
  result->set_state(commits ? v1::SETTLEMENT_STATE_SETTLED : v1::SETTLEMENT_STATE_UNSPECIFIED);
  result->set_insured_region(request.insured_region());
  result->set_treatment_region(request.treatment_region());
  result->set_institution_code(request.visit().institution_code());
  result->set_admission_number(request.visit().admission_number());
  result->set_medical_type(request.visit().medical_type());
  const int64_t total_fen = request.declared_total_fen();
  result->set_total_fen(total_fen);
  result->set_in_scope_fen(total_fen);
  result->set_cash_fen(total_fen);
  result->set_person_part_fen(total_fen);
}

// The heap-held state of one forward: the ClientContext must outlive the async call, so it is
// freed by the completion callback, never by the handler that started it.
struct Forward {
  grpc::ClientContext client_context;
};

class RelayService final : public v1::SettlementService::CallbackService {
 public:
  // `next_stub` null: this is the last hop. Otherwise the stub to forward to.
  RelayService(std::unique_ptr<v1::SettlementService::Stub> next_stub,
               std::chrono::milliseconds forward_deadline)
      : next_stub_(std::move(next_stub)), forward_deadline_(forward_deadline) {}

  grpc::ServerUnaryReactor* PreSettle(grpc::CallbackServerContext* context,
                                      const SettleRequest* request,
                                      SettleResponse* response) override {
    return Relay(context, request, response, /*commits=*/false);
  }

  grpc::ServerUnaryReactor* Settle(grpc::CallbackServerContext* context,
                                   const SettleRequest* request,
                                   SettleResponse* response) override {
    return Relay(context, request, response, /*commits=*/true);
  }

  grpc::ServerUnaryReactor* Reverse(grpc::CallbackServerContext* context, const v1::ReverseRequest*,
                                    SettleResponse*) override {
    return Unimplemented(context, "Reverse");
  }

  grpc::ServerUnaryReactor* Correct(grpc::CallbackServerContext* context, const v1::CorrectRequest*,
                                    v1::CorrectResponse*) override {
    return Unimplemented(context, "Correct");
  }

  grpc::ServerUnaryReactor* GetSettlement(grpc::CallbackServerContext* context,
                                          const v1::GetSettlementRequest*,
                                          v1::GetSettlementResponse*) override {
    return Unimplemented(context, "GetSettlement");
  }

 private:
  grpc::ServerUnaryReactor* Relay(grpc::CallbackServerContext* context,
                                  const SettleRequest* request, SettleResponse* response,
                                  bool commits) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    if (request->declared_total_fen() < 0) {
      reactor->Finish(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "declared_total_fen: must be >= 0"));
      return reactor;
    }
    if (next_stub_ == nullptr) {
      FillLastHopResult(*request, commits, response);
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }

    // Never give the next hop more time than our own caller still waits for.
    auto* forward = new Forward;
    const auto forward_deadline = std::chrono::system_clock::now() + forward_deadline_;
    forward->client_context.set_deadline(std::min(forward_deadline, context->deadline()));

    // `request` and `response` belong to the server call and stay valid until Finish, so the
    // downstream answer is written straight into our own response: no copy per hop.
    auto on_done = [forward, reactor](grpc::Status status) {
      delete forward;
      reactor->Finish(status);
    };
    if (commits) {
      next_stub_->async()->Settle(&forward->client_context, request, response, on_done);
    } else {
      next_stub_->async()->PreSettle(&forward->client_context, request, response, on_done);
    }
    return reactor;
  }

  static grpc::ServerUnaryReactor* Unimplemented(grpc::CallbackServerContext* context,
                                                 absl::string_view method) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(
        grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                     absl::StrCat("yidi-relay serves only Settle and PreSettle, not ", method)));
    return reactor;
  }

  // Constant after construction; the stub is thread-safe.
  const std::unique_ptr<v1::SettlementService::Stub> next_stub_;
  const std::chrono::milliseconds forward_deadline_;
};

// Every channel refuses the HTTP proxy so that an environment variable can never reroute
// loopback traffic (TOOLCHAIN.md).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target) {
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), arguments);
}

// "host:port" with the port replaced, for printing the address actually bound.
std::string WithPort(const std::string& address, int port) {
  const auto colon = address.rfind(':');
  return absl::StrCat(address.substr(0, colon), ":", port);
}

int RunRelay() {
  const std::string listen = absl::GetFlag(FLAGS_listen);
  const std::string next = absl::GetFlag(FLAGS_next);
  const int64_t forward_deadline_ms = absl::GetFlag(FLAGS_forward_deadline_ms);
  int listen_port = 0;
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &listen_port)) {
    std::fprintf(stderr, "yidi-relay: --listen must be HOST:PORT, got '%s'\n", listen.c_str());
    return 2;
  }
  if (forward_deadline_ms <= 0 || forward_deadline_ms > kForwardDeadlineMsMax) {
    std::fprintf(stderr, "yidi-relay: --forward_deadline_ms must be in 1..%lld\n",
                 static_cast<long long>(kForwardDeadlineMsMax));
    return 2;
  }

  // Block the stop signals before gRPC starts its threads, so they all inherit the mask and
  // only the main thread's sigwait below ever sees SIGTERM / SIGINT.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::unique_ptr<v1::SettlementService::Stub> next_stub;
  if (!next.empty()) next_stub = v1::SettlementService::NewStub(MakeChannel(next));
  RelayService service(std::move(next_stub), std::chrono::milliseconds(forward_deadline_ms));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int selected_port = 0;
  // gRPC binds with SO_REUSEPORT by default: a stale relay on the same port would silently
  // share the traffic. Refusing it makes a taken port fail here, at start.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &selected_port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || selected_port == 0) {
    std::fprintf(stderr, "yidi-relay: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  std::fprintf(stderr, "listening on %s next=%s\n", WithPort(listen, selected_port).c_str(),
               next.empty() ? "(last hop)" : next.c_str());
  std::fflush(stderr);

  int received_signal = 0;
  sigwait(&stop_signals, &received_signal);
  server->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
  server->Wait();
  std::fprintf(stderr, "yidi-relay: stopped on signal %d\n", received_signal);
  return 0;
}

}  // namespace
}  // namespace yidi::bench

int main(int argc, char** argv) {
  // Debian builds Abseil in debug mode, where every absl::Mutex (gRPC locks them on each call)
  // feeds a process-wide deadlock graph: about 6% of a hop's CPU in a profile of the chain.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::ParseCommandLine(argc, argv);
  return yidi::bench::RunRelay();
}
