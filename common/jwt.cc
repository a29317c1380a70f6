#include "common/jwt.h"

#include <jwt.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/log.h"
#include "common/status.h"

namespace accord {
namespace {

constexpr size_t kMaxTokenBytes = 8192;

struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

absl::Status Rejected(absl::string_view why) { return absl::UnauthenticatedError(why); }

// INVALID_ARGUMENT unless `pem` is a public key usable with `alg` (RSA >= 2048 bits, EC P-256).
absl::Status CheckPublicKey(const std::string& pem, jwt_alg_t alg) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) {
    return absl::InvalidArgumentError("not a PEM public key");
  }
  int type = EVP_PKEY_base_id(key);
  int bits = EVP_PKEY_bits(key);
  EVP_PKEY_free(key);
  if (alg == JWT_ALG_RS256 && (type != EVP_PKEY_RSA || bits < 2048)) {
    return absl::InvalidArgumentError("rs256 needs an RSA public key of at least 2048 bits");
  }
  if (alg == JWT_ALG_ES256 && (type != EVP_PKEY_EC || bits != 256)) {
    return absl::InvalidArgumentError("es256 needs an EC P-256 public key");
  }
  return absl::OkStatus();
}

absl::StatusOr<google::protobuf::Struct> DecodeSegment(absl::string_view segment) {
  std::string json;
  if (!absl::WebSafeBase64Unescape(segment, &json)) {
    return Rejected("malformed base64url segment");
  }
  google::protobuf::Struct out;
  if (!google::protobuf::util::JsonStringToMessage(json, &out).ok()) {
    return Rejected("segment is not a JSON object");
  }
  return out;
}

// The strings of a claim that is either a string or an array of strings.
std::vector<std::string> StringOrList(const google::protobuf::Struct& claims,
                                      const std::string& name) {
  std::vector<std::string> out;
  auto it = claims.fields().find(name);
  if (it == claims.fields().end()) {
    return out;
  }
  const google::protobuf::Value& v = it->second;
  if (v.has_string_value()) {
    out.push_back(v.string_value());
  } else if (v.has_list_value()) {
    for (const google::protobuf::Value& item : v.list_value().values()) {
      if (item.has_string_value()) {
        out.push_back(item.string_value());
      }
    }
  }
  return out;
}

// The latest NumericDate accepted: 9999-12-31T23:59:59Z. Larger, negative, fractional or
// non-finite times are refused before any arithmetic or conversion touches them.
constexpr double kMaxNumericDate = 253402300799.0;

enum class TimeClaim { kAbsent, kValid, kInvalid };

// Reads the NumericDate claim `name` (RFC 7519 section 2) into `*seconds`.
TimeClaim NumericDateClaim(const google::protobuf::Struct& claims, const std::string& name,
                           int64_t* seconds) {
  auto it = claims.fields().find(name);
  if (it == claims.fields().end()) {
    return TimeClaim::kAbsent;
  }
  if (!it->second.has_number_value()) {
    return TimeClaim::kInvalid;
  }
  double value = it->second.number_value();
  if (!std::isfinite(value) || value < 0 || value > kMaxNumericDate) {
    return TimeClaim::kInvalid;
  }
  *seconds = static_cast<int64_t>(std::floor(value));
  return TimeClaim::kValid;
}

}  // namespace

bool JwtVerifier::LooksLikeJwt(absl::string_view token) {
  return std::count(token.begin(), token.end(), '.') == 2;
}

absl::StatusOr<std::shared_ptr<JwtVerifier>> JwtVerifier::Create(JwtOptions options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(options.keys_dir, ec)) {
    return absl::NotFoundError(
        absl::StrCat("--jwt_keys_dir=", options.keys_dir, ": not a directory"));
  }
  if (options.issuer.empty() || options.audience.empty()) {
    return absl::InvalidArgumentError("--jwt_issuer and --jwt_audience must not be empty");
  }
  std::shared_ptr<JwtVerifier> verifier(new JwtVerifier(std::move(options)));
  std::lock_guard lock(verifier->mu_);
  if (absl::Status s = verifier->Reload(); !s.ok()) {
    return s;
  }
  verifier->last_check_ = absl::Now();
  return verifier;
}

absl::Status JwtVerifier::Reload() const {
  // The fingerprint first: unchanged files are not parsed again.
  std::vector<std::filesystem::path> files;
  std::string fingerprint;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(options_.keys_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (!absl::EndsWith(name, ".pem")) {
      continue;
    }
    struct stat st {};
    if (::stat(entry.path().c_str(), &st) != 0) {
      continue;
    }
    files.push_back(entry.path());
    absl::StrAppend(&fingerprint, name, ":", st.st_size, ":", st.st_mtim.tv_sec, ".",
                    st.st_mtim.tv_nsec, ";");
  }
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot list ", options_.keys_dir));
  }
  std::sort(files.begin(), files.end());
  if (keys_ != nullptr && fingerprint == fingerprint_) {
    return absl::OkStatus();
  }
  auto keys = std::make_shared<KeyMap>();
  for (const auto& path : files) {
    std::string name = path.filename().string();
    std::vector<std::string> parts = absl::StrSplit(name, '.');
    jwt_alg_t alg = JWT_ALG_INVAL;
    if (parts.size() == 3 && parts[1] == "rs256") {
      alg = JWT_ALG_RS256;
    } else if (parts.size() == 3 && parts[1] == "es256") {
      alg = JWT_ALG_ES256;
    }
    if (alg == JWT_ALG_INVAL || parts[0].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path.string(), ": expected <kid>.rs256.pem or <kid>.es256.pem"));
    }
    std::ifstream in(path);
    std::stringstream pem;
    pem << in.rdbuf();
    if (absl::Status s = CheckPublicKey(pem.str(), alg); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path.string(), ": ", s.message()));
    }
    (*keys)[parts[0]] = Key{pem.str(), alg};
  }
  keys_ = std::move(keys);
  fingerprint_ = std::move(fingerprint);
  Log(LogLevel::kInfo, "JWT keys loaded",
      {{"dir", options_.keys_dir}, {"keys", static_cast<int64_t>(keys_->size())}});
  return absl::OkStatus();
}

std::shared_ptr<const JwtVerifier::KeyMap> JwtVerifier::Keys(absl::Time now) const {
  std::lock_guard lock(mu_);
  if (now - last_check_ >= options_.reload_interval) {
    last_check_ = now;
    if (absl::Status s = Reload(); !s.ok()) {
      // Keep serving with the keys loaded before; a broken rotation must not lock everyone out.
      Log(LogLevel::kError, "JWT keys not reloaded", {{"error", s.ToString()}});
    }
  }
  return keys_;
}

size_t JwtVerifier::key_count() const {
  std::lock_guard lock(mu_);
  return keys_ == nullptr ? 0 : keys_->size();
}

absl::StatusOr<Principal> JwtVerifier::Verify(absl::string_view token, absl::Time now,
                                              absl::Time* expires) const {
  absl::StatusOr<Principal> principal = VerifyOrExplain(token, now, expires);
  if (!principal.ok()) {
    Log(LogLevel::kInfo, "JWT rejected", {{"reason", std::string(principal.status().message())}});
    return ErrorWithReason(absl::StatusCode::kUnauthenticated, "INVALID_CREDENTIALS",
                           "the bearer token is not valid");
  }
  return principal;
}

absl::StatusOr<Principal> JwtVerifier::VerifyOrExplain(absl::string_view token, absl::Time now,
                                                       absl::Time* expires) const {
  if (token.size() > kMaxTokenBytes) {
    return Rejected("token longer than 8 KiB");
  }
  std::vector<absl::string_view> segments = absl::StrSplit(token, '.');
  if (segments.size() != 3) {
    return Rejected("not three segments");
  }
  absl::StatusOr<google::protobuf::Struct> header = DecodeSegment(segments[0]);
  if (!header.ok()) {
    return header.status();
  }
  auto kid = header->fields().find("kid");
  if (kid == header->fields().end() || !kid->second.has_string_value()) {
    return Rejected("no kid in the header");
  }
  std::shared_ptr<const KeyMap> keys = Keys(now);
  auto key = keys->find(kid->second.string_value());
  if (key == keys->end()) {
    return Rejected(absl::StrCat("unknown kid '", kid->second.string_value(), "'"));
  }
  // The algorithm is pinned before libjwt sees the token: an HS256 token "signed" with the
  // RSA public key (algorithm confusion) or alg=none never reaches jwt_decode.
  auto alg = header->fields().find("alg");
  if (alg == header->fields().end() || !alg->second.has_string_value() ||
      jwt_str_alg(alg->second.string_value().c_str()) != key->second.alg) {
    return Rejected("algorithm does not match the key's");
  }
  std::string token_copy(token);
  jwt_t* raw = nullptr;
  int rc = jwt_decode(&raw, token_copy.c_str(),
                      reinterpret_cast<const unsigned char*>(key->second.pem.data()),
                      static_cast<int>(key->second.pem.size()));
  JwtPtr jwt(raw);
  if (rc != 0 || jwt == nullptr) {
    return Rejected("bad signature");
  }
  if (jwt_get_alg(jwt.get()) != key->second.alg) {
    return Rejected("algorithm does not match the key's");
  }
  absl::StatusOr<google::protobuf::Struct> claims = DecodeSegment(segments[1]);
  if (!claims.ok()) {
    return claims.status();
  }
  int64_t exp = 0;
  switch (NumericDateClaim(*claims, "exp", &exp)) {
    case TimeClaim::kAbsent:
      return Rejected("no exp");
    case TimeClaim::kInvalid:
      return Rejected("exp is not a time between 1970 and 9999");
    case TimeClaim::kValid:
      break;
  }
  const absl::Time expires_at = absl::FromUnixSeconds(exp) + options_.leeway;
  if (now > expires_at) {
    return Rejected("expired");
  }
  int64_t nbf = 0;
  switch (NumericDateClaim(*claims, "nbf", &nbf)) {
    case TimeClaim::kAbsent:
      break;
    case TimeClaim::kInvalid:
      return Rejected("nbf is not a time between 1970 and 9999");
    case TimeClaim::kValid:
      if (now + options_.leeway < absl::FromUnixSeconds(nbf)) {
        return Rejected("not yet valid");
      }
      break;
  }
  std::vector<std::string> iss = StringOrList(*claims, "iss");
  if (iss.size() != 1 || iss[0] != options_.issuer ||
      !claims->fields().at("iss").has_string_value()) {
    return Rejected("wrong iss");
  }
  std::vector<std::string> aud = StringOrList(*claims, "aud");
  if (std::find(aud.begin(), aud.end(), options_.audience) == aud.end()) {
    return Rejected("wrong aud");
  }
  std::vector<std::string> sub = StringOrList(*claims, "sub");
  if (sub.size() != 1 || sub[0].empty()) {
    return Rejected("no sub");
  }
  Principal principal;
  principal.name = sub[0];
  for (const std::string& name : StringOrList(*claims, "roles")) {
    std::optional<Role> role = ParseRole(name);
    if (!role.has_value()) {
      return Rejected(absl::StrCat("unknown role '", name, "'"));
    }
    principal.roles.push_back(*role);
  }
  if (expires != nullptr) {
    *expires = expires_at;
  }
  return principal;
}

}  // namespace accord
