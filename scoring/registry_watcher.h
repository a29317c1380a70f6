#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"

#include "accord/registry/v1/registry.grpc.pb.h"
#include "scoring/scorer.h"

namespace prometheus {
class Counter;
}

// Follows the registry's WatchDefinitions stream from the last applied sequence, feeds the
// Scorer, and persists each new good set to the cache file. Reconnects with capped
// exponential back-off and jitter; keepalive pings within what the registry permits.
namespace accord::scoring {

struct RegistryWatcherOptions {
  std::string registry;  // HOST:PORT
  // TLS to the registry; null = plaintext.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  std::string token;       // API key (service role)
  std::string cache_path;  // "" = no persistence
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(10);
  prometheus::Counter* rejected_counter = nullptr;
};

class RegistryWatcher final {
 public:
  RegistryWatcher(Scorer& scorer, RegistryWatcherOptions options);
  ~RegistryWatcher();
  RegistryWatcher(const RegistryWatcher&) = delete;
  RegistryWatcher& operator=(const RegistryWatcher&) = delete;

  void Start();
  // One revision of a definition, read from the registry (1 s deadline). Thread-safe.
  absl::StatusOr<rv1::Revision> FetchRevision(const std::string& definition, int64_t number);
  // The pending (proposed or approved) revisions of the qualification models of `namespace_id`:
  // (definition name, revision). Blocking, with a 5 s deadline.
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> PendingModels(
      const std::string& namespace_id);
  // Registry.StoreVerdicts with this service's token, without blocking: `done` gets the answer
  // (from a gRPC thread) by `deadline`, or within 10 s.
  void StoreVerdicts(const rv1::StoreVerdictsRequest& request, absl::Time deadline,
                     std::function<void(absl::StatusOr<rv1::StoreVerdictsResponse>)> done);
  void Stop();
  // When the registry last sent anything (messages or progress); InfinitePast if never.
  absl::Time last_contact() const;

 private:
  void Run();

  Scorer& scorer_;
  RegistryWatcherOptions options_;
  std::unique_ptr<rv1::Registry::Stub> stub_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> last_contact_ns_{0};
  std::mutex context_mu_;
  grpc::ClientContext* context_ = nullptr;
  std::thread thread_;
};

}  // namespace accord::scoring
