#include "registry/storage/sqlite_definition_store.h"

#include <sqlite3.h>

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "common/hash.h"
#include "common/status.h"

namespace accord::registry {
namespace {

// Schema migrations, applied in order; the index + 1 is the schema version.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE clock(id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
INSERT INTO clock(id, seq) VALUES (1, 0);
CREATE TABLE definitions(
  name TEXT PRIMARY KEY, namespace TEXT NOT NULL, sequence INTEGER NOT NULL, state BLOB NOT NULL);
CREATE TABLE revisions(
  definition TEXT NOT NULL, number INTEGER NOT NULL, sequence INTEGER NOT NULL,
  body BLOB NOT NULL, PRIMARY KEY (definition, number));
CREATE TABLE changes(sequence INTEGER PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE audit(
  sequence INTEGER NOT NULL, idx INTEGER NOT NULL, namespace TEXT NOT NULL,
  resource TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (sequence, idx));
CREATE INDEX audit_resource ON audit(resource, sequence);
CREATE TABLE requests(key TEXT PRIMARY KEY, sequence INTEGER NOT NULL, body BLOB NOT NULL);
)sql",
    // 2: sales' verdicts (issue 18), ordered by when they were recorded, then by row; each
    // lead's latest verdict, and the report's counters per day (CounterPlan).
    R"sql(
CREATE TABLE verdicts(
  id INTEGER PRIMARY KEY AUTOINCREMENT, namespace TEXT NOT NULL, verdict_id TEXT NOT NULL,
  lead_id TEXT NOT NULL, recorded_at INTEGER NOT NULL, body BLOB NOT NULL,
  UNIQUE (namespace, verdict_id));
CREATE INDEX verdicts_time ON verdicts(namespace, recorded_at);
CREATE INDEX verdicts_lead ON verdicts(namespace, lead_id);
CREATE INDEX verdicts_age ON verdicts(recorded_at);
CREATE TABLE verdict_leads(
  namespace TEXT NOT NULL, lead_id TEXT NOT NULL, verdict INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL, PRIMARY KEY (namespace, lead_id));
CREATE INDEX verdict_leads_age ON verdict_leads(recorded_at);
CREATE TABLE verdict_counts(
  namespace TEXT NOT NULL, day INTEGER NOT NULL, dimension INTEGER NOT NULL, key TEXT NOT NULL,
  total INTEGER NOT NULL, accepted INTEGER NOT NULL,
  PRIMARY KEY (namespace, day, dimension, key));
)sql",
};
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

absl::Status SqliteError(sqlite3* db, absl::string_view what) {
  int code = sqlite3_errcode(db);
  std::string message = absl::StrCat(what, ": ", sqlite3_errmsg(db));
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_IOERR ||
      code == SQLITE_CANTOPEN || code == SQLITE_FULL) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

// A prepared statement, finalized on destruction.
class Stmt {
 public:
  Stmt(sqlite3* db, absl::string_view sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  absl::Status status() const {
    return rc_ == SQLITE_OK ? absl::OkStatus() : SqliteError(db_, "prepare");
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& Bind(int i, absl::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindBlob(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  // Ready to run again with new bindings.
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  absl::Status Run() {
    int rc = Step();
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? absl::OkStatus() : SqliteError(db_, "step");
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) {
    const void* p = sqlite3_column_blob(stmt_, col);
    return p == nullptr
               ? std::string()
               : std::string(static_cast<const char*>(p), sqlite3_column_bytes(stmt_, col));
  }
  template <typename T>
  absl::Status Parse(int col, T* out) {
    if (!out->ParseFromString(Text(col))) {
      return absl::InternalError(absl::StrCat("corrupt ", out->GetDescriptor()->name(), " row"));
    }
    return absl::OkStatus();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

absl::Status Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    absl::Status status = SqliteError(db, error != nullptr ? error : sql);
    sqlite3_free(error);
    return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<sqlite3*> OpenConnection(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::UnavailableError(absl::StrCat("cannot open ", path, ": ", message));
  }
  sqlite3_busy_timeout(db, 5000);
  absl::Status s = Exec(db,
                        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                        "PRAGMA foreign_keys=ON;");
  if (!s.ok()) {
    sqlite3_close(db);
    return s;
  }
  return db;
}

absl::Status Migrate(sqlite3* db, std::string* history_id) {
  ACCORD_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
  auto fail = [&](absl::Status s) {
    Exec(db, "ROLLBACK").IgnoreError();
    return s;
  };
  int version = 0;
  {
    Stmt q(db, "SELECT value FROM meta WHERE key = 'schema_version'");
    if (q.status().ok() && q.Step() == SQLITE_ROW) {
      version = std::stoi(q.Text(0));
    }
  }
  if (version > kSchemaVersion) {
    return fail(
        absl::FailedPreconditionError(absl::StrCat("the database has schema version ", version,
                                                   "; this binary knows up to ", kSchemaVersion)));
  }
  for (int v = version; v < kSchemaVersion; ++v) {
    if (absl::Status s = Exec(db, kMigrations[v]); !s.ok()) {
      return fail(s);
    }
  }
  if (version < kSchemaVersion) {
    Stmt set(db,
             "INSERT INTO meta(key, value) VALUES ('schema_version', ?1) "
             "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    set.Bind(1, absl::StrCat(kSchemaVersion));
    if (absl::Status s = set.Run(); !s.ok()) {
      return fail(s);
    }
  }
  {
    Stmt q(db, "SELECT value FROM meta WHERE key = 'history_id'");
    if (q.Step() == SQLITE_ROW) {
      *history_id = q.Text(0);
    }
  }
  if (history_id->empty()) {
    *history_id = RandomHex(8);
    Stmt set(db, "INSERT INTO meta(key, value) VALUES ('history_id', ?1)");
    set.Bind(1, *history_id);
    if (absl::Status s = set.Run(); !s.ok()) {
      return fail(s);
    }
  }
  return Exec(db, "COMMIT");
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteDefinitionStore>> SqliteDefinitionStore::Open(
    const std::string& path) {
  if (path.empty() || path == ":memory:") {
    return absl::InvalidArgumentError("sqlite store needs a file path");
  }
  ACCORD_ASSIGN_OR_RETURN(sqlite3 * writer, OpenConnection(path));
  std::string history_id;
  if (absl::Status s = Migrate(writer, &history_id); !s.ok()) {
    sqlite3_close(writer);
    return s;
  }
  absl::StatusOr<sqlite3*> reader = OpenConnection(path);
  if (!reader.ok()) {
    sqlite3_close(writer);
    return reader.status();
  }
  return std::unique_ptr<SqliteDefinitionStore>(
      new SqliteDefinitionStore(writer, *reader, std::move(history_id)));
}

SqliteDefinitionStore::SqliteDefinitionStore(sqlite3* writer, sqlite3* reader,
                                             std::string history_id)
    : writer_(writer), reader_(reader), history_id_(std::move(history_id)) {}

SqliteDefinitionStore::~SqliteDefinitionStore() {
  sqlite3_close(reader_);
  sqlite3_close(writer_);
}

absl::StatusOr<int64_t> SqliteDefinitionStore::Commit(WriteBatch batch) {
  std::lock_guard lock(write_mu_);
  ACCORD_RETURN_IF_ERROR(Exec(writer_, "BEGIN IMMEDIATE"));
  absl::StatusOr<int64_t> result = CommitLocked(batch);
  if (!result.ok()) {
    Exec(writer_, "ROLLBACK").IgnoreError();
    return result;
  }
  if (absl::Status s = Exec(writer_, "COMMIT"); !s.ok()) {
    Exec(writer_, "ROLLBACK").IgnoreError();
    return s;
  }
  return result;
}

absl::StatusOr<int64_t> SqliteDefinitionStore::CommitLocked(WriteBatch& batch) {
  // BEGIN IMMEDIATE holds the database's write lock: these reads see the last commit.
  std::vector<int64_t> stored;
  for (const Precondition& p : batch.preconditions) {
    Stmt q(writer_, "SELECT sequence FROM definitions WHERE name = ?1");
    q.Bind(1, p.definition);
    int rc = q.Step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return SqliteError(writer_, "read definition");
    }
    stored.push_back(rc == SQLITE_ROW ? q.Int(0) : 0);
  }
  int64_t store_sequence = 0;
  if (batch.expected_store_sequence.has_value()) {
    Stmt q(writer_, "SELECT seq FROM clock WHERE id = 1");
    if (q.Step() != SQLITE_ROW) {
      return SqliteError(writer_, "read sequence");
    }
    store_sequence = q.Int(0);
  }
  ACCORD_RETURN_IF_ERROR(CheckPreconditions(batch, stored, store_sequence));
  if (batch.request.has_value()) {
    Stmt q(writer_, "SELECT 1 FROM requests WHERE key = ?1");
    q.Bind(1, batch.request->key());
    if (q.Step() == SQLITE_ROW) {
      return ErrorWithReason(absl::StatusCode::kAlreadyExists, "REQUEST_EXISTS",
                             "the request_id was already used");
    }
  }
  int64_t seq = 0;
  {
    Stmt bump(writer_, "UPDATE clock SET seq = seq + 1 WHERE id = 1 RETURNING seq");
    if (bump.Step() != SQLITE_ROW) {
      return SqliteError(writer_, "advance sequence");
    }
    seq = bump.Int(0);
  }
  records::ChangeRecord change;
  change.set_sequence(seq);
  for (records::DefinitionState& state : batch.states) {
    AssignSequence(&state, seq);
    Stmt put(
        writer_,
        "INSERT INTO definitions(name, namespace, sequence, state) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT(name) DO UPDATE SET sequence = excluded.sequence, state = excluded.state");
    const std::string& name = state.definition().name();
    put.Bind(1, name).Bind(2, NamespaceOfResource(name)).Bind(3, seq);
    put.BindBlob(4, state.SerializeAsString());
    ACCORD_RETURN_IF_ERROR(put.Run());
    *change.add_states() = state;
  }
  for (v1::Revision& revision : batch.revisions) {
    AssignSequence(&revision, seq);
    const std::string definition = revision.name().substr(0, revision.name().rfind("/revisions/"));
    Stmt put(writer_,
             "INSERT INTO revisions(definition, number, sequence, body) VALUES (?1, ?2, ?3, ?4) "
             "ON CONFLICT(definition, number) DO UPDATE SET sequence = excluded.sequence, "
             "body = excluded.body");
    put.Bind(1, definition).Bind(2, revision.revision_number()).Bind(3, seq);
    put.BindBlob(4, revision.SerializeAsString());
    ACCORD_RETURN_IF_ERROR(put.Run());
  }
  for (v1::WatchEvent& event : batch.events) {
    AssignSequence(&event, seq);
    *change.add_events() = event;
  }
  {
    Stmt put(writer_, "INSERT INTO changes(sequence, body) VALUES (?1, ?2)");
    put.Bind(1, seq).BindBlob(2, change.SerializeAsString());
    ACCORD_RETURN_IF_ERROR(put.Run());
  }
  for (size_t i = 0; i < batch.audit.size(); ++i) {
    v1::AuditEvent& event = batch.audit[i];
    AssignSequence(&event, seq);
    Stmt put(writer_,
             "INSERT INTO audit(sequence, idx, namespace, resource, body) "
             "VALUES (?1, ?2, ?3, ?4, ?5)");
    put.Bind(1, seq).Bind(2, static_cast<int64_t>(i)).Bind(3, event.namespace_());
    put.Bind(4, event.resource()).BindBlob(5, event.SerializeAsString());
    ACCORD_RETURN_IF_ERROR(put.Run());
  }
  if (batch.request.has_value()) {
    batch.request->set_sequence(seq);
    Stmt put(writer_, "INSERT INTO requests(key, sequence, body) VALUES (?1, ?2, ?3)");
    put.Bind(1, batch.request->key()).Bind(2, seq).BindBlob(3, batch.request->SerializeAsString());
    ACCORD_RETURN_IF_ERROR(put.Run());
  }
  return seq;
}

absl::StatusOr<StoreSnapshot> SqliteDefinitionStore::LoadAll() {
  std::lock_guard lock(read_mu_);
  ACCORD_RETURN_IF_ERROR(Exec(reader_, "BEGIN"));
  StoreSnapshot snapshot;
  absl::Status status = [&]() -> absl::Status {
    Stmt clock(reader_, "SELECT seq FROM clock WHERE id = 1");
    if (clock.Step() != SQLITE_ROW) {
      return SqliteError(reader_, "read sequence");
    }
    snapshot.sequence = clock.Int(0);
    Stmt q(reader_, "SELECT state FROM definitions ORDER BY name");
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      ACCORD_RETURN_IF_ERROR(q.Parse(0, &snapshot.states.emplace_back()));
    }
    return rc == SQLITE_DONE ? absl::OkStatus() : SqliteError(reader_, "read definitions");
  }();
  Exec(reader_, "COMMIT").IgnoreError();
  if (!status.ok()) {
    return status;
  }
  return snapshot;
}

absl::StatusOr<ChangePage> SqliteDefinitionStore::ReadChanges(int64_t after, int limit) {
  std::lock_guard lock(read_mu_);
  ChangePage page;
  {
    Stmt q(reader_, "SELECT value FROM meta WHERE key = 'compacted_sequence'");
    if (q.Step() == SQLITE_ROW) {
      page.compacted_sequence = std::stoll(q.Text(0));
    }
  }
  if (after < page.compacted_sequence) {
    return ErrorWithReason(absl::StatusCode::kOutOfRange, "SEQUENCE_COMPACTED",
                           absl::StrCat("changes after ", after, " were compacted; the oldest ",
                                        "resumable sequence is ", page.compacted_sequence),
                           {{"requested_sequence", absl::StrCat(after)},
                            {"compacted_sequence", absl::StrCat(page.compacted_sequence)}});
  }
  Stmt q(reader_, "SELECT body FROM changes WHERE sequence > ?1 ORDER BY sequence LIMIT ?2");
  q.Bind(1, after).Bind(2, static_cast<int64_t>(limit));
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    ACCORD_RETURN_IF_ERROR(q.Parse(0, &page.records.emplace_back()));
  }
  if (rc != SQLITE_DONE) {
    return SqliteError(reader_, "read changes");
  }
  return page;
}

absl::StatusOr<int64_t> SqliteDefinitionStore::CurrentSequence() {
  std::lock_guard lock(read_mu_);
  Stmt q(reader_, "SELECT seq FROM clock WHERE id = 1");
  if (q.Step() != SQLITE_ROW) {
    return SqliteError(reader_, "read sequence");
  }
  return q.Int(0);
}

absl::StatusOr<v1::Revision> SqliteDefinitionStore::GetRevision(const std::string& definition,
                                                                int64_t number) {
  std::lock_guard lock(read_mu_);
  Stmt q(reader_, "SELECT body FROM revisions WHERE definition = ?1 AND number = ?2");
  q.Bind(1, definition).Bind(2, number);
  int rc = q.Step();
  if (rc == SQLITE_DONE) {
    return absl::NotFoundError(absl::StrCat(definition, "/revisions/", number, " does not exist"));
  }
  if (rc != SQLITE_ROW) {
    return SqliteError(reader_, "read revision");
  }
  v1::Revision revision;
  ACCORD_RETURN_IF_ERROR(q.Parse(0, &revision));
  return revision;
}

absl::StatusOr<std::vector<v1::Revision>> SqliteDefinitionStore::ListRevisions(
    const std::string& definition, int64_t before_number, int limit) {
  std::lock_guard lock(read_mu_);
  Stmt q(reader_,
         "SELECT body FROM revisions WHERE definition = ?1 AND (?2 = 0 OR number < ?2) "
         "ORDER BY number DESC LIMIT ?3");
  q.Bind(1, definition).Bind(2, before_number).Bind(3, static_cast<int64_t>(limit));
  std::vector<v1::Revision> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    ACCORD_RETURN_IF_ERROR(q.Parse(0, &out.emplace_back()));
  }
  if (rc != SQLITE_DONE) {
    return SqliteError(reader_, "list revisions");
  }
  return out;
}

absl::StatusOr<std::vector<v1::AuditEvent>> SqliteDefinitionStore::ListAudit(
    const std::string& namespace_id, const std::string& resource, int64_t before_sequence,
    int limit) {
  std::lock_guard lock(read_mu_);
  Stmt q(reader_,
         "SELECT body FROM audit WHERE (?1 = '' OR namespace = ?1) "
         "AND (?2 = '' OR resource = ?2 OR resource LIKE ?2 || '/revisions/%') "
         "AND (?3 = 0 OR sequence < ?3) ORDER BY sequence DESC, idx DESC LIMIT ?4");
  q.Bind(1, namespace_id).Bind(2, resource).Bind(3, before_sequence);
  q.Bind(4, static_cast<int64_t>(limit));
  std::vector<v1::AuditEvent> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    ACCORD_RETURN_IF_ERROR(q.Parse(0, &out.emplace_back()));
  }
  if (rc != SQLITE_DONE) {
    return SqliteError(reader_, "list audit");
  }
  return out;
}

absl::StatusOr<std::optional<records::RequestRecord>> SqliteDefinitionStore::FindRequest(
    const std::string& key) {
  std::lock_guard lock(read_mu_);
  Stmt q(reader_, "SELECT body FROM requests WHERE key = ?1");
  q.Bind(1, key);
  int rc = q.Step();
  if (rc == SQLITE_DONE) {
    return std::nullopt;
  }
  if (rc != SQLITE_ROW) {
    return SqliteError(reader_, "read request");
  }
  records::RequestRecord record;
  ACCORD_RETURN_IF_ERROR(q.Parse(0, &record));
  return record;
}

absl::Status SqliteDefinitionStore::CompactChanges(int64_t keep) {
  std::lock_guard lock(write_mu_);
  ACCORD_RETURN_IF_ERROR(Exec(writer_, "BEGIN IMMEDIATE"));
  absl::Status status = [&]() -> absl::Status {
    Stmt clock(writer_, "SELECT seq FROM clock WHERE id = 1");
    if (clock.Step() != SQLITE_ROW) {
      return SqliteError(writer_, "read sequence");
    }
    int64_t cutoff = clock.Int(0) - keep;
    if (cutoff <= 0) {
      return absl::OkStatus();
    }
    Stmt del(writer_, "DELETE FROM changes WHERE sequence <= ?1");
    del.Bind(1, cutoff);
    ACCORD_RETURN_IF_ERROR(del.Run());
    Stmt set(writer_,
             "INSERT INTO meta(key, value) VALUES ('compacted_sequence', ?1) "
             "ON CONFLICT(key) DO UPDATE SET value = excluded.value "
             "WHERE CAST(meta.value AS INTEGER) < CAST(excluded.value AS INTEGER)");
    set.Bind(1, absl::StrCat(cutoff));
    return set.Run();
  }();
  if (!status.ok()) {
    Exec(writer_, "ROLLBACK").IgnoreError();
    return status;
  }
  return Exec(writer_, "COMMIT");
}

namespace {

// The latest verdict of `lead`, as stored.
absl::Status ReadLatest(sqlite3* db, const CounterPlan::Lead& lead,
                        std::map<CounterPlan::Lead, CounterPlan::Latest>& out) {
  Stmt q(db,
         "SELECT l.verdict, l.recorded_at, v.body FROM verdict_leads l JOIN verdicts v "
         "ON v.id = l.verdict WHERE l.namespace = ?1 AND l.lead_id = ?2");
  ACCORD_RETURN_IF_ERROR(q.status());
  q.Bind(1, lead.first).Bind(2, lead.second);
  if (q.Step() == SQLITE_ROW) {
    CounterPlan::Latest& latest = out[lead];
    latest.row = q.Int(0);
    latest.recorded_at = q.Int(1);
    ACCORD_RETURN_IF_ERROR(q.Parse(2, &latest.verdict));
  }
  return absl::OkStatus();
}

// Writes what `plan` decided: the leads' new latest verdicts and the counters.
absl::Status ApplyPlan(sqlite3* db, const CounterPlan& plan) {
  Stmt lead(db,
            "INSERT INTO verdict_leads(namespace, lead_id, verdict, recorded_at) "
            "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(namespace, lead_id) DO UPDATE SET "
            "verdict = excluded.verdict, recorded_at = excluded.recorded_at");
  Stmt count(db,
             "INSERT INTO verdict_counts(namespace, day, dimension, key, total, accepted) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(namespace, day, dimension, key) "
             "DO UPDATE SET total = total + excluded.total, "
             "accepted = accepted + excluded.accepted");
  ACCORD_RETURN_IF_ERROR(lead.status());
  ACCORD_RETURN_IF_ERROR(count.status());
  for (const auto& [ns, lead_id, row, at] : plan.LatestChanges()) {
    lead.Reset();
    lead.Bind(1, ns).Bind(2, lead_id).Bind(3, row).Bind(4, at);
    ACCORD_RETURN_IF_ERROR(lead.Run());
  }
  for (const CounterPlan::Delta& d : plan.Deltas()) {
    count.Reset();
    count.Bind(1, d.namespace_id)
        .Bind(2, d.day)
        .Bind(3, d.dimension)
        .Bind(4, d.key)
        .Bind(5, d.total)
        .Bind(6, d.accepted);
    ACCORD_RETURN_IF_ERROR(count.Run());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<bool>> SqliteDefinitionStore::RecordVerdicts(
    const std::vector<records::StoredVerdict>& verdicts) {
  std::lock_guard lock(write_mu_);
  ACCORD_RETURN_IF_ERROR(Exec(writer_, "BEGIN IMMEDIATE"));
  absl::StatusOr<std::vector<bool>> recorded = [&]() -> absl::StatusOr<std::vector<bool>> {
    std::vector<bool> out;
    std::vector<std::pair<int64_t, const records::StoredVerdict*>> inserted;
    Stmt insert(writer_,
                "INSERT INTO verdicts(namespace, verdict_id, lead_id, recorded_at, body) "
                "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(namespace, verdict_id) DO NOTHING");
    Stmt stored(writer_, "SELECT body FROM verdicts WHERE namespace = ?1 AND verdict_id = ?2");
    ACCORD_RETURN_IF_ERROR(insert.status());
    ACCORD_RETURN_IF_ERROR(stored.status());
    for (const records::StoredVerdict& v : verdicts) {
      insert.Reset();
      insert.Bind(1, v.namespace_id())
          .Bind(2, v.verdict_id())
          .Bind(3, v.lead_id())
          .Bind(4, RecordedMicros(v))
          .BindBlob(5, v.SerializeAsString());
      ACCORD_RETURN_IF_ERROR(insert.Run());
      if (sqlite3_changes(writer_) == 1) {
        inserted.emplace_back(sqlite3_last_insert_rowid(writer_), &v);
        out.push_back(true);
        continue;
      }
      stored.Reset();
      stored.Bind(1, v.namespace_id()).Bind(2, v.verdict_id());
      if (stored.Step() != SQLITE_ROW) {
        return SqliteError(writer_, "read verdict");
      }
      records::StoredVerdict existing;
      ACCORD_RETURN_IF_ERROR(stored.Parse(0, &existing));
      ACCORD_RETURN_IF_ERROR(CheckVerdictRetry(existing, v));
      out.push_back(false);
    }
    // The counters: each lead touched, from its latest verdict before the batch.
    std::map<CounterPlan::Lead, CounterPlan::Latest> latest;
    for (const auto& [row, v] : inserted) {
      CounterPlan::Lead lead{v->namespace_id(), v->lead_id()};
      if (latest.count(lead) == 0) {
        ACCORD_RETURN_IF_ERROR(ReadLatest(writer_, lead, latest));
      }
    }
    CounterPlan plan(std::move(latest));
    for (const auto& [row, v] : inserted) {
      plan.Add(row, *v);
    }
    ACCORD_RETURN_IF_ERROR(ApplyPlan(writer_, plan));
    return out;
  }();
  if (!recorded.ok()) {
    Exec(writer_, "ROLLBACK").IgnoreError();
    return recorded;
  }
  if (absl::Status s = Exec(writer_, "COMMIT"); !s.ok()) {
    Exec(writer_, "ROLLBACK").IgnoreError();
    return s;
  }
  return recorded;
}

absl::StatusOr<std::vector<records::StoredVerdict>> SqliteDefinitionStore::ListVerdicts(
    const std::string& namespace_id, absl::Time from, absl::Time to, const VerdictQuery& query) {
  std::lock_guard lock(read_mu_);
  Stmt q(reader_,
         "SELECT body FROM verdicts WHERE namespace = ?1 AND recorded_at >= ?2 AND "
         "recorded_at < ?3 AND (?4 = '' OR lead_id = ?4) ORDER BY recorded_at, id "
         "LIMIT ?5 OFFSET ?6");
  ACCORD_RETURN_IF_ERROR(q.status());
  q.Bind(1, namespace_id).Bind(2, absl::ToUnixMicros(from)).Bind(3, absl::ToUnixMicros(to));
  q.Bind(4, query.lead_id).Bind(5, query.limit > 0 ? query.limit : int64_t{-1});
  q.Bind(6, query.offset);
  std::vector<records::StoredVerdict> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    ACCORD_RETURN_IF_ERROR(q.Parse(0, &out.emplace_back()));
  }
  if (rc != SQLITE_DONE) {
    return SqliteError(reader_, "list verdicts");
  }
  return out;
}

absl::StatusOr<int64_t> SqliteDefinitionStore::EraseLeadVerdicts(const std::string& namespace_id,
                                                                 const std::string& lead_id) {
  std::lock_guard lock(write_mu_);
  ACCORD_RETURN_IF_ERROR(Exec(writer_, "BEGIN IMMEDIATE"));
  absl::StatusOr<int64_t> erased = [&]() -> absl::StatusOr<int64_t> {
    const CounterPlan::Lead lead{namespace_id, lead_id};
    std::map<CounterPlan::Lead, CounterPlan::Latest> latest;
    ACCORD_RETURN_IF_ERROR(ReadLatest(writer_, lead, latest));
    CounterPlan plan(std::move(latest));
    plan.Remove(lead);
    ACCORD_RETURN_IF_ERROR(ApplyPlan(writer_, plan));
    Stmt forget(writer_, "DELETE FROM verdict_leads WHERE namespace = ?1 AND lead_id = ?2");
    ACCORD_RETURN_IF_ERROR(forget.status());
    forget.Bind(1, namespace_id).Bind(2, lead_id);
    ACCORD_RETURN_IF_ERROR(forget.Run());
    Stmt del(writer_, "DELETE FROM verdicts WHERE namespace = ?1 AND lead_id = ?2");
    ACCORD_RETURN_IF_ERROR(del.status());
    del.Bind(1, namespace_id).Bind(2, lead_id);
    ACCORD_RETURN_IF_ERROR(del.Run());
    return static_cast<int64_t>(sqlite3_changes(writer_));
  }();
  if (!erased.ok()) {
    Exec(writer_, "ROLLBACK").IgnoreError();
    return erased;
  }
  ACCORD_RETURN_IF_ERROR(Exec(writer_, "COMMIT"));
  return erased;
}

absl::StatusOr<int64_t> SqliteDefinitionStore::DeleteVerdictsBefore(absl::Time cutoff) {
  const int64_t day = DayOfMicros(absl::ToUnixMicros(cutoff));
  const int64_t cut = day * 86'400'000'000;
  std::lock_guard lock(write_mu_);
  ACCORD_RETURN_IF_ERROR(Exec(writer_, "BEGIN IMMEDIATE"));
  absl::StatusOr<int64_t> deleted = [&]() -> absl::StatusOr<int64_t> {
    Stmt del(writer_, "DELETE FROM verdicts WHERE recorded_at < ?1");
    ACCORD_RETURN_IF_ERROR(del.status());
    del.Bind(1, cut);
    ACCORD_RETURN_IF_ERROR(del.Run());
    const int64_t count = sqlite3_changes(writer_);
    Stmt leads(writer_, "DELETE FROM verdict_leads WHERE recorded_at < ?1");
    ACCORD_RETURN_IF_ERROR(leads.status());
    leads.Bind(1, cut);
    ACCORD_RETURN_IF_ERROR(leads.Run());
    Stmt counts(writer_, "DELETE FROM verdict_counts WHERE day < ?1");
    ACCORD_RETURN_IF_ERROR(counts.status());
    counts.Bind(1, day);
    ACCORD_RETURN_IF_ERROR(counts.Run());
    return count;
  }();
  if (!deleted.ok()) {
    Exec(writer_, "ROLLBACK").IgnoreError();
    return deleted;
  }
  ACCORD_RETURN_IF_ERROR(Exec(writer_, "COMMIT"));
  return deleted;
}

absl::StatusOr<feedback::QualityCounts> SqliteDefinitionStore::CountVerdicts(
    const std::string& namespace_id, absl::Time from, absl::Time to) {
  std::lock_guard lock(read_mu_);
  Stmt q(reader_, kCountVerdictsSql);
  ACCORD_RETURN_IF_ERROR(q.status());
  q.Bind(1, namespace_id)
      .Bind(2, DayOfMicros(absl::ToUnixMicros(from)))
      .Bind(3, DayOfMicros(absl::ToUnixMicros(to) - 1) + 1);
  feedback::QualityCounts counts;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    AddCountRow(counts, q.Int(0), q.Text(1), q.Int(2), q.Int(3));
  }
  if (rc != SQLITE_DONE) {
    return SqliteError(reader_, "count verdicts");
  }
  return counts;
}

}  // namespace accord::registry
