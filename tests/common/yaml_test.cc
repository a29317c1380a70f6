#include "common/yaml.h"

#include <string>

#include "gtest/gtest.h"

#include "tests/testing/status_matchers.h"

namespace accord {
namespace {

using testing::StatusIs;

TEST(YamlTest, ReadsDocumentsMapsSequencesAndScalarsWithTheirLines) {
  auto docs = ParseYaml("a: 1\nb:\n  - x\n  - 'quoted'\n---\n# empty\n---\n[1, {c: ~}]\n", "f");
  ASSERT_TRUE(docs.ok()) << docs.status();
  ASSERT_EQ(docs->size(), 3u);
  const YamlNode& first = (*docs)[0];
  ASSERT_TRUE(first.IsMap());
  EXPECT_EQ(first.line(), 1);
  ASSERT_NE(first.Find("a"), nullptr);
  EXPECT_EQ(first.Find("a")->scalar(), "1");
  EXPECT_FALSE(first.Find("a")->quoted());
  const YamlNode* b = first.Find("b");
  ASSERT_TRUE(b != nullptr && b->IsSequence());
  ASSERT_EQ(b->items().size(), 2u);
  EXPECT_EQ(b->items()[1].scalar(), "quoted");
  EXPECT_TRUE(b->items()[1].quoted());
  EXPECT_EQ(b->items()[1].line(), 4);
  EXPECT_TRUE((*docs)[1].IsNull()) << "an empty document is a null";
  EXPECT_TRUE((*docs)[2].items()[1].Find("c")->IsNull());
  EXPECT_EQ(first.Find("missing"), nullptr);
  EXPECT_TRUE(ParseYaml("", "f")->empty());
}

TEST(YamlTest, ErrorsNameTheSourceAndLine) {
  auto bad = ParseYaml("a: 1\nb: [1, 2\n", "defs.yaml");
  ASSERT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(bad.status().message().rfind("defs.yaml:", 0), 0u) << bad.status();
  EXPECT_NE(bad.status().message().find("not valid YAML"), std::string::npos) << bad.status();
}

// yaml-cpp 0.7's LoadAll never returned on these, growing past 2 GB (issue 13, case 8).
TEST(YamlTest, InputsThatHungTheOldParserAreRefusedAtOnce) {
  for (const char* text :
       {" ,", ",", " ,a", "  ,", " ,,", ",a", "---\n,", "#c\n ,", "\"a\",", "[a]\n,", ",\nb: 1"}) {
    EXPECT_THAT(ParseYaml(text, "f"), StatusIs(absl::StatusCode::kInvalidArgument))
        << "'" << text << "'";
  }
}

TEST(YamlTest, RefusesAnchorsAliasesAndWhatExceedsItsLimits) {
  EXPECT_THAT(ParseYaml("a: &x [1]\nb: *x\n", "f"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseYaml("&a [*a, *a]", "f"), StatusIs(absl::StatusCode::kInvalidArgument));
  std::string deep(200, '[');
  deep += std::string(200, ']');
  auto too_deep = ParseYaml(deep, "f");
  ASSERT_THAT(too_deep, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(too_deep.status().message().find("nested more than 100"), std::string::npos);
  YamlLimits small;
  small.max_nodes = 10;
  EXPECT_THAT(ParseYaml("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]", "f", small),
              StatusIs(absl::StatusCode::kInvalidArgument));
  small.max_bytes = 4;
  EXPECT_THAT(ParseYaml("a: 12", "f", small), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(YamlTest, EmitsBlockYamlThatReadsBackTheSame) {
  auto docs = ParseYaml(R"({"name": "x", "n": 12, "s": "12", "t": "true", "e": "", )"
                        R"("list": [{"k": "v: w"}, "multi\nline"], "z": null})",
                        "f");
  ASSERT_TRUE(docs.ok()) << docs.status();
  std::string text = EmitYaml(docs->front());
  EXPECT_NE(text.find("name: x\n"), std::string::npos) << text;
  EXPECT_NE(text.find("s: \"12\"\n"), std::string::npos) << text;
  auto again = ParseYaml(text, "emitted");
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << text;
  const YamlNode& node = again->front();
  EXPECT_EQ(node.Find("n")->scalar(), "12");
  EXPECT_FALSE(node.Find("n")->quoted());
  EXPECT_TRUE(node.Find("s")->quoted());
  EXPECT_TRUE(node.Find("t")->quoted());
  EXPECT_TRUE(node.Find("e")->quoted());
  EXPECT_TRUE(node.Find("z")->IsNull());
  EXPECT_EQ(node.Find("list")->items()[0].Find("k")->scalar(), "v: w");
  EXPECT_EQ(node.Find("list")->items()[1].scalar(), "multi\nline");
}

}  // namespace
}  // namespace accord
