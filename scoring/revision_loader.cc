#include "scoring/revision_loader.h"

#include <chrono>

#include "absl/strings/str_cat.h"

#include "common/status.h"

namespace accord::scoring {

namespace {

absl::Status Loading(const std::string& definition, int64_t number) {
  return ErrorWithReason(absl::StatusCode::kUnavailable, "REVISION_LOADING",
                         absl::StrCat(definition, " revision ", number,
                                      " is being read from the registry; retry shortly"));
}

}  // namespace

RevisionLoader::RevisionLoader(Fetcher fetcher, const Clock& clock, RevisionLoaderOptions options)
    : fetcher_(std::move(fetcher)),
      clock_(clock),
      options_(options),
      entries_(options.capacity),
      executor_(static_cast<size_t>(options.max_fetches),
                static_cast<size_t>(options.max_fetches)) {}

RevisionLoader::~RevisionLoader() = default;

int64_t RevisionLoader::fetches() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

absl::StatusOr<std::shared_ptr<const rv1::Revision>> RevisionLoader::Get(
    const std::string& definition, int64_t number) {
  const Key key(definition, number);
  std::unique_lock lock(mu_);
  Entry* entry = entries_.Find(key);
  if (entry != nullptr && !entry->loading && entry->revision == nullptr &&
      clock_.Now() >= entry->expires) {
    entries_.Erase(key);  // a remembered failure has expired: read again
    entry = nullptr;
  }
  if (entry != nullptr) {
    if (entry->revision != nullptr) {
      return entry->revision;
    }
    if (!entry->loading) {
      return entry->failure;
    }
    return Loading(definition, number);
  }
  if (loading_ >= options_.max_fetches) {
    return ErrorWithReason(absl::StatusCode::kResourceExhausted, "REVISION_READS_BUSY",
                           absl::StrCat("scoring is reading ", loading_,
                                        " other revisions from the registry; retry shortly"));
  }
  Entry loading;
  loading.loading = true;
  entries_.Put(key, std::move(loading));
  ++loading_;
  ++fetches_;
  if (!executor_.TrySubmit([this, key] { Fetch(key); })) {
    --loading_;
    entries_.Erase(key);
    return ErrorWithReason(absl::StatusCode::kResourceExhausted, "REVISION_READS_BUSY",
                           "scoring cannot read revisions now; retry shortly");
  }
  // The caller that started the read waits a little: a healthy registry answers in time.
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::microseconds(absl::ToInt64Microseconds(options_.first_wait));
  done_.wait_until(lock, until, [&] {
    Entry* e = entries_.Find(key);
    return e == nullptr || !e->loading;
  });
  entry = entries_.Find(key);
  if (entry != nullptr && entry->revision != nullptr) {
    return entry->revision;
  }
  if (entry != nullptr && !entry->loading) {
    return entry->failure;
  }
  return Loading(definition, number);
}

void RevisionLoader::Fetch(Key key) {
  absl::StatusOr<rv1::Revision> read = fetcher_(key.first, key.second);
  std::lock_guard lock(mu_);
  --loading_;
  Entry done;
  if (read.ok()) {
    done.revision = std::make_shared<const rv1::Revision>(*std::move(read));
  } else {
    done.failure = read.status();
    done.expires =
        clock_.Now() + (read.status().code() == absl::StatusCode::kNotFound ? options_.not_found_ttl
                                                                            : options_.failure_ttl);
  }
  entries_.Put(key, std::move(done));
  done_.notify_all();
}

}  // namespace accord::scoring
