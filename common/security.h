// Who is calling (CallerIdentity, read from the peer's TLS certificate and nothing else) and
// the TLS credentials of a node or a client (docs/SECURITY.md).
//
// Identity scheme: one SAN URI per certificate, issued by the agencies' CA:
//   yidi://node/<municipal|provincial|national>/<6-digit region code>
//   yidi://institution/<institution code>
//   yidi://operator/<name>?role=<admin|clearing|service|auditor>[&region=<6-digit code>]
// An operator certificate without a region is valid at every node (the national operations
// centre); with one, only at that region's nodes. Names: [A-Za-z0-9._-], at most 64 bytes.
#ifndef YIDI_COMMON_SECURITY_H_
#define YIDI_COMMON_SECURITY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"
#include "yidi/v1/common.pb.h"
#include "yidi/v1/security.pb.h"

namespace yidi {

enum class CallerKind {
  kPlaintext,    // a plaintext node (security.allow_plaintext): nobody is authenticated
  kNode,
  kInstitution,
  kOperator,
};

struct CallerIdentity {
  CallerKind kind = CallerKind::kPlaintext;
  yidi::v1::NodeKind node_kind = yidi::v1::NODE_KIND_UNSPECIFIED;  // kNode
  std::string region_code;       // kNode; kOperator (empty = every region)
  std::string institution_code;  // kInstitution
  std::string operator_name;     // kOperator
  std::string role;              // kOperator
  // The canonical URI ("yidi://node/municipal/360100"); "plaintext" for kPlaintext. This is
  // what CallInfo::caller, messages and the audit log carry.
  std::string uri;
};

// Parses one identity URI of the scheme above. INVALID_ARGUMENT naming what is wrong.
absl::StatusOr<CallerIdentity> ParseIdentityUri(absl::string_view uri);

// Canonical URIs, for certificates and tests.
std::string NodeIdentityUri(yidi::v1::NodeKind kind, absl::string_view region_code);
std::string InstitutionIdentityUri(absl::string_view code);
std::string OperatorIdentityUri(absl::string_view name, absl::string_view role,
                                absl::string_view region_code = "");

// The identity of a TLS peer: the one yidi:// SAN URI of its verified certificate.
// UNAUTHENTICATED when the peer presented none, several, or one that does not parse.
absl::StatusOr<CallerIdentity> IdentityOfPeer(const grpc::AuthContext& auth);

// PEM contents of a certificate, its key and the CA bundle to trust.
struct TlsFiles {
  std::string cert_pem;
  std::string key_pem;
  std::string ca_pem;
};

// Reads the three files. NOT_FOUND naming the file that cannot be read; INVALID_ARGUMENT when
// a file is not PEM.
absl::StatusOr<TlsFiles> ReadTlsFiles(const std::string& cert_file, const std::string& key_file,
                                      const std::string& ca_file);

// Server side: TLS 1.2+, the client must present a certificate the CA signed (expired or
// foreign ones fail the handshake, before any call).
std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const TlsFiles& files);
// Client side: presents `files.cert_pem`, verifies the server against `files.ca_pem`.
std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const TlsFiles& files);

}  // namespace yidi

#endif  // YIDI_COMMON_SECURITY_H_
