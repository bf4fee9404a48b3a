package io.portico.proxy;

import io.vertx.core.http.HttpServerRequest;

import java.nio.charset.StandardCharsets;

/**
 * What a gRPC client is told when Portico answers its call by itself: gRPC clients read the
 * status from {@code grpc-status}, not from the HTTP status, so a plain 404 or 503 would reach
 * the application as an opaque protocol error. As Envoy does for every local reply to a gRPC
 * request, the answer is HTTP 200 "trailers-only" (one HEADERS frame ending the stream) with
 * {@code grpc-status} mapped from the HTTP status Portico would have sent, by gRPC's own table
 * (doc/http-grpc-status-mapping.md, Envoy's {@code Grpc::Utility::httpToGrpcStatus}).
 */
final class GrpcAnswers {

  /** gRPC status UNIMPLEMENTED: no rule takes the method (a 404). */
  static final int UNIMPLEMENTED = 12;
  /** gRPC status UNAVAILABLE: no endpoint, connect failure, reset or timeout (502-504, 429). */
  static final int UNAVAILABLE = 14;

  private GrpcAnswers() {
  }

  /**
   * Returns whether {@code request} is a gRPC call: a {@code content-type} of
   * {@code application/grpc} or one of its {@code +proto}, {@code +json} ... forms (gRPC over
   * HTTP/2 spec). gRPC-Web ({@code application/grpc-web}) is not: it expects HTTP statuses.
   */
  static boolean isGrpc(HttpServerRequest request) {
    return isGrpc(request.getHeader("content-type"));
  }

  /** Whether a request of this {@code content-type} (null when none) is a gRPC call. */
  static boolean isGrpc(CharSequence type) {
    if (type == null || !type.toString().regionMatches(true, 0, "application/grpc", 0, 16)) {
      return false;
    }
    return type.length() == 16 || type.charAt(16) == '+' || type.charAt(16) == ';';
  }

  /** Returns the gRPC status for an HTTP status, as gRPC's mapping table (and Envoy) has it. */
  static int status(int httpStatus) {
    return switch (httpStatus) {
      case 400 -> 13; // INTERNAL
      case 401 -> 16; // UNAUTHENTICATED
      case 403 -> 7; // PERMISSION_DENIED
      case 404 -> UNIMPLEMENTED;
      case 429, 502, 503, 504 -> UNAVAILABLE;
      default -> 2; // UNKNOWN
    };
  }

  /**
   * Returns {@code message} as a {@code grpc-message} value: UTF-8, with bytes outside
   * printable ASCII and '%' percent-encoded (gRPC over HTTP/2 spec).
   */
  static String message(String message) {
    byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
    StringBuilder encoded = new StringBuilder(bytes.length);
    for (byte b : bytes) {
      int c = b & 0xff;
      if (c >= 0x20 && c <= 0x7e && c != '%') {
        encoded.append((char) c);
      } else {
        encoded.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return encoded.toString();
  }
}
