#include "common/call_front.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/authorization.h"
#include "common/grpc_status.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "grpcpp/support/proto_buffer_reader.h"

namespace yidi {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Tighter limits on particular repeated fields, named as in common/limits.h.
struct RepeatedLimit {
  absl::string_view field;  // full name of the field
  int max;
  absl::string_view name;
};
constexpr RepeatedLimit kRepeatedLimits[] = {
    {"yidi.v1.SettleRequest.fee_lines", kFeeLinesMax, "kFeeLinesMax"},
};

absl::Status CheckLimits(const Message& message, const std::string& prefix) {
  const auto* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string path = absl::StrCat(prefix, field->name());
    if (field->is_repeated()) {
      const int size = reflection->FieldSize(message, field);
      int max = kAnyRepeatedMax;
      absl::string_view name = "kAnyRepeatedMax";
      for (const RepeatedLimit& limit : kRepeatedLimits) {
        if (field->full_name() == limit.field) {
          max = limit.max;
          name = limit.name;
        }
      }
      if (size > max) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": ", size, " entries, above the ",
                                                       name, " limit of ", max));
      }
      for (int i = 0; i < size; ++i) {
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          std::string scratch;
          const std::string& value =
              reflection->GetRepeatedStringReference(message, field, i, &scratch);
          if (value.size() > static_cast<size_t>(kAnyStringLengthMax)) {
            return absl::InvalidArgumentError(
                absl::StrCat(path, "[", i, "]: ", value.size(),
                             " bytes, above the kAnyStringLengthMax limit of ",
                             kAnyStringLengthMax));
          }
        } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          absl::Status nested = CheckLimits(reflection->GetRepeatedMessage(message, field, i),
                                            absl::StrCat(path, "[", i, "]."));
          if (!nested.ok()) return nested;
        }
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      std::string scratch;
      const std::string& value = reflection->GetStringReference(message, field, &scratch);
      if (value.size() > static_cast<size_t>(kAnyStringLengthMax)) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": ", value.size(), " bytes, above the kAnyStringLengthMax limit of ",
            kAnyStringLengthMax));
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      absl::Status nested =
          CheckLimits(reflection->GetMessage(message, field), absl::StrCat(path, "."));
      if (!nested.ok()) return nested;
    }
  }
  return absl::OkStatus();
}

// "/yidi.v1.SettlementService/Settle" → its descriptor, or nullptr.
const google::protobuf::MethodDescriptor* FindMethod(const std::string& method) {
  if (method.size() < 2 || method.front() != '/') return nullptr;
  std::string name = method.substr(1);
  const size_t slash = name.rfind('/');
  if (slash == std::string::npos) return nullptr;
  name[slash] = '.';
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(name);
}

bool IsRefusal(absl::StatusCode code) {
  return code == absl::StatusCode::kPermissionDenied ||
         code == absl::StatusCode::kUnauthenticated ||
         code == absl::StatusCode::kResourceExhausted;
}

// One call through the front. Deletes itself in OnDone.
class FrontCall final : public grpc::ServerGenericBidiReactor {
 public:
  FrontCall(CallFront* front, grpc::GenericCallbackServerContext* ctx)
      : front_(front), ctx_(ctx), method_(ctx->method()) {
    if (front_->plaintext()) {
      caller_.kind = CallerKind::kPlaintext;
      caller_.uri = "plaintext";
    } else {
      auto identity = IdentityOfPeer(*ctx_->auth_context());
      if (identity.ok()) {
        caller_ = std::move(*identity);
      } else {
        identity_error_ = identity.status();
        caller_.uri = "unauthenticated";
      }
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Refuse(absl::InvalidArgumentError("the call carried no request message"));
      return;
    }
    if (!identity_error_.ok()) {
      Refuse(identity_error_);
      return;
    }
    const auto* method = FindMethod(method_);
    if (method == nullptr) {
      Refuse(absl::UnimplementedError(absl::StrCat("no method ", method_)));
      return;
    }
    const AuthorizationRule* rule = FindAuthorizationRule(method_);
    state_changing_ = rule != nullptr && rule->state_changing;
    const Message* prototype =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(method->input_type());
    parsed_.reset(prototype->New());
    grpc::ByteBuffer copy(request_);  // shares the slices; the original is forwarded as is
    if (!grpc::SerializationTraits<Message>::Deserialize(&copy, parsed_.get()).ok()) {
      parsed_.reset();
      Refuse(absl::InvalidArgumentError(
          absl::StrCat("the request is not a ", method->input_type()->full_name())));
      return;
    }
    absl::Status admitted = front_->Admit(caller_, method_, parsed_.get(), &counted_);
    if (!admitted.ok()) {
      Refuse(admitted);
      return;
    }
    client_.set_deadline(ctx_->deadline());
    client_.AddMetadata(kCallerMetadataKey, caller_.uri);
    bool cancelled = false;
    {
      absl::MutexLock lock(&mutex_);
      cancelled = cancelled_;
      forwarding_ = !cancelled;
    }
    if (cancelled) {
      Refuse(absl::CancelledError("the caller cancelled the call"));
      return;
    }
    front_->inner().UnaryCall(&client_, method_, grpc::StubOptions(), &request_, &response_,
                              [this](grpc::Status status) { OnAnswered(std::move(status)); });
  }

  void OnCancel() override {
    absl::MutexLock lock(&mutex_);
    cancelled_ = true;
    if (forwarding_) client_.TryCancel();
  }

  void OnDone() override {
    ReleaseSlot();
    delete this;
  }

 private:
  // Before the answer leaves: a caller that sends its next call as soon as it has the answer
  // must find the slot free again.
  void ReleaseSlot() {
    if (counted_) front_->Release(caller_.uri);
    counted_ = false;
  }

  void OnAnswered(grpc::Status status) {
    if (state_changing_) Audit(FromGrpcStatus(status));
    ReleaseSlot();
    if (status.ok()) {
      StartWriteAndFinish(&response_, grpc::WriteOptions(), status);
    } else {
      Finish(status);
    }
  }

  void Refuse(const absl::Status& status) {
    if (IsRefusal(status.code())) {
      LogWarning("refused %s from %s: %s", method_, caller_.uri,
                 MaskIdNumbersIn(status.message()));
    }
    if (state_changing_ || IsRefusal(status.code())) Audit(status);
    ReleaseSlot();
    Finish(ToGrpcStatus(status));
  }

  void Audit(const absl::Status& status) {
    AuditEntry entry;
    entry.time = front_->context().clock->Now();
    entry.caller = caller_.uri;
    entry.method = method_;
    if (parsed_ != nullptr) entry.ids = RequestIds(*parsed_);
    entry.outcome = status.ok() ? "OK" : absl::StatusCodeToString(status.code());
    entry.message = std::string(status.message());
    front_->audit().Append(std::move(entry));
  }

  CallFront* const front_;
  grpc::GenericCallbackServerContext* const ctx_;
  const std::string method_;
  CallerIdentity caller_;
  absl::Status identity_error_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::unique_ptr<Message> parsed_;
  bool state_changing_ = false;
  bool counted_ = false;
  grpc::ClientContext client_;
  absl::Mutex mutex_;
  bool cancelled_ ABSL_GUARDED_BY(mutex_) = false;
  bool forwarding_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace

std::string CallerOf(const grpc::CallbackServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kCallerMetadataKey);
  if (it == metadata.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

absl::Status CheckRequestLimits(const google::protobuf::Message& request) {
  return CheckLimits(request, "");
}

CallFront::CallFront(NodeContext* context, AuditLog* audit, std::shared_ptr<grpc::Channel> inner)
    : context_(context),
      audit_(audit),
      inner_channel_(std::move(inner)),
      inner_stub_(inner_channel_),
      plaintext_(context->plaintext),
      calls_in_flight_max_(context->config.security().max_calls_in_flight_per_caller() > 0
                               ? context->config.security().max_calls_in_flight_per_caller()
                               : kCallsInFlightPerCallerDefault) {}

grpc::ServerGenericBidiReactor* CallFront::CreateReactor(
    grpc::GenericCallbackServerContext* ctx) {
  return new FrontCall(this, ctx);
}

absl::Status CallFront::Admit(const CallerIdentity& caller, const std::string& method,
                              const google::protobuf::Message* request, bool* counted) {
  {
    absl::MutexLock lock(&mutex_);
    int& in_flight = in_flight_[caller.uri];
    const bool node_link = caller.kind == CallerKind::kNode;
    const int max = node_link ? std::max(calls_in_flight_max_, kCallsInFlightPerNodeLink)
                              : calls_in_flight_max_;
    if (in_flight >= max) {
      if (in_flight == 0) in_flight_.erase(caller.uri);
      return absl::ResourceExhaustedError(absl::StrCat(
          caller.uri, " has ", max, " calls in flight at this node, the ",
          node_link ? "kCallsInFlightPerNodeLink" : "max_calls_in_flight_per_caller",
          " limit; retry later"));
    }
    ++in_flight;
    *counted = true;
  }
  RETURN_IF_ERROR(CheckRequestLimits(*request));
  if (!plaintext_) {
    RETURN_IF_ERROR(
        Authorize(caller, context_->identity, context_->directory, method, request));
  }
  const CallInfo info{method, caller.uri};
  for (const CallGate& gate : context_->call_gates) {
    RETURN_IF_ERROR(gate(info));
  }
  return absl::OkStatus();
}

void CallFront::Release(const std::string& caller) {
  absl::MutexLock lock(&mutex_);
  auto it = in_flight_.find(caller);
  if (it == in_flight_.end()) return;
  if (--it->second <= 0) in_flight_.erase(it);
}

}  // namespace yidi
