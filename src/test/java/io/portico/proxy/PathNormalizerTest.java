package io.portico.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 3986 section 5.2.4 dot-segment removal for request paths. */
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
  })
  void removesDotSegments(String path, String expected) {
    assertThat(PathNormalizer.normalize(path)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0} is returned as is")
  @ValueSource(strings = {"/", "/a", "/a/b", "/a/b/", "/a.b/c", "/a..b", "/a/b.", "//a", "/a//b",
      "/v1.2/x", "/a%20b"})
  void pathWithoutDotSegmentsIsReturnedAsTheSameInstance(String literal) {
    String path = new String(literal);
    assertThat(PathNormalizer.normalize(path)).isSameAs(path);
  }
}
