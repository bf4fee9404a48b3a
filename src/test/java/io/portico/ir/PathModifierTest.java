package io.portico.ir;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Gateway API HTTPPathModifier: ReplaceFullPath, and ReplacePrefixMatch with its spec table. */
class PathModifierTest {

  @ParameterizedTest(name = "{0} with prefix {1} and replacement ''{2}'': {3}")
  @CsvSource({
      // The table in the Gateway API's HTTPPathModifier.ReplacePrefixMatch documentation.
      "/foo/bar,  /foo,   /xyz,    /xyz/bar",
      "/foo/bar,  /foo,   /xyz/,   /xyz/bar",
      "/foo/bar,  /foo/,  /xyz,    /xyz/bar",
      "/foo/bar,  /foo/,  /xyz/,   /xyz/bar",
      "/foo,      /foo,   /xyz,    /xyz",
      "/foo/,     /foo,   /xyz,    /xyz/",
      "/foo/bar,  /foo,   '',      /bar",
      "/foo/,     /foo,   '',      /",
      "/foo,      /foo,   '',      /",
      "/foo/,     /foo,   /,       /",
      "/foo,      /foo,   /,       /",
      // The conformance test HTTPRouteRewritePath and HTTPRouteRedirectPath.
      "/prefix/one/two,  /prefix/one,   /one,                 /one/two",
      "/strip-prefix/three, /strip-prefix, /,                 /three",
      "/strip-prefix,    /strip-prefix,  /,                   /",
      "/prefix/rewrite-path-and-modify-headers/one, /prefix/rewrite-path-and-modify-headers, /prefix, /prefix/one",
      "/original-prefix/lemon, /original-prefix, /replacement-prefix, /replacement-prefix/lemon",
      "/path-and-host,   /path-and-host, /replacement-prefix, /replacement-prefix",
      // A prefix of "/" matches every path: the replacement goes in front of it.
      "/,        /,      /xyz,    /xyz/",
      "/a/b,     /,      /xyz,    /xyz/a/b",
      "/a/b,     /,      '',      /a/b",
      "/a/b,     /,      /,       /a/b",
      // Multi-segment prefixes, deeper remainders.
      "/a/b/c/d, /a/b,   /x/y,    /x/y/c/d",
      "/a/b/,    /a/b/,  /x,      /x/",
  })
  void replacePrefixMatchFollowsTheSpecTable(String path, String prefix, String replacement,
      String expected) {
    PathModifier modifier = PathModifier.replacePrefixMatch(replacement);
    assertThat(modifier.apply(path, PathMatch.prefix(prefix))).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0} matched by {1}: {2}")
  @CsvSource({
      "/full/one/two,  /full/one,  /one",
      "/full/one,      /full/one,  /one",
      "/anything,      /,          /one",
  })
  void replaceFullPathReplacesTheWholePath(String path, String prefix, String expected) {
    assertThat(PathModifier.replaceFullPath("/one").apply(path, PathMatch.prefix(prefix)))
        .isEqualTo(expected);
  }

  @ParameterizedTest(name = "replacement ''{0}'' is stored as ''{1}''")
  @CsvSource({"/xyz/, /xyz", "/, ''", "'', ''", "/a/b, /a/b"})
  void prefixReplacementIsStoredWithoutItsTrailingSlash(String written, String stored) {
    assertThat(PathModifier.replacePrefixMatch(written).value()).isEqualTo(stored);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"/foo", "/foo/bar"})
  void prefixReplacementLeavesPathsOfOtherMatchTypesAlone(String path) {
    PathModifier modifier = PathModifier.replacePrefixMatch("/xyz");
    assertThat(modifier.apply(path, PathMatch.exact(path))).isEqualTo(path);
  }
}
