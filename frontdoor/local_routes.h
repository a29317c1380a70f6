#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/call_auth.h"
#include "frontdoor/h2_relay.h"

// The front-end policy of a server that answers some of its methods on the front end itself
// (LocalMethod) and sends the rest to its own gRPC server behind it: scoring's and the
// registry's. Authorization only, by the same CallAuthorizer and default-deny table as the
// gRPC service (no quotas: the gateway has them).
namespace accord {

class LocalRoutes : public RelayRoutes {
 public:
  explicit LocalRoutes(const CallAuthorizer& authorizer) : authorizer_(authorizer) {}

  // The front end answers `path` with `method`; a unary one takes exactly one request message.
  void Add(std::string path, std::unique_ptr<LocalMethod> method, bool unary);

  const RelayRoute* Find(absl::string_view path) const override;
  absl::StatusOr<std::unique_ptr<RelayTicket>> Admit(const RelayRoute& route,
                                                     const CallerHeaders& caller) override;

 private:
  const CallAuthorizer& authorizer_;
  std::vector<std::unique_ptr<LocalMethod>> methods_;
  std::deque<RelayRoute> routes_;  // stable addresses: Find returns them
};

}  // namespace accord
