#include "gateway/http_rules.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

#include "common/status.h"
#include "gateway/json_codec.h"
#include "gateway/json_direct.h"

namespace accord::gateway {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// "/v1/{name=namespaces/*/definitions/*}:propose" -> a regex and its variables.
absl::Status Compile(const std::string& pattern, Route& route) {
  std::string regex;
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] != '{') {
      size_t next = pattern.find('{', i);
      std::string literal = pattern.substr(i, next == std::string::npos ? next : next - i);
      absl::StrAppend(&regex, RE2::QuoteMeta(literal));
      i = next == std::string::npos ? pattern.size() : next;
      continue;
    }
    size_t close = pattern.find('}', i);
    if (close == std::string::npos) {
      return absl::InternalError(absl::StrCat("unclosed variable in ", pattern));
    }
    std::string variable = pattern.substr(i + 1, close - i - 1);
    std::string field = variable;
    std::string sub = "*";
    if (size_t eq = variable.find('='); eq != std::string::npos) {
      field = variable.substr(0, eq);
      sub = variable.substr(eq + 1);
    }
    std::vector<std::string> parts;
    for (absl::string_view segment : absl::StrSplit(sub, '/')) {
      if (segment == "*") {
        parts.push_back("[^/:]+");
      } else if (segment == "**") {
        parts.push_back(".+");
      } else {
        parts.push_back(RE2::QuoteMeta(re2::StringPiece(segment.data(), segment.size())));
      }
    }
    absl::StrAppend(&regex, "(", absl::StrJoin(parts, "/"), ")");
    route.variables.push_back(field);
    i = close + 1;
  }
  route.regex = std::make_shared<RE2>(regex);
  if (!route.regex->ok()) {
    return absl::InternalError(absl::StrCat("cannot compile ", pattern));
  }
  return absl::OkStatus();
}

std::string JsonEscape(absl::string_view in) {
  std::string out;
  for (char c : in) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, "\\u00", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// `path` (dotted proto or JSON names) with each name that resolves spelled as in the proto.
std::string ProtoPath(const google::protobuf::Descriptor& root, absl::string_view path) {
  std::vector<std::string> out;
  const google::protobuf::Descriptor* message = &root;
  for (absl::string_view name : absl::StrSplit(path, '.')) {
    const FieldDescriptor* field = nullptr;
    if (message != nullptr) {
      field = message->FindFieldByName(std::string(name));
      if (field == nullptr) {
        field = message->FindFieldByCamelcaseName(std::string(name));
      }
    }
    out.push_back(field == nullptr ? std::string(name) : field->name());
    message = field == nullptr ? nullptr : field->message_type();
  }
  return absl::StrJoin(out, ".");
}

// Sets the leaf field at `path` (dotted proto or JSON names) from its text form.
absl::Status SetField(Message& root, absl::string_view path, const std::string& value) {
  std::vector<std::string> names = absl::StrSplit(path, '.');
  Message* message = &root;
  for (size_t i = 0; i < names.size(); ++i) {
    const google::protobuf::Descriptor* d = message->GetDescriptor();
    const FieldDescriptor* field = d->FindFieldByName(names[i]);
    if (field == nullptr) {
      field = d->FindFieldByCamelcaseName(names[i]);
    }
    if (field == nullptr) {
      return InvalidField(path, "no such field");
    }
    const Reflection* r = message->GetReflection();
    bool last = i + 1 == names.size();
    if (!last) {
      if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || field->is_repeated()) {
        return InvalidField(path, "cannot be set from the URL");
      }
      message = r->MutableMessage(message, field);
      continue;
    }
    bool repeated = field->is_repeated();
    auto bad = [&](absl::string_view what) {
      return InvalidField(path, absl::StrCat("'", value, "' is not ", what));
    };
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        if (field->type() == FieldDescriptor::TYPE_BYTES) {
          return InvalidField(path, "bytes cannot be set from the URL");
        }
        repeated ? r->AddString(message, field, value) : r->SetString(message, field, value);
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_INT32: {
        int32_t v;
        if (!absl::SimpleAtoi(value, &v)) return bad("an int32");
        repeated ? r->AddInt32(message, field, v) : r->SetInt32(message, field, v);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_INT64: {
        int64_t v;
        if (!absl::SimpleAtoi(value, &v)) return bad("an int64");
        repeated ? r->AddInt64(message, field, v) : r->SetInt64(message, field, v);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_UINT32: {
        uint32_t v;
        if (!absl::SimpleAtoi(value, &v)) return bad("a uint32");
        repeated ? r->AddUInt32(message, field, v) : r->SetUInt32(message, field, v);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_UINT64: {
        uint64_t v;
        if (!absl::SimpleAtoi(value, &v)) return bad("a uint64");
        repeated ? r->AddUInt64(message, field, v) : r->SetUInt64(message, field, v);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        double v;
        if (!absl::SimpleAtod(value, &v) || !std::isfinite(v)) return bad("a finite number");
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
          repeated ? r->AddDouble(message, field, v) : r->SetDouble(message, field, v);
        } else {
          float f = static_cast<float>(v);
          repeated ? r->AddFloat(message, field, f) : r->SetFloat(message, field, f);
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        bool v;
        if (value == "true" || value == "1") {
          v = true;
        } else if (value == "false" || value == "0") {
          v = false;
        } else {
          return bad("true or false");
        }
        repeated ? r->AddBool(message, field, v) : r->SetBool(message, field, v);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        const google::protobuf::EnumValueDescriptor* e = field->enum_type()->FindValueByName(value);
        int number;
        if (e == nullptr && absl::SimpleAtoi(value, &number)) {
          e = field->enum_type()->FindValueByNumber(number);
        }
        if (e == nullptr) return bad(absl::StrCat("a ", field->enum_type()->name()));
        repeated ? r->AddEnum(message, field, e) : r->SetEnum(message, field, e);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        // Well-known types (Timestamp, Duration, FieldMask, wrappers) from their JSON string.
        Message* target =
            repeated ? r->AddMessage(message, field) : r->MutableMessage(message, field);
        std::string json = absl::StrCat("\"", JsonEscape(value), "\"");
        if (!google::protobuf::util::JsonStringToMessage(json, target).ok()) {
          return bad(absl::StrCat("a ", field->message_type()->full_name()));
        }
        return absl::OkStatus();
      }
    }
  }
  return InvalidField(path, "cannot be set from the URL");
}

// The field path in a protobuf JSON parser error: "(lead.events) bogus: Cannot find field."
// names lead.events.bogus; `prefix` is the field the JSON was parsed into.
std::string JsonErrorField(const std::string& message, absl::string_view prefix) {
  std::string path(prefix);
  absl::string_view rest = message;
  if (absl::ConsumePrefix(&rest, "(")) {
    size_t close = rest.find(')');
    if (close != absl::string_view::npos) {
      absl::string_view inner = rest.substr(0, close);
      if (!inner.empty()) {
        path = path.empty() ? std::string(inner) : absl::StrCat(path, ".", inner);
      }
      rest = absl::StripLeadingAsciiWhitespace(rest.substr(close + 1));
    }
  }
  size_t colon = rest.find(':');
  absl::string_view name = colon == absl::string_view::npos ? "" : rest.substr(0, colon);
  if (!name.empty() && name.find(' ') == absl::string_view::npos) {
    path = path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
  }
  return path.empty() ? "body" : path;
}

absl::Status ParseJson(absl::string_view body, absl::string_view field_path, Message& target) {
  // The direct reader takes no JSON nested deeper than kMaxJsonDepth; what it declines gets
  // the depth check and json_util's answer.
  if (target.ByteSizeLong() == 0) {
    if (ParseJsonDirect(body, target)) {
      return absl::OkStatus();
    }
    target.Clear();
  }
  if (JsonDepth(body) > kMaxJsonDepth) {
    return InvalidField(field_path.empty() ? "body" : field_path,
                        absl::StrCat("JSON nested deeper than ", kMaxJsonDepth, " levels"));
  }
  if (absl::Status s = JsonUtilToMessage(body, target); !s.ok()) {
    return InvalidField(JsonErrorField(std::string(s.message()), field_path),
                        std::string(s.message()));
  }
  return absl::OkStatus();
}

}  // namespace

bool RequestBytesFromBody(const Router::Match& match, absl::string_view body,
                          const std::vector<std::pair<std::string, std::string>>& query,
                          std::string& bytes) {
  return match.route->binding.body == "*" && match.bindings.empty() && query.empty() &&
         JsonToWireDirect(body, match.route->method->descriptor->input_type(), bytes);
}

int JsonDepth(absl::string_view json) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

absl::StatusOr<Router> Router::Build(const Catalog& catalog) {
  Router router;
  for (const MethodInfo& method : catalog.methods()) {
    for (const HttpBinding& binding : method.http) {
      Route route;
      route.method = &method;
      route.binding = binding;
      if (absl::Status s = Compile(binding.pattern, route); !s.ok()) {
        return s;
      }
      router.max_groups_ = std::max(router.max_groups_, route.regex->NumberOfCapturingGroups());
      router.routes_.push_back(std::move(route));
    }
  }
  // A route without variables is found by its path and verb, unless a route before it would
  // match them too (the first route that matches wins).
  for (size_t i = 0; i < router.routes_.size(); ++i) {
    const Route& route = router.routes_[i];
    if (!route.variables.empty()) {
      continue;
    }
    const std::string& path = route.binding.pattern;
    bool shadowed = false;
    for (size_t j = 0; j < i && !shadowed; ++j) {
      shadowed = router.routes_[j].binding.verb == route.binding.verb &&
                 RE2::FullMatch(path, *router.routes_[j].regex);
    }
    if (!shadowed) {
      router.literal_.emplace(absl::StrCat(route.binding.verb, " ", path), i);
    }
  }
  return router;
}

std::optional<Router::Match> Router::Find(absl::string_view verb, absl::string_view path,
                                          bool* path_known) const {
  *path_known = false;
  if (auto it = literal_.find(absl::StrCat(verb, " ", path)); it != literal_.end()) {
    return Match{&routes_[it->second], {}};
  }
  std::vector<re2::StringPiece> groups(max_groups_);
  std::vector<RE2::Arg> args(max_groups_);
  std::vector<RE2::Arg*> arg_ptrs(max_groups_);
  for (int i = 0; i < max_groups_; ++i) {
    args[i] = RE2::Arg(&groups[i]);
    arg_ptrs[i] = &args[i];
  }
  for (const Route& route : routes_) {
    int n = route.regex->NumberOfCapturingGroups();
    if (!RE2::FullMatchN(re2::StringPiece(path.data(), path.size()), *route.regex, arg_ptrs.data(),
                         n)) {
      continue;
    }
    if (route.binding.verb != verb) {
      *path_known = true;
      continue;
    }
    Match match;
    match.route = &route;
    for (int i = 0; i < n; ++i) {
      match.bindings.emplace_back(
          route.variables[i],
          PercentDecode(absl::string_view(groups[i].data(), groups[i].size()), false));
    }
    return match;
  }
  return std::nullopt;
}

absl::Status BuildRequest(const Router::Match& match, absl::string_view body,
                          const std::vector<std::pair<std::string, std::string>>& query,
                          Message& request) {
  const std::string& body_field = match.route->binding.body;
  bool has_body = !absl::StripAsciiWhitespace(body).empty();
  if (body_field.empty()) {
    if (has_body) {
      return InvalidField("body", "this route takes no request body");
    }
  } else if (has_body) {
    if (body_field == "*") {
      ACCORD_RETURN_IF_ERROR(ParseJson(body, "", request));
    } else {
      const FieldDescriptor* field = request.GetDescriptor()->FindFieldByName(body_field);
      if (field == nullptr || field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
        return absl::InternalError(absl::StrCat("body field ", body_field, " is not a message"));
      }
      ACCORD_RETURN_IF_ERROR(
          ParseJson(body, body_field, *request.GetReflection()->MutableMessage(&request, field)));
    }
  }
  for (const auto& [path, value] : match.bindings) {
    ACCORD_RETURN_IF_ERROR(SetField(request, path, value));
  }
  if (!query.empty() && body_field == "*") {
    return InvalidField(query.front().first,
                        "query parameters are not accepted when the body is the request");
  }
  auto overlaps = [](const std::string& a, const std::string& b) {
    return a == b || absl::StartsWith(a, b + ".") || absl::StartsWith(b, a + ".");
  };
  for (const auto& [name, value] : query) {
    const std::string field = ProtoPath(*request.GetDescriptor(), name);
    if (!body_field.empty() && overlaps(field, body_field)) {
      return InvalidField(name, "already bound by the request body");
    }
    // A path-bound field is the resource the route names (and the one authorized): a query
    // parameter must not replace it (DELETE .../harmless?name=.../important).
    for (const auto& bound : match.bindings) {
      if (overlaps(field, bound.first)) {
        return InvalidField(name,
                            absl::StrCat("already bound by the URL path (", bound.first, ")"));
      }
    }
    ACCORD_RETURN_IF_ERROR(SetField(request, name, value));
  }
  return absl::OkStatus();
}

std::string PercentDecode(absl::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    int hi = 0;
    int lo = 0;
    auto hex = [](char c, int* v) {
      if (c >= '0' && c <= '9') {
        *v = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        *v = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        *v = c - 'A' + 10;
      } else {
        return false;
      }
      return true;
    };
    if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1], &hi) && hex(in[i + 2], &lo)) {
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (plus_is_space && in[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace accord::gateway
