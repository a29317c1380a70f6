#include "scoring/registry_watcher.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/counter.h"

#include "common/log.h"
#include "common/status.h"
#include "scoring/cache_file.h"

namespace accord::scoring {

RegistryWatcher::RegistryWatcher(Scorer& scorer, RegistryWatcherOptions options)
    : scorer_(scorer), options_(std::move(options)) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  stub_ = rv1::Registry::NewStub(grpc::CreateCustomChannel(
      options_.registry,
      options_.credentials != nullptr ? options_.credentials : grpc::InsecureChannelCredentials(),
      args));
}

RegistryWatcher::~RegistryWatcher() { Stop(); }

absl::StatusOr<rv1::Revision> RegistryWatcher::FetchRevision(const std::string& definition,
                                                             int64_t number) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  if (!options_.token.empty()) {
    context.AddMetadata("authorization", "Bearer " + options_.token);
  }
  rv1::GetRevisionRequest request;
  request.set_name(absl::StrCat(definition, "/revisions/", number));
  rv1::Revision revision;
  grpc::Status status = stub_->GetRevision(&context, request, &revision);
  if (!status.ok()) {
    return FromGrpcStatus(status);
  }
  return revision;
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> RegistryWatcher::PendingModels(
    const std::string& namespace_id) {
  std::vector<std::pair<std::string, int64_t>> out;
  rv1::ListDefinitionsRequest request;
  request.set_parent(absl::StrCat("namespaces/", namespace_id));
  request.set_page_size(1000);
  for (;;) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    if (!options_.token.empty()) {
      context.AddMetadata("authorization", "Bearer " + options_.token);
    }
    rv1::ListDefinitionsResponse page;
    grpc::Status status = stub_->ListDefinitions(&context, request, &page);
    if (!status.ok()) {
      return FromGrpcStatus(status);
    }
    for (const rv1::Definition& d : page.definitions()) {
      if (d.kind() == rv1::QUALIFICATION_MODEL && d.state() == rv1::Definition::ACTIVE &&
          d.pending_revision() > 0) {
        out.emplace_back(d.name(), d.pending_revision());
      }
    }
    if (page.next_page_token().empty()) {
      return out;
    }
    request.set_page_token(page.next_page_token());
  }
}

void RegistryWatcher::StoreVerdicts(
    const rv1::StoreVerdictsRequest& request, absl::Time deadline,
    std::function<void(absl::StatusOr<rv1::StoreVerdictsResponse>)> done) {
  struct Call {
    grpc::ClientContext context;
    rv1::StoreVerdictsRequest request;
    rv1::StoreVerdictsResponse response;
    std::function<void(absl::StatusOr<rv1::StoreVerdictsResponse>)> done;
  };
  auto* call = new Call;
  call->request = request;
  call->done = std::move(done);
  call->context.set_deadline(
      absl::ToChronoTime(std::min(deadline, absl::Now() + absl::Seconds(10))));
  if (!options_.token.empty()) {
    call->context.AddMetadata("authorization", "Bearer " + options_.token);
  }
  stub_->async()->StoreVerdicts(&call->context, &call->request, &call->response,
                                [call](grpc::Status status) {
                                  if (status.ok()) {
                                    call->done(std::move(call->response));
                                  } else {
                                    call->done(FromGrpcStatus(status));
                                  }
                                  delete call;
                                });
}

void RegistryWatcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

void RegistryWatcher::Stop() {
  stopping_ = true;
  {
    std::lock_guard lock(context_mu_);
    if (context_ != nullptr) {
      context_->TryCancel();
    }
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

absl::Time RegistryWatcher::last_contact() const {
  int64_t ns = last_contact_ns_.load();
  return ns == 0 ? absl::InfinitePast() : absl::FromUnixNanos(ns);
}

void RegistryWatcher::Run() {
  std::mt19937_64 rng(std::random_device{}());
  absl::Duration backoff = options_.initial_backoff;
  while (!stopping_) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + options_.token);
    {
      std::lock_guard lock(context_mu_);
      context_ = &context;
    }
    rv1::WatchDefinitionsRequest request;
    request.set_parent("namespaces/-");
    std::shared_ptr<const Snapshot> current = scorer_.Current();
    if (current != nullptr) {
      request.set_start_after_sequence(current->sequence);
      request.set_history_id(current->history_id);
    }
    request.set_progress_interval_seconds(5);
    auto reader = stub_->WatchDefinitions(&context, request);
    rv1::WatchDefinitionsResponse message;
    bool received = false;
    while (!stopping_ && reader->Read(&message)) {
      received = true;
      last_contact_ns_ = absl::ToUnixNanos(absl::Now());
      const bool changes = message.has_changes() || message.has_snapshot_end();
      std::vector<std::string> rejected = scorer_.Apply({message});
      if (options_.rejected_counter != nullptr && !rejected.empty()) {
        options_.rejected_counter->Increment(static_cast<double>(rejected.size()));
      }
      if (changes && !options_.cache_path.empty() && scorer_.ready()) {
        if (absl::Status s = WriteCacheFile(options_.cache_path, scorer_.ToCache()); !s.ok()) {
          Log(LogLevel::kWarning, "cannot persist the definition cache", {{"error", s.ToString()}});
        }
      }
    }
    grpc::Status status = reader->Finish();
    {
      std::lock_guard lock(context_mu_);
      context_ = nullptr;
    }
    if (stopping_) {
      break;
    }
    if (received) {
      backoff = options_.initial_backoff;
    }
    Log(LogLevel::kWarning, "registry watch ended; reconnecting",
        {{"code", static_cast<int>(status.error_code())},
         {"error", status.error_message()},
         {"backoff_ms", absl::ToInt64Milliseconds(backoff)}});
    // Full jitter: sleep a random time up to the back-off, in small steps so Stop is prompt.
    std::uniform_int_distribution<int64_t> jitter(absl::ToInt64Milliseconds(backoff) / 2,
                                                  absl::ToInt64Milliseconds(backoff));
    absl::Time wake = absl::Now() + absl::Milliseconds(jitter(rng));
    while (!stopping_ && absl::Now() < wake) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace accord::scoring
