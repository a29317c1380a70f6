#include "gateway/catalog.h"

#include "absl/strings/str_cat.h"
#include "google/api/annotations.pb.h"

#include "accord/registry/v1/registry.pb.h"
#include "accord/scoring/v1/scoring.pb.h"

namespace accord::gateway {
namespace {

void AddBinding(const google::api::HttpRule& rule, std::vector<HttpBinding>& out) {
  HttpBinding b;
  switch (rule.pattern_case()) {
    case google::api::HttpRule::kGet:
      b = {"GET", rule.get(), rule.body()};
      break;
    case google::api::HttpRule::kPost:
      b = {"POST", rule.post(), rule.body()};
      break;
    case google::api::HttpRule::kPatch:
      b = {"PATCH", rule.patch(), rule.body()};
      break;
    case google::api::HttpRule::kPut:
      b = {"PUT", rule.put(), rule.body()};
      break;
    case google::api::HttpRule::kDelete:
      b = {"DELETE", rule.delete_(), rule.body()};
      break;
    default:
      return;
  }
  out.push_back(std::move(b));
  for (const google::api::HttpRule& extra : rule.additional_bindings()) {
    AddBinding(extra, out);
  }
}

}  // namespace

absl::string_view BackendName(Backend backend) {
  return backend == Backend::kRegistry ? "registry" : "scoring";
}

absl::StatusOr<Catalog> Catalog::Build() {
  // Referencing the generated services links their descriptors into the pool.
  const google::protobuf::ServiceDescriptor* services[] = {
      accord::registry::v1::GetDefinitionRequest::descriptor()->file()->FindServiceByName(
          "Registry"),
      accord::scoring::v1::LeadScore::descriptor()->file()->FindServiceByName("Scoring"),
  };
  Backend backends[] = {Backend::kRegistry, Backend::kScoring};
  Catalog catalog;
  for (int s = 0; s < 2; ++s) {
    if (services[s] == nullptr) {
      return absl::InternalError("a backend service descriptor is missing from the build");
    }
    for (int m = 0; m < services[s]->method_count(); ++m) {
      const google::protobuf::MethodDescriptor* method = services[s]->method(m);
      MethodInfo info;
      info.path = absl::StrCat("/", services[s]->full_name(), "/", method->name());
      info.descriptor = method;
      info.backend = backends[s];
      info.client_streaming = method->client_streaming();
      info.server_streaming = method->server_streaming();
      if (method->options().HasExtension(google::api::http)) {
        AddBinding(method->options().GetExtension(google::api::http), info.http);
      }
      catalog.by_path_[info.path] = catalog.methods_.size();
      catalog.methods_.push_back(std::move(info));
    }
  }
  return catalog;
}

const MethodInfo* Catalog::Find(absl::string_view path) const {
  auto it = by_path_.find(std::string(path));
  return it == by_path_.end() ? nullptr : &methods_[it->second];
}

std::vector<std::string> Catalog::services() const {
  std::vector<std::string> out;
  for (const MethodInfo& m : methods_) {
    const std::string& name = m.descriptor->service()->full_name();
    if (out.empty() || out.back() != name) {
      out.push_back(name);
    }
  }
  return out;
}

}  // namespace accord::gateway
