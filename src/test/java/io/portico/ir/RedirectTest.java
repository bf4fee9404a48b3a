package io.portico.ir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Gateway API HTTPRequestRedirectFilter: how the Location is built from the filter and the
 * request, including the spec's port rules.
 */
class RedirectTest {

  private static final PathMatch ANY = PathMatch.ANY;

  private static Integer port(String value) {
    return value == null || value.isEmpty() ? null : Integer.valueOf(value);
  }

  private static String empty(String value) {
    return value == null || value.isEmpty() ? null : value;
  }

  /**
   * Request: {@code <requestScheme>://gw.example:<listener>/p?q=1} on a listener of port
   * {@code listenerPort}. The rows of conformance HTTPRouteRedirectPortAndScheme are here with
   * the spec's rules: an explicit port is shown unless it is the scheme's default; without a
   * port, a scheme change uses that scheme's well-known port and no scheme keeps the listener's.
   */
  @ParameterizedTest(name = "{0} listener {1}, scheme={2} port={3}: {4}")
  @CsvSource({
      // listener on 80, plain HTTP
      "http,  80,   ,      ,      http://example.org/p?q=1",
      "http,  80,   ,      80,    http://example.org/p?q=1",
      "http,  80,   ,      8080,  http://example.org:8080/p?q=1",
      "http,  80,   https, ,      https://example.org/p?q=1",
      "http,  80,   https, 443,   https://example.org/p?q=1",
      "http,  80,   https, 8443,  https://example.org:8443/p?q=1",
      // listener on 8080
      "http,  8080, ,      ,      http://example.org:8080/p?q=1",
      "http,  8080, ,      80,    http://example.org/p?q=1",
      "http,  8080, https, ,      https://example.org/p?q=1",
      // listener on 443 (HTTPS)
      "https, 443,  ,      ,      https://example.org/p?q=1",
      "https, 443,  ,      443,   https://example.org/p?q=1",
      "https, 443,  ,      8443,  https://example.org:8443/p?q=1",
      "https, 443,  http,  ,      http://example.org/p?q=1",
      "https, 443,  http,  80,    http://example.org/p?q=1",
      "https, 443,  http,  8080,  http://example.org:8080/p?q=1",
      // HTTPRouteRedirectPort: port 8083 on the port-80 listener
      "http,  80,   ,      8083,  http://example.org:8083/p?q=1",
      // port 443 with http and 80 with https are not defaults: shown
      "http,  80,   ,      443,   http://example.org:443/p?q=1",
      "http,  80,   https, 80,    https://example.org:80/p?q=1",
  })
  void portFollowsTheSpecRules(String requestScheme, int listenerPort, String scheme,
      String port, String expected) {
    Redirect redirect = new Redirect(empty(scheme), "example.org", port(port), null, 302);
    assertThat(redirect.location(requestScheme, "gw.example", listenerPort, "/p", "q=1", ANY))
        .isEqualTo(expected);
  }

  @Test
  void unsetFieldsKeepTheRequestsHostPathAndQuery() {
    Redirect redirect = new Redirect(null, null, null, null, 301);
    assertThat(redirect.location("http", "app.example.com", 80, "/a/b", null, ANY))
        .isEqualTo("http://app.example.com/a/b");
    assertThat(redirect.location("http", "app.example.com", 8080, "/a/b", "x=1&y", ANY))
        .isEqualTo("http://app.example.com:8080/a/b?x=1&y");
  }

  @Test
  void schemeAloneRedirectsToTheSchemesDefaultPort() {
    // HTTPRouteRedirectScheme: same host, no port (443 is https' default).
    Redirect redirect = new Redirect("https", null, null, null, 302);
    assertThat(redirect.location("http", "gw.example", 80, "/scheme", null, ANY))
        .isEqualTo("https://gw.example/scheme");
    assertThat(redirect.location("http", "gw.example", 8080, "/scheme", null, ANY))
        .isEqualTo("https://gw.example/scheme");
  }

  @Test
  void pathModifiersUseTheMatchedPrefix() {
    Redirect prefix = new Redirect(null, "example.org", null,
        PathModifier.replacePrefixMatch("/replacement-prefix"), 302);
    assertThat(prefix.location("http", "gw", 80, "/original-prefix/lemon", null,
        PathMatch.prefix("/original-prefix")))
        .isEqualTo("http://example.org/replacement-prefix/lemon");
    Redirect full = new Redirect(null, null, null,
        PathModifier.replaceFullPath("/full-path-replacement"), 302);
    assertThat(full.location("http", "gw", 80, "/full/path/original", "a=b",
        PathMatch.prefix("/full")))
        .isEqualTo("http://gw/full-path-replacement?a=b");
  }

  @Test
  void ipv6HostsAreBracketed() {
    Redirect redirect = new Redirect(null, null, 8083, null, 302);
    assertThat(redirect.location("http", "::1", 80, "/", null, ANY))
        .isEqualTo("http://[::1]:8083/");
    assertThat(redirect.location("http", "[::1]", 80, "/", null, ANY))
        .isEqualTo("http://[::1]:8083/");
  }

  @Test
  void refusesWhatTheSpecDoesNotAllow() {
    assertThatThrownBy(() -> new Redirect("ftp", null, null, null, 301))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Redirect(null, null, 0, null, 301))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Redirect(null, null, null, null, 300))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
