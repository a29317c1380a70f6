#pragma once

#include <ctime>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include <openssl/ssl.h>

#include "common/tls.h"

// TLS for the HTTP/2 relay (OpenSSL): the same files and rules as the gRPC servers and
// channels (common/tls.h), ALPN "h2", and the files re-read when they change, so that
// certificates mounted from Kubernetes Secrets rotate without a restart.
namespace accord {

class RelayTls final {
 public:
  // A server: --tls_cert and --tls_key; with --tls_ca, clients must present a certificate it
  // signed (mTLS).
  static absl::StatusOr<std::unique_ptr<RelayTls>> ForServer(const TlsFiles& files);
  // A client of the backends: verifies them with --tls_ca (host name or IP address of the
  // target), presents --tls_cert and --tls_key when given.
  static absl::StatusOr<std::unique_ptr<RelayTls>> ForClient(const TlsFiles& files);
  ~RelayTls();

  // A connection's TLS state on `fd`; `host` is the name a backend's certificate must carry.
  SSL* NewConnection(int fd, const std::string& host) const;
  // Re-reads the files when one changed since the last load (a broken set is logged and the
  // previous one kept). Connections made later use the new certificates.
  void ReloadIfChanged();

 private:
  RelayTls(TlsFiles files, bool server) : files_(std::move(files)), server_(server) {}
  static absl::StatusOr<std::unique_ptr<RelayTls>> Make(const TlsFiles& files, bool server);
  absl::StatusOr<SSL_CTX*> Load() const;
  std::time_t NewestChange() const;

  TlsFiles files_;
  bool server_;
  SSL_CTX* context_ = nullptr;
  std::time_t loaded_change_ = 0;
};

// True once `ssl` negotiated HTTP/2 through ALPN.
bool NegotiatedH2(const SSL* ssl);

}  // namespace accord
