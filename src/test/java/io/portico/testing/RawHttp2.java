package io.portico.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * Writes raw HTTP/2 frames on a cleartext (prior knowledge) connection, for what no well-behaved
 * client sends: a request and its RST_STREAM in the same packet (rapid reset, CVE-2023-44487).
 */
public final class RawHttp2 implements AutoCloseable {

  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);

  private final Socket socket;
  private final DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
  private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
  private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder();
  private final java.util.Map<Integer, Http2Headers> answers = new java.util.HashMap<>();

  public RawHttp2(int port) throws IOException {
    this(new Socket("127.0.0.1", port));
  }

  private RawHttp2(Socket socket) throws IOException {
    this.socket = socket;
    socket.setSoTimeout(10_000);
    pending.write(PREFACE);
    writeFrame(0x4, 0, 0, new byte[0]); // SETTINGS, empty
  }

  /**
   * Opens an HTTP/2 connection over TLS (ALPN h2) with {@code serverName} as SNI, trusting only
   * {@code trusted}.
   *
   * @throws IOException when the handshake fails or the server does not choose h2
   */
  public static RawHttp2 overTls(int port, String serverName,
      java.security.cert.X509Certificate trusted) throws Exception {
    javax.net.ssl.SSLContext context = TlsProbe.context(null, trusted);
    javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) context.getSocketFactory()
        .createSocket("127.0.0.1", port);
    javax.net.ssl.SSLParameters parameters = socket.getSSLParameters();
    parameters.setServerNames(java.util.List.of(new javax.net.ssl.SNIHostName(serverName)));
    parameters.setApplicationProtocols(new String[] {"h2"});
    socket.setSSLParameters(parameters);
    socket.startHandshake();
    if (!"h2".equals(socket.getApplicationProtocol())) {
      socket.close();
      throw new IOException("ALPN chose " + socket.getApplicationProtocol() + ", not h2");
    }
    return new RawHttp2(socket);
  }

  /** Queues a request's HEADERS (END_STREAM when {@code endStream}) on {@code streamId}. */
  public RawHttp2 headers(int streamId, String method, String authority, String path,
      boolean endStream) {
    return headers(streamId, new DefaultHttp2Headers().method(method).scheme("http")
        .authority(authority).path(path), endStream);
  }

  /** Queues HEADERS carrying {@code headers} as they are (END_STREAM when {@code endStream}). */
  public RawHttp2 headers(int streamId, Http2Headers headers, boolean endStream) {
    writeFrame(0x1, 0x4 | (endStream ? 0x1 : 0), streamId, headerBlock(encoder, streamId, headers));
    return this;
  }

  /** {@code headers} HPACK-encoded by {@code encoder} (whose dynamic table it updates). */
  public static byte[] headerBlock(DefaultHttp2HeadersEncoder encoder, int streamId,
      Http2Headers headers) {
    ByteBuf block = Unpooled.buffer();
    try {
      encoder.encodeHeaders(streamId, headers, block);
      byte[] bytes = new byte[block.readableBytes()];
      block.readBytes(bytes);
      return bytes;
    } catch (Http2Exception e) {
      throw new IllegalStateException(e);
    } finally {
      block.release();
    }
  }

  /** Queues RST_STREAM CANCEL on {@code streamId}. */
  public RawHttp2 reset(int streamId) {
    writeFrame(0x3, 0, streamId, new byte[] {0, 0, 0, 0x8});
    return this;
  }

  /** Queues one frame as given: for frames no client library would write. */
  public RawHttp2 frame(int type, int flags, int streamId, byte[] payload) {
    writeFrame(type, flags, streamId, payload);
    return this;
  }

  /**
   * Reads frames until a GOAWAY, a RST_STREAM on {@code streamId}, or the end of the
   * connection; returns "GOAWAY", "RST_STREAM" or "CLOSED".
   */
  public String awaitRefusal(int streamId) throws IOException {
    return await(streamId, false);
  }

  /**
   * Reads frames until the response HEADERS of {@code streamId} arrive and returns its
   * {@code :status}; "GOAWAY", "RST_STREAM" or "CLOSED" when the server refuses instead. The
   * statuses of other streams read on the way are kept for later calls.
   */
  public String awaitStatus(int streamId) throws IOException {
    String refusal = await(streamId, true);
    return refusal != null ? refusal : String.valueOf(answers.get(streamId).status());
  }

  /** The response headers of {@code streamId} once {@link #awaitStatus} has read them. */
  public Http2Headers answer(int streamId) {
    return answers.get(streamId);
  }

  /** Reads frames; returns the refusal, or null once {@code streamId}'s answer (if awaited) came. */
  private String await(int streamId, boolean answer) throws IOException {
    InputStream in = socket.getInputStream();
    try {
      while (!answer || !answers.containsKey(streamId)) {
        byte[] header = in.readNBytes(9);
        if (header.length < 9) {
          return "CLOSED";
        }
        int length = (header[0] & 0xff) << 16 | (header[1] & 0xff) << 8 | header[2] & 0xff;
        int type = header[3] & 0xff;
        int flags = header[4] & 0xff;
        int stream = (header[5] & 0x7f) << 24 | (header[6] & 0xff) << 16
            | (header[7] & 0xff) << 8 | header[8] & 0xff;
        byte[] payload = in.readNBytes(length);
        if (payload.length < length) {
          return "CLOSED";
        }
        if (type == 0x7) {
          return "GOAWAY";
        }
        if (type == 0x3 && stream == streamId) {
          return "RST_STREAM";
        }
        if (type == 0x1 && !answers.containsKey(stream)) {
          answers.put(stream, headers(stream, flags, payload));
        }
      }
    } catch (java.net.SocketException reset) {
      return "CLOSED";
    }
    return null;
  }

  /** A response HEADERS frame's headers (its block decoded, as HPACK needs). */
  private Http2Headers headers(int stream, int flags, byte[] payload) throws IOException {
    int padding = (flags & 0x8) != 0 ? payload[0] & 0xff : 0;
    int start = ((flags & 0x8) != 0 ? 1 : 0) + ((flags & 0x20) != 0 ? 5 : 0);
    ByteBuf block = Unpooled.wrappedBuffer(payload, start, payload.length - padding - start);
    try {
      return decoder.decodeHeaders(stream, block);
    } catch (Http2Exception e) {
      throw new IOException(e);
    }
  }

  /** Writes everything queued in one go. */
  public RawHttp2 flush() throws IOException {
    socket.getOutputStream().write(pending.toByteArray());
    socket.getOutputStream().flush();
    pending.reset();
    return this;
  }

  /** Reads until the server closes the connection or stays silent for 10 s; returns the bytes. */
  public byte[] readAll() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    InputStream in = socket.getInputStream();
    byte[] buffer = new byte[8192];
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        out.write(buffer, 0, n);
      }
    } catch (SocketTimeoutException | java.net.SocketException e) {
      // Silent or reset: what arrived is the answer.
    }
    return out.toByteArray();
  }

  private void writeFrame(int type, int flags, int streamId, byte[] payload) {
    frame(pending, type, flags, streamId, payload);
  }

  /** Writes one frame: its 9-byte header, then {@code payload}. */
  public static void frame(ByteArrayOutputStream out, int type, int flags, int streamId,
      byte[] payload) {
    int length = payload.length;
    out.write((length >>> 16) & 0xff);
    out.write((length >>> 8) & 0xff);
    out.write(length & 0xff);
    out.write(type);
    out.write(flags);
    out.write((streamId >>> 24) & 0x7f);
    out.write((streamId >>> 16) & 0xff);
    out.write((streamId >>> 8) & 0xff);
    out.write(streamId & 0xff);
    out.write(payload, 0, payload.length);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
