#include "gateway/http_server.h"

#include <condition_variable>
#include <deque>
#include <future>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/support/byte_buffer.h"

#include "common/hash.h"
#include "common/host_port.h"
#include "common/log.h"
#include "common/status.h"
#include "gateway/openapi.h"
#include "httplib.h"
#include "zlib.h"

namespace accord::gateway {
namespace {

// `body` gzip-compressed (zlib level 1: about 1 ms for 100 KB of JSON), or nullopt.
std::optional<std::string> Gzip(const std::string& body) {
  z_stream z{};
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::nullopt;
  }
  std::string out(deflateBound(&z, body.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z.avail_in = static_cast<uInt>(body.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int done = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return done == Z_STREAM_END ? std::optional<std::string>(std::move(out)) : std::nullopt;
}

// Where the gateway keeps the client's Accept-Encoding (see TakeAcceptEncoding).
constexpr char kAcceptEncoding[] = "X-Accord-Accept-Encoding";

// cpp-httplib compresses every response whose client accepts it, by itself: with Brotli at its
// highest quality when the client takes `br` (every browser, most HTTP stacks: 213 ms for the
// 98 KB list of 200 definitions, against 4 ms uncompressed), and again on top of a
// Content-Encoding the handler set. The gateway encodes its responses itself, so it takes the
// header from the library before any handler runs and keeps it under kAcceptEncoding. (The
// request is httplib's own mutable object, handed to handlers as const.)
void TakeAcceptEncoding(const httplib::Request& req) {
  auto& headers = const_cast<httplib::Request&>(req).headers;
  std::string accepted;
  for (auto it = headers.find("Accept-Encoding");
       it != headers.end() && absl::EqualsIgnoreCase(it->first, "Accept-Encoding");
       it = headers.erase(it)) {
    absl::StrAppend(&accepted, accepted.empty() ? "" : ",", it->second);
  }
  headers.erase(kAcceptEncoding);
  headers.emplace(kAcceptEncoding, accepted);
}

bool AcceptsGzip(const httplib::Request& req) {
  return absl::StrContains(absl::AsciiStrToLower(req.get_header_value(kAcceptEncoding)), "gzip");
}

// A JSON response, gzip-encoded (level 1) when the client takes gzip.
void SetJson(const httplib::Request& req, httplib::Response& res, std::string json) {
  constexpr size_t kMinCompressed = 128;
  if (json.size() >= kMinCompressed && AcceptsGzip(req)) {
    if (std::optional<std::string> gz = Gzip(json); gz.has_value()) {
      res.set_header("Content-Encoding", "gzip");
      res.set_header("Vary", "Accept-Encoding");
      res.set_content(*std::move(gz), "application/json");
      return;
    }
  }
  res.set_content(std::move(json), "application/json");
}

std::string StatusJson(const absl::Status& status) {
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(ToRpcStatus(status), &out);
  return out;
}

void SendError(httplib::Response& res, const absl::Status& status) {
  res.status = HttpStatusFor(status.code());
  if (int retry = RetryAfterSeconds(status); retry > 0) {
    res.set_header("Retry-After", std::to_string(retry));
  }
  res.set_content(StatusJson(status), "application/json");
}

std::optional<std::string> Header(const httplib::Request& req, const char* key) {
  if (!req.has_header(key)) {
    return std::nullopt;
  }
  return req.get_header_value(key);
}

std::unique_ptr<google::protobuf::Message> NewMessage(const google::protobuf::Descriptor* d) {
  return std::unique_ptr<google::protobuf::Message>(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(d)->New());
}

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromByteBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string out;
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

absl::StatusOr<std::string> ToJson(const google::protobuf::Descriptor* type,
                                   const std::string& bytes) {
  std::unique_ptr<google::protobuf::Message> message = NewMessage(type);
  if (!message->ParseFromString(bytes)) {
    return absl::InternalError("backend sent an unparsable response");
  }
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(*message, &json).ok()) {
    return absl::InternalError("response not printable as JSON");
  }
  return json;
}

// A server-streaming call relayed to an HTTP response, one JSON object per line; one
// message is held at a time, so a slow HTTP reader slows the backend stream down.
class StreamRelay final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  void Start(grpc::GenericStub& stub, const std::string& path, const std::string& request) {
    request_ = ToByteBuffer(request);
    stub.PrepareBidiStreamingCall(&context_, path, grpc::StubOptions(), this);
    StartWriteLast(&request_, grpc::WriteOptions());
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    std::lock_guard lock(mu_);
    if (ok) {
      pending_ = FromByteBuffer(response_);
    }
    cv_.notify_all();
  }

  void OnDone(const grpc::Status& status) override {
    std::lock_guard lock(mu_);
    status_ = status;
    done_ = true;
    cv_.notify_all();
  }

  // Waits up to `timeout` for the next message. True with `message` set, or true with
  // `finished` set at the end (then `status` holds the backend's status); false on timeout.
  bool Next(std::chrono::milliseconds timeout, std::string* message, bool* finished,
            grpc::Status* status) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return pending_.has_value() || done_; })) {
      return false;
    }
    if (pending_.has_value()) {
      *message = std::move(*pending_);
      pending_.reset();
      *finished = false;
      lock.unlock();
      StartRead(&response_);
      return true;
    }
    *finished = true;
    *status = status_;
    return true;
  }

  void CancelAndWait() {
    context_.TryCancel();
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_; });
  }

  grpc::ClientContext& context() { return context_; }

 private:
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::string> pending_;
  bool done_ = false;
  grpc::Status status_;
};

// A console file with its security headers, gzip-encoded when the client takes it; "/" and
// "/console" redirect to "/console/".
void ServeConsole(const ConsoleFiles& console, const httplib::Request& req,
                  httplib::Response& res) {
  for (const auto& [key, value] : ConsoleFiles::SecurityHeaders()) {
    if (!res.has_header(key)) {  // nosniff and no-store are set for every response already
      res.set_header(key, value);
    }
  }
  if (req.path == "/" || req.path == "/console") {
    res.status = 302;
    res.set_header("Location", "/console/");
    return;
  }
  const ConsoleFile* file = console.Find(req.path);
  if (file == nullptr) {
    res.status = 404;
    res.set_content("not found", "text/plain; charset=utf-8");
    return;
  }
  res.set_header("Vary", "Accept-Encoding");
  if (!file->gzip.empty() && AcceptsGzip(req)) {
    res.set_header("Content-Encoding", "gzip");
    res.set_content(file->gzip, file->content_type);
    return;
  }
  res.set_content(file->body, file->content_type);
}

}  // namespace

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

HttpServer::HttpServer(Gate& gate, const Router& router, HttpOptions options)
    : gate_(gate), router_(router), options_(std::move(options)) {
  openapi_ = OpenApiJson(router_);
}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start() {
  server_ = std::make_unique<httplib::Server>();
  httplib::Server& svr = *server_;
  int threads = options_.threads;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_payload_max_length(options_.max_body_bytes);
  svr.set_read_timeout(options_.read_timeout_seconds, 0);
  svr.set_write_timeout(options_.read_timeout_seconds, 0);
  svr.set_keep_alive_timeout(options_.idle_timeout_seconds);
  svr.set_keep_alive_max_count(10000);
  svr.set_tcp_nodelay(true);  // else Nagle and delayed ACKs add 40 ms to every response
  svr.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        // Never the exception's text: it may carry internals.
        SendError(res, absl::InternalError("internal error"));
      });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) {
      return;
    }
    absl::StatusCode code = res.status == 413   ? absl::StatusCode::kInvalidArgument
                            : res.status == 404 ? absl::StatusCode::kNotFound
                                                : absl::StatusCode::kInvalidArgument;
    int status = res.status;
    res.set_content(StatusJson(absl::Status(code, status == 413 ? "request body larger than 1 MiB"
                                                                : absl::StrCat("HTTP ", status))),
                    "application/json");
  });
  size_t max_header_bytes = options_.max_header_bytes;
  svr.set_pre_routing_handler([max_header_bytes](const httplib::Request& req,
                                                 httplib::Response& res) {
    size_t total = 0;
    for (const auto& [key, value] : req.headers) {
      total += key.size() + value.size() + 4;
    }
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Cache-Control", "no-store");
    TakeAcceptEncoding(req);
    if (total > max_header_bytes) {
      res.status = 431;
      res.set_content(StatusJson(absl::InvalidArgumentError("request headers larger than 16 KiB")),
                      "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }
    std::string encoding = absl::AsciiStrToLower(req.get_header_value("Content-Encoding"));
    if (!encoding.empty() && encoding != "identity") {
      res.status = 415;
      res.set_content(StatusJson(absl::InvalidArgumentError(
                          "Content-Encoding is not accepted; send the body uncompressed")),
                      "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  auto handle = [this](const httplib::Request& req, httplib::Response& res) {
    if (options_.console != nullptr && req.method == "GET" &&
        (req.path == "/" || req.path == "/console" || absl::StartsWith(req.path, "/console/"))) {
      ServeConsole(*options_.console, req, res);
      return;
    }
    if (req.method == "GET" && req.path == "/openapi.json") {
      SetJson(req, res, openapi_);
      return;
    }
    bool path_known = false;
    // Routed on the raw target (httplib's req.path is decoded already): variables are decoded
    // once, by the router.
    const std::string raw_path = req.target.substr(0, req.target.find('?'));
    std::optional<Router::Match> match = router_.Find(req.method, raw_path, &path_known);
    if (!match.has_value()) {
      if (path_known) {
        res.status = 405;
        res.set_content(StatusJson(absl::InvalidArgumentError(
                            absl::StrCat(req.method, " is not allowed on ", req.path))),
                        "application/json");
      } else {
        SendError(res, absl::NotFoundError(absl::StrCat("no route for ", req.path)));
      }
      return;
    }
    const MethodInfo& method = *match->route->method;
    CallerHeaders headers;
    headers.authorization = Header(req, "Authorization");
    headers.roles = Header(req, "X-Accord-Roles");
    headers.request_id = Header(req, "X-Request-Id").value_or(UniqueHex(16));
    headers.traceparent = Header(req, "traceparent");
    headers.tracestate = Header(req, "tracestate");
    res.set_header("X-Request-Id", *headers.request_id);
    absl::StatusOr<Admission> admission = gate_.Admit(method, headers);
    if (!admission.ok()) {
      SendError(res, admission.status());
      return;
    }
    if (!req.body.empty()) {
      std::string type = absl::AsciiStrToLower(req.get_header_value("Content-Type"));
      if (type.rfind("application/json", 0) != 0) {
        res.status = 415;
        res.set_content(
            StatusJson(absl::InvalidArgumentError("Content-Type must be application/json")),
            "application/json");
        return;
      }
    }
    std::vector<std::pair<std::string, std::string>> query(req.params.begin(), req.params.end());
    std::unique_ptr<google::protobuf::Message> request =
        NewMessage(method.descriptor->input_type());
    if (absl::Status s = BuildRequest(*match, req.body, query, *request); !s.ok()) {
      SendError(res, s);
      return;
    }
    std::string bytes = request->SerializeAsString();
    const google::protobuf::Descriptor* output = method.descriptor->output_type();
    if (method.server_streaming) {
      auto relay = std::make_shared<StreamRelay>();
      gate_.PrepareDownstream(relay->context(), method, headers, absl::InfiniteFuture());
      relay->Start(gate_.stub(method.backend), method.path, bytes);
      auto ticket = std::make_shared<Ticket>(std::move(admission->ticket));
      res.set_chunked_content_provider(
          "application/x-ndjson",
          [relay, output](size_t, httplib::DataSink& sink) {
            std::string message;
            bool finished = false;
            grpc::Status status;
            if (!relay->Next(std::chrono::milliseconds(1000), &message, &finished, &status)) {
              return sink.is_writable();  // nothing yet; stop if the client went away
            }
            std::string line;
            if (!finished) {
              absl::StatusOr<std::string> json = ToJson(output, message);
              line = json.ok() ? absl::StrCat("{\"result\":", *json, "}\n")
                               : absl::StrCat("{\"error\":", StatusJson(json.status()), "}\n");
              return sink.write(line.data(), line.size());
            }
            if (!status.ok()) {
              line = absl::StrCat("{\"error\":", StatusJson(FromGrpcStatus(status)), "}\n");
              sink.write(line.data(), line.size());
            }
            sink.done();
            return true;
          },
          [relay, ticket](bool) { relay->CancelAndWait(); });
      return;
    }
    grpc::ClientContext context;
    gate_.PrepareDownstream(context, method, headers, absl::InfiniteFuture());
    grpc::ByteBuffer request_buffer = ToByteBuffer(bytes);
    grpc::ByteBuffer response_buffer;
    std::promise<grpc::Status> done;
    gate_.CallUnary(method, &context, &request_buffer, &response_buffer,
                    [&done](grpc::Status status) { done.set_value(std::move(status)); });
    grpc::Status status = done.get_future().get();
    if (!status.ok()) {
      SendError(res, FromGrpcStatus(status));
      return;
    }
    absl::StatusOr<std::string> json = ToJson(output, FromByteBuffer(response_buffer));
    if (!json.ok()) {
      SendError(res, json.status());
      return;
    }
    SetJson(req, res, *std::move(json));
  };
  svr.Get(".*", handle);
  svr.Post(".*", handle);
  svr.Patch(".*", handle);
  svr.Put(".*", handle);
  svr.Delete(".*", handle);

  absl::StatusOr<HostPort> listen = ParseHostPort(options_.listen);
  if (!listen.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http_listen=", options_.listen, ": expected HOST:PORT"));
  }
  const std::string& host = listen->host;
  const int port = listen->port;
  if (port == 0) {
    port_ = svr.bind_to_any_port(host);
  } else {
    port_ = svr.bind_to_port(host, port) ? port : -1;
  }
  if (port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  Log(LogLevel::kInfo, "HTTP listening", {{"http", absl::StrCat(host, ":", port_)}});
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (server_ != nullptr) {
    server_->stop();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

}  // namespace accord::gateway
