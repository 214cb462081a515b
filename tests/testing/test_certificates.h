// A throwaway certificate authority for tests (OpenSSL, EC P-256: a certificate takes well
// under a millisecond), so every test runs over mutual TLS with certificates made on the spot:
// the identities of docs/SECURITY.md, expired ones, and ones from a CA nobody trusts.
// Every certificate also names DNS:localhost and IP:127.0.0.1, so it can serve a node on
// loopback. Validity uses the real clock: TLS never sees the mesh's FakeClock.
#ifndef YIDI_TESTS_TESTING_TEST_CERTIFICATES_H_
#define YIDI_TESTS_TESTING_TEST_CERTIFICATES_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/security.h"
#include "grpcpp/grpcpp.h"
#include "yidi/v1/config.pb.h"
#include "yidi/v1/directory.pb.h"

namespace yidi::testing {

class TestCertificateAuthority {
 public:
  // A new CA with its own key.
  static absl::StatusOr<std::shared_ptr<TestCertificateAuthority>> Create(
      absl::string_view common_name = "Yidi test CA");
  ~TestCertificateAuthority();

  // A key and a certificate carrying `identity_uri` as its SAN URI ("" = none), valid from
  // `not_before` to `not_after`. The returned files trust this CA.
  absl::StatusOr<TlsFiles> Issue(absl::string_view identity_uri, absl::Time not_before,
                                 absl::Time not_after) const;
  // Valid from a day ago for 30 days.
  absl::StatusOr<TlsFiles> Issue(absl::string_view identity_uri) const;

  const std::string& ca_pem() const { return ca_pem_; }

  // Writes `files` as <dir>/<stem>.crt, <stem>.key and <dir>/ca.crt (this CA).
  absl::Status Write(const TlsFiles& files, const std::string& dir,
                     const std::string& stem) const;

 private:
  TestCertificateAuthority() = default;
  struct Key;
  std::unique_ptr<Key> key_;
  void* cert_ = nullptr;  // X509*
  std::string ca_pem_;
};

// Client credentials presenting `files` (common/security.h MakeChannelCredentials).
std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address, const TlsFiles& files);

// For the multi-process tests: one CA per test process and a folder under /tmp (removed at
// exit) holding what it issued, in the layout yidictl --tls_dir expects: ca.crt,
// operator_admin.{crt,key} (yidi://operator/test?role=admin) and, once
// WriteInstitutionCertificates ran, institution_<code>.{crt,key}.
TestCertificateAuthority& ProcessTestCa();
const std::string& ProcessCertDir();
// Gives `config` a certificate of its node identity (written to ProcessCertDir()), replacing
// whatever security settings it had. Aborts when OpenSSL fails (a broken test machine).
void UseProcessCertificate(yidi::v1::NodeConfig* config);
void WriteInstitutionCertificates(const yidi::v1::Directory& directory);
// The credentials of yidi://operator/test?role=admin.
std::shared_ptr<grpc::ChannelCredentials> ProcessOperatorCredentials();

}  // namespace yidi::testing

#endif  // YIDI_TESTS_TESTING_TEST_CERTIFICATES_H_
