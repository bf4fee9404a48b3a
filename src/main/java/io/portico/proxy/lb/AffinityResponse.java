package io.portico.proxy.lb;

import io.portico.ir.BackendGroup;
import io.portico.ir.Endpoint;
import io.portico.ir.LoadBalancing;
import io.portico.ir.SessionPersistence;
import io.vertx.core.MultiMap;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;

import java.util.Map;

/**
 * Adds the affinity cookie and the session cookie or header to an upstream's answer, naming the
 * endpoint that actually answered: after a retry on another endpoint that is not the first
 * pick. Called only when an upstream response is relayed, so an error Portico answers itself
 * (502, 503, 504) never pins a session.
 *
 * <ul>
 *   <li>BackendTrafficPolicy cookie affinity: Set-Cookie when the request's cookie does not
 *       name the answering endpoint (none, stale, or moved by a retry), with
 *       {@code Max-Age} from the ttl, {@code Path=/} (unless the attributes set Path),
 *       {@code HttpOnly}, {@code Secure} on HTTPS (or with {@code SameSite=None}), then the
 *       policy's validated attributes.
 *   <li>HTTPRoute {@code sessionPersistence}, cookie: Set-Cookie for a new session, and on
 *       every answer when an idle timeout must be refreshed; {@code Max-Age} only for
 *       {@code lifetimeType: Permanent} (what is left of the absolute timeout, capped by the
 *       idle timeout). Header: the header on every answer.
 * </ul>
 */
public final class AffinityResponse {

  private AffinityResponse() {
  }

  /** The Forwarder's hook: call with the endpoint whose response is about to be relayed. */
  public static void answered(HttpServerRequest request, BackendGroup group, Endpoint endpoint) {
    if (group == null) {
      return;
    }
    LoadBalancing policy = group.loadBalancing();
    if (policy.type() == LoadBalancing.Type.COOKIE) {
      Cookie cookie = request.getCookie(policy.name());
      if (cookie == null || !EndpointAffinity.names(cookie.getValue(), endpoint)) {
        request.response().headers().add(HttpHeaders.SET_COOKIE,
            affinityCookie(policy, EndpointAffinity.cookieValue(endpoint), request.isSSL()));
      }
    }
    SessionPersistence persistence = group.sessionPersistence();
    if (persistence != null) {
      session(request, persistence, endpoint, request.response().headers());
    }
  }

  /** Returns the session value the request carries, or null. */
  static String session(HttpServerRequest request, SessionPersistence persistence) {
    if (persistence.type() == SessionPersistence.Type.HEADER) {
      return request.getHeader(persistence.name());
    }
    Cookie cookie = request.getCookie(persistence.name());
    return cookie == null ? null : cookie.getValue();
  }

  private static void session(HttpServerRequest request, SessionPersistence persistence,
      Endpoint endpoint, MultiMap headers) {
    long now = EndpointChooser.nowSeconds();
    String current = session(request, persistence);
    String named = SessionValue.validEndpoint(persistence, current, now);
    boolean same = named != null && EndpointAffinity.names(named, endpoint);
    long issued = same ? SessionValue.issued(current) : now;
    if (persistence.type() == SessionPersistence.Type.HEADER) {
      headers.set(persistence.name(),
          same && persistence.idleTimeoutSeconds() == 0 ? current
              : SessionValue.format(persistence, endpoint, issued, now));
      return;
    }
    if (same && persistence.idleTimeoutSeconds() == 0) {
      return;
    }
    StringBuilder cookie = new StringBuilder(persistence.name()).append('=')
        .append(SessionValue.format(persistence, endpoint, issued, now));
    if (persistence.permanent()) {
      long maxAge = persistence.absoluteTimeoutSeconds() > 0
          ? Math.max(0, persistence.absoluteTimeoutSeconds() - (now - issued)) : Long.MAX_VALUE;
      if (persistence.idleTimeoutSeconds() > 0) {
        maxAge = Math.min(maxAge, persistence.idleTimeoutSeconds());
      }
      if (maxAge != Long.MAX_VALUE) {
        cookie.append("; Max-Age=").append(maxAge);
      }
    }
    cookie.append("; Path=/; HttpOnly");
    if (request.isSSL()) {
      cookie.append("; Secure");
    }
    headers.add(HttpHeaders.SET_COOKIE, cookie.toString());
  }

  /** Returns the Set-Cookie value of cookie affinity (attributes were validated on translation). */
  static String affinityCookie(LoadBalancing policy, String value, boolean https) {
    Map<String, String> attributes = policy.cookieAttributes();
    StringBuilder header = new StringBuilder(policy.name()).append('=').append(value);
    if (policy.ttlSeconds() > 0) {
      header.append("; Max-Age=").append(policy.ttlSeconds());
    }
    String path = attributes.get("Path");
    header.append("; Path=").append(path == null || path.isEmpty() ? "/" : path);
    header.append("; HttpOnly");
    if (https || attributes.containsKey("Secure")
        || "none".equalsIgnoreCase(attributes.get("SameSite"))) {
      header.append("; Secure");
    }
    for (Map.Entry<String, String> attribute : attributes.entrySet()) {
      String name = attribute.getKey();
      if (name.equals("Path") || name.equals("Secure") || name.equals("HttpOnly")) {
        continue;
      }
      header.append("; ").append(name);
      if (!attribute.getValue().isEmpty()) {
        header.append('=').append(attribute.getValue());
      }
    }
    return header.toString();
  }
}
