#pragma once

#include <string>

#include "grpcpp/impl/service_type.h"

#include "gateway/catalog.h"

// A backend service as the gateway's own gRPC server lists it to reflection, with no handlers
// of its own: the front door (frontdoor/h2_relay.h, routed by GateRoutes) relays every method
// of it, so no call reaches this server; one that did would be answered UNIMPLEMENTED.
namespace accord::gateway {

class ListedService final : public grpc::Service {
 public:
  // `service`: "accord.registry.v1.Registry".
  ListedService(const Catalog& catalog, const std::string& service);
};

}  // namespace accord::gateway
