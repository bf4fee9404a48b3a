package io.portico.translate;

import io.portico.status.Conditions;

/**
 * A policy that cannot be used, with the reason its status reports and a message naming the
 * field at fault (e.g. {@code spec.loadBalancer.consistentHash.header.name is required}).
 */
final class InvalidPolicy extends Exception {

  final String reason;

  InvalidPolicy(String reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  /** An invalid field: reason {@code Invalid}. */
  static InvalidPolicy invalid(String message) {
    return new InvalidPolicy(Conditions.REASON_INVALID, message);
  }
}
