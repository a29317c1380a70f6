#include <sqlite3.h>

#include <filesystem>

#include "registry/storage/sqlite_definition_store.h"
#include "tests/registry/store_conformance.h"

namespace accord::registry::testing {
namespace {

std::string Path() {
  static const std::string path = (std::filesystem::temp_directory_path() /
                                   ("accord-sqlite-" + std::to_string(getpid()) + ".db"))
                                      .string();
  return path;
}

std::unique_ptr<DefinitionStore> Open() {
  auto store = SqliteDefinitionStore::Open(Path());
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::unique_ptr<DefinitionStore>(std::move(*store)) : nullptr;
}

std::unique_ptr<DefinitionStore> Fresh() {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(Path() + suffix);
  }
  return Open();
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest,
                         ::testing::Values(StoreFactory{"sqlite", Fresh, Open}),
                         [](const auto& info) { return info.param.name; });

// A database written by the binary before verdicts (schema 1) gains their table when opened,
// and keeps its definitions.
TEST(SqliteMigrationTest, AFormerSchemaGainsTheVerdictsTable) {
  {
    auto store = Fresh();
    WriteBatch b;
    b.preconditions.push_back({"namespaces/default/definitions/kept", 0});
    b.states.emplace_back().mutable_definition()->set_name("namespaces/default/definitions/kept");
    ASSERT_TRUE(store->Commit(std::move(b)).ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(Path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db,
                   "DROP TABLE verdicts; DROP TABLE verdict_leads; DROP TABLE verdict_counts; "
                   "UPDATE meta SET value = '1' WHERE key = 'schema_version'",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto* verdicts = dynamic_cast<VerdictStore*>(store.get());
  records::StoredVerdict v;
  v.set_namespace_id("default");
  v.set_verdict_id("v1");
  v.set_lead_id("L1");
  EXPECT_TRUE(verdicts->RecordVerdicts({v}).ok());
  auto snapshot = store->LoadAll();
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(snapshot->states.size(), 1u);
}

}  // namespace
}  // namespace accord::registry::testing
