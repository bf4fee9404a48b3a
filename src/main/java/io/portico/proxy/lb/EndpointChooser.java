package io.portico.proxy.lb;

import io.portico.ir.BackendGroup;
import io.portico.ir.BackendKey;
import io.portico.ir.Endpoint;
import io.portico.ir.LoadBalancing;
import io.portico.ir.SessionPersistence;
import io.portico.ir.WeightedBackend;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * Chooses the endpoint of one request among the candidates the caller passes (the backend's
 * ready endpoints, possibly filtered further, e.g. by health checks), as the rule says:
 *
 * <ol>
 *   <li>a valid Gateway API session ({@code sessionPersistence}) whose endpoint is a candidate
 *       wins over everything else;
 *   <li>otherwise the BackendTrafficPolicy's load balancing: round robin (with slow start),
 *       random, least request (power of two choices over {@link InFlightRequests}), cookie
 *       affinity, or a consistent hash of the source IP, headers or query parameters. A hash
 *       key the request lacks falls back to round robin.
 * </ol>
 *
 * <p>Nothing is written to the response here: the affinity cookie and session header name the
 * endpoint that actually answers, so they are added by {@link AffinityResponse} when the
 * upstream's response is relayed (never on an answer Portico generates itself). One instance
 * per proxy verticle, confined to its event loop.
 */
public final class EndpointChooser {

  private final LoadBalancerState state;

  public EndpointChooser(LoadBalancerState state) {
    this.state = state;
  }

  /**
   * What a request carries that pins it to an endpoint: the endpoint value of a valid Gateway
   * API session and the BackendTrafficPolicy's affinity cookie, each read once per request.
   *
   * @param session the session's endpoint value, or null (none, expired or not used by the rule)
   * @param cookie the affinity cookie's value, or null
   */
  public record Pins(String session, String cookie) {
    /** Nothing pins the request. */
    public static final Pins NONE = new Pins(null, null);
  }

  /** Reads what pins {@code request} to an endpoint of {@code group}. */
  public Pins pins(HttpServerRequest request, BackendGroup group) {
    SessionPersistence persistence = group.sessionPersistence();
    boolean cookieAffinity = group.loadBalancing().type() == LoadBalancing.Type.COOKIE;
    if (persistence == null && !cookieAffinity) {
      return Pins.NONE;
    }
    String session = persistence == null ? null : SessionValue.validEndpoint(persistence,
        AffinityResponse.session(request, persistence), nowSeconds());
    String cookie = null;
    if (cookieAffinity) {
      Cookie c = request.getCookie(group.loadBalancing().name());
      cookie = c == null ? null : c.getValue();
    }
    return session == null && cookie == null ? Pins.NONE : new Pins(session, cookie);
  }

  /**
   * Returns the backend of {@code group} holding the endpoint the request's {@code pins} name,
   * so that it keeps its endpoint across a weighted split; null when nothing pins it (or its
   * endpoint left), and the weights pick.
   *
   * @param candidates the candidate endpoints of each backend
   */
  public WeightedBackend pinnedBackend(Pins pins, BackendGroup group,
      Function<BackendKey, List<Endpoint>> candidates) {
    if (pins == Pins.NONE || group.backends().size() < 2) {
      return null;
    }
    for (String value : new String[] {pins.session(), pins.cookie()}) {
      if (value == null) {
        continue;
      }
      for (WeightedBackend candidate : group.backends()) {
        if (candidate.weight() > 0 && candidate.available()
            && EndpointAffinity.byCookie(candidates.apply(candidate.key()), value) != null) {
          return candidate;
        }
      }
    }
    return null;
  }

  /** Returns the endpoint for {@code request} among {@code candidates}, or null when empty. */
  public Endpoint choose(HttpServerRequest request, Pins pins, BackendGroup group,
      BackendKey key, List<Endpoint> candidates) {
    if (candidates.isEmpty()) {
      return null;
    }
    if (pins.session() != null) {
      Endpoint pinned = EndpointAffinity.byCookie(candidates, pins.session());
      if (pinned != null) {
        return pinned;
      }
    }
    LoadBalancing policy = group.loadBalancing();
    switch (policy.type()) {
      case RANDOM:
        return candidates.get(ThreadLocalRandom.current().nextInt(candidates.size()));
      case LEAST_REQUEST:
        return leastRequest(policy, candidates);
      case SOURCE_IP: {
        SocketAddress remote = request.remoteAddress();
        return remote == null || remote.host() == null ? roundRobin(key, candidates)
            : EndpointAffinity.byKey(candidates, remote.host());
      }
      case HEADER:
      case QUERY_PARAMS: {
        String hashKey = hashKey(request, policy);
        return hashKey == null ? roundRobin(key, candidates)
            : EndpointAffinity.byKey(candidates, hashKey);
      }
      case COOKIE: {
        Endpoint pinned = pins.cookie() == null ? null
            : EndpointAffinity.byCookie(candidates, pins.cookie());
        return pinned != null ? pinned : roundRobin(key, candidates);
      }
      default:
        return policy.slowStartMillis() > 0 ? slowStartPick(policy, key, candidates)
            : roundRobin(key, candidates);
    }
  }

  private Endpoint roundRobin(BackendKey key, List<Endpoint> candidates) {
    return state.endpoints(key, candidates).next();
  }

  /**
   * Envoy's least request with its default choice count of 2: draw two distinct candidates (in
   * proportion to their slow-start share when a window is set), keep the one with fewer
   * requests in flight; a tie keeps the first draw, itself random.
   */
  private Endpoint leastRequest(LoadBalancing policy, List<Endpoint> candidates) {
    int size = candidates.size();
    if (size == 1) {
      return candidates.get(0);
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int first;
    int second;
    double[] shares = policy.slowStartMillis() > 0 ? shares(policy, candidates) : null;
    if (shares == null) {
      first = random.nextInt(size);
      second = random.nextInt(size - 1);
      if (second >= first) {
        second++;
      }
    } else {
      first = weightedIndex(shares, -1, random);
      second = weightedIndex(shares, first, random);
    }
    Endpoint a = candidates.get(first);
    Endpoint b = candidates.get(second);
    return InFlightRequests.of(b) < InFlightRequests.of(a) ? b : a;
  }

  /**
   * Round robin while no candidate is in its slow-start window; while one is, a random pick in
   * proportion to the shares (settled endpoints 1, young ones their ramp factor).
   */
  private Endpoint slowStartPick(LoadBalancing policy, BackendKey key, List<Endpoint> candidates) {
    double[] shares = shares(policy, candidates);
    if (shares == null) {
      return roundRobin(key, candidates);
    }
    return candidates.get(weightedIndex(shares, -1, ThreadLocalRandom.current()));
  }

  /** Returns each candidate's slow-start share, or null when all are settled. */
  private double[] shares(LoadBalancing policy, List<Endpoint> candidates) {
    long now = System.currentTimeMillis();
    if (!state.slowStart().anyRamping(policy.slowStartMillis(), now)) {
      return null;
    }
    double[] shares = null;
    for (int i = 0; i < candidates.size(); i++) {
      double factor = state.slowStart().factor(candidates.get(i), policy.slowStartMillis(), now);
      if (factor < 1 && shares == null) {
        shares = new double[candidates.size()];
        java.util.Arrays.fill(shares, 0, i, 1);
      }
      if (shares != null) {
        shares[i] = factor;
      }
    }
    return shares;
  }

  /** Draws an index in proportion to {@code shares}, never {@code excluded}. */
  private static int weightedIndex(double[] shares, int excluded, ThreadLocalRandom random) {
    double total = 0;
    for (int i = 0; i < shares.length; i++) {
      total += i == excluded ? 0 : shares[i];
    }
    double point = random.nextDouble() * total;
    int last = -1;
    for (int i = 0; i < shares.length; i++) {
      if (i == excluded) {
        continue;
      }
      last = i;
      point -= shares[i];
      if (point < 0) {
        return i;
      }
    }
    return last;
  }

  /**
   * Returns the values of the policy's headers or query parameters, joined in the policy's
   * order (a missing one contributes nothing); null when the request has none of them.
   */
  static String hashKey(HttpServerRequest request, LoadBalancing policy) {
    boolean headers = policy.type() == LoadBalancing.Type.HEADER;
    if (headers && policy.keys().size() == 1) {
      return request.getHeader(policy.keys().get(0));
    }
    StringBuilder key = null;
    for (String name : policy.keys()) {
      List<String> values = headers ? request.headers().getAll(name) : request.params().getAll(name);
      if (values.isEmpty()) {
        continue;
      }
      if (key == null) {
        key = new StringBuilder();
      }
      key.append(name).append('=');
      for (String value : values) {
        key.append(value).append(',');
      }
      key.append('\n');
    }
    return key == null ? null : key.toString();
  }

  static long nowSeconds() {
    return System.currentTimeMillis() / 1000;
  }
}
