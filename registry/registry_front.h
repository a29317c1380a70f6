#pragma once

#include <memory>
#include <vector>

#include "common/call_auth.h"
#include "common/executor.h"
#include "frontdoor/local_routes.h"
#include "registry/registry.h"
#include "registry/watch_hub.h"

// The registry's front end policy (frontdoor/h2_relay.h): GetDefinition and WatchDefinitions are
// answered on the front end's event loops, with the same authorization, errors and bytes as the
// gRPC service; every other method (and health, reflection) goes to the gRPC server behind it.
// A watch is a pushing local call: the hub's messages reach the loop of each watcher's
// connection, which writes all of a connection's new messages at once (docs/registry.md,
// "The registry's front end").
namespace accord::registry {

class RegistryRoutes final : public LocalRoutes {
 public:
  RegistryRoutes(Registry& registry, WatchHub& hub, Executor& executor,
                 const CallAuthorizer& authorizer);
};

}  // namespace accord::registry
