package io.portico.conformance;

import io.portico.echo.EchoOptions;
import io.portico.echo.EchoServer;
import io.portico.echo.GrpcEchoServer;
import io.portico.echo.EchoTls;
import io.portico.echo.TcpEchoServer;
import io.portico.echo.UdpEchoServer;
import io.vertx.core.Vertx;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The backends of {@code infrastructure.yaml}: one echo server per HTTP-mode pod, bound to the
 * pod's own loopback address and container ports, and the EndpointSlices a cluster would
 * generate for the Services that select those pods.
 */
final class Infrastructure implements AutoCloseable {

  /** A pod of a Deployment, with the labels of its template. */
  record Pod(String namespace, String name, String address, Map<String, Object> labels) {}

  private final Vertx vertx = Vertx.vertx();
  private final List<Pod> pods = new ArrayList<>();
  /** The echo servers of each pod, by namespace/pod name. */
  private final Map<String, List<EchoServer>> serversByPod = new LinkedHashMap<>();
  /** The selector of each Service, by namespace/name. */
  private final Map<String, Map<String, Object>> selectors = new LinkedHashMap<>();
  private final List<String> notes = new ArrayList<>();
  private final Map<String, List<Map<String, Object>>> slicesBySource = new LinkedHashMap<>();
  private final List<Map<String, Object>> certificates = new ArrayList<>();

  private Infrastructure() {
  }

  /**
   * Starts the echo pods and prepares the EndpointSlices of {@code infrastructure.yaml}; HTTPS
   * ports take their certificates from {@code certificates} (the generated Secrets and CA
   * ConfigMaps).
   */
  static Infrastructure start(Path infrastructureYaml, List<Map<String, Object>> certificates) {
    Infrastructure infrastructure = new Infrastructure();
    infrastructure.certificates.addAll(certificates);
    try {
      Map<String, Object> yaml = Yaml.readMap(infrastructureYaml);
      for (Object item : Yaml.list(yaml.get("deployments"))) {
        infrastructure.startDeployment(Yaml.map(item));
      }
      for (Object item : Yaml.list(yaml.get("services"))) {
        infrastructure.addEndpointSlice(Yaml.map(item));
      }
      return infrastructure;
    } catch (RuntimeException e) {
      infrastructure.close();
      throw e;
    }
  }

  private void startDeployment(Map<String, Object> deployment) {
    String namespace = Yaml.string(deployment.get("namespace"));
    String name = Yaml.string(deployment.get("name"));
    String mode = Yaml.string(deployment.get("mode"));
    Map<String, Object> labels = Yaml.map(deployment.get("labels"));
    boolean http = "http".equals(mode);
    boolean tcp = "tcp".equals(mode);
    boolean udp = "udp-echo".equals(mode) || "udp-dns".equals(mode);
    boolean grpc = "grpc".equals(mode);
    if (!http && !tcp && !udp && !grpc) {
      notes.add("pods of " + namespace + "/" + name + " (" + mode + ") not started: only HTTP,"
          + " gRPC, TCP, UDP echo and DNS backends exist so far");
    }
    for (Object podItem : Yaml.list(deployment.get("pods"))) {
      Map<String, Object> pod = Yaml.map(podItem);
      Pod p = new Pod(namespace, Yaml.string(pod.get("name")), Yaml.string(pod.get("address")),
          labels);
      pods.add(p);
      if (tcp) {
        startEchoPorts(deployment, p, options -> TcpEchoServer.start(vertx, options));
        continue;
      }
      if (udp) {
        startUdp(deployment, p, mode);
        continue;
      }
      if (grpc) {
        startEchoPorts(deployment, p, options -> GrpcEchoServer.start(vertx, options));
        continue;
      }
      if (!http) {
        continue;
      }
      for (Object listenItem : Yaml.list(deployment.get("listen"))) {
        Map<String, Object> listen = Yaml.map(listenItem);
        int port = ((Number) listen.get("port")).intValue();
        EchoOptions options = new EchoOptions(p.address(), port, p.name(), namespace);
        if (listen.containsKey("serverCert")) {
          options = options.withTls(tls(listen));
        } else if (Objects.toString(listen.get("protocol"), "").startsWith("h2c")) {
          options = options.withH2cOnly(true);
        }
        EchoServer server = await(EchoServer.start(vertx, options)
            .toCompletionStage().toCompletableFuture());
        serversByPod.computeIfAbsent(namespace + "/" + p.name(), k -> new ArrayList<>()).add(server);
      }
    }
  }

  /**
   * Starts the echo ports of a tcp- or grpc-mode pod with {@code server}: plain (h2c for gRPC),
   * and TLS where a serverCert is named.
   */
  private void startEchoPorts(Map<String, Object> deployment, Pod pod,
      java.util.function.Function<EchoOptions, io.vertx.core.Future<?>> server) {
    for (Object listenItem : Yaml.list(deployment.get("listen"))) {
      Map<String, Object> listen = Yaml.map(listenItem);
      int port = ((Number) listen.get("port")).intValue();
      EchoOptions options = new EchoOptions(pod.address(), port, pod.name(), pod.namespace());
      if (listen.containsKey("serverCert")) {
        options = options.withTls(tls(listen));
      }
      await(server.apply(options).toCompletionStage().toCompletableFuture());
    }
  }

  /** Starts a UDP echo pod (reporting its serviceName) or the DNS pod. */
  private void startUdp(Map<String, Object> deployment, Pod pod, String mode) {
    for (Object listenItem : Yaml.list(deployment.get("listen"))) {
      int port = ((Number) Yaml.map(listenItem).get("port")).intValue();
      if ("udp-dns".equals(mode)) {
        try {
          await(DnsBackend.start(vertx, pod.address(), port).toCompletionStage()
              .toCompletableFuture());
        } catch (IllegalStateException e) {
          notes.add("DNS pod " + pod.name() + " not started (port " + port + "): "
              + e.getMessage());
        }
        continue;
      }
      await(UdpEchoServer.start(vertx, new EchoOptions(pod.address(), port, pod.name(),
              pod.namespace()), Yaml.string(deployment.get("serviceName")))
          .toCompletionStage().toCompletableFuture());
    }
  }

  /** The TLS material of an HTTPS port: {@code serverCert: Secret ns/name}, {@code clientCA}. */
  private EchoTls tls(Map<String, Object> listen) {
    String[] secretRef = CaseContext.ref(Yaml.string(listen.get("serverCert"))
        .substring("Secret ".length()));
    Map<String, Object> data = Yaml.map(find("Secret", secretRef).get("data"));
    String clientCa = null;
    if (listen.get("clientCA") != null) {
      String[] caRef = CaseContext.ref(Yaml.string(listen.get("clientCA"))
          .substring("ConfigMap ".length()));
      clientCa = Yaml.string(Yaml.map(find("ConfigMap", caRef).get("data")).get("ca.crt"));
    }
    Base64.Decoder base64 = Base64.getDecoder();
    return new EchoTls(
        new String(base64.decode(Yaml.string(data.get("tls.crt"))), StandardCharsets.US_ASCII),
        new String(base64.decode(Yaml.string(data.get("tls.key"))), StandardCharsets.US_ASCII),
        clientCa);
  }

  private Map<String, Object> find(String kind, String[] ref) {
    for (Map<String, Object> object : certificates) {
      Map<String, Object> metadata = Yaml.map(object.get("metadata"));
      if (kind.equals(object.get("kind")) && ref[0].equals(metadata.get("namespace"))
          && ref[1].equals(metadata.get("name"))) {
        return object;
      }
    }
    throw new IllegalStateException("echo TLS: no generated " + kind + " " + ref[0] + "/"
        + ref[1]);
  }

  /**
   * Adds the slice the EndpointSlice controller would write for a Service with a selector: the
   * Service ports by name with their target port numbers, and every matching pod, ready.
   */
  private void addEndpointSlice(Map<String, Object> service) {
    if (service.get("selector") == null) {
      return;
    }
    String namespace = Yaml.string(service.get("namespace"));
    String name = Yaml.string(service.get("name"));
    Map<String, Object> selector = Yaml.map(service.get("selector"));
    selectors.put(Yaml.string(service.get("namespace")) + "/" + Yaml.string(service.get("name")),
        selector);
    List<Object> ports = new ArrayList<>();
    for (Object item : Yaml.list(service.get("ports"))) {
      Map<String, Object> port = Yaml.map(item);
      if (!(port.get("targetPort") instanceof Number target)) {
        notes.add(namespace + "/" + name + ": named targetPort " + port.get("targetPort")
            + " left out of its EndpointSlice");
        continue;
      }
      Map<String, Object> slicePort = new LinkedHashMap<>();
      slicePort.put("name", port.getOrDefault("name", ""));
      slicePort.put("port", target.intValue());
      slicePort.put("protocol", port.getOrDefault("protocol", "TCP"));
      if (port.get("appProtocol") != null) {
        slicePort.put("appProtocol", port.get("appProtocol"));
      }
      ports.add(slicePort);
    }
    List<Object> endpoints = new ArrayList<>();
    for (Pod pod : pods) {
      if (pod.namespace().equals(namespace)
          && pod.labels().entrySet().containsAll(selector.entrySet())) {
        endpoints.add(Map.of(
            "addresses", List.of(pod.address()),
            "conditions", Map.of("ready", true),
            "targetRef", Map.of("kind", "Pod", "name", pod.name(), "namespace", namespace)));
      }
    }
    Map<String, Object> slice = new LinkedHashMap<>();
    slice.put("apiVersion", "discovery.k8s.io/v1");
    slice.put("kind", "EndpointSlice");
    slice.put("metadata", Map.of(
        "name", name + "-standalone",
        "namespace", namespace,
        "labels", Map.of("kubernetes.io/service-name", name,
            "endpointslice.kubernetes.io/managed-by", "portico-conformance")));
    slice.put("addressType", "IPv4");
    slice.put("ports", ports);
    slice.put("endpoints", endpoints);
    slicesBySource.computeIfAbsent(Yaml.string(service.get("source")), k -> new ArrayList<>())
        .add(slice);
  }

  /** Returns the generated EndpointSlices of the Services a manifest file creates. */
  List<Map<String, Object>> endpointSlicesOf(String manifestFile) {
    return slicesBySource.getOrDefault(manifestFile, List.of()).stream().map(Yaml::deepCopy)
        .toList();
  }

  /** Returns what was left out (non-HTTP pods), for the log. */
  List<String> notes() {
    return notes;
  }

  /** The Vert.x the echo servers run on, also used by the runner's own clients. */
  Vertx vertx() {
    return vertx;
  }

  /**
   * Returns the request URIs the pods of a Service received (on any port), the runner's
   * stand-in for reading the echo pods' logs.
   */
  List<String> receivedUris(String namespace, String service) {
    Map<String, Object> selector = selectors.get(namespace + "/" + service);
    List<String> uris = new ArrayList<>();
    if (selector == null) {
      return uris;
    }
    for (Pod pod : pods) {
      if (pod.namespace().equals(namespace)
          && pod.labels().entrySet().containsAll(selector.entrySet())) {
        serversByPod.getOrDefault(namespace + "/" + pod.name(), List.of())
            .forEach(server -> uris.addAll(server.receivedUris()));
      }
    }
    return uris;
  }

  @Override
  public void close() {
    await(vertx.close().toCompletionStage().toCompletableFuture());
  }

  private static <T> T await(java.util.concurrent.CompletableFuture<T> future) {
    try {
      return future.get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("echo backend: " + e.getMessage(), e);
    }
  }
}
