#include "scoring/cache_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

#include "common/hash.h"

namespace accord::scoring {
namespace {

constexpr char kMagic[] = "ACCORDC1";    // 8 bytes
constexpr size_t kHeader = 8 + 16 + 64;  // magic, hex length, hex SHA-256

absl::Status Errno(const std::string& what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

absl::Status WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Errno("write");
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteCacheFile(const std::string& path, const storage::v1::DefinitionCache& cache) {
  std::string payload = cache.SerializeAsString();
  char length[17];
  std::snprintf(length, sizeof(length), "%016zx", payload.size());
  std::string data = absl::StrCat(kMagic, length, Sha256Hex(payload), payload);
  std::filesystem::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) {
    std::filesystem::create_directories(target.parent_path(), ec);
  }
  const std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Errno("open " + temp);
  }
  absl::Status status = WriteAll(fd, data);
  if (status.ok() && ::fsync(fd) != 0) {
    status = Errno("fsync " + temp);
  }
  ::close(fd);
  if (!status.ok()) {
    return status;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return Errno("rename " + temp);
  }
  std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

absl::StatusOr<storage::v1::DefinitionCache> ReadCacheFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("no cache file at ", path));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string data = buffer.str();
  auto corrupt = [&](const char* why) {
    return absl::DataLossError(absl::StrCat("cache file ", path, " is unusable: ", why));
  };
  if (data.size() < kHeader || data.compare(0, 8, kMagic) != 0) {
    return corrupt("not an Accord cache file");
  }
  size_t length = 0;
  try {
    length = std::stoull(data.substr(8, 16), nullptr, 16);
  } catch (...) {
    return corrupt("bad length");
  }
  if (data.size() != kHeader + length) {
    return corrupt("truncated or extended");
  }
  const std::string payload = data.substr(kHeader);
  if (Sha256Hex(payload) != data.substr(24, 64)) {
    return corrupt("checksum mismatch");
  }
  storage::v1::DefinitionCache cache;
  if (!cache.ParseFromString(payload)) {
    return corrupt("cannot be parsed");
  }
  return cache;
}

}  // namespace accord::scoring
