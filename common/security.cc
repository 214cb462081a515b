#include "common/security.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace yidi {
namespace {

constexpr absl::string_view kScheme = "yidi://";
constexpr size_t kNameLengthMax = 64;

bool IsName(absl::string_view name) {
  if (name.empty() || name.size() > kNameLengthMax) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsRegionCode(absl::string_view code) {
  if (code.size() != 6) return false;
  for (char c : code) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::Status Bad(absl::string_view uri, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("identity \"", uri, "\": ", why));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

std::string NodeIdentityUri(yidi::v1::NodeKind kind, absl::string_view region_code) {
  absl::string_view kind_name = "unspecified";
  if (kind == yidi::v1::NODE_KIND_MUNICIPAL) kind_name = "municipal";
  if (kind == yidi::v1::NODE_KIND_PROVINCIAL) kind_name = "provincial";
  if (kind == yidi::v1::NODE_KIND_NATIONAL) kind_name = "national";
  return absl::StrCat(kScheme, "node/", kind_name, "/", region_code);
}

std::string InstitutionIdentityUri(absl::string_view code) {
  return absl::StrCat(kScheme, "institution/", code);
}

std::string OperatorIdentityUri(absl::string_view name, absl::string_view role,
                                absl::string_view region_code) {
  std::string uri = absl::StrCat(kScheme, "operator/", name, "?role=", role);
  if (!region_code.empty()) absl::StrAppend(&uri, "&region=", region_code);
  return uri;
}

absl::StatusOr<CallerIdentity> ParseIdentityUri(absl::string_view uri) {
  if (!absl::StartsWith(uri, kScheme)) return Bad(uri, "not a yidi:// URI");
  absl::string_view rest = uri.substr(kScheme.size());
  CallerIdentity identity;
  if (absl::ConsumePrefix(&rest, "node/")) {
    std::vector<absl::string_view> parts = absl::StrSplit(rest, '/');
    if (parts.size() != 2) return Bad(uri, "a node is yidi://node/<kind>/<region code>");
    identity.kind = CallerKind::kNode;
    if (parts[0] == "municipal") {
      identity.node_kind = yidi::v1::NODE_KIND_MUNICIPAL;
    } else if (parts[0] == "provincial") {
      identity.node_kind = yidi::v1::NODE_KIND_PROVINCIAL;
    } else if (parts[0] == "national") {
      identity.node_kind = yidi::v1::NODE_KIND_NATIONAL;
    } else {
      return Bad(uri, "node kind must be municipal, provincial or national");
    }
    if (!IsRegionCode(parts[1])) return Bad(uri, "region code must be 6 digits");
    if (identity.node_kind == yidi::v1::NODE_KIND_NATIONAL && parts[1] != "000000") {
      return Bad(uri, "the national node's region code is 000000");
    }
    identity.region_code = std::string(parts[1]);
    identity.uri = NodeIdentityUri(identity.node_kind, identity.region_code);
    return identity;
  }
  if (absl::ConsumePrefix(&rest, "institution/")) {
    if (!IsName(rest)) return Bad(uri, "institution code must be [A-Za-z0-9._-], 1-64 bytes");
    identity.kind = CallerKind::kInstitution;
    identity.institution_code = std::string(rest);
    identity.uri = InstitutionIdentityUri(rest);
    return identity;
  }
  if (absl::ConsumePrefix(&rest, "operator/")) {
    std::pair<absl::string_view, absl::string_view> name_query = absl::StrSplit(rest, '?');
    if (!IsName(name_query.first)) {
      return Bad(uri, "operator name must be [A-Za-z0-9._-], 1-64 bytes");
    }
    identity.kind = CallerKind::kOperator;
    identity.operator_name = std::string(name_query.first);
    for (absl::string_view pair : absl::StrSplit(name_query.second, '&', absl::SkipEmpty())) {
      std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(pair, '=');
      if (kv.first == "role" && identity.role.empty() && IsName(kv.second)) {
        identity.role = std::string(kv.second);
      } else if (kv.first == "region" && identity.region_code.empty() &&
                 IsRegionCode(kv.second)) {
        identity.region_code = std::string(kv.second);
      } else {
        return Bad(uri, absl::StrCat("unexpected or repeated query part \"", pair, "\""));
      }
    }
    if (identity.role.empty()) return Bad(uri, "an operator needs ?role=");
    identity.uri =
        OperatorIdentityUri(identity.operator_name, identity.role, identity.region_code);
    return identity;
  }
  return Bad(uri, "expected yidi://node/, yidi://institution/ or yidi://operator/");
}

absl::StatusOr<CallerIdentity> IdentityOfPeer(const grpc::AuthContext& auth) {
  if (!auth.IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("the caller presented no verified certificate");
  }
  // gRPC lists URI SANs under "x509_subject_alternative_name" (with the DNS and IP ones) and,
  // in newer releases, under "peer_uri" as well; collect the distinct yidi:// values.
  std::vector<std::string> uris;
  for (const char* property : {"x509_subject_alternative_name", "peer_uri"}) {
    for (const grpc::string_ref& value : auth.FindPropertyValues(property)) {
      std::string text(value.data(), value.size());
      if (!absl::StartsWith(text, kScheme)) continue;
      bool seen = false;
      for (const std::string& uri : uris) seen = seen || uri == text;
      if (!seen) uris.push_back(std::move(text));
    }
  }
  if (uris.size() != 1) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the caller's certificate must carry exactly one yidi:// SAN URI, it has ", uris.size()));
  }
  auto identity = ParseIdentityUri(uris.front());
  if (!identity.ok()) return absl::UnauthenticatedError(identity.status().message());
  return identity;
}

absl::StatusOr<TlsFiles> ReadTlsFiles(const std::string& cert_file, const std::string& key_file,
                                      const std::string& ca_file) {
  TlsFiles files;
  struct Item {
    const std::string* path;
    std::string* out;
    const char* what;
  };
  for (const Item& item : {Item{&cert_file, &files.cert_pem, "certificate"},
                           Item{&key_file, &files.key_pem, "private key"},
                           Item{&ca_file, &files.ca_pem, "CA bundle"}}) {
    if (item.path->empty()) {
      return absl::InvalidArgumentError(absl::StrCat("the ", item.what, " file is required"));
    }
    auto text = ReadFile(*item.path);
    if (!text.ok()) return text.status();
    if (!absl::StrContains(*text, "-----BEGIN ")) {
      return absl::InvalidArgumentError(
          absl::StrCat(*item.path, ": not a PEM ", item.what));
    }
    *item.out = std::move(*text);
  }
  return files;
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const TlsFiles& files) {
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = files.ca_pem;
  options.pem_key_cert_pairs.push_back({files.key_pem, files.cert_pem});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const TlsFiles& files) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = files.ca_pem;
  options.pem_private_key = files.key_pem;
  options.pem_cert_chain = files.cert_pem;
  return grpc::SslCredentials(options);
}

}  // namespace yidi
