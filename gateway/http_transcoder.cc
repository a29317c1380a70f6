#include "gateway/http_transcoder.h"

#include <condition_variable>
#include <future>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/support/byte_buffer.h"

#include "common/hash.h"
#include "common/status.h"
#include "gateway/openapi.h"
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

HttpResponse Error(const absl::Status& status) {
  HttpResponse res;
  res.status = HttpStatusFor(status.code());
  if (int retry = RetryAfterSeconds(status); retry > 0) {
    res.headers.emplace_back("Retry-After", std::to_string(retry));
  }
  res.body = StatusJson(status);
  return res;
}

// A JSON response, gzip-encoded (level 1) when the client takes gzip.
HttpResponse Json(const HttpRequest& req, std::string json) {
  constexpr size_t kMinCompressed = 128;
  HttpResponse res;
  if (json.size() >= kMinCompressed && req.accepts_gzip) {
    if (std::optional<std::string> gz = Gzip(json); gz.has_value()) {
      res.headers.emplace_back("Content-Encoding", "gzip");
      res.headers.emplace_back("Vary", "Accept-Encoding");
      res.body = *std::move(gz);
      return res;
    }
  }
  res.body = std::move(json);
  return res;
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

// A server-streaming call relayed to an HttpStream.
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

// The HttpStream of a StreamRelay: its lines, the gate's stream slot held until the end.
class JsonLines final : public HttpStream {
 public:
  JsonLines(std::shared_ptr<StreamRelay> relay, const google::protobuf::Descriptor* output,
            Ticket ticket)
      : relay_(std::move(relay)), output_(output), ticket_(std::move(ticket)) {}
  ~JsonLines() override { relay_->CancelAndWait(); }

  Step Next(std::chrono::milliseconds timeout, std::string* line) override {
    std::string message;
    bool finished = false;
    grpc::Status status;
    line->clear();
    if (!relay_->Next(timeout, &message, &finished, &status)) {
      return Step::kWaiting;
    }
    if (!finished) {
      absl::StatusOr<std::string> json = ToJson(output_, message);
      *line = json.ok() ? absl::StrCat("{\"result\":", *json, "}\n")
                        : absl::StrCat("{\"error\":", StatusJson(json.status()), "}\n");
      return Step::kLine;
    }
    if (!status.ok()) {
      *line = absl::StrCat("{\"error\":", StatusJson(FromGrpcStatus(status)), "}\n");
    }
    return Step::kDone;
  }

 private:
  std::shared_ptr<StreamRelay> relay_;
  const google::protobuf::Descriptor* output_;
  Ticket ticket_;
};

// A console file with its security headers, gzip-encoded when the client takes it; "/" and
// "/console" redirect to "/console/".
HttpResponse ServeConsole(const ConsoleFiles& console, const HttpRequest& req) {
  HttpResponse res;
  for (const auto& [key, value] : ConsoleFiles::SecurityHeaders()) {
    res.headers.emplace_back(key, value);
  }
  if (req.path == "/" || req.path == "/console") {
    res.status = 302;
    res.headers.emplace_back("Location", "/console/");
    res.content_type.clear();
    return res;
  }
  const ConsoleFile* file = console.Find(req.path);
  if (file == nullptr) {
    res.status = 404;
    res.content_type = "text/plain; charset=utf-8";
    res.body = "not found";
    return res;
  }
  res.headers.emplace_back("Vary", "Accept-Encoding");
  res.content_type = file->content_type;
  if (!file->gzip.empty() && req.accepts_gzip) {
    res.headers.emplace_back("Content-Encoding", "gzip");
    res.body = file->gzip;
    return res;
  }
  res.body = file->body;
  return res;
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

std::string StatusJson(const absl::Status& status) {
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(ToRpcStatus(status), &out);
  return out;
}

HttpTranscoder::HttpTranscoder(Gate& gate, const Router& router, const ConsoleFiles* console)
    : gate_(gate), router_(router), console_(console), openapi_(OpenApiJson(router)) {}

HttpResponse HttpTranscoder::Handle(const HttpRequest& req) {
  if (console_ != nullptr && req.method == "GET" &&
      (req.path == "/" || req.path == "/console" || absl::StartsWith(req.path, "/console/"))) {
    return ServeConsole(*console_, req);
  }
  if (req.method == "GET" && req.path == "/openapi.json") {
    return Json(req, openapi_);
  }
  bool path_known = false;
  // Routed on the raw target (the decoded path would decode variables twice): variables are
  // decoded once, by the router.
  const std::string raw_path = req.target.substr(0, req.target.find('?'));
  std::optional<Router::Match> match = router_.Find(req.method, raw_path, &path_known);
  if (!match.has_value()) {
    if (path_known) {
      HttpResponse res;
      res.status = 405;
      res.body = StatusJson(
          absl::InvalidArgumentError(absl::StrCat(req.method, " is not allowed on ", req.path)));
      return res;
    }
    return Error(absl::NotFoundError(absl::StrCat("no route for ", req.path)));
  }
  const MethodInfo& method = *match->route->method;
  CallerHeaders headers = req.caller;
  if (!headers.request_id.has_value()) {
    headers.request_id = UniqueHex(16);
  }
  const std::pair<std::string, std::string> request_id("X-Request-Id", *headers.request_id);
  auto with_id = [&request_id](HttpResponse res) {
    res.headers.insert(res.headers.begin(), request_id);
    return res;
  };
  absl::StatusOr<Admission> admission = gate_.Admit(method, headers);
  if (!admission.ok()) {
    return with_id(Error(admission.status()));
  }
  if (!req.body.empty() &&
      absl::AsciiStrToLower(req.content_type).rfind("application/json", 0) != 0) {
    HttpResponse res;
    res.status = 415;
    res.body = StatusJson(absl::InvalidArgumentError("Content-Type must be application/json"));
    return with_id(std::move(res));
  }
  std::unique_ptr<google::protobuf::Message> request = NewMessage(method.descriptor->input_type());
  if (absl::Status s = BuildRequest(*match, req.body, req.query, *request); !s.ok()) {
    return with_id(Error(s));
  }
  std::string bytes = request->SerializeAsString();
  if (method.server_streaming) {
    auto relay = std::make_shared<StreamRelay>();
    gate_.PrepareDownstream(relay->context(), method, headers, absl::InfiniteFuture());
    relay->Start(gate_.stub(method.backend), method.path, bytes);
    HttpResponse res;
    res.content_type = "application/x-ndjson";
    res.stream = std::make_unique<JsonLines>(relay, method.descriptor->output_type(),
                                             std::move(admission->ticket));
    return with_id(std::move(res));
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
    return with_id(Error(FromGrpcStatus(status)));
  }
  absl::StatusOr<std::string> json =
      ToJson(method.descriptor->output_type(), FromByteBuffer(response_buffer));
  if (!json.ok()) {
    return with_id(Error(json.status()));
  }
  return with_id(Json(req, *std::move(json)));
}

}  // namespace accord::gateway
