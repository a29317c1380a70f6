#include "common/jwt.h"

#include <jwt.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "tests/testing/status_matchers.h"

namespace accord {
namespace {

using testing::StatusIs;

struct KeyPair {
  std::string private_pem;
  std::string public_pem;
};

KeyPair Generate(int type) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(type, nullptr);
  EVP_PKEY* key = nullptr;
  EVP_PKEY_keygen_init(ctx);
  if (type == EVP_PKEY_RSA) {
    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048);
  } else {
    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1);
  }
  EVP_PKEY_keygen(ctx, &key);
  EVP_PKEY_CTX_free(ctx);
  auto pem = [&](bool is_private) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (is_private) {
      PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    } else {
      PEM_write_bio_PUBKEY(bio, key);
    }
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string out(data, n);
    BIO_free(bio);
    return out;
  };
  KeyPair pair{pem(true), pem(false)};
  EVP_PKEY_free(key);
  return pair;
}

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new KeyPair(Generate(EVP_PKEY_RSA));
    ec_ = new KeyPair(Generate(EVP_PKEY_EC));
  }

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("accord-jwt-", ::testing::UnitTest::GetInstance()->random_seed(), "-",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Write("k1.rs256.pem", rsa_->public_pem);
    Write("k2.es256.pem", ec_->public_pem);
    JwtOptions options;
    options.keys_dir = dir_.string();
    options.reload_interval = absl::ZeroDuration();
    auto verifier = JwtVerifier::Create(options);
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    verifier_ = *verifier;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }

  // Signs `claims_json` with libjwt (the same library, used here only as the issuer).
  static std::string Sign(jwt_alg_t alg, const std::string& kid, const std::string& key,
                          const std::string& claims_json) {
    jwt_t* jwt = nullptr;
    jwt_new(&jwt);
    jwt_add_grants_json(jwt, claims_json.c_str());
    jwt_add_header(jwt, "kid", kid.c_str());
    jwt_set_alg(jwt, alg, reinterpret_cast<const unsigned char*>(key.data()),
                static_cast<int>(key.size()));
    char* token = jwt_encode_str(jwt);
    std::string out = token == nullptr ? "" : token;
    free(token);
    jwt_free(jwt);
    return out;
  }

  static std::string Claims(absl::Time now, const std::string& extra = "") {
    int64_t t = absl::ToUnixSeconds(now);
    return absl::StrCat(R"({"sub":"mia","roles":["marketing_editor"],"iss":"accord",)",
                        R"("aud":["other","accord"],"exp":)", t + 300, R"(,"nbf":)", t - 10, extra,
                        "}");
  }

  static KeyPair* rsa_;
  static KeyPair* ec_;
  std::filesystem::path dir_;
  std::shared_ptr<JwtVerifier> verifier_;
  absl::Time now_ = absl::Now();
};

KeyPair* JwtTest::rsa_ = nullptr;
KeyPair* JwtTest::ec_ = nullptr;

TEST_F(JwtTest, AcceptsRs256AndEs256WithTheirPinnedKeys) {
  absl::Time expires;
  auto p =
      verifier_->Verify(Sign(JWT_ALG_RS256, "k1", rsa_->private_pem, Claims(now_)), now_, &expires);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "mia");
  EXPECT_TRUE(p->Has(Role::kMarketingEditor));
  EXPECT_GT(expires, now_);
  EXPECT_TRUE(
      verifier_->Verify(Sign(JWT_ALG_ES256, "k2", ec_->private_pem, Claims(now_)), now_).ok());
}

TEST_F(JwtTest, RejectsEveryBadToken) {
  std::string good = Sign(JWT_ALG_RS256, "k1", rsa_->private_pem, Claims(now_));
  std::vector<std::pair<std::string, std::string>> bad = {
      {"expired", Sign(JWT_ALG_RS256, "k1", rsa_->private_pem, Claims(now_ - absl::Hours(1)))},
      {"not yet valid",
       Sign(JWT_ALG_RS256, "k1", rsa_->private_pem, Claims(now_ + absl::Hours(1)))},
      {"ES256 key used for kid k1", Sign(JWT_ALG_ES256, "k1", ec_->private_pem, Claims(now_))},
      {"HS256 signed with the RSA public key",
       Sign(JWT_ALG_HS256, "k1", rsa_->public_pem, Claims(now_))},
      {"unknown kid", Sign(JWT_ALG_RS256, "k9", rsa_->private_pem, Claims(now_))},
      {"tampered payload",
       good.substr(0, good.find('.') + 1) + "eyJzdWIiOiJldmUifQ" + good.substr(good.rfind('.'))},
      {"unknown role",
       Sign(JWT_ALG_RS256, "k1", rsa_->private_pem,
            absl::StrCat(R"({"sub":"x","roles":["root"],"iss":"accord",)",
                         R"("aud":"accord","exp":)", absl::ToUnixSeconds(now_) + 60, "}"))},
      {"two segments", "abc.def"},
      {"oversized", std::string(9000, 'a') + ".b.c"},
  };
  // alg=none, hand-made: libjwt would never sign it.
  std::string header = absl::WebSafeBase64Escape(R"({"alg":"none","kid":"k1"})");
  std::string payload = absl::WebSafeBase64Escape(Claims(now_));
  bad.emplace_back("alg none", header + "." + payload + ".");
  for (const auto& [name, token] : bad) {
    EXPECT_THAT(verifier_->Verify(token, now_), StatusIs(absl::StatusCode::kUnauthenticated))
        << name;
  }
}

TEST_F(JwtTest, ChecksIssuerAndAudienceExactly) {
  int64_t t = absl::ToUnixSeconds(now_) + 60;
  EXPECT_FALSE(verifier_
                   ->Verify(Sign(JWT_ALG_RS256, "k1", rsa_->private_pem,
                                 absl::StrCat(R"({"sub":"x","iss":"accord2","aud":"accord",)",
                                              R"("exp":)", t, "}")),
                            now_)
                   .ok());
  EXPECT_FALSE(verifier_
                   ->Verify(Sign(JWT_ALG_RS256, "k1", rsa_->private_pem,
                                 absl::StrCat(R"({"sub":"x","iss":"accord","aud":"accordx",)",
                                              R"("exp":)", t, "}")),
                            now_)
                   .ok());
  EXPECT_FALSE(verifier_
                   ->Verify(Sign(JWT_ALG_RS256, "k1", rsa_->private_pem,
                                 R"({"sub":"x","iss":"accord","aud":"accord"})"),
                            now_)
                   .ok())
      << "a token without exp";
}

// exp = 1e300 once reached an out-of-range float-to-integer conversion (undefined behaviour).
TEST_F(JwtTest, RefusesTimesOutsideTheRangeOfADate) {
  for (const char* exp : {"1e300", "-1", "1.8e19", "253402300800", "\"soon\""}) {
    std::string token =
        Sign(JWT_ALG_RS256, "k1", rsa_->private_pem,
             absl::StrCat(R"({"sub":"x","iss":"accord","aud":"accord","exp":)", exp, "}"));
    EXPECT_THAT(verifier_->Verify(token, now_), StatusIs(absl::StatusCode::kUnauthenticated))
        << "exp " << exp;
  }
  for (const char* nbf : {"1e300", "-5e18"}) {
    std::string token = Sign(JWT_ALG_RS256, "k1", rsa_->private_pem,
                             absl::StrCat(R"({"sub":"x","iss":"accord","aud":"accord","exp":)",
                                          absl::ToUnixSeconds(now_) + 60, R"(,"nbf":)", nbf, "}"));
    EXPECT_THAT(verifier_->Verify(token, now_), StatusIs(absl::StatusCode::kUnauthenticated))
        << "nbf " << nbf;
  }
  absl::Time expires;
  std::string last_second = Sign(JWT_ALG_RS256, "k1", rsa_->private_pem,
                                 R"({"sub":"x","iss":"accord","aud":"accord","exp":253402300799})");
  ASSERT_TRUE(verifier_->Verify(last_second, now_, &expires).ok()) << "the year 9999 is a date";
  EXPECT_EQ(expires, absl::FromUnixSeconds(253402300799) + absl::Minutes(1));
}

TEST_F(JwtTest, LeewayOfOneMinute) {
  std::string token =
      Sign(JWT_ALG_RS256, "k1", rsa_->private_pem, Claims(now_ - absl::Seconds(300 + 30)));
  EXPECT_TRUE(verifier_->Verify(token, now_).ok()) << "expired 30 s ago: within leeway";
  EXPECT_FALSE(verifier_->Verify(token, now_ + absl::Seconds(60)).ok());
}

TEST_F(JwtTest, PicksUpRotatedKeysAndKeepsOldOnesWhenANewFileIsBroken) {
  KeyPair k3 = Generate(EVP_PKEY_RSA);
  std::string token = Sign(JWT_ALG_RS256, "k3", k3.private_pem, Claims(now_));
  EXPECT_FALSE(verifier_->Verify(token, now_).ok());
  Write("k3.rs256.pem", k3.public_pem);
  EXPECT_TRUE(verifier_->Verify(token, now_ + absl::Seconds(1)).ok());
  Write("k4.rs256.pem", "not a key");
  EXPECT_TRUE(verifier_->Verify(token, now_ + absl::Seconds(2)).ok())
      << "a broken new file keeps the previous keys";
}

TEST_F(JwtTest, RefusesWeakOrMisnamedKeys) {
  std::filesystem::path other = dir_ / "bad";
  std::filesystem::create_directories(other);
  std::ofstream(other / "k.hs256.pem") << rsa_->public_pem;
  JwtOptions options;
  options.keys_dir = other.string();
  EXPECT_THAT(JwtVerifier::Create(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.keys_dir = (dir_ / "missing").string();
  EXPECT_THAT(JwtVerifier::Create(options), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace accord
