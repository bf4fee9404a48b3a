package io.portico.conformance;

import io.portico.controller.GatewayState;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Runs the UDP steps ({@code expectUdpEcho}, {@code expectUdpSamples}, {@code expectUdpWeights},
 * {@code expectDnsQuery}) with connected JDK datagram sockets, so a reply counts only when it
 * comes from the Gateway address and port the request went to.
 */
final class UdpSteps {

  private static final Duration MAX_TIME_TO_CONSISTENCY = Duration.ofSeconds(30);
  private static final Duration ECHO_INTERVAL = Duration.ofMillis(100);
  private static final int REQUEST_TIMEOUT_MILLIS = 10_000;
  private static final byte[] ECHO_PAYLOAD =
      "gateway-api-conformance-udp-echo".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] WEIGHT_PAYLOAD =
      "gateway-api-conformance-udp-weight\n".getBytes(StandardCharsets.US_ASCII);

  private final CaseContext context;

  UdpSteps(CaseContext context) {
    this.context = context;
  }

  /** upstream udp.ExpectEchoResponse(FromBackend): attempts every 100 ms, up to 30 s. */
  void expectUdpEcho(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    int port = ((Number) step.get("port")).intValue();
    Map<String, Object> expect = step.get("expect") == null ? null : Yaml.map(step.get("expect"));
    long deadline = System.nanoTime() + MAX_TIME_TO_CONSISTENCY.toNanos();
    String last = "no attempt";
    while (true) {
      try {
        byte[] reply = exchange(address(gateway, port), ECHO_PAYLOAD, REQUEST_TIMEOUT_MILLIS,
            1024);
        last = expect == null ? null : echoMismatch(reply, expect);
        if (last == null) {
          return;
        }
      } catch (StepFailure failure) {
        throw failure;
      } catch (IOException | RuntimeException e) {
        last = e.toString();
      }
      if (System.nanoTime() > deadline) {
        throw new StepFailure("UDP echo through " + step.get("gateway") + ":" + port
            + " not as expected within 30 s; last: " + last);
      }
      Poll.pause(ECHO_INTERVAL);
    }
  }

  private static String echoMismatch(byte[] reply, Map<String, Object> expect) {
    JsonObject json;
    try {
      json = new JsonObject(new String(reply, StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      return "reply is not the echo JSON: " + new String(reply, StandardCharsets.UTF_8);
    }
    for (String field : List.of("service", "namespace")) {
      Object wanted = expect.get(field);
      if (wanted != null && !wanted.equals(json.getString(field))) {
        return field + " " + json.getString(field) + ", expected " + wanted;
      }
    }
    return null;
  }

  /** Rounds of sequential probes; a probe reaching another backend fails the case at once. */
  void expectUdpSamples(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    int port = ((Number) step.get("port")).intValue();
    int probes = ((Number) step.getOrDefault("probes", 20)).intValue();
    int probeTimeout = (int) duration(step.get("probeTimeout"), Duration.ofSeconds(2)).toMillis();
    String backend = Yaml.string(step.get("backend"));
    Duration interval = duration(step.get("interval"), Duration.ofSeconds(1));
    Duration within = duration(step.get("within"), Duration.ofSeconds(60));
    long deadline = System.nanoTime() + within.toNanos();
    String last = "no round";
    while (true) {
      int reached = 0;
      for (int i = 0; i < probes; i++) {
        String probeBackend;
        try {
          probeBackend = weightProbe(address(gateway, port), probeTimeout);
        } catch (StepFailure failure) {
          throw failure;
        } catch (IOException | RuntimeException e) {
          last = "probe error: " + e;
          break;
        }
        if (!probeBackend.equals(backend)) {
          throw new StepFailure("probe reached backend " + probeBackend + ", expected only "
              + backend);
        }
        reached++;
      }
      if (reached == probes) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new StepFailure("no round of " + probes + " probes all reaching " + backend
            + " within " + within.toSeconds() + " s; last: " + last);
      }
      Poll.pause(interval);
    }
  }

  /** The distribution rule of expectWeights, one udpEchoSendOnce probe per sample. */
  void expectUdpWeights(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    int port = ((Number) step.get("port")).intValue();
    Map<String, Object> weights = Yaml.map(step.get("weights"));
    int requests = ((Number) step.getOrDefault("requests", 500)).intValue();
    int concurrency = ((Number) step.getOrDefault("concurrency", 10)).intValue();
    double tolerance = ((Number) step.getOrDefault("tolerance", 0.05)).doubleValue();
    int maxAttempts = ((Number) step.getOrDefault("maxAttempts", 10)).intValue();
    int probeTimeout = (int) duration(step.get("probeTimeout"), Duration.ofSeconds(2)).toMillis();
    InetSocketAddress address = address(gateway, port);
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    String last = "no attempt";
    try {
      for (int attempt = 0; attempt < maxAttempts; attempt++) {
        List<Future<String>> samples = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
          samples.add(pool.submit(() -> weightProbe(address, probeTimeout)));
        }
        Map<String, Integer> counts = new HashMap<>();
        String error = null;
        for (Future<String> sample : samples) {
          try {
            counts.merge(sample.get(), 1, Integer::sum);
          } catch (Exception e) {
            error = error == null ? "a probe failed: " + e.getCause() : error;
          }
        }
        last = error != null ? error : mismatch(counts, weights, requests, tolerance);
        if (last == null) {
          return;
        }
      }
    } finally {
      pool.shutdownNow();
    }
    throw new StepFailure("weighted UDP traffic did not match " + weights + " in " + maxAttempts
        + " attempts; last: " + last);
  }

  private static String mismatch(Map<String, Integer> counts, Map<String, Object> weights,
      int requests, double tolerance) {
    for (String backend : counts.keySet()) {
      if (!weights.containsKey(backend)) {
        return "unlisted backend " + backend + "; counts " + counts;
      }
    }
    long expected = weights.values().stream().filter(w -> ((Number) w).doubleValue() > 0).count();
    if (counts.size() != expected) {
      return counts.size() + " backends got traffic, expected " + expected + "; " + counts;
    }
    for (Map.Entry<String, Object> weight : weights.entrySet()) {
      double share = counts.getOrDefault(weight.getKey(), 0) / (double) requests;
      if (Math.abs(share - ((Number) weight.getValue()).doubleValue()) > tolerance) {
        return weight.getKey() + " got " + share + "; counts " + counts;
      }
    }
    return null;
  }

  /** udpEchoSendOnce: the backend (pod name minus two segments) that answered. */
  private static String weightProbe(InetSocketAddress address, int timeoutMillis)
      throws IOException {
    byte[] reply = exchange(address, WEIGHT_PAYLOAD, timeoutMillis, 4096);
    String pod;
    try {
      pod = new JsonObject(new String(reply, StandardCharsets.UTF_8)).getString("pod", "");
    } catch (RuntimeException e) {
      throw new IOException("reply is not the echo JSON");
    }
    if (pod.isEmpty()) {
      throw new IOException("reply without pod");
    }
    return TcpSteps.backendOf(pod);
  }

  /**
   * upstream DNS Exchange: one query datagram, one reply within 2 s whose ID matches; attempts
   * every 1 s for up to 60 s.
   */
  void expectDnsQuery(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    int port = ((Number) step.get("port")).intValue();
    Map<String, Object> query = Yaml.map(step.get("query"));
    String name = Yaml.string(query.get("name"));
    int type = "AAAA".equals(query.get("type")) ? 28 : 1;
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    String last = "no attempt";
    while (true) {
      int id = ThreadLocalRandom.current().nextInt(0x10000);
      try {
        byte[] reply = exchange(address(gateway, port), dnsQuery(id, name, type), 2_000, 512);
        if (reply.length >= 12 && ((reply[0] & 0xff) << 8 | (reply[1] & 0xff)) == id) {
          return;
        }
        last = "reply of " + reply.length + " bytes with another ID";
      } catch (StepFailure failure) {
        throw failure;
      } catch (IOException | RuntimeException e) {
        last = e.toString();
      }
      if (System.nanoTime() > deadline) {
        throw new StepFailure("no DNS reply for " + name + " through " + step.get("gateway")
            + ":" + port + " within 60 s; last: " + last);
      }
      Poll.pause(Duration.ofSeconds(1));
    }
  }

  /** A DNS query message: header (RD set, one question), the name, type, class IN. */
  static byte[] dnsQuery(int id, String name, int type) {
    ByteBuffer buffer = ByteBuffer.allocate(512);
    buffer.putShort((short) id).putShort((short) 0x0100).putShort((short) 1)
        .putShort((short) 0).putShort((short) 0).putShort((short) 0);
    for (String label : name.split("\\.")) {
      if (label.isEmpty()) {
        continue;
      }
      byte[] bytes = label.getBytes(StandardCharsets.US_ASCII);
      buffer.put((byte) bytes.length).put(bytes);
    }
    buffer.put((byte) 0).putShort((short) type).putShort((short) 1);
    byte[] message = new byte[buffer.position()];
    buffer.flip().get(message);
    return message;
  }

  /** Sends one datagram from a fresh connected socket and reads one reply. */
  private static byte[] exchange(InetSocketAddress address, byte[] payload, int timeoutMillis,
      int maxReply) throws IOException {
    try (DatagramSocket socket = new DatagramSocket()) {
      socket.connect(address);
      socket.setSoTimeout(timeoutMillis);
      socket.send(new DatagramPacket(payload, payload.length));
      DatagramPacket reply = new DatagramPacket(new byte[maxReply], maxReply);
      try {
        socket.receive(reply);
      } catch (SocketTimeoutException e) {
        throw new IOException("no reply within " + timeoutMillis + " ms");
      }
      return java.util.Arrays.copyOf(reply.getData(), reply.getLength());
    }
  }

  private static Duration duration(Object value, Duration fallback) {
    return value == null ? fallback : io.portico.resource.GoDuration.parse(String.valueOf(value));
  }

  private InetSocketAddress address(String[] gateway, int port) {
    GatewayState state = context.view().state();
    String address = GatewayAddresses.address(state, gateway[0], gateway[1]);
    if (address == null) {
      throw new StepFailure("Gateway " + gateway[0] + "/" + gateway[1] + " has no status address");
    }
    return GatewayAddresses.connectTo(address, port);
  }
}
