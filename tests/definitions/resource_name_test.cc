#include "definitions/resource_name.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "tests/testing/status_matchers.h"

namespace accord {
namespace {

using ::accord::testing::StatusIs;

TEST(NamespaceOfNameTest, ReadsOnlyWellFormedNames) {
  EXPECT_EQ(NamespaceOfName("namespaces/emea/definitions/x"), "emea");
  EXPECT_EQ(NamespaceOfName("namespaces/emea/definitions/x/revisions/3"), "emea");
  EXPECT_EQ(NamespaceOfName("namespaces/emea"), "emea");
  for (const char* name :
       {"", "namespaces/", "namespaces//definitions/x", "definitions/x", "x/emea/definitions/y",
        "namespaces/Bad_Id/definitions/x", "namespacesX/emea"}) {
    EXPECT_EQ(NamespaceOfName(name), std::nullopt) << name;
  }
}

TEST(ResourceNameTest, IdsAreLowerCaseLettersDigitsAndDashes) {
  EXPECT_TRUE(IsValidId("a"));
  EXPECT_TRUE(IsValidId("it-director-2"));
  EXPECT_TRUE(IsValidId(std::string(63, 'a')));
  for (const char* id : {"", "1a", "-a", "A", "a_b", "a.b", "a/b"}) {
    EXPECT_FALSE(IsValidId(id)) << id;
  }
  EXPECT_FALSE(IsValidId(std::string(64, 'a')));
}

TEST(ResourceNameTest, ReferencesResolveRelativeToTheirNamespace) {
  EXPECT_EQ(ResolveReferenceName("emea", "cmo"), "namespaces/emea/definitions/cmo");
  EXPECT_EQ(ResolveReferenceName("emea", "namespaces/na/definitions/cmo"),
            "namespaces/na/definitions/cmo");
}

TEST(ResourceNameTest, ParsesParentsDefinitionsAndRevisionsWithTheFieldInErrors) {
  EXPECT_EQ(*ParseParent("parent", "namespaces/emea", false), "emea");
  EXPECT_EQ(*ParseParent("parent", "namespaces/-", true), "-");
  EXPECT_THAT(ParseParent("parent", "namespaces/-", false),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseParent("parent", "emea", true), StatusIs(absl::StatusCode::kInvalidArgument));

  absl::StatusOr<DefinitionName> name =
      ParseDefinitionName("name", "namespaces/emea/definitions/x");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->namespace_id, "emea");
  EXPECT_EQ(name->id, "x");
  EXPECT_EQ(name->full, "namespaces/emea/definitions/x");
  for (const char* bad : {"namespaces/emea/definitions", "namespaces/emea/definitions/x/y",
                          "namespaces/Emea/definitions/x", "namespaces/emea/personas/x"}) {
    absl::StatusOr<DefinitionName> parsed = ParseDefinitionName("name", bad);
    EXPECT_THAT(parsed, StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
    EXPECT_NE(parsed.status().ToString().find("name"), std::string::npos) << parsed.status();
  }

  for (const char* token : {"1", "42", "published", "latest"}) {
    auto revision =
        ParseRevisionName("name", std::string("namespaces/a/definitions/b/revisions/") + token);
    ASSERT_TRUE(revision.ok()) << revision.status();
    EXPECT_EQ(revision->first.full, "namespaces/a/definitions/b");
    EXPECT_EQ(revision->second, token);
  }
  for (const char* bad :
       {"namespaces/a/definitions/b", "namespaces/a/definitions/b/revisions/0",
        "namespaces/a/definitions/b/revisions/-1", "namespaces/a/definitions/b/revisions/first",
        "namespaces/a/definitions/B/revisions/1"}) {
    EXPECT_THAT(ParseRevisionName("name", bad), StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

}  // namespace
}  // namespace accord
