#pragma once

#include <functional>
#include <memory>

#include "gtest/gtest.h"

#include "registry/storage/definition_store.h"

// The storage conformance suite, written once and instantiated per backend:
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest, ::testing::Values(factory));
namespace accord::registry::testing {

// Opens a store on fresh, empty storage; `reopen` opens the same storage again.
struct StoreFactory {
  std::string name;
  std::function<std::unique_ptr<DefinitionStore>()> fresh;
  std::function<std::unique_ptr<DefinitionStore>()> reopen;
};

inline void PrintTo(const StoreFactory& factory, std::ostream* os) { *os << factory.name; }

class StoreConformanceTest : public ::testing::TestWithParam<StoreFactory> {};

}  // namespace accord::registry::testing
