package io.portico.ir;

import java.util.List;
import java.util.Locale;

/**
 * Cross-origin resource sharing for one rule (Gateway API {@code CORS} filter, GEP-1767):
 * preflight requests are answered by the gateway, allowed actual requests get the CORS
 * response headers.
 *
 * @param allowOrigins {@code *}, exact origins ({@code https://www.foo.com}) or origins with a
 *     wildcard host ({@code https://*.bar.com}, one or more labels)
 * @param allowMethods methods, or {@code *}
 * @param allowHeaders request headers, or {@code *}
 * @param exposeHeaders response headers the browser may read
 * @param allowCredentials whether credentials may be sent; then {@code *} is never answered,
 *     the request's own origin, method and headers are
 * @param maxAgeSeconds how long a preflight answer may be cached (spec default 5)
 */
public record Cors(List<String> allowOrigins, List<String> allowMethods, List<String> allowHeaders,
    List<String> exposeHeaders, boolean allowCredentials, int maxAgeSeconds) {

  public Cors {
    allowOrigins = List.copyOf(allowOrigins);
    allowMethods = List.copyOf(allowMethods);
    allowHeaders = List.copyOf(allowHeaders);
    exposeHeaders = List.copyOf(exposeHeaders);
  }

  /** Returns whether {@code origin} (scheme://host[:port]) may use the resource. */
  public boolean allows(String origin) {
    if (origin == null) {
      return false;
    }
    String candidate = origin.toLowerCase(Locale.ROOT);
    for (String allowed : allowOrigins) {
      if (allowed.equals("*") || allowed.equalsIgnoreCase(candidate)) {
        return true;
      }
      int wildcard = allowed.indexOf("://*.");
      if (wildcard > 0) {
        String scheme = allowed.substring(0, wildcard + 3).toLowerCase(Locale.ROOT);
        String suffix = allowed.substring(wildcard + 4).toLowerCase(Locale.ROOT);
        if (candidate.startsWith(scheme) && candidate.endsWith(suffix)
            && candidate.length() > scheme.length() + suffix.length()) {
          return true;
        }
      }
    }
    return false;
  }
}
