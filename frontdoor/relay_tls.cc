#include "frontdoor/relay_tls.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/log.h"

namespace accord {
namespace {

constexpr unsigned char kAlpnH2[] = {2, 'h', '2'};

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

int SelectH2(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
             unsigned int in_length, void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, kAlpnH2, sizeof kAlpnH2, in, in_length) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;  // gRPC is HTTP/2 only
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RelayTls>> RelayTls::ForServer(const TlsFiles& files) {
  if (absl::Status s = ValidateServerTls(files); !s.ok()) {
    return s;
  }
  return Make(files, true);
}

absl::StatusOr<std::unique_ptr<RelayTls>> RelayTls::ForClient(const TlsFiles& files) {
  if (absl::Status s = ValidateClientTls(files); !s.ok()) {
    return s;
  }
  return Make(files, false);
}

absl::StatusOr<std::unique_ptr<RelayTls>> RelayTls::Make(const TlsFiles& files, bool server) {
  std::unique_ptr<RelayTls> tls(new RelayTls(files, server));
  absl::StatusOr<SSL_CTX*> context = tls->Load();
  if (!context.ok()) {
    return context.status();
  }
  tls->context_ = *context;
  tls->loaded_change_ = tls->NewestChange();
  return tls;
}

RelayTls::~RelayTls() { SSL_CTX_free(context_); }

absl::StatusOr<SSL_CTX*> RelayTls::Load() const {
  SSL_CTX* context = SSL_CTX_new(server_ ? TLS_server_method() : TLS_client_method());
  auto fail = [&](const std::string& what) -> absl::Status {
    SSL_CTX_free(context);
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", OpenSslError()));
  };
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (!files_.cert.empty()) {
    if (SSL_CTX_use_certificate_chain_file(context, files_.cert.c_str()) != 1) {
      return fail(absl::StrCat("--tls_cert=", files_.cert));
    }
    if (SSL_CTX_use_PrivateKey_file(context, files_.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(context) != 1) {
      return fail(absl::StrCat("--tls_key=", files_.key));
    }
  }
  if (!files_.ca.empty()) {
    if (SSL_CTX_load_verify_locations(context, files_.ca.c_str(), nullptr) != 1) {
      return fail(absl::StrCat("--tls_ca=", files_.ca));
    }
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER | (server_ ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                       nullptr);
  }
  if (server_) {
    SSL_CTX_set_alpn_select_cb(context, &SelectH2, nullptr);
  } else if (SSL_CTX_set_alpn_protos(context, kAlpnH2, sizeof kAlpnH2) != 0) {
    return fail("ALPN");
  }
  return context;
}

std::time_t RelayTls::NewestChange() const {
  std::time_t newest = 0;
  for (const std::string* path : {&files_.cert, &files_.key, &files_.ca}) {
    struct stat st {};
    if (!path->empty() && stat(path->c_str(), &st) == 0) {
      newest = std::max(newest, st.st_mtime);
    }
  }
  return newest;
}

void RelayTls::ReloadIfChanged() {
  std::time_t change = NewestChange();
  if (change == loaded_change_) {
    return;
  }
  absl::StatusOr<SSL_CTX*> context = Load();
  if (!context.ok()) {
    // A Secret is often written file by file: the next check sees the complete set.
    Log(LogLevel::kWarning, "TLS files changed but do not load; keeping the previous ones",
        {{"error", context.status().ToString()}});
    return;
  }
  SSL_CTX_free(context_);
  context_ = *context;
  loaded_change_ = change;
  Log(LogLevel::kInfo, "TLS files reloaded", {});
}

SSL* RelayTls::NewConnection(int fd, const std::string& host) const {
  SSL* ssl = SSL_new(context_);
  SSL_set_fd(ssl, fd);
  if (server_) {
    SSL_set_accept_state(ssl);
    return ssl;
  }
  SSL_set_connect_state(ssl);
  unsigned char address[sizeof(in6_addr)];
  if (inet_pton(AF_INET, host.c_str(), address) == 1 ||
      inet_pton(AF_INET6, host.c_str(), address) == 1) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, host.c_str());
    SSL_set1_host(ssl, host.c_str());
  }
  return ssl;
}

bool NegotiatedH2(const SSL* ssl) {
  const unsigned char* protocol = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl, &protocol, &length);
  return length == 2 && std::memcmp(protocol, "h2", 2) == 0;
}

}  // namespace accord
