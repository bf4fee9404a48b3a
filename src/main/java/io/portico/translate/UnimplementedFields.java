package io.portico.translate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.portico.translate.PolicyFields.map;

/**
 * Names the fields of a BackendTrafficPolicy's spec that Portico does not implement, so that none
 * is ignored in silence: the policy's status ({@code Warning}, reason {@code Unsupported}) and
 * the log name each one by its path ({@code spec.rateLimit},
 * {@code spec.loadBalancer.zoneAware}, {@code spec.retry.numAttemptsPerPriority}).
 *
 * <p>What Portico implements is listed here, field by field, as {@link TrafficPolicySpec} and
 * its readers ({@link LoadBalancerSpec}, {@link HealthCheckSpec}, {@link ResilienceSpec}) read
 * it and the proxy applies it; everything else present in a spec is reported, whether Envoy
 * Gateway defines it (rateLimit, faultInjection, compression, responseOverride, dns, ...) or
 * not (a typo, a field of a newer Envoy Gateway). Adding a field to a reader means adding it
 * here, or its users are told it does nothing.
 */
final class UnimplementedFields {

  /** Where each field of a spec stands. */
  private sealed interface Node {
  }

  /** A value Portico reads as a whole (a scalar, a list of scalars, a map of names). */
  private record Leaf(boolean setting) implements Node {
  }

  /**
   * An object whose fields are listed.
   *
   * @param appliesAlone whether the object has an effect even when none of its fields is set
   *     ({@code retry: {}} retries with Envoy Gateway's defaults)
   */
  private record Section(boolean appliesAlone, Map<String, Node> fields) implements Node {
  }

  /** A list of objects of one shape. */
  private record Items(Section item) implements Node {
  }

  /**
   * A field Portico does not implement, but whose value {@code portico} is what Portico does
   * anyway (Envoy Gateway's default): set to it, the field changes nothing and is not reported;
   * set to anything else it is.
   */
  private record AsPorticoDoes(Object portico) implements Node {
  }

  private static final Leaf SETTING = new Leaf(true);
  /** Targets are read by PolicyTargets; they apply nothing by themselves. */
  private static final Leaf TARGETING = new Leaf(false);

  private static final Section PAYLOAD = section("type", "text", "binary");
  private static final Section COOKIE = section(false, Map.of("name", SETTING, "ttl", SETTING,
      "attributes", SETTING));
  private static final Section NAME = section("name");

  /** Every field Portico implements: Envoy Gateway's names, and the seed's sessionAffinity. */
  private static final Section SPEC = section(false, fields(
      "targetRef", TARGETING,
      "targetRefs", TARGETING,
      "targetSelectors", TARGETING,
      "sessionAffinity", section(true, Map.of("type", SETTING, "cookie", COOKIE)),
      "loadBalancer", section(true, fields(
          "type", SETTING,
          "slowStart", section("window"),
          "consistentHash", section(true, fields(
              "type", SETTING,
              "header", NAME,
              "headers", new Items(NAME),
              "cookie", COOKIE,
              "queryParams", new Items(NAME),
              // Rendezvous hashing needs no table: the size is read and checked, and there is
              // nothing it could change.
              "tableSize", SETTING)))),
      "healthCheck", section(false, fields(
          "panicThreshold", SETTING,
          "active", section(true, fields(
              "type", SETTING,
              "timeout", SETTING,
              "interval", SETTING,
              "unhealthyThreshold", SETTING,
              "healthyThreshold", SETTING,
              "http", section(false, fields(
                  "hostname", SETTING,
                  "path", SETTING,
                  "method", SETTING,
                  "expectedStatuses", SETTING,
                  "expectedResponse", PAYLOAD)),
              "tcp", section(false, Map.of("send", PAYLOAD, "receive", PAYLOAD)),
              "grpc", section("service"))),
          "passive", section(true, fields(
              "splitExternalLocalOriginErrors", SETTING,
              "interval", SETTING,
              "consecutiveLocalOriginFailures", SETTING,
              "consecutiveGatewayErrors", SETTING,
              "consecutive5XxErrors", SETTING,
              "baseEjectionTime", SETTING,
              "maxEjectionPercent", SETTING)))),
      "retry", section(true, fields(
          "numRetries", SETTING,
          "retryOn", section(true, Map.of("triggers", SETTING, "httpStatusCodes", SETTING)),
          "perRetry", section(false, Map.of(
              "timeout", SETTING,
              "backOff", section("baseInterval", "maxInterval"))))),
      "timeout", section(false, Map.of(
          "tcp", section("connectTimeout"),
          "http", section("connectionIdleTimeout", "maxConnectionDuration", "requestTimeout"))),
      "circuitBreaker", section(false, fields(
          "maxConnections", SETTING,
          "maxPendingRequests", SETTING,
          "maxParallelRequests", SETTING,
          "maxParallelRetries", SETTING,
          "maxRequestsPerConnection", SETTING,
          "perEndpoint", section("maxConnections"))),
      "http2", section("initialStreamWindowSize", "initialConnectionWindowSize",
          "maxConcurrentStreams"),
      // Portico speaks to a backend in the protocol its appProtocol names, not the client's.
      "useClientProtocol", new AsPorticoDoes(false),
      // Portico balances over the endpoints themselves, never through a Service's cluster IP.
      "routingType", new AsPorticoDoes("Endpoint")));

  /**
   * Fields that protect a backend or the gateway (they refuse or limit traffic), with what goes
   * unenforced: the status says so first, as their absence lets through what the user meant to
   * stop. Portico still serves the traffic (only a SecurityPolicy fails closed).
   */
  private static final Map<String, String> PROTECTIONS = Map.of(
      "spec.rateLimit", "requests are not rate limited",
      "spec.bandwidthLimit", "bandwidth is not limited",
      "spec.admissionControl", "no request is rejected when the backend's success rate drops",
      "spec.requestBuffer", "request bodies are neither buffered nor limited in size",
      "spec.circuitBreaker.retryBudget", "retries are not limited to a share of the active"
          + " requests (maxParallelRetries still applies)");

  /**
   * @param paths the fields set that Portico does not implement, by path, sorted (the same
   *     message whether the spec came from a file or from the API server)
   * @param appliesAnything whether the spec sets some field Portico implements (targets aside)
   */
  record Report(List<String> paths, boolean appliesAnything) {

    /** Returns whether every field set is implemented. */
    boolean none() {
      return paths.isEmpty();
    }

    /**
     * Returns the status message: the protections not enforced first, then every field, and
     * what still applies.
     */
    String message() {
      List<String> protections = new ArrayList<>();
      for (String path : paths) {
        String consequence = PROTECTIONS.get(path);
        if (consequence != null) {
          protections.add(path + " (" + consequence + ")");
        }
      }
      String unenforced = protections.isEmpty() ? ""
          : "Protection not enforced: " + String.join(", ", protections) + ". ";
      String fields = String.join(", ", paths);
      return unenforced + "Portico does not implement " + fields + ": "
          + (paths.size() == 1 ? "it has" : "they have") + " no effect"
          + (appliesAnything ? "; the policy's other fields apply"
              : "; this policy sets nothing else, so it is not applied");
    }
  }

  private UnimplementedFields() {
  }

  /** Returns the fields of {@code spec} (a BackendTrafficPolicy's) Portico does not implement. */
  static Report of(Map<String, Object> spec) {
    List<String> paths = new ArrayList<>();
    boolean applies = walk(SPEC, spec, "spec", paths);
    paths.sort(null);
    return new Report(List.copyOf(paths), applies);
  }

  /** Adds the unimplemented fields under {@code value}; returns whether some field applies. */
  private static boolean walk(Section section, Map<String, Object> value, String path,
      List<String> paths) {
    boolean applies = false;
    for (Map.Entry<String, Object> entry : value.entrySet()) {
      if (entry.getValue() == null) {
        continue; // `field: null` sets nothing.
      }
      String at = path + "." + entry.getKey();
      Node node = section.fields().get(entry.getKey());
      if (node == null) {
        paths.add(at);
      } else if (node instanceof Leaf leaf) {
        applies |= leaf.setting();
      } else if (node instanceof AsPorticoDoes same) {
        if (!String.valueOf(same.portico()).equals(String.valueOf(entry.getValue()))) {
          paths.add(at);
        }
      } else if (node instanceof Section inner) {
        // A value of the wrong shape is the readers' to refuse, with the field's path.
        boolean inside = entry.getValue() instanceof Map<?, ?>
            && walk(inner, map(entry.getValue()), at, paths);
        applies |= inner.appliesAlone() || inside;
      } else if (node instanceof Items items) {
        List<?> list = PolicyFields.list(entry.getValue());
        for (int i = 0; i < list.size(); i++) {
          if (list.get(i) instanceof Map<?, ?>) {
            walk(items.item(), map(list.get(i)), at + "[" + i + "]", paths);
          }
        }
        applies = true;
      }
    }
    return applies;
  }

  private static Section section(String... leaves) {
    Map<String, Node> fields = new LinkedHashMap<>();
    for (String leaf : leaves) {
      fields.put(leaf, SETTING);
    }
    return new Section(false, Map.copyOf(fields));
  }

  private static Section section(boolean appliesAlone, Map<String, Node> fields) {
    return new Section(appliesAlone, fields);
  }

  /** Map.of for more than ten pairs: name, node, name, node... */
  private static Map<String, Node> fields(Object... pairs) {
    Map<String, Node> fields = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      fields.put((String) pairs[i], (Node) pairs[i + 1]);
    }
    return Map.copyOf(fields);
  }
}
