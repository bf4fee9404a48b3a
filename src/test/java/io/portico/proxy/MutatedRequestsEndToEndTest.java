package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.RawHttp2;
import io.portico.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static io.portico.proxy.ProxyEndToEndTest.gatewayYaml;
import static io.portico.proxy.ProxyEndToEndTest.route;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile HTTP/1.1 by the thousand: well-formed requests of every shape Portico serves (bodies
 * of both framings, absolute-form and asterisk targets, WebSocket and h2c upgrades, the HTTP/2
 * preface) mutated at random (bytes deleted, replaced, repeated; CR, LF, NUL, '%', huge
 * fields, framing headers inserted), some pipelined, each sent on its own connection that the
 * client then half-closes. Every connection must end (answered or closed) within 10 s, no
 * exception may reach a proxy event loop unhandled (each would be a bug: a request left
 * unanswered, a connection left open), and the gateway keeps serving. The seed is fixed, so a
 * failure replays; the mutations are those that found the unparseable-authority and
 * upgrade-handshake bugs (session 16). HTTP/2 frames get the same treatment (600
 * conversations): the log noise it found is {@link LibraryLogs}' (session 17).
 */
class MutatedRequestsEndToEndTest {

  private static final int REQUESTS = 1_500;
  private static final long SEED = 16;

  private static final String[] BASES = {
      "GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n",
      "POST /app HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 5\r\n\r\nhello",
      "POST /app HTTP/1.1\r\nHost: app.example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello\r\n0\r\n\r\n",
      "GET /app?x=1&y=%41 HTTP/1.1\r\nHost: app.example.com\r\nCookie: session_id=abc\r\n"
          + "Connection: keep-alive\r\n\r\n",
      "GET / HTTP/1.0\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: app.example.com\r\n\r\n",
      "GET http://other.example.com/app HTTP/1.1\r\nHost: app.example.com\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: app.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: app.example.com\r\nUpgrade: h2c\r\n"
          + "Connection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
  };

  private static final String[] TOKENS = {
      "\r\n", "\n", "\r", "\0", " ", "\t", ":", "%", "%00", "%2e%2e/", "../", "\u00ff", "\u007f",
      "0", "-1", "99999999999999999999", "chunked", "Content-Length: 3\r\n",
      "Transfer-Encoding: chunked\r\n", "Expect: 100-continue\r\n", "Host: x\r\n",
      "Connection: close\r\n", "TE: trailers\r\n", "Upgrade: websocket\r\n", "\r\n\r\n",
      "HTTP/1.1", "HTTP/9.9", "a".repeat(9_000), "GET", "X-" + "b".repeat(70_000) + ": v\r\n",
      "ff\r\n", "0;ext=1\r\n", "Trailer: x\r\n",
  };

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private final HttpProbe probe = new HttpProbe();
  private final int port = TestGateway.freePort();
  private TestGateway gateway;

  @BeforeEach
  void start() {
    fleet.service("default", "web", 2).service("default", "other", 1);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", route("app", "app.example.com", """
            - backendRefs: [{name: web, port: 80}]
            """) + "---\n" + route("other", "other.example.com", """
            - backendRefs: [{name: other, port: 80}]
            """));
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    fleet.close();
  }

  @Test
  void everyMutatedRequestEndsAndNothingReachesAnEventLoopUnhandled() throws IOException {
    Random random = new Random(SEED);
    long bugsBefore = ClientFailures.unhandled();
    List<String> unended = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      byte[] request = mutate(random, BASES[random.nextInt(BASES.length)]);
      if (random.nextInt(10) < 3) { // pipelined: a second mutated request right behind
        request = concat(request, mutate(random, BASES[random.nextInt(BASES.length)]));
      }
      if (!ends(request)) {
        unended.add(new String(request, 0, Math.min(request.length, 200),
            StandardCharsets.ISO_8859_1));
      }
    }
    assertThat(unended).as("requests whose connection neither closed nor answered in 10 s")
        .isEmpty();
    assertThat(ClientFailures.unhandled() - bugsBefore)
        .as("exceptions that reached a proxy event loop unhandled (see the log)").isZero();
    assertThat(probe.get(port, "app.example.com", "/after").status()).isEqualTo(200);
  }

  /**
   * The same for HTTP/2 in cleartext (prior knowledge): conversations of frames (SETTINGS,
   * requests with and without a body, an {@code :authority} with a bad '%', a Host other than
   * the {@code :authority}, RST_STREAM, PING, WINDOW_UPDATE, GOAWAY) mutated after the preface
   * (mostly) or within it. Every connection ends, nothing reaches an event loop unhandled, and
   * what Vert.x and Netty would log per connection for a client breaking the protocol stays out
   * of the log (see {@link LibraryLogs}).
   */
  @Test
  void everyMutatedHttp2ConversationEndsAndNothingIsLoggedPerConnection() throws IOException {
    Random random = new Random(SEED);
    long bugsBefore = ClientFailures.unhandled();
    long protocolErrorsBefore = ClientFailures.total(ClientFailureCause.PROTOCOL_ERROR);
    List<String> unended = new ArrayList<>();
    java.io.PrintStream stderr = System.err;
    ByteArrayOutputStream logged = new ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(logged, true, StandardCharsets.UTF_8));
    try {
      for (int i = 0; i < HTTP2_CONVERSATIONS; i++) {
        byte[] conversation = mutateFrames(random, http2Conversation(random));
        if (!ends(conversation)) {
          unended.add(java.util.HexFormat.of().formatHex(conversation, 0,
              Math.min(conversation.length, 120)));
        }
      }
    } finally {
      System.setErr(stderr);
    }
    assertThat(unended).as("HTTP/2 connections neither closed nor answered in 10 s").isEmpty();
    assertThat(ClientFailures.unhandled() - bugsBefore)
        .as("exceptions that reached a proxy event loop unhandled (see the log)").isZero();
    assertThat(ClientFailures.total(ClientFailureCause.PROTOCOL_ERROR))
        .as("the mutations broke the protocol, and that was counted")
        .isGreaterThan(protocolErrorsBefore);
    assertThat(logged.toString(StandardCharsets.UTF_8)).doesNotContain("ConnectionBase")
        .doesNotContain("\tat ");
    assertThat(probe.get(port, "app.example.com", "/after").status()).isEqualTo(200);
  }

  private static final int HTTP2_CONVERSATIONS = 600;
  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);

  /** A conversation a client could send, before mutation: the preface, SETTINGS, 1-6 frames. */
  private static byte[] http2Conversation(Random random) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(PREFACE);
    RawHttp2.frame(out, 0x4, 0, 0, new byte[0]);
    io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder encoder =
        new io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder();
    int stream = 1;
    for (int f = 1 + random.nextInt(6); f > 0; f--, stream += 2) {
      int kind = random.nextInt(10);
      io.netty.handler.codec.http2.Http2Headers request =
          new io.netty.handler.codec.http2.DefaultHttp2Headers().method(kind == 1 ? "POST" : "GET")
              .scheme("http").path("/h2").authority(kind == 2 ? "app.exa%mple.com"
                  : "app.example.com");
      if (kind == 3) {
        request.add("host", "other.example.com");
      }
      // Encoded only when sent: encoding updates the encoder's dynamic table.
      if (kind <= 3) {
        RawHttp2.frame(out, 0x1, kind == 1 ? 0x4 : 0x5, stream,
            RawHttp2.headerBlock(encoder, stream, request));
        if (kind == 1) {
          RawHttp2.frame(out, 0x0, 0x1, stream, "hello".getBytes(StandardCharsets.US_ASCII));
        }
      } else if (kind <= 5) {
        RawHttp2.frame(out, 0x1, 0x5, stream, RawHttp2.headerBlock(encoder, stream, request));
        RawHttp2.frame(out, 0x3, 0, stream, new byte[] {0, 0, 0, 0x8});
      } else if (kind == 6) {
        RawHttp2.frame(out, 0x6, 0, 0, new byte[8]);
      } else if (kind == 7) {
        RawHttp2.frame(out, 0x8, 0, 0, new byte[] {0, 0, 0x10, 0});
      } else if (kind == 8) {
        RawHttp2.frame(out, 0x7, 0, 0, new byte[8]);
      } else {
        RawHttp2.frame(out, 0x4, 0, 0, new byte[] {0, 0x4, 0, 0, (byte) 0xff, (byte) 0xff});
      }
    }
    return out.toByteArray();
  }

  /** Deletes, replaces, inserts or repeats 0-4 runs of bytes, after the preface 4 times in 5. */
  private static byte[] mutateFrames(Random random, byte[] conversation) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] bytes = conversation;
    for (int m = random.nextInt(5); m > 0; m--) {
      int from = random.nextInt(5) > 0 ? PREFACE.length : 0;
      int at = from + random.nextInt(bytes.length - from + 1);
      out.reset();
      out.write(bytes, 0, at);
      int op = random.nextInt(4);
      int tail = at;
      if (op == 0) {
        tail = Math.min(bytes.length, at + 1 + random.nextInt(6));
      } else if (op == 1 && at < bytes.length) {
        out.write(random.nextInt(256));
        tail = at + 1;
      } else if (op == 2) {
        for (int n = 1 + random.nextInt(9); n > 0; n--) {
          out.write(random.nextInt(256));
        }
      } else {
        int start = random.nextInt(bytes.length);
        out.write(bytes, start, Math.min(bytes.length - start, 1 + random.nextInt(30)));
      }
      out.write(bytes, tail, bytes.length - tail);
      bytes = out.toByteArray();
    }
    return bytes;
  }

  /** Sends {@code request}, half-closes, and reads until the gateway closes (or 10 s pass). */
  private boolean ends(byte[] request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      try {
        socket.getOutputStream().write(request);
        socket.shutdownOutput();
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[16_384];
        while (in.read(buffer) >= 0) {
          // Whatever the answer is: only its end matters here.
        }
      } catch (SocketTimeoutException e) {
        return false;
      } catch (SocketException e) {
        // Reset or closed while writing: the gateway ended the connection.
      }
      return true;
    }
  }

  private static byte[] mutate(Random random, String base) {
    StringBuilder text = new StringBuilder(base);
    int mutations = 1 + random.nextInt(4);
    for (int m = 0; m < mutations; m++) {
      int at = random.nextInt(text.length() + 1);
      int op = random.nextInt(10);
      if (op < 3 && text.length() > 1) {
        text.delete(at, Math.min(text.length(), at + 1 + random.nextInt(8)));
      } else if (op < 6) {
        text.insert(at, TOKENS[random.nextInt(TOKENS.length)]);
      } else if (op < 8 && text.length() > 0) {
        text.setCharAt(Math.min(at, text.length() - 1), (char) random.nextInt(256));
      } else {
        int from = random.nextInt(text.length() + 1);
        text.insert(at, text.substring(from, Math.min(text.length(), from + 1
            + random.nextInt(40))));
      }
    }
    return text.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(a.length + b.length);
    out.writeBytes(a);
    out.writeBytes(b);
    return out.toByteArray();
  }
}
