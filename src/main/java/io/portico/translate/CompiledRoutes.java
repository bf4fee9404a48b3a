package io.portico.translate;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portico.resource.ObjectKey;
import io.portico.resource.ResourceSnapshot;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Remembers each HTTPRoute's and GRPCRoute's compiled rules from one translation to the next, so
 * that a change to one route among thousands compiles that route alone.
 *
 * <p>A route's rules are a function of the route and of the objects its backendRefs and mirrors
 * resolve against (Services, Backends, ReferenceGrants), never of other routes. To stay exact
 * without tracking which object each rule read, a compiled route is reused only when it is the
 * same route instance as last time and every object of the snapshot other than the routes
 * themselves (and endpoints, which compiling never reads; of Backends only which exist; and
 * Secrets, see {@link #NOT_DEPENDED_ON}) is the same instance as last time (or a copy that
 * differs only in status, see {@link #sameDependencies}). Any other change (a Service, a
 * grant, a Gateway, a policy ...) compiles every route again, as a translation from scratch
 * would. Both providers keep unchanged objects as the same instances, so the check is a pass of
 * reference comparisons.
 *
 * <p>At 10k routes compiling was a fifth of each translation (async-profiler, bench/scale.py);
 * route churn is the common change. Safe for use by one translation at a time; the remembered
 * state is replaced whole at the end of each ({@link #next}), so a translation that fails
 * half-way leaves the previous one's in place.
 */
final class CompiledRoutes {

  /**
   * The snapshot components a route's compilation does not depend on beyond identity. Secrets
   * among them: only listeners read Secrets (their certificates, ListenerPhase; a Gateway's
   * backend client certificate), and what they make of them is not part of a compiled route, of
   * an attachment (a listener without a usable certificate still takes routes, see
   * ListenerAdmission) or of a virtual host; it lands on the IR Listener, which the table
   * assembler builds anew each time. So a certificate rotated at 10k routes recompiles nothing
   * (it recompiled, attached and assembled every route: ~0.3-0.6 s before the new certificate
   * was served, bench/scale.py).
   */
  private static final Set<String> NOT_DEPENDED_ON = java.util.stream.Stream.concat(
      Translator.ENDPOINT_COMPONENTS.stream(), java.util.stream.Stream.of("httpRoutes",
          "grpcRoutes", "secrets")).collect(java.util.stream.Collectors.toUnmodifiableSet());

  /** What one translation compiled, and the objects it compiled against. */
  private record Generation(ResourceSnapshot snapshot, Set<ObjectKey> backendKeys,
      Map<HasMetadata, CompiledRoute> compiled) {
  }

  private static final Generation EMPTY = new Generation(null, Set.of(), Map.of());

  private volatile Generation last = EMPTY;
  private final AtomicLong compilations = new AtomicLong();

  /** Starts one translation of {@code snapshot}: returns the view its routes compile through. */
  Session begin(ResourceSnapshot snapshot) {
    Generation previous = last;
    Set<ObjectKey> backendKeys = Translator.backendKeys(snapshot);
    boolean reusable = previous.snapshot() != null
        && sameDependencies(previous.snapshot(), snapshot)
        && previous.backendKeys().equals(backendKeys);
    return new Session(snapshot, backendKeys, reusable ? previous.compiled() : null);
  }

  /** How many routes were compiled (not reused) so far: what tests check the reuse by. */
  long compilations() {
    return compilations.get();
  }

  /** One translation's use of the remembered routes. */
  final class Session {
    private final ResourceSnapshot snapshot;
    private final Set<ObjectKey> backendKeys;
    private final boolean reusing;
    private final Map<HasMetadata, CompiledRoute> reusable;
    private final Map<HasMetadata, CompiledRoute> compiled = new IdentityHashMap<>();

    /** @param reusable what the last translation compiled; null when nothing may be reused */
    private Session(ResourceSnapshot snapshot, Set<ObjectKey> backendKeys,
        Map<HasMetadata, CompiledRoute> reusable) {
      this.snapshot = snapshot;
      this.backendKeys = backendKeys;
      this.reusing = reusable != null;
      this.reusable = reusable == null ? Map.of() : reusable;
    }

    /**
     * Returns whether every object of the snapshot other than routes, endpoints and Secrets is
     * the same as at the last translation (the same instance, or a copy differing only in
     * status, see {@link #sameDependencies}): what reusing anything computed from a route needs.
     */
    boolean reusing() {
      return reusing;
    }

    /** Returns {@code route}'s compiled rules, compiling them unless they can be reused. */
    CompiledRoute compile(HasMetadata route, Supplier<CompiledRoute> compiler) {
      CompiledRoute result = reusable.get(route);
      if (result == null) {
        result = compiler.get();
        compilations.incrementAndGet();
      }
      compiled.put(route, result);
      return result;
    }

    /**
     * Keeps {@code route}'s compiled rules for the next translation without asking for them: the
     * route was attached as last time (see {@link AttachedRoutes}), which compiles nothing.
     */
    void keep(HasMetadata route) {
      CompiledRoute result = reusable.get(route);
      if (result != null) {
        compiled.put(route, result);
      }
    }

    /**
     * Ends the translation: what it compiled (routes it did not reach are forgotten, so memory
     * follows the configuration) is what the next one may reuse.
     */
    void next() {
      last = new Generation(snapshot, backendKeys, compiled);
    }
  }

  /**
   * Same instances, or copies that differ only in what translation never reads (status,
   * resourceVersion, managedFields; see {@link Translator#sameTranslation}). In Kubernetes mode
   * each Gateway status Portico writes comes back as such a copy, and a new route changes its
   * Gateway's attachedRoutes: compared by identity alone, every new route compiled and attached
   * all 10k routes again (bench/scale.py --provider kubernetes). Only the objects that are not
   * the same instance are compared further.
   */
  private static boolean sameDependencies(ResourceSnapshot a, ResourceSnapshot b) {
    return ResourceSnapshot.kindsAlike(a, b, NOT_DEPENDED_ON, Translator::sameInputs);
  }
}
