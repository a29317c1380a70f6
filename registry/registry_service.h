#pragma once

#include <memory>

#include "absl/strings/string_view.h"

#include "accord/registry/v1/registry.grpc.pb.h"
#include "common/call_auth.h"
#include "common/executor.h"
#include "registry/registry.h"
#include "registry/verdicts.h"
#include "registry/watch_hub.h"

namespace accord::registry {

struct RegistryServiceOptions {
  size_t max_watch_queue = 10000;  // messages queued per watcher before it is dropped
  Verdicts* verdicts = nullptr;    // sales' verdicts; null: their methods are UNIMPLEMENTED
};

// The gRPC adapter of the registry: authenticates and authorizes each call, runs the domain
// on the executor (reads served from memory run inline), and maps errors with ToGrpcStatus.
// GetDefinition and WatchDefinitions are registered raw: they send bytes the hub serialized
// once per change (and once for every watcher of a message).
// What GetCaller returns for `principal`: its name, roles, approver teams and permissions.
v1::Caller DescribeCaller(const Principal& principal);

class RegistryServiceImpl final
    : public v1::Registry::WithRawCallbackMethod_WatchDefinitions<
          v1::Registry::WithRawCallbackMethod_GetDefinition<v1::Registry::CallbackService>> {
 public:
  RegistryServiceImpl(Registry& registry, WatchHub& hub, Executor& executor,
                      const CallAuthorizer& authorizer, RegistryServiceOptions options = {});

  // accord::registry::v1::Registry::CallbackService
  grpc::ServerUnaryReactor* CreateDefinition(grpc::CallbackServerContext* context,
                                             const v1::CreateDefinitionRequest* request,
                                             v1::Definition* response) override;
  grpc::ServerUnaryReactor* GetDefinition(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListDefinitions(grpc::CallbackServerContext* context,
                                            const v1::ListDefinitionsRequest* request,
                                            v1::ListDefinitionsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateDefinition(grpc::CallbackServerContext* context,
                                             const v1::UpdateDefinitionRequest* request,
                                             v1::Definition* response) override;
  grpc::ServerUnaryReactor* DeleteDefinition(grpc::CallbackServerContext* context,
                                             const v1::DeleteDefinitionRequest* request,
                                             v1::Definition* response) override;
  grpc::ServerUnaryReactor* UndeleteDefinition(grpc::CallbackServerContext* context,
                                               const v1::UndeleteDefinitionRequest* request,
                                               v1::Definition* response) override;
  grpc::ServerUnaryReactor* GetRevision(grpc::CallbackServerContext* context,
                                        const v1::GetRevisionRequest* request,
                                        v1::Revision* response) override;
  grpc::ServerUnaryReactor* ListRevisions(grpc::CallbackServerContext* context,
                                          const v1::ListRevisionsRequest* request,
                                          v1::ListRevisionsResponse* response) override;
  grpc::ServerUnaryReactor* ProposeRevision(grpc::CallbackServerContext* context,
                                            const v1::ProposeRevisionRequest* request,
                                            v1::Revision* response) override;
  grpc::ServerUnaryReactor* ApproveRevision(grpc::CallbackServerContext* context,
                                            const v1::ReviewRevisionRequest* request,
                                            v1::Revision* response) override;
  grpc::ServerUnaryReactor* RejectRevision(grpc::CallbackServerContext* context,
                                           const v1::ReviewRevisionRequest* request,
                                           v1::Revision* response) override;
  grpc::ServerUnaryReactor* PublishRevision(grpc::CallbackServerContext* context,
                                            const v1::PublishRevisionRequest* request,
                                            v1::Revision* response) override;
  grpc::ServerUnaryReactor* RollbackDefinition(grpc::CallbackServerContext* context,
                                               const v1::RollbackDefinitionRequest* request,
                                               v1::Revision* response) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* WatchDefinitions(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) override;
  grpc::ServerUnaryReactor* ListAuditEvents(grpc::CallbackServerContext* context,
                                            const v1::ListAuditEventsRequest* request,
                                            v1::ListAuditEventsResponse* response) override;
  grpc::ServerUnaryReactor* GetCaller(grpc::CallbackServerContext* context,
                                      const v1::GetCallerRequest* request,
                                      v1::Caller* response) override;
  grpc::ServerUnaryReactor* DiffDefinition(grpc::CallbackServerContext* context,
                                           const v1::DiffDefinitionRequest* request,
                                           v1::DefinitionDiff* response) override;
  grpc::ServerUnaryReactor* StoreVerdicts(grpc::CallbackServerContext* context,
                                          const v1::StoreVerdictsRequest* request,
                                          v1::StoreVerdictsResponse* response) override;
  grpc::ServerUnaryReactor* ListVerdicts(grpc::CallbackServerContext* context,
                                         const v1::ListVerdictsRequest* request,
                                         v1::ListVerdictsResponse* response) override;
  grpc::ServerUnaryReactor* GetQualityReport(grpc::CallbackServerContext* context,
                                             const v1::GetQualityReportRequest* request,
                                             v1::QualityReport* response) override;
  grpc::ServerUnaryReactor* EraseLeadVerdicts(grpc::CallbackServerContext* context,
                                              const v1::EraseLeadVerdictsRequest* request,
                                              v1::EraseLeadVerdictsResponse* response) override;

 private:
  template <typename Request, typename Response, typename Fn>
  grpc::ServerUnaryReactor* Handle(grpc::CallbackServerContext* context, absl::string_view method,
                                   const Request* request, Response* response, bool inline_ok,
                                   Fn fn);
  // Handle for a verdict method: UNIMPLEMENTED when this replica keeps no verdicts.
  template <typename Request, typename Response, typename Fn>
  grpc::ServerUnaryReactor* HandleVerdicts(grpc::CallbackServerContext* context,
                                           absl::string_view method, const Request* request,
                                           Response* response, Fn fn);

  Registry& registry_;
  WatchHub& hub_;
  Executor& executor_;
  const CallAuthorizer& authorizer_;
  RegistryServiceOptions options_;
};

}  // namespace accord::registry
