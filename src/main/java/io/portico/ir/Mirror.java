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
 * @param http2 whether the copies go over HTTP/2 whatever the backend port's
 *     {@code appProtocol}: a GRPCRoute's mirror receives gRPC calls
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Mirror(String name, BackendKey key, double percent,
    @JsonInclude(JsonInclude.Include.NON_DEFAULT) boolean http2) {

  /** A mirror spoken to as its backend port says (HTTPRoute). */
  public Mirror(String name, BackendKey key, double percent) {
    this(name, key, percent, false);
  }

  public Mirror {
    Objects.requireNonNull(name, "name");
    if (percent < 0 || percent > 100) {
      throw new IllegalArgumentException("percent: " + percent + " (expected: 0-100)");
    }
  }
}
