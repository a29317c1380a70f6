#include "common/auth.h"

#include "gtest/gtest.h"

#include "common/hash.h"
#include "tests/testing/status_matchers.h"

namespace accord {
namespace {

using testing::HasViolation;
using testing::StatusIs;

TEST(KeyStoreTest, AuthenticatesByHashOnly) {
  std::string yaml = "keys:\n  - principal: mia\n    roles: [marketing_editor]\n    sha256: " +
                     Sha256Hex("secret-token") + "\n";
  auto keys = KeyStore::LoadYaml(yaml);
  ASSERT_TRUE(keys.ok()) << keys.status();
  auto p = keys->Authenticate("secret-token");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->name, "mia");
  EXPECT_TRUE(p->Has(Role::kMarketingEditor));
  EXPECT_THAT(keys->Authenticate("wrong"), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(KeyStoreTest, RejectsMalformedEntriesWithTheirIndex) {
  auto keys = KeyStore::LoadYaml(
      "keys:\n  - principal: a\n    roles: [wizard]\n    sha256: " + std::string(64, 'a') +
      "\n  - principal: b\n    roles: [viewer]\n    sha256: short\n");
  EXPECT_THAT(keys, HasViolation("keys[0].roles"));
  EXPECT_THAT(keys, HasViolation("keys[1].sha256"));
}

TEST(AuthorizationTest, DefaultDenyTable) {
  Principal viewer{"v", {Role::kViewer}};
  Principal editor{"e", {Role::kSalesEditor}};
  Principal approver{"a", {Role::kSalesApprover}};
  const std::string r = "/accord.registry.v1.Registry/";
  EXPECT_EQ(RequiredPermission(r + "Nope"), std::nullopt);
  EXPECT_TRUE(Allows(viewer, *RequiredPermission(r + "GetDefinition")));
  EXPECT_FALSE(Allows(viewer, *RequiredPermission(r + "CreateDefinition")));
  EXPECT_TRUE(Allows(editor, *RequiredPermission(r + "ProposeRevision")));
  EXPECT_FALSE(Allows(editor, *RequiredPermission(r + "ApproveRevision")));
  EXPECT_TRUE(Allows(approver, *RequiredPermission(r + "ApproveRevision")));
  EXPECT_FALSE(Allows(approver, *RequiredPermission(r + "CreateDefinition")));
  EXPECT_EQ(approver.ApproverTeams(), std::vector<std::string>{"sales"});
}

TEST(AuthorizationTest, BearerParsing) {
  EXPECT_THAT(AuthenticateBearer(nullptr, std::nullopt, std::nullopt),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(AuthenticateBearer(nullptr, "Basic abc", std::nullopt),
              StatusIs(absl::StatusCode::kUnauthenticated));
  auto dev = AuthenticateBearer(nullptr, "Bearer alice", "marketing_editor, sales_approver");
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ(dev->name, "alice");
  EXPECT_EQ(dev->roles.size(), 2u);
}

}  // namespace
}  // namespace accord
