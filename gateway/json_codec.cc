#include "gateway/json_codec.h"

#include <memory>
#include <mutex>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "google/protobuf/type.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/type_resolver.h"
#include "google/protobuf/util/type_resolver_util.h"

#include "gateway/json_direct.h"

namespace accord::gateway {
namespace {

constexpr char kTypeUrlPrefix[] = "type.googleapis.com";

// The generated pool's types, each described once and copied out after that.
class KeptTypeResolver final : public google::protobuf::util::TypeResolver {
 public:
  KeptTypeResolver()
      : inner_(google::protobuf::util::NewTypeResolverForDescriptorPool(
            kTypeUrlPrefix, google::protobuf::DescriptorPool::generated_pool())) {}

  google::protobuf::util::Status ResolveMessageType(const std::string& type_url,
                                                    google::protobuf::Type* type) override {
    return Resolve(type_url, type, messages_,
                   [this](const std::string& url, google::protobuf::Type* t) {
                     return inner_->ResolveMessageType(url, t);
                   });
  }
  google::protobuf::util::Status ResolveEnumType(const std::string& type_url,
                                                 google::protobuf::Enum* type) override {
    return Resolve(type_url, type, enums_,
                   [this](const std::string& url, google::protobuf::Enum* t) {
                     return inner_->ResolveEnumType(url, t);
                   });
  }

 private:
  template <typename T, typename F>
  google::protobuf::util::Status Resolve(const std::string& url, T* out,
                                         std::unordered_map<std::string, T>& kept, F resolve) {
    {
      std::lock_guard lock(mu_);
      if (auto it = kept.find(url); it != kept.end()) {
        *out = it->second;
        return google::protobuf::util::Status();
      }
    }
    google::protobuf::util::Status s = resolve(url, out);
    if (s.ok()) {
      std::lock_guard lock(mu_);
      kept.emplace(url, *out);
    }
    return s;
  }

  std::unique_ptr<google::protobuf::util::TypeResolver> inner_;
  std::mutex mu_;
  std::unordered_map<std::string, google::protobuf::Type> messages_;  // guarded by mu_
  std::unordered_map<std::string, google::protobuf::Enum> enums_;     // guarded by mu_
};

KeptTypeResolver& Resolver() {
  static KeptTypeResolver* resolver = new KeptTypeResolver();
  return *resolver;
}

std::string TypeUrl(const google::protobuf::Descriptor* type) {
  return absl::StrCat(kTypeUrlPrefix, "/", type->full_name());
}

}  // namespace

absl::StatusOr<std::string> WireToJson(const google::protobuf::Descriptor* type,
                                       absl::string_view bytes) {
  if (std::string json; WireToJsonDirect(type, bytes, json)) {
    return json;
  }
  // The converter reads what it can of malformed bytes without a word, so they are parsed
  // first (a few microseconds; the conversion is the cost).
  std::unique_ptr<google::protobuf::Message> message(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(absl::StrCat("not a ", type->full_name()));
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  // Printed from the message's own bytes, as MessageToJsonString does: json_util reads the
  // bytes given in their order, so a field sent twice or out of order would be written so.
  google::protobuf::util::Status s = google::protobuf::util::BinaryToJsonString(
      &Resolver(), TypeUrl(type), message->SerializeAsString(), &json, options);
  if (!s.ok()) {
    return absl::InternalError(absl::StrCat("not printable as JSON: ", s.message().ToString()));
  }
  return json;
}

absl::Status JsonToMessage(absl::string_view json, google::protobuf::Message& message) {
  if (message.ByteSizeLong() == 0) {
    if (ParseJsonDirect(json, message)) {
      return absl::OkStatus();
    }
    message.Clear();
  }
  return JsonUtilToMessage(json, message);
}

absl::Status JsonUtilToMessage(absl::string_view json, google::protobuf::Message& message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  std::string binary;
  google::protobuf::util::Status s = google::protobuf::util::JsonToBinaryString(
      &Resolver(), TypeUrl(message.GetDescriptor()), std::string(json), &binary, options);
  if (!s.ok()) {
    return absl::InvalidArgumentError(s.message().ToString());
  }
  if (!message.MergeFromString(binary)) {
    return absl::InvalidArgumentError("the JSON does not make a valid message");
  }
  return absl::OkStatus();
}

}  // namespace accord::gateway
