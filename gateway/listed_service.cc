#include "gateway/listed_service.h"

#include "grpcpp/impl/codegen/server_callback_handlers.h"
#include "grpcpp/impl/rpc_service_method.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/server_callback.h"

namespace accord::gateway {

ListedService::ListedService(const Catalog& catalog, const std::string& service) {
  int added = 0;
  for (const MethodInfo& m : catalog.methods()) {
    if (!m.unary() || m.descriptor->service()->full_name() != service) {
      continue;
    }
    AddMethod(new grpc::internal::RpcServiceMethod(m.path.c_str(),
                                                   grpc::internal::RpcMethod::NORMAL_RPC, nullptr));
    MarkMethodRawCallback(
        added++,
        new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
            [](grpc::CallbackServerContext* context, const grpc::ByteBuffer*, grpc::ByteBuffer*) {
              grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
              reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                           "served by the gateway's front end"));
              return reactor;
            }));
  }
}

}  // namespace accord::gateway
