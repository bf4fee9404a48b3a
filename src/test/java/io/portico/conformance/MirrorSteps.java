package io.portico.conformance;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code expectMirror} and {@code expectMirrorPercentage}: whether the mirror Services'
 * echo pods received the copies. Upstream reads the pods' logs; here the echo servers record
 * the URIs they received.
 */
final class MirrorSteps {

  private static final Duration MIRROR_WITHIN = Duration.ofSeconds(10);
  private static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(10);
  private static final int PERCENTAGE_ATTEMPTS = 5;

  private final CaseContext context;

  MirrorSteps(CaseContext context) {
    this.context = context;
  }

  /** Every listed mirror Service must have received a request for {@code path}. */
  void expectMirror(Map<String, Object> step) {
    String path = Yaml.string(step.get("path"))
        .replace("{requestId}", context.requestIds().getOrDefault("requestId", ""));
    for (Object item : Yaml.list(step.get("mirroredTo"))) {
      Map<String, Object> mirror = Yaml.map(item);
      String namespace = Yaml.string(mirror.get("namespace"));
      String name = Yaml.string(mirror.get("name"));
      long deadline = System.nanoTime() + MIRROR_WITHIN.toNanos();
      while (!context.infrastructure().receivedUris(namespace, name).contains(path)) {
        if (System.nanoTime() > deadline) {
          throw new StepFailure("expectMirror: Service " + namespace + "/" + name
              + " received no request for " + path + " within " + MIRROR_WITHIN.toSeconds() + " s");
        }
        Poll.pause(Duration.ofMillis(50));
      }
    }
  }

  /**
   * Sends {@code requests} requests ({@code concurrency} at a time), each answered as
   * {@code response} says, and checks that each mirror received a share within three standard
   * deviations of its percent (binomial); up to five rounds, each with a fresh requestId.
   */
  void expectMirrorPercentage(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    Map<String, Object> request = Yaml.map(step.get("request"));
    int port = step.get("port") instanceof Number n ? n.intValue() : 80;
    int requests = step.get("requests") instanceof Number n ? n.intValue() : 500;
    int concurrency = step.get("concurrency") instanceof Number n ? n.intValue() : 10;
    List<Integer> statuses = new ArrayList<>();
    for (Object code : Yaml.list(Yaml.map(step.get("response")).get("statusCodes"))) {
      statuses.add(((Number) code).intValue());
    }
    String last = null;
    for (int round = 0; round < PERCENTAGE_ATTEMPTS; round++) {
      String requestId = UUID.randomUUID().toString();
      String path = Yaml.string(request.get("path")).replace("{requestId}", requestId);
      sendAll(gateway, port, request, path, requests, concurrency, statuses);
      last = checkShares(step, path, requests);
      if (last == null) {
        return;
      }
    }
    throw new StepFailure("expectMirrorPercentage: " + last);
  }

  private void sendAll(String[] gateway, int port, Map<String, Object> request, String path,
      int requests, int concurrency, List<Integer> statuses) {
    String address = GatewayAddresses.address(context.view().state(), gateway[0], gateway[1]);
    if (address == null) {
      throw new StepFailure("Gateway " + gateway[0] + "/" + gateway[1] + " has no status address");
    }
    InetSocketAddress target = GatewayAddresses.connectTo(address, port);
    String host = request.get("host") != null ? Yaml.string(request.get("host"))
        : GatewayAddresses.defaultHost(address, port, "http");
    RawHttp.Request raw = new RawHttp.Request(Objects.toString(request.get("method"), "GET"),
        path, host, List.of(), null);
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int i = 0; i < requests; i++) {
        results.add(pool.submit(() -> RawHttp.exchange(target, raw, ATTEMPT_TIMEOUT, null).status()));
      }
      for (Future<Integer> result : results) {
        int status = result.get(30, TimeUnit.SECONDS);
        if (!statuses.contains(status)) {
          throw new StepFailure("expectMirrorPercentage: " + path + " answered " + status
              + ", expected " + statuses);
        }
      }
    } catch (StepFailure e) {
      throw e;
    } catch (Exception e) {
      throw new StepFailure("expectMirrorPercentage: requests failed: " + e);
    } finally {
      pool.shutdownNow();
    }
  }

  /** Returns null when every mirror's share is in its band, else what was seen. */
  private String checkShares(Map<String, Object> step, String path, int requests) {
    // Copies may still be in flight when the last answer arrived.
    Poll.pause(Duration.ofMillis(500));
    for (Object item : Yaml.list(step.get("mirroredTo"))) {
      Map<String, Object> mirror = Yaml.map(item);
      String namespace = Yaml.string(mirror.get("namespace"));
      String name = Yaml.string(mirror.get("name"));
      double percent = ((Number) mirror.get("percent")).doubleValue();
      long received = context.infrastructure().receivedUris(namespace, name).stream()
          .filter(path::equals).count();
      double p = percent / 100;
      double mean = requests * p;
      double band = 3 * Math.sqrt(requests * p * (1 - p));
      if (Math.abs(received - mean) > band) {
        return "Service " + namespace + "/" + name + " received " + received + " of " + requests
            + " copies, expected " + Math.round(mean) + " +- " + Math.round(band);
      }
    }
    return null;
  }
}
