package io.portico.resource;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The HTTP names and limits the Gateway API schema defines, in one place for every check that
 * needs them: the schema checks of objects read from files ({@link GatewayApiSchema}) and the
 * translator's checks, which hold in both modes (route filters, CORS, health checks, load
 * balancer hash keys).
 */
public final class HttpSyntax {

  /**
   * An RFC 9110 token (the Gateway API HTTPHeaderName pattern): what header names, cookie names
   * and attribute names may be.
   */
  public static final Pattern HEADER_NAME = Pattern.compile("[A-Za-z0-9!#$%&'*+\\-.^_`|~]+");

  /** The longest header name the schema allows (HTTPHeaderName maxLength). */
  public static final int MAX_HEADER_NAME = 256;

  /** The longest header (or query parameter) value the schema allows. */
  public static final int MAX_HEADER_VALUE = 4096;

  /** The Gateway API HTTPMethod enum. */
  public static final List<String> METHODS = List.of("GET", "HEAD", "POST", "PUT", "DELETE",
      "CONNECT", "OPTIONS", "TRACE", "PATCH");

  private HttpSyntax() {
  }

  /** Returns whether {@code name} is a header name the schema allows: a token, not too long. */
  public static boolean isHeaderName(String name) {
    return name != null && name.length() <= MAX_HEADER_NAME
        && HEADER_NAME.matcher(name).matches();
  }
}
