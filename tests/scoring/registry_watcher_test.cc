#include "scoring/registry_watcher.h"

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

#include "common/call_auth.h"
#include "common/executor.h"
#include "common/hash.h"
#include "common/server.h"
#include "registry/registry_service.h"
#include "scoring/cache_file.h"
#include "tests/testing/api_keys.h"
#include "tests/testing/sqlite_registry.h"

// Scoring's registry watcher in process: a real registry service on a loopback port over
// SQLite, the watcher following it into a real Scorer. It checks the first snapshot, live
// changes, reading a revision, the cache file, and that a restarted registry is followed again,
// with what was published while it could not be reached.
namespace accord::scoring {
namespace {

class RegistryWatcherTest : public registry::testing::SqliteRegistryTest {
 protected:
  void SetUp() override {
    SqliteRegistryTest::SetUp();
    authorizer_ = accord::testing::AuthorizerWithKeys({"service"});
    executor_ = std::make_unique<Executor>(2, 100);
    service_ = std::make_unique<registry::RegistryServiceImpl>(*registry_, *hub_, *executor_,
                                                               *authorizer_);
    StartServer("127.0.0.1:0");
    cache_path_ = path_ + ".cache";
    std::filesystem::remove(cache_path_);
  }

  void TearDown() override {
    if (watcher_ != nullptr) {
      watcher_->Stop();
    }
    if (server_ != nullptr) {
      server_->Shutdown();
    }
    std::filesystem::remove(cache_path_);
    SqliteRegistryTest::TearDown();
  }

  void StartServer(const std::string& listen) {
    ServerOptions options;
    options.component = "registry-test";
    options.listen = listen;
    options.drain_timeout = absl::Milliseconds(200);  // the watch stream is cut at once
    server_ = std::make_unique<Server>(options);
    server_->AddService(service_.get());
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->port();
  }

  void StartWatcher() {
    RegistryWatcherOptions options;
    options.registry = absl::StrCat("127.0.0.1:", port_);
    options.token = "token-service";
    options.cache_path = cache_path_;
    options.initial_backoff = absl::Milliseconds(20);
    options.max_backoff = absl::Milliseconds(200);
    watcher_ = std::make_unique<RegistryWatcher>(scorer_, options);
    watcher_->Start();
  }

  // Whether the scorer has persona `id` published, waiting up to 10 s for it.
  bool WaitForPersona(const std::string& id) {
    const std::string name = "namespaces/default/definitions/" + id;
    for (int i = 0; i < 1000; ++i) {
      if (scorer_.ready()) {
        const storage::v1::DefinitionCache cache = scorer_.ToCache();
        for (const auto& d : cache.definitions()) {
          if (d.definition() == name) {
            return true;
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::unique_ptr<CallAuthorizer> authorizer_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<registry::RegistryServiceImpl> service_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
  std::string cache_path_;
  SystemClock scoring_clock_;
  Scorer scorer_{scoring_clock_};
  std::unique_ptr<RegistryWatcher> watcher_;
};

TEST_F(RegistryWatcherTest, FollowsTheSnapshotThenLiveChangesAndKeepsTheCache) {
  PublishPersona("a");
  EXPECT_EQ(watcher_, nullptr);
  StartWatcher();
  ASSERT_TRUE(WaitForPersona("a"));
  EXPECT_TRUE(scorer_.ready());
  EXPECT_GT(watcher_->last_contact(), absl::InfinitePast());

  PublishPersona("b");
  ASSERT_TRUE(WaitForPersona("b"));

  absl::StatusOr<rv1::Revision> revision =
      watcher_->FetchRevision("namespaces/default/definitions/a", 1);
  ASSERT_TRUE(revision.ok()) << revision.status();
  EXPECT_EQ(revision->snapshot().buyer_persona().criteria(0).id(), "a");
  EXPECT_EQ(watcher_->FetchRevision("namespaces/default/definitions/none", 1).status().code(),
            absl::StatusCode::kNotFound);

  // Each new good set is written to the cache file, from which scoring starts when the
  // registry is down.
  for (int i = 0; i < 500; ++i) {
    absl::StatusOr<storage::v1::DefinitionCache> cache = ReadCacheFile(cache_path_);
    if (cache.ok() && cache->definitions_size() == 2) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  absl::StatusOr<storage::v1::DefinitionCache> cache = ReadCacheFile(cache_path_);
  ASSERT_TRUE(cache.ok()) << cache.status();
  EXPECT_EQ(cache->definitions_size(), 2);
  Scorer restarted(scoring_clock_);
  ASSERT_TRUE(restarted.Load(*cache).ok());
  EXPECT_TRUE(restarted.ready());
}

TEST_F(RegistryWatcherTest, FollowsARestartedRegistryAndWhatChangedMeanwhile) {
  PublishPersona("a");
  StartWatcher();
  ASSERT_TRUE(WaitForPersona("a"));
  const int port = port_;
  server_->Shutdown();
  server_.reset();
  PublishPersona("b");  // while the watcher cannot reach the registry
  StartServer(absl::StrCat("127.0.0.1:", port));
  ASSERT_TRUE(WaitForPersona("b"));
  PublishPersona("c");
  ASSERT_TRUE(WaitForPersona("c"));
  EXPECT_TRUE(WaitForPersona("a"));
}

}  // namespace
}  // namespace accord::scoring
