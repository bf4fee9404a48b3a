package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewaySpecAddress;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Checks a Gateway's {@code spec.addresses}: every entry must be an IPAddress literal (the only
 * type Portico serves on), and an address this host cannot serve on makes the Gateway not
 * Programmed (Gateway API reasons UnsupportedAddress and AddressNotUsable).
 *
 * @param unsupported why an entry cannot be understood, or null
 * @param usable the IPAddress values Portico can serve on, in order
 * @param unusable the IPAddress values it cannot
 */
record GatewayAddressCheck(String unsupported, List<String> usable, List<String> unusable) {

  static final String REASON_UNSUPPORTED_ADDRESS = "UnsupportedAddress";
  static final String REASON_ADDRESS_NOT_USABLE = "AddressNotUsable";

  private static final Pattern IPV4 = Pattern.compile(
      "^((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)$");

  static GatewayAddressCheck of(Gateway gateway, Predicate<String> addressUsable) {
    List<GatewaySpecAddress> addresses = gateway.getSpec().getAddresses();
    List<String> usable = new ArrayList<>();
    List<String> unusable = new ArrayList<>();
    String unsupported = null;
    if (addresses != null) {
      for (int i = 0; i < addresses.size(); i++) {
        GatewaySpecAddress address = addresses.get(i);
        String type = address.getType() == null ? "IPAddress" : address.getType();
        String value = address.getValue();
        if (value == null || value.isEmpty()) {
          continue; // GatewayAddressEmpty: the implementation chooses the address.
        }
        if (!type.equals("IPAddress")) {
          unsupported = unsupported != null ? unsupported : "spec.addresses[" + i + "] type "
              + type + " is not supported (supported: IPAddress)";
        } else if (!IPV4.matcher(value).matches() && !value.contains(":")) {
          unsupported = unsupported != null ? unsupported : "spec.addresses[" + i + "] '"
              + value + "' is not an IP address";
        } else if (addressUsable.test(value)) {
          usable.add(value);
        } else {
          unusable.add(value);
        }
      }
    }
    return new GatewayAddressCheck(unsupported, List.copyOf(usable), List.copyOf(unusable));
  }
}
