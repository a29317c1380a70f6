#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"

// JSON-lines logging to stderr: one object per line with "ts", "level", "msg" and the given
// fields. Thread-safe. Request payloads are never logged.
namespace accord {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// A key and its value already encoded as JSON.
struct LogField {
  LogField(absl::string_view k, absl::string_view v);
  LogField(absl::string_view k, const char* v) : LogField(k, absl::string_view(v)) {}
  LogField(absl::string_view k, const std::string& v) : LogField(k, absl::string_view(v)) {}
  LogField(absl::string_view k, int64_t v);
  LogField(absl::string_view k, int v) : LogField(k, static_cast<int64_t>(v)) {}
  LogField(absl::string_view k, uint64_t v);
  LogField(absl::string_view k, double v);
  LogField(absl::string_view k, bool v);
  std::string key;
  std::string json;
};

void Log(LogLevel level, absl::string_view message, std::initializer_list<LogField> fields = {});
// Messages below `level` are dropped (default kInfo).
void SetLogLevel(LogLevel level);
// The component name added to every line ("registry", "scoring", ...).
void SetLogComponent(absl::string_view component);

// `text` as a JSON string literal, quotes included.
std::string JsonQuote(absl::string_view text);

}  // namespace accord
