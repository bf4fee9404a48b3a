package io.portico.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

class PortClaimsTest {

  private static final String HOST = "127.0.0.1";

  private Vertx vertx;
  private final PortClaims claims = new PortClaims();
  private int port;

  @BeforeEach
  void start() throws IOException {
    vertx = Vertx.vertx();
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void serversOfOneKindShareASocket() throws Exception {
    assertThat(claim("HTTP", () -> true)).isTrue();
    assertThat(claim("HTTP", () -> true)).isTrue();
  }

  @Test
  void anotherKindWaitsUntilEveryServerOfTheFirstHasLetGo() throws Exception {
    claim("HTTP", () -> true);
    claim("HTTP", () -> true);

    Future<Boolean> tcp = claims.claim(vertx, HOST, port, "TCP", () -> true);
    claims.release(HOST, port, "HTTP");
    Thread.sleep(300);
    assertThat(tcp.isComplete()).as("granted while one HTTP server still holds the port")
        .isFalse();

    claims.release(HOST, port, "HTTP");
    assertThat(tcp.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(claims.claim(vertx, HOST, port, "HTTP", () -> true).isComplete()).isFalse();
  }

  @Test
  void aClaimWaitsForASocketThatIsStillOpen() throws Exception {
    NetServer closing = vertx.createNetServer(new NetServerOptions())
        .connectHandler(socket -> socket.close());
    closing.listen(port, HOST).await(5, TimeUnit.SECONDS);

    // Nobody claims the socket, but Vert.x still has it open: joining it would serve nothing.
    Future<Boolean> tcp = claims.claim(vertx, HOST, port, "TCP", () -> true);
    Thread.sleep(300);
    assertThat(tcp.isComplete()).isFalse();

    closing.close().await(5, TimeUnit.SECONDS);
    assertThat(tcp.await(5, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aClaimNoLongerWantedIsAbandoned() throws Exception {
    claim("HTTP", () -> true);
    AtomicBoolean wanted = new AtomicBoolean(true);

    Future<Boolean> tcp = claims.claim(vertx, HOST, port, "TCP", wanted::get);
    wanted.set(false);

    assertThat(tcp.await(5, TimeUnit.SECONDS)).isFalse();
    // The abandoned claim took nothing: HTTP servers still join.
    assertThat(claim("HTTP", () -> true)).isTrue();
  }

  private boolean claim(String kind, java.util.function.BooleanSupplier wanted)
      throws Exception {
    return claims.claim(vertx, HOST, port, kind, wanted).await(5, TimeUnit.SECONDS);
  }
}
