#include "scanner/nginx_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scanner/nginx_lexer.hpp"
#include "tests/support/temp_dir.hpp"

namespace ipm::scanner {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<NginxDirective> parse(std::string_view text) {
  return parse_nginx_config(text, "/etc/nginx/test.conf");
}

std::string error_of(std::string_view text) {
  try {
    parse(text);
  } catch (const NginxConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(NginxConfigTest, reads_directives_blocks_and_comments) {
  const auto tree = parse(
      "# leading comment\n"
      "user nginx;  # trailing comment\n"
      "http {\n"
      "  server { listen 8080; }\n"
      "}\n");
  ASSERT_EQ(tree.size(), 2u);
  EXPECT_EQ(tree[0].name, "user");
  EXPECT_THAT(tree[0].args, ElementsAre("nginx"));
  EXPECT_EQ(tree[0].where.line, 2u);
  EXPECT_TRUE(tree[1].has_block);
  ASSERT_EQ(tree[1].block.size(), 1u);
  EXPECT_EQ(tree[1].block[0].name, "server");
  EXPECT_EQ(tree[1].block[0].block[0].name, "listen");
  EXPECT_THAT(tree[1].block[0].block[0].args, ElementsAre("8080"));
}

TEST(NginxConfigTest, hash_inside_a_word_is_not_a_comment) {
  const auto tree = parse("set $a foo#bar;\n");
  EXPECT_THAT(tree[0].args, ElementsAre("$a", "foo#bar"));
}

TEST(NginxConfigTest, quoted_strings_keep_spaces_semicolons_and_braces) {
  const auto tree = parse("return 200 \"a; b { c } # d\";\n");
  EXPECT_THAT(tree[0].args, ElementsAre("200", "a; b { c } # d"));
  // As in nginx, a closing quote must be followed by a space, ';' or '{'.
  EXPECT_THAT(error_of("add_header X 'it''s';"), HasSubstr("unexpected \"'\""));
}

TEST(NginxConfigTest, escapes_in_strings_follow_nginx) {
  const auto tree = parse(R"(return 200 "say \"hi\"\t\\ \d";)"
                          "\n"
                          R"(x 'it\'s' plain\ word;)");
  EXPECT_THAT(tree[0].args, ElementsAre("200", "say \"hi\"\t\\ \\d"));
  // nginx keeps an escaped space in a bare word as written.
  EXPECT_THAT(tree[1].args, ElementsAre("it's", "plain\\ word"));
}

TEST(NginxConfigTest, directive_split_over_lines_reports_its_first_line) {
  const auto tree = parse("\n\nproxy_set_header\n    Host\n    $host\n;\n");
  ASSERT_EQ(tree.size(), 1u);
  EXPECT_EQ(tree[0].where.line, 3u);
  EXPECT_THAT(tree[0].args, ElementsAre("Host", "$host"));
}

TEST(NginxConfigTest, multi_line_string_counts_lines) {
  const auto tree = parse("a \"x\ny\";\nb;\n");
  EXPECT_EQ(tree[1].where.line, 3u);
}

TEST(NginxConfigTest, braced_variable_stays_in_the_word) {
  const auto tree = parse("return 200 ${server_port}x;\nserver{listen 1;}\n");
  EXPECT_THAT(tree[0].args, ElementsAre("200", "${server_port}x"));
  EXPECT_EQ(tree[1].name, "server");
  EXPECT_TRUE(tree[1].has_block);
}

TEST(NginxConfigTest, nested_blocks) {
  const auto tree = parse("a { b { c { d 1; } } e; }");
  EXPECT_EQ(tree[0].block[0].block[0].block[0].name, "d");
  EXPECT_EQ(tree[0].block[1].name, "e");
}

TEST(NginxConfigTest, errors_name_file_and_line) {
  EXPECT_THAT(error_of("http {\n  server {\n  }\n"),
              HasSubstr("/etc/nginx/test.conf:1: unbalanced braces"));
  EXPECT_THAT(error_of("a;\n}\n"), HasSubstr("/etc/nginx/test.conf:2: unbalanced braces"));
  EXPECT_THAT(error_of("a;\nreturn 200 \"abc;\n\n"),
              HasSubstr("/etc/nginx/test.conf:2: unterminated string"));
  EXPECT_THAT(error_of("listen 80\n"), HasSubstr("test.conf:2: directive \"listen\" (line 1)"));
  EXPECT_THAT(error_of("a;\n;\n"), HasSubstr("test.conf:2: unexpected \";\""));
  EXPECT_THAT(error_of("\n{ }\n"), HasSubstr("test.conf:2: unexpected \"{\""));
  EXPECT_THAT(error_of("return \"a\"b;"), HasSubstr("test.conf:1: unexpected \"b\""));
  EXPECT_THAT(error_of("a {\n b;\n } }"), HasSubstr("test.conf:3: unbalanced braces"));
}

TEST(NginxConfigTest, json_or_yaml_is_not_nginx_config) {
  EXPECT_THAT(error_of("{\"mode\": \"parse\"}"), HasSubstr("test.conf:1: unexpected \"{\""));
  EXPECT_THAT(error_of("mode: parse\nnext: 127.0.0.1\n"), HasSubstr("is not terminated"));
}

TEST(NginxConfigTest, include_with_glob_relative_to_the_including_file) {
  test::TempDir dir("ipm-nginx");
  std::filesystem::create_directories(dir / "conf.d");
  test::write_file(dir / "nginx.conf", "http {\n  include conf.d/*.conf;\n  tail;\n}\n");
  test::write_file(dir / "conf.d/b.conf", "b 2;\n");
  test::write_file(dir / "conf.d/a.conf", "a 1;\ninclude sub.inc;\n");
  test::write_file(dir / "conf.d/sub.inc", "deep 3;\n");
  test::write_file(dir / "conf.d/ignored.txt", "ignored;\n");
  const auto tree = read_nginx_config(dir / "nginx.conf");
  ASSERT_EQ(tree.size(), 1u);
  const auto& http = tree[0].block;
  ASSERT_EQ(http.size(), 4u);
  EXPECT_EQ(http[0].name, "a");
  EXPECT_EQ(http[0].where.file, (dir / "conf.d/a.conf").string());
  EXPECT_EQ(http[1].name, "deep");
  EXPECT_EQ(http[2].name, "b");
  EXPECT_EQ(http[3].name, "tail");
}

TEST(NginxConfigTest, include_relative_to_the_root_file_as_nginx_conf_prefix) {
  test::TempDir dir("ipm-nginx");
  std::filesystem::create_directories(dir / "sites");
  test::write_file(dir / "nginx.conf", "include sites/one.conf;\n");
  test::write_file(dir / "sites/one.conf", "include pool.conf;\n");  // next to nginx.conf
  test::write_file(dir / "pool.conf", "x;\n");
  const auto tree = read_nginx_config(dir / "nginx.conf");
  ASSERT_EQ(tree.size(), 1u);
  EXPECT_EQ(tree[0].name, "x");
}

TEST(NginxConfigTest, missing_include_and_cycle_are_errors) {
  test::TempDir dir("ipm-nginx");
  test::write_file(dir / "a.conf", "x;\n\ninclude nothere.conf;\n");
  try {
    read_nginx_config(dir / "a.conf");
    FAIL() << "no error";
  } catch (const NginxConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("a.conf:3: include file not found: nothere.conf"));
  }
  test::write_file(dir / "b.conf", "include c.conf;\n");
  test::write_file(dir / "c.conf", "\ninclude b.conf;\n");
  try {
    read_nginx_config(dir / "b.conf");
    FAIL() << "no error";
  } catch (const NginxConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("c.conf:2: include cycle"));
  }
  // A glob matching nothing is fine, as in nginx.
  test::write_file(dir / "d.conf", "include none/*.conf;\ny;\n");
  EXPECT_EQ(read_nginx_config(dir / "d.conf").size(), 1u);
  EXPECT_THROW(read_nginx_config(dir / "absent.conf"), NginxConfigError);
}

TEST(NginxConfigTest, nginx_dash_T_output_resolves_includes_inside_the_dump) {
  const std::string dump =
      "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
      "nginx: configuration file /etc/nginx/nginx.conf test is successful\n"
      "# configuration file /etc/nginx/nginx.conf:\n"
      "events {}\n"
      "http {\n"
      "    include /etc/nginx/conf.d/*.conf;\n"
      "}\n"
      "\n"
      "# configuration file /etc/nginx/conf.d/pool.conf:\n"
      "server {\n"
      "  listen 19001;\n"
      "  proxy_bind 10.0.0.1\n"
      "}\n";
  try {
    parse_nginx_config(dump, "dump.txt");
    FAIL() << "no error";
  } catch (const NginxConfigError& e) {
    // The error names the file in the dump and the line in the dump itself.
    EXPECT_THAT(e.what(), HasSubstr("/etc/nginx/conf.d/pool.conf:4 (dump.txt:13)"));
  }
  std::string fixed = dump;
  fixed.replace(fixed.find("10.0.0.1\n"), 9, "10.0.0.1;\n");
  const auto tree = parse_nginx_config(fixed, "dump.txt");
  ASSERT_EQ(tree.size(), 2u);
  const auto& server = tree[1].block[0];
  EXPECT_EQ(server.name, "server");
  EXPECT_EQ(server.where.file, "/etc/nginx/conf.d/pool.conf");
  EXPECT_EQ(server.where.line, 1u);
  EXPECT_EQ(server.where.container_line, 10u);
}

TEST(NginxLexerTest, end_of_text_and_token_kinds) {
  NginxLexer lexer("a{b;}");
  EXPECT_EQ(lexer.next().text, "a");
  EXPECT_EQ(lexer.next().kind, NginxToken::Kind::block_start);
  EXPECT_EQ(lexer.next().text, "b");
  EXPECT_EQ(lexer.next().kind, NginxToken::Kind::semicolon);
  EXPECT_EQ(lexer.next().kind, NginxToken::Kind::block_end);
  EXPECT_EQ(lexer.next().kind, NginxToken::Kind::end);
  EXPECT_EQ(lexer.next().kind, NginxToken::Kind::end);
}

}  // namespace
}  // namespace ipm::scanner
