#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "google/api/http.pb.h"
#include "google/protobuf/descriptor.h"

// What the gateway serves: every method of the backends' services, read from the compiled
// descriptors (never a hand-written list), with the backend it goes to and its HTTP rules.
namespace accord::gateway {

enum class Backend { kRegistry, kScoring };

// One HTTP binding of a method (the rule and its additional_bindings).
struct HttpBinding {
  std::string verb;     // "GET", "POST", "PATCH", "DELETE", "PUT"
  std::string pattern;  // "/v1/{name=namespaces/*/definitions/*}:propose"
  std::string body;     // "", "*" or a top-level field name
};

struct MethodInfo {
  std::string path;  // "/accord.registry.v1.Registry/GetDefinition"
  const google::protobuf::MethodDescriptor* descriptor = nullptr;
  Backend backend = Backend::kRegistry;
  bool client_streaming = false;
  bool server_streaming = false;
  bool unary() const { return !client_streaming && !server_streaming; }
  std::vector<HttpBinding> http;
};

class Catalog final {
 public:
  // The registry and scoring services. INTERNAL if a descriptor is missing (a build error).
  static absl::StatusOr<Catalog> Build();

  // The method at `path`, or null.
  const MethodInfo* Find(absl::string_view path) const;
  const std::vector<MethodInfo>& methods() const { return methods_; }
  // Fully-qualified names of the services served ("accord.registry.v1.Registry", ...).
  std::vector<std::string> services() const;

 private:
  std::vector<MethodInfo> methods_;
  std::unordered_map<std::string, size_t> by_path_;
};

absl::string_view BackendName(Backend backend);

}  // namespace accord::gateway
