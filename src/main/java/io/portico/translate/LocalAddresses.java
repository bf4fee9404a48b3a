package io.portico.translate;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;

/** Tells whether this host can listen on an IP address: loopback, or one of its interfaces. */
final class LocalAddresses {

  private LocalAddresses() {
  }

  /** Returns whether {@code literal} (an IP address, never a host name) is local. */
  static boolean isLocal(String literal) {
    try {
      // An IP literal is parsed without any lookup.
      InetAddress address = InetAddress.getByName(literal);
      return address.isLoopbackAddress() || address.isAnyLocalAddress()
          || NetworkInterface.getByInetAddress(address) != null;
    } catch (UnknownHostException | SocketException e) {
      return false;
    }
  }
}
