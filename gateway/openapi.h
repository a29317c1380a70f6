#pragma once

#include <string>

#include "gateway/http_rules.h"

// GET /openapi.json: an OpenAPI 3.0 document of every HTTP route, generated from the
// descriptors (paths, operations, parameters, request and response schemas).
namespace accord::gateway {

std::string OpenApiJson(const Router& router);

// "/v1/{name=namespaces/*/definitions/*}:propose" ->
// "/v1/namespaces/{namespace}/definitions/{definition}:propose", with the parameters in order.
std::string OpenApiPath(const std::string& pattern, std::vector<std::string>* parameters);

}  // namespace accord::gateway
