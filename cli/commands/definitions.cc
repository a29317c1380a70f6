#include <cstdio>
#include <iostream>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/commands/commands.h"
#include "cli/lead_files.h"
#include "cli/print.h"

#include "definitions/loader.h"
#include "definitions/validation.h"

namespace accord::cli {
namespace {

using definitions::DefinitionDocument;

class FileResolver final : public ReferenceResolver {
 public:
  explicit FileResolver(const std::vector<DefinitionDocument>& docs) {
    for (const auto& d : docs) {
      by_name_[d.definition.name()] = d.definition;
    }
  }
  std::optional<v1::Definition> Resolve(absl::string_view ns,
                                        absl::string_view ref) const override {
    auto it = by_name_.find(ResolveReferenceName(ns, ref));
    if (it == by_name_.end()) {
      return std::nullopt;
    }
    return it->second;
  }

 private:
  std::map<std::string, v1::Definition> by_name_;
};

int Validate(const std::string& path) {
  absl::StatusOr<std::vector<DefinitionDocument>> docs = definitions::ReadDefinitions(path);
  if (!docs.ok()) {
    std::cerr << docs.status().message() << "\n";
    return 1;
  }
  FileResolver resolver(*docs);
  int problems = 0;
  std::set<std::string> names;
  for (const DefinitionDocument& d : *docs) {
    std::vector<FieldViolation> violations;
    if (!names.insert(d.definition.name()).second) {
      violations.push_back({"name", "is defined twice"});
    }
    std::vector<std::string> parts = absl::StrSplit(d.definition.name(), '/');
    if (parts.size() != 4 || parts[0] != "namespaces" || parts[2] != "definitions" ||
        !IsValidId(parts[1]) || !IsValidId(parts[3])) {
      violations.push_back({"name", "must be namespaces/{namespace}/definitions/{id}"});
    }
    for (auto& v : ValidateDefinition(d.definition, "", &resolver)) {
      violations.push_back(std::move(v));
    }
    for (const auto& v : violations) {
      std::cerr << d.file << ":" << d.line << ": " << d.definition.name() << ": "
                << (v.field.empty() ? "" : v.field + ": ") << v.description << "\n";
      ++problems;
    }
  }
  if (problems > 0) {
    std::cerr << problems << " problem(s) in " << docs->size() << " definition(s)\n";
    return 1;
  }
  std::cout << docs->size() << " definition(s) valid\n";
  return 0;
}

// Creates or updates the drafts of every definition in `path`; with `create_only`, definitions
// that exist already are left as they are (reported "exists").
int Apply(const RegistryClient& c, const std::string& path, bool create_only) {
  absl::StatusOr<std::vector<DefinitionDocument>> docs = definitions::ReadDefinitions(path);
  if (!docs.ok()) {
    std::cerr << docs.status().message() << "\n";
    return 1;
  }
  int failures = 0;
  for (const DefinitionDocument& doc : *docs) {
    const std::string& name = doc.definition.name();
    v1::GetDefinitionRequest get;
    get.set_name(name);
    auto current =
        c.Call<v1::GetDefinitionRequest, v1::Definition>(&v1::Registry::Stub::GetDefinition, get);
    absl::StatusOr<v1::Definition> result;
    std::string verb;
    if (!current.ok() && current.status().code() == absl::StatusCode::kNotFound) {
      v1::CreateDefinitionRequest create;
      size_t at = name.find("/definitions/");
      create.set_parent(name.substr(0, at == std::string::npos ? 0 : at));
      create.set_definition_id(at == std::string::npos ? name : name.substr(at + 13));
      *create.mutable_definition() = doc.definition;
      create.mutable_definition()->clear_name();
      result = c.Call<v1::CreateDefinitionRequest, v1::Definition>(
          &v1::Registry::Stub::CreateDefinition, create);
      verb = "created";
    } else if (current.ok() && create_only) {
      std::cout << name << " exists\n";
      continue;
    } else if (current.ok()) {
      v1::UpdateDefinitionRequest update;
      *update.mutable_definition() = doc.definition;
      update.mutable_definition()->set_etag(current->etag());
      result = c.Call<v1::UpdateDefinitionRequest, v1::Definition>(
          &v1::Registry::Stub::UpdateDefinition, update);
      verb = result.ok() && result->etag() == current->etag() ? "unchanged" : "updated";
    } else {
      result = current.status();
    }
    if (!result.ok()) {
      std::cerr << doc.file << ":" << doc.line << ": " << name << ": ";
      Fail(result.status());
      ++failures;
      continue;
    }
    std::cout << name << " " << verb << "\n";
  }
  return failures == 0 ? 0 : 1;
}

const char* TypeName(registry::v1::AttributeField::Type type) {
  switch (type) {
    case registry::v1::AttributeField::STRING:
      return "a string";
    case registry::v1::AttributeField::NUMBER:
      return "a number";
    case registry::v1::AttributeField::BOOL:
      return "true or false";
    case registry::v1::AttributeField::LIST:
      return "a list";
    case registry::v1::AttributeField::STRUCT:
      return "a map";
    default:
      return "anything";
  }
}

registry::v1::AttributeField::Type TypeOf(const google::protobuf::Value& v) {
  switch (v.kind_case()) {
    case google::protobuf::Value::kStringValue:
      return registry::v1::AttributeField::STRING;
    case google::protobuf::Value::kNumberValue:
      return registry::v1::AttributeField::NUMBER;
    case google::protobuf::Value::kBoolValue:
      return registry::v1::AttributeField::BOOL;
    case google::protobuf::Value::kListValue:
      return registry::v1::AttributeField::LIST;
    case google::protobuf::Value::kStructValue:
      return registry::v1::AttributeField::STRUCT;
    default:
      return registry::v1::AttributeField::TYPE_UNSPECIFIED;
  }
}

// Checks every attribute under `s` (at `prefix`) against `fields`; problems go to `problems`.
void CheckAttributes(const google::protobuf::Struct& s, const std::string& prefix,
                     const std::map<std::string, registry::v1::AttributeField::Type>& fields,
                     std::vector<std::string>* problems) {
  for (const auto& [key, value] : s.fields()) {
    const std::string path = prefix.empty() ? key : absl::StrCat(prefix, ".", key);
    auto it = fields.find(path);
    if (it == fields.end()) {
      if (value.has_struct_value()) {
        CheckAttributes(value.struct_value(), path, fields, problems);
      } else {
        problems->push_back(absl::StrCat("attribute '", path, "' is not in the dictionary"));
      }
      continue;
    }
    const auto type = it->second;
    if (type != registry::v1::AttributeField::TYPE_UNSPECIFIED && !value.has_null_value() &&
        TypeOf(value) != type) {
      problems->push_back(absl::StrCat("attribute '", path, "' should be ", TypeName(type)));
    }
  }
}

// Prints a definition (a table row, or YAML/JSON).
int ShowDefinition(const Globals& g, const absl::StatusOr<v1::Definition>& d) {
  if (!d.ok()) {
    return Fail(d.status());
  }
  if (g.output == "table") {
    PrintDefinitionRow(*d);
  } else {
    Print(g, *d);
  }
  return 0;
}

int Get(const Globals& g, const std::string& name, const std::string& revision, bool has_revision) {
  RegistryClient c(g);
  if (has_revision) {
    v1::GetRevisionRequest r;
    r.set_name(absl::StrCat(c.Name(name), "/revisions/", revision));
    auto rev = c.Call<v1::GetRevisionRequest, v1::Revision>(&v1::Registry::Stub::GetRevision, r);
    if (!rev.ok()) {
      return Fail(rev.status());
    }
    Print(g, *rev);
    return 0;
  }
  v1::GetDefinitionRequest r;
  r.set_name(c.Name(name));
  auto d = c.Call<v1::GetDefinitionRequest, v1::Definition>(&v1::Registry::Stub::GetDefinition, r);
  if (!d.ok()) {
    return Fail(d.status());
  }
  Print(g, *d);
  return 0;
}

int List(const Globals& g, const std::string& filter, bool show_deleted) {
  RegistryClient c(g);
  v1::ListDefinitionsRequest r;
  r.set_parent(absl::StrCat("namespaces/", g.ns));
  r.set_filter(filter);
  r.set_show_deleted(show_deleted);
  r.set_page_size(1000);
  // Every page first: a failed call prints nothing on stdout, and -o json|yaml is one
  // document (the whole list), as a single response would be.
  v1::ListDefinitionsResponse all;
  do {
    auto page = c.Call<v1::ListDefinitionsRequest, v1::ListDefinitionsResponse>(
        &v1::Registry::Stub::ListDefinitions, r);
    if (!page.ok()) {
      return Fail(page.status());
    }
    for (auto& d : *page->mutable_definitions()) {
      *all.add_definitions() = std::move(d);
    }
    r.set_page_token(page->next_page_token());
  } while (!r.page_token().empty());
  if (g.output == "table") {
    std::printf("%-55s %-8s %-9s %-9s %-7s %s\n", "NAME", "KIND", "PUBLISHED", "PENDING", "DRAFT",
                "DISPLAY NAME");
    for (const auto& d : all.definitions()) {
      PrintDefinitionRow(d);
    }
  } else if (g.output == "jsonl") {
    for (const auto& d : all.definitions()) {
      std::cout << JsonLine(d) << "\n";
    }
  } else {
    Print(g, all);
  }
  return 0;
}

int Diff(const Globals& g, const std::string& name, const std::string& from,
         const std::string& to) {
  RegistryClient c(g);
  v1::DiffDefinitionRequest r;
  r.set_name(c.Name(name));
  r.set_from(from);
  r.set_to(to);
  auto d =
      c.Call<v1::DiffDefinitionRequest, v1::DefinitionDiff>(&v1::Registry::Stub::DiffDefinition, r);
  if (!d.ok()) {
    return Fail(d.status());
  }
  if (g.output != "table") {
    Print(g, *d);
    return 0;
  }
  std::cout << "--- " << d->from() << "\n+++ " << d->to() << "\n";
  for (const v1::DefinitionChange& change : d->changes()) {
    PrintChange(change);
  }
  if (d->changes().empty()) {
    std::cout << "(no changes)\n";
  }
  return 0;
}

}  // namespace

int CheckLeads(const std::string& leads_file, const std::vector<v1::Definition>& definitions) {
  absl::StatusOr<std::vector<sv1::Lead>> leads = ReadLeads(leads_file);
  if (!leads.ok()) {
    std::cerr << leads.status().message() << "\n";
    return 1;
  }
  int problems = 0;
  int dictionaries = 0;
  for (const registry::v1::Definition& d : definitions) {
    if (!d.has_qualification_model() || d.qualification_model().fields_size() == 0) {
      continue;
    }
    ++dictionaries;
    std::map<std::string, registry::v1::AttributeField::Type> fields;
    for (const auto& f : d.qualification_model().fields()) {
      fields[f.path()] = f.type();
    }
    for (size_t i = 0; i < leads->size(); ++i) {
      std::vector<std::string> found;
      CheckAttributes((*leads)[i].attributes(), "", fields, &found);
      for (const std::string& problem : found) {
        std::cerr << leads_file << ": lead " << (*leads)[i].id() << " (#" << i + 1
                  << "): " << problem << " of " << d.name() << "\n";
        ++problems;
      }
    }
  }
  if (dictionaries == 0) {
    std::cerr << "no qualification model in the files has a field dictionary (fields)\n";
    return 1;
  }
  if (problems > 0) {
    std::cerr << problems << " problem(s) in " << leads->size() << " lead(s)\n";
    return 1;
  }
  std::cout << leads->size() << " lead(s) match the field dictionary\n";
  return 0;
}

void AddDefinitionCommands(CLI::App& app, const Globals& g, int& exit_code) {
  struct Args {
    std::string file, leads_file, name, revision = "latest", filter, from = "published",
                                        to = "draft";
    bool create_only = false, show_deleted = false;
  };
  auto a = std::make_shared<Args>();

  auto* validate = app.add_subcommand("validate", "check definition files offline (no server)");
  validate->add_option("-f,--file", a->file, "file or directory")->required();
  validate->add_option("--leads", a->leads_file,
                       "also check a sample of leads (.jsonl or .csv) against the models' field "
                       "dictionaries");
  validate->callback([a, &exit_code] {
    exit_code = Validate(a->file);
    if (exit_code != 0 || a->leads_file.empty()) {
      return;
    }
    auto docs = definitions::ReadDefinitions(a->file);
    std::vector<v1::Definition> read;
    for (auto& d : *docs) {
      read.push_back(std::move(d.definition));
    }
    exit_code = CheckLeads(a->leads_file, read);
  });

  auto* apply = app.add_subcommand("apply", "create or update drafts from files");
  apply->add_option("-f,--file", a->file, "file or directory")->required();
  apply->add_flag("--create-only", a->create_only,
                  "create the definitions that do not exist; leave existing ones untouched");
  apply->callback(
      [a, &g, &exit_code] { exit_code = Apply(RegistryClient(g), a->file, a->create_only); });

  auto* get = app.add_subcommand("get", "show a definition (draft and metadata)");
  get->add_option("name", a->name)->required();
  get->add_option("--revision", a->revision, "show a revision instead: N, latest, published");
  get->callback([a, &g, &exit_code, get] {
    exit_code = Get(g, a->name, a->revision, get->count("--revision") > 0);
  });

  auto* list = app.add_subcommand("list", "list definitions");
  list->add_option("--filter", a->filter, "e.g. 'kind = BUYER_PERSONA AND pending = true'");
  list->add_flag("--show-deleted", a->show_deleted);
  list->callback([a, &g, &exit_code] { exit_code = List(g, a->filter, a->show_deleted); });

  auto* diff =
      app.add_subcommand("diff", "what changes, item by item (default: draft vs published)");
  diff->add_option("name", a->name)->required();
  diff->add_option("--from", a->from, "published, latest, draft or a revision number")
      ->capture_default_str();
  diff->add_option("--to", a->to, "published, latest, draft or a revision number")
      ->capture_default_str();
  diff->callback([a, &g, &exit_code] { exit_code = Diff(g, a->name, a->from, a->to); });

  auto* del = app.add_subcommand("delete", "soft-delete a definition");
  del->add_option("name", a->name)->required();
  del->callback([a, &g, &exit_code] {
    RegistryClient c(g);
    v1::DeleteDefinitionRequest r;
    r.set_name(c.Name(a->name));
    exit_code = ShowDefinition(g, c.Call<v1::DeleteDefinitionRequest, v1::Definition>(
                                      &v1::Registry::Stub::DeleteDefinition, r));
  });
  auto* undelete = app.add_subcommand("undelete", "restore a soft-deleted definition");
  undelete->add_option("name", a->name)->required();
  undelete->callback([a, &g, &exit_code] {
    RegistryClient c(g);
    v1::UndeleteDefinitionRequest r;
    r.set_name(c.Name(a->name));
    exit_code = ShowDefinition(g, c.Call<v1::UndeleteDefinitionRequest, v1::Definition>(
                                      &v1::Registry::Stub::UndeleteDefinition, r));
  });
}

}  // namespace accord::cli
