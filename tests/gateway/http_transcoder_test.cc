#include "gateway/http_transcoder.h"

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

#include "common/call_auth.h"
#include "common/executor.h"
#include "common/hash.h"
#include "common/server.h"
#include "gateway/catalog.h"
#include "registry/registry_service.h"
#include "tests/testing/api_keys.h"
#include "tests/testing/sqlite_registry.h"
#include "zlib.h"

// The HTTP/JSON transcoder in process, without an HTTP server: requests as the server hands
// them over, through a real gate and a real gRPC front end (H2Relay) to a real registry on
// port 0 (SQLite). It checks routing,
// admission, the JSON bodies both ways, errors as google.rpc.Status with their HTTP codes,
// gzip, and a server stream's lines. gateway_test checks the same over HTTP with curl.
namespace accord::gateway {
namespace {

// An HTTP exchange that records what the transcoder sends: the response, or a stream's head
// and chunks. Thread-safe, as the server's is.
class RecordingExchange final : public frontdoor::HttpExchange {
 public:
  void Respond(int status, frontdoor::HttpHeaders headers, std::string body) override {
    std::lock_guard lock(mu_);
    response_.status = status;
    Take(std::move(headers));
    response_.body = std::move(body);
    ended_ = true;
    cv_.notify_all();
  }
  void BeginStream(int status, frontdoor::HttpHeaders headers) override {
    std::lock_guard lock(mu_);
    response_.status = status;
    Take(std::move(headers));
    began_ = true;
    cv_.notify_all();
  }
  bool Write(std::string chunk) override {
    std::lock_guard lock(mu_);
    chunks_.push_back(std::move(chunk));
    cv_.notify_all();
    return !ended_;
  }
  void End() override {
    std::lock_guard lock(mu_);
    ended_ = true;
    cv_.notify_all();
  }
  void OnCancel(std::function<void()> cancel) override {
    std::lock_guard lock(mu_);
    cancel_ = std::move(cancel);
  }

  // The whole response (its head, for a stream), waiting for it.
  HttpResponse Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return ended_ || began_; });
    return response_;
  }
  // The next chunk within `timeout` (empty: none came, or the stream ended).
  std::string NextChunk(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return next_ < chunks_.size() || ended_; });
    return next_ < chunks_.size() ? chunks_[next_++] : "";
  }
  // Cancels as the server does when the client leaves, and waits for the stream's end.
  void CancelAndWait() {
    std::function<void()> cancel;
    {
      std::lock_guard lock(mu_);
      cancel = cancel_;
    }
    ASSERT_TRUE(cancel);
    cancel();
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return ended_; });
  }

 private:
  void Take(frontdoor::HttpHeaders headers) {
    for (auto& [k, v] : headers) {
      if (k == "Content-Type") {
        response_.content_type = v;
      } else {
        response_.headers.emplace_back(std::move(k), std::move(v));
      }
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  HttpResponse response_;
  bool began_ = false;
  bool ended_ = false;
  std::vector<std::string> chunks_;
  size_t next_ = 0;
  std::function<void()> cancel_;
};

class HttpTranscoderTest : public registry::testing::SqliteRegistryTest {
 protected:
  void SetUp() override {
    SqliteRegistryTest::SetUp();
    authorizer_ = accord::testing::AuthorizerWithKeys({"viewer", "marketing_editor"});
    executor_ = std::make_unique<Executor>(2, 100);
    service_ = std::make_unique<registry::RegistryServiceImpl>(*registry_, *hub_, *executor_,
                                                               *authorizer_);
    ServerOptions options;
    options.component = "registry-test";
    options.listen = "127.0.0.1:0";
    server_ = std::make_unique<Server>(options);
    server_->AddService(service_.get());
    ASSERT_TRUE(server_->Start().ok());

    auto catalog = Catalog::Build();
    ASSERT_TRUE(catalog.ok()) << catalog.status();
    catalog_ = std::make_unique<Catalog>(*std::move(catalog));
    auto router = Router::Build(*catalog_);
    ASSERT_TRUE(router.ok()) << router.status();
    router_ = std::make_unique<Router>(*std::move(router));
    GateOptions gate_options;
    gate_options.max_in_flight = 2;
    gate_ = std::make_unique<Gate>(*catalog_, *authorizer_, gate_options, metrics_);
    gate_->SetChannel(Backend::kRegistry,
                      grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                          grpc::InsecureChannelCredentials()));
    // Unary calls go through a gRPC front end's backend connections, as in the gateway.
    routes_ = std::make_unique<GateRoutes>(*gate_);
    RelayOptions relay_options;
    relay_options.listen = "127.0.0.1:0";
    relay_options.backends = {{"registry", absl::StrCat("127.0.0.1:", server_->port())},
                              {"scoring", "127.0.0.1:1"}};
    relay_ = std::make_unique<H2Relay>(*routes_, relay_options, nullptr);
    ASSERT_TRUE(relay_->Listen().ok());
    relay_->Start("127.0.0.1:1");
    transcoder_ = std::make_unique<HttpTranscoder>(*gate_, *relay_, *router_, nullptr);
  }

  void TearDown() override {
    transcoder_.reset();
    relay_->Shutdown(absl::ZeroDuration());
    server_->Shutdown();
    SqliteRegistryTest::TearDown();
  }

  // Handles `request` and waits for its response (a stream's head).
  HttpResponse Call(const HttpRequest& request) {
    auto exchange = std::make_shared<RecordingExchange>();
    transcoder_->Handle(request, exchange);
    return exchange->Wait();
  }

  HttpRequest Request(const std::string& method, const std::string& target, const std::string& role,
                      const std::string& body = "") {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.path = target.substr(0, target.find('?'));
    if (size_t q = target.find('?'); q != std::string::npos) {
      for (absl::string_view pair : absl::StrSplit(target.substr(q + 1), '&')) {
        std::pair<std::string, std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
        r.query.push_back(kv);
      }
    }
    r.body = body;
    r.content_type = body.empty() ? "" : "application/json";
    if (!role.empty()) {
      r.caller.authorization = absl::StrCat("Bearer token-", role);
    }
    return r;
  }

  static std::string HeaderOf(const HttpResponse& res, const std::string& key) {
    for (const auto& [k, v] : res.headers) {
      if (k == key) {
        return v;
      }
    }
    return "";
  }

  static google::rpc::Status ErrorOf(const HttpResponse& res) {
    google::rpc::Status status;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(res.body, &status).ok()) << res.body;
    return status;
  }

  HttpResponse CreatePersona(const std::string& id) {
    return Call(Request(
        "POST", absl::StrCat("/v1/namespaces/default/definitions?definition_id=", id),
        "marketing_editor",
        R"({"buyer_persona": {"criteria": [{"id": "t", "condition": {"attribute": {"field": "contact.title", "op": "EXISTS"}}}]}})"));
  }

  std::unique_ptr<CallAuthorizer> authorizer_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<registry::RegistryServiceImpl> service_;
  std::unique_ptr<Server> server_;
  prometheus::Registry metrics_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<Gate> gate_;
  std::unique_ptr<GateRoutes> routes_;
  std::unique_ptr<H2Relay> relay_;
  std::unique_ptr<HttpTranscoder> transcoder_;
};

TEST_F(HttpTranscoderTest, CreatesAndReadsADefinitionAsJson) {
  HttpResponse created = CreatePersona("it-director");
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.content_type, "application/json");
  EXPECT_FALSE(HeaderOf(created, "X-Request-Id").empty());

  HttpRequest get = Request("GET", "/v1/namespaces/default/definitions/it-director", "viewer");
  get.caller.request_id = "req-1";
  HttpResponse read = Call(get);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(HeaderOf(read, "X-Request-Id"), "req-1");
  registry::v1::Definition definition;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(read.body, &definition).ok());
  EXPECT_EQ(definition.name(), "namespaces/default/definitions/it-director");
  EXPECT_EQ(definition.buyer_persona().criteria(0).condition().attribute().field(),
            "contact.title");
}

TEST_F(HttpTranscoderTest, ErrorsAreRpcStatusesWithTheirHttpCodes) {
  // No credential, then a role without the permission.
  HttpResponse anonymous = Call(Request("GET", "/v1/namespaces/default/definitions/x", ""));
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(ErrorOf(anonymous).code(), static_cast<int>(absl::StatusCode::kUnauthenticated));
  HttpResponse denied =
      Call(Request("POST", "/v1/namespaces/default/definitions?definition_id=x", "viewer", "{}"));
  EXPECT_EQ(denied.status, 403);
  // Not found, by the backend; no route; a method the path does not allow.
  HttpResponse missing = Call(Request("GET", "/v1/namespaces/default/definitions/nope", "viewer"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(ErrorOf(missing).code(), static_cast<int>(absl::StatusCode::kNotFound));
  EXPECT_EQ(Call(Request("GET", "/v2/nothing", "viewer")).status, 404);
  EXPECT_EQ(Call(Request("PUT", "/v1/namespaces/default/definitions/x", "viewer")).status, 405);
  // A body that is not JSON, or JSON with an unknown field: 400 naming the field.
  HttpRequest text = Request("POST", "/v1/namespaces/default/definitions?definition_id=x",
                             "marketing_editor", "a=b");
  text.content_type = "text/plain";
  EXPECT_EQ(Call(text).status, 415);
  HttpResponse unknown =
      Call(Request("POST", "/v1/namespaces/default/definitions?definition_id=x", "marketing_editor",
                   R"({"buyer_persona": {"colour": "red"}})"));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("colour"), std::string::npos) << unknown.body;
  // A validation error from the registry keeps its field violations.
  HttpResponse invalid =
      Call(Request("POST", "/v1/namespaces/default/definitions?definition_id=bad",
                   "marketing_editor", R"({"buyer_persona": {"criteria": []}})"));
  EXPECT_EQ(invalid.status, 400);
  EXPECT_NE(invalid.body.find("criteria"), std::string::npos) << invalid.body;
}

TEST_F(HttpTranscoderTest, LargeResponsesAreGzippedForClientsThatTakeIt) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(CreatePersona(absl::StrCat("p", i)).status, 200);
  }
  HttpRequest list = Request("GET", "/v1/namespaces/default/definitions", "viewer");
  HttpResponse plain = Call(list);
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(HeaderOf(plain, "Content-Encoding"), "");
  list.accepts_gzip = true;
  HttpResponse gz = Call(list);
  ASSERT_EQ(gz.status, 200);
  EXPECT_EQ(HeaderOf(gz, "Content-Encoding"), "gzip");
  std::string inflated(plain.body.size() * 2, '\0');
  z_stream z{};
  ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(gz.body.data());
  z.avail_in = static_cast<uInt>(gz.body.size());
  z.next_out = reinterpret_cast<Bytef*>(inflated.data());
  z.avail_out = static_cast<uInt>(inflated.size());
  ASSERT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  inflated.resize(z.total_out);
  inflateEnd(&z);
  EXPECT_EQ(inflated, plain.body);
}

TEST_F(HttpTranscoderTest, AWatchIsAStreamOfJsonLines) {
  ASSERT_EQ(CreatePersona("a").status, 200);
  auto watch = std::make_shared<RecordingExchange>();
  transcoder_->Handle(Request("GET", "/v1/namespaces/default/definitions:watch", "viewer"), watch);
  HttpResponse head = watch->Wait();
  ASSERT_EQ(head.status, 200) << head.body;
  EXPECT_EQ(head.content_type, "application/x-ndjson");
  EXPECT_EQ(HeaderOf(head, "Cache-Control"), "no-store");
  // The snapshot of the published state (nothing is published): its beginning and its end.
  std::string lines;
  for (int i = 0; i < 20 && lines.find("snapshotEnd") == std::string::npos; ++i) {
    std::string line = watch->NextChunk(std::chrono::milliseconds(500));
    if (!line.empty()) {
      EXPECT_EQ(line.rfind("{\"result\":", 0), 0u) << line;
      EXPECT_EQ(line.back(), '\n');
      lines += line;
    }
  }
  EXPECT_NE(lines.find("snapshotBegin"), std::string::npos) << lines;
  EXPECT_NE(lines.find("snapshotEnd"), std::string::npos) << lines;
  watch->CancelAndWait();  // the client left: the backend stream is cancelled and ends
}

TEST_F(HttpTranscoderTest, OpenApiIsServed) {
  HttpResponse openapi = Call(Request("GET", "/openapi.json", ""));
  EXPECT_EQ(openapi.status, 200);
  EXPECT_NE(openapi.body.find("\"openapi\""), std::string::npos);
}

}  // namespace
}  // namespace accord::gateway
