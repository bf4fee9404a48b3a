package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Gives every Gateway its own IPv4 address from a CIDR block. The slot is derived from the
 * Gateway's namespace/name, so a Gateway keeps its address across reloads and restarts; on a
 * collision the older Gateway keeps the slot and the newer takes the next free one; when every
 * address is taken, the newer Gateways get {@link #NOT_ASSIGNED}.
 */
final class AddressPool {

  /**
   * The address of a Gateway the pool had no free address for (Gateway API
   * {@code Programmed=False AddressNotAssigned}): it is not served.
   */
  static final String NOT_ASSIGNED = "(not assigned)";

  private final int base;
  private final int size;

  private AddressPool(int base, int size) {
    this.base = base;
    this.size = size;
  }

  /**
   * Parses {@code a.b.c.d/prefix}.
   *
   * @throws IllegalArgumentException naming the problem when the block is not valid
   */
  static AddressPool parse(String cidr) {
    int slash = cidr.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("address pool: " + cidr + " (expected: a.b.c.d/prefix)");
    }
    String[] octets = cidr.substring(0, slash).split("\\.");
    int prefix;
    try {
      prefix = Integer.parseInt(cidr.substring(slash + 1));
    } catch (NumberFormatException e) {
      prefix = -1;
    }
    if (octets.length != 4 || prefix < 8 || prefix > 30) {
      throw new IllegalArgumentException("address pool: " + cidr
          + " (expected: an IPv4 block a.b.c.d/prefix with prefix 8-30)");
    }
    int address = 0;
    for (String octet : octets) {
      int value;
      try {
        value = Integer.parseInt(octet);
      } catch (NumberFormatException e) {
        value = -1;
      }
      if (value < 0 || value > 255) {
        throw new IllegalArgumentException("address pool: " + cidr + " (bad octet " + octet + ")");
      }
      address = address << 8 | value;
    }
    int size = 1 << (32 - prefix);
    return new AddressPool(address & -size, size);
  }

  /**
   * Returns the address of each Gateway (sorted oldest first): its first IPAddress in
   * {@code spec.addresses}, otherwise a slot of this pool.
   */
  Map<Gateway, String> assign(List<Gateway> gateways) {
    Map<Gateway, GatewayAddressCheck> checks = new HashMap<>();
    for (Gateway gateway : gateways) {
      checks.put(gateway, GatewayAddressCheck.of(gateway, address -> true));
    }
    return assign(gateways, checks);
  }

  /**
   * Like {@link #assign(List)}, serving each Gateway on its first usable requested address;
   * a Gateway that asked only for addresses this host cannot use gets none.
   */
  Map<Gateway, String> assign(List<Gateway> gateways, Map<Gateway, GatewayAddressCheck> checks) {
    Map<Gateway, String> assigned = new HashMap<>();
    Set<Integer> taken = new HashSet<>();
    for (Gateway gateway : gateways) {
      GatewayAddressCheck check = checks.get(gateway);
      if (!check.usable().isEmpty()) {
        assigned.put(gateway, check.usable().get(0));
      } else if (!check.unusable().isEmpty() || check.unsupported() != null) {
        assigned.put(gateway, "");
      }
    }
    for (Gateway gateway : gateways) {
      if (assigned.containsKey(gateway)) {
        continue;
      }
      // Not requested: a slot of the pool.
      String key = gateway.getMetadata().getNamespace() + "/" + gateway.getMetadata().getName();
      // Skip the block's first and last address (network and broadcast in a real subnet).
      int usable = size - 2;
      if (taken.size() >= usable) {
        // The block is used up: the newer Gateways get none rather than share an address.
        assigned.put(gateway, NOT_ASSIGNED);
        continue;
      }
      int slot = Math.floorMod(key.hashCode(), usable);
      for (int i = 0; i < usable && !taken.add(slot); i++) {
        slot = (slot + 1) % usable;
      }
      assigned.put(gateway, format(base + 1 + slot));
    }
    return assigned;
  }

  private static String format(int address) {
    return (address >>> 24) + "." + (address >>> 16 & 255) + "." + (address >>> 8 & 255) + "."
        + (address & 255);
  }
}
