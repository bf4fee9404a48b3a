package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Changes what is sent upstream. Gateway API {@code HTTPURLRewriteFilter}.
 *
 * @param hostname replaces the Host header (HTTP/2 {@code :authority}) sent to the backend;
 *     null keeps it. {@code X-Forwarded-Host} still carries the client's
 * @param path how the path sent to the backend changes (the query string stays); null keeps it
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record UrlRewrite(String hostname, PathModifier path) {

  public UrlRewrite {
    if (hostname == null && path == null) {
      throw new IllegalArgumentException("a rewrite must change the hostname or the path");
    }
  }
}
