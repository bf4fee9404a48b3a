package io.portico.proxy.lb;

import io.portico.ir.Endpoint;
import io.portico.ir.LoadBalancing;
import io.portico.ir.SessionPersistence;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SessionValueTest {

  private static final Endpoint POD = new Endpoint("10.0.0.7", 8080);

  @Test
  void sessionNamesItsEndpointUntilItsAbsoluteTimeout() {
    SessionPersistence persistence =
        new SessionPersistence(SessionPersistence.Type.COOKIE, "sid", 3600, 0, false);
    String value = SessionValue.format(persistence, POD, 1_000_000, 1_000_000);
    assertThat(value).isEqualTo(EndpointAffinity.cookieValue(POD) + ".f4240");
    assertThat(SessionValue.validEndpoint(persistence, value, 1_000_000 + 3599))
        .isEqualTo(EndpointAffinity.cookieValue(POD));
    assertThat(SessionValue.validEndpoint(persistence, value, 1_000_000 + 3600)).isNull();
  }

  @Test
  void idleTimeoutCountsFromTheLastAnswer() {
    SessionPersistence persistence =
        new SessionPersistence(SessionPersistence.Type.HEADER, "x-session", 0, 60, false);
    String touchedLater = SessionValue.format(persistence, POD, 1000, 5000);
    assertThat(SessionValue.validEndpoint(persistence, touchedLater, 5059)).isNotNull();
    assertThat(SessionValue.validEndpoint(persistence, touchedLater, 5060)).isNull();
    assertThat(SessionValue.issued(touchedLater)).isEqualTo(1000);
  }

  @Test
  void malformedValuesAreNoSession() {
    SessionPersistence persistence =
        new SessionPersistence(SessionPersistence.Type.COOKIE, "sid", 0, 0, false);
    for (String value : new String[] {null, "", "abc", EndpointAffinity.cookieValue(POD),
        EndpointAffinity.cookieValue(POD) + ".", EndpointAffinity.cookieValue(POD) + ".zz",
        EndpointAffinity.cookieValue(POD) + ".1234567890abcdef0"}) {
      assertThat(SessionValue.validEndpoint(persistence, value, 10)).as(value).isNull();
    }
    assertThat(EndpointAffinity.byCookie(List.of(POD), "zzzzzzzzzzzzzzzz")).isNull();
  }

  @Test
  void affinityCookieHasSafeDefaultsThenTheAttributes() {
    LoadBalancing policy = new LoadBalancing(LoadBalancing.Type.COOKIE, "lb", 600, List.of(),
        Map.of("SameSite", "None", "Domain", "example.com"), 0);
    assertThat(AffinityResponse.affinityCookie(policy, "00ff", false))
        .isEqualTo("lb=00ff; Max-Age=600; Path=/; HttpOnly; Secure; Domain=example.com;"
            + " SameSite=None");
    LoadBalancing session = new LoadBalancing(LoadBalancing.Type.COOKIE, "lb", 0, List.of(),
        Map.of("Path", "/app", "Partitioned", ""), 0);
    assertThat(AffinityResponse.affinityCookie(session, "00ff", true))
        .isEqualTo("lb=00ff; Path=/app; HttpOnly; Secure; Partitioned");
  }
}
