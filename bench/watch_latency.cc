// Publish-to-watch latency: N watchers on C channels; for each of E changes, the time from
// just before the write (Accord: PublishRevision; etcd: Put) until the LAST watcher has the
// event. Prints one JSON line with p50/p99/max over the E changes. Modes:
//   --mode=accord --target=REGISTRY  (tokens from ACCORD_TOKEN_{MARKETING_EDITOR,
//                                     MARKETING_APPROVER,SALES_APPROVER,SERVICE})
//   --mode=etcd   --target=ETCD
// --client=typed (the default) parses Accord's messages whole, as a consumer applying them
// does; --client=lean reads only the event's identity and keeps the definition as bytes, as
// the etcd client keeps a value, so that the two servers' fan-out is compared with the same
// client work.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/proto_buffer_reader.h"

#include "accord/bench/v1/watch_lean.pb.h"
#include "accord/registry/v1/registry.grpc.pb.h"
#include "third_party/etcd/etcd_min.grpc.pb.h"

namespace {

namespace v1 = accord::registry::v1;
using Clock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// Per change: when it was written and the latest arrival at any watcher.
class Recorder {
 public:
  Recorder(int events, int watchers)
      : t0_(events), last_(events), arrived_(events), watchers_(watchers) {}
  void Start(int e) { t0_[e].store(NowNs()); }
  void Arrived(int64_t e) {
    if (e < 0 || e >= static_cast<int64_t>(t0_.size())) {
      return;
    }
    int64_t now = NowNs();
    int64_t prev = last_[e].load();
    while (now > prev && !last_[e].compare_exchange_weak(prev, now)) {
    }
    arrived_[e].fetch_add(1);
  }
  bool WaitAll(int e, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (arrived_[e].load() < watchers_) {
      if (Clock::now() > deadline) {
        return false;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
  }
  double LatencyMs(int e) const { return (last_[e].load() - t0_[e].load()) / 1e6; }

 private:
  std::vector<std::atomic<int64_t>> t0_, last_;
  std::vector<std::atomic<int>> arrived_;
  int watchers_;
};

class AccordWatcher final : public grpc::ClientReadReactor<v1::WatchDefinitionsResponse> {
 public:
  AccordWatcher(v1::Registry::Stub* stub, const std::string& token, const std::string& name,
                Recorder& recorder, std::atomic<int64_t>& base, std::atomic<int>& ready)
      : name_(name), recorder_(recorder), base_(base), ready_(ready) {
    context_.AddMetadata("authorization", "Bearer " + token);
    request_.set_parent("namespaces/-");
    request_.set_start_after_sequence(0);
    stub->async()->WatchDefinitions(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      return;
    }
    if (response_.has_snapshot_end()) {
      ready_.fetch_add(1);
    }
    if (response_.has_changes() && !response_.has_snapshot_begin()) {
      for (const auto& e : response_.changes().events()) {
        if (e.definition() == name_ && e.type() == v1::WatchEvent::UPSERT) {
          recorder_.Arrived(e.revision().revision_number() - base_.load());
        }
      }
    }
    StartRead(&response_);
  }
  void OnDone(const grpc::Status& /*status*/) override {}
  void Cancel() { context_.TryCancel(); }

 private:
  grpc::ClientContext context_;
  v1::WatchDefinitionsRequest request_;
  v1::WatchDefinitionsResponse response_;
  std::string name_;
  Recorder& recorder_;
  std::atomic<int64_t>& base_;
  std::atomic<int>& ready_;
};

// The same watch read lean (--client=lean): raw messages parsed as LeanWatchResponse.
class LeanWatcher final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  LeanWatcher(grpc::GenericStub* stub, const std::string& token, const std::string& name,
              Recorder& recorder, std::atomic<int64_t>& base, std::atomic<int>& ready)
      : name_(name), recorder_(recorder), base_(base), ready_(ready) {
    context_.AddMetadata("authorization", "Bearer " + token);
    v1::WatchDefinitionsRequest request;
    request.set_parent("namespaces/-");
    grpc::Slice slice(request.SerializeAsString());
    request_ = grpc::ByteBuffer(&slice, 1);
    stub->PrepareBidiStreamingCall(&context_, "/accord.registry.v1.Registry/WatchDefinitions",
                                   grpc::StubOptions(), this);
    StartWriteLast(&request_, grpc::WriteOptions());
    StartRead(&buffer_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      return;
    }
    accord::bench::v1::LeanWatchResponse response;
    grpc::ProtoBufferReader reader(&buffer_);
    if (response.ParseFromZeroCopyStream(&reader)) {
      if (response.has_changes()) {
        for (const auto& e : response.changes().events()) {
          if (e.definition() == name_ && e.type() == v1::WatchEvent::UPSERT) {
            recorder_.Arrived(e.revision().revision_number() - base_.load());
          }
        }
      }
      if (response.has_snapshot_end()) {
        ready_.fetch_add(1);
      }
    }
    StartRead(&buffer_);
  }
  void OnWriteDone(bool /*ok*/) override {}
  void OnDone(const grpc::Status& /*status*/) override {}
  void Cancel() { context_.TryCancel(); }

 private:
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer buffer_;
  std::string name_;
  Recorder& recorder_;
  std::atomic<int64_t>& base_;
  std::atomic<int>& ready_;
};

class EtcdWatcher final
    : public grpc::ClientBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse> {
 public:
  EtcdWatcher(etcdserverpb::Watch::Stub* stub, const std::string& key, Recorder& recorder,
              std::atomic<int>& ready)
      : recorder_(recorder), ready_(ready) {
    request_.mutable_create_request()->set_key(key);
    stub->async()->Watch(&context_, this);
    StartWrite(&request_);
    StartRead(&response_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      return;
    }
    if (response_.created()) {
      ready_.fetch_add(1);
    }
    for (const auto& e : response_.events()) {
      int64_t index = -1;
      if (e.kv().value().size() >= 8) {
        std::memcpy(&index, e.kv().value().data(), 8);
      }
      recorder_.Arrived(index);
    }
    StartRead(&response_);
  }
  void OnWriteDone(bool /*ok*/) override {}
  void OnDone(const grpc::Status& /*status*/) override {}
  void Cancel() { context_.TryCancel(); }

 private:
  grpc::ClientContext context_;
  etcdserverpb::WatchRequest request_;
  etcdserverpb::WatchResponse response_;
  Recorder& recorder_;
  std::atomic<int>& ready_;
};

bool Check(const grpc::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %d %s\n", what, s.error_code(), s.error_message().c_str());
  }
  return s.ok();
}

template <typename Fn>
grpc::Status CallWith(const std::string& token, Fn fn) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return fn(&ctx);
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "accord", target, name = "namespaces/default/definitions/bench-watch";
  int watchers = 100, channels = 10, events = 40, interval_ms = 50;
  CLI::App app{"publish-to-watch latency"};
  std::string client = "typed";
  app.add_option("--mode", mode)->check(CLI::IsMember({"accord", "etcd"}));
  app.add_option("--client", client)->check(CLI::IsMember({"typed", "lean"}));
  app.add_option("--target", target)->required();
  app.add_option("--watchers", watchers);
  app.add_option("--channels", channels);
  app.add_option("--events", events);
  app.add_option("--interval_ms", interval_ms);
  app.add_option("--definition", name);
  CLI11_PARSE(app, argc, argv);

  std::vector<std::shared_ptr<grpc::Channel>> chans;
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("accord.channel_index", i);  // distinct channels, distinct connections
    chans.push_back(grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
  }
  Recorder recorder(events, watchers);
  std::atomic<int> ready{0};
  std::atomic<int64_t> base{1LL << 60};
  int missed = 0;

  if (mode == "accord") {
    const std::string editor = Env("ACCORD_TOKEN_MARKETING_EDITOR");
    const std::string mapprover = Env("ACCORD_TOKEN_MARKETING_APPROVER");
    const std::string sapprover = Env("ACCORD_TOKEN_SALES_APPROVER");
    const std::string service = Env("ACCORD_TOKEN_SERVICE");
    auto stub = v1::Registry::NewStub(chans[0]);
    std::vector<std::unique_ptr<v1::Registry::Stub>> stubs;
    for (auto& c : chans) {
      stubs.push_back(v1::Registry::NewStub(c));
    }
    std::vector<std::unique_ptr<grpc::GenericStub>> generic;
    for (auto& c : chans) {
      generic.push_back(std::make_unique<grpc::GenericStub>(c));
    }
    std::vector<std::unique_ptr<AccordWatcher>> ws;
    std::vector<std::unique_ptr<LeanWatcher>> lean;
    for (int i = 0; i < watchers; ++i) {
      if (client == "lean") {
        lean.push_back(std::make_unique<LeanWatcher>(generic[i % channels].get(), service, name,
                                                     recorder, base, ready));
      } else {
        ws.push_back(std::make_unique<AccordWatcher>(stubs[i % channels].get(), service, name,
                                                     recorder, base, ready));
      }
    }
    while (ready.load() < watchers) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    v1::Definition current;
    v1::GetDefinitionRequest get;
    get.set_name(name);
    if (!Check(CallWith(editor, [&](auto* c) { return stub->GetDefinition(c, get, &current); }),
               "GetDefinition (create bench-watch first)")) {
      return 1;
    }
    for (int e = 0; e < events; ++e) {
      v1::UpdateDefinitionRequest update;
      *update.mutable_definition() = current;
      update.mutable_definition()->set_description("bench change " + std::to_string(NowNs()));
      update.mutable_definition()->clear_etag();
      v1::Definition updated;
      v1::ProposeRevisionRequest propose;
      propose.set_name(name);
      v1::Revision revision;
      if (!Check(CallWith(editor,
                          [&](auto* c) { return stub->UpdateDefinition(c, update, &updated); }),
                 "update") ||
          !Check(CallWith(editor,
                          [&](auto* c) { return stub->ProposeRevision(c, propose, &revision); }),
                 "propose")) {
        return 1;
      }
      current = updated;
      v1::ReviewRevisionRequest review;
      review.set_name(revision.name());
      v1::Revision reviewed;
      if (!Check(CallWith(mapprover,
                          [&](auto* c) { return stub->ApproveRevision(c, review, &reviewed); }),
                 "approve") ||
          !Check(CallWith(sapprover,
                          [&](auto* c) { return stub->ApproveRevision(c, review, &reviewed); }),
                 "approve")) {
        return 1;
      }
      if (e == 0) {
        base.store(revision.revision_number());
      }
      v1::PublishRevisionRequest publish;
      publish.set_name(revision.name());
      v1::Revision published;
      recorder.Start(e);
      if (!Check(CallWith(editor,
                          [&](auto* c) { return stub->PublishRevision(c, publish, &published); }),
                 "publish")) {
        return 1;
      }
      if (!recorder.WaitAll(e, std::chrono::seconds(5))) {
        ++missed;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    }
    for (auto& w : ws) {
      w->Cancel();
    }
    for (auto& w : lean) {
      w->Cancel();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } else {
    std::vector<std::unique_ptr<etcdserverpb::Watch::Stub>> stubs;
    for (auto& c : chans) {
      stubs.push_back(etcdserverpb::Watch::NewStub(c));
    }
    const std::string key = "/accord/bench-watch";
    std::vector<std::unique_ptr<EtcdWatcher>> ws;
    for (int i = 0; i < watchers; ++i) {
      ws.push_back(std::make_unique<EtcdWatcher>(stubs[i % channels].get(), key, recorder, ready));
    }
    while (ready.load() < watchers) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto kv = etcdserverpb::KV::NewStub(chans[0]);
    for (int e = 0; e < events; ++e) {
      etcdserverpb::PutRequest put;
      put.set_key(key);
      std::string value(2048, 'x');
      int64_t index = e;
      std::memcpy(value.data(), &index, 8);
      put.set_value(value);
      etcdserverpb::PutResponse response;
      grpc::ClientContext ctx;
      recorder.Start(e);
      if (!Check(kv->Put(&ctx, put, &response), "put")) {
        return 1;
      }
      if (!recorder.WaitAll(e, std::chrono::seconds(5))) {
        ++missed;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    }
    for (auto& w : ws) {
      w->Cancel();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::vector<double> lat;
  for (int e = 0; e < events; ++e) {
    lat.push_back(recorder.LatencyMs(e));
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    return lat[std::min(lat.size() - 1, static_cast<size_t>(p * lat.size()))];
  };
  std::printf(
      "{\"mode\":\"%s\",\"client\":\"%s\",\"watchers\":%d,\"channels\":%d,\"events\":%d,"
      "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"missed\":%d}\n",
      mode.c_str(), client.c_str(), watchers, channels, events, pct(0.5), pct(0.99), lat.back(),
      missed);
  std::fflush(stdout);
  std::_Exit(missed == 0 ? 0 : 3);
}
