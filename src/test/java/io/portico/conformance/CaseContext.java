package io.portico.conformance;

import io.portico.resource.ObjectKey;
import io.vertx.core.Vertx;

import java.util.HashMap;
import java.util.Map;

/**
 * What the steps of one case share: the suite's services and the values earlier steps recorded
 * for later ones.
 *
 * @param view Portico's objects and status
 * @param store the configuration directory
 * @param controllerName the GatewayClass controllerName Portico serves
 * @param vertx the runner's Vert.x, for clients the JDK lacks (h2c, WebSocket)
 * @param generationsBeforePatch metadata.generation of each patched object, read just before
 *     its latest patch (for {@code expectGenerationChanged})
 * @param infrastructure the echo pods (mirror steps read what they received)
 * @param requestIds the {@code {requestId}} of the latest response step, for the following
 *     {@code expectMirror} (key "requestId")
 * @param patchedOriginals the values patches replaced, by the last segment of their field path
 *     (for {@code ${original field}} in a later patch)
 */
record CaseContext(ClusterView view, ManifestStore store, String controllerName, Vertx vertx,
    Map<ObjectKey, Long> generationsBeforePatch, Infrastructure infrastructure,
    Map<String, String> requestIds, Map<String, Object> patchedOriginals) {

  CaseContext(ClusterView view, ManifestStore store, String controllerName,
      Infrastructure infrastructure) {
    this(view, store, controllerName, infrastructure.vertx(), new HashMap<>(), infrastructure,
        new HashMap<>(), new HashMap<>());
  }

  /** Splits {@code namespace/name}. */
  static String[] ref(Object value) {
    String text = String.valueOf(value);
    int slash = text.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("expected namespace/name: " + text);
    }
    return new String[] {text.substring(0, slash), text.substring(slash + 1)};
  }
}
