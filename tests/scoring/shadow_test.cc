#include "scoring/shadow.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

#include "definitions/loader.h"
#include "scoring/serving.h"
#include "tests/testing/status_matchers.h"

// Shadow scoring (scoring/shadow.h) on a real Scorer: the disagreement counts against
// PreviewDefinition's for the same leads, responses byte for byte the same with it on and off,
// and the worker held to its CPU share.
namespace accord::scoring {
namespace {

constexpr char kModel[] = R"(name: namespaces/default/definitions/m
qualification_model:
  fit:
    - name: size
      rules:
        - {id: big, points: 50, condition: {attribute: {field: employees, op: GE, value: 500}}}
        - {id: mid, points: 25, condition: {attribute: {field: employees, op: GE, value: 200}}}
  fit_grades: [{label: A, min: 50}, {label: B, min: 25}, {label: C, min: 0}]
  levels: [{name: LEAD}, {name: MQL, min_fit: 40}]
)";
// The proposal: big companies earn 35 points, and mid ones 45: some MQLs lose it, some gain it.
constexpr char kProposed[] = R"(name: namespaces/default/definitions/m
qualification_model:
  fit:
    - name: size
      rules:
        - {id: big, points: 35, condition: {attribute: {field: employees, op: GE, value: 800}}}
        - {id: mid, points: 45, condition: {attribute: {field: employees, op: GE, value: 300}}}
  fit_grades: [{label: A, min: 50}, {label: B, min: 25}, {label: C, min: 0}]
  levels: [{name: LEAD}, {name: MQL, min_fit: 40}]
)";
constexpr char kName[] = "namespaces/default/definitions/m";

RevisionLoaderOptions LoaderOptions() {
  RevisionLoaderOptions o;
  o.first_wait = absl::Seconds(5);
  return o;
}

ShadowOptions Options(double cpu_share = 1, size_t max_queue = 64) {
  ShadowOptions o;
  o.namespaces = {"default"};
  o.sample_rate = 1;
  o.cpu_share = cpu_share;
  o.max_queue = max_queue;
  return o;
}

rv1::Definition Parse(const std::string& yaml) {
  auto docs = definitions::ParseDefinitions(yaml, "t");
  EXPECT_TRUE(docs.ok()) << docs.status();
  return docs->front().definition;
}

class ShadowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rv1::WatchDefinitionsResponse begin, changes, end;
    for (auto* m : {&begin, &changes, &end}) {
      m->set_sequence(1);
      m->set_history_id("h");
    }
    begin.mutable_snapshot_begin();
    end.mutable_snapshot_end();
    rv1::WatchEvent* e = changes.mutable_changes()->add_events();
    e->set_type(rv1::WatchEvent::UPSERT);
    e->set_definition(kName);
    e->mutable_revision()->set_revision_number(1);
    *e->mutable_revision()->mutable_snapshot() = Parse(kModel);
    scorer_.Apply({begin, changes, end});
    ASSERT_TRUE(scorer_.ready());
    scorer_.SetRevisionFetcher(
        [](const std::string& definition, int64_t number) -> absl::StatusOr<rv1::Revision> {
          if (definition != kName || number != 2) {
            return absl::NotFoundError("no such revision");
          }
          rv1::Revision r;
          r.set_revision_number(2);
          r.set_state(rv1::Revision::PROPOSED);
          *r.mutable_snapshot() = Parse(kProposed);
          return r;
        },
        LoaderOptions());
    for (int i = 0; i < 40; ++i) {
      sv1::Lead* lead = batch_.add_leads();
      lead->set_id("lead-" + std::to_string(i));
      (*lead->mutable_attributes()->mutable_fields())["employees"].set_number_value(i * 25);
    }
    batch_.mutable_as_of()->set_seconds(1793534400);
  }

  // Serves `bytes` as BatchScoreLeads does, with `shadow` sampling it.
  void Serve(ShadowScorer& shadow, const std::string& bytes) {
    scorer_.SetShadow(&shadow);
    std::string out;
    ASSERT_TRUE(ScoreRequest(scorer_, bytes, false, out).ok());
    scorer_.SetShadow(nullptr);
  }

  SystemClock clock_;
  Scorer scorer_{clock_};
  sv1::BatchScoreLeadsRequest batch_;
};

TEST_F(ShadowTest, DisagreementsAreWhatPreviewDefinitionCountsForTheSameLeads) {
  ShadowScorer shadow(scorer_, Options());
  shadow.Start();
  ASSERT_TRUE((shadow.Shadow("default", kName, 2)).ok());
  const std::string bytes = batch_.SerializeAsString();
  for (int i = 0; i < 3; ++i) {
    Serve(shadow, bytes);
  }
  shadow.Drain();
  sv1::ShadowReport report = shadow.Report("default");
  ASSERT_EQ(report.revisions_size(), 1);
  const sv1::ShadowRevisionReport& r = report.revisions(0);
  EXPECT_EQ(r.revision(), 2);
  EXPECT_EQ(r.published_revision(), 1);
  EXPECT_TRUE(r.active());
  EXPECT_EQ(r.leads(), 3 * batch_.leads_size());
  EXPECT_EQ(report.requests_sampled(), 3);

  sv1::PreviewDefinitionRequest preview;
  *preview.mutable_proposed() = Parse(kProposed);
  *preview.mutable_leads() = batch_.leads();
  *preview.mutable_as_of() = batch_.as_of();
  ACCORD_ASSERT_OK_AND_ASSIGN(sv1::PreviewDefinitionResponse expected,
                              scorer_.PreviewDefinition(preview));
  std::map<std::pair<std::string, std::string>, int64_t> want, got;
  int64_t want_changes = 0;
  for (const sv1::LevelTransition& t : expected.level_transitions()) {
    want[{t.before(), t.after()}] = 3 * t.count();
    want_changes += t.before() != t.after() ? 3 * t.count() : 0;
  }
  for (const sv1::ShadowCell& c : r.levels()) {
    got[{c.published(), c.proposed()}] = c.leads();
    EXPECT_EQ(c.example_lead_ids_size(),
              c.published() == c.proposed() ? 0 : std::min<int64_t>(5, c.leads()));
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(r.level_changes(), want_changes);
  // By hand: MQL needs 40 fit. Published: 500+ employees (leads 20-39). Proposed: 300+ (45
  // points, leads 12-39). So leads 12-19 go LEAD -> MQL, 8 of them, in each of 3 requests.
  EXPECT_EQ(r.level_changes(), 3 * 8);
  // Grades: the proposed grade of every lead from 8 (200 employees) up moves.
  int64_t grade_total = 0;
  for (const sv1::ShadowCell& c : r.grades()) {
    grade_total += c.leads();
  }
  EXPECT_EQ(grade_total, r.leads());
}

TEST_F(ShadowTest, ResponsesAreTheSameBytesWithShadowScoringOnAndOff) {
  const std::string bytes = batch_.SerializeAsString();
  std::string off;
  ASSERT_TRUE((ScoreRequest(scorer_, bytes, false, off)).ok());
  ShadowScorer shadow(scorer_, Options());
  shadow.Start();
  ASSERT_TRUE((shadow.Shadow("default", kName, 2)).ok());
  scorer_.SetShadow(&shadow);
  std::string on;
  ASSERT_TRUE((ScoreRequest(scorer_, bytes, false, on)).ok());
  shadow.Drain();
  scorer_.SetShadow(nullptr);
  EXPECT_EQ(on, off);
  EXPECT_EQ(shadow.Report("default").revisions(0).leads(), batch_.leads_size())
      << "the request was shadow-scored";
}

TEST_F(ShadowTest, NothingIsQueuedUntilARevisionIsShadowedNorAfterItIsUnshadowed) {
  ShadowScorer shadow(scorer_, Options());
  shadow.Start();
  const std::string bytes = batch_.SerializeAsString();
  EXPECT_FALSE(shadow.Sample());
  Serve(shadow, bytes);
  shadow.Drain();
  EXPECT_EQ(shadow.Report("default").requests_sampled(), 0);
  ASSERT_TRUE((shadow.Shadow("default", kName, 2)).ok());
  shadow.Unshadow("default");
  Serve(shadow, bytes);
  shadow.Drain();
  sv1::ShadowReport report = shadow.Report("default");
  EXPECT_EQ(report.requests_sampled(), 0);
  ASSERT_EQ(report.revisions_size(), 1) << "the report stays";
  EXPECT_FALSE(report.revisions(0).active());
}

TEST_F(ShadowTest, AProposalThatDoesNotCompileIsNotShadowed) {
  ShadowScorer shadow(scorer_, Options());
  EXPECT_FALSE(shadow.Shadow("default", kName, 7).ok()) << "no such revision";
  EXPECT_EQ(shadow.Report("default").revisions_size(), 0);
}

// The worker's CPU stays within its share of one CPU under more sampled load than it can take,
// and what it cannot take is dropped and counted, never queued without bound.
TEST_F(ShadowTest, TheWorkerKeepsToItsCpuShareAndDropsWhatItCannotTake) {
  for (int i = 40; i < 1000; ++i) {
    sv1::Lead* lead = batch_.add_leads();
    lead->set_id("lead-" + std::to_string(i));
    (*lead->mutable_attributes()->mutable_fields())["employees"].set_number_value(i);
  }
  const std::string bytes = batch_.SerializeAsString();
  const double share = 0.1;
  ShadowScorer shadow(scorer_, Options(share, 4));
  shadow.Start();
  ASSERT_TRUE((shadow.Shadow("default", kName, 2)).ok());
  const absl::Time end = absl::Now() + absl::Milliseconds(1500);
  int offered = 0;
  while (absl::Now() < end) {
    Serve(shadow, bytes);
    ++offered;
  }
  const double cpu = absl::ToDoubleSeconds(shadow.worker_cpu());
  const double elapsed = absl::ToDoubleSeconds(shadow.worker_elapsed());
  sv1::ShadowReport report = shadow.Report("default");
  const double per_request =
      cpu / std::max<int64_t>(1, report.revisions(0).leads() / batch_.leads_size());
  // At most its share of the time, give or take the batch it was evaluating (at most the
  // queue's 4 requests).
  EXPECT_LE(cpu, share * elapsed + 4 * per_request) << cpu << " s of CPU in " << elapsed << " s";
  EXPECT_GT(report.revisions(0).leads(), 0);
  EXPECT_GT(report.requests_dropped(), 0);
  EXPECT_LT(report.requests_sampled() + 4, offered);
  shadow.Stop();
}

}  // namespace
}  // namespace accord::scoring
