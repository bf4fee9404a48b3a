package io.portico.proxy;

import java.util.Locale;

/** What a client did to make a request fail, with its metric label (see {@link ClientFailures}). */
enum ClientFailureCause {
  /** The client reset the stream (HTTP/2 RST_STREAM) before Portico was done with it. */
  STREAM_RESET,
  /** The request had ended (reset or closed) before Portico could read it. */
  REQUEST_ALREADY_READ,
  /** The client's connection closed or reset under a request. */
  CONNECTION_CLOSED;

  String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
