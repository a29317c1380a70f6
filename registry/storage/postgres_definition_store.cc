#include "registry/storage/postgres_definition_store.h"

#include <endian.h>
#include <poll.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include <libpq-fe.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/status.h"

namespace accord::registry {
namespace {

// Schema migrations, applied in order; the index + 1 is the schema version.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE clock(id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL);
INSERT INTO clock(id, seq) VALUES (1, 0);
CREATE TABLE definitions(
  name TEXT PRIMARY KEY, namespace TEXT NOT NULL, sequence BIGINT NOT NULL, state BYTEA NOT NULL);
CREATE TABLE revisions(
  definition TEXT NOT NULL, number BIGINT NOT NULL, sequence BIGINT NOT NULL,
  body BYTEA NOT NULL, PRIMARY KEY (definition, number));
CREATE TABLE changes(sequence BIGINT PRIMARY KEY, body BYTEA NOT NULL);
CREATE TABLE audit(
  sequence BIGINT NOT NULL, idx BIGINT NOT NULL, namespace TEXT NOT NULL,
  resource TEXT NOT NULL, body BYTEA NOT NULL, PRIMARY KEY (sequence, idx));
CREATE INDEX audit_resource ON audit(resource, sequence);
CREATE TABLE requests(key TEXT PRIMARY KEY, sequence BIGINT NOT NULL, body BYTEA NOT NULL);
)sql",
    // 2: sales' verdicts (issue 18), ordered by when they were recorded, then by row; each
    // lead's latest verdict, and the report's counters per day (CounterPlan).
    R"sql(
CREATE TABLE verdicts(
  id BIGSERIAL PRIMARY KEY, namespace TEXT NOT NULL, verdict_id TEXT NOT NULL,
  lead_id TEXT NOT NULL, recorded_at BIGINT NOT NULL, body BYTEA NOT NULL,
  UNIQUE (namespace, verdict_id));
CREATE INDEX verdicts_time ON verdicts(namespace, recorded_at);
CREATE INDEX verdicts_lead ON verdicts(namespace, lead_id);
CREATE INDEX verdicts_age ON verdicts(recorded_at);
CREATE TABLE verdict_leads(
  namespace TEXT NOT NULL, lead_id TEXT NOT NULL, verdict BIGINT NOT NULL,
  recorded_at BIGINT NOT NULL, PRIMARY KEY (namespace, lead_id));
CREATE INDEX verdict_leads_age ON verdict_leads(recorded_at);
CREATE TABLE verdict_counts(
  namespace TEXT NOT NULL, day BIGINT NOT NULL, dimension BIGINT NOT NULL, key TEXT NOT NULL,
  total BIGINT NOT NULL, accepted BIGINT NOT NULL,
  PRIMARY KEY (namespace, day, dimension, key));
)sql",
};
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);
// pg_advisory_lock key of the migration step ("accord" in ASCII).
constexpr int64_t kMigrationLock = 0x6163636f7264;
constexpr const char* kChannel = "accord_changes";
// pg_advisory_xact_lock key every verdict write takes ("verdict" in ASCII): a lead's counts
// move from its latest verdict to the next in one writer at a time.
constexpr int64_t kVerdictLock = 0x76657264696374;

struct Param {
  std::string value;
  bool binary = false;
};
Param Int(int64_t v) { return {absl::StrCat(v), false}; }
Param Text(std::string v) { return {std::move(v), false}; }
Param Bytes(std::string v) { return {std::move(v), true}; }

bool Retryable(absl::string_view state) {
  return absl::StartsWith(state, "08") || state == "57P01" || state == "57P02" ||
         state == "57P03" || state == "40001" || state == "40P01" || state == "53300";
}

// A query result in binary format; freed on destruction.
class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  Result(Result&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
  Result& operator=(Result&& o) noexcept {
    std::swap(r_, o.r_);
    return *this;
  }
  ~Result() { PQclear(r_); }
  PGresult* get() const { return r_; }
  int rows() const { return PQntuples(r_); }
  int64_t Int(int row, int col) const {
    uint64_t be = 0;
    std::memcpy(&be, PQgetvalue(r_, row, col), sizeof(be));
    return static_cast<int64_t>(be64toh(be));
  }
  std::string Bytes(int row, int col) const {
    return std::string(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
  }
  template <typename T>
  absl::Status Parse(int row, int col, T* out) const {
    if (!out->ParseFromString(Bytes(row, col))) {
      return absl::InternalError(absl::StrCat("corrupt ", out->GetDescriptor()->name(), " row"));
    }
    return absl::OkStatus();
  }

 private:
  PGresult* r_;
};

}  // namespace

class PostgresDefinitionStore::Connection {
 public:
  static absl::StatusOr<std::unique_ptr<Connection>> Connect(const std::string& dsn) {
    PGconn* conn = PQconnectdb(dsn.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string message = PQerrorMessage(conn);
      PQfinish(conn);
      return absl::UnavailableError(absl::StrCat("cannot connect to PostgreSQL: ", message));
    }
    return std::unique_ptr<Connection>(new Connection(conn));
  }
  ~Connection() { PQfinish(conn_); }

  PGconn* raw() { return conn_; }

  // Runs `sql` with `params` ($1, $2, ...), results in binary format. UNAVAILABLE for
  // connection loss and retryable states (serialization, shutdown); INTERNAL otherwise.
  absl::StatusOr<Result> Exec(absl::string_view sql, const std::vector<Param>& params = {}) {
    ACCORD_RETURN_IF_ERROR(EnsureConnected());
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    Flatten(params, values, lengths, formats);
    std::string query(sql);
    Result result(PQexecParams(conn_, query.c_str(), static_cast<int>(params.size()), nullptr,
                               values.data(), lengths.data(), formats.data(), 1));
    return Check(std::move(result));
  }

  // Sends `statements` in one round trip (libpq pipeline mode) and returns their results in
  // order; the first failure is returned (later statements did not run).
  absl::StatusOr<std::vector<Result>> Pipeline(
      const std::vector<std::pair<std::string, std::vector<Param>>>& statements) {
    ACCORD_RETURN_IF_ERROR(EnsureConnected());
    if (PQenterPipelineMode(conn_) != 1) {
      return absl::UnavailableError(absl::StrCat("PostgreSQL: ", PQerrorMessage(conn_)));
    }
    bool sent = true;
    for (const auto& [sql, params] : statements) {
      std::vector<const char*> values;
      std::vector<int> lengths;
      std::vector<int> formats;
      Flatten(params, values, lengths, formats);
      if (PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                            values.data(), lengths.data(), formats.data(), 1) != 1) {
        sent = false;
        break;
      }
    }
    if (!sent || PQpipelineSync(conn_) != 1) {
      // The connection is unusable in this state: drop it, the next use reconnects.
      std::string message = PQerrorMessage(conn_);
      PQreset(conn_);
      return absl::UnavailableError(absl::StrCat("PostgreSQL: ", message));
    }
    std::vector<Result> results;
    absl::Status first_error;
    for (size_t i = 0; i < statements.size(); ++i) {
      Result result(PQgetResult(conn_));
      while (PGresult* extra = PQgetResult(conn_)) {  // the NULL that ends this statement
        PQclear(extra);
      }
      absl::StatusOr<Result> checked = Check(std::move(result));
      if (!checked.ok()) {
        if (first_error.ok()) {
          first_error = checked.status();
        }
        continue;
      }
      results.push_back(*std::move(checked));
    }
    Result sync(PQgetResult(conn_));  // PGRES_PIPELINE_SYNC
    if (sync.get() == nullptr || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC ||
        PQexitPipelineMode(conn_) != 1) {
      std::string message = PQerrorMessage(conn_);
      PQreset(conn_);
      return absl::UnavailableError(absl::StrCat("PostgreSQL pipeline: ", message));
    }
    if (!first_error.ok()) {
      return first_error;
    }
    return results;
  }

 private:
  absl::Status EnsureConnected() {
    if (PQstatus(conn_) != CONNECTION_OK) {
      // Reconnect with capped exponential back-off: while the database is away, calls fail at
      // once with UNAVAILABLE instead of each waiting on a connection attempt.
      absl::Time now = absl::Now();
      if (now < next_attempt_) {
        return absl::UnavailableError("PostgreSQL is unreachable; retrying with back-off");
      }
      PQreset(conn_);
      if (PQstatus(conn_) != CONNECTION_OK) {
        backoff_ = std::min(std::max(backoff_ * 2, absl::Milliseconds(100)), absl::Seconds(5));
        next_attempt_ = now + backoff_;
        return absl::UnavailableError(
            absl::StrCat("PostgreSQL connection lost: ", PQerrorMessage(conn_)));
      }
      backoff_ = absl::ZeroDuration();
    }
    return absl::OkStatus();
  }

  static void Flatten(const std::vector<Param>& params, std::vector<const char*>& values,
                      std::vector<int>& lengths, std::vector<int>& formats) {
    for (const Param& p : params) {
      values.push_back(p.value.data());
      lengths.push_back(static_cast<int>(p.value.size()));
      formats.push_back(p.binary ? 1 : 0);
    }
  }

  // OK results pass; errors become UNAVAILABLE (connection loss, retryable states) or
  // INTERNAL.
  absl::StatusOr<Result> Check(Result result) {
    PGresult* raw = result.get();
    ExecStatusType status = raw == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(raw);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      return result;
    }
    const char* state = raw == nullptr ? nullptr : PQresultErrorField(raw, PG_DIAG_SQLSTATE);
    std::string message = raw == nullptr ? PQerrorMessage(conn_) : PQresultErrorMessage(raw);
    if (status == PGRES_PIPELINE_ABORTED) {
      return absl::InternalError("PostgreSQL: statement skipped after an earlier failure");
    }
    if (PQstatus(conn_) != CONNECTION_OK || state == nullptr || Retryable(state)) {
      return absl::UnavailableError(absl::StrCat("PostgreSQL: ", message));
    }
    return absl::InternalError(absl::StrCat("PostgreSQL: ", message));
  }

 public:
  absl::Status Run(absl::string_view sql, const std::vector<Param>& params = {}) {
    return Exec(sql, params).status();
  }

  // Several statements without parameters (migrations), with the simple query protocol.
  absl::Status RunScript(const char* sql) {
    Result result(PQexec(conn_, sql));
    if (result.get() != nullptr && PQresultStatus(result.get()) == PGRES_COMMAND_OK) {
      return absl::OkStatus();
    }
    std::string message =
        result.get() == nullptr ? PQerrorMessage(conn_) : PQresultErrorMessage(result.get());
    return PQstatus(conn_) != CONNECTION_OK
               ? absl::UnavailableError(absl::StrCat("PostgreSQL: ", message))
               : absl::InternalError(absl::StrCat("PostgreSQL migration: ", message));
  }

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}

  PGconn* conn_;
  absl::Duration backoff_ = absl::ZeroDuration();
  absl::Time next_attempt_ = absl::InfinitePast();
};

class PostgresDefinitionStore::Lease {
 public:
  Lease(PostgresDefinitionStore* store, std::unique_ptr<Connection> c)
      : store_(store), c_(std::move(c)) {}
  Lease(Lease&& o) noexcept : store_(o.store_), c_(std::move(o.c_)) {}
  ~Lease() {
    if (c_ != nullptr) {
      store_->Release(std::move(c_));
    }
  }
  Connection* operator->() { return c_.get(); }

 private:
  PostgresDefinitionStore* store_;
  std::unique_ptr<Connection> c_;
};

absl::StatusOr<PostgresDefinitionStore::Lease> PostgresDefinitionStore::Acquire() {
  std::unique_lock lock(pool_mu_);
  if (!pool_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return !idle_.empty(); })) {
    return absl::UnavailableError("no free PostgreSQL connection within 10 s");
  }
  std::unique_ptr<Connection> c = std::move(idle_.back());
  idle_.pop_back();
  return Lease(this, std::move(c));
}

void PostgresDefinitionStore::Release(std::unique_ptr<Connection> connection) {
  {
    std::lock_guard lock(pool_mu_);
    idle_.push_back(std::move(connection));
  }
  pool_cv_.notify_one();
}

absl::StatusOr<std::unique_ptr<PostgresDefinitionStore>> PostgresDefinitionStore::Open(
    PostgresStoreOptions options) {
  if (options.connections < 1) {
    return absl::InvalidArgumentError("the PostgreSQL pool needs at least one connection");
  }
  std::unique_ptr<PostgresDefinitionStore> store(new PostgresDefinitionStore(options));
  for (int i = 0; i < options.connections; ++i) {
    ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, Connection::Connect(options.dsn));
    store->idle_.push_back(std::move(c));
  }
  Connection& c = *store->idle_.front();
  ACCORD_ASSIGN_OR_RETURN(
      Result settings,
      c.Exec("SELECT current_setting('synchronous_commit'), current_setting('fsync')"));
  std::string sync_commit = settings.Bytes(0, 0);
  std::string fsync = settings.Bytes(0, 1);
  if ((sync_commit == "off" || fsync == "off") && !options.allow_unsafe_durability) {
    return absl::FailedPreconditionError(absl::StrCat(
        "PostgreSQL acknowledges commits before they are durable (synchronous_commit=", sync_commit,
        ", fsync=", fsync,
        "): acknowledged writes could be lost; fix the server or pass "
        "--allow_unsafe_durability"));
  }
  // Migrations: once, under an advisory lock, whatever the number of replicas starting.
  ACCORD_RETURN_IF_ERROR(c.Run("SELECT pg_advisory_lock($1)", {Int(kMigrationLock)}));
  absl::Status migrated = [&]() -> absl::Status {
    ACCORD_RETURN_IF_ERROR(
        c.Run("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)"));
    ACCORD_ASSIGN_OR_RETURN(Result v,
                            c.Exec("SELECT value FROM meta WHERE key = 'schema_version'"));
    int version = v.rows() == 0 ? 0 : std::stoi(v.Bytes(0, 0));
    if (version > kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat("the database has schema version ", version,
                                                        "; this binary knows up to ",
                                                        kSchemaVersion));
    }
    for (int next = version; next < kSchemaVersion; ++next) {
      ACCORD_RETURN_IF_ERROR(c.Run("BEGIN"));
      absl::Status s = c.RunScript(kMigrations[next]);
      if (s.ok()) {
        s = c.Run(
            "INSERT INTO meta(key, value) VALUES ('schema_version', $1) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            {Text(absl::StrCat(next + 1))});
      }
      if (s.ok()) {
        s = c.Run("COMMIT");
      }
      if (!s.ok()) {
        c.Run("ROLLBACK").IgnoreError();
        return s;
      }
      Log(LogLevel::kInfo, "applied migration", {{"schema_version", next + 1}});
    }
    ACCORD_RETURN_IF_ERROR(
        c.Run("INSERT INTO meta(key, value) VALUES ('history_id', $1) ON CONFLICT(key) DO NOTHING",
              {Text(RandomHex(8))}));
    ACCORD_ASSIGN_OR_RETURN(Result h, c.Exec("SELECT value FROM meta WHERE key = 'history_id'"));
    store->history_id_ = h.Bytes(0, 0);
    return absl::OkStatus();
  }();
  c.Run("SELECT pg_advisory_unlock($1)", {Int(kMigrationLock)}).IgnoreError();
  ACCORD_RETURN_IF_ERROR(migrated);
  return store;
}

PostgresDefinitionStore::PostgresDefinitionStore(PostgresStoreOptions options)
    : options_(std::move(options)) {}

PostgresDefinitionStore::~PostgresDefinitionStore() {
  stopping_ = true;
  if (listener_.joinable()) {
    listener_.join();
  }
}

void PostgresDefinitionStore::SetChangeListener(std::function<void()> wake) {
  stopping_ = true;
  if (listener_.joinable()) {
    listener_.join();
  }
  stopping_ = false;
  wake_ = std::move(wake);
  if (wake_) {
    listener_ = std::thread([this] { Listen(); });
  }
}

void PostgresDefinitionStore::Listen() {
  absl::Duration backoff = absl::Milliseconds(200);
  while (!stopping_) {
    absl::StatusOr<std::unique_ptr<Connection>> c = Connection::Connect(options_.dsn);
    if (!c.ok() || !(*c)->Run(absl::StrCat("LISTEN ", kChannel)).ok()) {
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(5));
      continue;
    }
    backoff = absl::Milliseconds(200);
    wake_();  // notifications may have been missed while disconnected
    PGconn* conn = (*c)->raw();
    while (!stopping_ && PQstatus(conn) == CONNECTION_OK) {
      pollfd fd{PQsocket(conn), POLLIN, 0};
      if (::poll(&fd, 1, 250) > 0 && PQconsumeInput(conn) == 0) {
        break;
      }
      bool notified = false;
      while (PGnotify* n = PQnotifies(conn)) {
        PQfreemem(n);
        notified = true;
      }
      if (notified) {
        wake_();
      }
    }
  }
}

absl::StatusOr<int64_t> PostgresDefinitionStore::Commit(WriteBatch batch) {
  using Statements = std::vector<std::pair<std::string, std::vector<Param>>>;
  ACCORD_ASSIGN_OR_RETURN(Lease c, Acquire());
  auto fail = [&](absl::Status s) {
    c->Run("ROLLBACK").IgnoreError();
    return s;
  };
  // Three round trips (libpq pipelines). First the counter row: its lock orders every writer,
  // so each one's preconditions are read after the previous commit and sequences become
  // visible in commit order.
  absl::StatusOr<std::vector<Result>> bump = c->Pipeline(
      {{"BEGIN", {}}, {"UPDATE clock SET seq = seq + 1 WHERE id = 1 RETURNING seq", {}}});
  if (!bump.ok()) {
    return fail(bump.status());
  }
  int64_t seq = (*bump)[1].Int(0, 0);
  // Then the preconditions, read under that lock.
  Statements checks;
  for (const Precondition& p : batch.preconditions) {
    checks.push_back({"SELECT sequence FROM definitions WHERE name = $1", {Text(p.definition)}});
  }
  if (batch.request.has_value()) {
    checks.push_back({"SELECT 1 FROM requests WHERE key = $1", {Text(batch.request->key())}});
  }
  std::vector<int64_t> stored;
  bool request_exists = false;
  if (!checks.empty()) {
    absl::StatusOr<std::vector<Result>> read = c->Pipeline(checks);
    if (!read.ok()) {
      return fail(read.status());
    }
    for (size_t i = 0; i < batch.preconditions.size(); ++i) {
      stored.push_back((*read)[i].rows() == 0 ? 0 : (*read)[i].Int(0, 0));
    }
    request_exists = batch.request.has_value() && read->back().rows() > 0;
  }
  // The counter row was just advanced from the last commit's sequence.
  if (absl::Status s = CheckPreconditions(batch, stored, seq - 1); !s.ok()) {
    return fail(s);
  }
  if (request_exists) {
    return fail(ErrorWithReason(absl::StatusCode::kAlreadyExists, "REQUEST_EXISTS",
                                "the request_id was already used"));
  }
  // Finally every write, the wake-up hint (delivered at commit) and the commit.
  Statements writes;
  records::ChangeRecord change;
  change.set_sequence(seq);
  for (records::DefinitionState& state : batch.states) {
    AssignSequence(&state, seq);
    const std::string& name = state.definition().name();
    writes.push_back(
        {"INSERT INTO definitions(name, namespace, sequence, state) VALUES ($1, $2, $3, $4) "
         "ON CONFLICT(name) DO UPDATE SET sequence = excluded.sequence, state = excluded.state",
         {Text(name), Text(NamespaceOfResource(name)), Int(seq),
          Bytes(state.SerializeAsString())}});
    *change.add_states() = state;
  }
  for (v1::Revision& revision : batch.revisions) {
    AssignSequence(&revision, seq);
    std::string definition = revision.name().substr(0, revision.name().rfind("/revisions/"));
    writes.push_back(
        {"INSERT INTO revisions(definition, number, sequence, body) VALUES ($1, $2, $3, $4) "
         "ON CONFLICT(definition, number) DO UPDATE SET sequence = excluded.sequence, "
         "body = excluded.body",
         {Text(definition), Int(revision.revision_number()), Int(seq),
          Bytes(revision.SerializeAsString())}});
  }
  for (v1::WatchEvent& event : batch.events) {
    AssignSequence(&event, seq);
    *change.add_events() = event;
  }
  writes.push_back({"INSERT INTO changes(sequence, body) VALUES ($1, $2)",
                    {Int(seq), Bytes(change.SerializeAsString())}});
  for (size_t i = 0; i < batch.audit.size(); ++i) {
    v1::AuditEvent& event = batch.audit[i];
    AssignSequence(&event, seq);
    writes.push_back(
        {"INSERT INTO audit(sequence, idx, namespace, resource, body) "
         "VALUES ($1, $2, $3, $4, $5)",
         {Int(seq), Int(static_cast<int64_t>(i)), Text(event.namespace_()), Text(event.resource()),
          Bytes(event.SerializeAsString())}});
  }
  if (batch.request.has_value()) {
    batch.request->set_sequence(seq);
    writes.push_back(
        {"INSERT INTO requests(key, sequence, body) VALUES ($1, $2, $3)",
         {Text(batch.request->key()), Int(seq), Bytes(batch.request->SerializeAsString())}});
  }
  writes.push_back({"SELECT pg_notify($1, $2)", {Text(kChannel), Text(absl::StrCat(seq))}});
  writes.push_back({"COMMIT", {}});
  if (absl::StatusOr<std::vector<Result>> done = c->Pipeline(writes); !done.ok()) {
    // If the connection dropped during COMMIT the outcome is unknown: UNAVAILABLE, and a retry
    // with the same request_id is answered from the request record if it did commit.
    return fail(done.status());
  }
  return seq;
}

absl::StatusOr<StoreSnapshot> PostgresDefinitionStore::LoadAll() {
  ACCORD_ASSIGN_OR_RETURN(Lease c, Acquire());
  ACCORD_RETURN_IF_ERROR(c->Run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  absl::StatusOr<StoreSnapshot> out = [&]() -> absl::StatusOr<StoreSnapshot> {
    StoreSnapshot snapshot;
    ACCORD_ASSIGN_OR_RETURN(Result clock, c->Exec("SELECT seq FROM clock WHERE id = 1"));
    snapshot.sequence = clock.Int(0, 0);
    ACCORD_ASSIGN_OR_RETURN(Result rows, c->Exec("SELECT state FROM definitions ORDER BY name"));
    for (int i = 0; i < rows.rows(); ++i) {
      ACCORD_RETURN_IF_ERROR(rows.Parse(i, 0, &snapshot.states.emplace_back()));
    }
    return snapshot;
  }();
  c->Run("COMMIT").IgnoreError();
  return out;
}

absl::StatusOr<ChangePage> PostgresDefinitionStore::ReadChanges(int64_t after, int limit) {
  ACCORD_ASSIGN_OR_RETURN(Lease c, Acquire());
  ChangePage page;
  ACCORD_ASSIGN_OR_RETURN(
      Result compacted, c->Exec("SELECT value::bigint FROM meta WHERE key = 'compacted_sequence'"));
  if (compacted.rows() > 0) {
    page.compacted_sequence = compacted.Int(0, 0);
  }
  if (after < page.compacted_sequence) {
    return ErrorWithReason(absl::StatusCode::kOutOfRange, "SEQUENCE_COMPACTED",
                           absl::StrCat("changes after ", after, " were compacted; the oldest ",
                                        "resumable sequence is ", page.compacted_sequence),
                           {{"requested_sequence", absl::StrCat(after)},
                            {"compacted_sequence", absl::StrCat(page.compacted_sequence)}});
  }
  ACCORD_ASSIGN_OR_RETURN(
      Result rows,
      c->Exec("SELECT body FROM changes WHERE sequence > $1 ORDER BY sequence LIMIT $2",
              {Int(after), Int(limit)}));
  for (int i = 0; i < rows.rows(); ++i) {
    ACCORD_RETURN_IF_ERROR(rows.Parse(i, 0, &page.records.emplace_back()));
  }
  return page;
}

absl::StatusOr<int64_t> PostgresDefinitionStore::CurrentSequence() {
  ACCORD_ASSIGN_OR_RETURN(Lease c, Acquire());
  ACCORD_ASSIGN_OR_RETURN(Result clock, c->Exec("SELECT seq FROM clock WHERE id = 1"));
  return clock.Int(0, 0);
}

absl::StatusOr<v1::Revision> PostgresDefinitionStore::GetRevision(const std::string& definition,
                                                                  int64_t number) {
  ACCORD_ASSIGN_OR_RETURN(Lease c, Acquire());
  ACCORD_ASSIGN_OR_RETURN(
      Result rows, c->Exec("SELECT body FROM revisions WHERE definition = $1 AND number = $2",
                           {Text(definition), Int(number)}));
  if (rows.rows() == 0) {
    return absl::NotFoundError(absl::StrCat(definition, "/revisions/", number, " does not exist"));
  }
  v1::Revision revision;
  ACCORD_RETURN_IF_ERROR(rows.Parse(0, 0, &revision));
  return revision;
}

absl::StatusOr<std::vector<v1::Revision>> PostgresDefinitionStore::ListRevisions(
    const std::string& definition, int64_t before_number, int limit) {
  ACCORD_ASSIGN_OR_RETURN(Lease c, Acquire());
  ACCORD_ASSIGN_OR_RETURN(
      Result rows,
      c->Exec("SELECT body FROM revisions WHERE definition = $1 AND ($2 = 0 OR number < $2) "
              "ORDER BY number DESC LIMIT $3",
              {Text(definition), Int(before_number), Int(limit)}));
  std::vector<v1::Revision> out;
  for (int i = 0; i < rows.rows(); ++i) {
    ACCORD_RETURN_IF_ERROR(rows.Parse(i, 0, &out.emplace_back()));
  }
  return out;
}

absl::StatusOr<std::vector<v1::AuditEvent>> PostgresDefinitionStore::ListAudit(
    const std::string& namespace_id, const std::string& resource, int64_t before_sequence,
    int limit) {
  ACCORD_ASSIGN_OR_RETURN(Lease c, Acquire());
  ACCORD_ASSIGN_OR_RETURN(
      Result rows,
      c->Exec("SELECT body FROM audit WHERE ($1 = '' OR namespace = $1) "
              "AND ($2 = '' OR resource = $2 OR resource LIKE $2 || '/revisions/%') "
              "AND ($3 = 0 OR sequence < $3) ORDER BY sequence DESC, idx DESC LIMIT $4",
              {Text(namespace_id), Text(resource), Int(before_sequence), Int(limit)}));
  std::vector<v1::AuditEvent> out;
  for (int i = 0; i < rows.rows(); ++i) {
    ACCORD_RETURN_IF_ERROR(rows.Parse(i, 0, &out.emplace_back()));
  }
  return out;
}

absl::StatusOr<std::optional<records::RequestRecord>> PostgresDefinitionStore::FindRequest(
    const std::string& key) {
  ACCORD_ASSIGN_OR_RETURN(Lease c, Acquire());
  ACCORD_ASSIGN_OR_RETURN(Result rows,
                          c->Exec("SELECT body FROM requests WHERE key = $1", {Text(key)}));
  if (rows.rows() == 0) {
    return std::nullopt;
  }
  records::RequestRecord record;
  ACCORD_RETURN_IF_ERROR(rows.Parse(0, 0, &record));
  return record;
}

absl::Status PostgresDefinitionStore::CompactChanges(int64_t keep) {
  ACCORD_ASSIGN_OR_RETURN(Lease c, Acquire());
  ACCORD_RETURN_IF_ERROR(c->Run("BEGIN"));
  absl::Status s = [&]() -> absl::Status {
    ACCORD_ASSIGN_OR_RETURN(Result clock, c->Exec("SELECT seq FROM clock WHERE id = 1"));
    int64_t cutoff = clock.Int(0, 0) - keep;
    if (cutoff <= 0) {
      return absl::OkStatus();
    }
    ACCORD_RETURN_IF_ERROR(c->Run("DELETE FROM changes WHERE sequence <= $1", {Int(cutoff)}));
    return c->Run(
        "INSERT INTO meta(key, value) VALUES ('compacted_sequence', $1) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value "
        "WHERE meta.value::bigint < excluded.value::bigint",
        {Text(absl::StrCat(cutoff))});
  }();
  if (!s.ok()) {
    c->Run("ROLLBACK").IgnoreError();
    return s;
  }
  return c->Run("COMMIT");
}

namespace {

using Statements = std::vector<std::pair<std::string, std::vector<Param>>>;

Statements::value_type ReadLatestStatement(const CounterPlan::Lead& lead) {
  return {
      "SELECT l.verdict, l.recorded_at, v.body FROM verdict_leads l JOIN verdicts v "
      "ON v.id = l.verdict WHERE l.namespace = $1 AND l.lead_id = $2",
      {Text(lead.first), Text(lead.second)}};
}

// The statements that write what `plan` decided: one multi-row upsert for the leads and one for
// the counters (each key once, as an upsert that names a row twice must not), in chunks that
// keep within PostgreSQL's 65,535 parameters.
void AppendPlan(const CounterPlan& plan, Statements& out) {
  constexpr size_t kRowsPerStatement = 1000;
  const auto changes = plan.LatestChanges();
  for (size_t first = 0; first < changes.size(); first += kRowsPerStatement) {
    std::string sql = "INSERT INTO verdict_leads(namespace, lead_id, verdict, recorded_at) VALUES ";
    std::vector<Param> params;
    for (size_t i = first; i < std::min(changes.size(), first + kRowsPerStatement); ++i) {
      const auto& [ns, lead_id, row, at] = changes[i];
      const size_t n = params.size();
      absl::StrAppend(&sql, i > first ? ", " : "", "($", n + 1, ", $", n + 2, ", $", n + 3, ", $",
                      n + 4, ")");
      params.insert(params.end(), {Text(ns), Text(lead_id), Int(row), Int(at)});
    }
    sql +=
        " ON CONFLICT (namespace, lead_id) DO UPDATE SET verdict = excluded.verdict, "
        "recorded_at = excluded.recorded_at";
    out.push_back({std::move(sql), std::move(params)});
  }
  const std::vector<CounterPlan::Delta> deltas = plan.Deltas();
  for (size_t first = 0; first < deltas.size(); first += kRowsPerStatement) {
    std::string sql =
        "INSERT INTO verdict_counts(namespace, day, dimension, key, total, accepted) VALUES ";
    std::vector<Param> params;
    for (size_t i = first; i < std::min(deltas.size(), first + kRowsPerStatement); ++i) {
      const CounterPlan::Delta& d = deltas[i];
      const size_t n = params.size();
      absl::StrAppend(&sql, i > first ? ", " : "", "($", n + 1, ", $", n + 2, ", $", n + 3, ", $",
                      n + 4, ", $", n + 5, ", $", n + 6, ")");
      params.insert(params.end(), {Text(d.namespace_id), Int(d.day), Int(d.dimension), Text(d.key),
                                   Int(d.total), Int(d.accepted)});
    }
    sql +=
        " ON CONFLICT (namespace, day, dimension, key) DO UPDATE SET "
        "total = verdict_counts.total + excluded.total, "
        "accepted = verdict_counts.accepted + excluded.accepted";
    out.push_back({std::move(sql), std::move(params)});
  }
}

}  // namespace

absl::StatusOr<std::vector<bool>> PostgresDefinitionStore::RecordVerdicts(
    const std::vector<records::StoredVerdict>& verdicts) {
  ACCORD_ASSIGN_OR_RETURN(Lease c, Acquire());
  auto fail = [&](absl::Status s) {
    c->Run("ROLLBACK").IgnoreError();
    return s;
  };
  // Three round trips: the inserts (under the verdicts' lock), the reads they call for (ids
  // stored already, the latest verdict of each lead), then the counters and the commit. No
  // counter row of the definitions: verdicts never wait on reviews.
  Statements inserts = {{"BEGIN", {}}, {"SELECT pg_advisory_xact_lock($1)", {Int(kVerdictLock)}}};
  for (const records::StoredVerdict& v : verdicts) {
    inserts.push_back(
        {"INSERT INTO verdicts(namespace, verdict_id, lead_id, recorded_at, body) "
         "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (namespace, verdict_id) DO NOTHING "
         "RETURNING id",
         {Text(v.namespace_id()), Text(v.verdict_id()), Text(v.lead_id()), Int(RecordedMicros(v)),
          Bytes(v.SerializeAsString())}});
  }
  absl::StatusOr<std::vector<Result>> inserted = c->Pipeline(inserts);
  if (!inserted.ok()) {
    return fail(inserted.status());
  }
  std::vector<bool> recorded;
  std::vector<size_t> retried;
  std::vector<std::pair<int64_t, const records::StoredVerdict*>> added;
  std::vector<CounterPlan::Lead> leads;
  Statements reads;
  for (size_t i = 0; i < verdicts.size(); ++i) {
    const Result& r = (*inserted)[i + 2];
    recorded.push_back(r.rows() == 1);
    if (recorded.back()) {
      added.emplace_back(r.Int(0, 0), &verdicts[i]);
      CounterPlan::Lead lead{verdicts[i].namespace_id(), verdicts[i].lead_id()};
      if (std::find(leads.begin(), leads.end(), lead) == leads.end()) {
        leads.push_back(std::move(lead));
      }
    } else {
      retried.push_back(i);
    }
  }
  for (size_t i : retried) {
    reads.push_back({"SELECT body FROM verdicts WHERE namespace = $1 AND verdict_id = $2",
                     {Text(verdicts[i].namespace_id()), Text(verdicts[i].verdict_id())}});
  }
  for (const CounterPlan::Lead& lead : leads) {
    reads.push_back(ReadLatestStatement(lead));
  }
  std::map<CounterPlan::Lead, CounterPlan::Latest> latest;
  if (!reads.empty()) {
    absl::StatusOr<std::vector<Result>> read = c->Pipeline(reads);
    if (!read.ok()) {
      return fail(read.status());
    }
    for (size_t k = 0; k < retried.size(); ++k) {
      records::StoredVerdict existing;
      if (absl::Status s = (*read)[k].Parse(0, 0, &existing); !s.ok()) {
        return fail(s);
      }
      if (absl::Status s = CheckVerdictRetry(existing, verdicts[retried[k]]); !s.ok()) {
        return fail(s);
      }
    }
    for (size_t k = 0; k < leads.size(); ++k) {
      const Result& r = (*read)[retried.size() + k];
      if (r.rows() == 1) {
        CounterPlan::Latest& l = latest[leads[k]];
        l.row = r.Int(0, 0);
        l.recorded_at = r.Int(0, 1);
        if (absl::Status s = r.Parse(0, 2, &l.verdict); !s.ok()) {
          return fail(s);
        }
      }
    }
  }
  CounterPlan plan(std::move(latest));
  for (const auto& [row, v] : added) {
    plan.Add(row, *v);
  }
  Statements writes;
  AppendPlan(plan, writes);
  writes.push_back({"COMMIT", {}});
  if (absl::StatusOr<std::vector<Result>> done = c->Pipeline(writes); !done.ok()) {
    return fail(done.status());
  }
  return recorded;
}

absl::StatusOr<std::vector<records::StoredVerdict>> PostgresDefinitionStore::ListVerdicts(
    const std::string& namespace_id, absl::Time from, absl::Time to, const VerdictQuery& query) {
  ACCORD_ASSIGN_OR_RETURN(Lease c, Acquire());
  ACCORD_ASSIGN_OR_RETURN(
      Result rows,
      c->Exec("SELECT body FROM verdicts WHERE namespace = $1 AND recorded_at >= $2 AND "
              "recorded_at < $3 AND ($4 = '' OR lead_id = $4) ORDER BY recorded_at, id "
              "LIMIT NULLIF($5::bigint, 0) OFFSET $6",
              {Text(namespace_id), Int(absl::ToUnixMicros(from)), Int(absl::ToUnixMicros(to)),
               Text(query.lead_id), Int(query.limit), Int(query.offset)}));
  std::vector<records::StoredVerdict> out(rows.rows());
  for (int i = 0; i < rows.rows(); ++i) {
    ACCORD_RETURN_IF_ERROR(rows.Parse(i, 0, &out[i]));
  }
  return out;
}

absl::StatusOr<int64_t> PostgresDefinitionStore::EraseLeadVerdicts(const std::string& namespace_id,
                                                                   const std::string& lead_id) {
  ACCORD_ASSIGN_OR_RETURN(Lease c, Acquire());
  auto fail = [&](absl::Status s) {
    c->Run("ROLLBACK").IgnoreError();
    return s;
  };
  const CounterPlan::Lead lead{namespace_id, lead_id};
  absl::StatusOr<std::vector<Result>> read =
      c->Pipeline({{"BEGIN", {}},
                   {"SELECT pg_advisory_xact_lock($1)", {Int(kVerdictLock)}},
                   ReadLatestStatement(lead)});
  if (!read.ok()) {
    return fail(read.status());
  }
  std::map<CounterPlan::Lead, CounterPlan::Latest> latest;
  if (const Result& r = (*read)[2]; r.rows() == 1) {
    CounterPlan::Latest& l = latest[lead];
    l.row = r.Int(0, 0);
    l.recorded_at = r.Int(0, 1);
    if (absl::Status s = r.Parse(0, 2, &l.verdict); !s.ok()) {
      return fail(s);
    }
  }
  CounterPlan plan(std::move(latest));
  plan.Remove(lead);
  Statements writes;
  AppendPlan(plan, writes);
  writes.push_back({"DELETE FROM verdict_leads WHERE namespace = $1 AND lead_id = $2",
                    {Text(namespace_id), Text(lead_id)}});
  writes.push_back(
      {"WITH erased AS (DELETE FROM verdicts WHERE namespace = $1 AND "
       "lead_id = $2 RETURNING 1) SELECT count(*) FROM erased",
       {Text(namespace_id), Text(lead_id)}});
  writes.push_back({"COMMIT", {}});
  absl::StatusOr<std::vector<Result>> done = c->Pipeline(writes);
  if (!done.ok()) {
    return fail(done.status());
  }
  return (*done)[done->size() - 2].Int(0, 0);
}

absl::StatusOr<int64_t> PostgresDefinitionStore::DeleteVerdictsBefore(absl::Time cutoff) {
  const int64_t day = DayOfMicros(absl::ToUnixMicros(cutoff));
  const int64_t cut = day * 86'400'000'000;
  ACCORD_ASSIGN_OR_RETURN(Lease c, Acquire());
  absl::StatusOr<std::vector<Result>> done =
      c->Pipeline({{"BEGIN", {}},
                   {"SELECT pg_advisory_xact_lock($1)", {Int(kVerdictLock)}},
                   {"WITH old AS (DELETE FROM verdicts WHERE recorded_at < $1 RETURNING 1) "
                    "SELECT count(*) FROM old",
                    {Int(cut)}},
                   {"DELETE FROM verdict_leads WHERE recorded_at < $1", {Int(cut)}},
                   {"DELETE FROM verdict_counts WHERE day < $1", {Int(day)}},
                   {"COMMIT", {}}});
  if (!done.ok()) {
    c->Run("ROLLBACK").IgnoreError();
    return done.status();
  }
  return (*done)[2].Int(0, 0);
}

absl::StatusOr<feedback::QualityCounts> PostgresDefinitionStore::CountVerdicts(
    const std::string& namespace_id, absl::Time from, absl::Time to) {
  ACCORD_ASSIGN_OR_RETURN(Lease c, Acquire());
  ACCORD_ASSIGN_OR_RETURN(
      Result rows,
      c->Exec(kCountVerdictsSql, {Text(namespace_id), Int(DayOfMicros(absl::ToUnixMicros(from))),
                                  Int(DayOfMicros(absl::ToUnixMicros(to) - 1) + 1)}));
  feedback::QualityCounts counts;
  for (int i = 0; i < rows.rows(); ++i) {
    AddCountRow(counts, rows.Int(i, 0), rows.Bytes(i, 1), rows.Int(i, 2), rows.Int(i, 3));
  }
  return counts;
}

}  // namespace accord::registry
