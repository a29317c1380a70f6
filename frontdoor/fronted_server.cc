#include "frontdoor/fronted_server.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"

namespace accord {

void FrontedServer::PutBehindFront(ServerOptions& options) {
  options.front_listen = options.listen;
  options.listen = "127.0.0.1:0";
}

RelayOptions FrontedServer::FrontOptions(const ServerOptions& server, int threads) {
  RelayOptions options;
  options.listen = server.front_listen;
  options.server_tls = server.tls;
  options.max_concurrent_streams = server.max_concurrent_streams;
  options.max_message_bytes = server.max_receive_message_bytes;
  options.threads =
      threads > 0 ? threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return options;
}

absl::StatusOr<std::unique_ptr<H2Relay>> FrontedServer::Start(Server& server, RelayRoutes& routes,
                                                              RelayOptions options) {
  auto front = std::make_unique<H2Relay>(routes, std::move(options), server.rpc_metrics());
  if (absl::Status s = front->Listen(); !s.ok()) {
    return s;
  }
  server.set_front_port(front->port());
  if (absl::Status s = server.Start(); !s.ok()) {
    return s;
  }
  front->Start(absl::StrCat("127.0.0.1:", server.port()));
  return front;
}

}  // namespace accord
