#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

// TLS and mTLS from certificate files that are watched and re-read when they change (so
// certificates mounted from Kubernetes Secrets rotate without a restart).
namespace accord {

struct TlsFiles {
  std::string cert;  // PEM certificate chain of this process
  std::string key;   // PEM private key
  std::string ca;    // PEM roots: verify peers (servers require client certificates with it)
  bool enabled() const { return !cert.empty() || !key.empty() || !ca.empty(); }
};

// INVALID_ARGUMENT naming the flag when the files are unusable for a server (cert and key
// are both required) or for a client (ca required; cert and key together or not at all).
absl::Status ValidateServerTls(const TlsFiles& files);
absl::Status ValidateClientTls(const TlsFiles& files);

// Server credentials: TLS with the certificate and key; with a CA, clients must present a
// certificate it signed (mTLS).
std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const TlsFiles& files);
// Channel credentials verifying the server with the CA, presenting cert/key when given.
std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const TlsFiles& files);

// Plaintext is for loopback: FAILED_PRECONDITION for a plaintext `address` that is not a
// loopback address unless `allow_plaintext` (a service mesh provides the transport security).
absl::Status CheckPlaintext(const std::string& what, const std::string& address,
                            bool allow_plaintext);

}  // namespace accord
