#include <thread>

#include "gtest/gtest.h"

#include "accord/registry/v1/registry.pb.h"
#include "accord/scoring/v1/scoring.pb.h"
#include "common/auth.h"
#include "gateway/catalog.h"
#include "gateway/http_rules.h"
#include "gateway/limits.h"
#include "gateway/openapi.h"
#include "tests/testing/json_reference.h"
#include "tests/testing/status_matchers.h"

namespace accord::gateway {
namespace {

using testing::HasViolation;
using testing::StatusIs;

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto catalog = Catalog::Build();
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    catalog_ = std::make_unique<Catalog>(*std::move(catalog));
    auto router = Router::Build(*catalog_);
    ASSERT_TRUE(router.ok()) << router.status();
    router_ = std::make_unique<Router>(*std::move(router));
  }

  Router::Match Find(const std::string& verb, const std::string& path) {
    bool known = false;
    auto match = router_->Find(verb, path, &known);
    EXPECT_TRUE(match.has_value()) << verb << " " << path;
    return match.value_or(Router::Match{});
  }

  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<Router> router_;
};

TEST_F(RouterTest, EveryServedMethodIsInTheAuthorizationTable) {
  std::vector<std::string> table = MethodsInTable();
  ASSERT_EQ(catalog_->methods().size(), 35u);
  for (const MethodInfo& m : catalog_->methods()) {
    EXPECT_TRUE(RequiredPermission(m.path).has_value()) << m.path << " is not in the table";
  }
  EXPECT_EQ(table.size(), catalog_->methods().size()) << "the table names a method not served";
}

TEST_F(RouterTest, EveryAnnotatedRouteResolvesToItsMethod) {
  EXPECT_EQ(Find("GET", "/v1/namespaces/default/definitions/it-director").route->method->path,
            "/accord.registry.v1.Registry/GetDefinition");
  EXPECT_EQ(
      Find("GET", "/v1/namespaces/default/definitions/it-director/revisions/3").route->method->path,
      "/accord.registry.v1.Registry/GetRevision");
  Router::Match propose = Find("POST", "/v1/namespaces/default/definitions/x:propose");
  EXPECT_EQ(propose.route->method->path, "/accord.registry.v1.Registry/ProposeRevision");
  ASSERT_EQ(propose.bindings.size(), 1u);
  EXPECT_EQ(propose.bindings[0].first, "name");
  EXPECT_EQ(propose.bindings[0].second, "namespaces/default/definitions/x");
  EXPECT_EQ(Find("POST", "/v1/scoring:scoreLead").route->method->path,
            "/accord.scoring.v1.Scoring/ScoreLead");
  bool known = false;
  EXPECT_FALSE(router_->Find("DELETE", "/v1/scoring:scoreLead", &known).has_value());
  EXPECT_TRUE(known) << "path known, verb not: 405";
  EXPECT_FALSE(router_->Find("GET", "/admin", &known).has_value());
  EXPECT_FALSE(known);
  EXPECT_EQ(Find("POST", "/v1/scoring:recordVerdicts").route->method->path,
            "/accord.scoring.v1.Scoring/RecordVerdicts");
  EXPECT_EQ(Find("GET", "/v1/namespaces/default/qualityReport").route->method->path,
            "/accord.registry.v1.Registry/GetQualityReport");
  EXPECT_EQ(Find("GET", "/v1/namespaces/default/verdicts").route->method->path,
            "/accord.registry.v1.Registry/ListVerdicts");
  EXPECT_EQ(Find("POST", "/v1/namespaces/default/verdicts:eraseLead").route->method->path,
            "/accord.registry.v1.Registry/EraseLeadVerdicts");
  // Every route in the catalog compiles and matches its own example path; StoreVerdicts (the
  // scoring service's own call) has none.
  EXPECT_EQ(router_->routes().size(), 32u);
}

TEST_F(RouterTest, BuildsRequestsFromPathQueryAndBody) {
  Router::Match update = Find("PATCH", "/v1/namespaces/default/definitions/a%2Db");
  registry::v1::UpdateDefinitionRequest request;
  ASSERT_TRUE(BuildRequest(update, R"({"displayName": "X"})",
                           {{"updateMask", "displayName,labels"}}, request)
                  .ok());
  EXPECT_EQ(request.definition().name(), "namespaces/default/definitions/a-b");
  EXPECT_EQ(request.definition().display_name(), "X");
  EXPECT_EQ(request.update_mask().paths_size(), 2);

  Router::Match list = Find("GET", "/v1/namespaces/default/definitions");
  registry::v1::ListDefinitionsRequest list_request;
  ASSERT_TRUE(BuildRequest(list, "", {{"pageSize", "5"}}, list_request).ok());
  EXPECT_EQ(list_request.page_size(), 5);
  registry::v1::ListDefinitionsRequest bad;
  EXPECT_THAT(BuildRequest(list, "", {{"page_size", "five"}}, bad), HasViolation("page_size"));
  EXPECT_THAT(BuildRequest(list, "", {{"nope", "1"}}, bad), HasViolation("nope"));
  EXPECT_THAT(BuildRequest(list, "{}", {}, bad), HasViolation("body"));
}

// Issue 13, case 5: DELETE .../harmless?name=namespaces/default/definitions/important deleted
// `important`; "%252F" in a path variable was decoded twice, into "/".
TEST_F(RouterTest, QueryParametersCannotReplaceWhatThePathBinds) {
  Router::Match del = Find("DELETE", "/v1/namespaces/default/definitions/harmless");
  registry::v1::DeleteDefinitionRequest request;
  EXPECT_THAT(
      BuildRequest(del, "", {{"name", "namespaces/default/definitions/important"}}, request),
      HasViolation("name"));
  Router::Match update = Find("PATCH", "/v1/namespaces/default/definitions/harmless");
  registry::v1::UpdateDefinitionRequest update_request;
  EXPECT_THAT(BuildRequest(update, "", {{"definition.name", "x"}}, update_request),
              HasViolation("definition.name"));
  EXPECT_THAT(BuildRequest(update, "", {{"definition", "x"}}, update_request),
              HasViolation("definition"));
  Router::Match revision = Find("GET", "/v1/namespaces/default/definitions/a/revisions/3");
  registry::v1::GetRevisionRequest get;
  EXPECT_THAT(BuildRequest(revision, "", {{"name", "x"}}, get), HasViolation("name"));
  // Fields the path does not bind are still accepted.
  registry::v1::DeleteDefinitionRequest with_etag;
  ASSERT_TRUE(BuildRequest(del, "", {{"etag", "e1"}, {"requestId", "r1"}}, with_etag).ok());
  EXPECT_EQ(with_etag.name(), "namespaces/default/definitions/harmless");
  EXPECT_EQ(with_etag.request_id(), "r1");
}

TEST_F(RouterTest, PathVariablesAreDecodedOnce) {
  Router::Match twice = Find("GET", "/v1/namespaces/default/definitions/a%252Fb");
  ASSERT_EQ(twice.bindings.size(), 1u);
  EXPECT_EQ(twice.bindings[0].second, "namespaces/default/definitions/a%2Fb");
  Router::Match once = Find("GET", "/v1/namespaces/default/definitions/a%2Fb");
  ASSERT_EQ(once.bindings.size(), 1u);
  EXPECT_EQ(once.bindings[0].second, "namespaces/default/definitions/a/b");
}

TEST_F(RouterTest, JsonErrorsNameTheirField) {
  Router::Match score = Find("POST", "/v1/scoring:scoreLead");
  scoring::v1::ScoreLeadRequest request;
  EXPECT_THAT(BuildRequest(score, R"({"lead": {"id": "x", "bogus": 1}})", {}, request),
              HasViolation("lead.bogus"));
  std::string deep = R"({"lead": {"attributes": )";
  for (int i = 0; i < 40; ++i) deep += R"({"a": )";
  deep += "1";
  for (int i = 0; i < 40; ++i) deep += "}";
  deep += "}}";
  EXPECT_THAT(BuildRequest(score, deep, {}, request), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(JsonDepth(R"({"a": "[[[[{{{", "b": [1, {"c": 2}]})"), 3);
}

// The bytes made straight from the body are the request BuildRequest makes, and only where
// the body is the whole request and nothing else binds a field.
TEST_F(RouterTest, RequestBytesFromTheBodyAreTheRequestBuildRequestMakes) {
  Router::Match score = Find("POST", "/v1/scoring:scoreLead");
  const std::string body = R"({"lead": {"id": "l-1", "attributes": {"company": {"employees": 500},
      "tags": ["a", null, true, -1.5]}, "events": [{"type": "webinar",
      "time": "2026-10-01T10:00:00.250Z", "properties": {"asset": "guide"}}]},
      "asOf": "2026-11-01T12:00:00+01:00", "view": "BASIC", "selector": {"modelRevision": "4"}})";
  std::string bytes;
  ASSERT_TRUE(RequestBytesFromBody(score, body, {}, bytes));
  scoring::v1::ScoreLeadRequest direct;
  ASSERT_TRUE(direct.ParseFromString(bytes));
  scoring::v1::ScoreLeadRequest built;
  ASSERT_TRUE(BuildRequest(score, body, {}, built).ok());
  EXPECT_EQ(testing::CanonicalBytes(direct), testing::CanonicalBytes(built));
  EXPECT_EQ(direct.selector().model_revision(), 4);
  // Not taken: a body it declines (json_util's error then), a query, a path variable.
  EXPECT_FALSE(RequestBytesFromBody(score, R"({"lead": {"bogus": 1}})", {}, bytes));
  EXPECT_FALSE(RequestBytesFromBody(score, body, {{"view", "FULL"}}, bytes));
  Router::Match propose = Find("POST", "/v1/namespaces/default/definitions/x:propose");
  EXPECT_FALSE(RequestBytesFromBody(propose, "{}", {}, bytes));
}

TEST(OpenApiTest, PathsNameEachVariableSegment) {
  std::vector<std::string> params;
  EXPECT_EQ(OpenApiPath("/v1/{name=namespaces/*/definitions/*/revisions/*}:approve", &params),
            "/v1/namespaces/{namespace}/definitions/{definition}/revisions/{revision}:approve");
  EXPECT_EQ(params, (std::vector<std::string>{"namespace", "definition", "revision"}));
}

TEST(QuotasTest, BurstThenRefusalWithRetryAfterPerPrincipal) {
  Quotas quotas({/*rate_per_second=*/1, /*burst=*/3, /*max_principals=*/1000});
  int retry = 0;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(quotas.Admit("mia", &retry));
  EXPECT_FALSE(quotas.Admit("mia", &retry));
  EXPECT_GE(retry, 1);
  EXPECT_TRUE(quotas.Admit("sam", &retry)) << "another principal has its own bucket";
}

TEST(QuotasTest, TableStaysBounded) {
  Quotas quotas({/*rate_per_second=*/1, /*burst=*/1, /*max_principals=*/64});
  for (int i = 0; i < 10000; ++i) quotas.Admit("p" + std::to_string(i), nullptr);
  EXPECT_LE(quotas.size(), 64u);
}

TEST(InFlightLimitTest, RefusesBeyondTheLimitAndRecovers) {
  InFlightLimit limit(2);
  EXPECT_TRUE(limit.TryAcquire());
  EXPECT_TRUE(limit.TryAcquire());
  EXPECT_FALSE(limit.TryAcquire());
  limit.Release();
  EXPECT_TRUE(limit.TryAcquire());
  EXPECT_EQ(limit.in_flight(), 2);
}

}  // namespace
}  // namespace accord::gateway
