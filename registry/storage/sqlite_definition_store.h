#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "registry/storage/definition_store.h"
#include "registry/storage/verdict_store.h"

struct sqlite3;

namespace accord::registry {

// DefinitionStore on one SQLite file: WAL, synchronous=FULL, versioned schema migrations run
// at open, and the global sequence in a single counter row updated inside each write
// transaction. One write connection and one read connection, each behind a mutex. Sales'
// verdicts are in a table of their own (VerdictStore), written without the counter row.
class SqliteDefinitionStore final : public DefinitionStore, public VerdictStore {
 public:
  // Opens (creating if needed) the database at `path`; ":memory:" is not supported since two
  // connections share the file. UNAVAILABLE when it cannot be opened, FAILED_PRECONDITION
  // when its schema is newer than this binary.
  static absl::StatusOr<std::unique_ptr<SqliteDefinitionStore>> Open(const std::string& path);
  ~SqliteDefinitionStore() override;

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

 private:
  SqliteDefinitionStore(sqlite3* writer, sqlite3* reader, std::string history_id);
  absl::StatusOr<int64_t> CommitLocked(WriteBatch& batch);

  std::mutex write_mu_;
  sqlite3* writer_;
  std::mutex read_mu_;
  sqlite3* reader_;
  std::string history_id_;
};

}  // namespace accord::registry
