#pragma once

#include "grpcpp/generic/async_generic_service.h"

#include "gateway/gate.h"

// The gRPC front end: every registry and scoring method, forwarded as message bytes (never
// parsed or re-serialized), streams included, after the gate admits the call.
namespace accord::gateway {

class GrpcProxy final : public grpc::CallbackGenericService {
 public:
  explicit GrpcProxy(Gate& gate) : gate_(gate) {}
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override;

 private:
  Gate& gate_;
};

}  // namespace accord::gateway
