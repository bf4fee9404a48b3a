package io.portico.proxy;

import java.util.Locale;

/** What a client did to make a request fail, with its metric label (see {@link ClientFailures}). */
enum ClientFailureCause {
  /** The client reset the stream (HTTP/2 RST_STREAM) before Portico was done with it. */
  STREAM_RESET,
  /** The request had ended (reset or closed) before Portico could read it. */
  REQUEST_ALREADY_READ,
  /** The client's connection closed or reset under a request. */
  CONNECTION_CLOSED,
  /**
   * The client broke HTTP/1.1, HTTP/2 or TLS (a corrupt HTTP/2 preface, a frame on the wrong
   * stream, a record that is not TLS) and its connection was closed (see {@link LibraryLogs}).
   */
  PROTOCOL_ERROR;

  String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
