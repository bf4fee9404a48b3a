package io.portico.health;

/**
 * The result of one upstream attempt, as passive health checking (outlier detection) counts it.
 */
public enum Outcome {
  /** The endpoint answered with a status below 500. */
  SUCCESS,
  /** The endpoint answered 500, 501 or 505-599. */
  ERROR_5XX,
  /** The endpoint answered 502, 503 or 504 (Envoy's "gateway errors", also 5xx). */
  GATEWAY_ERROR,
  /**
   * Portico could not get an answer: connection refused or timed out, reset, no response in
   * time (Envoy's "local origin" errors).
   */
  LOCAL_ORIGIN_FAILURE;

  /** Classifies an answer by its status. */
  public static Outcome ofStatus(int status) {
    if (status < 500) {
      return SUCCESS;
    }
    return status == 502 || status == 503 || status == 504 ? GATEWAY_ERROR : ERROR_5XX;
  }
}
