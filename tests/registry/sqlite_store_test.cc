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

}  // namespace
}  // namespace accord::registry::testing
