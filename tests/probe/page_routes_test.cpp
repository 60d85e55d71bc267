// GET / and its assets (embedded at build time), and GET /api/events as the router sees it.
#include "probe/routes.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "probe/web_assets.hpp"
#include "tests/probe/fixture.hpp"

namespace {

namespace http = boost::beast::http;
using ipm::probe::find_web_asset;
using ipm::probe::web_assets;
using ipm::probe::routes::accepts_gzip;
using ipm::probe::routes::etag_matches;
using ipm::test::ProbeWorld;
using testing::HasSubstr;

TEST(PageRoutesTest, page_and_assets_stay_under_100_kb) {
  std::size_t total = 0;
  for (const auto& a : web_assets())
    total += a.body.size();
  EXPECT_LT(total, 100U * 1024) << "the page and its assets";
  EXPECT_GE(web_assets().size(), 4U);
  for (const char* path : {"/", "/assets/app.js", "/assets/style.css", "/assets/favicon.svg"})
    EXPECT_NE(find_web_asset(path), nullptr) << path;
}

TEST(PageRoutesTest, the_page_loads_nothing_from_another_host) {
  const std::string_view html = find_web_asset("/")->body;
  EXPECT_THAT(std::string(html), HasSubstr("src=\"/assets/app.js\""));
  for (const char* outside : {"src=\"http", "href=\"http", "src=\"//", "href=\"//", "url("})
    EXPECT_EQ(html.find(outside), std::string_view::npos) << outside;
  const std::string_view js = find_web_asset("/assets/app.js")->body;
  EXPECT_EQ(js.find("http://"), std::string_view::npos);
  EXPECT_EQ(js.find("https://"), std::string_view::npos);
  EXPECT_EQ(std::string_view(find_web_asset("/assets/style.css")->body).find("url("),
            std::string_view::npos);
}

TEST(PageRoutesTest, page_is_served_with_type_policy_and_etag) {
  ProbeWorld world(2);
  auto r = world.get("/");
  EXPECT_EQ(r.message.result(), http::status::ok);
  EXPECT_EQ(r.message[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_THAT(std::string(r.message["Content-Security-Policy"]),
              HasSubstr("default-src 'none'; script-src 'self'; style-src 'self'"));
  EXPECT_EQ(r.message["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(r.message[http::field::cache_control], "no-cache");
  EXPECT_EQ(r.message[http::field::etag], find_web_asset("/")->etag);
  EXPECT_THAT(r.message.body(), HasSubstr("<title>ipmanager</title>"));

  auto js = world.get("/assets/app.js");
  EXPECT_EQ(js.message[http::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ(world.get("/assets/style.css").message[http::field::content_type],
            "text/css; charset=utf-8");
  EXPECT_EQ(world.get("/assets/favicon.svg").message[http::field::content_type], "image/svg+xml");
  EXPECT_EQ(world.get("/assets/nope.js").message.result(), http::status::not_found);
  EXPECT_EQ(world.get("/?x=1").message.result(), http::status::bad_request);
  EXPECT_EQ(world.post("/").message.result(), http::status::method_not_allowed);
}

TEST(PageRoutesTest, a_known_etag_gets_304_without_a_body) {
  ProbeWorld world(2);
  const std::string etag(find_web_asset("/assets/app.js")->etag);
  auto r = world.request(http::verb::get, "/assets/app.js", "127.0.0.1",
                         {{"If-None-Match", "\"other\", " + etag}});
  EXPECT_EQ(r.message.result(), http::status::not_modified);
  EXPECT_TRUE(r.message.body().empty());
  EXPECT_EQ(r.message[http::field::etag], etag);
  auto stale =
      world.request(http::verb::get, "/assets/app.js", "127.0.0.1", {{"If-None-Match", "\"old\""}});
  EXPECT_EQ(stale.message.result(), http::status::ok);
}

TEST(PageRoutesTest, gzip_when_the_client_accepts_it) {
  ProbeWorld world(2);
  const auto* asset = find_web_asset("/assets/app.js");
  ASSERT_FALSE(asset->gzip.empty());
  auto r = world.request(http::verb::get, "/assets/app.js", "127.0.0.1",
                         {{"Accept-Encoding", "gzip, deflate, br"}});
  EXPECT_EQ(r.message[http::field::content_encoding], "gzip");
  EXPECT_EQ(r.message[http::field::vary], "Accept-Encoding");
  EXPECT_EQ(r.message[http::field::etag], asset->gzip_etag);
  ASSERT_GE(r.message.body().size(), 2U);
  EXPECT_EQ(static_cast<unsigned char>(r.message.body()[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(r.message.body()[1]), 0x8b);
  EXPECT_LT(r.message.body().size(), asset->body.size());
  auto plain = world.request(http::verb::get, "/assets/app.js", "127.0.0.1",
                             {{"Accept-Encoding", "gzip;q=0"}});
  EXPECT_EQ(plain.message.count(http::field::content_encoding), 0U);
  EXPECT_EQ(plain.message.body(), asset->body);
}

TEST(PageRoutesTest, accept_encoding_and_if_none_match_parsing) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("deflate, gzip;q=0.5"));
  EXPECT_TRUE(accepts_gzip(" x-gzip "));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_TRUE(accepts_gzip("gzip; q=1.0"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("br, deflate"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0.000"));
  EXPECT_FALSE(accepts_gzip("gzipx"));

  EXPECT_TRUE(etag_matches("\"a\"", "\"a\""));
  EXPECT_TRUE(etag_matches("\"b\", W/\"a\"", "\"a\""));
  EXPECT_TRUE(etag_matches(" * ", "\"a\""));
  EXPECT_FALSE(etag_matches("\"a-gz\"", "\"a\""));
  EXPECT_FALSE(etag_matches("", "\"a\""));
}

TEST(PageRoutesTest, events_route_asks_the_session_for_a_stream) {
  ProbeWorld world(2);
  auto r = world.request(http::verb::get, "/api/events", "127.0.0.1", {{"Last-Event-ID", "ep-7"}});
  EXPECT_EQ(r.message.result(), http::status::ok);
  EXPECT_EQ(r.message[http::field::content_type], "text/event-stream");
  EXPECT_EQ(r.message[http::field::cache_control], "no-store");
  ASSERT_TRUE(r.events);
  EXPECT_EQ(r.events->last_event_id, "ep-7");
  EXPECT_EQ(world.get("/api/events?since=1").message.result(), http::status::bad_request);
  EXPECT_EQ(world.post("/api/events").message.result(), http::status::method_not_allowed);

  world.context.engine = nullptr;
  EXPECT_EQ(world.get("/api/events").message.result(), http::status::service_unavailable);
}

}  // namespace
