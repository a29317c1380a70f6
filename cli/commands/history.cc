#include <iostream>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"
#include "cli/print.h"

namespace accord::cli {
namespace {

int Watch(const RegistryClient& c, int64_t from, const std::vector<std::string>& kinds) {
  v1::WatchDefinitionsRequest request;
  request.set_parent(absl::StrCat("namespaces/", c.globals().ns));
  request.set_start_after_sequence(from);
  for (const std::string& k : kinds) {
    v1::DefinitionKind kind;
    if (!v1::DefinitionKind_Parse(k, &kind)) {
      std::cerr << "unknown kind " << k << "\n";
      return 2;
    }
    request.add_kinds(kind);
  }
  auto ctx = c.Context(true);
  auto reader = c.stub()->WatchDefinitions(ctx.get(), request);
  v1::WatchDefinitionsResponse message;
  while (reader->Read(&message)) {
    if (c.globals().output == "json") {
      std::string line;
      (void)google::protobuf::util::MessageToJsonString(message, &line);
      std::cout << line << std::endl;
      continue;
    }
    switch (message.payload_case()) {
      case v1::WatchDefinitionsResponse::kSnapshotBegin:
        std::cout << "seq " << message.sequence() << " snapshot begin ("
                  << v1::SnapshotBegin::Reason_Name(message.snapshot_begin().reason()) << ")"
                  << std::endl;
        break;
      case v1::WatchDefinitionsResponse::kSnapshotEnd:
        std::cout << "seq " << message.sequence()
                  << " snapshot end: " << message.snapshot_end().definition_count()
                  << " definitions" << std::endl;
        break;
      case v1::WatchDefinitionsResponse::kProgress:
        std::cout << "seq " << message.sequence() << " progress" << std::endl;
        break;
      case v1::WatchDefinitionsResponse::kChanges:
        for (const auto& e : message.changes().events()) {
          std::cout << "seq " << e.sequence() << " " << v1::WatchEvent::Type_Name(e.type()) << " "
                    << e.definition()
                    << (e.type() == v1::WatchEvent::UPSERT
                            ? absl::StrCat(" r", e.revision().revision_number())
                            : "")
                    << std::endl;
        }
        break;
      default:
        break;
    }
  }
  grpc::Status status = reader->Finish();
  return status.ok() ? 0 : Fail(FromGrpcStatus(status));
}

}  // namespace

void AddHistoryCommands(CLI::App& app, const Globals& g, int& exit_code) {
  struct Args {
    std::string name;
    int64_t from = 0;
    std::vector<std::string> kinds;
  };
  auto a = std::make_shared<Args>();

  auto* history = app.add_subcommand("history", "revisions of a definition");
  history->add_option("name", a->name)->required();
  history->callback([a, &g, &exit_code] {
    RegistryClient c(g);
    v1::ListRevisionsRequest r;
    r.set_parent(c.Name(a->name));
    r.set_page_size(1000);
    exit_code = ShowList(g,
                         c.Call<v1::ListRevisionsRequest, v1::ListRevisionsResponse>(
                             &v1::Registry::Stub::ListRevisions, r),
                         [](const v1::ListRevisionsResponse& page) {
                           for (const auto& rev : page.revisions()) {
                             PrintRevisionRow(rev);
                           }
                         });
  });

  auto* audit = app.add_subcommand("audit", "audit log of the namespace or one definition");
  audit->add_option("name", a->name);
  audit->callback([a, &g, &exit_code] {
    RegistryClient c(g);
    v1::ListAuditEventsRequest r;
    r.set_parent(absl::StrCat("namespaces/", g.ns));
    if (!a->name.empty()) {
      r.set_resource(c.Name(a->name));
    }
    r.set_page_size(200);
    exit_code = ShowList(g,
                         c.Call<v1::ListAuditEventsRequest, v1::ListAuditEventsResponse>(
                             &v1::Registry::Stub::ListAuditEvents, r),
                         [](const v1::ListAuditEventsResponse& page) {
                           for (const auto& e : page.events()) {
                             PrintAuditRow(e);
                           }
                         });
  });

  auto* watch = app.add_subcommand("watch", "stream published changes");
  watch->add_option("--from", a->from, "resume after this sequence (0 = full state first)");
  watch->add_option("--kind", a->kinds, "BUYER_PERSONA, QUALIFICATION_MODEL, ...");
  watch->callback([a, &g, &exit_code] { exit_code = Watch(RegistryClient(g), a->from, a->kinds); });
}

}  // namespace accord::cli
