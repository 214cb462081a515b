// yidictl: the operator and test CLI of the Yidi mesh. Talks to any node over the public
// contract (api/yidi/v1); holds no state of its own.
//
//   yidictl --target=HOST:PORT [--deadline_ms=N] <command words> [flags] [arguments]
//
// Exit codes: 0 success, 2 the node answered with an error (printed as "ERROR <CODE>: ..."),
// 1 a usage error. Commands are registered by the tools/yidictl/*_commands.cc files.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "common/grpc_status.h"
#include "tools/yidictl/command.h"

ABSL_FLAG(std::string, target, "127.0.0.1:17361", "the node to call, HOST:PORT");
ABSL_FLAG(int, deadline_ms, 10000, "deadline of the call");
ABSL_FLAG(bool, text, false, "print results as protobuf text");

namespace yidictl {

namespace {
std::vector<Command>& Registry() {
  static auto* const commands = new std::vector<Command>();
  return *commands;
}

std::string Usage() {
  std::string usage =
      "yidictl --target=HOST:PORT [--deadline_ms=N] [--text] <command> [flags]\n\nCommands:\n";
  for (const Command& command : Commands()) usage += "  " + command.usage + "\n";
  return usage;
}
}  // namespace

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
  auto channel = yidi::MakeChannel(absl::GetFlag(FLAGS_target));
  return best->run(channel, std::vector<std::string>(words.begin() + best_words, words.end()));
}
