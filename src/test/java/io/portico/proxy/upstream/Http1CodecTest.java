package io.portico.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The upstream connections' codec on an embedded channel: answers paired with their requests
 * (HEAD, interim answers, CONNECT) and header names read as the backend spelled them.
 */
class Http1CodecTest {

  private final EmbeddedChannel channel = new EmbeddedChannel(
      new Http1Codec(new HttpDecoderConfig()));

  @AfterEach
  void close() {
    channel.finishAndReleaseAll();
  }

  private void send(HttpMethod method) {
    channel.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, "/"));
    ReferenceCountUtil.release(channel.readOutbound());
  }

  /** Feeds {@code text} to the decoder and returns what it decoded (the caller releases it). */
  private List<Object> answer(String text) {
    channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    List<Object> decoded = new ArrayList<>();
    for (Object message; (message = channel.readInbound()) != null; ) {
      decoded.add(message);
    }
    return decoded;
  }

  private static String body(List<Object> decoded) {
    StringBuilder body = new StringBuilder();
    for (Object message : decoded) {
      if (message instanceof HttpContent content) {
        body.append(content.content().toString(StandardCharsets.ISO_8859_1));
      }
      ReferenceCountUtil.release(message);
    }
    return body.toString();
  }

  @Test
  void anAnswerToHeadHasNoBodyWhateverItsContentLength() {
    send(HttpMethod.HEAD);
    send(HttpMethod.GET);

    List<Object> decoded = answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");

    assertThat(decoded.stream().filter(m -> m instanceof HttpResponse)).hasSize(2);
    assertThat(decoded.stream().filter(m -> m instanceof LastHttpContent)).hasSize(2);
    assertThat(body(decoded)).isEqualTo("hello"); // the GET's: the HEAD's 5 bytes were not read
  }

  @Test
  void anInterimAnswerLeavesItsRequestWaitingForTheFinalOne() {
    send(HttpMethod.HEAD);

    List<Object> decoded = answer("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n");

    List<Integer> statuses = decoded.stream().filter(m -> m instanceof HttpResponse)
        .map(m -> ((HttpResponse) m).status().code()).toList();
    assertThat(statuses).containsExactly(103, 200);
    assertThat(body(decoded)).isEmpty(); // still the HEAD's answer: no body
  }

  @Test
  void aConnectAnsweredTwoHundredBecomesATunnel() {
    send(HttpMethod.CONNECT);

    List<Object> decoded = answer("HTTP/1.1 200 Connection Established\r\n\r\nGET raw bytes");

    assertThat(decoded.get(0)).isInstanceOf(HttpResponse.class);
    StringBuilder raw = new StringBuilder();
    for (Object message : decoded) {
      if (message instanceof ByteBuf bytes) {
        raw.append(bytes.toString(StandardCharsets.ISO_8859_1));
      }
      ReferenceCountUtil.release(message);
    }
    assertThat(raw.toString()).isEqualTo("GET raw bytes");
  }

  @Test
  void headerNamesKeepTheBackendsSpellingAndCommonOnesAreShared() {
    send(HttpMethod.GET);
    send(HttpMethod.GET);

    List<Object> first = answer("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n"
        + "X-Custom: 1\r\nContent-Length: 0\r\n\r\n");
    List<Object> second = answer("HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n"
        + "content-length: 0\r\n\r\n");

    HttpResponse a = (HttpResponse) first.get(0);
    HttpResponse b = (HttpResponse) second.get(0);
    List<String> namesA = new ArrayList<>();
    for (Map.Entry<CharSequence, CharSequence> header : iterable(a)) {
      namesA.add(header.getKey().toString());
    }
    assertThat(namesA).containsExactly("content-type", "X-Custom", "Content-Length");
    assertThat(b.status().code()).isEqualTo(404);
    assertThat(b.status().reasonPhrase()).isEqualTo("Not Found");
    assertThat(b.headers().get("content-type")).isEqualTo("text/html");
    body(first);
    body(second);
  }

  private static Iterable<Map.Entry<CharSequence, CharSequence>> iterable(HttpResponse response) {
    return response.headers()::iteratorCharSequence;
  }

  @Test
  void constantsAreFoundByExactBytesOnly() {
    byte[] line = "xxContent-Typexx".getBytes(StandardCharsets.ISO_8859_1);
    Object found = Http1Codec.KNOWN_NAMES.find(line, 2, 12);
    assertThat(String.valueOf(found)).isEqualTo("Content-Type");
    assertThat((Object) Http1Codec.KNOWN_NAMES.find(line, 2, 12))
        .isSameAs(found); // the same constant every time, no copy
    assertThat(String.valueOf(find("content-type"))).isEqualTo("content-type");
    assertThat(find("CONTENT-TYPE")).isNull(); // decoded as sent, by Netty
    assertThat(find("Content-Tyqe")).isNull();
    byte[] version = "HTTP/1.1".getBytes(StandardCharsets.ISO_8859_1);
    assertThat((Object) Http1Codec.KNOWN_STATUS_WORDS.find(version, 0, version.length))
        .isEqualTo("HTTP/1.1");
  }

  private static Object find(String name) {
    byte[] bytes = name.getBytes(StandardCharsets.ISO_8859_1);
    return Http1Codec.KNOWN_NAMES.find(bytes, 0, bytes.length);
  }
}
