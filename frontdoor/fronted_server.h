#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

#include "common/server.h"
#include "frontdoor/h2_relay.h"

// The start-up of a server whose public gRPC port is an HTTP/2 front (H2Relay): the gateway's
// relay and scoring's front end. The front takes the public address and its TLS; the gRPC
// server listens on loopback behind it for what the front relays; the front binds first (so the
// server logs the public port), the server starts, then the front relays to it. At stop, the
// front drains before the server shuts down.
namespace accord {

class FrontedServer final {
 public:
  // Moves `options.listen` to the front: the front takes the public address, the gRPC server
  // 127.0.0.1:0. Call before ServerOptions::Validate().
  static void PutBehindFront(ServerOptions& options);

  // The front's options shared with `server`: the public address and TLS, the server's stream
  // and message limits, and `threads` event loops (0: one per CPU).
  static RelayOptions FrontOptions(const ServerOptions& server, int threads);

  // Binds the front (`options` from FrontOptions, then adjusted), starts `server` behind it,
  // and starts relaying. UNAVAILABLE if the front cannot bind, the server's errors otherwise.
  static absl::StatusOr<std::unique_ptr<H2Relay>> Start(Server& server, RelayRoutes& routes,
                                                        RelayOptions options);
};

}  // namespace accord
