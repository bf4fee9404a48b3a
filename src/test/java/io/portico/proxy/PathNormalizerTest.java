package io.portico.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Path canonicalisation as Envoy Gateway's defaults: RFC 3986 dot-segment removal, unreserved
 * characters decoded, slashes merged, escaped slashes decoded and redirected, fragments refused.
 */
class PathNormalizerTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "/a/./b,              /a/b",
      "/a/../b,             /b",
      "/../x,               /x",
      "/../../x,            /x",
      "/a/b/..,             /a/",
      "/a/b/.,              /a/b/",
      "/a/..,               /",
      "/..,                 /",
      "/.,                  /",
      "/./,                 /",
      "/a/b/../../c,        /c",
      "/a/./../b,           /b",
      "/a/b/../c/./d,       /a/c/d",
      "/public/../admin,    /admin",
      "/public/./../admin/, /admin/",
      "/a/./b/./c/.,        /a/b/c/",
      "/a//../b,            /a/b",
      "/a/.b,               /a/.b",
      "/a/..b/c,            /a/..b/c",
      "/a/b../c,            /a/b../c",
      "/a/.../b,            /a/.../b",
      "/.well-known/x,      /.well-known/x",
      "/public/%2e%2e/admin, /admin",
      "/public/%2E%2E/admin, /admin",
      "/a/%2e/b,            /a/b",
      "/a%20b/c,            /a%20b/c",
      "//api/x,             /api/x",
      "/api//x///y,         /api/x/y",
      "/a///b//,            /a/b/",
      "/%61pi/x,            /api/x",
      "/%41PI%2d%5F%7e%30,  /API-_~0",
      "/%2e%2e/x,           /x",
      "/api/..%2fadmin-exact, /admin-exact",
      "/api/%2e%2e%2Fadmin, /admin",
      "/a%2fb,              /a/b",
      "/a%5Cb,              /a/b",
      "/a\\b,              /a/b",
      "/a%2Bb,              /a%2Bb",
      "/a%zz,               /a%zz",
      "/a%2,                /a%2",
      "/a%,                 /a%",
      "/%2F%2F/x,           /x",
  })
  void removesDotSegments(String path, String expected) {
    assertThat(PathNormalizer.normalize(path)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0}: {1} {2}")
  @CsvSource({
      "/api/x?q=1,                          SERVE,    /api/x",
      "//api/x,                             SERVE,    /api/x",
      "/%61pi/x?a=%2F,                      SERVE,    /api/x",
      "/api/..%2fadmin-exact?x=1,           REDIRECT, /admin-exact?x=1",
      "/a%5Cb,                              REDIRECT, /a/b",
      "/a%2F%2Fb,                           REDIRECT, /a/b",
      "http://app.example.com/%61pi?x=1,    SERVE,    /api",
      "http://app.example.com,              SERVE,    /",
      "http://app.example.com?x=1,          SERVE,    /",
      "http://app.example.com/a%2fb?x=1,    REDIRECT, /a/b?x=1",
      "*,                                   SERVE,    *",
  })
  void requestTargetsAreServedOrRedirectedCanonical(String target,
      PathNormalizer.Result.Outcome outcome, String path) {
    PathNormalizer.Result result = PathNormalizer.canonicalize(target);
    assertThat(result.outcome()).isEqualTo(outcome);
    assertThat(result.path()).isEqualTo(path);
  }

  @ParameterizedTest(name = "{0} is refused")
  @ValueSource(strings = {"/a#frag", "/a?x=1#frag", "/#", "/%2F#x", "http://h/a#b"})
  void fragmentsAreRefused(String target) {
    PathNormalizer.Result result = PathNormalizer.canonicalize(target);
    assertThat(result.outcome()).isEqualTo(PathNormalizer.Result.Outcome.REJECT);
    assertThat(result.detail()).contains("fragment");
  }

  @ParameterizedTest(name = "{0} is returned as is")
  @ValueSource(strings = {"/", "/a", "/a/b", "/a/b/", "/a.b/c", "/a..b", "/a/b.",
      "/v1.2/x", "/a%20b", "/a%2Bb", "/a%C3%A9"})
  void pathWithoutDotSegmentsIsReturnedAsTheSameInstance(String literal) {
    String path = new String(literal);
    assertThat(PathNormalizer.normalize(path)).isSameAs(path);
  }
}
