#include "gateway/http_transcoder.h"

#include <memory>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/support/byte_buffer.h"

#include "common/hash.h"
#include "common/status.h"
#include "frontdoor/grpc_frame.h"
#include "gateway/json_codec.h"
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
HttpResponse Json(bool accepts_gzip, std::string json) {
  constexpr size_t kMinCompressed = 128;
  HttpResponse res;
  if (json.size() >= kMinCompressed && accepts_gzip) {
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

// The payload of a unary response: exactly one uncompressed framed message.
absl::StatusOr<std::string> OnlyMessage(const std::string& framed) {
  absl::StatusOr<std::optional<frontdoor::MessageHead>> head = frontdoor::ReadPrefix(framed);
  if (!head.ok() || !head->has_value() || (*head)->compressed ||
      framed.size() != frontdoor::kMessagePrefixBytes + (*head)->length) {
    return absl::InternalError("the backend's response is not one uncompressed message");
  }
  return framed.substr(frontdoor::kMessagePrefixBytes);
}

// A backend's response as JSON, from its wire bytes (json_codec.h).
absl::StatusOr<std::string> ToJson(const google::protobuf::Descriptor* type,
                                   const std::string& bytes) {
  absl::StatusOr<std::string> json = WireToJson(type, bytes);
  if (!json.ok()) {
    return absl::InternalError("backend sent a response not printable as JSON");
  }
  return json;
}

// A server-streaming call relayed to an HTTP exchange as JSON lines. It keeps itself alive
// until the call is done; the exchange's cancel (the client left) cancels the call.
class StreamRelay final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  StreamRelay(std::shared_ptr<frontdoor::HttpExchange> exchange,
              const google::protobuf::Descriptor* output, Ticket ticket)
      : exchange_(std::move(exchange)), output_(output), ticket_(std::move(ticket)) {}

  static void Start(std::shared_ptr<StreamRelay> self, grpc::GenericStub& stub,
                    const std::string& path, const std::string& request, HttpResponse head) {
    StreamRelay& r = *self;
    r.self_ = self;
    std::weak_ptr<StreamRelay> weak = self;
    r.exchange_->OnCancel([weak] {
      if (std::shared_ptr<StreamRelay> relay = weak.lock()) {
        relay->context_.TryCancel();
      }
    });
    HttpResponse response = std::move(head);
    response.content_type = "application/x-ndjson";
    response.stream = true;
    Send(*r.exchange_, std::move(response));
    r.request_ = ToByteBuffer(request);
    stub.PrepareBidiStreamingCall(&r.context_, path, grpc::StubOptions(), &r);
    r.StartWriteLast(&r.request_, grpc::WriteOptions());
    r.StartRead(&r.response_);
    r.StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      return;  // OnDone follows
    }
    absl::StatusOr<std::string> json = ToJson(output_, FromByteBuffer(response_));
    std::string line = json.ok() ? absl::StrCat("{\"result\":", *json, "}\n")
                                 : absl::StrCat("{\"error\":", StatusJson(json.status()), "}\n");
    if (!exchange_->Write(std::move(line))) {
      context_.TryCancel();  // the client left, or reads too slowly
      return;
    }
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    if (!status.ok()) {
      exchange_->Write(absl::StrCat("{\"error\":", StatusJson(FromGrpcStatus(status)), "}\n"));
    }
    exchange_->End();
    std::shared_ptr<StreamRelay> keep = std::move(self_);  // the last reference may go here
  }

  grpc::ClientContext& context() { return context_; }

 private:
  std::shared_ptr<frontdoor::HttpExchange> exchange_;
  const google::protobuf::Descriptor* output_;
  Ticket ticket_;  // the gate's stream slot, held until the call is done
  std::shared_ptr<StreamRelay> self_;
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
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

HttpTranscoder::HttpTranscoder(Gate& gate, H2Relay& relay, const Router& router,
                               const ConsoleFiles* console)
    : gate_(gate),
      relay_(relay),
      router_(router),
      console_(console),
      openapi_(OpenApiJson(router)) {}

void Send(frontdoor::HttpExchange& exchange, HttpResponse response) {
  frontdoor::HttpHeaders headers = {{"X-Content-Type-Options", "nosniff"},
                                    {"Cache-Control", "no-store"}};
  if (!response.content_type.empty()) {
    headers.emplace_back("Content-Type", response.content_type);
  }
  for (auto& [key, value] : response.headers) {
    if (!absl::EqualsIgnoreCase(key, "X-Content-Type-Options")) {
      headers.emplace_back(std::move(key), std::move(value));
    }
  }
  if (response.stream) {
    exchange.BeginStream(response.status, std::move(headers));
    return;
  }
  exchange.Respond(response.status, std::move(headers), std::move(response.body));
}

void HttpTranscoder::Handle(const HttpRequest& req,
                            std::shared_ptr<frontdoor::HttpExchange> exchange) {
  if (console_ != nullptr && req.method == "GET" &&
      (req.path == "/" || req.path == "/console" || absl::StartsWith(req.path, "/console/"))) {
    return Send(*exchange, ServeConsole(*console_, req));
  }
  if (req.method == "GET" && req.path == "/openapi.json") {
    return Send(*exchange, Json(req.accepts_gzip, openapi_));
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
      return Send(*exchange, std::move(res));
    }
    return Send(*exchange, Error(absl::NotFoundError(absl::StrCat("no route for ", req.path))));
  }
  const MethodInfo& method = *match->route->method;
  CallerHeaders headers = req.caller;
  if (!headers.request_id.has_value()) {
    headers.request_id = UniqueHex(16);
  }
  auto with_id = [request_id = *headers.request_id](HttpResponse res) {
    res.headers.insert(res.headers.begin(), {"X-Request-Id", request_id});
    return res;
  };
  absl::StatusOr<Admission> admission = gate_.Admit(method, headers);
  if (!admission.ok()) {
    return Send(*exchange, with_id(Error(admission.status())));
  }
  if (!req.body.empty() &&
      absl::AsciiStrToLower(req.content_type).rfind("application/json", 0) != 0) {
    HttpResponse res;
    res.status = 415;
    res.body = StatusJson(absl::InvalidArgumentError("Content-Type must be application/json"));
    return Send(*exchange, with_id(std::move(res)));
  }
  std::string bytes;
  if (!RequestBytesFromBody(*match, req.body, req.query, bytes)) {
    std::unique_ptr<google::protobuf::Message> request =
        NewMessage(method.descriptor->input_type());
    if (absl::Status s = BuildRequest(*match, req.body, req.query, *request); !s.ok()) {
      return Send(*exchange, with_id(Error(s)));
    }
    bytes = request->SerializeAsString();
  }
  if (method.server_streaming) {
    auto relay = std::make_shared<StreamRelay>(exchange, method.descriptor->output_type(),
                                               std::move(admission->ticket));
    gate_.PrepareDownstream(relay->context(), method, headers, absl::InfiniteFuture());
    StreamRelay::Start(relay, gate_.stub(method.backend), method.path, bytes,
                       with_id(HttpResponse()));
    return;
  }
  // Unary: over the gRPC front end's own backend connections (H2Relay::Call), no gRPC client.
  std::string framed;
  frontdoor::AppendMessage(framed, [&](std::string& out) { out += bytes; });
  auto ticket = std::make_shared<Ticket>(std::move(admission->ticket));
  const google::protobuf::Descriptor* output = method.descriptor->output_type();
  // The call is cancelled (its backend stream reset, its slot given back) if the client leaves
  // before the answer.
  frontdoor::HttpExchange& answer = *exchange;
  answer.OnCancel(
      relay_.Call(static_cast<int>(method.backend), method.path, gate_.DownstreamMetadata(headers),
                  std::move(framed), gate_.DownstreamDeadline(method, absl::InfiniteFuture()),
                  [ticket, exchange = std::move(exchange), output, with_id,
                   accepts_gzip = req.accepts_gzip](absl::Status status, std::string response) {
                    *ticket = Ticket();  // the slot goes back as the backend answers
                    if (!status.ok()) {
                      return Send(*exchange, with_id(Error(status)));
                    }
                    absl::StatusOr<std::string> message = OnlyMessage(response);
                    if (!message.ok()) {
                      return Send(*exchange, with_id(Error(message.status())));
                    }
                    absl::StatusOr<std::string> json = ToJson(output, *message);
                    if (!json.ok()) {
                      return Send(*exchange, with_id(Error(json.status())));
                    }
                    Send(*exchange, with_id(Json(accepts_gzip, *std::move(json))));
                  }));
}

}  // namespace accord::gateway
