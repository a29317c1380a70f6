#include "registry/registry_service.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "accord/registry/v1/registry.grpc.pb.h"
#include "common/call_auth.h"
#include "common/executor.h"
#include "common/hash.h"
#include "common/server.h"
#include "common/status.h"
#include "tests/testing/api_keys.h"
#include "tests/testing/sqlite_registry.h"

// The registry's gRPC adapter in process: the real service on a real server bound to port 0,
// called by a real gRPC channel, over a SQLite registry of the test's own. It checks what the
// adapter adds to the domain: authentication and the permission table per method, the mapping
// of the domain's errors (code, ErrorInfo reason, field violations) onto the wire, and the
// methods the review console needs (GetCaller, DiffDefinition).
namespace accord::registry {
namespace {

class RegistryServiceTest : public testing::SqliteRegistryTest {
 protected:
  void SetUp() override {
    SqliteRegistryTest::SetUp();
    for (const char* role :
         {"viewer", "marketing_editor", "marketing_approver", "sales_approver"}) {
      tokens_[role] = absl::StrCat("token-", role);
    }
    authorizer_ = accord::testing::AuthorizerWithKeys(
        {"viewer", "marketing_editor", "marketing_approver", "sales_approver"});
    executor_ = std::make_unique<Executor>(2, 100);
    service_ = std::make_unique<RegistryServiceImpl>(*registry_, *hub_, *executor_, *authorizer_);
    ServerOptions options;
    options.component = "registry-test";
    options.listen = "127.0.0.1:0";
    server_ = std::make_unique<Server>(options);
    server_->AddService(service_.get());
    ASSERT_TRUE(server_->Start().ok());
    stub_ = v1::Registry::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                      grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    server_->Shutdown();
    SqliteRegistryTest::TearDown();
  }

  // Calls `method` as `role` ("" = no credential); returns the status with its details.
  template <typename Request, typename Response, typename Method>
  absl::Status Call(const std::string& role, Method method, const Request& request,
                    Response* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    if (!role.empty()) {
      context.AddMetadata("authorization", "Bearer " + tokens_[role]);
    }
    return FromGrpcStatus(((*stub_).*method)(&context, request, response));
  }

  void CreatePersona(const std::string& id, double min_match) {
    v1::CreateDefinitionRequest request;
    request.set_parent("namespaces/default");
    request.set_definition_id(id);
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        R"(buyer_persona {criteria {id: "t" condition {attribute {field: "contact.title"
           op: EXISTS}}}})",
        request.mutable_definition()));
    request.mutable_definition()->mutable_buyer_persona()->set_min_match(min_match);
    v1::Definition created;
    ASSERT_TRUE(
        Call("marketing_editor", &v1::Registry::Stub::CreateDefinition, request, &created).ok());
  }

  std::map<std::string, std::string> tokens_;
  std::unique_ptr<CallAuthorizer> authorizer_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<RegistryServiceImpl> service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<v1::Registry::Stub> stub_;
};

TEST_F(RegistryServiceTest, GetCallerDescribesTheAuthenticatedPrincipal) {
  v1::Caller caller;
  ASSERT_TRUE(
      Call("marketing_approver", &v1::Registry::Stub::GetCaller, v1::GetCallerRequest(), &caller)
          .ok());
  EXPECT_EQ(caller.principal(), "marketing_approver@test");
  ASSERT_EQ(caller.roles_size(), 1);
  EXPECT_EQ(caller.roles(0), "marketing_approver");
  ASSERT_EQ(caller.approver_teams_size(), 1);
  EXPECT_EQ(caller.approver_teams(0), "marketing");
  const std::vector<std::string> permissions(caller.permissions().begin(),
                                             caller.permissions().end());
  EXPECT_NE(std::find(permissions.begin(), permissions.end(), "review"), permissions.end());
  EXPECT_EQ(std::find(permissions.begin(), permissions.end(), "edit"), permissions.end());
  ASSERT_TRUE(Call("viewer", &v1::Registry::Stub::GetCaller, v1::GetCallerRequest(), &caller).ok());
  EXPECT_TRUE(caller.approver_teams().empty());
  EXPECT_EQ(Call("", &v1::Registry::Stub::GetCaller, v1::GetCallerRequest(), &caller).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(RegistryServiceTest, DiffDefinitionComparesTheDraftWithThePublishedRevision) {
  CreatePersona("p", 0.5);
  // Never published: the draft's content is all added.
  v1::DiffDefinitionRequest request;
  request.set_name("namespaces/default/definitions/p");
  v1::DefinitionDiff diff;
  ASSERT_TRUE(Call("viewer", &v1::Registry::Stub::DiffDefinition, request, &diff).ok());
  EXPECT_EQ(diff.from(), "(no published revision)");
  EXPECT_EQ(diff.to(), "draft");
  ASSERT_GE(diff.changes_size(), 1);
  EXPECT_EQ(diff.changes(0).kind(), v1::DefinitionChange::ADDED);
  // Propose revision 1, then raise the bar in the draft: revision 1 vs the draft.
  v1::ProposeRevisionRequest propose;
  propose.set_name(request.name());
  v1::Revision revision;
  ASSERT_TRUE(
      Call("marketing_editor", &v1::Registry::Stub::ProposeRevision, propose, &revision).ok());
  v1::UpdateDefinitionRequest update;
  update.mutable_definition()->set_name(request.name());
  update.mutable_definition()->mutable_buyer_persona()->set_min_match(0.7);
  *update.mutable_definition()->mutable_buyer_persona()->add_criteria() =
      revision.snapshot().buyer_persona().criteria(0);
  v1::Definition updated;
  ASSERT_TRUE(
      Call("marketing_editor", &v1::Registry::Stub::UpdateDefinition, update, &updated).ok());
  request.set_from("1");
  ASSERT_TRUE(Call("viewer", &v1::Registry::Stub::DiffDefinition, request, &diff).ok());
  EXPECT_EQ(diff.from_revision(), 1);
  ASSERT_EQ(diff.changes_size(), 1);
  EXPECT_EQ(diff.changes(0).path(), "buyer_persona.min_match");
  EXPECT_EQ(diff.changes(0).effect(), v1::DefinitionChange::TIGHTENS);
  EXPECT_EQ(diff.changes(0).summary(), "persona: minimum match 0.5 -> 0.7");
  // Bad sides: their field on the wire; an unknown definition: NOT_FOUND.
  request.set_from("yesterday");
  absl::Status bad = Call("viewer", &v1::Registry::Stub::DiffDefinition, request, &diff);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(FieldViolations(bad).size(), 1u);
  EXPECT_EQ(FieldViolations(bad)[0].field, "from");
  request.set_from("9");
  EXPECT_EQ(Call("viewer", &v1::Registry::Stub::DiffDefinition, request, &diff).code(),
            absl::StatusCode::kNotFound);
  request.set_name("namespaces/default/definitions/nope");
  request.clear_from();
  EXPECT_EQ(Call("viewer", &v1::Registry::Stub::DiffDefinition, request, &diff).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(RegistryServiceTest, TheDomainsRefusalsReachTheWireWithTheirReasons) {
  CreatePersona("p", 0.5);
  v1::ProposeRevisionRequest propose;
  propose.set_name("namespaces/default/definitions/p");
  v1::Revision revision;
  ASSERT_TRUE(
      Call("marketing_editor", &v1::Registry::Stub::ProposeRevision, propose, &revision).ok());
  v1::ReviewRevisionRequest review;
  review.set_name(revision.name());
  // The table refuses an editor's approval before the domain sees it.
  absl::Status editor =
      Call("marketing_editor", &v1::Registry::Stub::ApproveRevision, review, &revision);
  EXPECT_EQ(editor.code(), absl::StatusCode::kPermissionDenied);
  // A rejection without a comment: the field.
  absl::Status no_comment =
      Call("sales_approver", &v1::Registry::Stub::RejectRevision, review, &revision);
  EXPECT_EQ(no_comment.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_FALSE(FieldViolations(no_comment).empty());
  EXPECT_EQ(FieldViolations(no_comment)[0].field, "comment");
  // Publishing before both teams approved: the reason.
  ASSERT_TRUE(
      Call("marketing_approver", &v1::Registry::Stub::ApproveRevision, review, &revision).ok());
  absl::Status again =
      Call("marketing_approver", &v1::Registry::Stub::ApproveRevision, review, &revision);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  v1::PublishRevisionRequest publish;
  publish.set_name(revision.name());
  absl::Status early =
      Call("marketing_editor", &v1::Registry::Stub::PublishRevision, publish, &revision);
  EXPECT_EQ(early.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(early), "APPROVAL_REQUIRED");
}

}  // namespace
}  // namespace accord::registry
