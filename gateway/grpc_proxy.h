#pragma once

#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/impl/service_type.h"

#include "gateway/gate.h"

// The gRPC front end: every registry and scoring method, forwarded as message bytes (never
// parsed or re-serialized), streams included, after the gate admits the call. Unary methods
// are registered (UnaryProxyService: the request arrives with the call, and reflection lists
// the services); streams and unknown methods go through the generic service (GrpcProxy).
namespace accord::gateway {

// Every unary method of one backend service (`service`: "accord.registry.v1.Registry").
class UnaryProxyService final : public grpc::Service {
 public:
  UnaryProxyService(Gate& gate, const std::string& service);

 private:
  size_t methods_added_ = 0;
};

class GrpcProxy final : public grpc::CallbackGenericService {
 public:
  explicit GrpcProxy(Gate& gate) : gate_(gate) {}
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override;

 private:
  Gate& gate_;
};

}  // namespace accord::gateway
