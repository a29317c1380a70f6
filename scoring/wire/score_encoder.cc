#include "scoring/wire/score_encoder.h"

#include <cstring>

namespace accord::scoring {
namespace {

// Field tags (field number << 3 | wire type) of the messages written here.
constexpr char kReasonKind = 0x08;         // 1, varint
constexpr char kReasonGroup = 0x12;        // 2, length-delimited
constexpr char kReasonRule = 0x1a;         // 3, length-delimited
constexpr char kReasonDescription = 0x22;  // 4, length-delimited
constexpr char kReasonPoints = 0x29;       // 5, 64-bit
constexpr char kReasonEvents = 0x30;       // 6, varint
constexpr char kReasonEvidence = 0x3a;     // 7, length-delimited
constexpr char kReasonDetail = 0x42;       // 8, length-delimited
constexpr char kLeadScoreReasons = 0x72;   // LeadScore.reasons, 14, length-delimited
constexpr char kResponseScores = 0x0a;     // Batch/StreamScoreLeadsResponse.scores, 1

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Bytes of a field with its one-byte tag; 0 for a default value, which proto3 leaves out.
size_t VarintField(uint64_t v) { return v == 0 ? 0 : 1 + VarintSize(v); }
size_t BytesField(absl::string_view v) {
  return v.empty() ? 0 : 1 + VarintSize(v.size()) + v.size();
}

void Varint(std::string& out, char tag, uint64_t v) {
  if (v != 0) {
    out.push_back(tag);
    AppendWireVarint(out, v);
  }
}

void Bytes(std::string& out, char tag, absl::string_view v) {
  if (!v.empty()) {
    out.push_back(tag);
    AppendWireVarint(out, v.size());
    out.append(v.data(), v.size());
  }
}

}  // namespace

void AppendWireVarint(std::string& to, uint64_t v) {
  while (v >= 0x80) {
    to.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  to.push_back(static_cast<char>(v));
}

std::string EncodeReasonHead(sv1::Reason::Kind kind, absl::string_view group,
                             absl::string_view rule, absl::string_view description) {
  std::string out;
  Varint(out, kReasonKind, static_cast<uint64_t>(kind));
  Bytes(out, kReasonGroup, group);
  Bytes(out, kReasonRule, rule);
  Bytes(out, kReasonDescription, description);
  return out;
}

void WireReasons::Add(const Reason& r) {
  const auto counted = static_cast<uint64_t>(static_cast<int64_t>(r.events_counted));
  uint64_t bits;
  std::memcpy(&bits, &r.points, sizeof bits);
  std::string head_bytes;
  absl::string_view head = r.head;
  if (head.empty()) {
    head_bytes = EncodeReasonHead(r.kind, r.group, r.rule, r.description);
    head = head_bytes;
  }
  // The Reason's size first, so that it is written once, straight into `out_`.
  const size_t size = head.size() + (bits != 0 ? 9 : 0) + VarintField(counted) +
                      BytesField(r.evidence) + BytesField(r.detail);
  out_.reserve(out_.size() + size + 11);
  out_.push_back(kLeadScoreReasons);
  AppendWireVarint(out_, size);
  out_.append(head.data(), head.size());
  if (bits != 0) {
    out_.push_back(kReasonPoints);
    out_.append(reinterpret_cast<const char*>(&bits), sizeof bits);  // little-endian
  }
  Varint(out_, kReasonEvents, counted);
  Bytes(out_, kReasonEvidence, r.evidence);
  Bytes(out_, kReasonDetail, r.detail);
}

void ScoreWriter::Add(const sv1::LeadScore& score, const std::string& reasons) {
  const size_t size = score.ByteSizeLong();
  if (!single_) {
    out_.push_back(kResponseScores);
    AppendWireVarint(out_, size + reasons.size());
  }
  const size_t at = out_.size();
  out_.resize(at + size);
  score.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out_.data() + at));
  out_.append(reasons);
}

}  // namespace accord::scoring
