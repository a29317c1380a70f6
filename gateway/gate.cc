#include "gateway/gate.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/support/client_callback.h"

#include "common/hash.h"
#include "common/status.h"
#include "common/trace.h"

namespace accord::gateway {
namespace {

std::optional<std::string> Get(const grpc::ServerContextBase& context, absl::string_view key) {
  std::optional<absl::string_view> value = ClientMetadata(context, key);
  return value ? std::optional<std::string>(std::string(*value)) : std::nullopt;
}

int ShareOf(int limit, double share) { return std::max(1, static_cast<int>(limit * share)); }

}  // namespace

CallerHeaders HeadersOf(const grpc::ServerContextBase& context) {
  CallerHeaders h;
  h.authorization = Get(context, "authorization");
  h.repeated_authorization = context.client_metadata().count("authorization") > 1;
  h.roles = Get(context, "x-accord-roles");
  h.request_id = Get(context, "x-request-id");
  h.traceparent = Get(context, "traceparent");
  h.tracestate = Get(context, "tracestate");
  return h;
}

Gate::Gate(const Catalog& catalog, const CallAuthorizer& authorizer, GateOptions options,
           prometheus::Registry& metrics)
    : catalog_(catalog),
      authorizer_(authorizer),
      options_(options),
      quotas_(options.quota),
      unary_limit_(options.max_in_flight),
      stream_limit_(options.max_streams),
      unary_share_(ShareOf(options.max_in_flight, options.principal_share)),
      stream_share_(ShareOf(options.max_streams, options.principal_share)),
      rejected_(prometheus::BuildCounter()
                    .Name("accord_gateway_rejected_total")
                    .Help("calls refused before reaching a backend, by reason")
                    .Register(metrics)),
      in_flight_gauge_(prometheus::BuildGauge()
                           .Name("accord_gateway_in_flight_limit")
                           .Help("the unary in-flight limit")
                           .Register(metrics)
                           .Add({})),
      streams_gauge_(prometheus::BuildGauge()
                         .Name("accord_gateway_streams_limit")
                         .Help("the streaming-call limit")
                         .Register(metrics)
                         .Add({})) {
  in_flight_gauge_.Set(options.max_in_flight);
  streams_gauge_.Set(options.max_streams);
}

void Gate::SetChannel(Backend backend, std::shared_ptr<grpc::Channel> channel) {
  int i = static_cast<int>(backend);
  channels_[i] = channel;
  stubs_[i] = std::make_unique<grpc::GenericStub>(channel);
}

void Gate::CountRejected(absl::string_view reason) {
  rejected_.Add({{"reason", std::string(reason)}}).Increment();
}

absl::StatusOr<Admission> Gate::Admit(const MethodInfo& method, const CallerHeaders& headers) {
  absl::StatusOr<Principal> principal = authorizer_.Authorize(headers, method.path);
  if (!principal.ok()) {
    CountRejected(principal.status().code() == absl::StatusCode::kUnauthenticated
                      ? "unauthenticated"
                      : "permission_denied");
    return principal.status();
  }
  int retry_after = 1;
  if (!quotas_.Admit(principal->name, &retry_after)) {
    CountRejected("quota");
    return WithRetryAfter(
        ErrorWithReason(
            absl::StatusCode::kResourceExhausted, "QUOTA_EXCEEDED",
            absl::StrCat("request quota of ", principal->name, " exceeded (",
                         options_.quota.rate_per_second, "/s, burst ", options_.quota.burst, ")")),
        retry_after);
  }
  InFlightLimit& limit = method.unary() ? unary_limit_ : stream_limit_;
  PrincipalLimit& share = method.unary() ? unary_share_ : stream_share_;
  if (!share.TryAcquire(principal->name)) {
    CountRejected(method.unary() ? "principal_in_flight" : "principal_streams");
    return WithRetryAfter(
        ErrorWithReason(absl::StatusCode::kResourceExhausted, "PRINCIPAL_OVERLOADED",
                        absl::StrCat(principal->name, " holds its limit of ", share.limit(),
                                     method.unary() ? " calls in flight" : " open streams",
                                     " (a share of the gateway's)")),
        1);
  }
  if (!limit.TryAcquire()) {
    share.Release(principal->name);
    CountRejected(method.unary() ? "in_flight" : "streams");
    return WithRetryAfter(
        ErrorWithReason(absl::StatusCode::kResourceExhausted, "OVERLOADED",
                        absl::StrCat("the gateway is at its limit of ", limit.limit(),
                                     method.unary() ? " calls in flight" : " open streams")),
        1);
  }
  std::string name = principal->name;
  return Admission{*std::move(principal), Ticket(&limit, &share, std::move(name))};
}

absl::Time Gate::DownstreamDeadline(const MethodInfo& method, absl::Time client_deadline) const {
  if (!method.unary()) {
    // Streams (watches, bulk scoring) may run for as long as the caller wants.
    return client_deadline;
  }
  absl::Time now = absl::Now();
  return client_deadline == absl::InfiniteFuture()
             ? now + options_.default_deadline
             : std::min(client_deadline, now + options_.max_deadline);
}

std::vector<std::pair<std::string, std::string>> Gate::DownstreamMetadata(
    const CallerHeaders& headers) const {
  std::vector<std::pair<std::string, std::string>> out;
  // The caller's own credential: backends authenticate and authorize it again.
  if (headers.authorization) {
    out.emplace_back("authorization", *headers.authorization);
  }
  // Asserted roles mean something only in insecure development mode; never pass them on
  // otherwise, so a backend misconfigured that way cannot be fooled through the gateway.
  if (headers.roles && authorizer_.insecure()) {
    out.emplace_back("x-accord-roles", *headers.roles);
  }
  out.emplace_back("x-request-id", headers.request_id ? *headers.request_id : UniqueHex(16));
  out.emplace_back("traceparent", ChildTraceparent(headers.traceparent.value_or("")));
  if (headers.tracestate) {
    out.emplace_back("tracestate", *headers.tracestate);
  }
  return out;
}

void Gate::PrepareDownstream(grpc::ClientContext& context, const MethodInfo& method,
                             const CallerHeaders& headers, absl::Time client_deadline) const {
  if (absl::Time deadline = DownstreamDeadline(method, client_deadline);
      deadline != absl::InfiniteFuture()) {
    context.set_deadline(absl::ToChronoTime(deadline));
  }
  for (const auto& [key, value] : DownstreamMetadata(headers)) {
    context.AddMetadata(key, value);
  }
}

namespace {

class GateTicket final : public RelayTicket {
 public:
  explicit GateTicket(Ticket ticket) : ticket_(std::move(ticket)) {}

 private:
  Ticket ticket_;
};

}  // namespace

GateRoutes::GateRoutes(Gate& gate) : gate_(gate) {
  for (const MethodInfo& m : gate.catalog().methods()) {
    RelayRoute& route = routes_.emplace_back();
    route.path = m.path;
    route.backend = static_cast<int>(m.backend);
    route.unary = m.unary();
  }
}

const MethodInfo& GateRoutes::MethodOf(const RelayRoute& route) const {
  return gate_.catalog().methods()[&route - routes_.data()];
}

const RelayRoute* GateRoutes::Find(absl::string_view path) const {
  const MethodInfo* m = gate_.catalog().Find(path);
  return m == nullptr ? nullptr : &routes_[m - gate_.catalog().methods().data()];
}

absl::StatusOr<std::unique_ptr<RelayTicket>> GateRoutes::Admit(const RelayRoute& route,
                                                               const CallerHeaders& caller) {
  absl::StatusOr<Admission> admission = gate_.Admit(MethodOf(route), caller);
  if (!admission.ok()) {
    return admission.status();
  }
  return std::make_unique<GateTicket>(std::move(admission->ticket));
}

absl::Time GateRoutes::Deadline(const RelayRoute& route, absl::Time client_deadline) const {
  return gate_.DownstreamDeadline(MethodOf(route), client_deadline);
}

std::vector<RelayHeader> GateRoutes::BackendHeaders(const CallerHeaders& caller) const {
  return gate_.DownstreamMetadata(caller);
}

}  // namespace accord::gateway
