#include "scoring/scorer.h"

#include <filesystem>

#include "gtest/gtest.h"

#include "definitions/loader.h"
#include "scoring/cache_file.h"
#include "tests/testing/status_matchers.h"

namespace accord::scoring {
namespace {

using accord::testing::StatusIs;

rv1::WatchEvent Upsert(const std::string& yaml, int64_t revision) {
  auto docs = definitions::ParseDefinitions(yaml, "t");
  EXPECT_TRUE(docs.ok()) << docs.status();
  rv1::WatchEvent e;
  e.set_type(rv1::WatchEvent::UPSERT);
  e.set_definition(docs->front().definition.name());
  e.mutable_revision()->set_revision_number(revision);
  *e.mutable_revision()->mutable_snapshot() = docs->front().definition;
  return e;
}

rv1::WatchDefinitionsResponse Changes(int64_t sequence, std::vector<rv1::WatchEvent> events) {
  rv1::WatchDefinitionsResponse m;
  m.set_sequence(sequence);
  m.set_history_id("h");
  for (auto& e : events) {
    *m.mutable_changes()->add_events() = e;
  }
  return m;
}

rv1::WatchDefinitionsResponse Marker(int64_t sequence, bool begin) {
  rv1::WatchDefinitionsResponse m;
  m.set_sequence(sequence);
  m.set_history_id("h");
  begin ? (void)m.mutable_snapshot_begin() : (void)m.mutable_snapshot_end();
  return m;
}

constexpr char kModelV1[] =
    "name: namespaces/default/definitions/m\nqualification_model: {levels: [{name: A}]}\n";
constexpr char kModelV3[] =
    "name: namespaces/default/definitions/m\nqualification_model: {levels: [{name: C}]}\n";
// Refers to a persona that is not published: cannot compile in the scoring service.
constexpr char kModelBad[] =
    "name: namespaces/default/definitions/m\nqualification_model: {personas: [ghost]}\n";

int64_t ModelRevision(const Scorer& scorer) {
  return scorer.Current()->namespaces.at("default")->models.at(0).revision;
}

TEST(ScorerTest, NotReadyUntilASnapshotEnds) {
  SystemClock clock;
  Scorer scorer(clock);
  scorer.Apply({Marker(5, true), Changes(5, {Upsert(kModelV1, 1)})});
  EXPECT_FALSE(scorer.ready());
  EXPECT_THAT(scorer.ScoreLeads(LeadSet(), LeadRequest(), true,
                                [](const sv1::LeadScore&, const std::string&) {}),
              StatusIs(absl::StatusCode::kUnavailable));
  scorer.Apply({Marker(5, false)});
  ASSERT_TRUE(scorer.ready());
  EXPECT_EQ(scorer.Current()->sequence, 5);
}

TEST(ScorerTest, InvalidRevisionIsRejectedPreviousKeptLaterValidApplied) {
  SystemClock clock;
  Scorer scorer(clock);
  scorer.Apply({Marker(1, true), Changes(1, {Upsert(kModelV1, 1)}), Marker(1, false)});
  ASSERT_EQ(ModelRevision(scorer), 1);
  std::vector<std::string> rejected = scorer.Apply({Changes(2, {Upsert(kModelBad, 2)})});
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_NE(rejected[0].find("personas[0]"), std::string::npos) << rejected[0];
  EXPECT_EQ(ModelRevision(scorer), 1);
  EXPECT_EQ(scorer.rejected_total(), 1);
  EXPECT_EQ(scorer.Current()->sequence, 2);  // the cursor moves on: the bad revision is skipped
  scorer.Apply({Changes(3, {Upsert(kModelV3, 3)})});
  EXPECT_EQ(ModelRevision(scorer), 3);
  EXPECT_EQ(scorer.Current()->namespaces.at("default")->models.at(0).levels.at(0).name, "C");
}

TEST(ScorerTest, CacheRoundTripAndCorruptionDetected) {
  SystemClock clock;
  Scorer scorer(clock);
  scorer.Apply({Marker(7, true), Changes(7, {Upsert(kModelV1, 1)}), Marker(7, false)});
  const std::string path =
      (std::filesystem::temp_directory_path() / ("accord-cache-" + std::to_string(getpid())))
          .string();
  ASSERT_TRUE(WriteCacheFile(path, scorer.ToCache()).ok());
  auto cache = ReadCacheFile(path);
  ASSERT_TRUE(cache.ok()) << cache.status();
  Scorer restored(clock);
  ASSERT_TRUE(restored.Load(*cache).ok());
  EXPECT_EQ(restored.Current()->sequence, 7);
  EXPECT_EQ(ModelRevision(restored), 1);

  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);
  EXPECT_THAT(ReadCacheFile(path), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(ReadCacheFile(path + ".missing"), StatusIs(absl::StatusCode::kNotFound));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace accord::scoring
