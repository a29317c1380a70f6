#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "gtest/gtest.h"

#include "common/auth.h"
#include "common/clock.h"
#include "definitions/loader.h"
#include "registry/registry.h"
#include "registry/storage/sqlite_definition_store.h"

// A registry on a fresh SQLite file of the test process's own, built as main builds it:
// store, view (watch hub), domain. For tests of the registry and its hub without a server.
namespace accord::registry::testing {

class SqliteRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ =
        (std::filesystem::temp_directory_path() /
         ("accord-" +
          std::string(::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name()) +
          "-" + std::to_string(getpid()) + ".db"))
            .string();
    for (const char* s : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path_ + s);
    }
    auto store = SqliteDefinitionStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    hub_ = std::make_unique<WatchHub>(*store_, HubOptions());
    ASSERT_TRUE(hub_->Start().ok());
    registry_ = std::make_unique<Registry>(*store_, *hub_, clock_);
  }
  void TearDown() override { hub_->Stop(); }

  // The hub's options (a fixture may change them).
  virtual WatchHubOptions HubOptions() { return {}; }

  // Creates persona `id` and publishes it with both teams' approval.
  void PublishPersona(const std::string& id) {
    auto docs = definitions::ParseDefinitions(
        "buyer_persona: {criteria: [{id: a, condition: {attribute: {field: x, op: EXISTS}}}]}\n",
        "t");
    ASSERT_TRUE(docs.ok()) << docs.status();
    v1::CreateDefinitionRequest create;
    create.set_parent("namespaces/default");
    create.set_definition_id(id);
    *create.mutable_definition() = docs->front().definition;
    ASSERT_TRUE(registry_->CreateDefinition(editor_, create).ok());
    v1::ProposeRevisionRequest propose;
    propose.set_name("namespaces/default/definitions/" + id);
    absl::StatusOr<v1::Revision> r = registry_->ProposeRevision(editor_, propose);
    ASSERT_TRUE(r.ok()) << r.status();
    v1::ReviewRevisionRequest review;
    review.set_name(r->name());
    ASSERT_TRUE(registry_->ApproveRevision({"max", {Role::kMarketingApprover}}, review).ok());
    ASSERT_TRUE(registry_->ApproveRevision({"sam", {Role::kSalesApprover}}, review).ok());
    v1::PublishRevisionRequest publish;
    publish.set_name(r->name());
    ASSERT_TRUE(registry_->PublishRevision(editor_, publish).ok());
  }

  std::string path_;
  SystemClock clock_;
  std::unique_ptr<SqliteDefinitionStore> store_;
  std::unique_ptr<WatchHub> hub_;
  std::unique_ptr<Registry> registry_;
  Principal editor_{"mia", {Role::kMarketingEditor}};
};

}  // namespace accord::registry::testing
