package io.portico.proxy.tcp;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.nio.ByteBuffer;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The ClientHello reader on real ClientHellos (the JDK's), however they are cut up. */
class ClientHelloReaderTest {

  /** Returns the bytes a JDK client sends first, with {@code serverName} as SNI (null: none). */
  static byte[] clientHello(String serverName) throws Exception {
    SSLEngine engine = SSLContext.getDefault().createSSLEngine();
    engine.setUseClientMode(true);
    if (serverName != null) {
      SSLParameters parameters = engine.getSSLParameters();
      parameters.setServerNames(List.of(new SNIHostName(serverName)));
      engine.setSSLParameters(parameters);
    }
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(ByteBuffer.allocate(0), out);
    out.flip();
    byte[] bytes = new byte[out.remaining()];
    out.get(bytes);
    return bytes;
  }

  @ParameterizedTest(name = "segments of {0} bytes")
  @ValueSource(ints = {1, 2, 3, 5, 7, 64, 100_000})
  void readsTheServerNameHoweverTheBytesAreSplit(int segment) throws Exception {
    byte[] hello = clientHello("Db.Example.COM");
    ClientHelloReader reader = new ClientHelloReader(StreamProxyVerticle.MAX_CLIENT_HELLO_BYTES);
    ClientHelloReader.State state = ClientHelloReader.State.NEED_MORE;
    for (int i = 0; i < hello.length; i += segment) {
      assertThat(state).isEqualTo(ClientHelloReader.State.NEED_MORE);
      state = reader.feed(Buffer.buffer(java.util.Arrays.copyOfRange(hello, i,
          Math.min(hello.length, i + segment))));
    }
    assertThat(state).isEqualTo(ClientHelloReader.State.DONE);
    assertThat(reader.serverName()).isEqualTo("db.example.com");
    assertThat(reader.received().getBytes()).isEqualTo(hello);
  }

  @Test
  void readsAClientHelloSpreadOverSeveralTlsRecords() throws Exception {
    byte[] hello = clientHello("a.example.com");
    int payload = ((hello[3] & 0xff) << 8) | (hello[4] & 0xff);
    // Re-frame the one handshake record as records of at most 10 bytes of payload each.
    Buffer framed = Buffer.buffer();
    for (int at = 5; at < 5 + payload; at += 10) {
      int length = Math.min(10, 5 + payload - at);
      framed.appendByte((byte) 22).appendByte(hello[1]).appendByte(hello[2])
          .appendUnsignedShort(length).appendBytes(hello, at, length);
    }
    ClientHelloReader reader = new ClientHelloReader(StreamProxyVerticle.MAX_CLIENT_HELLO_BYTES);

    assertThat(reader.feed(framed)).isEqualTo(ClientHelloReader.State.DONE);
    assertThat(reader.serverName()).isEqualTo("a.example.com");
  }

  @Test
  void aClientHelloWithoutServerNameHasAnEmptyOne() throws Exception {
    ClientHelloReader reader = new ClientHelloReader(StreamProxyVerticle.MAX_CLIENT_HELLO_BYTES);

    assertThat(reader.feed(Buffer.buffer(clientHello(null))))
        .isEqualTo(ClientHelloReader.State.DONE);
    assertThat(reader.serverName()).isEmpty();
  }

  @Test
  void bytesAfterTheClientHelloInTheSameReadAreKeptEvenBeyondTheLimit() throws Exception {
    byte[] hello = clientHello("a.example.com");
    ClientHelloReader reader = new ClientHelloReader(hello.length + 10);
    Buffer read = Buffer.buffer(hello).appendBytes(new byte[100]);

    assertThat(reader.feed(read)).isEqualTo(ClientHelloReader.State.DONE);
    assertThat(reader.received().length()).isEqualTo(hello.length + 100);
  }

  @Test
  void plainTextIsNotTls() {
    ClientHelloReader reader = new ClientHelloReader(StreamProxyVerticle.MAX_CLIENT_HELLO_BYTES);

    assertThat(reader.feed(Buffer.buffer("GET / HTTP/1.1\r\n")))
        .isEqualTo(ClientHelloReader.State.NOT_TLS);
  }

  @Test
  void anAnnouncedRecordBeyondTheLimitIsRefusedBeforeItArrives() {
    ClientHelloReader reader = new ClientHelloReader(1024);
    Buffer header = Buffer.buffer().appendByte((byte) 22).appendByte((byte) 3)
        .appendByte((byte) 1).appendUnsignedShort(4000);

    assertThat(reader.feed(header)).isEqualTo(ClientHelloReader.State.TOO_LARGE);
  }

  @Test
  void endlessHandshakeBytesStopAtTheLimit() {
    ClientHelloReader reader = new ClientHelloReader(1024);
    // A ClientHello announcing 1010 bytes, in records of 100: with their headers they pass
    // the limit before the message is complete.
    Buffer first = Buffer.buffer().appendByte((byte) 22).appendByte((byte) 3)
        .appendByte((byte) 1).appendUnsignedShort(100).appendByte((byte) 1)
        .appendMedium(1010).appendBytes(new byte[96]);
    ClientHelloReader.State state = reader.feed(first);
    for (int i = 0; i < 10 && state == ClientHelloReader.State.NEED_MORE; i++) {
      state = reader.feed(Buffer.buffer().appendByte((byte) 22).appendByte((byte) 3)
          .appendByte((byte) 1).appendUnsignedShort(100).appendBytes(new byte[100]));
    }

    assertThat(state).isEqualTo(ClientHelloReader.State.TOO_LARGE);
    assertThat(reader.received().length()).isLessThanOrEqualTo(1024 + 105);
  }

  @Test
  void anotherHandshakeMessageIsMalformed() {
    ClientHelloReader reader = new ClientHelloReader(1024);
    Buffer serverHello = Buffer.buffer().appendByte((byte) 22).appendByte((byte) 3)
        .appendByte((byte) 3).appendUnsignedShort(4).appendByte((byte) 2).appendMedium(0);

    assertThat(reader.feed(serverHello)).isEqualTo(ClientHelloReader.State.MALFORMED);
  }

  /**
   * The reader parses what unauthenticated clients send on a passthrough port: 20,000 real
   * ClientHellos mutated at random (bytes replaced, deleted, inserted, lengths among them) and
   * fed in random pieces never make it throw, and what it reads as DONE carries a server name
   * a route could match, and every byte received is kept for the relay.
   */
  @Test
  void mutatedClientHellosNeverThrowAndOnlyWellFormedNamesAreRead() throws Exception {
    java.util.Random random = new java.util.Random(16);
    List<byte[]> hellos = List.of(clientHello("db.example.com"), clientHello(null),
        clientHello("a-b.example.org"));
    java.util.regex.Pattern name = java.util.regex.Pattern.compile("[a-z0-9._-]*");
    java.util.EnumMap<ClientHelloReader.State, Integer> seen =
        new java.util.EnumMap<>(ClientHelloReader.State.class);
    for (int n = 0; n < 20_000; n++) {
      byte[] hello = mutate(random, hellos.get(random.nextInt(hellos.size())));
      ClientHelloReader reader = new ClientHelloReader(StreamProxyVerticle.MAX_CLIENT_HELLO_BYTES);
      ClientHelloReader.State state = ClientHelloReader.State.NEED_MORE;
      int fed = 0;
      while (fed < hello.length && state == ClientHelloReader.State.NEED_MORE) {
        int piece = Math.min(hello.length - fed, 1 + random.nextInt(300));
        state = reader.feed(Buffer.buffer(java.util.Arrays.copyOfRange(hello, fed, fed + piece)));
        fed += piece;
      }
      seen.merge(state, 1, Integer::sum);
      if (state == ClientHelloReader.State.DONE) {
        assertThat(reader.serverName()).matches(name);
      }
      assertThat(reader.received().getBytes())
          .isEqualTo(java.util.Arrays.copyOfRange(hello, 0, fed));
    }
    // The mutations reach every outcome, so the test sees the parser's every exit.
    assertThat(seen.keySet()).contains(ClientHelloReader.State.DONE,
        ClientHelloReader.State.MALFORMED, ClientHelloReader.State.NOT_TLS,
        ClientHelloReader.State.NEED_MORE);
  }

  private static byte[] mutate(java.util.Random random, byte[] original) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.writeBytes(original);
    byte[] bytes = out.toByteArray();
    for (int m = 1 + random.nextInt(3); m > 0; m--) {
      int at = random.nextInt(bytes.length);
      switch (random.nextInt(4)) {
        case 0 -> bytes[at] = (byte) random.nextInt(256);
        case 1 -> bytes[at] = (byte) (bytes[at] + (random.nextBoolean() ? 1 : -1));
        case 2 -> {
          int cut = Math.min(bytes.length - at, 1 + random.nextInt(16));
          byte[] shorter = new byte[bytes.length - cut];
          System.arraycopy(bytes, 0, shorter, 0, at);
          System.arraycopy(bytes, at + cut, shorter, at, bytes.length - at - cut);
          bytes = shorter.length == 0 ? new byte[] {22} : shorter;
        }
        default -> {
          byte[] longer = new byte[bytes.length + 1];
          System.arraycopy(bytes, 0, longer, 0, at);
          longer[at] = (byte) random.nextInt(256);
          System.arraycopy(bytes, at, longer, at + 1, bytes.length - at);
          bytes = longer;
        }
      }
    }
    return bytes;
  }
}
