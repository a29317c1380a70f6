// Part of the storage conformance suite: the registry's reference rule under concurrency, on
// every backend. Two registry replicas (each its own store connection and view) race a
// mutation that makes A refer to B against the deletion of B; the rule "a definition that a
// published definition refers to cannot be deleted" must hold after every round, whichever
// commit lands first.
#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"

#include "definitions/loader.h"
#include "registry/registry.h"
#include "tests/registry/store_conformance.h"
#include "tests/testing/status_matchers.h"

namespace accord::registry::testing {
namespace {

constexpr int kRounds = 12;

Principal Editor() { return {"mia", {Role::kMarketingEditor}}; }
Principal Marketing() { return {"max", {Role::kMarketingApprover}}; }
Principal Sales() { return {"sam", {Role::kSalesApprover}}; }
Principal Admin() { return {"ada", {Role::kAdmin}}; }

std::string Name(const std::string& id) { return "namespaces/default/definitions/" + id; }

// One registry replica: a store connection of its own, its view, the domain on top.
struct Replica {
  static WatchHubOptions FastPolls() {
    WatchHubOptions options;
    options.poll_interval = absl::Milliseconds(20);
    return options;
  }
  explicit Replica(std::unique_ptr<DefinitionStore> s)
      : store(std::move(s)), hub(*store, FastPolls()) {
    EXPECT_TRUE(hub.Start().ok());
    registry = std::make_unique<Registry>(*store, hub, clock);
  }
  ~Replica() { hub.Stop(); }

  std::unique_ptr<DefinitionStore> store;
  WatchHub hub;
  SystemClock clock;
  std::unique_ptr<Registry> registry;
};

class ReferenceRace {
 public:
  ReferenceRace(Replica& one, Replica& two) : one_(one), two_(two) {}

  static v1::Definition Persona(const std::string& summary) {
    return definitions::ParseDefinitions(
               "buyer_persona: {summary: " + summary +
                   ", criteria: [{id: a, condition: {attribute: {field: x, op: EXISTS}}}]}\n",
               "t")
        ->front()
        .definition;
  }
  static v1::Definition Model(const std::string& persona) {
    std::string personas = persona.empty() ? "" : "personas: [" + persona + "], ";
    return definitions::ParseDefinitions(
               "qualification_model: {" + personas + "levels: [{name: MQL}]}\n", "t")
        ->front()
        .definition;
  }

  void Create(const std::string& id, const v1::Definition& d) {
    v1::CreateDefinitionRequest r;
    r.set_parent("namespaces/default");
    r.set_definition_id(id);
    *r.mutable_definition() = d;
    ASSERT_TRUE(one_.registry->CreateDefinition(Editor(), r).ok());
  }
  void Update(const std::string& id, const v1::Definition& d) {
    v1::UpdateDefinitionRequest r;
    *r.mutable_definition() = d;
    r.mutable_definition()->set_name(Name(id));
    ASSERT_TRUE(one_.registry->UpdateDefinition(Editor(), r).ok());
  }
  // Proposes the draft and approves it for both teams; returns the revision's name.
  std::string Approved(const std::string& id) {
    v1::ProposeRevisionRequest p;
    p.set_name(Name(id));
    absl::StatusOr<v1::Revision> r = one_.registry->ProposeRevision(Editor(), p);
    EXPECT_TRUE(r.ok()) << r.status();
    v1::ReviewRevisionRequest a;
    a.set_name(r->name());
    EXPECT_TRUE(one_.registry->ApproveRevision(Marketing(), a).ok());
    EXPECT_TRUE(one_.registry->ApproveRevision(Sales(), a).ok());
    return r->name();
  }
  absl::Status Publish(Replica& on, const std::string& revision) {
    v1::PublishRevisionRequest r;
    r.set_name(revision);
    return on.registry->PublishRevision(Editor(), r).status();
  }
  absl::Status Delete(Replica& on, const std::string& id) {
    v1::DeleteDefinitionRequest r;
    r.set_name(Name(id));
    return on.registry->DeleteDefinition(Admin(), r).status();
  }
  absl::Status Undelete(Replica& on, const std::string& id) {
    v1::UndeleteDefinitionRequest r;
    r.set_name(Name(id));
    return on.registry->UndeleteDefinition(Admin(), r).status();
  }
  absl::Status Rollback(Replica& on, const std::string& id, int64_t to) {
    v1::RollbackDefinitionRequest r;
    r.set_name(Name(id));
    r.set_revision_number(to);
    return on.registry->RollbackDefinition(Admin(), r).status();
  }

  // Runs `refer` (on replica one) and the deletion of `b` (on replica two) at once; checks that
  // at most one succeeds and that the store never shows a published, active `a` whose
  // published revision refers to a deleted `b`.
  void Race(const std::function<absl::Status()>& refer, const std::string& a,
            const std::string& b) {
    // Replica two has seen everything replica one wrote before the race (read-your-writes
    // holds per replica; a client of two would retry a NOT_FOUND).
    absl::StatusOr<int64_t> written = one_.store->CurrentSequence();
    ASSERT_TRUE(written.ok());
    ASSERT_TRUE(two_.hub.WaitForSequence(*written, absl::Seconds(5)).ok());
    std::atomic<int> ready{0};
    absl::Status refer_status, delete_status;
    std::thread t1([&] {
      ++ready;
      while (ready.load() < 2) {
      }
      refer_status = refer();
    });
    std::thread t2([&] {
      ++ready;
      while (ready.load() < 2) {
      }
      delete_status = Delete(two_, b);
    });
    t1.join();
    t2.join();
    // Exactly one wins: the publish fails only on a deleted B, the delete only on a
    // committed reference.
    EXPECT_NE(refer_status.ok(), delete_status.ok())
        << a << ": " << refer_status << "; delete " << b << ": " << delete_status;
    if (!refer_status.ok()) {
      EXPECT_EQ(refer_status.code(), absl::StatusCode::kFailedPrecondition) << refer_status;
    }
    if (!delete_status.ok()) {
      EXPECT_EQ(delete_status.code(), absl::StatusCode::kFailedPrecondition) << delete_status;
    }
    // What the store holds, through replica one's view once it has caught up.
    absl::StatusOr<int64_t> latest = one_.store->CurrentSequence();
    ASSERT_TRUE(latest.ok());
    ASSERT_TRUE(one_.hub.WaitForSequence(*latest, absl::Seconds(5)).ok());
    WatchHub::StatePtr sa = one_.hub.Get(Name(a));
    WatchHub::StatePtr sb = one_.hub.Get(Name(b));
    ASSERT_NE(sa, nullptr);
    ASSERT_NE(sb, nullptr);
    bool a_refers = sa->definition().state() == v1::Definition::ACTIVE &&
                    sa->definition().published_revision() > 0 &&
                    !sa->published().snapshot().qualification_model().personas().empty();
    EXPECT_FALSE(a_refers && sb->definition().state() == v1::Definition::DELETED)
        << a << " is published referring to the deleted " << b;
  }

 private:
  Replica& one_;
  Replica& two_;
};

TEST_P(StoreConformanceTest, ReferencesCannotDangleUnderConcurrentDeletes) {
  Replica one(GetParam().fresh());
  Replica two(GetParam().reopen());
  ReferenceRace race(one, two);
  for (int round = 0; round < kRounds; ++round) {
    // Each pair races over a B of its own.
    auto published_b = [&](const std::string& id) {
      race.Create(id, ReferenceRace::Persona("b"));
      EXPECT_TRUE(race.Publish(one, race.Approved(id)).ok());
      return id;
    };

    // PublishRevision of A (which refers to B) against DeleteDefinition of B.
    const std::string b1 = published_b(absl::StrCat("b-publish", round));
    const std::string a1 = absl::StrCat("publish", round);
    race.Create(a1, ReferenceRace::Model(b1));
    const std::string revision = race.Approved(a1);
    race.Race([&] { return race.Publish(one, revision); }, a1, b1);

    // UndeleteDefinition of A against DeleteDefinition of B.
    const std::string b2 = published_b(absl::StrCat("b-undelete", round));
    const std::string a2 = absl::StrCat("undelete", round);
    race.Create(a2, ReferenceRace::Model(b2));
    ASSERT_TRUE(race.Publish(one, race.Approved(a2)).ok());
    ASSERT_TRUE(race.Delete(one, a2).ok());
    race.Race([&] { return race.Undelete(one, a2); }, a2, b2);

    // RollbackDefinition of A to a revision referring to B against DeleteDefinition of B.
    const std::string b3 = published_b(absl::StrCat("b-rollback", round));
    const std::string a3 = absl::StrCat("rollback", round);
    race.Create(a3, ReferenceRace::Model(b3));
    ASSERT_TRUE(race.Publish(one, race.Approved(a3)).ok());
    race.Update(a3, ReferenceRace::Model(""));
    ASSERT_TRUE(race.Publish(one, race.Approved(a3)).ok());
    race.Race([&] { return race.Rollback(one, a3, 1); }, a3, b3);
  }
}

}  // namespace
}  // namespace accord::registry::testing
