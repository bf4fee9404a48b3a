package io.portico.conformance;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The coredns pod of the UDPRoute case, as far as the case needs it: CoreDNS's {@code whoami}
 * answer for any name (the case only queries {@code foo.bar.com.}): the query's ID and question,
 * QR and AA set, RCODE NOERROR, no answer, and in the additional section
 * {@code <qname> 0 IN A <client IPv4>}. Names outside the zone are never forwarded.
 */
final class DnsBackend {

  private DnsBackend() {
  }

  static Future<DatagramSocket> start(Vertx vertx, String host, int port) {
    DatagramSocket socket = vertx.createDatagramSocket(new DatagramSocketOptions());
    socket.handler(packet -> {
      Buffer query = packet.data();
      Buffer reply = answer(query, packet.sender().host());
      if (reply != null) {
        socket.send(reply, packet.sender().port(), packet.sender().host());
      }
    });
    return socket.listen(port, host);
  }

  /** Returns the whoami reply to {@code query}, or null when it is not a one-question query. */
  static Buffer answer(Buffer query, String clientHost) {
    if (query.length() < 12 || query.getUnsignedShort(4) != 1) {
      return null;
    }
    int at = 12;
    while (at < query.length() && query.getUnsignedByte(at) != 0) {
      at += 1 + query.getUnsignedByte(at);
    }
    int questionEnd = at + 1 + 4;
    if (questionEnd > query.length()) {
      return null;
    }
    byte[] address;
    try {
      address = InetAddress.getByName(clientHost).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
    int recursionDesired = query.getUnsignedShort(2) & 0x0100;
    Buffer reply = Buffer.buffer()
        .appendUnsignedShort(query.getUnsignedShort(0))
        .appendUnsignedShort(0x8400 | recursionDesired) // QR, AA, NOERROR
        .appendUnsignedShort(1).appendUnsignedShort(0).appendUnsignedShort(0)
        .appendUnsignedShort(address.length == 4 ? 1 : 0)
        .appendBuffer(query, 12, questionEnd - 12);
    if (address.length == 4) {
      reply.appendUnsignedShort(0xC00C) // the question's name
          .appendUnsignedShort(1).appendUnsignedShort(1) // A, IN
          .appendInt(0).appendUnsignedShort(4).appendBytes(address);
    }
    return reply;
  }
}
