// yidi-load: drives many concurrent hospitals' settlements against one node (the treatment
// municipal node of the real mesh, or hop 1 of the relay chain) and reports settlements/s and
// latency percentiles, ending with one machine-readable `RESULT ...` line.
//
// Closed loop: --concurrency slots each keep one call in flight. The main thread starts the
// slots; afterwards each completion callback (on gRPC's small callback pool) records the call
// and starts the slot's next one, so no thread exists per call and nothing blocks. Requests are
// built from text-format SettleRequest templates, round-robin, each with a fresh settlement_id
// and admission_number so that a run never replays an earlier one.
// `errors=` in the RESULT line counts failed calls and calls left unfinished at --max_seconds.
// Exit status: 0 when every measured call succeeded, 1 otherwise, 2 on bad flags.

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "yidi/v1/settlement.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:18001", "node to drive, HOST:PORT");
ABSL_FLAG(int64_t, requests, 20000, "measured calls (after the warmup)");
ABSL_FLAG(int64_t, concurrency, 64, "calls kept in flight");
ABSL_FLAG(std::vector<std::string>, templates, {},
          "comma-separated SettleRequest text-format files, used round-robin");
ABSL_FLAG(std::string, id_prefix, "",
          "serial prefix of every settlement_id and admission_number (letters and digits); "
          "default: derived from the current time, so runs never collide");
ABSL_FLAG(int64_t, deadline_ms, 5000, "deadline of each call");
ABSL_FLAG(int64_t, warmup, 500, "calls made first and not counted");
ABSL_FLAG(std::string, method, "settle", "settle or presettle");
ABSL_FLAG(int64_t, max_seconds, 120, "overall limit; calls still missing then count as unfinished");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate to present (mutual TLS, docs/SECURITY.md): a hospital's, e.g. "
          "var/certs/institution_H50000000001.crt; empty with --tls_key/--tls_ca = plaintext");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA bundle to trust");

namespace yidi::bench {
namespace {

using Clock = std::chrono::steady_clock;
using v1::SettleRequest;
using v1::SettleResponse;

// One latency slot (8 bytes) per measured call is kept in memory: 10 million is 80 MB.
constexpr int64_t kRequestsMax = 10'000'000;
constexpr int64_t kWarmupMax = 1'000'000;
// Far beyond what two cores serve; more in flight would measure queueing, not the node.
constexpr int64_t kConcurrencyMax = 10'000;
constexpr size_t kTemplatesMax = 1'000;
constexpr size_t kTemplateBytesMax = 1 << 20;
constexpr int64_t kDeadlineMsMax = 60'000;
constexpr int64_t kMaxSecondsMax = 3'600;
// Keeps `<institution code>-<prefix><sequence>` short: 12 + 1 + 16 + 8 characters.
constexpr size_t kIdPrefixLengthMax = 16;
// The sequence is zero-padded to this width so ids sort in the order they were sent.
constexpr int kSequenceDigits = 8;
static_assert(kRequestsMax + kWarmupMax < 100'000'000, "the sequence must fit kSequenceDigits");
// A target that does not accept a connection in this time is down: fail before measuring.
constexpr auto kConnectTimeout = std::chrono::seconds(5);
// After the last deadline has passed, gRPC still needs a moment to deliver the callbacks.
constexpr auto kDrainSlack = std::chrono::seconds(2);
constexpr size_t kStatusCodeCount = 17;  // grpc::StatusCode OK (0) .. UNAUTHENTICATED (16)
constexpr std::array<const char*, kStatusCodeCount> kStatusCodeNames = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

struct LoadConfig {
  std::string target;
  int64_t requests = 0;
  int64_t concurrency = 0;
  int64_t warmup = 0;
  std::string id_prefix;
  std::chrono::milliseconds deadline{0};
  std::chrono::seconds max_seconds{0};
  bool presettle = false;
};

// What a finished run measured; only measured (non-warmup) calls are counted.
struct LoadReport {
  std::array<int64_t, kStatusCodeCount> calls_by_code{};
  int64_t ok = 0;
  int64_t errors = 0;
  int64_t unfinished = 0;
  int64_t warmup_errors = 0;
  double seconds = 0;
  std::vector<int64_t> latencies_us;  // sorted, one per finished measured call
  std::string first_error;
};

// Base-36 milliseconds since the epoch: 8 characters, different for every run.
std::string TimeDerivedPrefix() {
  constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  int64_t value = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  std::string reversed;
  while (value > 0) {
    reversed.push_back(kDigits[value % 36]);
    value /= 36;
  }
  return absl::StrCat("L", std::string(reversed.rbegin(), reversed.rend()));
}

std::string ZeroPadded(int64_t sequence) {
  std::string digits = absl::StrCat(sequence);
  YIDI_CHECK(digits.size() <= kSequenceDigits, "the sequence is bounded by kRequestsMax");
  return std::string(kSequenceDigits - digits.size(), '0') + digits;
}

// Reports text-format errors as file:line:column, which TextFormat alone does not name.
class TemplateErrorCollector final : public google::protobuf::io::ErrorCollector {
 public:
  explicit TemplateErrorCollector(std::string path) : path_(std::move(path)) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    std::fprintf(stderr, "yidi-load: %s:%d:%d: %s\n", path_.c_str(), line + 1, column + 1,
                 message.c_str());
  }

 private:
  const std::string path_;
};

// Reads one SettleRequest template; false (with the reason on stderr) if it is unusable.
bool LoadTemplate(const std::string& path, SettleRequest* request) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "yidi-load: cannot read template %s\n", path.c_str());
    return false;
  }
  std::ostringstream text;
  text << file.rdbuf();
  if (text.str().size() > kTemplateBytesMax) {
    std::fprintf(stderr, "yidi-load: template %s is over %zu bytes\n", path.c_str(),
                 kTemplateBytesMax);
    return false;
  }
  TemplateErrorCollector errors(path);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text.str(), request)) return false;
  if (request->visit().institution_code().empty()) {
    std::fprintf(stderr, "yidi-load: template %s has no visit.institution_code\n", path.c_str());
    return false;
  }
  return true;
}

// One run of the closed loop. Thread safety: Run() is called once, from one thread; the slot
// callbacks touch only atomics, their own slot, their own latency entry and (under mutex_) the
// first error message.
class LoadRun {
 public:
  LoadRun(LoadConfig config, std::unique_ptr<v1::SettlementService::Stub> stub,
          std::vector<SettleRequest> templates)
      : config_(std::move(config)),
        stub_(std::move(stub)),
        templates_(std::move(templates)),
        total_(config_.warmup + config_.requests),
        latencies_us_(config_.requests, -1),
        slots_(std::min(config_.concurrency, total_)) {
    YIDI_CHECK(!templates_.empty(), "flags were validated");
    YIDI_CHECK(!slots_.empty(), "requests >= 1 and concurrency >= 1");
  }

  // Runs until every call has finished or max_seconds passed, then waits for the calls still
  // in flight (bounded by their deadline) so that no callback outlives this object.
  LoadReport Run() {
    in_flight_.store(static_cast<int64_t>(slots_.size()));
    for (Slot& slot : slots_) StartNext(&slot);
    if (!done_.WaitForNotificationWithTimeout(absl::FromChrono(config_.max_seconds))) {
      std::fprintf(stderr, "yidi-load: --max_seconds reached, stopping\n");
      stopping_.store(true);
      const bool drained =
          done_.WaitForNotificationWithTimeout(absl::FromChrono(config_.deadline + kDrainSlack));
      YIDI_CHECK(drained, "every call ends by its deadline");
    }
    return Summarize();
  }

 private:
  struct Slot {
    int64_t sequence = 0;
    Clock::time_point started;
    std::unique_ptr<grpc::ClientContext> context;  // fresh per call: not reusable
    SettleRequest request;
    SettleResponse response;
  };

  // Takes the next sequence and sends it on `slot`, or retires the slot when none is left.
  void StartNext(Slot* slot) {
    const int64_t sequence = next_sequence_.fetch_add(1, std::memory_order_relaxed);
    if (sequence >= total_ || stopping_.load(std::memory_order_relaxed)) {
      Retire();
      return;
    }
    const SettleRequest& request_template = templates_[sequence % templates_.size()];
    const std::string serial = absl::StrCat(config_.id_prefix, ZeroPadded(sequence));
    slot->sequence = sequence;
    slot->request = request_template;
    slot->request.set_settlement_id(
        absl::StrCat(request_template.visit().institution_code(), "-", serial));
    slot->request.mutable_visit()->set_admission_number(serial);
    slot->response.Clear();
    slot->context = std::make_unique<grpc::ClientContext>();
    slot->context->set_deadline(std::chrono::system_clock::now() + config_.deadline);

    slot->started = Clock::now();
    if (sequence == config_.warmup) measure_started_ = slot->started;
    auto on_done = [this, slot](grpc::Status status) { OnDone(slot, status); };
    if (config_.presettle) {
      stub_->async()->PreSettle(slot->context.get(), &slot->request, &slot->response, on_done);
    } else {
      stub_->async()->Settle(slot->context.get(), &slot->request, &slot->response, on_done);
    }
  }

  void OnDone(Slot* slot, grpc::Status status) {
    const auto latency = Clock::now() - slot->started;
    // An OK answer about another settlement is as wrong as an error.
    if (status.ok() && slot->response.result().settlement_id() != slot->request.settlement_id()) {
      status = grpc::Status(grpc::StatusCode::INTERNAL,
                            "answer names another settlement_id than the request");
    }
    if (slot->sequence < config_.warmup) {
      if (!status.ok()) warmup_errors_.fetch_add(1, std::memory_order_relaxed);
    } else {
      latencies_us_[slot->sequence - config_.warmup] =
          std::chrono::duration_cast<std::chrono::microseconds>(latency).count();
      const size_t code = static_cast<size_t>(status.error_code());
      calls_by_code_[std::min(code, kStatusCodeCount - 1)].fetch_add(1, std::memory_order_relaxed);
      if (!status.ok()) RememberError(status);
    }
    StartNext(slot);
  }

  void RememberError(const grpc::Status& status) {
    absl::MutexLock lock(&mutex_);
    if (first_error_.empty()) {
      const size_t code = std::min<size_t>(status.error_code(), kStatusCodeCount - 1);
      first_error_ = absl::StrCat(kStatusCodeNames[code], ": ", status.error_message());
    }
  }

  // The last slot to retire ends the run; acq_rel orders every slot's writes before it.
  void Retire() {
    if (in_flight_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      finished_ = Clock::now();
      done_.Notify();
    }
  }

  // REQUIRES: done_ notified (every callback has run).
  LoadReport Summarize() {
    LoadReport report;
    for (size_t code = 0; code < kStatusCodeCount; ++code) {
      report.calls_by_code[code] = calls_by_code_[code].load();
      if (code == 0) {
        report.ok = report.calls_by_code[code];
      } else {
        report.errors += report.calls_by_code[code];
      }
    }
    report.unfinished = config_.requests - report.ok - report.errors;
    report.warmup_errors = warmup_errors_.load();
    if (measure_started_ != Clock::time_point{}) {
      report.seconds = std::chrono::duration<double>(finished_ - measure_started_).count();
    }
    for (int64_t latency_us : latencies_us_) {
      if (latency_us >= 0) report.latencies_us.push_back(latency_us);
    }
    std::sort(report.latencies_us.begin(), report.latencies_us.end());
    YIDI_CHECK(static_cast<int64_t>(report.latencies_us.size()) == report.ok + report.errors,
               "one latency per counted call");
    absl::MutexLock lock(&mutex_);
    report.first_error = first_error_;
    return report;
  }

  // Constant after construction.
  const LoadConfig config_;
  const std::unique_ptr<v1::SettlementService::Stub> stub_;
  const std::vector<SettleRequest> templates_;
  const int64_t total_;  // warmup + measured

  std::atomic<int64_t> next_sequence_{0};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> warmup_errors_{0};
  std::array<std::atomic<int64_t>, kStatusCodeCount> calls_by_code_{};
  // Written by the one call whose sequence == warmup (or that ends the run), read after done_.
  Clock::time_point measure_started_{};
  Clock::time_point finished_{};
  std::vector<int64_t> latencies_us_;  // per measured sequence; -1 until it finishes
  std::vector<Slot> slots_;            // fixed size: callbacks hold pointers into it
  absl::Notification done_;
  absl::Mutex mutex_;
  std::string first_error_ ABSL_GUARDED_BY(mutex_);
};

// Nearest-rank percentile of sorted latencies, in milliseconds.
double PercentileMs(const std::vector<int64_t>& sorted_us, double fraction) {
  if (sorted_us.empty()) return 0;
  const auto rank = std::clamp<size_t>(
      static_cast<size_t>(std::ceil(fraction * static_cast<double>(sorted_us.size()))), 1,
      sorted_us.size());
  return static_cast<double>(sorted_us[rank - 1]) / 1000.0;
}

void PrintReport(const LoadConfig& config, size_t template_count, const LoadReport& report) {
  const double per_second =
      report.seconds > 0 ? static_cast<double>(report.ok) / report.seconds : 0;
  const auto& latencies = report.latencies_us;
  std::vector<std::string> codes;
  for (size_t code = 0; code < kStatusCodeCount; ++code) {
    if (report.calls_by_code[code] == 0) continue;
    codes.push_back(absl::StrCat(kStatusCodeNames[code], "=", report.calls_by_code[code]));
  }
  std::printf("yidi-load: %s against %s, %zu template(s), id prefix %s\n",
              config.presettle ? "PreSettle" : "Settle", config.target.c_str(), template_count,
              config.id_prefix.c_str());
  std::printf("  warmup     %lld calls, %lld errors (not counted)\n",
              static_cast<long long>(config.warmup), static_cast<long long>(report.warmup_errors));
  std::printf("  measured   %lld calls, %lld in flight, %.3f s, %.1f settlements/s\n",
              static_cast<long long>(config.requests), static_cast<long long>(config.concurrency),
              report.seconds, per_second);
  std::printf("  status     %s%s\n", absl::StrJoin(codes, " ").c_str(),
              report.unfinished > 0 ? absl::StrCat(" unfinished=", report.unfinished).c_str() : "");
  if (!report.first_error.empty()) {
    std::printf("  first error  %s\n", report.first_error.c_str());
  }
  std::printf("  latency ms p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
              PercentileMs(latencies, 0.50), PercentileMs(latencies, 0.90),
              PercentileMs(latencies, 0.99), PercentileMs(latencies, 0.999),
              PercentileMs(latencies, 1.0));
  std::printf(
      "RESULT target=%s requests=%lld concurrency=%lld ok=%lld errors=%lld "
      "seconds=%.3f settlements_per_s=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
      config.target.c_str(), static_cast<long long>(config.requests),
      static_cast<long long>(config.concurrency), static_cast<long long>(report.ok),
      static_cast<long long>(report.errors + report.unfinished), report.seconds, per_second,
      PercentileMs(latencies, 0.50), PercentileMs(latencies, 0.99), PercentileMs(latencies, 1.0));
  std::fflush(stdout);
}

// Flags to a config; false (with the reason on stderr) when one is out of its limits.
bool ReadConfig(LoadConfig* config) {
  config->target = absl::GetFlag(FLAGS_target);
  config->requests = absl::GetFlag(FLAGS_requests);
  config->concurrency = absl::GetFlag(FLAGS_concurrency);
  config->warmup = absl::GetFlag(FLAGS_warmup);
  config->id_prefix = absl::GetFlag(FLAGS_id_prefix);
  if (config->id_prefix.empty()) config->id_prefix = TimeDerivedPrefix();
  config->deadline = std::chrono::milliseconds(absl::GetFlag(FLAGS_deadline_ms));
  config->max_seconds = std::chrono::seconds(absl::GetFlag(FLAGS_max_seconds));
  const std::string method = absl::GetFlag(FLAGS_method);
  config->presettle = method == "presettle";

  std::string problem;
  if (config->target.empty()) problem = "--target is required";
  if (config->requests < 1 || config->requests > kRequestsMax) {
    problem = absl::StrCat("--requests must be in 1..", kRequestsMax);
  }
  if (config->concurrency < 1 || config->concurrency > kConcurrencyMax) {
    problem = absl::StrCat("--concurrency must be in 1..", kConcurrencyMax);
  }
  if (config->warmup < 0 || config->warmup > kWarmupMax) {
    problem = absl::StrCat("--warmup must be in 0..", kWarmupMax);
  }
  if (config->id_prefix.size() > kIdPrefixLengthMax ||
      !std::all_of(config->id_prefix.begin(), config->id_prefix.end(),
                   [](char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); })) {
    problem =
        absl::StrCat("--id_prefix must be at most ", kIdPrefixLengthMax, " letters and digits");
  }
  if (config->deadline.count() < 1 || config->deadline.count() > kDeadlineMsMax) {
    problem = absl::StrCat("--deadline_ms must be in 1..", kDeadlineMsMax);
  }
  if (config->max_seconds.count() < 1 || config->max_seconds.count() > kMaxSecondsMax) {
    problem = absl::StrCat("--max_seconds must be in 1..", kMaxSecondsMax);
  }
  if (method != "settle" && method != "presettle") {
    problem = "--method must be settle or presettle";
  }
  if (!problem.empty()) std::fprintf(stderr, "yidi-load: %s\n", problem.c_str());
  return problem.empty();
}

int RunLoad() {
  LoadConfig config;
  if (!ReadConfig(&config)) return 2;
  const std::vector<std::string> template_paths = absl::GetFlag(FLAGS_templates);
  if (template_paths.empty() || template_paths.size() > kTemplatesMax) {
    std::fprintf(stderr, "yidi-load: --templates needs 1..%zu files\n", kTemplatesMax);
    return 2;
  }
  std::vector<SettleRequest> templates(template_paths.size());
  for (size_t i = 0; i < template_paths.size(); ++i) {
    if (!LoadTemplate(template_paths[i], &templates[i])) return 2;
  }

  // The HTTP proxy is off so that an environment variable can never reroute loopback traffic.
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  const std::string tls_files[3] = {absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                                    absl::GetFlag(FLAGS_tls_ca)};
  if (!tls_files[0].empty() || !tls_files[1].empty() || !tls_files[2].empty()) {
    std::string pem[3];
    for (int i = 0; i < 3; ++i) {
      std::ifstream in(tls_files[i], std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      pem[i] = text.str();
      if (!in || pem[i].empty()) {
        std::fprintf(stderr, "yidi-load: cannot read %s (--tls_cert, --tls_key and --tls_ca "
                     "go together)\n", tls_files[i].c_str());
        return 2;
      }
    }
    grpc::SslCredentialsOptions options;
    options.pem_cert_chain = pem[0];
    options.pem_private_key = pem[1];
    options.pem_root_certs = pem[2];
    credentials = grpc::SslCredentials(options);
  }
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(config.target, credentials, arguments);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + kConnectTimeout)) {
    std::fprintf(stderr, "yidi-load: cannot connect to %s\n", config.target.c_str());
    return 1;
  }

  const size_t template_count = templates.size();
  LoadRun run(config, v1::SettlementService::NewStub(channel), std::move(templates));
  const LoadReport report = run.Run();
  PrintReport(config, template_count, report);
  return report.errors == 0 && report.unfinished == 0 ? 0 : 1;
}

}  // namespace
}  // namespace yidi::bench

int main(int argc, char** argv) {
  // Debian builds Abseil in debug mode, where every absl::Mutex (gRPC locks them on each call)
  // feeds a process-wide deadlock graph; the load tool should spend its CPU on calls.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::ParseCommandLine(argc, argv);
  return yidi::bench::RunLoad();
}
