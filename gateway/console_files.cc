#include "gateway/console_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace accord::gateway {
namespace {

constexpr size_t kMaxFiles = 64;
constexpr uintmax_t kMaxFileBytes = 8 << 20;
constexpr absl::string_view kPrefix = "/console/";

std::string ContentType(absl::string_view name) {
  const std::pair<const char*, const char*> types[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".json", "application/json"},
      {".jsonl", "application/x-ndjson"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto& [ext, type] : types) {
    if (absl::EndsWith(name, ext)) {
      return type;
    }
  }
  return "application/octet-stream";
}

absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path.string()));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

absl::StatusOr<ConsoleFiles> ConsoleFiles::Load(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat("--console_dir=", dir, ": ", ec.message()));
  }
  ConsoleFiles console;
  std::map<std::string, std::string> compressed;
  for (const auto& entry : it) {
    if (!entry.is_regular_file(ec) || entry.file_size(ec) > kMaxFileBytes) {
      continue;
    }
    if (console.files_.size() + compressed.size() >= kMaxFiles) {
      return absl::InvalidArgumentError(
          absl::StrCat("--console_dir=", dir, ": more than ", kMaxFiles, " files"));
    }
    const std::string name = entry.path().filename().string();
    absl::StatusOr<std::string> bytes = ReadFile(entry.path());
    if (!bytes.ok()) {
      return bytes.status();
    }
    if (absl::EndsWith(name, ".gz")) {
      compressed[name.substr(0, name.size() - 3)] = *std::move(bytes);
    } else {
      console.files_[name] = ConsoleFile{ContentType(name), *std::move(bytes), ""};
    }
  }
  for (auto& [name, gzip] : compressed) {
    if (auto file = console.files_.find(name); file != console.files_.end()) {
      file->second.gzip = std::move(gzip);
    }
  }
  if (console.files_.count("index.html") == 0) {
    return absl::NotFoundError(absl::StrCat("--console_dir=", dir, " has no index.html"));
  }
  return console;
}

const ConsoleFile* ConsoleFiles::Find(absl::string_view path) const {
  if (!absl::StartsWith(path, kPrefix)) {
    return nullptr;
  }
  absl::string_view name = path.substr(kPrefix.size());
  if (name.empty()) {
    name = "index.html";
  }
  auto it = files_.find(name);
  return it == files_.end() ? nullptr : &it->second;
}

const std::vector<std::pair<std::string, std::string>>& ConsoleFiles::SecurityHeaders() {
  static const auto* headers = new std::vector<std::pair<std::string, std::string>>{
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
  };
  return *headers;
}

}  // namespace accord::gateway
