#include "scoring/scoring_service.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "accord/scoring/v1/scoring.grpc.pb.h"
#include "common/call_auth.h"
#include "common/hash.h"
#include "common/server.h"
#include "common/status.h"
#include "definitions/loader.h"

// The scoring service's gRPC adapter in process, on port 0, with the example definitions:
// ScoreAccount is served from the request bytes (DecodeAccountRequest), so it is
// compared with the message path (Scorer::ScoreAccount of the parsed request) on the example
// account, field for field; bad accounts get their field paths on the wire.
namespace accord::scoring {
namespace {

constexpr char kToken[] = "token-service";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

class ScoringServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The example definitions, published at sequence 1.
    auto docs = definitions::ReadDefinitions(ACCORD_EXAMPLES_DIR);
    ASSERT_TRUE(docs.ok()) << docs.status();
    rv1::WatchDefinitionsResponse begin, changes, end;
    for (auto* m : {&begin, &changes, &end}) {
      m->set_sequence(1);
      m->set_history_id("h");
    }
    begin.mutable_snapshot_begin();
    end.mutable_snapshot_end();
    for (const auto& d : *docs) {
      rv1::WatchEvent* e = changes.mutable_changes()->add_events();
      e->set_type(rv1::WatchEvent::UPSERT);
      e->set_definition(d.definition.name());
      e->mutable_revision()->set_revision_number(1);
      *e->mutable_revision()->mutable_snapshot() = d.definition;
    }
    ASSERT_TRUE(scorer_.Apply({begin, changes, end}).empty());
    auto keys = KeyStore::LoadYaml(absl::StrCat("keys:\n  - principal: svc\n    roles: [service]\n",
                                                "    sha256: ", Sha256Hex(kToken), "\n"));
    ASSERT_TRUE(keys.ok()) << keys.status();
    Authenticators authenticators;
    authenticators.keys = std::make_shared<const KeyStore>(*std::move(keys));
    authorizer_ = std::make_unique<CallAuthorizer>(std::move(authenticators));
    service_ = std::make_unique<ScoringServiceImpl>(scorer_, *authorizer_);
    ServerOptions options;
    options.component = "scoring-test";
    options.listen = "127.0.0.1:0";
    server_ = std::make_unique<Server>(options);
    server_->AddService(service_.get());
    ASSERT_TRUE(server_->Start().ok());
    stub_ = sv1::Scoring::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                                      grpc::InsecureChannelCredentials()));
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                    ReadFile(std::string(ACCORD_EXAMPLES_DIR) + "/../account.json"),
                    request_.mutable_account())
                    .ok());
    ASSERT_TRUE(google::protobuf::util::TimeUtil::FromString("2026-11-01T12:00:00Z",
                                                             request_.mutable_as_of()));
  }

  void TearDown() override { server_->Shutdown(); }

  absl::Status ScoreAccount(const sv1::ScoreAccountRequest& request, sv1::AccountScore* out) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", kToken));
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    return FromGrpcStatus(stub_->ScoreAccount(&context, request, out));
  }

  SystemClock clock_;
  Scorer scorer_{clock_};
  std::unique_ptr<CallAuthorizer> authorizer_;
  std::unique_ptr<ScoringServiceImpl> service_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<sv1::Scoring::Stub> stub_;
  sv1::ScoreAccountRequest request_;
};

TEST_F(ScoringServiceTest, ScoreAccountFromBytesEqualsTheMessagePath) {
  sv1::AccountScore wire;
  ASSERT_TRUE(ScoreAccount(request_, &wire).ok());
  auto message = scorer_.ScoreAccount(request_);
  ASSERT_TRUE(message.ok()) << message.status();
  std::string difference;
  google::protobuf::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&difference);
  EXPECT_TRUE(differ.Compare(*message, wire)) << difference;
  EXPECT_EQ(wire.members_size(), 17);
  EXPECT_EQ(wire.excluded_for_consent(), 2);
  EXPECT_EQ(wire.level(), "MQA");
}

TEST_F(ScoringServiceTest, BadAccountsGetTheirFieldPathsOnTheWire) {
  sv1::AccountScore out;
  sv1::ScoreAccountRequest bad = request_;
  bad.mutable_account()->mutable_members(1)->mutable_events(0)->clear_time();
  absl::Status s = ScoreAccount(bad, &out);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_FALSE(FieldViolations(s).empty()) << s;
  EXPECT_EQ(FieldViolations(s)[0].field, "account.members[1].events[0].time");
  bad = request_;
  bad.mutable_account()->mutable_members(4)->set_id(request_.account().members(2).id());
  s = ScoreAccount(bad, &out);
  ASSERT_FALSE(FieldViolations(s).empty()) << s;
  EXPECT_EQ(FieldViolations(s)[0].field, "account.members[4].id");
  bad = request_;
  bad.mutable_selector()->set_account_model("nope");
  s = ScoreAccount(bad, &out);
  ASSERT_FALSE(FieldViolations(s).empty()) << s;
  EXPECT_EQ(FieldViolations(s)[0].field, "selector.account_model");
  // Without a credential: refused before anything is decoded.
  grpc::ClientContext context;
  EXPECT_EQ(stub_->ScoreAccount(&context, request_, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace accord::scoring
