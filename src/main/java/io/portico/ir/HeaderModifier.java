package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;
import java.util.Objects;

/**
 * Changes the headers of a request or a response. Gateway API {@code HTTPHeaderFilter}, used by
 * the {@code RequestHeaderModifier} and {@code ResponseHeaderModifier} filters. Header names are
 * case-insensitive; they are kept as written because HTTP/1.1 peers see them that way.
 *
 * <p>Applied in the order remove, set, add (as Envoy does), so that a name listed in two
 * actions behaves the same on every implementation that follows that order.
 *
 * @param set headers whose every value is replaced by the given one (added when absent); at most
 *     one entry per name, the first written wins
 * @param add values appended to a header: a header already present keeps its values and gets
 *     this one as an additional field line (equivalent to comma-joining, RFC 9110 section 5.3)
 * @param remove names of headers removed with all their values
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record HeaderModifier(List<Header> set, List<Header> add, List<String> remove) {

  /**
   * One header name and value.
   *
   * @param name the header name as written (matched case-insensitively)
   * @param value the value, free of CR, LF and NUL
   */
  public record Header(String name, String value) {

    public Header {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(value, "value");
    }
  }

  public HeaderModifier {
    set = List.copyOf(set);
    add = List.copyOf(add);
    remove = List.copyOf(remove);
  }

  /** Whether this modifier changes nothing. */
  @JsonIgnore
  public boolean isEmpty() {
    return set.isEmpty() && add.isEmpty() && remove.isEmpty();
  }
}
