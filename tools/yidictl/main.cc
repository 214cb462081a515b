// yidictl: the operator and test CLI of the Yidi mesh. Talks to any node over the public
// contract (api/yidi/v1); holds no state of its own.
//
//   yidictl --target=HOST:PORT [--deadline_ms=N] <command words> [flags] [arguments]
//
// Every node requires mutual TLS (docs/SECURITY.md): yidictl presents the certificate of
// --identity from --tls_dir (deploy/certs.sh makes them), or --tls_cert/--tls_key/--tls_ca; --plaintext
// only for a node started with security.allow_plaintext.
//
// Exit codes: 0 success, 2 the node answered with an error (printed as "ERROR <CODE>: ..."),
// 1 a usage error. Commands are registered by the tools/yidictl/*_commands.cc files.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "common/grpc_status.h"
#include "common/security.h"
#include "tools/yidictl/command.h"

ABSL_FLAG(std::string, target, "127.0.0.1:17361", "the node to call, HOST:PORT");
ABSL_FLAG(int, deadline_ms, 10000, "deadline of the call");
ABSL_FLAG(bool, text, false, "print results as protobuf text");
ABSL_FLAG(std::string, tls_dir, "",
          "folder of <identity>.crt/.key and ca.crt (default $YIDI_TLS_DIR, else var/certs)");
ABSL_FLAG(std::string, identity, "operator_admin",
          "whose certificate to present: a file stem in --tls_dir, e.g. institution_H36010000001, "
          "operator_auditor, municipal_360100");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate to present (overrides --identity)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA bundle to trust (default <tls_dir>/ca.crt)");
ABSL_FLAG(bool, plaintext, false, "no TLS: only for a node with security.allow_plaintext");

namespace yidictl {

namespace {
std::vector<Command>& Registry() {
  static auto* const commands = new std::vector<Command>();
  return *commands;
}

std::string Usage() {
  std::string usage =
      "yidictl --target=HOST:PORT [--deadline_ms=N] [--text] [--identity=NAME] [--tls_dir=DIR]\n"
      "        [--tls_cert=PEM --tls_key=PEM --tls_ca=PEM | --plaintext] <command> [flags]\n\nCommands:\n";
  for (const Command& command : Commands()) usage += "  " + command.usage + "\n";
  return usage;
}
// The channel credentials the flags name; nullptr with --plaintext.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials() {
  if (absl::GetFlag(FLAGS_plaintext)) return nullptr;
  std::string dir = absl::GetFlag(FLAGS_tls_dir);
  if (dir.empty()) {
    const char* env = std::getenv("YIDI_TLS_DIR");
    dir = env != nullptr && *env != '\0' ? env : "var/certs";
  }
  const std::string identity = absl::GetFlag(FLAGS_identity);
  std::string cert = absl::GetFlag(FLAGS_tls_cert);
  std::string key = absl::GetFlag(FLAGS_tls_key);
  std::string ca = absl::GetFlag(FLAGS_tls_ca);
  if (cert.empty()) cert = dir + "/" + identity + ".crt";
  if (key.empty()) key = dir + "/" + identity + ".key";
  if (ca.empty()) ca = dir + "/ca.crt";
  auto files = yidi::ReadTlsFiles(cert, key, ca);
  if (!files.ok()) {
    return absl::Status(files.status().code(),
                        std::string(files.status().message()) +
                            " (run deploy/certs.sh, or pass --tls_dir or --tls_cert --tls_key --tls_ca; "
                            "--plaintext only for a plaintext node)");
  }
  return yidi::MakeChannelCredentials(*files);
}

}  // namespace

std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address) {
  auto credentials = Credentials();
  // main() checked the same flags before running any command.
  return yidi::MakeChannel(address, credentials.ok() ? *credentials : nullptr);
}

bool RegisterCommand(Command command) {
  Registry().push_back(std::move(command));
  return true;
}

const std::vector<Command>& Commands() { return Registry(); }

std::unique_ptr<grpc::ClientContext> MakeContext() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(absl::GetFlag(FLAGS_deadline_ms)));
  return context;
}

int UsageError(absl::string_view usage) {
  std::cerr << "usage: yidictl " << usage << "\n";
  return kExitUsage;
}

int Fail(const grpc::Status& status) {
  std::cout << "ERROR "
            << absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()))
            << ": " << status.error_message() << "\n";
  return kExitRemoteError;
}

}  // namespace yidictl

int main(int argc, char** argv) {
  const std::string usage = yidictl::Usage();
  absl::SetProgramUsageMessage(usage);
  std::vector<char*> parsed = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> words(parsed.begin() + 1, parsed.end());
  if (words.empty()) {
    std::cerr << usage;
    return yidictl::kExitUsage;
  }
  // The longest registered name that prefixes the positional words wins ("ledger balance").
  const yidictl::Command* best = nullptr;
  size_t best_words = 0;
  for (const auto& command : yidictl::Commands()) {
    std::vector<std::string> name = absl::StrSplit(command.name, ' ');
    if (name.size() > words.size() || name.size() <= best_words) continue;
    if (std::equal(name.begin(), name.end(), words.begin())) {
      best = &command;
      best_words = name.size();
    }
  }
  if (best == nullptr) {
    std::cerr << "unknown command " << words.front() << "\n\n" << usage;
    return yidictl::kExitUsage;
  }
  auto credentials = yidictl::Credentials();
  if (!credentials.ok()) {
    std::cerr << credentials.status().message() << "\n";
    return yidictl::kExitUsage;
  }
  auto channel = yidi::MakeChannel(absl::GetFlag(FLAGS_target), *credentials);
  return best->run(channel, std::vector<std::string>(words.begin() + best_words, words.end()));
}
