package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/**
 * The Gateway API filters of one route rule, or of one backendRef, compiled once. Every field
 * is null when the filter is absent; {@link #NONE} stands for no filter at all, so the proxy
 * tests one reference on the common path.
 *
 * @param requestHeaders {@code RequestHeaderModifier}: applied to the request sent upstream
 * @param responseHeaders {@code ResponseHeaderModifier}: applied to the response sent back
 * @param redirect {@code RequestRedirect}: the request is answered with a redirect and never
 *     forwarded
 * @param urlRewrite {@code URLRewrite}: the host and/or path sent upstream change; never set
 *     together with {@code redirect}
 * @param mirrors {@code RequestMirror}: backends that get a copy of each request; null when
 *     there is none
 * @param cors {@code CORS}: preflights answered here, CORS headers on allowed responses
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Filters(HeaderModifier requestHeaders, HeaderModifier responseHeaders,
    Redirect redirect, UrlRewrite urlRewrite, List<Mirror> mirrors, Cors cors) {

  /** No filter. */
  public static final Filters NONE = new Filters(null, null, null, null, null, null);

  public Filters(HeaderModifier requestHeaders, HeaderModifier responseHeaders,
      Redirect redirect, UrlRewrite urlRewrite) {
    this(requestHeaders, responseHeaders, redirect, urlRewrite, null, null);
  }

  public Filters {
    if (redirect != null && urlRewrite != null) {
      throw new IllegalArgumentException("RequestRedirect and URLRewrite cannot be combined");
    }
    requestHeaders = requestHeaders == null || requestHeaders.isEmpty() ? null : requestHeaders;
    responseHeaders = responseHeaders == null || responseHeaders.isEmpty() ? null : responseHeaders;
    mirrors = mirrors == null || mirrors.isEmpty() ? null : List.copyOf(mirrors);
  }

  /** Returns the filters, or {@link #NONE} when there are none. */
  public static Filters of(HeaderModifier requestHeaders, HeaderModifier responseHeaders,
      Redirect redirect, UrlRewrite urlRewrite, List<Mirror> mirrors, Cors cors) {
    Filters filters = new Filters(requestHeaders, responseHeaders, redirect, urlRewrite, mirrors,
        cors);
    return filters.isEmpty() ? NONE : filters;
  }

  /** Whether nothing is filtered. */
  @JsonIgnore
  public boolean isEmpty() {
    return requestHeaders == null && responseHeaders == null && redirect == null
        && urlRewrite == null && mirrors == null && cors == null;
  }

  /**
   * Jackson {@code valueFilter} that leaves {@link #NONE} out of the routing table's JSON and
   * YAML, so routes without filters print as before.
   */
  public static final class OmitWhenEmpty {

    @Override
    public boolean equals(Object value) {
      return value == null || value instanceof Filters filters && filters.isEmpty();
    }

    @Override
    public int hashCode() {
      return 0;
    }
  }
}
