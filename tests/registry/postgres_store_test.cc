// The storage conformance suite, unchanged, on a real PostgreSQL server started by the test
// fixture (tests/testing/pg_server.sh; its DSN in ACCORD_PG_DSN_FILE), plus what only a shared
// database has: durability settings, concurrent writers on several stores, the wake-up hint.
#include <atomic>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include <libpq-fe.h>

#include "registry/storage/postgres_definition_store.h"
#include "tests/registry/store_conformance.h"
#include "tests/testing/status_matchers.h"

namespace accord::registry::testing {
namespace {

using ::accord::testing::StatusIs;

std::string ServerDsn() {
  const char* file = std::getenv("ACCORD_PG_DSN_FILE");
  std::ifstream in(file == nullptr ? "" : file);
  std::string dsn;
  std::getline(in, dsn);
  return dsn;
}

// Runs `sql` on the server's maintenance database.
void Admin(const std::string& sql) {
  PGconn* c = PQconnectdb(ServerDsn().c_str());
  ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
  PGresult* r = PQexec(c, sql.c_str());
  EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
}

std::string Dsn(const std::string& db) {
  std::string dsn = ServerDsn();
  return dsn.substr(0, dsn.find("dbname=")) + "dbname=" + db;
}

std::unique_ptr<DefinitionStore> OpenDb(const std::string& db) {
  auto store = PostgresDefinitionStore::Open({Dsn(db), 2, false});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::unique_ptr<DefinitionStore>(std::move(*store)) : nullptr;
}

void Recreate(const std::string& db) {
  Admin("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
  Admin("CREATE DATABASE " + db);
}

std::unique_ptr<DefinitionStore> Fresh() {
  Recreate("conformance");
  return OpenDb("conformance");
}
std::unique_ptr<DefinitionStore> Reopen() { return OpenDb("conformance"); }

INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformanceTest,
                         ::testing::Values(StoreFactory{"postgres", Fresh, Reopen}),
                         [](const auto& info) { return info.param.name; });

records::DefinitionState State(const std::string& name) {
  records::DefinitionState state;
  state.mutable_definition()->set_name(name);
  return state;
}

TEST(PostgresStoreTest, ConcurrentWritersOnSeveralStoresGetUniqueOrderedSequences) {
  Recreate("writers");
  std::vector<std::unique_ptr<DefinitionStore>> stores;
  for (int i = 0; i < 3; ++i) stores.push_back(OpenDb("writers"));
  std::atomic<int> aborted{0};
  std::vector<std::vector<int64_t>> seqs(6);
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        WriteBatch batch;
        batch.states.push_back(State(absl::StrCat("namespaces/default/definitions/d", t, "-", i)));
        batch.preconditions.push_back({batch.states[0].definition().name(), 0});
        auto seq = stores[t % 3]->Commit(batch);
        if (seq.ok()) {
          seqs[t].push_back(*seq);
        } else {
          ++aborted;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(aborted.load(), 0);
  std::vector<int64_t> all;
  for (auto& v : seqs) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 120u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], static_cast<int64_t>(i + 1));
  auto page = stores[0]->ReadChanges(0, 1000);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->records.size(), 120u);
}

TEST(PostgresStoreTest, SameEtagThroughSeveralStoresExactlyOneWins) {
  Recreate("etag");
  auto a = OpenDb("etag");
  auto b = OpenDb("etag");
  WriteBatch create;
  create.states.push_back(State("namespaces/default/definitions/x"));
  auto first = a->Commit(create);
  ASSERT_TRUE(first.ok());
  std::atomic<int> ok{0};
  std::atomic<int> mismatched{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] {
      WriteBatch update;
      update.states.push_back(State("namespaces/default/definitions/x"));
      update.preconditions.push_back({"namespaces/default/definitions/x", *first});
      auto r = (i % 2 ? a : b)->Commit(update);
      if (r.ok()) {
        ++ok;
      } else if (r.status().code() == absl::StatusCode::kAborted) {
        ++mismatched;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(mismatched.load(), 49);
}

TEST(PostgresStoreTest, ListenerWakesOtherReplicas) {
  Recreate("notify");
  auto writer = OpenDb("notify");
  auto watcher = OpenDb("notify");
  std::atomic<int> wakes{0};
  watcher->SetChangeListener([&] { ++wakes; });
  absl::SleepFor(absl::Milliseconds(500));
  int before = wakes.load();
  WriteBatch batch;
  batch.states.push_back(State("namespaces/default/definitions/n"));
  ASSERT_TRUE(writer->Commit(batch).ok());
  for (int i = 0; i < 100 && wakes.load() == before; ++i) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_GT(wakes.load(), before);
}

TEST(PostgresStoreTest, RefusesUnsafeDurabilityUnlessAllowed) {
  Recreate("unsafe");
  Admin("ALTER DATABASE unsafe SET synchronous_commit = off");
  EXPECT_THAT(PostgresDefinitionStore::Open({Dsn("unsafe"), 1, false}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_TRUE(PostgresDefinitionStore::Open({Dsn("unsafe"), 1, true}).ok());
}

TEST(PostgresStoreTest, UnreachableServerIsUnavailable) {
  EXPECT_THAT(PostgresDefinitionStore::Open({"host=127.0.0.1 port=1 connect_timeout=2", 1, false}),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace accord::registry::testing
