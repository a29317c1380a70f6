#include "common/call_auth.h"

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

#include "common/log.h"
#include "common/server.h"
#include "common/status.h"

namespace accord {
std::optional<absl::string_view> ClientMetadata(const grpc::ServerContextBase& context,
                                                absl::string_view key) {
  const auto& md = context.client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) {
    return std::nullopt;
  }
  return absl::string_view(it->second.data(), it->second.size());
}

void AddSecurityFlags(CLI::App& app, SecurityOptions& o) {
  app.add_option("--keys", o.keys, "API keys file (YAML, SHA-256 hashes)")->envname("ACCORD_KEYS");
  app.add_option("--jwt_keys_dir", o.jwt_keys_dir,
                 "JWT public keys: <kid>.rs256.pem / <kid>.es256.pem, re-read on change")
      ->envname("ACCORD_JWT_KEYS_DIR");
  app.add_option("--jwt_issuer", o.jwt_issuer, "required iss of JWTs")
      ->envname("ACCORD_JWT_ISSUER");
  app.add_option("--jwt_audience", o.jwt_audience, "required aud of JWTs")
      ->envname("ACCORD_JWT_AUDIENCE");
  app.add_flag("--insecure_dev", o.insecure_dev,
               "allow running without keys on a loopback address (development only)")
      ->envname("ACCORD_INSECURE_DEV");
  app.add_option("--tls_cert", o.tls.cert, "PEM certificate chain (TLS)")
      ->envname("ACCORD_TLS_CERT");
  app.add_option("--tls_key", o.tls.key, "PEM private key (TLS)")->envname("ACCORD_TLS_KEY");
  app.add_option("--tls_ca", o.tls.ca, "PEM CA bundle: require client certificates (mTLS)")
      ->envname("ACCORD_TLS_CA");
  app.add_flag("--allow_plaintext", o.allow_plaintext,
               "plaintext on a non-loopback address (a service mesh secures the transport)")
      ->envname("ACCORD_ALLOW_PLAINTEXT");
}

absl::StatusOr<Authenticators> LoadAuthenticators(const SecurityOptions& options,
                                                  const std::string& listen) {
  Authenticators out;
  if (!options.keys.empty()) {
    absl::StatusOr<KeyStore> loaded = KeyStore::LoadFile(options.keys);
    if (!loaded.ok()) {
      return loaded.status();
    }
    out.keys = std::make_shared<const KeyStore>(*std::move(loaded));
  }
  if (!options.jwt_keys_dir.empty()) {
    JwtOptions jwt;
    jwt.keys_dir = options.jwt_keys_dir;
    jwt.issuer = options.jwt_issuer;
    jwt.audience = options.jwt_audience;
    absl::StatusOr<std::shared_ptr<JwtVerifier>> verifier = JwtVerifier::Create(jwt);
    if (!verifier.ok()) {
      return verifier.status();
    }
    out.jwt = *std::move(verifier);
  }
  if (out.keys != nullptr || out.jwt != nullptr) {
    return out;
  }
  if (!options.insecure_dev || !IsLoopback(listen)) {
    return absl::FailedPreconditionError(
        "no --keys file and no --jwt_keys_dir: refusing to start (use --insecure_dev on a "
        "loopback --listen for development only)");
  }
  Log(LogLevel::kWarning,
      "INSECURE DEVELOPMENT MODE: no API keys; the bearer token names the caller and "
      "x-accord-roles gives its roles. Never use this outside a developer machine.");
  out.insecure = true;
  return out;
}

absl::StatusOr<Principal> CallAuthorizer::Authenticate(
    std::optional<absl::string_view> authorization,
    std::optional<absl::string_view> roles_header) const {
  if (auth_.insecure || !authorization.has_value()) {
    return AuthenticateBearer(nullptr, authorization, roles_header);
  }
  absl::Time now = absl::Now();
  std::string key(*authorization);
  {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      if (now < it->second.expires) {
        return it->second.principal;
      }
      cache_.erase(it);
    }
  }
  absl::string_view token = absl::StripAsciiWhitespace(*authorization);
  absl::StatusOr<Principal> principal;
  absl::Time expires = absl::InfiniteFuture();
  if ((absl::ConsumePrefix(&token, "Bearer ") || absl::ConsumePrefix(&token, "bearer ")) &&
      auth_.jwt != nullptr && JwtVerifier::LooksLikeJwt(absl::StripAsciiWhitespace(token))) {
    principal = auth_.jwt->Verify(absl::StripAsciiWhitespace(token), now, &expires);
    // Re-check at least every minute, so that a removed signing key takes effect.
    expires = std::min(expires, now + absl::Minutes(1));
  } else if (auth_.keys != nullptr) {
    principal = AuthenticateBearer(auth_.keys.get(), authorization, {});
  } else {
    return ErrorWithReason(absl::StatusCode::kUnauthenticated, "INVALID_CREDENTIALS",
                           "the bearer token is not valid");
  }
  if (principal.ok()) {
    std::lock_guard lock(cache_mu_);
    if (cache_.size() >= kMaxCached) {
      cache_.clear();
    }
    cache_.emplace(std::move(key), Cached{*principal, expires});
  }
  return principal;
}

static absl::Status RepeatedAuthorizationError() {
  return ErrorWithReason(absl::StatusCode::kUnauthenticated, "REPEATED_CREDENTIALS",
                         "the call carries more than one authorization header; send one");
}

absl::StatusOr<Principal> CallAuthorizer::Authorize(const CallerHeaders& caller,
                                                    absl::string_view method) const {
  if (caller.repeated_authorization) {
    return RepeatedAuthorizationError();
  }
  return Authorize(caller.authorization, caller.roles, method);
}

absl::StatusOr<Principal> CallAuthorizer::Authorize(const grpc::ServerContextBase& context,
                                                    absl::string_view method) const {
  if (context.client_metadata().count("authorization") > 1) {
    return RepeatedAuthorizationError();
  }
  return Authorize(ClientMetadata(context, "authorization"),
                   ClientMetadata(context, "x-accord-roles"), method);
}

absl::StatusOr<Principal> CallAuthorizer::Authorize(std::optional<absl::string_view> authorization,
                                                    std::optional<absl::string_view> roles_header,
                                                    absl::string_view method) const {
  absl::StatusOr<Principal> principal = Authenticate(authorization, roles_header);
  if (!principal.ok()) {
    return principal.status();
  }
  std::optional<Permission> permission = RequiredPermission(method);
  if (!permission.has_value()) {
    return ErrorWithReason(absl::StatusCode::kPermissionDenied, "METHOD_NOT_ALLOWED",
                           absl::StrCat(method, " is not in the authorization table"));
  }
  if (!Allows(*principal, *permission)) {
    return ErrorWithReason(absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED",
                           absl::StrCat(principal->name, " lacks the '",
                                        PermissionName(*permission), "' permission for ", method),
                           {{"permission", std::string(PermissionName(*permission))}});
  }
  return principal;
}

}  // namespace accord
