#include "common/tls.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

#include "common/log.h"
#include "common/server.h"

namespace accord {
namespace {

constexpr unsigned int kRefreshSeconds = 60;

absl::Status CheckFile(const std::string& flag, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, "=", path, ": no such file"));
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::experimental::CertificateProviderInterface> Provider(const TlsFiles& files) {
  if (files.cert.empty()) {
    return std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(files.ca,
                                                                                kRefreshSeconds);
  }
  if (files.ca.empty()) {
    return std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        files.key, files.cert, kRefreshSeconds);
  }
  return std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key, files.cert, files.ca, kRefreshSeconds);
}

}  // namespace

absl::Status ValidateServerTls(const TlsFiles& files) {
  if (files.cert.empty() || files.key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key are both required for TLS");
  }
  if (absl::Status s = CheckFile("tls_cert", files.cert); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckFile("tls_key", files.key); !s.ok()) {
    return s;
  }
  return files.ca.empty() ? absl::OkStatus() : CheckFile("tls_ca", files.ca);
}

absl::Status ValidateClientTls(const TlsFiles& files) {
  if (files.ca.empty()) {
    return absl::InvalidArgumentError("--tls_ca is required to verify backends");
  }
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  if (absl::Status s = CheckFile("tls_ca", files.ca); !s.ok()) {
    return s;
  }
  if (!files.cert.empty()) {
    if (absl::Status s = CheckFile("tls_cert", files.cert); !s.ok()) {
      return s;
    }
    return CheckFile("tls_key", files.key);
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const TlsFiles& files) {
  grpc::experimental::TlsServerCredentialsOptions options(Provider(files));
  options.watch_identity_key_cert_pairs();
  if (!files.ca.empty()) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const TlsFiles& files) {
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(Provider(files));
  options.watch_root_certs();
  if (!files.cert.empty()) {
    options.watch_identity_key_cert_pairs();
  }
  options.set_verify_server_certs(true);
  return grpc::experimental::TlsCredentials(options);
}

absl::Status CheckPlaintext(const std::string& what, const std::string& address,
                            bool allow_plaintext) {
  if (IsLoopback(address)) {
    return absl::OkStatus();
  }
  if (!allow_plaintext) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " ", address,
        " is not a loopback address: give --tls_cert/--tls_key/--tls_ca, or --allow_plaintext "
        "when a service mesh provides transport security"));
  }
  Log(LogLevel::kWarning, "plaintext on a non-loopback address (--allow_plaintext)",
      {{"what", what}, {"address", address}});
  return absl::OkStatus();
}

}  // namespace accord
