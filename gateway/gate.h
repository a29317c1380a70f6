#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/rpc_method.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

#include "common/call_auth.h"
#include "frontdoor/h2_relay.h"
#include "gateway/catalog.h"
#include "gateway/limits.h"

// Everything the gRPC and HTTP front ends share: admission (authentication, the default-deny
// table, quotas, in-flight limits), deadlines, the downstream metadata and the backend stubs.
namespace accord::gateway {

struct GateOptions {
  absl::Duration default_deadline = absl::Seconds(5);  // unary calls without a deadline
  absl::Duration max_deadline = absl::Seconds(30);     // longer unary deadlines are capped
  int max_in_flight = 256;                             // unary calls at once, over both front ends
  int max_streams = 1000;        // streaming calls at once (watches, bulk scoring)
  double principal_share = 0.5;  // of each of the two limits, the most one principal holds
  QuotaOptions quota;
};

// Releases an in-flight slot, and its principal's share, when it goes away.
class Ticket final {
 public:
  Ticket() = default;
  Ticket(InFlightLimit* limit, PrincipalLimit* share, std::string principal)
      : limit_(limit), share_(share), principal_(std::move(principal)) {}
  Ticket(Ticket&& other) noexcept
      : limit_(std::exchange(other.limit_, nullptr)),
        share_(std::exchange(other.share_, nullptr)),
        principal_(std::move(other.principal_)) {}
  Ticket& operator=(Ticket&& other) noexcept {
    std::swap(limit_, other.limit_);
    std::swap(share_, other.share_);
    std::swap(principal_, other.principal_);
    return *this;
  }
  ~Ticket() {
    if (limit_ != nullptr) {
      limit_->Release();
    }
    if (share_ != nullptr) {
      share_->Release(principal_);
    }
  }

 private:
  InFlightLimit* limit_ = nullptr;
  PrincipalLimit* share_ = nullptr;
  std::string principal_;
};

struct Admission {
  Principal principal;
  Ticket ticket;
};

class Gate final {
 public:
  Gate(const Catalog& catalog, const CallAuthorizer& authorizer, GateOptions options,
       prometheus::Registry& metrics);

  const Catalog& catalog() const { return catalog_; }
  const GateOptions& options() const { return options_; }

  // Admits one call: UNAUTHENTICATED, PERMISSION_DENIED, or RESOURCE_EXHAUSTED (with a
  // RetryInfo) when the caller's quota or the in-flight limit is exhausted. Thread-safe.
  absl::StatusOr<Admission> Admit(const MethodInfo& method, const CallerHeaders& headers);

  // Deadline, cancellation, credentials, request id and trace context for the backend call.
  // `client_deadline` is InfiniteFuture when the caller set none.
  void PrepareDownstream(grpc::ClientContext& context, const MethodInfo& method,
                         const CallerHeaders& headers, absl::Time client_deadline) const;
  // The backend call's deadline: unary calls get the default when the caller set none and are
  // capped; streams keep the caller's (InfiniteFuture: none).
  absl::Time DownstreamDeadline(const MethodInfo& method, absl::Time client_deadline) const;
  // The metadata the backend call carries: the caller's credential, the request id (made up
  // when the caller sent none), a child traceparent and the tracestate.
  std::vector<std::pair<std::string, std::string>> DownstreamMetadata(
      const CallerHeaders& headers) const;

  // Installs the channel to `backend`: HTTP/JSON's server streams (watches) are called on it
  // (unary calls go through the gRPC front end's backend connections, H2Relay::Call).
  void SetChannel(Backend backend, std::shared_ptr<grpc::Channel> channel);
  grpc::GenericStub& stub(Backend backend) { return *stubs_[static_cast<int>(backend)]; }

  // Counts a call refused before it reached a backend, by reason.
  void CountRejected(absl::string_view reason);

 private:
  const Catalog& catalog_;
  const CallAuthorizer& authorizer_;
  GateOptions options_;
  Quotas quotas_;
  InFlightLimit unary_limit_;
  InFlightLimit stream_limit_;
  PrincipalLimit unary_share_;
  PrincipalLimit stream_share_;
  std::unique_ptr<grpc::GenericStub> stubs_[2];
  std::shared_ptr<grpc::Channel> channels_[2];
  prometheus::Family<prometheus::Counter>& rejected_;
  prometheus::Gauge& in_flight_gauge_;
  prometheus::Gauge& streams_gauge_;
};

// The gate as the HTTP/2 relay's policy: every registry and scoring method goes to its backend
// (RelayOptions::backends: registry, then scoring) once the gate admits it.
class GateRoutes final : public RelayRoutes {
 public:
  explicit GateRoutes(Gate& gate);

  const RelayRoute* Find(absl::string_view path) const override;
  absl::StatusOr<std::unique_ptr<RelayTicket>> Admit(const RelayRoute& route,
                                                     const CallerHeaders& caller) override;
  absl::Time Deadline(const RelayRoute& route, absl::Time client_deadline) const override;
  std::vector<RelayHeader> BackendHeaders(const CallerHeaders& caller) const override;
  void CountRejected(absl::string_view reason) override { gate_.CountRejected(reason); }

 private:
  const MethodInfo& MethodOf(const RelayRoute& route) const;

  Gate& gate_;
  std::vector<RelayRoute> routes_;  // one per catalog method, in the catalog's order
};

// The gRPC caller headers of a server call.
CallerHeaders HeadersOf(const grpc::ServerContextBase& context);

}  // namespace accord::gateway
