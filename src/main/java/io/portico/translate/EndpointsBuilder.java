package io.portico.translate;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.portico.ir.BackendKey;
import io.portico.ir.Endpoint;
import io.portico.ir.EndpointsIndex;
import io.portico.resource.ResourceSnapshot;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds the {@link EndpointsIndex} from Services, EndpointSlices and Envoy Gateway Backends:
 * for every Service port, the ready pod addresses with the port the Service's targetPort names.
 * Pure, and independent of routes, so endpoint churn never re-runs route translation.
 */
public final class EndpointsBuilder {

  /** The label an EndpointSlice carries to name its Service. */
  static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

  /**
   * Service port appProtocols that mean cleartext HTTP/2: the Gateway API's
   * {@code kubernetes.io/h2c} (GEP-1911), and what Envoy Gateway also reads as HTTP/2.
   */
  private static final Set<String> H2C_APP_PROTOCOLS =
      Set.of("kubernetes.io/h2c", "h2c", "http2", "grpc");

  private static final Comparator<Endpoint> ORDER =
      Comparator.comparing(Endpoint::host).thenComparingInt(Endpoint::port);

  private EndpointsBuilder() {
  }

  public static EndpointsIndex build(ResourceSnapshot snapshot) {
    Map<String, List<EndpointSlice>> slicesByService = new HashMap<>();
    for (EndpointSlice slice : snapshot.endpointSlices()) {
      Map<String, String> labels = slice.getMetadata().getLabels();
      String service = labels == null ? null : labels.get(SERVICE_NAME_LABEL);
      if (service != null) {
        slicesByService.computeIfAbsent(slice.getMetadata().getNamespace() + "/" + service,
            k -> new ArrayList<>()).add(slice);
      }
    }
    Map<BackendKey, List<Endpoint>> endpoints = new HashMap<>();
    Set<BackendKey> h2c = new HashSet<>();
    for (Service service : snapshot.services()) {
      if (service.getSpec() == null || service.getSpec().getPorts() == null) {
        continue;
      }
      List<EndpointSlice> slices = slicesByService.getOrDefault(
          service.getMetadata().getNamespace() + "/" + service.getMetadata().getName(), List.of());
      for (ServicePort servicePort : service.getSpec().getPorts()) {
        if (servicePort.getPort() == null) {
          continue;
        }
        BackendKey key = BackendKey.service(service.getMetadata().getNamespace(),
            service.getMetadata().getName(), servicePort.getPort());
        endpoints.put(key, ready(servicePort, slices));
        if (H2C_APP_PROTOCOLS.contains(String.valueOf(servicePort.getAppProtocol()))) {
          h2c.add(key);
        }
      }
    }
    for (GenericKubernetesResource backend : snapshot.backends()) {
      endpoints.put(BackendKey.backend(backend.getMetadata().getNamespace(),
          backend.getMetadata().getName()), backendEndpoints(backend));
    }
    return new EndpointsIndex(endpoints, h2c, BackendTlsPhase.resolve(snapshot).upstreamTls());
  }

  /**
   * Returns the ready endpoints of one Service port. EndpointSlice ports carry the Service
   * port's name; a slice that lists no ports (selector-less Services written by hand) falls back
   * to a numeric targetPort.
   */
  private static List<Endpoint> ready(ServicePort servicePort, List<EndpointSlice> slices) {
    Set<Endpoint> result = new LinkedHashSet<>();
    String portName = servicePort.getName() == null ? "" : servicePort.getName();
    for (EndpointSlice slice : slices) {
      Integer port = slicePort(slice, portName, servicePort);
      if (port == null || slice.getEndpoints() == null) {
        continue;
      }
      for (io.fabric8.kubernetes.api.model.discovery.v1.Endpoint endpoint : slice.getEndpoints()) {
        if (!takesNewRequests(endpoint.getConditions()) || endpoint.getAddresses() == null) {
          continue;
        }
        for (String address : endpoint.getAddresses()) {
          result.add(new Endpoint(address, port));
        }
      }
    }
    List<Endpoint> sorted = new ArrayList<>(result);
    sorted.sort(ORDER);
    return List.copyOf(sorted);
  }

  /**
   * Returns whether an endpoint may be sent new requests: ready, serving and not terminating,
   * each unset meaning what the EndpointSlice API says it means (ready, serving, not
   * terminating). A terminating pod leaves the index, so it gets no new request; requests
   * already sent to it finish, since leaving the index closes no connection.
   */
  static boolean takesNewRequests(
      io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions conditions) {
    return conditions == null
        || !Boolean.FALSE.equals(conditions.getReady())
        && !Boolean.FALSE.equals(conditions.getServing())
        && !Boolean.TRUE.equals(conditions.getTerminating());
  }

  private static Integer slicePort(EndpointSlice slice, String portName, ServicePort servicePort) {
    if (slice.getPorts() != null && !slice.getPorts().isEmpty()) {
      for (EndpointPort port : slice.getPorts()) {
        String name = port.getName() == null ? "" : port.getName();
        if (name.equals(portName) && port.getPort() != null) {
          return port.getPort();
        }
      }
      return null;
    }
    IntOrString target = servicePort.getTargetPort();
    if (target == null) {
      return servicePort.getPort();
    }
    return target.getIntVal();
  }

  /** Envoy Gateway Backend: {@code spec.endpoints[].ip{address,port}} or {@code fqdn{hostname,port}}. */
  @SuppressWarnings("unchecked")
  private static List<Endpoint> backendEndpoints(GenericKubernetesResource backend) {
    List<Endpoint> result = new ArrayList<>();
    Object spec = backend.getAdditionalProperties().get("spec");
    if (!(spec instanceof Map<?, ?> specMap) || !(specMap.get("endpoints") instanceof List<?> list)) {
      return List.of();
    }
    for (Object item : list) {
      if (!(item instanceof Map<?, ?> endpoint)) {
        continue;
      }
      Object target = endpoint.get("ip") != null ? endpoint.get("ip") : endpoint.get("fqdn");
      if (!(target instanceof Map<?, ?> address)) {
        continue;
      }
      Object host = address.containsKey("address") ? address.get("address") : address.get("hostname");
      Object port = address.get("port");
      if (host instanceof String h && port instanceof Number p && p.intValue() > 0
          && p.intValue() <= 65535) {
        result.add(new Endpoint(h, p.intValue()));
      }
    }
    return List.copyOf(result);
  }

}
