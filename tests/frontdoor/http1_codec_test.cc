// The HTTP/1.1 codec on raw bytes, no sockets: requests whole, split anywhere and pipelined;
// chunked bodies; and every framing a proxy could be smuggled past, refused.
#include "frontdoor/http1_codec.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace accord::frontdoor {
namespace {

struct Decoded {
  std::vector<Http1Request> requests;
  std::optional<Http1Error> error;
};

Decoded Decode(const std::string& bytes, size_t step = 0, Http1Limits limits = {}) {
  Http1Decoder decoder(limits);
  Decoded d;
  if (step == 0) {
    step = bytes.size();
  }
  for (size_t at = 0; at < bytes.size() && !d.error; at += step) {
    d.error = decoder.Feed(absl::string_view(bytes).substr(at, step), d.requests);
  }
  return d;
}

// The status of the error decoding `bytes` gives, the same however they are split (0: none).
int ErrorStatus(const std::string& bytes, Http1Limits limits = {}) {
  Decoded d = Decode(bytes, 0, limits);
  const int whole = d.error ? d.error->status : 0;
  for (size_t step : {1, 2, 3, 7}) {
    Decoded split = Decode(bytes, step, limits);
    EXPECT_EQ(split.error ? split.error->status : 0, whole) << "in pieces of " << step;
    EXPECT_EQ(split.requests.size(), d.requests.size()) << "in pieces of " << step;
  }
  return whole;
}

const std::string kPost =
    "POST /v1/namespaces/default/leads:score?view=FULL HTTP/1.1\r\n"
    "Host: accord\r\nContent-Type: application/json\r\nAuthorization: Bearer k\r\n"
    "Content-Length: 13\r\n\r\n{\"lead\": {}}\n";

TEST(Http1CodecTest, DecodesARequestWithItsHeadersAndBody) {
  Decoded d = Decode(kPost);
  ASSERT_FALSE(d.error) << d.error->message;
  ASSERT_EQ(d.requests.size(), 1u);
  const Http1Request& r = d.requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/v1/namespaces/default/leads:score?view=FULL");
  EXPECT_EQ(r.version_minor, 1);
  ASSERT_NE(r.Header("authorization"), nullptr);  // names in lower case
  EXPECT_EQ(*r.Header("authorization"), "Bearer k");
  EXPECT_EQ(*r.Header("content-type"), "application/json");
  EXPECT_EQ(r.body, "{\"lead\": {}}\n");
  EXPECT_TRUE(r.keep_alive);
}

TEST(Http1CodecTest, AnySplitOfTheBytesDecodesTheSame) {
  const std::string three = kPost + "GET /openapi.json HTTP/1.1\r\nHost: a\r\n\r\n" + kPost;
  for (size_t step = 1; step <= 40; ++step) {
    Decoded d = Decode(three, step);
    ASSERT_FALSE(d.error) << step << ": " << d.error->message;
    ASSERT_EQ(d.requests.size(), 3u) << step;
    EXPECT_EQ(d.requests[0].body, "{\"lead\": {}}\n");
    EXPECT_EQ(d.requests[1].method, "GET");
    EXPECT_EQ(d.requests[1].body, "");
    EXPECT_EQ(d.requests[2].target, d.requests[0].target);
  }
}

TEST(Http1CodecTest, ChunkedBodiesAreJoined) {
  Decoded d = Decode(
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: t\r\n\r\n",
      3);
  ASSERT_FALSE(d.error) << d.error->message;
  ASSERT_EQ(d.requests.size(), 1u);
  EXPECT_EQ(d.requests[0].body, "hello, world");
}

TEST(Http1CodecTest, ConnectionSemanticsOfOneDotZeroAndClose) {
  EXPECT_FALSE(Decode("GET / HTTP/1.0\r\n\r\n").requests.at(0).keep_alive);
  EXPECT_TRUE(Decode("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").requests.at(0).keep_alive);
  EXPECT_FALSE(
      Decode("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").requests.at(0).keep_alive);
}

TEST(Http1CodecTest, AnUpgradeIsAnsweredInHttp1) {
  Decoded d = Decode(
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
      "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_FALSE(d.error) << d.error->message;
  ASSERT_EQ(d.requests.size(), 2u);  // the bytes after it are the next request
  EXPECT_EQ(d.requests[1].target, "/b");
}

TEST(Http1CodecTest, SmugglingFramesAreRefused) {
  // Content-Length and chunked together.
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            400);
  // Two Content-Lengths, equal or not.
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
                        "Content-Length: 1\r\n\r\nx"),
            400);
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
                        "Content-Length: 2\r\n\r\nxy"),
            400);
  // A transfer coding other than chunked, or chunked twice.
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                        "0\r\n\r\n"),
            501);
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            400);
  // obs-fold: a header continued on the next line.
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n\ttwo\r\n\r\n"), 400);
  // A Content-Length that is not a number, and a bad chunk size.
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\nx"), 400);
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "zz\r\n"),
            400);
  // HTTP/1.1 without Host, or with two.
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
}

TEST(Http1CodecTest, ABodyFoldedLookingLikeAHeaderIsNotAFold) {
  // Spaces after a line break in the body are the body's business.
  Decoded d = Decode("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nab\r\n c");
  ASSERT_FALSE(d.error) << d.error->message;
  EXPECT_EQ(d.requests.at(0).body, "ab\r\n c");
}

TEST(Http1CodecTest, LimitsOnTheHeadAndTheBody) {
  Http1Limits small{.max_header_bytes = 100, .max_body_bytes = 10};
  EXPECT_EQ(
      ErrorStatus("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(200, 'h') + "\r\n\r\n", small),
      431);
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", small), 413);
  // The refused request itself is never handed over (its body is not read).
  EXPECT_TRUE(Decode("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", 0, small)
                  .requests.empty());
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n",
                        small),
            413);
  EXPECT_EQ(ErrorStatus("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
  EXPECT_EQ(ErrorStatus("BREW / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
}

TEST(Http1CodecTest, PartialBytesCountTheRequestUnderWay) {
  Http1Decoder decoder;
  std::vector<Http1Request> out;
  EXPECT_TRUE(decoder.idle());
  ASSERT_FALSE(decoder.Feed(kPost.substr(0, 40), out));
  EXPECT_FALSE(decoder.idle());
  EXPECT_GT(decoder.partial_bytes(), 0u);
  ASSERT_FALSE(decoder.Feed(kPost.substr(40), out));
  EXPECT_TRUE(decoder.idle());
  EXPECT_EQ(decoder.partial_bytes(), 0u);
  EXPECT_EQ(out.size(), 1u);
}

TEST(Http1CodecTest, ResponsesAreFramedByLengthOrChunks) {
  EXPECT_EQ(EncodeResponse(200, {{"Content-Type", "application/json"}}, "{}", true),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(EncodeResponse(404, {}, "", false),
            "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(EncodeChunkedHead(200, {}, true),
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(EncodeChunk("hello, world!!!!!"), "11\r\nhello, world!!!!!\r\n");
  EXPECT_EQ(EncodeChunk(""), "");  // never the last chunk by accident
  EXPECT_EQ(EncodeLastChunk(), "0\r\n\r\n");
  // What it encodes, it decodes (as a client would): a response parses back.
  const std::string response =
      EncodeChunkedHead(200, {}, true) + EncodeChunk("ab") + EncodeChunk("c") + EncodeLastChunk();
  EXPECT_NE(response.find("2\r\nab\r\n1\r\nc\r\n0\r\n\r\n"), std::string::npos);
}

}  // namespace
}  // namespace accord::frontdoor
