// yidictl's command registry. Each area of the CLI lives in its own file
// (tools/yidictl/<area>_commands.cc) and registers its commands with YIDICTL_COMMAND; main.cc
// parses the flags and dispatches. Flags are absl flags defined in the file that uses them;
// the shared ones (--target, --deadline_ms, --text) are declared here.
#ifndef YIDI_TOOLS_YIDICTL_COMMAND_H_
#define YIDI_TOOLS_YIDICTL_COMMAND_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"

ABSL_DECLARE_FLAG(std::string, target);
ABSL_DECLARE_FLAG(int, deadline_ms);
ABSL_DECLARE_FLAG(bool, text);

namespace yidictl {

// Exit codes: 0 success, 1 usage error, 2 the node answered with an error.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitRemoteError = 2;

struct Command {
  std::string name;   // "settle", "ledger balance"
  std::string usage;  // one or more lines for --help
  // `args` are the positional arguments after the command's words.
  std::function<int(const std::shared_ptr<grpc::Channel>& channel,
                     const std::vector<std::string>& args)>
      run;
};

// Registers at static-initialisation time; returns true so it can initialise a variable.
bool RegisterCommand(Command command);
const std::vector<Command>& Commands();

// A channel to another node than --target (e.g. --national_target), presenting the same
// certificate as the main channel (--identity / --tls_* / --plaintext).
std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address);

// A client context with the --deadline_ms deadline.
std::unique_ptr<grpc::ClientContext> MakeContext();

// Prints "ERROR <CODE>: <message>" and returns kExitRemoteError.
int Fail(const grpc::Status& status);

// Prints "usage: yidictl <usage>" to stderr and returns kExitUsage.
int UsageError(absl::string_view usage);

}  // namespace yidictl

#define YIDICTL_CONCAT_INNER(a, b) a##b
#define YIDICTL_CONCAT(a, b) YIDICTL_CONCAT_INNER(a, b)
// YIDICTL_COMMAND("name", "usage", [](auto& channel, auto& args) { ...; return 0; });
#define YIDICTL_COMMAND(name, usage, ...)                                         \
  static const bool YIDICTL_CONCAT(yidictl_registered_, __LINE__) =               \
      ::yidictl::RegisterCommand(::yidictl::Command{name, usage, __VA_ARGS__})

#endif  // YIDI_TOOLS_YIDICTL_COMMAND_H_
