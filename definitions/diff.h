#pragma once

#include <string>
#include <vector>

#include "accord/registry/v1/definition.pb.h"
#include "accord/registry/v1/registry.pb.h"

// The semantic diff of two versions of a definition, in the business terms both teams read:
// items are matched by their ids (rules, groups, levels, stages, commitments, ...), never by
// position, and each change is tagged with its effect on qualification where that is
// decidable. Pure functions, no store: `Registry::DiffDefinition` serves them, `accordctl diff`
// and the review console print them. docs/registry.md lists the effect of every field.
namespace accord::definitions {

namespace v1 = ::accord::registry::v1;

// The changes that turn `before` into `after`, in document order. Either may be null (a side
// that does not exist): everything in the other side is then ADDED (or REMOVED). Output-only
// fields (state, revisions, times, etag) are ignored.
std::vector<v1::DefinitionChange> DiffDefinitions(const v1::Definition* before,
                                                  const v1::Definition* after);

// A condition in words: "company.employees >= 500 and contact.title matches \"(?i)cto\"".
std::string DescribeCondition(const v1::Condition& condition);

}  // namespace accord::definitions
