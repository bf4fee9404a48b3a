package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Objects;

/**
 * A copy of matching requests sent to another backend, whose answer is ignored (Gateway API
 * {@code RequestMirror} filter).
 *
 * @param name deterministic name, e.g. {@code httproute/default/web/rule/0/mirror/1}
 * @param key the backend port that receives the copies; null when the reference is invalid
 *     (then nothing is mirrored and the route's ResolvedRefs says why)
 * @param percent the share of requests mirrored, 0 to 100 (the spec's {@code percent}, or
 *     {@code fraction} as a percentage); 100 by default
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Mirror(String name, BackendKey key, double percent) {

  public Mirror {
    Objects.requireNonNull(name, "name");
    if (percent < 0 || percent > 100) {
      throw new IllegalArgumentException("percent: " + percent + " (expected: 0-100)");
    }
  }
}
