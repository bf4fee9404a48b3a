package io.portico.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.util.AsciiString;
import io.vertx.core.MultiMap;
import io.vertx.core.http.impl.headers.HeadersAdaptor;
import io.vertx.core.http.impl.headers.HeadersMultiMap;
import io.vertx.core.http.impl.headers.Http2HeadersAdaptor;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Copying headers across the proxy without the hop-by-hop ones (RFC 9110 section 7.6.1). */
class HopByHopHeadersTest {

  private static MultiMap headers(String... namesAndValues) {
    MultiMap map = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      map.add(namesAndValues[i], namesAndValues[i + 1]);
    }
    return map;
  }

  private static MultiMap copy(MultiMap from, String skip) {
    MultiMap to = MultiMap.caseInsensitiveMultiMap();
    HopByHopHeaders.copy(from, to, skip);
    return to;
  }

  @ParameterizedTest(name = "{0} is dropped")
  @ValueSource(strings = {
      "Connection", "connection", "CONNECTION",
      "Keep-Alive", "keep-alive",
      "TE", "te",
      "Transfer-Encoding", "transfer-encoding",
      "Upgrade", "upgrade",
      "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection", "proxy-connection",
      "Trailer", "trailer",
  })
  void dropsHopByHopHeadersInAnyCase(String name) {
    MultiMap to = copy(headers(name, "x", "Accept", "*/*"), null);
    assertThat(to.contains(name)).isFalse();
    assertThat(to.get("accept")).isEqualTo("*/*");
    assertThat(to.size()).isEqualTo(1);
    assertThat(HopByHopHeaders.isHopByHop(name)).isTrue();
  }

  @ParameterizedTest(name = "{0} is kept")
  @ValueSource(strings = {"Content-Type", "Content-Length", "Accept", "Authorization",
      "X-Forwarded-For", "Cookie", "Set-Cookie", "Trailers", "X-Upgrade", "Tea", "Connection-Id"})
  void keepsEndToEndHeaders(String name) {
    MultiMap to = copy(headers(name, "v"), null);
    assertThat(to.get(name)).isEqualTo("v");
    assertThat(HopByHopHeaders.isHopByHop(name)).isFalse();
  }

  @ParameterizedTest(name = "Connection: \"{0}\" drops x-foo and x-bar")
  @ValueSource(strings = {
      "x-foo, x-bar",
      "X-Foo,X-Bar",
      "close, x-foo, x-bar",
      "x-foo,close,x-bar",
      "  x-foo  ,  keep-alive , X-BAR ",
      "keep-alive,,x-foo,,x-bar,",
  })
  void dropsHeadersNamedInConnection(String connection) {
    MultiMap from = headers("Connection", connection, "X-Foo", "1", "x-bar", "2", "X-Baz", "3");
    MultiMap to = copy(from, null);
    assertThat(to.names()).containsExactly("X-Baz");
  }

  @ParameterizedTest(name = "Connection: \"{0}\" keeps {1}")
  @CsvSource({
      "x-foo-bar,  x-foo",
      "x-foo,      x-foo-bar",
      "x-foo,      x-fo",
      "'x foo',    x-foo",
      "close,      x-close",
  })
  void connectionTokensMatchWholeHeaderNamesOnly(String connection, String header) {
    MultiMap to = copy(headers("Connection", connection, header, "v"), null);
    assertThat(to.get(header)).isEqualTo("v");
  }

  @Test
  void keepsRepeatedValuesInOrder() {
    MultiMap from = headers("Accept", "text/html", "Set-Cookie", "a=1", "accept", "application/json",
        "Set-Cookie", "b=2", "Connection", "keep-alive");
    MultiMap to = copy(from, null);
    assertThat(to.getAll("accept")).containsExactly("text/html", "application/json");
    assertThat(to.getAll("set-cookie")).containsExactly("a=1", "b=2");
  }

  @ParameterizedTest(name = "skip {0} drops Host")
  @ValueSource(strings = {"host", "Host", "HOST"})
  void skipsTheNamedHeaderInAnyCase(String skip) {
    MultiMap to = copy(headers("Host", "example.com", "Accept", "*/*"), skip);
    assertThat(to.contains("host")).isFalse();
    assertThat(to.get("accept")).isEqualTo("*/*");
  }

  @Test
  void addsToExistingDestinationHeaders() {
    MultiMap to = headers("Via", "1.1 portico");
    HopByHopHeaders.copy(headers("Via", "1.1 upstream"), to, null);
    assertThat(to.getAll("via")).containsExactly("1.1 portico", "1.1 upstream");
  }

  @Test
  void dropsHeadersNamedInAnyOfSeveralConnectionLines() {
    MultiMap from = MultiMap.caseInsensitiveMultiMap()
        .add("Connection", "keep-alive")
        .add("Connection", "X-Secret")
        .add("X-Secret", "s")
        .add("X-Kept", "k");
    MultiMap to = MultiMap.caseInsensitiveMultiMap();

    HopByHopHeaders.copy(from, to, null);

    assertThat(to.names()).containsExactly("X-Kept");
  }

  /** An upstream answer's headers come as Netty headers wrapped in Vert.x's adaptor. */
  @Test
  void copiesAnAnswersWrappedHeadersAsTheyWereDecoded() {
    AsciiString server = AsciiString.of("server");
    DefaultHttpHeaders decoded = new DefaultHttpHeaders();
    decoded.add(server, "nginx");
    decoded.add("Connection", "keep-alive, x-hop");
    decoded.add("X-Hop", "1");
    decoded.add("Transfer-Encoding", "chunked");
    decoded.add("Set-Cookie", "a=1");
    decoded.add("Set-Cookie", "b=2");
    HeadersMultiMap to = HeadersMultiMap.httpHeaders();

    HopByHopHeaders.copy(new HeadersAdaptor(decoded), to, null);

    assertThat(to.names()).containsExactlyInAnyOrder("server", "Set-Cookie");
    assertThat(to.getAll("set-cookie")).containsExactly("a=1", "b=2");
    // The decoder's name itself was copied, not a String made from it.
    Iterator<Map.Entry<CharSequence, CharSequence>> entries = to.iteratorCharSequence();
    assertThat(entries.next().getKey()).isSameAs(server);
  }

  /**
   * Into an HTTP/2 message, names go lowered once and then reused: Vert.x would otherwise make
   * a new lower-case String of every capitalised name of every answer.
   */
  @Test
  void givesHttp2TheSameLowerCaseNameEveryTime() {
    DefaultHttp2Headers first = new DefaultHttp2Headers();
    DefaultHttp2Headers second = new DefaultHttp2Headers();
    for (DefaultHttp2Headers to : java.util.List.of(first, second)) {
      DefaultHttpHeaders decoded = new DefaultHttpHeaders();
      decoded.add("Content-Type", "text/plain");
      decoded.add("x-already-lower", "1");
      HopByHopHeaders.copy(new HeadersAdaptor(decoded), new Http2HeadersAdaptor(to), null);
    }

    CharSequence name = first.iterator().next().getKey();
    assertThat(name.toString()).isEqualTo("content-type");
    assertThat(second.iterator().next().getKey()).isSameAs(name);
    assertThat(first.get("x-already-lower").toString()).isEqualTo("1");
    assertThat(first.size()).isEqualTo(2);
  }

  /** Whatever names backends send, the kept names stay a fixed table. */
  @Test
  void keepsLowerCaseNamesInAFixedTable() {
    for (int i = 0; i < 10_000; i++) {
      assertThat(LowerCaseHeaderNames.of("X-Name-" + i).toString()).isEqualTo("x-name-" + i);
    }
    CharSequence lower = "already-lower";
    assertThat(LowerCaseHeaderNames.of(lower)).isSameAs(lower);
  }
}
