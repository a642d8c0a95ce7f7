// ID token verification with keys the test generates (RS256 and ES256), and the JWKS cache
// against a real HTTP server serving a rotating key set.
#include "auth/jwt.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "auth/jwks.h"
#include "support/status_macros.h"
#include "support/test_signing_key.h"

namespace da::auth {
namespace {

using nlohmann::json;
using testing::TestSigningKey;

constexpr const char* kIssuer = "https://idp.example.test";
constexpr const char* kClient = "da-client";
constexpr const char* kNonce = "nonce-123";

int64_t Now() { return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count(); }

json Claims() {
  return {{"iss", kIssuer}, {"sub", "user-1"}, {"aud", kClient}, {"exp", Now() + 300}, {"iat", Now()},
          {"nonce", kNonce}, {"email", "ann@example.test"}};
}

IdTokenExpectations Expect() { return {kIssuer, kClient, kNonce}; }

JwkSet SetOf(std::initializer_list<const TestSigningKey*> keys) {
  json doc = {{"keys", json::array()}};
  for (const auto* k : keys) doc["keys"].push_back(k->PublicJwk());
  auto set = JwkSet::FromJson(doc);
  EXPECT_OK(set);
  return std::move(set).value();
}

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new TestSigningKey("RS256", "rsa-1");
    ec_ = new TestSigningKey("ES256", "ec-1");
    other_rsa_ = new TestSigningKey("RS256", "rsa-1");  // same kid, different key
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
    delete other_rsa_;
  }
  static TestSigningKey* rsa_;
  static TestSigningKey* ec_;
  static TestSigningKey* other_rsa_;

  Status Verify(const std::string& token, const IdTokenExpectations& expect = Expect()) {
    return VerifyIdToken(token, SetOf({rsa_, ec_}), expect).status();
  }
};
TestSigningKey* JwtTest::rsa_ = nullptr;
TestSigningKey* JwtTest::ec_ = nullptr;
TestSigningKey* JwtTest::other_rsa_ = nullptr;

TEST(Base64UrlTest, RoundTripsAndRefusesForeignCharacters) {
  std::string bytes("\xfb\xff\x00\x01zz", 6);
  EXPECT_EQ(Base64UrlEncode(bytes), "-_8AAXp6");
  EXPECT_EQ(*Base64UrlDecode("-_8AAXp6"), bytes);
  EXPECT_EQ(*Base64UrlDecode("YQ=="), "a");
  EXPECT_FALSE(Base64UrlDecode("+/8=").ok());
}

TEST_F(JwtTest, ValidRs256AndEs256TokensVerify) {
  auto rs = VerifyIdToken(rsa_->Sign(Claims()), SetOf({rsa_, ec_}), Expect());
  ASSERT_OK(rs);
  EXPECT_EQ((*rs)["email"], "ann@example.test");
  auto es = VerifyIdToken(ec_->Sign(Claims()), SetOf({rsa_, ec_}), Expect());
  ASSERT_OK(es);
  EXPECT_EQ((*es)["sub"], "user-1");
}

TEST_F(JwtTest, SignatureFromAnotherKeyIsRefused) {
  Status s = VerifyIdToken(other_rsa_->Sign(Claims()), SetOf({rsa_}), Expect()).status();
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(s.message(), "ID token signature invalid");
  TestSigningKey other_ec("ES256", "ec-1");
  EXPECT_EQ(VerifyIdToken(other_ec.Sign(Claims()), SetOf({ec_}), Expect()).status().message(),
            "ID token signature invalid");
}

TEST_F(JwtTest, TamperedPayloadIsRefused) {
  std::string token = rsa_->Sign(Claims());
  json changed = Claims();
  changed["email"] = "admin@example.test";
  std::string forged = token.substr(0, token.find('.') + 1) + Base64UrlEncode(changed.dump()) +
                       token.substr(token.rfind('.'));
  EXPECT_EQ(Verify(forged).message(), "ID token signature invalid");
}

TEST_F(JwtTest, AlgNoneHmacAndAlgKeyMismatchAreRefused) {
  json header = {{"alg", "none"}, {"kid", "rsa-1"}};
  std::string none = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(Claims().dump()) + ".";
  EXPECT_EQ(Verify(none).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Verify(rsa_->Sign(Claims(), {{"alg", "HS256"}})).code(), StatusCode::kUnauthenticated);
  // An RSA signature presented as ES256 under the EC key's kid.
  EXPECT_EQ(Verify(rsa_->Sign(Claims(), {{"alg", "ES256"}, {"kid", "ec-1"}})).message(), "ID token signature invalid");
  EXPECT_EQ(Verify("not.a-token").code(), StatusCode::kUnauthenticated);
}

TEST_F(JwtTest, UnknownKidIsReportedAsUnknownKey) {
  EXPECT_EQ(Verify(rsa_->Sign(Claims(), {{"kid", "rotated"}})).message(), kUnknownJwtKey);
}

TEST_F(JwtTest, AudienceMustIncludeClientAndAzpMustMatchWhenSeveral) {
  json c = Claims();
  c["aud"] = "another-client";
  EXPECT_EQ(Verify(rsa_->Sign(c)).message(), "ID token audience does not include this client");
  c["aud"] = json::array({kClient, "another-client"});
  EXPECT_EQ(Verify(rsa_->Sign(c)).message(), "ID token authorized party (azp) is not this client");
  c["azp"] = "another-client";
  EXPECT_EQ(Verify(rsa_->Sign(c)).message(), "ID token authorized party (azp) is not this client");
  c["azp"] = kClient;
  EXPECT_OK(Verify(rsa_->Sign(c)));
  c["aud"] = json::array({kClient});
  c.erase("azp");
  EXPECT_OK(Verify(rsa_->Sign(c)));
}

TEST_F(JwtTest, ExpiryIatAndNbfUseSixtySecondsOfSkew) {
  json c = Claims();
  c["exp"] = Now() - 120;
  EXPECT_EQ(Verify(rsa_->Sign(c)).message(), "ID token expired");
  c["exp"] = Now() - 30;  // within the skew
  EXPECT_OK(Verify(rsa_->Sign(c)));
  c = Claims();
  c["iat"] = Now() + 120;
  EXPECT_EQ(Verify(rsa_->Sign(c)).message(), "ID token issued in the future");
  c = Claims();
  c["nbf"] = Now() + 120;
  EXPECT_EQ(Verify(rsa_->Sign(c)).message(), "ID token not yet valid");
  c = Claims();
  c.erase("exp");
  EXPECT_EQ(Verify(rsa_->Sign(c)).message(), "ID token has no expiry");
}

TEST_F(JwtTest, IssuerAndNonceMustMatch) {
  json c = Claims();
  c["iss"] = "https://evil.example.test";
  EXPECT_EQ(Verify(rsa_->Sign(c)).message(), "ID token issuer is not the configured issuer");
  // A token replayed into another login carries the other login's nonce.
  IdTokenExpectations other_login = Expect();
  other_login.nonce = "nonce-of-another-login";
  EXPECT_EQ(Verify(rsa_->Sign(Claims()), other_login).message(), "ID token nonce does not match this login");
  c = Claims();
  c.erase("nonce");
  EXPECT_EQ(Verify(rsa_->Sign(c)).message(), "ID token nonce does not match this login");
}

TEST_F(JwtTest, ErrorsNeverContainTheToken) {
  json c = Claims();
  c["aud"] = "x";
  std::string token = rsa_->Sign(c);
  std::string message = Verify(token).ToString();
  EXPECT_EQ(message.find(token.substr(0, 20)), std::string::npos);
  EXPECT_EQ(message.find(token.substr(token.rfind('.') + 1, 20)), std::string::npos);
}

TEST(JwkSetTest, SkipsForeignKeysAndRefusesBrokenOrWeakOnes) {
  TestSigningKey rsa("RS256", "a");
  json enc = rsa.PublicJwk();
  enc["use"] = "enc";
  json oct = {{"kty", "oct"}, {"k", "c2VjcmV0"}};
  auto set = JwkSet::FromJson({{"keys", {rsa.PublicJwk(), enc, oct}}});
  ASSERT_OK(set);
  EXPECT_EQ(set->size(), 1u);
  json weak = rsa.PublicJwk();
  weak["n"] = Base64UrlEncode(std::string(128, '\x7f'));  // 1024 bits
  EXPECT_EQ(JwkSet::FromJson({{"keys", {weak}}}).status().code(), StatusCode::kMalformed);
  TestSigningKey ec("ES256", "b");
  json off_curve = ec.PublicJwk();
  off_curve["y"] = Base64UrlEncode(std::string(32, '\x01'));
  EXPECT_EQ(JwkSet::FromJson({{"keys", {off_curve}}}).status().code(), StatusCode::kMalformed);
  EXPECT_EQ(JwkSet::FromJson(json::array()).status().code(), StatusCode::kMalformed);
}

// A JWKS endpoint over real HTTP (loopback) whose key set the test rotates.
class JwksServer {
 public:
  JwksServer() {
    server_.Get("/jwks", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard lock(mu_);
      ++hits_;
      res.set_content(doc_.dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~JwksServer() {
    server_.stop();
    thread_.join();
  }
  void Serve(const json& doc) {
    std::lock_guard lock(mu_);
    doc_ = doc;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/jwks"; }
  int hits() {
    std::lock_guard lock(mu_);
    return hits_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  json doc_ = {{"keys", json::array()}};
  int hits_ = 0;
};

TEST(JwksCacheTest, CachesAndRefetchesOnceOnUnknownKid) {
  TestSigningKey old_key("RS256", "old"), new_key("ES256", "new");
  JwksServer server;
  server.Serve({{"keys", {old_key.PublicJwk()}}});
  JwksCache cache(server.url());
  ASSERT_OK(VerifyIdToken(old_key.Sign(Claims()), cache, Expect()));
  ASSERT_OK(VerifyIdToken(old_key.Sign(Claims()), cache, Expect()));
  EXPECT_EQ(server.hits(), 1);  // cached

  server.Serve({{"keys", {old_key.PublicJwk(), new_key.PublicJwk()}}});  // the provider rotates
  auto rotated = VerifyIdToken(new_key.Sign(Claims()), cache, Expect());
  ASSERT_OK(rotated);
  EXPECT_EQ(server.hits(), 2);

  TestSigningKey stranger("RS256", "stranger");
  EXPECT_EQ(VerifyIdToken(stranger.Sign(Claims()), cache, Expect()).status().message(), kUnknownJwtKey);
  EXPECT_EQ(server.hits(), 3);  // exactly one refetch for the unknown kid
  EXPECT_EQ(cache.fetch_count(), 3);
}

TEST(JwksCacheTest, UnreachableJwksIsUnavailableAndPlainHttpOnlyOnLoopback) {
  JwksCache cache("http://127.0.0.1:1/jwks");
  EXPECT_EQ(cache.Get().status().code(), StatusCode::kUnavailable);
  JwksCache remote("http://idp.example.test/jwks");
  EXPECT_EQ(remote.Get().status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace da::auth
