// Every dual-approval rule, without a store: registry/approval.h is pure functions over a
// revision, a principal, a team and a verdict.
#include "registry/approval.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "tests/testing/status_matchers.h"

namespace accord::registry::approval {
namespace {

using accord::testing::HasReason;
using accord::testing::HasViolation;
using accord::testing::StatusIs;
using ::testing::ElementsAre;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

MATCHER_P(CountsFor, team, absl::StrCat("counts for ", team)) { return arg.ok() && *arg == team; }

Principal P(const std::string& name, std::vector<Role> roles) { return Principal{name, roles}; }

v1::Definition WithPolicy(std::vector<std::string> teams) {
  v1::Definition d;
  for (const std::string& t : teams) {
    d.mutable_approval_policy()->add_required_teams(t);
  }
  return d;
}

records::DefinitionState Published(const v1::Definition& content) {
  records::DefinitionState state;
  state.mutable_definition()->set_published_revision(1);
  *state.mutable_published()->mutable_snapshot() = content;
  return state;
}

v1::Revision Proposed(std::vector<std::string> required, const std::string& proposer = "mia",
                      std::vector<std::string> authors = {"mia"}) {
  v1::Revision r;
  r.set_name("namespaces/default/definitions/p/revisions/2");
  r.set_state(v1::Revision::PROPOSED);
  r.set_proposer(proposer);
  for (const std::string& t : required) {
    r.add_required_teams(t);
  }
  for (const std::string& a : authors) {
    r.add_authors(a);
  }
  return r;
}

const Principal kMarketing = P("max", {Role::kMarketingApprover});
const Principal kSales = P("sam", {Role::kSalesApprover});
const Principal kBoth = P("bo", {Role::kMarketingApprover, Role::kSalesApprover});

TEST(ApprovalTest, RequiredTeamsAreTheNewPolicyAndThePolicyInForce) {
  EXPECT_THAT(RequiredTeams(v1::Definition(), records::DefinitionState()),
              ElementsAre("marketing", "sales"))
      << "an empty policy is the default policy";
  EXPECT_THAT(RequiredTeams(WithPolicy({"marketing"}), records::DefinitionState()),
              ElementsAre("marketing"));
  // Weakening the policy in force needs the teams it removes...
  EXPECT_THAT(
      RequiredTeams(WithPolicy({"marketing"}), Published(WithPolicy({"marketing", "sales"}))),
      ElementsAre("marketing", "sales"));
  // ...and once they approved it, the weaker policy is the one in force.
  EXPECT_THAT(RequiredTeams(WithPolicy({"marketing"}), Published(WithPolicy({"marketing"}))),
              ElementsAre("marketing"));
}

TEST(ApprovalTest, NoAuthorMayReview) {
  v1::Revision r = Proposed({"marketing", "sales"}, "mia", {"mia", "wes"});
  EXPECT_THAT(ReviewTeam(r, P("mia", {Role::kMarketingApprover}), "", true),
              HasReason("SELF_APPROVAL"));
  EXPECT_THAT(ReviewTeam(r, P("wes", {Role::kSalesApprover}), "", true),
              HasReason("SELF_APPROVAL"));
  EXPECT_THAT(ReviewTeam(r, P("wes", {Role::kSalesApprover}), "", false),
              StatusIs(absl::StatusCode::kPermissionDenied))
      << "nor reject";
  EXPECT_THAT(ReviewTeam(r, kSales, "", true), CountsFor("sales"));
}

TEST(ApprovalTest, TheTeamAReviewCountsFor) {
  v1::Revision r = Proposed({"marketing", "sales"});
  EXPECT_THAT(ReviewTeam(r, kBoth, "", true), HasViolation("team")) << "ambiguous";
  EXPECT_THAT(ReviewTeam(r, kBoth, "sales", true), CountsFor("sales"));
  EXPECT_THAT(ReviewTeam(r, kMarketing, "sales", true), HasReason("NOT_AN_APPROVER"));
  EXPECT_THAT(ReviewTeam(r, P("vic", {Role::kViewer}), "", true), HasReason("NOT_AN_APPROVER"));
  EXPECT_THAT(ReviewTeam(r, P("ada", {Role::kAdmin}), "", true), HasReason("NOT_AN_APPROVER"))
      << "admin cannot approve";
  v1::Revision marketing_only = Proposed({"marketing"});
  EXPECT_THAT(ReviewTeam(marketing_only, kBoth, "sales", true), HasViolation("team"))
      << "a team the revision does not need";
  EXPECT_THAT(ReviewTeam(marketing_only, kBoth, "", true), CountsFor("marketing"));
}

TEST(ApprovalTest, OnePrincipalReviewsOnceAndOneTeamApprovesOnce) {
  v1::Revision r = Proposed({"marketing", "sales"});
  AddReview(r, kBoth, "marketing", true, "", kNow);
  EXPECT_EQ(r.state(), v1::Revision::PROPOSED);
  EXPECT_THAT(ReviewTeam(r, kBoth, "sales", true), HasReason("ALREADY_REVIEWED"));
  EXPECT_THAT(ReviewTeam(r, P("max2", {Role::kMarketingApprover}), "", true),
              HasReason("ALREADY_APPROVED"));
  // The one open team is picked for a principal who approves for both.
  EXPECT_THAT(ReviewTeam(r, P("bea", {Role::kMarketingApprover, Role::kSalesApprover}), "", true),
              CountsFor("sales"));
}

TEST(ApprovalTest, EveryRequiredTeamApprovesBeforePublishing) {
  v1::Revision r = Proposed({"marketing", "sales"});
  EXPECT_THAT(CheckPublishable(r), HasReason("APPROVAL_REQUIRED"));
  AddReview(r, kMarketing, "marketing", true, "ok", kNow);
  absl::Status missing = CheckPublishable(r);
  EXPECT_THAT(missing, HasReason("APPROVAL_REQUIRED"));
  EXPECT_NE(missing.message().find("still needs the approval of sales"), std::string::npos)
      << missing;
  AddReview(r, kSales, "sales", true, "ok", kNow);
  EXPECT_EQ(r.state(), v1::Revision::APPROVED);
  EXPECT_TRUE(CheckPublishable(r).ok());
  ASSERT_EQ(r.reviews_size(), 2);
  EXPECT_EQ(r.reviews(1).principal(), "sam");
  EXPECT_EQ(r.reviews(1).time().seconds(), 1800000000);
}

TEST(ApprovalTest, ARejectionEndsTheReviewEvenAfterApproval) {
  v1::Revision r = Proposed({"marketing"});
  AddReview(r, kMarketing, "marketing", true, "", kNow);
  ASSERT_EQ(r.state(), v1::Revision::APPROVED);
  EXPECT_THAT(ReviewTeam(r, kMarketing, "", true), HasReason("REVISION_NOT_REVIEWABLE"));
  ASSERT_THAT(ReviewTeam(r, P("mo", {Role::kMarketingApprover}), "", false), CountsFor("marketing"))
      << "an APPROVED revision may still be rejected";
  AddReview(r, P("mo", {Role::kMarketingApprover}), "marketing", false, "no", kNow);
  EXPECT_EQ(r.state(), v1::Revision::REJECTED);
  EXPECT_THAT(CheckPublishable(r), HasReason("REVISION_NOT_PUBLISHABLE"));
  EXPECT_THAT(ReviewTeam(r, kSales, "", false), HasReason("REVISION_NOT_REVIEWABLE"));
}

TEST(ApprovalTest, ARollbackCannotDropATeamOfThePolicyInForce) {
  v1::Revision restored;
  restored.set_name("namespaces/default/definitions/p/revisions/1");
  *restored.mutable_snapshot() = WithPolicy({"marketing"});
  absl::Status dropped =
      CheckRollbackKeepsPolicy(restored, Published(WithPolicy({"marketing", "sales"})));
  EXPECT_THAT(dropped, HasReason("ROLLBACK_WEAKENS_POLICY"));
  EXPECT_NE(dropped.message().find("leaves out sales"), std::string::npos) << dropped;
  EXPECT_TRUE(CheckRollbackKeepsPolicy(restored, Published(WithPolicy({"marketing"}))).ok());
  *restored.mutable_snapshot() = v1::Definition();  // the default policy: both teams
  EXPECT_TRUE(
      CheckRollbackKeepsPolicy(restored, Published(WithPolicy({"marketing", "sales"}))).ok());
  EXPECT_TRUE(CheckRollbackKeepsPolicy(restored, records::DefinitionState()).ok())
      << "nothing published: nothing to weaken";
}

}  // namespace
}  // namespace accord::registry::approval
