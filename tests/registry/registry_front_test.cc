#include "registry/registry_front.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

#include "accord/registry/v1/registry.grpc.pb.h"
#include "common/call_auth.h"
#include "common/executor.h"
#include "common/hash.h"
#include "common/server.h"
#include "common/status.h"
#include "frontdoor/fronted_server.h"
#include "registry/registry_service.h"
#include "tests/testing/api_keys.h"
#include "tests/testing/sqlite_registry.h"

// The registry behind its HTTP/2 front end, in process: GetDefinition and WatchDefinitions
// answered on the front's loops (a watch is a pushing local call), the other methods relayed to
// the gRPC server behind it. Real gRPC clients on loopback, a SQLite registry of the test's own.
namespace accord::registry {
namespace {

class RegistryFrontTest : public testing::SqliteRegistryTest {
 protected:
  // As accord-registry runs it: each fan-out wakes the front's loops once.
  WatchHubOptions HubOptions() override {
    WatchHubOptions options;
    options.around_fan_out = [](const std::function<void()>& fan_out) {
      H2Relay::PushBatch batch;
      fan_out();
    };
    return options;
  }

  void SetUp() override {
    SqliteRegistryTest::SetUp();
    authorizer_ = accord::testing::AuthorizerWithKeys({"viewer", "marketing_editor"});
    executor_ = std::make_unique<Executor>(2, 100);
    service_ = std::make_unique<RegistryServiceImpl>(*registry_, *hub_, *executor_, *authorizer_);
    routes_ = std::make_unique<RegistryRoutes>(*registry_, *hub_, *executor_, *authorizer_);
    ServerOptions options;
    options.component = "registry-test";
    options.listen = "127.0.0.1:0";
    FrontedServer::PutBehindFront(options);
    server_ = std::make_unique<Server>(options);
    server_->AddService(service_.get());
    auto front = FrontedServer::Start(*server_, *routes_, FrontedServer::FrontOptions(options, 1));
    ASSERT_TRUE(front.ok()) << front.status();
    front_ = *std::move(front);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", front_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Registry::NewStub(channel_);
  }

  void TearDown() override {
    front_->Shutdown(absl::Seconds(1));
    server_->Shutdown();
    front_.reset();
    SqliteRegistryTest::TearDown();
  }

  std::unique_ptr<grpc::ClientContext> Context(const std::string& token) {
    auto context = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) {
      context->AddMetadata("authorization", "Bearer " + token);
    }
    return context;
  }

  // Reads watch messages until `done` says so (false after 10 s or at the stream's end).
  template <typename Done>
  static bool ReadUntil(grpc::ClientReader<v1::WatchDefinitionsResponse>& reader, Done done) {
    v1::WatchDefinitionsResponse message;
    while (reader.Read(&message)) {
      if (done(message)) {
        return true;
      }
    }
    return false;
  }

  static bool Upserts(const v1::WatchDefinitionsResponse& m, const std::string& id) {
    for (const auto& e : m.changes().events()) {
      if (e.type() == v1::WatchEvent::UPSERT &&
          e.definition() == "namespaces/default/definitions/" + id) {
        return true;
      }
    }
    return false;
  }

  std::unique_ptr<CallAuthorizer> authorizer_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<RegistryServiceImpl> service_;
  std::unique_ptr<RegistryRoutes> routes_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<H2Relay> front_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Registry::Stub> stub_;
};

TEST_F(RegistryFrontTest, GetDefinitionIsTheServicesAnswer) {
  PublishPersona("a");
  v1::GetDefinitionRequest request;
  request.set_name("namespaces/default/definitions/a");
  v1::Definition front;
  ASSERT_TRUE(stub_->GetDefinition(Context("token-viewer").get(), request, &front).ok());
  absl::StatusOr<v1::Definition> direct = registry_->GetDefinition(request);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(front.SerializeAsString(), direct->SerializeAsString());

  // Errors keep their codes, and the relayed methods still work.
  v1::Definition ignored;
  EXPECT_EQ(stub_->GetDefinition(Context("").get(), request, &ignored).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  request.set_name("namespaces/default/definitions/none");
  EXPECT_EQ(stub_->GetDefinition(Context("token-viewer").get(), request, &ignored).error_code(),
            grpc::StatusCode::NOT_FOUND);
  request.set_name("not a name");
  grpc::Status bad = stub_->GetDefinition(Context("token-viewer").get(), request, &ignored);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::ListDefinitionsRequest list;
  list.set_parent("namespaces/default");
  v1::ListDefinitionsResponse listed;
  ASSERT_TRUE(stub_->ListDefinitions(Context("token-viewer").get(), list, &listed).ok());
  EXPECT_EQ(listed.definitions_size(), 1);
}

TEST_F(RegistryFrontTest, AWatchGetsTheSnapshotThenLiveChanges) {
  PublishPersona("a");
  v1::WatchDefinitionsRequest request;
  request.set_parent("namespaces/default");
  auto context = Context("token-viewer");
  auto reader = stub_->WatchDefinitions(context.get(), request);
  int64_t count = -1;
  ASSERT_TRUE(ReadUntil(*reader, [&](const v1::WatchDefinitionsResponse& m) {
    if (m.has_snapshot_end()) {
      count = m.snapshot_end().definition_count();
      return true;
    }
    return false;
  }));
  EXPECT_EQ(count, 1);
  PublishPersona("b");
  EXPECT_TRUE(ReadUntil(*reader, [](const auto& m) { return Upserts(m, "b"); }));
  context->TryCancel();
  reader->Finish();
  // The watcher leaves the hub when its call ends.
  for (int i = 0; i < 500 && hub_->watcher_count() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(hub_->watcher_count(), 0u);
}

TEST_F(RegistryFrontTest, ManyWatchersOnOneConnectionEachGetEveryChange) {
  constexpr int kWatchers = 50;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::WatchDefinitionsResponse>>> readers;
  v1::WatchDefinitionsRequest request;
  for (int i = 0; i < kWatchers; ++i) {
    contexts.push_back(Context("token-viewer"));
    readers.push_back(stub_->WatchDefinitions(contexts.back().get(), request));
    ASSERT_TRUE(ReadUntil(*readers.back(), [](const auto& m) { return m.has_snapshot_end(); }));
  }
  PublishPersona("x");
  PublishPersona("y");
  for (auto& reader : readers) {
    EXPECT_TRUE(ReadUntil(*reader, [](const auto& m) { return Upserts(m, "x"); }));
    EXPECT_TRUE(ReadUntil(*reader, [](const auto& m) { return Upserts(m, "y"); }));
  }
  for (auto& context : contexts) {
    context->TryCancel();
  }
  for (auto& reader : readers) {
    reader->Finish();
  }
}

TEST_F(RegistryFrontTest, BadWatchesEndWithTheFieldAndWithoutCredentials) {
  v1::WatchDefinitionsRequest request;
  request.set_parent("projects/x");
  auto context = Context("token-viewer");
  auto reader = stub_->WatchDefinitions(context.get(), request);
  v1::WatchDefinitionsResponse message;
  EXPECT_FALSE(reader->Read(&message));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolations(FromGrpcStatus(status)).at(0).field, "parent");

  request.set_parent("namespaces/default");
  auto anonymous = Context("");
  auto refused = stub_->WatchDefinitions(anonymous.get(), request);
  EXPECT_FALSE(refused->Read(&message));
  EXPECT_EQ(refused->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(hub_->watcher_count(), 0u);
}

TEST_F(RegistryFrontTest, ADrainEndsWatchesWithUnavailable) {
  v1::WatchDefinitionsRequest request;
  auto context = Context("token-viewer");
  auto reader = stub_->WatchDefinitions(context.get(), request);
  ASSERT_TRUE(ReadUntil(*reader, [](const auto& m) { return m.has_snapshot_end(); }));
  front_->Shutdown(absl::Seconds(5));
  v1::WatchDefinitionsResponse message;
  while (reader->Read(&message)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  for (int i = 0; i < 500 && hub_->watcher_count() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(hub_->watcher_count(), 0u);
}

}  // namespace
}  // namespace accord::registry
