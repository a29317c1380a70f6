#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "common/auth.h"
#include "common/call_auth.h"
#include "common/hash.h"

// An authorizer with one API key per role: role `r` is principal `r@test` with the key
// "token-r" (for the tests that call servers in process).
namespace accord::testing {

inline std::unique_ptr<CallAuthorizer> AuthorizerWithKeys(const std::vector<std::string>& roles) {
  std::string yaml = "keys:\n";
  for (const std::string& role : roles) {
    absl::StrAppend(&yaml, "  - principal: ", role, "@test\n    roles: [", role,
                    "]\n    sha256: ", Sha256Hex("token-" + role), "\n");
  }
  auto keys = KeyStore::LoadYaml(yaml);
  EXPECT_TRUE(keys.ok()) << keys.status();
  Authenticators authenticators;
  if (keys.ok()) {
    authenticators.keys = std::make_shared<const KeyStore>(*std::move(keys));
  }
  return std::make_unique<CallAuthorizer>(std::move(authenticators));
}

}  // namespace accord::testing
