#include "gateway/openapi.h"

#include <cstddef>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

// The API's descriptors with their comments (proto/embed_bytes.cmake).
extern const unsigned char kAccordApiDescriptors[];
extern const std::size_t kAccordApiDescriptors_size;

namespace accord::gateway {
namespace {

// The proto comments of the API, by full name of message, field, enum, service and method.
class Comments {
 public:
  static const Comments& Get() {
    static const Comments* comments = new Comments();
    return *comments;
  }
  // The comment of `full_name`, or "".
  std::string Of(const std::string& full_name) const {
    auto it = by_name_.find(full_name);
    return it == by_name_.end() ? "" : it->second;
  }

 private:
  Comments() {
    google::protobuf::FileDescriptorSet set;
    if (!set.ParseFromArray(kAccordApiDescriptors, static_cast<int>(kAccordApiDescriptors_size))) {
      return;
    }
    for (const auto& file : set.file()) {
      std::map<std::vector<int>, std::string> text;
      for (const auto& location : file.source_code_info().location()) {
        std::string comment = !location.leading_comments().empty() ? location.leading_comments()
                                                                   : location.trailing_comments();
        std::vector<std::string> lines;
        for (absl::string_view line : absl::StrSplit(comment, '\n')) {
          lines.emplace_back(absl::StripAsciiWhitespace(line));
        }
        comment = std::string(absl::StripAsciiWhitespace(absl::StrJoin(lines, "\n")));
        if (!comment.empty()) {
          text[{location.path().begin(), location.path().end()}] = comment;
        }
      }
      const std::string package = file.package().empty() ? "" : file.package() + ".";
      for (int i = 0; i < file.message_type_size(); ++i) {
        AddMessage(file.message_type(i), package, {4, i}, text);
      }
      for (int i = 0; i < file.enum_type_size(); ++i) {
        Add(package + file.enum_type(i).name(), {5, i}, text);
      }
      for (int i = 0; i < file.service_size(); ++i) {
        const auto& service = file.service(i);
        Add(package + service.name(), {6, i}, text);
        for (int j = 0; j < service.method_size(); ++j) {
          Add(package + service.name() + "." + service.method(j).name(), {6, i, 2, j}, text);
        }
      }
    }
  }
  void Add(const std::string& name, const std::vector<int>& path,
           const std::map<std::vector<int>, std::string>& text) {
    auto it = text.find(path);
    if (it != text.end()) {
      by_name_[name] = it->second;
    }
  }
  void AddMessage(const google::protobuf::DescriptorProto& m, const std::string& prefix,
                  std::vector<int> path, const std::map<std::vector<int>, std::string>& text) {
    const std::string name = prefix + m.name();
    Add(name, path, text);
    for (int i = 0; i < m.field_size(); ++i) {
      std::vector<int> field = path;
      field.insert(field.end(), {2, i});
      Add(name + "." + m.field(i).name(), field, text);
    }
    for (int i = 0; i < m.nested_type_size(); ++i) {
      std::vector<int> nested = path;
      nested.insert(nested.end(), {3, i});
      AddMessage(m.nested_type(i), name + ".", nested, text);
    }
    for (int i = 0; i < m.enum_type_size(); ++i) {
      std::vector<int> nested = path;
      nested.insert(nested.end(), {4, i});
      Add(name + "." + m.enum_type(i).name(), nested, text);
    }
  }

  std::map<std::string, std::string> by_name_;
};

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

Value Str(const std::string& s) {
  Value v;
  v.set_string_value(s);
  return v;
}

Value Obj(Struct s) {
  Value v;
  *v.mutable_struct_value() = std::move(s);
  return v;
}

Value Ref(const Descriptor* d) {
  Struct s;
  (*s.mutable_fields())["$ref"] = Str("#/components/schemas/" + d->full_name());
  return Obj(std::move(s));
}

// Well-known types have their JSON forms, not their message shapes.
std::optional<Value> WellKnown(const Descriptor* d) {
  const std::string& name = d->full_name();
  Struct s;
  if (name == "google.protobuf.Timestamp") {
    (*s.mutable_fields())["type"] = Str("string");
    (*s.mutable_fields())["format"] = Str("date-time");
  } else if (name == "google.protobuf.Duration") {
    (*s.mutable_fields())["type"] = Str("string");
    (*s.mutable_fields())["example"] = Str("3.5s");
  } else if (name == "google.protobuf.FieldMask") {
    (*s.mutable_fields())["type"] = Str("string");
  } else if (name == "google.protobuf.Struct") {
    (*s.mutable_fields())["type"] = Str("object");
    (*s.mutable_fields())["additionalProperties"].set_bool_value(true);
  } else if (name == "google.protobuf.Value" || name == "google.protobuf.Any") {
    // any JSON value: an empty schema
  } else if (name == "google.protobuf.ListValue") {
    (*s.mutable_fields())["type"] = Str("array");
    (*s.mutable_fields())["items"] = Obj(Struct());
  } else if (absl::StartsWith(name, "google.protobuf.") && absl::EndsWith(name, "Value")) {
    (*s.mutable_fields())["type"] =
        Str(name == "google.protobuf.BoolValue" ? "boolean"
            : name == "google.protobuf.StringValue" || name == "google.protobuf.BytesValue" ||
                    absl::StrContains(name, "64")
                ? "string"
                : "number");
  } else {
    return std::nullopt;
  }
  return Obj(std::move(s));
}

class SchemaBuilder {
 public:
  Value Field(const FieldDescriptor* f) {
    Value item = Scalar(f);
    if (f->is_map()) {
      Struct s;
      (*s.mutable_fields())["type"] = Str("object");
      (*s.mutable_fields())["additionalProperties"] = Scalar(f->message_type()->map_value());
      return Obj(std::move(s));
    }
    if (f->is_repeated()) {
      Struct s;
      (*s.mutable_fields())["type"] = Str("array");
      (*s.mutable_fields())["items"] = item;
      return Obj(std::move(s));
    }
    return item;
  }

  Value Message(const Descriptor* d) {
    if (std::optional<Value> wk = WellKnown(d)) {
      return *wk;
    }
    if (seen_.insert(d->full_name()).second) {
      Struct schema;
      (*schema.mutable_fields())["type"] = Str("object");
      if (std::string text = Comments::Get().Of(d->full_name()); !text.empty()) {
        (*schema.mutable_fields())["description"] = Str(text);
      }
      Struct properties;
      for (int i = 0; i < d->field_count(); ++i) {
        Value property = Field(d->field(i));
        std::string text = Comments::Get().Of(d->field(i)->full_name());
        if (!text.empty()) {
          if (property.struct_value().fields().count("$ref") > 0) {
            // A $ref takes no siblings in OpenAPI 3.0: the description goes beside an allOf.
            Struct wrapped;
            *(*wrapped.mutable_fields())["allOf"].mutable_list_value()->add_values() = property;
            property = Obj(std::move(wrapped));
          }
          (*property.mutable_struct_value()->mutable_fields())["description"] = Str(text);
        }
        (*properties.mutable_fields())[d->field(i)->json_name()] = std::move(property);
      }
      (*schema.mutable_fields())["properties"] = Obj(std::move(properties));
      (*schemas_.mutable_fields())[d->full_name()] = Obj(std::move(schema));
    }
    return Ref(d);
  }

  Struct TakeSchemas() { return std::move(schemas_); }

 private:
  Value Scalar(const FieldDescriptor* f) {
    Struct s;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return Message(f->message_type());
      case FieldDescriptor::CPPTYPE_ENUM: {
        (*s.mutable_fields())["type"] = Str("string");
        ListValue values;
        for (int i = 0; i < f->enum_type()->value_count(); ++i) {
          *values.add_values() = Str(f->enum_type()->value(i)->name());
        }
        *(*s.mutable_fields())["enum"].mutable_list_value() = std::move(values);
        break;
      }
      case FieldDescriptor::CPPTYPE_BOOL:
        (*s.mutable_fields())["type"] = Str("boolean");
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        (*s.mutable_fields())["type"] = Str("string");
        if (f->type() == FieldDescriptor::TYPE_BYTES) {
          (*s.mutable_fields())["format"] = Str("byte");
        }
        break;
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT64:
        // proto3 JSON writes 64-bit integers as strings.
        (*s.mutable_fields())["type"] = Str("string");
        (*s.mutable_fields())["format"] = Str("int64");
        break;
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_UINT32:
        (*s.mutable_fields())["type"] = Str("integer");
        (*s.mutable_fields())["format"] = Str("int32");
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT:
        (*s.mutable_fields())["type"] = Str("number");
        break;
    }
    return Obj(std::move(s));
  }

  std::set<std::string> seen_;
  Struct schemas_;
};

// A field a query parameter can carry: a scalar, an enum, a list of those, or a well-known type
// written as a string (FieldMask, Timestamp, Duration).
bool IsQueryField(const FieldDescriptor* f) {
  if (f->is_map()) {
    return false;
  }
  if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
    return true;
  }
  const std::string& type = f->message_type()->full_name();
  return !f->is_repeated() &&
         (type == "google.protobuf.FieldMask" || type == "google.protobuf.Timestamp" ||
          type == "google.protobuf.Duration");
}

std::string Singular(absl::string_view collection) {
  std::string s(collection);
  if (absl::EndsWith(s, "ies")) {
    return s.substr(0, s.size() - 3) + "y";
  }
  if (absl::EndsWith(s, "s")) {
    return s.substr(0, s.size() - 1);
  }
  return s + "_id";
}

}  // namespace

std::string OpenApiPath(const std::string& pattern, std::vector<std::string>* parameters) {
  std::string out;
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] != '{') {
      out.push_back(pattern[i++]);
      continue;
    }
    size_t close = pattern.find('}', i);
    std::string variable = pattern.substr(i + 1, close - i - 1);
    i = close + 1;
    size_t eq = variable.find('=');
    if (eq == std::string::npos) {
      absl::StrAppend(&out, "{", variable, "}");
      parameters->push_back(variable);
      continue;
    }
    std::vector<std::string> segments = absl::StrSplit(variable.substr(eq + 1), '/');
    for (size_t k = 0; k < segments.size(); ++k) {
      if (k > 0) {
        out.push_back('/');
      }
      if (segments[k] == "*" || segments[k] == "**") {
        std::string name = k > 0 ? Singular(segments[k - 1]) : variable.substr(0, eq);
        absl::StrAppend(&out, "{", name, "}");
        parameters->push_back(name);
      } else {
        out += segments[k];
      }
    }
  }
  return out;
}

std::string OpenApiJson(const Router& router) {
  SchemaBuilder schemas;
  Struct paths;
  for (const Route& route : router.routes()) {
    std::vector<std::string> parameters;
    std::string path = OpenApiPath(route.binding.pattern, &parameters);
    const google::protobuf::MethodDescriptor* m = route.method->descriptor;
    Struct op;
    (*op.mutable_fields())["operationId"] = Str(absl::StrCat(m->service()->name(), "_", m->name()));
    (*op.mutable_fields())["summary"] = Str(absl::StrCat("gRPC ", route.method->path));
    ListValue tags;
    *tags.add_values() = Str(m->service()->full_name());
    *(*op.mutable_fields())["tags"].mutable_list_value() = tags;
    ListValue params;
    for (const std::string& p : parameters) {
      Struct param;
      (*param.mutable_fields())["name"] = Str(p);
      (*param.mutable_fields())["in"] = Str("path");
      (*param.mutable_fields())["required"].set_bool_value(true);
      Struct schema;
      (*schema.mutable_fields())["type"] = Str("string");
      (*param.mutable_fields())["schema"] = Obj(schema);
      *params.add_values() = Obj(std::move(param));
    }
    if (route.binding.body != "*") {
      // Every scalar field that neither the path nor the body binds comes from the query.
      std::set<std::string> bound;
      for (const std::string& v : route.variables) {
        bound.insert(v.substr(0, v.find('.')));
      }
      if (!route.binding.body.empty()) {
        bound.insert(route.binding.body);
      }
      const Descriptor* input = m->input_type();
      for (int i = 0; i < input->field_count(); ++i) {
        const FieldDescriptor* f = input->field(i);
        if (bound.count(f->name()) > 0 || !IsQueryField(f)) {
          continue;
        }
        Struct param;
        (*param.mutable_fields())["name"] = Str(f->json_name());
        (*param.mutable_fields())["in"] = Str("query");
        if (std::string text = Comments::Get().Of(f->full_name()); !text.empty()) {
          (*param.mutable_fields())["description"] = Str(text);
        }
        (*param.mutable_fields())["schema"] = schemas.Field(f);
        if (f->is_repeated()) {
          (*param.mutable_fields())["explode"].set_bool_value(true);
        }
        *params.add_values() = Obj(std::move(param));
      }
    }
    *(*op.mutable_fields())["parameters"].mutable_list_value() = params;
    if (std::string text = Comments::Get().Of(m->full_name()); !text.empty()) {
      (*op.mutable_fields())["description"] = Str(text);
    }
    if (!route.binding.body.empty()) {
      const Descriptor* body = m->input_type();
      if (route.binding.body != "*") {
        body = body->FindFieldByName(route.binding.body)->message_type();
      }
      Struct media;
      (*media.mutable_fields())["schema"] = schemas.Message(body);
      Struct content;
      (*content.mutable_fields())["application/json"] = Obj(media);
      Struct request_body;
      (*request_body.mutable_fields())["required"].set_bool_value(true);
      (*request_body.mutable_fields())["content"] = Obj(content);
      (*op.mutable_fields())["requestBody"] = Obj(request_body);
    } else {
      schemas.Message(m->input_type());
    }
    Struct ok_media;
    (*ok_media.mutable_fields())["schema"] = schemas.Message(m->output_type());
    Struct ok_content;
    (*ok_content.mutable_fields())[route.method->server_streaming ? "application/x-ndjson"
                                                                  : "application/json"] =
        Obj(ok_media);
    Struct ok;
    (*ok.mutable_fields())["description"] =
        Str(route.method->server_streaming ? "one JSON object per line: {\"result\": ...}" : "OK");
    (*ok.mutable_fields())["content"] = Obj(ok_content);
    Struct error;
    (*error.mutable_fields())["description"] = Str("google.rpc.Status");
    Struct responses;
    (*responses.mutable_fields())["200"] = Obj(ok);
    (*responses.mutable_fields())["default"] = Obj(error);
    (*op.mutable_fields())["responses"] = Obj(responses);
    Struct& item = *(*paths.mutable_fields())[path].mutable_struct_value();
    (*item.mutable_fields())[absl::AsciiStrToLower(route.binding.verb)] = Obj(std::move(op));
  }
  Struct doc;
  (*doc.mutable_fields())["openapi"] = Str("3.0.3");
  Struct info;
  (*info.mutable_fields())["title"] = Str("Accord API");
  (*info.mutable_fields())["version"] = Str("v1");
  (*doc.mutable_fields())["info"] = Obj(info);
  // Relative: the document is served by the gateway whose HTTP port it describes.
  Struct server;
  (*server.mutable_fields())["url"] = Str("/");
  (*server.mutable_fields())["description"] = Str("the gateway serving this document");
  *(*doc.mutable_fields())["servers"].mutable_list_value()->add_values() = Obj(std::move(server));
  Struct bearer;
  (*bearer.mutable_fields())["type"] = Str("http");
  (*bearer.mutable_fields())["scheme"] = Str("bearer");
  Struct security_schemes;
  (*security_schemes.mutable_fields())["bearer"] = Obj(bearer);
  Struct components;
  (*components.mutable_fields())["schemas"] = Obj(schemas.TakeSchemas());
  (*components.mutable_fields())["securitySchemes"] = Obj(security_schemes);
  (*doc.mutable_fields())["components"] = Obj(components);
  ListValue security;
  Struct requirement;
  (*requirement.mutable_fields())["bearer"].mutable_list_value();
  *security.add_values() = Obj(requirement);
  *(*doc.mutable_fields())["security"].mutable_list_value() = security;
  (*doc.mutable_fields())["paths"] = Obj(paths);
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(doc, &out, options);
  return out;
}

}  // namespace accord::gateway
