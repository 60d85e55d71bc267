#include "scanner/upstream_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/scanner/log_samples.hpp"
#include "tests/support/temp_dir.hpp"

namespace ipm::scanner {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

UpstreamConfig from_text(std::string_view text) {
  return upstream_from_directives(parse_nginx_config(text, "/etc/nginx/pool.conf"),
                                  "/etc/nginx/pool.conf");
}

std::string error_of(std::string_view text) {
  try {
    from_text(text);
  } catch (const NginxConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(UpstreamConfigTest, reads_the_go_tool_341_block_config_exactly) {
  const UpstreamConfig config = from_text(test::go_style_config(341));
  ASSERT_THAT(config.egresses, SizeIs(341));
  EXPECT_THAT(config.warnings, IsEmpty());
  EXPECT_EQ(config.ignored_blocks, 0u);
  for (int k = 0; k < 341; ++k) {
    const pool::Egress& e = config.egresses[static_cast<std::size_t>(k)];
    EXPECT_EQ(e.port, 19001 + k);
    EXPECT_EQ(e.ip, test::go_style_ip(k));
    EXPECT_EQ(e.server_name, test::go_style_ip(k));
  }
  EXPECT_EQ(config.bindings, config.egresses);
}

TEST(UpstreamConfigTest, listen_forms_and_parameters) {
  const UpstreamConfig config = from_text(
      "server { listen 19001 default_server reuseport; proxy_bind 10.0.0.1; }\n"
      "server { listen 127.0.0.1:19002; proxy_bind 10.0.0.2 transparent; }\n"
      "server { listen [::1]:19003 ipv6only=on; proxy_bind 2001:db8::3; }\n"
      "server { listen *:19004; server_name egress4 other; proxy_bind 10.0.0.4; }\n"
      "server { listen 10.9.9.9; proxy_bind 10.0.0.5; }\n"
      "server { listen unix:/run/x.sock; listen 19006; proxy_bind 10.0.0.6; }\n");
  ASSERT_THAT(config.egresses, SizeIs(6));
  EXPECT_EQ(config.egresses[0], (pool::Egress{"10.0.0.1", 19001, "", 1}));
  EXPECT_EQ(config.egresses[1], (pool::Egress{"10.0.0.2", 19002, "", 1}));
  EXPECT_EQ(config.egresses[2], (pool::Egress{"2001:db8::3", 19003, "", 1}));
  EXPECT_EQ(config.egresses[3], (pool::Egress{"10.0.0.4", 19004, "egress4", 1}));
  EXPECT_EQ(config.egresses[4].port, 80);  // nginx's default port
  EXPECT_EQ(config.egresses[5].port, 19006);
}

TEST(UpstreamConfigTest, finds_server_blocks_in_http_and_stream) {
  const UpstreamConfig config = from_text(
      "events {}\n"
      "http { upstream up { server 10.1.1.1:80; } server { listen 80; } "
      "       server { listen 19001; location / { proxy_bind 10.0.0.1; } } }\n"
      "stream { server { listen 19002; proxy_bind 10.0.0.2; proxy_pass up; } }\n");
  ASSERT_THAT(config.egresses, SizeIs(2));
  EXPECT_EQ(config.egresses[0].ip, "10.0.0.1");
  EXPECT_EQ(config.egresses[1].ip, "10.0.0.2");
  EXPECT_EQ(config.ignored_blocks, 1u);  // the plain `listen 80` server
}

TEST(UpstreamConfigTest, go_tool_return_convention_without_proxy_bind) {
  const UpstreamConfig config =
      from_text("server { listen 19001; location = /test { return 200 \"19001->10.0.0.9\"; } }");
  ASSERT_THAT(config.egresses, SizeIs(1));
  EXPECT_EQ(config.egresses[0], (pool::Egress{"10.0.0.9", 19001, "", 1}));
}

TEST(UpstreamConfigTest, disagreements_inside_a_block_are_warnings) {
  const UpstreamConfig config = from_text(
      "server {\n listen 19001;\n location = /test { return 200 \"19009->10.0.0.8\"; }\n"
      " location / { proxy_bind 10.0.0.1; }\n location /b { proxy_bind 10.0.0.2; }\n}\n");
  ASSERT_THAT(config.egresses, SizeIs(1));
  EXPECT_EQ(config.egresses[0].ip, "10.0.0.1");
  EXPECT_THAT(config.warnings, ElementsAre(HasSubstr("pool.conf:5: proxy_bind 10.0.0.2 differs"),
                                           HasSubstr("pool.conf:3: return names IP 10.0.0.8")));
}

TEST(UpstreamConfigTest, blocks_without_a_static_egress_are_ignored_and_counted) {
  const UpstreamConfig config = from_text(
      "server { listen 19001; proxy_bind 10.0.0.1; }\n"
      "server { listen 19002; proxy_bind $egress_ip; }\n"
      "server { listen 19003; proxy_bind off; }\n"
      "server { listen 19004; }\n"
      "server { proxy_bind 10.0.0.5; }\n");
  EXPECT_THAT(config.egresses, SizeIs(1));
  EXPECT_EQ(config.ignored_blocks, 4u);
  EXPECT_THAT(config.warnings,
              ElementsAre(HasSubstr("pool.conf:2: proxy_bind $egress_ip is not a fixed IP"),
                          HasSubstr("pool.conf:3: proxy_bind off is not a fixed IP"),
                          HasSubstr("pool.conf:5: server block binds 10.0.0.5 but has no "
                                    "listen port")));
}

TEST(UpstreamConfigTest, port_claimed_by_two_ips_is_an_error_naming_both_places) {
  EXPECT_THAT(error_of("server {\n listen 19001;\n proxy_bind 10.0.0.1;\n}\n"
                       "server {\n listen 127.0.0.1:19001;\n proxy_bind 10.0.0.2;\n}\n"),
              AllOf(HasSubstr("pool.conf:6: port 19001 is claimed by egress 10.0.0.2"),
                    HasSubstr("10.0.0.1 at /etc/nginx/pool.conf:2")));
}

TEST(UpstreamConfigTest, ip_behind_two_ports_is_a_warning_and_both_ports_attribute) {
  const UpstreamConfig config = from_text(
      "server {\n listen 19001;\n proxy_bind 10.0.0.1;\n}\n"
      "server {\n listen 19002;\n proxy_bind 10.0.0.1;\n}\n"
      "server {\n listen 19001;\n proxy_bind 10.0.0.1;\n}\n");
  ASSERT_THAT(config.egresses, SizeIs(1));
  ASSERT_THAT(config.bindings, SizeIs(2));
  EXPECT_EQ(config.bindings[1].port, 19002);
  EXPECT_THAT(config.warnings,
              ElementsAre(AllOf(HasSubstr("pool.conf:6: egress 10.0.0.1 is reachable through "
                                          "port 19002 here and port 19001 at "
                                          "/etc/nginx/pool.conf:2")),
                          HasSubstr("pool.conf:10: port 19001 and egress 10.0.0.1 are already "
                                    "declared")));
}

TEST(UpstreamConfigTest, no_egress_at_all_is_an_error) {
  EXPECT_THAT(error_of("server { listen 80; }\n"),
              HasSubstr("/etc/nginx/pool.conf: no egress found"));
  EXPECT_THAT(error_of("# nothing\n"), HasSubstr("no egress found"));
}

TEST(UpstreamConfigTest, bad_listen_is_an_error_with_its_line) {
  EXPECT_THAT(error_of("server {\n listen 99999;\n proxy_bind 10.0.0.1; }"),
              HasSubstr("pool.conf:2: invalid port in listen \"99999\""));
  EXPECT_THAT(error_of("server {\n listen [::1;\n proxy_bind 10.0.0.1; }"),
              HasSubstr("pool.conf:2: invalid listen address"));
}

TEST(UpstreamConfigTest, reads_files_with_includes) {
  test::TempDir dir("ipm-upstream");
  std::filesystem::create_directories(dir / "pool.d");
  test::write_file(dir / "nginx.conf", "http {\n include pool.d/*.conf;\n}\n");
  test::write_file(dir / "pool.d/a.conf", test::go_style_block(19001, "10.0.0.1"));
  test::write_file(dir / "pool.d/b.conf", test::go_style_block(19002, "10.0.0.2"));
  const UpstreamConfig config = parse_upstream_config(dir / "nginx.conf");
  ASSERT_THAT(config.egresses, SizeIs(2));
  EXPECT_EQ(config.egresses[1].ip, "10.0.0.2");
}

}  // namespace
}  // namespace ipm::scanner
