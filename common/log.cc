#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace accord {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::mutex g_mu;
std::string& Component() {
  static auto* component = new std::string;
  return *component;
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

std::string JsonQuote(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

LogField::LogField(absl::string_view k, absl::string_view v) : key(k), json(JsonQuote(v)) {}
LogField::LogField(absl::string_view k, int64_t v) : key(k), json(absl::StrCat(v)) {}
LogField::LogField(absl::string_view k, uint64_t v) : key(k), json(absl::StrCat(v)) {}
LogField::LogField(absl::string_view k, double v) : key(k), json(absl::StrCat(v)) {}
LogField::LogField(absl::string_view k, bool v) : key(k), json(v ? "true" : "false") {}

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }

void SetLogComponent(absl::string_view component) {
  std::lock_guard lock(g_mu);
  Component() = std::string(component);
}

void Log(LogLevel level, absl::string_view message, std::initializer_list<LogField> fields) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) {
    return;
  }
  std::string line = absl::StrCat(
      "{\"ts\":\"", absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone()),
      "\",\"level\":\"", LevelName(level), "\"");
  std::lock_guard lock(g_mu);
  if (!Component().empty()) {
    absl::StrAppend(&line, ",\"component\":", JsonQuote(Component()));
  }
  absl::StrAppend(&line, ",\"msg\":", JsonQuote(message));
  for (const LogField& f : fields) {
    absl::StrAppend(&line, ",", JsonQuote(f.key), ":", f.json);
  }
  line += "}\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace accord
