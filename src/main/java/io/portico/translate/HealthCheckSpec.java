package io.portico.translate;

import io.portico.ir.HealthCheck;
import io.portico.resource.HttpSyntax;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static io.portico.translate.InvalidPolicy.invalid;
import static io.portico.translate.PolicyFields.map;
import static io.portico.translate.PolicyFields.string;

/**
 * Reads a BackendTrafficPolicy's {@code healthCheck} into a {@link HealthCheck}, in Envoy
 * Gateway's shape (api/v1alpha1/healthcheck_types.go) with its defaults:
 *
 * <pre>
 * healthCheck:
 *   panicThreshold: 50                       # percent
 *   active:
 *     type: HTTP | TCP | GRPC
 *     timeout: 1s
 *     interval: 3s
 *     unhealthyThreshold: 3
 *     healthyThreshold: 1
 *     http: {hostname, path, method: GET, expectedStatuses: [200],
 *            expectedResponse: {type: Text|Binary, text | binary}}
 *     tcp: {send: {payload}, receive: {payload}}
 *     grpc: {service}
 *   passive:
 *     splitExternalLocalOriginErrors: false
 *     interval: 3s
 *     consecutiveLocalOriginFailures: 5
 *     consecutiveGatewayErrors: 0
 *     consecutive5XxErrors: 5
 *     baseEjectionTime: 30s
 *     maxEjectionPercent: 10
 * </pre>
 */
final class HealthCheckSpec {

  private static final String FIELD = "spec.healthCheck";
  /** The schema's methods but CONNECT, which asks for a tunnel, not an answer. */
  private static final Set<String> METHODS = HttpSyntax.METHODS.stream()
      .filter(method -> !method.equals("CONNECT")).collect(Collectors.toUnmodifiableSet());

  private HealthCheckSpec() {
  }

  /** Returns the policy's health checking, or {@link HealthCheck#NONE} when it sets none. */
  static HealthCheck parse(Map<String, Object> spec) throws InvalidPolicy {
    Object value = spec.get("healthCheck");
    if (value == null) {
      return HealthCheck.NONE;
    }
    if (!(value instanceof Map<?, ?>)) {
      throw invalid(FIELD + ": expected an object");
    }
    Map<String, Object> health = map(value);
    int panic = PolicyFields.integer(health, "panicThreshold", FIELD + ".panicThreshold", 0, 100,
        HealthCheck.DEFAULT_PANIC_THRESHOLD);
    HealthCheck.Active active = health.get("active") == null ? null
        : active(map(health.get("active")), FIELD + ".active");
    HealthCheck.Passive passive = health.get("passive") == null ? null
        : passive(map(health.get("passive")), FIELD + ".passive");
    return new HealthCheck(active, passive, panic);
  }

  private static HealthCheck.Active active(Map<String, Object> active, String field)
      throws InvalidPolicy {
    String typeName = string(active.get("type"));
    if (typeName == null) {
      throw invalid(field + ".type is required (HTTP, TCP, GRPC)");
    }
    HealthCheck.Type type = switch (typeName) {
      case "HTTP" -> HealthCheck.Type.HTTP;
      case "TCP" -> HealthCheck.Type.TCP;
      case "GRPC" -> HealthCheck.Type.GRPC;
      default -> throw invalid(field + ".type: unknown type " + typeName + " (HTTP, TCP, GRPC)");
    };
    long timeout = millis(active, "timeout", field + ".timeout", 1000);
    long interval = millis(active, "interval", field + ".interval", 3000);
    int unhealthy = PolicyFields.integer(active, "unhealthyThreshold",
        field + ".unhealthyThreshold", 1, Integer.MAX_VALUE, 3);
    int healthy = PolicyFields.integer(active, "healthyThreshold", field + ".healthyThreshold", 1,
        Integer.MAX_VALUE, 1);
    // Envoy Gateway's CEL rules: http set exactly for HTTP, tcp exactly for TCP, grpc only GRPC.
    for (String section : List.of("http", "tcp", "grpc")) {
      if (active.get(section) != null && !section.equalsIgnoreCase(typeName)) {
        throw invalid(field + "." + section + " can only be set when type is "
            + section.toUpperCase());
      }
    }
    HealthCheck.HttpProbe http = null;
    HealthCheck.TcpProbe tcp = null;
    String grpcService = null;
    switch (type) {
      case HTTP -> {
        if (active.get("http") == null) {
          throw invalid(field + ".http is required when type is HTTP");
        }
        http = http(map(active.get("http")), field + ".http");
      }
      case TCP -> {
        if (active.get("tcp") == null) {
          throw invalid(field + ".tcp is required when type is TCP");
        }
        Map<String, Object> t = map(active.get("tcp"));
        tcp = new HealthCheck.TcpProbe(payload(t.get("send"), field + ".tcp.send"),
            payload(t.get("receive"), field + ".tcp.receive"));
      }
      case GRPC -> {
        String service = string(map(active.get("grpc")).get("service"));
        grpcService = service == null ? "" : service;
      }
    }
    return new HealthCheck.Active(type, timeout, interval, unhealthy, healthy, http, tcp,
        grpcService);
  }

  private static HealthCheck.HttpProbe http(Map<String, Object> http, String field)
      throws InvalidPolicy {
    String path = string(http.get("path"));
    if (path == null || path.isEmpty()) {
      throw invalid(field + ".path is required");
    }
    if (!path.startsWith("/") || path.length() > 1024) {
      throw invalid(field + ".path: " + path + " (expected: an absolute path of at most 1024 "
          + "characters)");
    }
    String method = string(http.get("method"));
    method = method == null ? "GET" : method.toUpperCase();
    if (!METHODS.contains(method)) {
      throw invalid(field + ".method: unknown method " + method);
    }
    List<Integer> statuses = new ArrayList<>();
    List<?> listed = PolicyFields.list(http.get("expectedStatuses"));
    for (int i = 0; i < listed.size(); i++) {
      Object status = listed.get(i);
      if (!(status instanceof Number n) || n.intValue() < 100 || n.intValue() > 599
          || n.doubleValue() != n.intValue()) {
        throw invalid(field + ".expectedStatuses[" + i + "]: " + status
            + " (expected: an HTTP status 100-599)");
      }
      statuses.add(n.intValue());
    }
    if (statuses.isEmpty()) {
      statuses.add(200);
    }
    return new HealthCheck.HttpProbe(string(http.get("hostname")), path, method, statuses,
        payload(http.get("expectedResponse"), field + ".expectedResponse"));
  }

  private static HealthCheck.Payload payload(Object value, String field) throws InvalidPolicy {
    if (value == null) {
      return null;
    }
    Map<String, Object> payload = map(value);
    String type = string(payload.get("type"));
    String text = string(payload.get("text"));
    String binary = string(payload.get("binary"));
    if ("Text".equals(type)) {
      if (text == null || binary != null) {
        throw invalid(field + ".text is required (and binary not allowed) when type is Text");
      }
      return new HealthCheck.Payload(text, null);
    }
    if ("Binary".equals(type)) {
      if (binary == null || text != null) {
        throw invalid(field + ".binary is required (and text not allowed) when type is Binary");
      }
      try {
        Base64.getDecoder().decode(binary);
      } catch (IllegalArgumentException e) {
        throw invalid(field + ".binary: not valid base64");
      }
      return new HealthCheck.Payload(null, binary);
    }
    throw invalid(field + ".type: " + (type == null ? "is required" : "unknown type " + type)
        + " (Text, Binary)");
  }

  private static HealthCheck.Passive passive(Map<String, Object> passive, String field)
      throws InvalidPolicy {
    Object split = passive.get("splitExternalLocalOriginErrors");
    if (split != null && !(split instanceof Boolean)) {
      throw invalid(field + ".splitExternalLocalOriginErrors: " + split + " is not a boolean");
    }
    return new HealthCheck.Passive(Boolean.TRUE.equals(split),
        millis(passive, "interval", field + ".interval", 3000),
        PolicyFields.integer(passive, "consecutiveLocalOriginFailures",
            field + ".consecutiveLocalOriginFailures", 0, Integer.MAX_VALUE, 5),
        PolicyFields.integer(passive, "consecutiveGatewayErrors",
            field + ".consecutiveGatewayErrors", 0, Integer.MAX_VALUE, 0),
        PolicyFields.integer(passive, "consecutive5XxErrors", field + ".consecutive5XxErrors", 0,
            Integer.MAX_VALUE, 5),
        millis(passive, "baseEjectionTime", field + ".baseEjectionTime", 30_000),
        PolicyFields.integer(passive, "maxEjectionPercent", field + ".maxEjectionPercent", 0, 100,
            10));
  }

  /** Returns a positive duration in milliseconds, or {@code fallback} when unset. */
  private static long millis(Map<String, Object> parent, String key, String field, long fallback)
      throws InvalidPolicy {
    Duration duration = PolicyFields.duration(parent, key, field);
    if (duration == null) {
      return fallback;
    }
    if (duration.toMillis() <= 0) {
      throw invalid(field + ": " + parent.get(key) + " (expected: at least 1ms)");
    }
    return duration.toMillis();
  }
}
