#include "common/hash.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace accord {

std::string Sha256Hex(absl::string_view data) {
  // Fetched once: OpenSSL 3 looks the algorithm up on every call given EVP_sha256().
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, sha256, nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buffer(bytes);
  if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) {
    std::abort();  // no entropy: nothing safe to do
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(buffer.data()), buffer.size()));
}

std::string UniqueHex(size_t bytes) {
  thread_local absl::BitGen generator;
  std::string raw(bytes, '\0');
  for (size_t i = 0; i < bytes; i += 8) {
    const uint64_t value = absl::Uniform<uint64_t>(generator);
    std::memcpy(raw.data() + i, &value, std::min<size_t>(8, bytes - i));
  }
  return absl::BytesToHexString(raw);
}

}  // namespace accord
