package io.portico.conformance;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.net.SocketAddress;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs {@code expectWebSocket}: dials {@code ws://<gateway address>/ws} with the given Origin
 * and plays the exchange (each frame sent must come back unchanged, same type), on a new
 * connection per round until three rounds in a row succeed (the consistency rule).
 */
final class WebSocketSteps {

  private static final Duration MAX_TIME_TO_CONSISTENCY = Duration.ofSeconds(30);
  private static final Duration ROUND_TIMEOUT = Duration.ofSeconds(10);
  private static final int CONSECUTIVE_MATCHES = 3;

  /** One frame to send and the frame expected back: text or binary. */
  private record Frame(boolean binary, Buffer send, Buffer expect) {}

  private final CaseContext context;

  WebSocketSteps(CaseContext context) {
    this.context = context;
  }

  void expectWebSocket(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    String url = Objects.toString(step.get("url"), "ws://<gateway-address>/ws");
    String path = url.substring(url.indexOf('/', "ws://".length()));
    String origin = Objects.toString(step.get("origin"), "ws://gateway/");
    List<Frame> frames = new ArrayList<>();
    for (Object item : Yaml.list(step.get("exchange"))) {
      Map<String, Object> frame = Yaml.map(item);
      frames.add(frame.containsKey("sendBinary")
          ? new Frame(true, bytes(frame.get("sendBinary")), bytes(frame.get("expectBinary")))
          : new Frame(false, Buffer.buffer(Yaml.string(frame.get("sendText"))),
              Buffer.buffer(Yaml.string(frame.get("expectText")))));
    }
    long deadline = System.nanoTime() + MAX_TIME_TO_CONSISTENCY.toNanos();
    int matches = 0;
    String lastMiss = "no attempt";
    while (true) {
      String miss = round(gateway, path, origin, frames);
      if (miss == null) {
        if (++matches == CONSECUTIVE_MATCHES) {
          return;
        }
        continue;
      }
      matches = 0;
      lastMiss = miss;
      if (System.nanoTime() >= deadline) {
        throw new StepFailure("WebSocket " + url + " via Gateway " + gateway[0] + "/"
            + gateway[1] + ": no " + CONSECUTIVE_MATCHES + " consecutive successful exchanges"
            + " within " + MAX_TIME_TO_CONSISTENCY.toSeconds() + " s; last seen: " + lastMiss);
      }
      Poll.pause(Duration.ofMillis(100));
    }
  }

  private static Buffer bytes(Object list) {
    Buffer buffer = Buffer.buffer();
    for (Object b : Yaml.list(list)) {
      buffer.appendByte(((Number) b).byteValue());
    }
    return buffer;
  }

  /** One dial and exchange; null when every frame came back as sent. */
  private String round(String[] gateway, String path, String origin, List<Frame> frames) {
    String address = GatewayAddresses.address(context.view().state(), gateway[0], gateway[1]);
    if (address == null) {
      return "Gateway " + gateway[0] + "/" + gateway[1] + " has no status address";
    }
    InetSocketAddress target = GatewayAddresses.connectTo(address, 80);
    Vertx vertx = context.vertx();
    Promise<Void> result = Promise.promise();
    vertx.runOnContext(ignored -> {
      WebSocketClient client = vertx.createWebSocketClient();
      WebSocketConnectOptions options = new WebSocketConnectOptions()
          .setServer(SocketAddress.inetSocketAddress(target.getPort(),
              target.getAddress().getHostAddress()))
          .setHost(address)
          .setPort(80)
          .setURI(path)
          .setConnectTimeout(ROUND_TIMEOUT.toMillis())
          .addHeader("Origin", origin);
      client.connect(options)
          .compose(socket -> exchange(socket, frames)
              .eventually(() -> socket.close()))
          .onComplete(done -> {
            client.close();
            result.handle(done);
          });
    });
    try {
      result.future().toCompletionStage().toCompletableFuture()
          .get(ROUND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return null;
    } catch (ExecutionException e) {
      return String.valueOf(e.getCause());
    } catch (TimeoutException e) {
      return "no answer within " + ROUND_TIMEOUT.toSeconds() + " s";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  /** Sends each frame after the previous one came back; runs on the socket's context. */
  private static Future<Void> exchange(WebSocket socket, List<Frame> frames) {
    Promise<Void> done = Promise.promise();
    int[] next = {0};
    Runnable sendNext = () -> {
      if (next[0] == frames.size()) {
        done.tryComplete();
        return;
      }
      Frame frame = frames.get(next[0]);
      if (frame.binary()) {
        socket.writeBinaryMessage(frame.send());
      } else {
        socket.writeTextMessage(frame.send().toString());
      }
    };
    java.util.function.BiConsumer<Boolean, Buffer> received = (binary, data) -> {
      if (done.future().isComplete()) {
        return;
      }
      Frame frame = frames.get(Math.min(next[0], frames.size() - 1));
      if (binary != frame.binary() || !Arrays.equals(data.getBytes(), frame.expect().getBytes())) {
        done.tryFail((binary ? "binary " : "text ") + "frame " + describe(binary, data)
            + " received, expected " + (frame.binary() ? "binary " : "text ")
            + describe(frame.binary(), frame.expect()));
        return;
      }
      next[0]++;
      sendNext.run();
    };
    socket.textMessageHandler(text -> received.accept(false, Buffer.buffer(text)));
    socket.binaryMessageHandler(data -> received.accept(true, data));
    socket.exceptionHandler(e -> done.tryFail(e));
    socket.closeHandler(ignored -> done.tryFail("connection closed after " + next[0] + " of "
        + frames.size() + " frames"));
    sendNext.run();
    return done.future();
  }

  private static String describe(boolean binary, Buffer data) {
    return binary ? Arrays.toString(data.getBytes()) : "'" + data + "'";
  }
}
