// AppendResponseHead against Boost.Beast's serializer: the bytes the engine wrote before it
// formatted heads itself (a Beast response built field by field, as the engine did).
#include "http/response_head.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include <boost/beast/http.hpp>

namespace da::http {
namespace {

namespace bhttp = boost::beast::http;

/// What the engine wrote with Beast for `res` (head only).
std::string BeastHead(const Response& res, const ResponseFraming& f) {
  bhttp::response<bhttp::empty_body> m;
  m.version(11);
  m.result(static_cast<unsigned>(res.status));
  bool has_content_type = false;
  for (const auto& [k, v] : res.headers) {
    if (boost::beast::iequals(k, "Content-Length") || boost::beast::iequals(k, "Connection") ||
        boost::beast::iequals(k, "Transfer-Encoding")) {
      continue;
    }
    if (boost::beast::iequals(k, "Content-Type")) has_content_type = true;
    m.insert(k, v);
  }
  if (!has_content_type && !res.BodyEmpty() && !StatusHasNoBody(res.status)) {
    m.set(bhttp::field::content_type, "text/plain");
  }
  if (!f.keep_alive) {
    m.set(bhttp::field::connection, "close");
  } else if (f.http10) {
    m.set(bhttp::field::connection, "keep-alive");
  }
  if (f.content_length) m.set(bhttp::field::content_length, std::to_string(*f.content_length));
  std::ostringstream os;
  os << m.base();
  return os.str();
}

std::string Head(const Response& res, const ResponseFraming& f) {
  std::string out = "prefix|";
  AppendResponseHead(out, res, f);
  EXPECT_EQ(out.rfind("prefix|", 0), 0u);  // appends, keeps what was there
  return out.substr(7);
}

TEST(ResponseHeadTest, SmallJsonAnswer) {
  Response res;
  res.status = 200;
  res.SetHeader("X-Request-ID", "ece473c6ec60");
  res.SetContent(R"({"status":"ok"})", "application/json");
  ResponseFraming f{true, false, res.body.size()};
  EXPECT_EQ(Head(res, f),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-ID: ece473c6ec60\r\n"
            "Content-Length: 15\r\n\r\n");
  EXPECT_EQ(Head(res, f), BeastHead(res, f));
}

TEST(ResponseHeadTest, SameBytesAsBeastAcrossStatusesAndFraming) {
  for (int status : {100, 200, 201, 204, 206, 301, 304, 400, 401, 404, 413, 416, 418, 422, 429,
                     500, 503, 299, 599}) {
    for (bool with_body : {false, true}) {
      for (int framing = 0; framing < 3; ++framing) {
        Response res;
        res.status = status;
        res.AddHeader("Set-Cookie", "a=1; Path=/");
        res.AddHeader("set-cookie", "b=2");
        res.SetHeader("Content-Length", "999");      // ignored: the engine frames
        res.SetHeader("Connection", "upgrade");       // ignored
        res.SetHeader("Transfer-Encoding", "chunked");  // ignored
        res.SetHeader("X-Padded", "  \tvalue with spaces \t ");
        res.SetHeader("X-Empty", "");
        res.SetHeader("Retry-After", "1");
        if (with_body) res.body = "body";
        ResponseFraming f;
        f.keep_alive = framing != 1;
        f.http10 = framing == 2;
        if (!StatusHasNoBody(status)) f.content_length = res.BodySize();
        SCOPED_TRACE("status " + std::to_string(status) + " body " + std::to_string(with_body) +
                     " framing " + std::to_string(framing));
        EXPECT_EQ(Head(res, f), BeastHead(res, f));
      }
    }
  }
}

TEST(ResponseHeadTest, ExplicitContentTypeAnyCaseIsKept) {
  Response res;
  res.status = 200;
  res.SetHeader("content-type", "text/csv");
  res.body = "a,b\n";
  ResponseFraming f{true, false, res.body.size()};
  EXPECT_EQ(Head(res, f), "HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\nContent-Length: 4\r\n\r\n");
  EXPECT_EQ(Head(res, f), BeastHead(res, f));
}

TEST(ResponseHeadTest, HeadOfARangeAndOfAView) {
  auto owner = std::make_shared<std::string>(std::string(1000, 'x'));
  Response res;
  res.status = 206;
  res.SetBodyView(owner, *owner, "application/octet-stream");
  res.SetHeader("Content-Range", "bytes 10-19/1000");
  ResponseFraming f{true, false, 10};
  EXPECT_EQ(Head(res, f),
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 10-19/1000\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\n");
  EXPECT_EQ(Head(res, f), BeastHead(res, f));
}

}  // namespace
}  // namespace da::http
