#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"

#include "accord/registry/v1/registry.grpc.pb.h"
#include "accord/scoring/v1/scoring.grpc.pb.h"
#include "common/status.h"

// What accordctl's command groups share: the global flags, the exit code of a refusal, and
// the clients of the registry and of scoring.
namespace accord::cli {

namespace v1 = ::accord::registry::v1;
namespace sv1 = ::accord::scoring::v1;

struct Globals {
  std::string server = "127.0.0.1:7400";
  std::string token;
  std::string output = "table";
  std::string ns = "default";
  double timeout_seconds = 10;
  std::string scoring_server;  // "" = server
};

// Prints the error (code, message, field violations, reason) on stderr. Exit codes: 0 ok,
// 1 the server or the input said no, 2 usage.
int Fail(const absl::Status& status);

// The registry, over gRPC (the registry itself or the gateway).
class RegistryClient {
 public:
  explicit RegistryClient(const Globals& g) : g_(g) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
    stub_ = v1::Registry::NewStub(
        grpc::CreateCustomChannel(g.server, grpc::InsecureChannelCredentials(), args));
  }

  std::unique_ptr<grpc::ClientContext> Context(bool streaming = false) const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!streaming) {
      ctx->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(g_.timeout_seconds * 1000)));
    }
    if (!g_.token.empty()) {
      ctx->AddMetadata("authorization", "Bearer " + g_.token);
    }
    return ctx;
  }

  template <typename Req, typename Resp, typename Method>
  absl::StatusOr<Resp> Call(Method method, const Req& request) const {
    Resp response;
    auto ctx = Context();
    grpc::Status status = (stub_.get()->*method)(ctx.get(), request, &response);
    if (!status.ok()) {
      return FromGrpcStatus(status);
    }
    return response;
  }

  v1::Registry::Stub* stub() const { return stub_.get(); }
  const Globals& globals() const { return g_; }

  // "it-director" -> namespaces/{ns}/definitions/it-director; full names pass through.
  std::string Name(const std::string& ref) const {
    return absl::StartsWith(ref, "namespaces/")
               ? ref
               : absl::StrCat("namespaces/", g_.ns, "/definitions/", ref);
  }

 private:
  const Globals& g_;
  std::unique_ptr<v1::Registry::Stub> stub_;
};

struct ScoringTarget {
  std::string server;  // HOST:PORT of the scoring service or the gateway
  std::string token;
  double timeout_seconds = 10;
};
// --scoring-server, or --server.
ScoringTarget ScoringTargetOf(const Globals& g);

struct ScoreOptions {
  std::string file;   // .jsonl (one Lead as JSON per line) or .csv (dotted column names)
  std::string model;  // "" = the namespace's only model
  std::string ns = "default";
  std::string as_of;             // RFC 3339; "" = now
  std::string output = "table";  // table, jsonl, csv
  std::string account_model;     // "" = the namespace's only account model
};

// Leads per StreamScoreLeads message.
inline constexpr int kChunk = 500;

std::unique_ptr<sv1::Scoring::Stub> ScoringStub(const ScoringTarget& t);
// The client context of one call: the credential and the deadline.
void Prepare(grpc::ClientContext& ctx, const ScoringTarget& t);
// Only the credential (a stream has no deadline).
void AddAuth(grpc::ClientContext& ctx, const ScoringTarget& t);
// The request's selector and as_of from the options.
absl::Status FillRequest(const ScoreOptions& o, sv1::Selector* selector,
                         google::protobuf::Timestamp* as_of);
// "namespaces/x/definitions/it-director" -> "it-director".
std::string ShortName(const std::string& full);

}  // namespace accord::cli
