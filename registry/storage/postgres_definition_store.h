#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "registry/storage/definition_store.h"
#include "registry/storage/verdict_store.h"

typedef struct pg_conn PGconn;

// The registry's store on PostgreSQL, for several registry replicas sharing one database.
// The global sequence comes from a single counter row updated first in every write
// transaction: its row lock serializes writers, so sequences become visible in commit order
// (a BIGSERIAL would not). LISTEN/NOTIFY only wakes the watch hubs, which then read the change
// table. Migrations run once, under an advisory lock, even when replicas start together.
namespace accord::registry {

struct PostgresStoreOptions {
  std::string dsn;      // libpq connection string or postgres:// URI
  int connections = 4;  // pool size
  // Refuse to start when the server acknowledges commits before they are durable
  // (synchronous_commit=off or fsync=off) unless this is set.
  bool allow_unsafe_durability = false;
};

class PostgresDefinitionStore final : public DefinitionStore, public VerdictStore {
 public:
  // UNAVAILABLE when the database cannot be reached; FAILED_PRECONDITION for unsafe durability
  // settings or a schema newer than this binary.
  static absl::StatusOr<std::unique_ptr<PostgresDefinitionStore>> Open(
      PostgresStoreOptions options);
  ~PostgresDefinitionStore() override;

  absl::StatusOr<int64_t> Commit(WriteBatch batch) override;
  absl::StatusOr<StoreSnapshot> LoadAll() override;
  absl::StatusOr<ChangePage> ReadChanges(int64_t after, int limit) override;
  absl::StatusOr<int64_t> CurrentSequence() override;
  absl::StatusOr<v1::Revision> GetRevision(const std::string& definition, int64_t number) override;
  absl::StatusOr<std::vector<v1::Revision>> ListRevisions(const std::string& definition,
                                                          int64_t before_number,
                                                          int limit) override;
  absl::StatusOr<std::vector<v1::AuditEvent>> ListAudit(const std::string& namespace_id,
                                                        const std::string& resource,
                                                        int64_t before_sequence,
                                                        int limit) override;
  absl::StatusOr<std::optional<records::RequestRecord>> FindRequest(
      const std::string& key) override;
  absl::Status CompactChanges(int64_t keep) override;
  std::string history_id() const override { return history_id_; }
  void SetChangeListener(std::function<void()> wake) override;

  absl::StatusOr<std::vector<bool>> RecordVerdicts(
      const std::vector<records::StoredVerdict>& verdicts) override;
  absl::StatusOr<std::vector<records::StoredVerdict>> ListVerdicts(
      const std::string& namespace_id, absl::Time from, absl::Time to,
      const VerdictQuery& query) override;
  absl::StatusOr<int64_t> EraseLeadVerdicts(const std::string& namespace_id,
                                            const std::string& lead_id) override;
  absl::StatusOr<int64_t> DeleteVerdictsBefore(absl::Time cutoff) override;
  absl::StatusOr<feedback::QualityCounts> CountVerdicts(const std::string& namespace_id,
                                                        absl::Time from, absl::Time to) override;

  class Connection;

 private:
  explicit PostgresDefinitionStore(PostgresStoreOptions options);

  // A pooled connection, returned on destruction.
  class Lease;
  absl::StatusOr<Lease> Acquire();
  void Release(std::unique_ptr<Connection> connection);
  void Listen();

  PostgresStoreOptions options_;
  std::string history_id_;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::function<void()> wake_;
  std::thread listener_;
  std::atomic<bool> stopping_{false};
};

}  // namespace accord::registry
