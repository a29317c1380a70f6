#pragma once

#include "absl/strings/string_view.h"

namespace accord {

// Whether `text` is structurally valid UTF-8 (no overlong forms, surrogates or code points
// above U+10FFFF), as protobuf requires of string fields.
bool IsValidUtf8(absl::string_view text);

}  // namespace accord
