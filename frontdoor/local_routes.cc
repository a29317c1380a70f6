#include "frontdoor/local_routes.h"

namespace accord {

void LocalRoutes::Add(std::string path, std::unique_ptr<LocalMethod> method, bool unary) {
  RelayRoute& route = routes_.emplace_back();
  route.path = std::move(path);
  route.local = method.get();
  route.unary = unary;
  methods_.push_back(std::move(method));
}

const RelayRoute* LocalRoutes::Find(absl::string_view path) const {
  for (const RelayRoute& route : routes_) {
    if (route.path == path) {
      return &route;
    }
  }
  return nullptr;
}

absl::StatusOr<std::unique_ptr<RelayTicket>> LocalRoutes::Admit(const RelayRoute& route,
                                                                const CallerHeaders& caller) {
  absl::StatusOr<Principal> principal = authorizer_.Authorize(caller, route.path);
  if (!principal.ok()) {
    return principal.status();
  }
  return nullptr;
}

}  // namespace accord
