#include "registry/registry.h"

#include <filesystem>

#include "gtest/gtest.h"

#include "common/call_scope.h"
#include "definitions/loader.h"
#include "registry/storage/sqlite_definition_store.h"
#include "tests/testing/sqlite_registry.h"
#include "tests/testing/status_matchers.h"

namespace accord::registry {
namespace {

using accord::testing::HasReason;
using accord::testing::HasViolation;
using accord::testing::StatusIs;

Principal P(const std::string& name, std::vector<Role> roles) { return Principal{name, roles}; }

class RegistryTest : public testing::SqliteRegistryTest {
 protected:
  v1::Definition Persona(const std::string& summary = "s") {
    auto docs = definitions::ParseDefinitions(
        "buyer_persona: {summary: " + summary +
            ", criteria: [{id: a, condition: {attribute: {field: x, op: EXISTS}}}]}\n",
        "t");
    return docs->front().definition;
  }

  absl::StatusOr<v1::Definition> Create(const std::string& id, const v1::Definition& d,
                                        const std::string& request_id = "") {
    v1::CreateDefinitionRequest r;
    r.set_parent("namespaces/default");
    r.set_definition_id(id);
    *r.mutable_definition() = d;
    r.set_request_id(request_id);
    return registry_->CreateDefinition(editor_, r);
  }
  absl::StatusOr<v1::Revision> Propose(const std::string& id, const Principal& who) {
    v1::ProposeRevisionRequest r;
    r.set_name("namespaces/default/definitions/" + id);
    return registry_->ProposeRevision(who, r);
  }
  absl::StatusOr<v1::Revision> Approve(const std::string& rev, const Principal& who,
                                       const std::string& team = "") {
    v1::ReviewRevisionRequest r;
    r.set_name(rev);
    r.set_team(team);
    return registry_->ApproveRevision(who, r);
  }
  absl::StatusOr<v1::Revision> Publish(const std::string& rev, const std::string& etag = "") {
    v1::PublishRevisionRequest r;
    r.set_name(rev);
    r.set_etag(etag);
    return registry_->PublishRevision(editor_, r);
  }

  // Writes `content` into the draft of `id`, proposes it and has both teams approve and
  // publish it; returns the published revision.
  v1::Revision UpdateAndPublish(const std::string& id, const v1::Definition& content) {
    v1::UpdateDefinitionRequest u;
    *u.mutable_definition() = content;
    u.mutable_definition()->set_name("namespaces/default/definitions/" + id);
    EXPECT_TRUE(registry_->UpdateDefinition(editor_, u).ok());
    absl::StatusOr<v1::Revision> r = Propose(id, editor_);
    EXPECT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(Approve(r->name(), marketing_).ok());
    EXPECT_TRUE(Approve(r->name(), sales_).ok());
    absl::StatusOr<v1::Revision> published = Publish(r->name());
    EXPECT_TRUE(published.ok()) << published.status();
    return published.value_or(v1::Revision());
  }

  Principal editor_ = P("mia", {Role::kMarketingEditor});
  Principal marketing_ = P("max", {Role::kMarketingApprover});
  Principal sales_ = P("sam", {Role::kSalesApprover});
  Principal both_ = P("bo", {Role::kMarketingApprover, Role::kSalesApprover});
};

TEST_F(RegistryTest, FullDualApprovalLifecycle) {
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Definition d, Create("p", Persona()));
  EXPECT_EQ(d.kind(), v1::BUYER_PERSONA);
  EXPECT_FALSE(d.etag().empty());
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision r, Propose("p", editor_));
  EXPECT_EQ(r.state(), v1::Revision::PROPOSED);
  EXPECT_THAT(r.required_teams(), ::testing::ElementsAre("marketing", "sales"));
  EXPECT_THAT(Publish(r.name()), HasReason("APPROVAL_REQUIRED"));
  ACCORD_ASSERT_OK_AND_ASSIGN(r, Approve(r.name(), marketing_));
  EXPECT_EQ(r.state(), v1::Revision::PROPOSED);
  // One team's approval is not enough.
  EXPECT_THAT(Publish(r.name()), StatusIs(absl::StatusCode::kFailedPrecondition));
  ACCORD_ASSERT_OK_AND_ASSIGN(r, Approve(r.name(), sales_));
  EXPECT_EQ(r.state(), v1::Revision::APPROVED);
  ACCORD_ASSERT_OK_AND_ASSIGN(r, Publish(r.name()));
  EXPECT_EQ(r.state(), v1::Revision::PUBLISHED);
  v1::GetRevisionRequest get;
  get.set_name("namespaces/default/definitions/p/revisions/published");
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision published, registry_->GetRevision(get));
  EXPECT_EQ(published.revision_number(), 1);
}

TEST_F(RegistryTest, ProposerCannotApproveOwnRevision) {
  Principal proposer = P("max", {Role::kMarketingEditor, Role::kMarketingApprover});
  ASSERT_TRUE(Create("p", Persona()).ok());
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision r, Propose("p", proposer));
  EXPECT_THAT(Approve(r.name(), proposer), HasReason("SELF_APPROVAL"));
  EXPECT_THAT(Approve(r.name(), proposer), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(RegistryTest, OnePrincipalCountsForOneTeamOnly) {
  ASSERT_TRUE(Create("p", Persona()).ok());
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision r, Propose("p", editor_));
  EXPECT_THAT(Approve(r.name(), both_), HasViolation("team"));
  ACCORD_ASSERT_OK_AND_ASSIGN(r, Approve(r.name(), both_, "marketing"));
  EXPECT_THAT(Approve(r.name(), both_, "sales"), HasReason("ALREADY_REVIEWED"));
  EXPECT_THAT(Approve(r.name(), P("viewer", {Role::kViewer})), HasReason("NOT_AN_APPROVER"));
  EXPECT_THAT(Approve(r.name(), P("max2", {Role::kMarketingApprover})),
              HasReason("ALREADY_APPROVED"));
}

TEST_F(RegistryTest, RejectNeedsCommentAndEndsTheReview) {
  ASSERT_TRUE(Create("p", Persona()).ok());
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision r, Propose("p", editor_));
  v1::ReviewRevisionRequest reject;
  reject.set_name(r.name());
  EXPECT_THAT(registry_->RejectRevision(sales_, reject), HasViolation("comment"));
  reject.set_comment("too broad");
  ACCORD_ASSERT_OK_AND_ASSIGN(r, registry_->RejectRevision(sales_, reject));
  EXPECT_EQ(r.state(), v1::Revision::REJECTED);
  EXPECT_THAT(Approve(r.name(), marketing_), HasReason("REVISION_NOT_REVIEWABLE"));
  EXPECT_THAT(Publish(r.name()), HasReason("REVISION_NOT_PUBLISHABLE"));
}

TEST_F(RegistryTest, EtagConflictIsAborted) {
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Definition d, Create("p", Persona()));
  v1::UpdateDefinitionRequest u;
  *u.mutable_definition() = Persona("first");
  u.mutable_definition()->set_name(d.name());
  u.mutable_definition()->set_etag(d.etag());
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Definition d2, registry_->UpdateDefinition(editor_, u));
  EXPECT_NE(d2.etag(), d.etag());
  *u.mutable_definition() = Persona("second");
  u.mutable_definition()->set_name(d.name());
  u.mutable_definition()->set_etag(d.etag());  // stale
  EXPECT_THAT(registry_->UpdateDefinition(editor_, u), StatusIs(absl::StatusCode::kAborted));
}

TEST_F(RegistryTest, SameRequestIdCreatesOneRevision) {
  ASSERT_TRUE(Create("p", Persona()).ok());
  v1::ProposeRevisionRequest r;
  r.set_name("namespaces/default/definitions/p");
  r.set_request_id("req-42");
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision first, registry_->ProposeRevision(editor_, r));
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision second, registry_->ProposeRevision(editor_, r));
  EXPECT_EQ(first.revision_number(), second.revision_number());
  EXPECT_EQ(first.sequence(), second.sequence());
  v1::ListRevisionsRequest list;
  list.set_parent("namespaces/default/definitions/p");
  ACCORD_ASSERT_OK_AND_ASSIGN(auto revisions, registry_->ListRevisions(list));
  EXPECT_EQ(revisions.revisions_size(), 1);
  r.set_change_summary("different");
  EXPECT_THAT(registry_->ProposeRevision(editor_, r), HasReason("REQUEST_ID_CONFLICT"));
}

TEST_F(RegistryTest, ValidateOnlyWritesNothing) {
  v1::CreateDefinitionRequest r;
  r.set_parent("namespaces/default");
  r.set_definition_id("p");
  *r.mutable_definition() = Persona();
  r.set_validate_only(true);
  ASSERT_TRUE(registry_->CreateDefinition(editor_, r).ok());
  v1::GetDefinitionRequest get;
  get.set_name("namespaces/default/definitions/p");
  EXPECT_THAT(registry_->GetDefinition(get), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RegistryTest, InvalidCreateReportsFieldPaths) {
  v1::Definition bad = Persona();
  bad.mutable_buyer_persona()->mutable_criteria(0)->set_weight(-1);
  EXPECT_THAT(Create("p", bad), HasViolation("definition.buyer_persona.criteria[0].weight"));
  EXPECT_THAT(Create("Bad_Id", Persona()), HasViolation("definition_id"));
  EXPECT_THAT(Create("p", Persona()).status(), StatusIs(absl::StatusCode::kOk));
  EXPECT_THAT(Create("p", Persona()), StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(RegistryTest, PublishedReferencesBlockDeleteAndRollbackRepublishes) {
  ASSERT_TRUE(Create("p", Persona()).ok());
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision r, Propose("p", editor_));
  ASSERT_TRUE(Approve(r.name(), marketing_).ok());
  ASSERT_TRUE(Approve(r.name(), sales_).ok());
  ASSERT_TRUE(Publish(r.name()).ok());
  auto docs = definitions::ParseDefinitions(
      "qualification_model: {personas: [p], levels: [{name: MQL}]}\n", "t");
  ASSERT_TRUE(Create("m", docs->front().definition).ok());
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision mr, Propose("m", editor_));
  ASSERT_TRUE(Approve(mr.name(), marketing_).ok());
  ASSERT_TRUE(Approve(mr.name(), sales_).ok());
  ASSERT_TRUE(Publish(mr.name()).ok());
  v1::DeleteDefinitionRequest del;
  del.set_name("namespaces/default/definitions/p");
  EXPECT_THAT(registry_->DeleteDefinition(P("admin", {Role::kAdmin}), del),
              HasReason("DEFINITION_REFERENCED"));

  // Second revision of p, then roll back to the first.
  ASSERT_EQ(UpdateAndPublish("p", Persona("v2")).revision_number(), 2);
  v1::RollbackDefinitionRequest rb;
  rb.set_name("namespaces/default/definitions/p");
  rb.set_revision_number(2);
  EXPECT_THAT(registry_->RollbackDefinition(marketing_, rb), HasReason("NOT_PREVIOUSLY_PUBLISHED"));
  rb.set_revision_number(1);
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision r3, registry_->RollbackDefinition(marketing_, rb));
  EXPECT_EQ(r3.revision_number(), 3);
  EXPECT_EQ(r3.rollback_of(), 1);
  EXPECT_EQ(r3.state(), v1::Revision::PUBLISHED);
  EXPECT_EQ(r3.snapshot().buyer_persona().summary(), "s");
}

TEST_F(RegistryTest, WeakeningThePolicyStillNeedsThePublishedTeams) {
  ASSERT_TRUE(Create("p", Persona()).ok());
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision r, Propose("p", editor_));
  ASSERT_TRUE(Approve(r.name(), marketing_).ok());
  ASSERT_TRUE(Approve(r.name(), sales_).ok());
  ASSERT_TRUE(Publish(r.name()).ok());
  v1::UpdateDefinitionRequest u;
  *u.mutable_definition() = Persona("only marketing now");
  u.mutable_definition()->set_name("namespaces/default/definitions/p");
  u.mutable_definition()->mutable_approval_policy()->add_required_teams("marketing");
  ASSERT_TRUE(registry_->UpdateDefinition(editor_, u).ok());
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision r2, Propose("p", editor_));
  EXPECT_THAT(r2.required_teams(), ::testing::ElementsAre("marketing", "sales"));
}

// Issue 13, case 1: revision 1 requires marketing, revision 2 marketing and sales; the marketing
// approver alone rolled back to revision 1, and marketing alone then published revision 4.
TEST_F(RegistryTest, RollbackCannotDropATeamFromThePolicyInForce) {
  v1::Definition only_marketing = Persona("v1");
  only_marketing.mutable_approval_policy()->add_required_teams("marketing");
  ASSERT_TRUE(Create("p", only_marketing).ok());
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision r1, Propose("p", editor_));
  EXPECT_THAT(r1.required_teams(), ::testing::ElementsAre("marketing"));
  ASSERT_TRUE(Approve(r1.name(), marketing_).ok());
  ASSERT_TRUE(Publish(r1.name()).ok());

  v1::Definition both = Persona("v2");
  both.mutable_approval_policy()->add_required_teams("marketing");
  both.mutable_approval_policy()->add_required_teams("sales");
  ASSERT_EQ(UpdateAndPublish("p", both).state(), v1::Revision::PUBLISHED);

  v1::RollbackDefinitionRequest rb;
  rb.set_name("namespaces/default/definitions/p");
  rb.set_revision_number(1);
  EXPECT_THAT(registry_->RollbackDefinition(marketing_, rb), HasReason("ROLLBACK_WEAKENS_POLICY"));
  EXPECT_THAT(registry_->RollbackDefinition(P("admin", {Role::kAdmin}), rb),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  // The way that remains: a proposal that sales approves, removing itself.
  v1::UpdateDefinitionRequest u;
  *u.mutable_definition() = only_marketing;
  u.mutable_definition()->set_name("namespaces/default/definitions/p");
  ASSERT_TRUE(registry_->UpdateDefinition(editor_, u).ok());
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision r3, Propose("p", editor_));
  EXPECT_THAT(r3.required_teams(), ::testing::ElementsAre("marketing", "sales"));
  ASSERT_TRUE(Approve(r3.name(), marketing_).ok());
  EXPECT_THAT(Publish(r3.name()), HasReason("APPROVAL_REQUIRED"));
  ASSERT_TRUE(Approve(r3.name(), sales_).ok());
  ASSERT_TRUE(Publish(r3.name()).ok());
  // Now the policy in force is marketing's alone, with sales' consent, and a rollback to
  // revision 2 (which adds sales back) is a strengthening: allowed.
  rb.set_revision_number(2);
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision r4, registry_->RollbackDefinition(marketing_, rb));
  EXPECT_EQ(r4.state(), v1::Revision::PUBLISHED);
}

// Issue 13, case 2: a principal holding marketing_editor and sales_approver wrote the draft, a
// sales editor proposed it, and its author approved it for sales.
TEST_F(RegistryTest, EveryAuthorOfTheContentIsBarredFromReviewingIt) {
  Principal writer = P("wes", {Role::kMarketingEditor, Role::kSalesApprover});
  Principal sales_editor = P("sue", {Role::kSalesEditor});
  ASSERT_TRUE(Create("p", Persona()).ok());
  v1::UpdateDefinitionRequest u;
  *u.mutable_definition() = Persona("written by wes");
  u.mutable_definition()->set_name("namespaces/default/definitions/p");
  ASSERT_TRUE(registry_->UpdateDefinition(writer, u).ok());
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision r, Propose("p", sales_editor));
  EXPECT_THAT(r.authors(), ::testing::ElementsAre("mia", "wes"));
  EXPECT_THAT(Approve(r.name(), writer), HasReason("SELF_APPROVAL"));
  EXPECT_THAT(Approve(r.name(), writer), StatusIs(absl::StatusCode::kPermissionDenied));
  v1::ReviewRevisionRequest reject;
  reject.set_name(r.name());
  reject.set_comment("no");
  EXPECT_THAT(registry_->RejectRevision(writer, reject), HasReason("SELF_APPROVAL"));
  ASSERT_TRUE(Approve(r.name(), sales_).ok());

  // Authorship runs from one proposal to the next: the next revision's authors are only those
  // who changed the draft after it. Identical content written again makes nobody an author.
  ASSERT_TRUE(registry_->UpdateDefinition(writer, u).ok());
  *u.mutable_definition() = Persona("third");
  u.mutable_definition()->set_name("namespaces/default/definitions/p");
  ASSERT_TRUE(registry_->UpdateDefinition(editor_, u).ok());
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision r2, Propose("p", sales_editor));
  EXPECT_THAT(r2.authors(), ::testing::ElementsAre("mia"));
  EXPECT_TRUE(Approve(r2.name(), writer).ok());
}

// Issue 13, case 4: principal "x" with request id "y/z" and principal "x/y" with request id "z"
// once shared a key.
TEST_F(RegistryTest, RequestIdsOfDifferentPrincipalsNeverCollide) {
  ASSERT_TRUE(Create("p", Persona()).ok());
  ASSERT_TRUE(Create("q", Persona()).ok());
  v1::ProposeRevisionRequest first;
  first.set_name("namespaces/default/definitions/p");
  first.set_request_id("y/z");
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision rp,
                              registry_->ProposeRevision(P("x", {Role::kMarketingEditor}), first));
  v1::ProposeRevisionRequest second;
  second.set_name("namespaces/default/definitions/q");
  second.set_request_id("z");
  ACCORD_ASSERT_OK_AND_ASSIGN(
      v1::Revision rq, registry_->ProposeRevision(P("x/y", {Role::kMarketingEditor}), second));
  EXPECT_EQ(rq.name(), "namespaces/default/definitions/q/revisions/1");
  EXPECT_NE(rp.sequence(), rq.sequence());
}

// Issue 13, case 6: one editor's definition with 1,000 patterns like \pL{50}q1x1 kept the
// registry's cores busy for 42 s, and the work went on after the call's deadline.
TEST_F(RegistryTest, ADefinitionOverItsBudgetIsRefusedAndACallPastItsDeadlineStops) {
  v1::Definition heavy = Persona();
  heavy.mutable_buyer_persona()->clear_criteria();
  for (int i = 0; i < 1000; ++i) {
    auto* c = heavy.mutable_buyer_persona()->add_criteria();
    c->set_id("c" + std::to_string(i));
    auto* a = c->mutable_condition()->mutable_attribute();
    a->set_field("title");
    a->set_op(v1::MATCHES);
    a->mutable_value()->set_string_value(R"(\pL{50}q1x)" + std::to_string(i));
  }
  EXPECT_THAT(Create("heavy", heavy),
              HasViolation("definition.buyer_persona.criteria[1].condition.attribute.value"));
  {
    CallScope ended(absl::Now() - absl::Milliseconds(1), nullptr);
    EXPECT_THAT(Create("late", Persona()), StatusIs(absl::StatusCode::kDeadlineExceeded));
  }
  v1::GetDefinitionRequest get;
  get.set_name("namespaces/default/definitions/late");
  EXPECT_THAT(registry_->GetDefinition(get), StatusIs(absl::StatusCode::kNotFound))
      << "a call past its deadline writes nothing";
}

TEST_F(RegistryTest, AuditRecordsEveryChange) {
  ASSERT_TRUE(Create("p", Persona()).ok());
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision r, Propose("p", editor_));
  ASSERT_TRUE(Approve(r.name(), marketing_).ok());
  v1::ListAuditEventsRequest a;
  a.set_parent("namespaces/default");
  ACCORD_ASSERT_OK_AND_ASSIGN(auto audit, registry_->ListAuditEvents(a));
  ASSERT_EQ(audit.events_size(), 3);
  EXPECT_EQ(audit.events(0).action(), "ApproveRevision");
  EXPECT_EQ(audit.events(0).principal(), "max");
  EXPECT_EQ(audit.events(2).action(), "CreateDefinition");
  EXPECT_FALSE(audit.events(2).after_hash().empty());
}

}  // namespace
}  // namespace accord::registry
