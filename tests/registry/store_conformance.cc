#include "tests/registry/store_conformance.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"

#include "registry/storage/verdict_store.h"
#include "tests/testing/status_matchers.h"

namespace accord::registry::testing {
namespace {

using accord::testing::HasReason;
using accord::testing::StatusIs;

WriteBatch NewDefinition(const std::string& id, int64_t expected = 0) {
  WriteBatch b;
  std::string name = absl::StrCat("namespaces/default/definitions/", id);
  b.preconditions.push_back({name, expected});
  records::DefinitionState s;
  s.mutable_definition()->set_name(name);
  s.mutable_definition()->set_display_name(id);
  s.mutable_definition()->set_state(v1::Definition::ACTIVE);
  b.states.push_back(s);
  v1::AuditEvent e;
  e.set_resource(name);
  e.set_namespace_("default");
  e.set_action("CreateDefinition");
  b.audit.push_back(e);
  return b;
}

TEST_P(StoreConformanceTest, CommitAssignsIncreasingSequences) {
  auto store = GetParam().fresh();
  int64_t last = 0;
  for (int i = 0; i < 5; ++i) {
    ACCORD_ASSERT_OK_AND_ASSIGN(int64_t seq, store->Commit(NewDefinition(absl::StrCat("d", i))));
    EXPECT_GT(seq, last);
    last = seq;
  }
  ACCORD_ASSERT_OK_AND_ASSIGN(int64_t current, store->CurrentSequence());
  EXPECT_EQ(current, last);
  ACCORD_ASSERT_OK_AND_ASSIGN(StoreSnapshot snap, store->LoadAll());
  EXPECT_EQ(snap.states.size(), 5u);
  EXPECT_EQ(snap.sequence, last);
  EXPECT_EQ(snap.states[0].definition().sequence(), snap.states[0].definition().sequence());
  EXPECT_GT(snap.states[4].definition().sequence(), 0);
}

TEST_P(StoreConformanceTest, PreconditionFailureIsAbortedAndWritesNothing) {
  auto store = GetParam().fresh();
  ACCORD_ASSERT_OK_AND_ASSIGN(int64_t seq, store->Commit(NewDefinition("a")));
  EXPECT_THAT(store->Commit(NewDefinition("a")), StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(store->Commit(NewDefinition("a", seq + 7)), HasReason("ETAG_MISMATCH"));
  ACCORD_ASSERT_OK_AND_ASSIGN(int64_t current, store->CurrentSequence());
  EXPECT_EQ(current, seq);
  ACCORD_ASSERT_OK_AND_ASSIGN(int64_t next, store->Commit(NewDefinition("a", seq)));
  EXPECT_EQ(next, seq + 1);
}

TEST_P(StoreConformanceTest, ChangeLogHoldsEveryCommitInOrder) {
  auto store = GetParam().fresh();
  for (int i = 0; i < 10; ++i) {
    WriteBatch b = NewDefinition(absl::StrCat("d", i));
    v1::WatchEvent e;
    e.set_type(v1::WatchEvent::UPSERT);
    e.set_definition(b.states[0].definition().name());
    b.events.push_back(e);
    ASSERT_TRUE(store->Commit(std::move(b)).ok());
  }
  ACCORD_ASSERT_OK_AND_ASSIGN(ChangePage page, store->ReadChanges(3, 4));
  ASSERT_EQ(page.records.size(), 4u);
  for (size_t i = 0; i < page.records.size(); ++i) {
    EXPECT_EQ(page.records[i].sequence(), static_cast<int64_t>(4 + i));
    ASSERT_EQ(page.records[i].events_size(), 1);
    EXPECT_EQ(page.records[i].events(0).sequence(), page.records[i].sequence());
    EXPECT_EQ(page.records[i].states(0).definition().sequence(), page.records[i].sequence());
  }
}

TEST_P(StoreConformanceTest, CompactionReportsTooOldCursors) {
  auto store = GetParam().fresh();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store->Commit(NewDefinition(absl::StrCat("d", i))).ok());
  }
  ASSERT_TRUE(store->CompactChanges(3).ok());
  EXPECT_THAT(store->ReadChanges(2, 100), HasReason("SEQUENCE_COMPACTED"));
  EXPECT_THAT(store->ReadChanges(2, 100), StatusIs(absl::StatusCode::kOutOfRange));
  ACCORD_ASSERT_OK_AND_ASSIGN(ChangePage page, store->ReadChanges(7, 100));
  EXPECT_EQ(page.records.size(), 3u);
  EXPECT_EQ(page.compacted_sequence, 7);
}

TEST_P(StoreConformanceTest, RequestRecordsAreUniqueAndCarryTheirSequence) {
  auto store = GetParam().fresh();
  WriteBatch b = NewDefinition("a");
  records::RequestRecord r;
  r.set_key("alice/req-1");
  r.set_fingerprint("f");
  r.set_response("bytes");
  b.request = r;
  ACCORD_ASSERT_OK_AND_ASSIGN(int64_t seq, store->Commit(std::move(b)));
  WriteBatch again = NewDefinition("b");
  again.request = r;
  EXPECT_THAT(store->Commit(std::move(again)), HasReason("REQUEST_EXISTS"));
  ACCORD_ASSERT_OK_AND_ASSIGN(auto found, store->FindRequest("alice/req-1"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->sequence(), seq);
  EXPECT_EQ(found->response(), "bytes");
  ACCORD_ASSERT_OK_AND_ASSIGN(auto missing, store->FindRequest("alice/req-2"));
  EXPECT_FALSE(missing.has_value());
}

TEST_P(StoreConformanceTest, RevisionsAndAuditArePagedNewestFirst) {
  auto store = GetParam().fresh();
  const std::string def = "namespaces/default/definitions/a";
  for (int n = 1; n <= 5; ++n) {
    WriteBatch b = NewDefinition("a", n == 1 ? 0 : n - 1);
    v1::Revision r;
    r.set_name(absl::StrCat(def, "/revisions/", n));
    r.set_revision_number(n);
    b.revisions.push_back(r);
    ASSERT_TRUE(store->Commit(std::move(b)).ok());
  }
  ACCORD_ASSERT_OK_AND_ASSIGN(auto revisions, store->ListRevisions(def, 4, 2));
  ASSERT_EQ(revisions.size(), 2u);
  EXPECT_EQ(revisions[0].revision_number(), 3);
  EXPECT_EQ(revisions[1].revision_number(), 2);
  ACCORD_ASSERT_OK_AND_ASSIGN(v1::Revision r3, store->GetRevision(def, 3));
  EXPECT_EQ(r3.sequence(), 3);
  EXPECT_THAT(store->GetRevision(def, 9), StatusIs(absl::StatusCode::kNotFound));
  ACCORD_ASSERT_OK_AND_ASSIGN(auto audit, store->ListAudit("default", def, 0, 3));
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].sequence(), 5);
  ACCORD_ASSERT_OK_AND_ASSIGN(auto other, store->ListAudit("emea", "", 0, 10));
  EXPECT_TRUE(other.empty());
}

TEST_P(StoreConformanceTest, ConcurrentCommitsGetUniqueSequencesAndOneWinsEachRace) {
  auto store = GetParam().fresh();
  ASSERT_TRUE(store->Commit(NewDefinition("hot")).ok());
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<int64_t> seqs;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      // Everyone races on "hot" at expected sequence 1; each also writes its own definition.
      if (store->Commit(NewDefinition("hot", 1)).ok()) {
        ++wins;
      }
      for (int i = 0; i < 5; ++i) {
        auto seq = store->Commit(NewDefinition(absl::StrCat("t", t, "-", i)));
        ASSERT_TRUE(seq.ok()) << seq.status();
        std::lock_guard lock(mu);
        EXPECT_TRUE(seqs.insert(*seq).second);
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(seqs.size(), 40u);
}

TEST_P(StoreConformanceTest, DataAndHistoryIdSurviveReopen) {
  std::string history;
  int64_t seq = 0;
  {
    auto store = GetParam().fresh();
    history = store->history_id();
    ACCORD_ASSERT_OK_AND_ASSIGN(seq, store->Commit(NewDefinition("kept")));
  }
  auto store = GetParam().reopen();
  EXPECT_EQ(store->history_id(), history);
  EXPECT_FALSE(history.empty());
  ACCORD_ASSERT_OK_AND_ASSIGN(StoreSnapshot snap, store->LoadAll());
  ASSERT_EQ(snap.states.size(), 1u);
  EXPECT_EQ(snap.sequence, seq);
}

// ---- Sales' verdicts (VerdictStore): every store implements it beside the definitions.

VerdictStore& Verdicts(DefinitionStore& store) {
  auto* verdicts = dynamic_cast<VerdictStore*>(&store);
  EXPECT_NE(verdicts, nullptr) << "the store does not keep verdicts";
  return *verdicts;
}

records::StoredVerdict Verdict(const std::string& id, const std::string& lead,
                               const std::string& outcome, int64_t recorded_micros,
                               const std::string& ns = "default") {
  records::StoredVerdict v;
  v.set_namespace_id(ns);
  v.set_verdict_id(id);
  v.set_lead_id(lead);
  v.set_outcome(outcome);
  v.set_actor("sales-tool");
  *v.mutable_recorded_at() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(recorded_micros);
  v.add_revisions("namespaces/default/definitions/b2b-lead-score/revisions/1");
  v.set_level("MQL");
  v.add_rules_fired("title-director");
  return v;
}

std::vector<std::string> Ids(const std::vector<records::StoredVerdict>& verdicts) {
  std::vector<std::string> ids;
  for (const auto& v : verdicts) {
    ids.push_back(v.verdict_id());
  }
  return ids;
}

TEST_P(StoreConformanceTest, VerdictsAreRecordedOnceListedInOrderAndTakeNoSequence) {
  auto store = GetParam().fresh();
  VerdictStore& verdicts = Verdicts(*store);
  ACCORD_ASSERT_OK_AND_ASSIGN(int64_t before, store->CurrentSequence());
  ACCORD_ASSERT_OK_AND_ASSIGN(std::vector<bool> recorded,
                              verdicts.RecordVerdicts({Verdict("v1", "L1", "ACCEPTED", 1000),
                                                       Verdict("v2", "L2", "REJECTED", 2000),
                                                       Verdict("v3", "L1", "WON", 3000)}));
  EXPECT_EQ(recorded, (std::vector<bool>{true, true, true}));
  // A retry (recorded again later) is not recorded twice; a new verdict beside it is.
  ACCORD_ASSERT_OK_AND_ASSIGN(recorded,
                              verdicts.RecordVerdicts({Verdict("v2", "L2", "REJECTED", 9000),
                                                       Verdict("v4", "L3", "RECYCLED", 4000),
                                                       Verdict("v4", "L3", "RECYCLED", 4000)}));
  EXPECT_EQ(recorded, (std::vector<bool>{false, true, false}));
  ACCORD_ASSERT_OK_AND_ASSIGN(
      auto all, verdicts.ListVerdicts("default", absl::InfinitePast(), absl::InfiniteFuture()));
  EXPECT_EQ(Ids(all), (std::vector<std::string>{"v1", "v2", "v3", "v4"}));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      all[1], Verdict("v2", "L2", "REJECTED", 2000)))
      << "the first recording is kept";
  ACCORD_ASSERT_OK_AND_ASSIGN(
      auto some,
      verdicts.ListVerdicts("default", absl::FromUnixMicros(2000), absl::FromUnixMicros(4000)));
  EXPECT_EQ(Ids(some), (std::vector<std::string>{"v2", "v3"}));
  ACCORD_ASSERT_OK_AND_ASSIGN(
      auto other, verdicts.ListVerdicts("other", absl::InfinitePast(), absl::InfiniteFuture()));
  EXPECT_TRUE(other.empty());
  ACCORD_ASSERT_OK_AND_ASSIGN(int64_t after, store->CurrentSequence());
  EXPECT_EQ(after, before) << "verdicts never take the definitions' sequence";
  // One lead's history, and pages of the range.
  ACCORD_ASSERT_OK_AND_ASSIGN(
      auto history, verdicts.ListVerdicts("default", absl::InfinitePast(), absl::InfiniteFuture(),
                                          {.lead_id = "L1"}));
  EXPECT_EQ(Ids(history), (std::vector<std::string>{"v1", "v3"}));
  ACCORD_ASSERT_OK_AND_ASSIGN(
      auto page, verdicts.ListVerdicts("default", absl::InfinitePast(), absl::InfiniteFuture(),
                                       {.lead_id = "", .offset = 1, .limit = 2}));
  EXPECT_EQ(Ids(page), (std::vector<std::string>{"v2", "v3"}));
  ACCORD_ASSERT_OK_AND_ASSIGN(
      page, verdicts.ListVerdicts("default", absl::InfinitePast(), absl::InfiniteFuture(),
                                  {.lead_id = "", .offset = 3, .limit = 2}));
  EXPECT_EQ(Ids(page), (std::vector<std::string>{"v4"}));
}

TEST_P(StoreConformanceTest, AVerdictIdReusedForOtherContentFailsTheWholeBatch) {
  auto store = GetParam().fresh();
  VerdictStore& verdicts = Verdicts(*store);
  ASSERT_TRUE((verdicts.RecordVerdicts({Verdict("v1", "L1", "ACCEPTED", 1000)}).status()).ok());
  EXPECT_THAT(
      verdicts
          .RecordVerdicts(
              {Verdict("v5", "L5", "ACCEPTED", 1500), Verdict("v1", "L1", "REJECTED", 1000)})
          .status(),
      ::testing::AllOf(StatusIs(absl::StatusCode::kAlreadyExists), HasReason("VERDICT_ID_REUSED")));
  ACCORD_ASSERT_OK_AND_ASSIGN(
      auto all, verdicts.ListVerdicts("default", absl::InfinitePast(), absl::InfiniteFuture()));
  EXPECT_EQ(Ids(all), (std::vector<std::string>{"v1"})) << "nothing of the failed batch";
  // The same id in another namespace is another verdict.
  ACCORD_ASSERT_OK_AND_ASSIGN(
      std::vector<bool> recorded,
      verdicts.RecordVerdicts({Verdict("v1", "L1", "REJECTED", 1000, "other")}));
  EXPECT_EQ(recorded, (std::vector<bool>{true}));
}

constexpr int64_t kDay = 86'400'000'000;

TEST_P(StoreConformanceTest, ErasureAndRetentionDeleteExactlyTheirVerdicts) {
  auto store = GetParam().fresh();
  VerdictStore& verdicts = Verdicts(*store);
  ASSERT_TRUE((verdicts
                   .RecordVerdicts({Verdict("a", "L1", "ACCEPTED", 1000),
                                    Verdict("b", "L2", "REJECTED", kDay + 2000),
                                    Verdict("c", "L1", "WON", 2 * kDay + 3000),
                                    Verdict("d", "L1", "ACCEPTED", 1000, "other"),
                                    Verdict("e", "L3", "ACCEPTED", 3 * kDay)})
                   .status())
                  .ok());
  ACCORD_ASSERT_OK_AND_ASSIGN(int64_t erased, verdicts.EraseLeadVerdicts("default", "L1"));
  EXPECT_EQ(erased, 2);
  ACCORD_ASSERT_OK_AND_ASSIGN(
      auto left, verdicts.ListVerdicts("default", absl::InfinitePast(), absl::InfiniteFuture()));
  EXPECT_EQ(Ids(left), (std::vector<std::string>{"b", "e"}));
  ACCORD_ASSERT_OK_AND_ASSIGN(
      auto other, verdicts.ListVerdicts("other", absl::InfinitePast(), absl::InfiniteFuture()));
  EXPECT_EQ(Ids(other), (std::vector<std::string>{"d"})) << "another namespace's lead L1 stays";
  // Retention works in whole days: a cutoff inside day 2 deletes what came before day 2.
  ACCORD_ASSERT_OK_AND_ASSIGN(int64_t expired,
                              verdicts.DeleteVerdictsBefore(absl::FromUnixMicros(2 * kDay + 5000)));
  EXPECT_EQ(expired, 2);  // b, and d in the other namespace
  ACCORD_ASSERT_OK_AND_ASSIGN(
      left, verdicts.ListVerdicts("default", absl::InfinitePast(), absl::InfiniteFuture()));
  EXPECT_EQ(Ids(left), (std::vector<std::string>{"e"}));
}

// The counters the store keeps, against counting in memory (feedback::CountVerdicts) the latest
// verdict of each lead: after batches with retries and leads met again, after an erasure and
// after retention, over several ranges of days.
void ExpectSameCounts(const feedback::QualityCounts& got, const feedback::QualityCounts& want,
                      const std::string& what) {
  auto same = [](const std::map<std::string, feedback::Count>& a,
                 const std::map<std::string, feedback::Count>& b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](const auto& x, const auto& y) {
             return x.first == y.first && x.second.total == y.second.total &&
                    x.second.accepted == y.second.accepted;
           });
  };
  EXPECT_EQ(got.overall.total, want.overall.total) << what;
  EXPECT_EQ(got.overall.accepted, want.overall.accepted) << what;
  EXPECT_TRUE(same(got.by_level, want.by_level)) << what;
  EXPECT_TRUE(same(got.by_grade, want.by_grade)) << what;
  EXPECT_TRUE(same(got.by_persona, want.by_persona)) << what;
  EXPECT_TRUE(same(got.by_rule, want.by_rule)) << what;
  EXPECT_TRUE(same(got.by_content_key, want.by_content_key)) << what;
  EXPECT_EQ(got.not_accepted_by_reason, want.not_accepted_by_reason) << what;
}

feedback::QualityCounts ReferenceCounts(const std::vector<records::StoredVerdict>& recorded,
                                        const std::string& ns, int64_t from_day, int64_t to_day) {
  std::map<std::string, std::pair<std::pair<int64_t, size_t>, size_t>> latest;
  for (size_t i = 0; i < recorded.size(); ++i) {
    const auto& v = recorded[i];
    if (v.namespace_id() != ns) {
      continue;
    }
    const std::pair<int64_t, size_t> key{RecordedMicros(v), i};
    auto it = latest.find(v.lead_id());
    if (it == latest.end() || it->second.first < key) {
      latest[v.lead_id()] = {key, i};
    }
  }
  std::vector<feedback::Verdict> picked;
  for (const auto& [lead, entry] : latest) {
    const int64_t day = DayOfMicros(entry.first.first);
    if (day >= from_day && day < to_day) {
      picked.push_back(ReportVerdict(recorded[entry.second]));
    }
  }
  return feedback::CountVerdicts(picked);
}

TEST_P(StoreConformanceTest, TheReportsCountersMatchCountingTheLatestVerdictsInMemory) {
  auto store = GetParam().fresh();
  VerdictStore& verdicts = Verdicts(*store);
  std::mt19937 rng(18);
  const std::vector<std::string> outcomes = {"ACCEPTED",    "REJECTED", "RECYCLED",
                                             "OPPORTUNITY", "WON",      "LOST"};
  const std::vector<std::string> rules = {"title", "size", "industry", "webinar", "pricing"};
  std::vector<records::StoredVerdict> recorded;  // in the order the store recorded them
  int next = 0;
  for (int batch = 0; batch < 4; ++batch) {
    std::vector<records::StoredVerdict> b;
    for (int i = 0; i < 150; ++i, ++next) {
      records::StoredVerdict v = Verdict(
          absl::StrCat("v", next), absl::StrCat("L", rng() % 60), outcomes[rng() % outcomes.size()],
          static_cast<int64_t>(rng() % 5) * kDay + static_cast<int64_t>(rng() % 1000),
          rng() % 5 == 0 ? "other" : "default");
      v.set_level(rng() % 2 ? "MQL" : "SQL");
      v.set_grade(std::string(1, static_cast<char>('A' + rng() % 3)));
      v.set_persona(rng() % 3 == 0 ? "" : "it-director");
      v.set_reason_code(rng() % 2 ? "bad-fit" : "not-now");
      v.clear_rules_fired();
      for (const auto& rule : rules) {
        if (rng() % 2) {
          v.add_rules_fired(rule);
        }
      }
      v.add_content_keys(rng() % 2 ? "webinar:asset=roi" : "download:asset=guide");
      b.push_back(std::move(v));
    }
    if (batch > 0) {
      b.push_back(recorded[static_cast<size_t>(rng() % recorded.size())]);  // a retry
    }
    ACCORD_ASSERT_OK_AND_ASSIGN(std::vector<bool> ok, verdicts.RecordVerdicts(b));
    for (size_t i = 0; i < b.size(); ++i) {
      if (ok[i]) {
        recorded.push_back(b[i]);
      }
    }
  }
  ASSERT_EQ(recorded.size(), 600u) << "the retries were not recorded again";
  auto check = [&](const std::string& when) {
    for (const auto& [from, to] :
         std::vector<std::pair<int64_t, int64_t>>{{0, 5}, {1, 3}, {4, 5}}) {
      for (const std::string ns : {"default", "other"}) {
        ACCORD_ASSERT_OK_AND_ASSIGN(feedback::QualityCounts got,
                                    verdicts.CountVerdicts(ns, absl::FromUnixMicros(from * kDay),
                                                           absl::FromUnixMicros(to * kDay)));
        ExpectSameCounts(got, ReferenceCounts(recorded, ns, from, to),
                         absl::StrCat(when, ": ", ns, " days ", from, "-", to));
      }
    }
  };
  check("after the batches");
  ACCORD_ASSERT_OK_AND_ASSIGN(int64_t erased, verdicts.EraseLeadVerdicts("default", "L7"));
  EXPECT_GT(erased, 0);
  std::erase_if(recorded,
                [](const auto& v) { return v.namespace_id() == "default" && v.lead_id() == "L7"; });
  check("after erasing L7");
  ASSERT_TRUE(verdicts.DeleteVerdictsBefore(absl::FromUnixMicros(2 * kDay)).ok());
  std::erase_if(recorded, [](const auto& v) { return RecordedMicros(v) < 2 * kDay; });
  check("after retention of days 0 and 1");
}

TEST_P(StoreConformanceTest, VerdictsSurviveReopen) {
  {
    auto store = GetParam().fresh();
    ASSERT_TRUE(
        (Verdicts(*store).RecordVerdicts({Verdict("kept", "L1", "ACCEPTED", 1000)}).status()).ok());
  }
  auto store = GetParam().reopen();
  ACCORD_ASSERT_OK_AND_ASSIGN(
      auto all,
      Verdicts(*store).ListVerdicts("default", absl::InfinitePast(), absl::InfiniteFuture()));
  EXPECT_EQ(Ids(all), (std::vector<std::string>{"kept"}));
}

// A writer killed (SIGKILL) while it records batch after batch: every batch it was told was
// recorded is there whole, and every other batch is whole or absent, never half.
TEST_P(StoreConformanceTest, AKilledWriterLeavesEveryVerdictBatchWholeOrAbsent) {
  constexpr int kBatch = 50;
  GetParam().fresh();
  int acks[2];
  ASSERT_EQ(pipe(acks), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(acks[0]);
    auto store = GetParam().reopen();
    auto* verdicts = store == nullptr ? nullptr : dynamic_cast<VerdictStore*>(store.get());
    for (int32_t b = 0; verdicts != nullptr; ++b) {
      std::vector<records::StoredVerdict> batch;
      for (int i = 0; i < kBatch; ++i) {
        batch.push_back(Verdict(absl::StrCat(b, "-", i), absl::StrCat("L", i), "ACCEPTED", b));
      }
      if (verdicts->RecordVerdicts(batch).ok() && write(acks[1], &b, sizeof b) != sizeof b) {
        break;
      }
    }
    _exit(1);
  }
  close(acks[1]);
  // Acknowledgements for a while, then the kill, then those written before it.
  std::set<int32_t> acknowledged;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(400);
  bool killed = false;
  for (;;) {
    if (!killed && std::chrono::steady_clock::now() > until) {
      kill(child, SIGKILL);
      waitpid(child, nullptr, 0);
      killed = true;
    }
    pollfd p{acks[0], POLLIN, 0};
    if (poll(&p, 1, killed ? 0 : 10) <= 0) {
      if (killed) {
        break;
      }
      continue;
    }
    int32_t b;
    if (read(acks[0], &b, sizeof b) != sizeof b) {
      break;
    }
    acknowledged.insert(b);
  }
  close(acks[0]);
  ASSERT_FALSE(acknowledged.empty()) << "the writer recorded nothing before it was killed";
  auto store = GetParam().reopen();
  ACCORD_ASSERT_OK_AND_ASSIGN(
      auto all,
      Verdicts(*store).ListVerdicts("default", absl::InfinitePast(), absl::InfiniteFuture()));
  std::map<std::string, int> per_batch;
  for (const auto& v : all) {
    ++per_batch[v.verdict_id().substr(0, v.verdict_id().find('-'))];
  }
  for (const auto& [batch, count] : per_batch) {
    EXPECT_EQ(count, kBatch) << "batch " << batch << " is half there";
  }
  for (int32_t b : acknowledged) {
    EXPECT_EQ(per_batch[absl::StrCat(b)], kBatch) << "acknowledged batch " << b << " was lost";
  }
}

}  // namespace
}  // namespace accord::registry::testing
