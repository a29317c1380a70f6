#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"
#include "cli/print.h"

namespace accord::cli {
namespace {

// A revision's name: N as given, or the latest or published one looked up.
absl::StatusOr<std::string> RevisionName(const RegistryClient& c, const std::string& definition,
                                         const std::string& revision) {
  if (revision != "latest" && revision != "published") {
    return absl::StrCat(c.Name(definition), "/revisions/", revision);
  }
  v1::GetRevisionRequest r;
  r.set_name(absl::StrCat(c.Name(definition), "/revisions/", revision));
  ACCORD_ASSIGN_OR_RETURN(v1::Revision rev, (c.Call<v1::GetRevisionRequest, v1::Revision>(
                                                &v1::Registry::Stub::GetRevision, r)));
  return rev.name();
}

int ShowRevision(const Globals& g, const absl::StatusOr<v1::Revision>& r) {
  if (!r.ok()) {
    return Fail(r.status());
  }
  if (g.output == "table") {
    std::cout << r->name() << " " << v1::Revision::State_Name(r->state()) << "\n";
    PrintRevisionRow(*r);
  } else {
    Print(g, *r);
  }
  return 0;
}

int Review(const Globals& g, const std::string& name, const std::string& revision,
           const std::string& team, const std::string& comment, bool approve) {
  RegistryClient c(g);
  absl::StatusOr<std::string> rev = RevisionName(c, name, revision);
  if (!rev.ok()) {
    return Fail(rev.status());
  }
  v1::ReviewRevisionRequest r;
  r.set_name(*rev);
  r.set_team(team);
  r.set_comment(comment);
  return ShowRevision(g, approve ? c.Call<v1::ReviewRevisionRequest, v1::Revision>(
                                       &v1::Registry::Stub::ApproveRevision, r)
                                 : c.Call<v1::ReviewRevisionRequest, v1::Revision>(
                                       &v1::Registry::Stub::RejectRevision, r));
}

int Publish(const Globals& g, const std::string& name, const std::string& revision) {
  RegistryClient c(g);
  absl::StatusOr<std::string> rev = RevisionName(c, name, revision);
  if (!rev.ok()) {
    return Fail(rev.status());
  }
  v1::PublishRevisionRequest r;
  r.set_name(*rev);
  return ShowRevision(
      g, c.Call<v1::PublishRevisionRequest, v1::Revision>(&v1::Registry::Stub::PublishRevision, r));
}

}  // namespace

void AddReviewCommands(CLI::App& app, const Globals& g, int& exit_code) {
  struct Args {
    std::string name, summary, revision = "latest", team, comment;
    int64_t to = 0;
  };
  auto a = std::make_shared<Args>();

  auto* propose = app.add_subcommand("propose", "freeze the draft into a proposed revision");
  propose->add_option("name", a->name)->required();
  propose->add_option("-m,--summary", a->summary, "change summary");
  propose->callback([a, &g, &exit_code] {
    RegistryClient c(g);
    v1::ProposeRevisionRequest r;
    r.set_name(c.Name(a->name));
    r.set_change_summary(a->summary);
    exit_code = ShowRevision(g, c.Call<v1::ProposeRevisionRequest, v1::Revision>(
                                    &v1::Registry::Stub::ProposeRevision, r));
  });

  auto* approve = app.add_subcommand("approve", "approve a revision for your team");
  auto* reject = app.add_subcommand("reject", "reject a revision");
  for (auto* sub : {approve, reject}) {
    sub->add_option("name", a->name)->required();
    sub->add_option("--revision", a->revision, "revision number (default: latest)");
    sub->add_option("--team", a->team, "team you act for (if you approve for several)");
    sub->add_option("-m,--comment", a->comment, "comment (required to reject)");
    const bool approving = sub == approve;
    sub->callback([a, &g, &exit_code, approving] {
      exit_code = Review(g, a->name, a->revision, a->team, a->comment, approving);
    });
  }

  auto* publish = app.add_subcommand("publish", "publish an approved revision");
  publish->add_option("name", a->name)->required();
  publish->add_option("--revision", a->revision, "revision number (default: latest)");
  publish->callback([a, &g, &exit_code] { exit_code = Publish(g, a->name, a->revision); });

  auto* rollback = app.add_subcommand("rollback", "republish an earlier revision's content");
  rollback->add_option("name", a->name)->required();
  rollback->add_option("--to", a->to, "revision number to restore")->required();
  rollback->callback([a, &g, &exit_code] {
    RegistryClient c(g);
    v1::RollbackDefinitionRequest r;
    r.set_name(c.Name(a->name));
    r.set_revision_number(a->to);
    exit_code = ShowRevision(g, c.Call<v1::RollbackDefinitionRequest, v1::Revision>(
                                    &v1::Registry::Stub::RollbackDefinition, r));
  });
}

}  // namespace accord::cli
