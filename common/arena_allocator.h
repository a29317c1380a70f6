#pragma once

#include "google/protobuf/arena.h"
#include "grpcpp/support/message_allocator.h"

// A gRPC callback-API message allocator that places each call's request and response on one
// protobuf arena, freed in one go when the call ends: far fewer mallocs for messages with
// many small parts (google.protobuf.Struct attributes, reasons). Thread-safe.
namespace accord {

template <typename Request, typename Response>
class ArenaMessageAllocator final : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override { return new Holder(); }

 private:
  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(Options()) {
      this->set_request(google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }

   private:
    static google::protobuf::ArenaOptions Options() {
      google::protobuf::ArenaOptions options;
      options.start_block_size = 16 * 1024;
      options.max_block_size = 256 * 1024;
      return options;
    }
    google::protobuf::Arena arena_;
  };
};

}  // namespace accord
