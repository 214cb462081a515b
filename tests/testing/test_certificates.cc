#include "tests/testing/test_certificates.h"

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"

namespace yidi::testing {

struct TestCertificateAuthority::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

namespace {

absl::Status OpenSslError(absl::string_view what) {
  return absl::InternalError(absl::StrCat("openssl: ", what));
}

EVP_PKEY* NewKey() { return EVP_EC_gen("P-256"); }

std::string PemOfCert(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  return pem;
}

std::string PemOfKey(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  return pem;
}

bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key`, signed by `issuer_key` (self-signed when `issuer` is null).
X509* MakeCert(EVP_PKEY* key, absl::string_view common_name, X509* issuer, EVP_PKEY* issuer_key,
               absl::Time not_before, absl::Time not_after, bool ca,
               absl::string_view identity_uri) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  unsigned char serial_bytes[16];
  RAND_bytes(serial_bytes, sizeof(serial_bytes));
  serial_bytes[0] &= 0x7f;
  BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert));
  BN_free(serial);
  ASN1_TIME_set(X509_getm_notBefore(cert), absl::ToTimeT(not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert), absl::ToTimeT(not_after));
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  const std::string cn(common_name.substr(0, 64));
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509* issuer_cert = issuer != nullptr ? issuer : cert;
  bool ok = true;
  if (ca) {
    ok = ok && AddExtension(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    ok = ok && AddExtension(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    ok = ok && AddExtension(cert, issuer_cert, NID_subject_key_identifier, "hash");
  } else {
    ok = ok && AddExtension(cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    ok = ok && AddExtension(cert, issuer_cert, NID_key_usage,
                            "critical,digitalSignature,keyAgreement");
    ok = ok && AddExtension(cert, issuer_cert, NID_ext_key_usage, "serverAuth,clientAuth");
    std::string san = "DNS:localhost,IP:127.0.0.1";
    if (!identity_uri.empty()) san = absl::StrCat("URI:", identity_uri, ",", san);
    ok = ok && AddExtension(cert, issuer_cert, NID_subject_alt_name, san);
  }
  if (!ok || X509_sign(cert, issuer_key, EVP_sha256()) == 0) {
    X509_free(cert);
    return nullptr;
  }
  return cert;
}

}  // namespace

absl::StatusOr<std::shared_ptr<TestCertificateAuthority>> TestCertificateAuthority::Create(
    absl::string_view common_name) {
  auto ca = std::shared_ptr<TestCertificateAuthority>(new TestCertificateAuthority());
  ca->key_ = std::make_unique<Key>();
  ca->key_->pkey = NewKey();
  if (ca->key_->pkey == nullptr) return OpenSslError("EC P-256 key generation failed");
  const absl::Time now = absl::Now();
  X509* cert = MakeCert(ca->key_->pkey, common_name, nullptr, ca->key_->pkey,
                        now - absl::Hours(24), now + absl::Hours(24 * 365), true, "");
  if (cert == nullptr) return OpenSslError("cannot make the CA certificate");
  ca->cert_ = cert;
  ca->ca_pem_ = PemOfCert(cert);
  return ca;
}

TestCertificateAuthority::~TestCertificateAuthority() {
  X509_free(static_cast<X509*>(cert_));
}

absl::StatusOr<TlsFiles> TestCertificateAuthority::Issue(absl::string_view identity_uri,
                                                         absl::Time not_before,
                                                         absl::Time not_after) const {
  Key key;
  key.pkey = NewKey();
  if (key.pkey == nullptr) return OpenSslError("EC P-256 key generation failed");
  X509* cert = MakeCert(key.pkey, identity_uri.empty() ? "no identity" : identity_uri,
                        static_cast<X509*>(cert_), key_->pkey, not_before, not_after, false,
                        identity_uri);
  if (cert == nullptr) return OpenSslError(absl::StrCat("cannot issue ", identity_uri));
  TlsFiles files;
  files.cert_pem = PemOfCert(cert);
  files.key_pem = PemOfKey(key.pkey);
  files.ca_pem = ca_pem_;
  X509_free(cert);
  return files;
}

absl::StatusOr<TlsFiles> TestCertificateAuthority::Issue(absl::string_view identity_uri) const {
  const absl::Time now = absl::Now();
  return Issue(identity_uri, now - absl::Hours(24), now + absl::Hours(24 * 30));
}

absl::Status TestCertificateAuthority::Write(const TlsFiles& files, const std::string& dir,
                                             const std::string& stem) const {
  for (const auto& [path, text] :
       {std::pair<std::string, const std::string*>{absl::StrCat(dir, "/", stem, ".crt"),
                                                   &files.cert_pem},
        {absl::StrCat(dir, "/", stem, ".key"), &files.key_pem},
        {absl::StrCat(dir, "/ca.crt"), &ca_pem_}}) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << *text;
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address, const TlsFiles& files) {
  return MakeChannel(address, MakeChannelCredentials(files));
}

namespace {

constexpr char kProcessOperator[] = "yidi://operator/test?role=admin";

template <typename T>
T Required(absl::StatusOr<T> value, absl::string_view what) {
  if (!value.ok()) {
    std::fprintf(stderr, "test certificates: %s: %s\n", std::string(what).c_str(),
                 std::string(value.status().message()).c_str());
    std::abort();
  }
  return *std::move(value);
}

void Require(const absl::Status& status, absl::string_view what) {
  Required(absl::StatusOr<bool>(status.ok() ? absl::StatusOr<bool>(true)
                                            : absl::StatusOr<bool>(status)),
           what);
}

struct ProcessCertificates {
  std::shared_ptr<TestCertificateAuthority> ca;
  std::string dir;
  TlsFiles operator_files;
};

ProcessCertificates& Process() {
  static ProcessCertificates* const process = [] {
    auto* made = new ProcessCertificates();
    made->ca = Required(TestCertificateAuthority::Create("Yidi test process CA"), "CA");
    std::string pattern = "/tmp/yidi-certs-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::fprintf(stderr, "test certificates: mkdtemp failed\n");
      std::abort();
    }
    made->dir = pattern;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(Process().dir, ignored);
    });
    made->operator_files = Required(made->ca->Issue(kProcessOperator), "operator certificate");
    Require(made->ca->Write(made->operator_files, made->dir, "operator_admin"), "write");
    return made;
  }();
  return *process;
}

}  // namespace

TestCertificateAuthority& ProcessTestCa() { return *Process().ca; }
const std::string& ProcessCertDir() { return Process().dir; }

void UseProcessCertificate(yidi::v1::NodeConfig* config) {
  ProcessCertificates& process = Process();
  const std::string uri = NodeIdentityUri(config->kind(), config->region_code());
  const std::string stem = absl::StrCat(
      yidi::v1::NodeKind_Name(config->kind()), "_", config->region_code());
  TlsFiles files = Required(process.ca->Issue(uri), uri);
  Require(process.ca->Write(files, process.dir, stem), stem);
  config->set_plaintext(false);
  config->clear_security();
  auto* security = config->mutable_security();
  security->set_cert_file(absl::StrCat(process.dir, "/", stem, ".crt"));
  security->set_key_file(absl::StrCat(process.dir, "/", stem, ".key"));
  security->set_ca_file(absl::StrCat(process.dir, "/ca.crt"));
}

void WriteInstitutionCertificates(const yidi::v1::Directory& directory) {
  ProcessCertificates& process = Process();
  for (const auto& institution : directory.institutions()) {
    const std::string stem = absl::StrCat("institution_", institution.code());
    TlsFiles files = Required(process.ca->Issue(InstitutionIdentityUri(institution.code())), stem);
    Require(process.ca->Write(files, process.dir, stem), stem);
  }
}

std::shared_ptr<grpc::ChannelCredentials> ProcessOperatorCredentials() {
  return MakeChannelCredentials(Process().operator_files);
}

}  // namespace yidi::testing
