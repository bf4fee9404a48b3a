package io.portico.provider;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.BackendTLSPolicy;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSet;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ReferenceGrant;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.portico.resource.ConfigProblem;
import io.portico.resource.ObjectKey;
import io.portico.resource.ResourceSnapshot;
import io.portico.resource.StatusEchoes;
import io.portico.resource.YamlResourceReader;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Serves the objects of a Kubernetes cluster (all namespaces), delivering a new
 * {@link ResourceSnapshot} whenever one of them changes.
 *
 * <p>One fabric8 SharedInformer per kind the snapshot holds. The first snapshot is delivered only
 * after every informer has finished its initial list, so a half-loaded cluster is never
 * translated. A kind whose API is not served (Envoy Gateway's CRDs or BackendTLSPolicy not
 * installed) is logged in one line and treated as empty: the API server's discovery is asked
 * first, so no informer is started for it (a failed list, the safety net when discovery says
 * nothing, also ends in that line). Changes are coalesced like
 * {@link FileProvider}'s (hold-off, ceiling); the snapshot is built on a worker thread and
 * delivered, only when it differs from the last one, on the Vert.x context that called
 * {@link #start()}. Informer callbacks only post a message to that context: they never block
 * it and never build anything on the informer thread.
 *
 * <p>Objects are checked with the same rules the YAML reader applies
 * ({@link YamlResourceReader#objectProblems}); an object that fails them is left out of the
 * snapshot and reported by {@link #problems()}, naming the object.
 */
public final class KubernetesProvider implements Provider {

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesProvider.class);

  /** Where the problems of cluster objects say they come from. */
  static final String SOURCE = "kubernetes";

  /**
   * The hold-off of a burst of EndpointSlice changes only: a rollout's slices still coalesce,
   * while a single pod's change reaches the proxies within milliseconds (issue 11: 50 ms p99).
   */
  static final long ENDPOINTS_HOLD_OFF_MILLIS = 5;

  /**
   * A 10 ms hold-off and a 500 ms ceiling for cluster changes (EndpointSlices alone: see
   * {@link #ENDPOINTS_HOLD_OFF_MILLIS}), as the file provider's. It was 50 ms while every status
   * Portico wrote came back as a change (a new report for each write restarted the status
   * writer's round); those echoes are no longer changes (see {@link StatusEchoes}), and at 10k
   * routes the 50 ms were half of the new-route budget. A change after a quiet spell is not held
   * off at all: only what follows it within the hold-off is (see {@link #schedule}).
   */
  public static final FileProvider.Options COALESCING =
      new FileProvider.Options(java.time.Duration.ofMillis(10), java.time.Duration.ofMillis(500));

  private static final String ENVOY_V1ALPHA1 = ResourceSnapshot.ENVOY_GATEWAY_GROUP + "/v1alpha1";
  private static final String GATEWAY_API_GROUP = "gateway.networking.k8s.io";
  private static final String GATEWAY_V1 = GATEWAY_API_GROUP + "/v1";

  /**
   * The TLSRoute, TCPRoute, UDPRoute and GRPCRoute versions Portico watches, newest first: a
   * cluster serves whichever its Gateway API release (standard or experimental channel)
   * installed. The first served one is watched and read as v1 (the schemas are the same).
   * GRPCRoute is v1 only (standard channel since Gateway API 1.1).
   */
  public static final Map<String, List<String>> STREAM_ROUTE_VERSIONS = Map.of(
      "TLSRoute", List.of("v1", "v1alpha3", "v1alpha2"),
      "TCPRoute", List.of("v1", "v1alpha2"),
      "UDPRoute", List.of("v1", "v1alpha2"),
      "GRPCRoute", List.of("v1"));

  private final Vertx vertx;
  private final KubernetesClient client;
  private final FileProvider.Options options;
  private final SnapshotSink onSnapshot;
  private final AtomicBoolean started = new AtomicBoolean();
  /** Updates that changed nothing but status (see {@link StatusEchoes}); for tests. */
  private final AtomicLong echoes = new AtomicLong();
  private final List<Watch> informers = new ArrayList<>();
  private volatile BiConsumer<ObjectKey, String> statusListener;
  /** The started watches by the kind of the objects they give the snapshot. */
  private final Map<String, Watch> byKind = new ConcurrentHashMap<>();
  private volatile boolean stopped;
  private volatile List<ConfigProblem> problems = List.of();
  private Context context;
  // The fields below are touched on the context only.
  private boolean delivering;
  private long timer = -1;
  private long firstChangeNanos = -1;
  /** When {@link #schedule} last ran; a change this long after the hold-off is built at once. */
  private long lastScheduledNanos = System.nanoTime() - TimeUnit.HOURS.toNanos(1);
  private boolean changedWhileBuilding;
  /**
   * When the informers handed over the first change not yet taken by a build ({@link
   * SnapshotSink#UNTIMED}: none pending); the snapshot that takes it is delivered with it.
   */
  private long pendingSinceNanos = SnapshotSink.UNTIMED;
  private ResourceSnapshot delivered;
  /**
   * Whether every change since the last build began is an EndpointSlice's: those take the
   * translator's endpoint fast path, so they are not held off as long as other changes.
   */
  private boolean onlyEndpoints = true;
  /** Per informer, the keys of the objects changed since the last build began. */
  private Map<SharedIndexInformer<?>, Set<String>> dirty = new IdentityHashMap<>();
  /** The objects as the snapshot holds them; touched by the (one at a time) build only. */
  private final ClusterIndex index = new ClusterIndex();

  /** Creates a provider with the default hold-off; nothing is watched before {@link #start()}. */
  public KubernetesProvider(Vertx vertx, KubernetesClient client, SnapshotSink onSnapshot) {
    this(vertx, client, COALESCING, onSnapshot);
  }

  public KubernetesProvider(Vertx vertx, KubernetesClient client, FileProvider.Options options,
      SnapshotSink onSnapshot) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.client = Objects.requireNonNull(client, "client");
    this.options = Objects.requireNonNull(options, "options");
    this.onSnapshot = Objects.requireNonNull(onSnapshot, "onSnapshot");
  }

  /**
   * A kind to watch.
   *
   * @param what the kind, for the log
   * @param kind the kind of the objects the snapshot holds from it (as in an {@link ObjectKey})
   * @param informer the informer
   * @param convert turns a cached object into what the snapshot holds (must not mutate it
   *     beyond idempotent completion)
   * @param fallback what to watch instead if the API server does not serve this, or null
   */
  private record Watch(String what, String kind,
      SharedIndexInformer<? extends HasMetadata> informer, UnaryOperator<HasMetadata> convert,
      Supplier<Watch> fallback) {}

  /**
   * Starts every informer, waits for their initial lists and delivers the first snapshot. Fails,
   * naming the API server's URL, if the API server cannot be reached.
   */
  @Override
  public Future<Void> start() {
    if (!started.compareAndSet(false, true)) {
      return Future.failedFuture(new IllegalStateException("KubernetesProvider already started"));
    }
    context = vertx.getOrCreateContext();
    // One request first: an unreachable API server is then one clear failure, not a failed
    // list (and a logged stack trace) per informer.
    return context.executeBlocking(() -> client.getKubernetesVersion(), false)
        .recover(e -> Future.failedFuture(unreachable(e)))
        .compose(version -> {
          LOG.info("API server {} (Kubernetes {}.{})", client.getMasterUrl(), version.getMajor(),
              version.getMinor());
          // Discovery asks the API server: on a worker, as the version above.
          return context.executeBlocking(() -> watches(new Discovery(client)), false);
        })
        .compose(this::startAll);
  }

  /**
   * What the API server's discovery says it serves, asked once per group version: an optional
   * kind that is not served gets no informer at all (fabric8 would log an ERROR with a stack
   * trace for its failed list before our own line). A discovery that fails otherwise than with
   * "not found" says nothing: the informer is started and its 404 is the safety net.
   */
  static final class Discovery {
    private final KubernetesClient client;
    private final java.util.Map<String, Set<String>> served = new java.util.HashMap<>();

    Discovery(KubernetesClient client) {
      this.client = client;
    }

    /** Returns false only if discovery positively says {@code plural} is not served. */
    boolean serves(String groupVersion, String plural) {
      Set<String> plurals = served.computeIfAbsent(groupVersion, this::ask);
      return plurals == null || plurals.contains(plural);
    }

    /** Runs on a worker thread. Null: unknown (ask the informer). */
    private Set<String> ask(String groupVersion) {
      try {
        io.fabric8.kubernetes.api.model.APIResourceList list = client.getApiResources(groupVersion);
        if (list == null) {
          return Set.of();
        }
        Set<String> plurals = new java.util.HashSet<>();
        list.getResources().forEach(r -> plurals.add(r.getName()));
        return plurals;
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404) {
          return Set.of();
        }
        LOG.debug("discovery of {} failed: {}", groupVersion, e.getMessage());
        return null;
      }
    }
  }

  /**
   * The kinds to watch, each with its informer (not started): the optional ones only where
   * {@code discovery} says they are served. Blocks while discovery asks the API server.
   */
  private List<Watch> watches(Discovery discovery) {
    List<Watch> watches = new ArrayList<>();
    // Optional kinds (their CRDs may not be installed) are asked of discovery first.
    if (discovery.serves(GATEWAY_V1, "referencegrants")) {
      watches.add(withFallback(typed("ReferenceGrant",
          client.resources(ReferenceGrant.class).inAnyNamespace().runnableInformer(0)),
          this::referenceGrantsV1beta1));
    } else if (discovery.serves(GATEWAY_API_GROUP + "/v1beta1", "referencegrants")) {
      LOG.info("ReferenceGrant is served as v1beta1 only; watching that");
      watches.add(referenceGrantsV1beta1());
    } else {
      notServed("ReferenceGrant");
    }
    if (discovery.serves(GATEWAY_V1, "backendtlspolicies")) {
      watches.add(typed("BackendTLSPolicy",
          client.resources(BackendTLSPolicy.class).inAnyNamespace().runnableInformer(0)));
    } else {
      notServed("BackendTLSPolicy (" + GATEWAY_V1 + ")");
    }
    // ListenerSet is GA (v1) since Gateway API 1.5; an older cluster has no ListenerSets.
    if (discovery.serves(GATEWAY_V1, "listenersets")) {
      watches.add(typed("ListenerSet",
          client.resources(ListenerSet.class).inAnyNamespace().runnableInformer(0)));
    } else {
      notServed("ListenerSet (" + GATEWAY_V1 + ")");
    }
    if (discovery.serves(ENVOY_V1ALPHA1, "backends")) {
      watches.add(generic("Backend", client.genericKubernetesResources(
          envoyKind("Backend", "backends")).inAnyNamespace().runnableInformer(0)));
    } else {
      notServed(ENVOY_V1ALPHA1 + " Backend");
    }
    if (discovery.serves(ENVOY_V1ALPHA1, "backendtrafficpolicies")) {
      watches.add(generic("BackendTrafficPolicy", client.genericKubernetesResources(
          envoyKind("BackendTrafficPolicy", "backendtrafficpolicies"))
          .inAnyNamespace().runnableInformer(0)));
    } else {
      notServed(ENVOY_V1ALPHA1 + " BackendTrafficPolicy");
    }
    // Read only to report them as not implemented (and to fail closed on SecurityPolicy).
    for (String kind : new java.util.TreeSet<>(ResourceSnapshot.UNIMPLEMENTED_POLICY_KINDS)) {
      String lower = kind.toLowerCase(java.util.Locale.ROOT);
      String plural = lower.substring(0, lower.length() - 1) + "ies";
      if (discovery.serves(ENVOY_V1ALPHA1, plural)) {
        watches.add(generic(kind, client.genericKubernetesResources(envoyKind(kind, plural))
            .inAnyNamespace().runnableInformer(0)));
      } else {
        LOG.debug("{} {} is not served by the API server; treated as empty", ENVOY_V1ALPHA1, kind);
      }
    }
    for (String kind : List.of("TLSRoute", "TCPRoute", "UDPRoute", "GRPCRoute")) {
      String plural = kind.toLowerCase(java.util.Locale.ROOT) + "s";
      String version = STREAM_ROUTE_VERSIONS.get(kind).stream()
          .filter(v -> discovery.serves(GATEWAY_API_GROUP + "/" + v, plural))
          .findFirst().orElse(null);
      if (version == null) {
        notServed(kind);
      } else {
        watches.add(streamRoutes(kind, plural, version));
      }
    }
    watches.addAll(List.of(
        typed("GatewayClass", client.resources(GatewayClass.class).runnableInformer(0)),
        typed("Gateway", client.resources(Gateway.class).inAnyNamespace().runnableInformer(0)),
        typed("HTTPRoute", client.resources(HTTPRoute.class).inAnyNamespace().runnableInformer(0)),
        typed("Service", client.resources(Service.class).inAnyNamespace().runnableInformer(0)),
        typed("EndpointSlice",
            client.resources(EndpointSlice.class).inAnyNamespace().runnableInformer(0)),
        typed("Secret", client.resources(Secret.class).inAnyNamespace().runnableInformer(0)),
        typed("ConfigMap", client.resources(ConfigMap.class).inAnyNamespace().runnableInformer(0)),
        typed("Namespace", client.resources(Namespace.class).runnableInformer(0))));
    return watches;
  }

  /** Starts every informer; completes once the first snapshot is delivered. */
  private Future<Void> startAll(List<Watch> watches) {
    List<CompletableFuture<Void>> lists = new ArrayList<>();
    for (Watch watch : watches) {
      lists.add(startInformer(watch));
    }
    Promise<Void> promise = Promise.promise();
    CompletableFuture.allOf(lists.toArray(CompletableFuture[]::new)).whenComplete((v, e) ->
        context.runOnContext(x -> {
          if (e != null) {
            stop();
            promise.fail(unreachable(e));
          } else if (stopped) {
            promise.fail(new IllegalStateException("KubernetesProvider stopped while starting"));
          } else {
            // Every event until now is in the stores; later ones schedule a rebuild.
            rebuild(promise);
          }
        }));
    return promise.future();
  }

  private static void notServed(String what) {
    LOG.warn("{} is not served by the API server (CRD not installed?); treated as empty", what);
  }

  /** Named explicitly: the API server's discovery would not know a CRD that is not installed. */
  private static ResourceDefinitionContext envoyKind(String kind, String plural) {
    return new ResourceDefinitionContext.Builder()
        .withGroup(ResourceSnapshot.ENVOY_GATEWAY_GROUP)
        .withVersion("v1alpha1")
        .withKind(kind)
        .withPlural(plural)
        .withNamespaced(true)
        .build();
  }

  private Watch generic(String kind, SharedIndexInformer<? extends HasMetadata> informer) {
    return new Watch(ENVOY_V1ALPHA1 + " " + kind, kind, typed(kind, informer).informer(),
        object -> {
          normalise((GenericKubernetesResource) object, kind);
          return object;
        }, null);
  }

  private static Watch withFallback(Watch watch, Supplier<Watch> fallback) {
    return new Watch(watch.what(), watch.kind(), watch.informer(), watch.convert(), fallback);
  }

  /**
   * Clusters with an older Gateway API release serve ReferenceGrant as v1beta1 only; its schema
   * is the same as v1's. Read as v1, as the YAML reader does.
   */
  private Watch referenceGrantsV1beta1() {
    ResourceDefinitionContext v1beta1 = new ResourceDefinitionContext.Builder()
        .withGroup("gateway.networking.k8s.io")
        .withVersion("v1beta1")
        .withKind("ReferenceGrant")
        .withPlural("referencegrants")
        .withNamespaced(true)
        .build();
    KubernetesSerialization serialization = client.getKubernetesSerialization();
    Watch watch = typed("ReferenceGrant (v1beta1)", "ReferenceGrant",
        client.genericKubernetesResources(v1beta1).inAnyNamespace().runnableInformer(0));
    return new Watch(watch.what(), "ReferenceGrant", watch.informer(), object -> {
      ReferenceGrant grant = serialization.convertValue(object, ReferenceGrant.class);
      grant.setApiVersion("gateway.networking.k8s.io/v1");
      grant.setKind("ReferenceGrant");
      return grant;
    }, null);
  }

  /**
   * Watches a TLSRoute, TCPRoute or UDPRoute at the version the cluster serves, read as the v1
   * class whatever the version (as the YAML reader does).
   */
  private Watch streamRoutes(String kind, String plural, String version) {
    ResourceDefinitionContext definition = new ResourceDefinitionContext.Builder()
        .withGroup(GATEWAY_API_GROUP)
        .withVersion(version)
        .withKind(kind)
        .withPlural(plural)
        .withNamespaced(true)
        .build();
    Class<? extends HasMetadata> type = switch (kind) {
      case "TLSRoute" -> io.fabric8.kubernetes.api.model.gatewayapi.v1.TLSRoute.class;
      case "TCPRoute" -> io.fabric8.kubernetes.api.model.gatewayapi.v1.TCPRoute.class;
      case "GRPCRoute" -> io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute.class;
      default -> io.fabric8.kubernetes.api.model.gatewayapi.v1.UDPRoute.class;
    };
    KubernetesSerialization serialization = client.getKubernetesSerialization();
    Watch watch = typed(kind + " (" + version + ")", kind,
        client.genericKubernetesResources(definition).inAnyNamespace().runnableInformer(0));
    return new Watch(watch.what(), kind, watch.informer(), object -> {
      GenericKubernetesResource generic = (GenericKubernetesResource) object;
      GenericKubernetesResource copy = new GenericKubernetesResource();
      copy.setMetadata(generic.getMetadata());
      copy.setAdditionalProperties(generic.getAdditionalProperties());
      copy.setApiVersion(GATEWAY_V1);
      copy.setKind(kind);
      return serialization.convertValue(copy, type);
    }, null);
  }

  private Watch typed(String what, SharedIndexInformer<? extends HasMetadata> informer) {
    return typed(what, what, informer);
  }

  /** @param kind the kind of the objects it gives the snapshot (as in an {@link ObjectKey}) */
  private Watch typed(String what, String kind,
      SharedIndexInformer<? extends HasMetadata> informer) {
    shareEchoedSpecs(informer);
    // Retry only once started: a failed initial list fails start() (unreachable API server,
    // missing CRD) instead of retrying forever behind a start-up that never completes.
    informer.exceptionHandler((isStarted, t) -> isStarted);
    informer.addEventHandler(new ResourceEventHandler<HasMetadata>() {
      @Override
      public void onAdd(HasMetadata obj) {
        changed(informer, obj);
      }

      @Override
      public void onUpdate(HasMetadata oldObj, HasMetadata newObj) {
        if (StatusEchoes.comparedFieldByField(newObj)
            && StatusEchoes.sameButStatus(oldObj, newObj)) {
          // A status written (by Portico, mostly: each write comes back as such a copy), a
          // resync or a re-list: nothing the translator reads changed. Not taking it into the
          // snapshot keeps every translation cache's identity checks hitting, and it neither
          // re-arms the hold-off nor costs a build: with 10k routes a burst of status writes
          // kept pushing real changes out to the 500 ms ceiling (bench/scale.py). The status
          // writer reads the informers' current copies ({@link #current}) instead, and is told
          // of the new status, which may be another's.
          echoes.incrementAndGet();
          BiConsumer<ObjectKey, String> listener = statusListener;
          if (listener != null) {
            listener.accept(new ObjectKey(kind, newObj.getMetadata().getNamespace(),
                newObj.getMetadata().getName()), newObj.getMetadata().getResourceVersion());
          }
          return;
        }
        changed(informer, newObj);
      }

      @Override
      public void onDelete(HasMetadata obj, boolean deletedFinalStateUnknown) {
        changed(informer, obj);
      }
    });
    return new Watch(what, kind, informer, UnaryOperator.identity(), null);
  }

  /**
   * Gives an informer an {@link EchoSharingStore} (see there why), and no namespace index:
   * Portico reads its informers by key and whole, so an index of every object by namespace
   * (an entry per object) would be memory for nothing.
   */
  private static <T extends HasMetadata> void shareEchoedSpecs(SharedIndexInformer<T> informer) {
    informer.itemStore(new EchoSharingStore<>());
    informer.removeNamespaceIndex();
  }

  private CompletableFuture<Void> startInformer(Watch watch) {
    return watch.informer().start().toCompletableFuture().handle((v, e) -> {
      if (e == null) {
        synchronized (informers) {
          informers.add(watch);
        }
        byKind.put(watch.kind(), watch);
        return CompletableFuture.<Void>completedFuture(null);
      }
      Throwable cause = e instanceof CompletionException && e.getCause() != null
          ? e.getCause() : e;
      watch.informer().stop();
      if (cause instanceof KubernetesClientException k && k.getCode() == 404) {
        if (watch.fallback() != null) {
          Watch fallback = watch.fallback().get();
          LOG.info("{} is not served by the API server; watching {}", watch.what(),
              fallback.what());
          return startInformer(fallback);
        }
        // The API is not served (its CRD is not installed): nothing of this kind can exist.
        LOG.warn("{} is not served by the API server (CRD not installed?); treated as empty",
            watch.what());
        return CompletableFuture.<Void>completedFuture(null);
      }
      return CompletableFuture.<Void>failedFuture(cause);
    }).thenCompose(f -> f);
  }

  private IllegalStateException unreachable(Throwable e) {
    // fabric8 wraps the reason ("An error has occurred."): name the innermost one.
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String why = root.getMessage() != null ? root.getMessage() : root.toString();
    return new IllegalStateException("cannot read from the Kubernetes API server at "
        + client.getMasterUrl() + ": " + why, e);
  }

  /** Runs on an informer thread: only posts which object changed to the context. */
  private void changed(SharedIndexInformer<?> informer, HasMetadata object) {
    Context ctx = context;
    if (ctx != null && !stopped) {
      String storeKey = Cache.metaNamespaceKeyFunc(object);
      long seenNanos = System.nanoTime();
      ctx.runOnContext(v -> {
        dirty.computeIfAbsent(informer, i -> new HashSet<>()).add(storeKey);
        if (pendingSinceNanos == SnapshotSink.UNTIMED && delivered != null) {
          pendingSinceNanos = seenNanos;
        }
        if (!(object instanceof EndpointSlice)) {
          onlyEndpoints = false;
        }
        schedule();
      });
    }
  }

  /**
   * Runs on the context: builds at once after a quiet spell, else (re)arms the hold-off timer,
   * never beyond the ceiling.
   */
  private void schedule() {
    if (stopped) {
      return;
    }
    if (delivering) {
      // Possibly not in the snapshot being built (the first one included): build again after.
      changedWhileBuilding = true;
      return;
    }
    if (delivered == null) {
      // Before the first build: the change is already in the stores it will read.
      return;
    }
    long now = System.nanoTime();
    long holdOff = onlyEndpoints
        ? Math.min(ENDPOINTS_HOLD_OFF_MILLIS, options.holdOff().toMillis())
        : options.holdOff().toMillis();
    boolean afterQuiet = timer < 0
        && now - lastScheduledNanos >= TimeUnit.MILLISECONDS.toNanos(holdOff);
    lastScheduledNanos = now;
    if (afterQuiet) {
      // A change after a quiet spell is built at once: a watch event is a whole object, and
      // holding it off would only add the hold-off to its latency (10 of a new route's ~25 ms
      // at 10k routes). What follows it within the hold-off, or while it is built, is batched.
      firstChangeNanos = -1;
      rebuild(null);
      return;
    }
    if (firstChangeNanos < 0) {
      firstChangeNanos = now;
    }
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    long untilCeiling = options.ceiling().toNanos() - (now - firstChangeNanos);
    long delayMillis = Math.max(1, Math.min(holdOff, untilCeiling / 1_000_000));
    timer = vertx.setTimer(delayMillis, id -> {
      timer = -1;
      firstChangeNanos = -1;
      rebuild(null);
    });
  }

  /** Runs on the context: builds a snapshot on a worker and delivers it if it changed. */
  private void rebuild(Promise<Void> first) {
    delivering = true;
    changedWhileBuilding = false;
    List<Watch> current;
    synchronized (informers) {
      current = List.copyOf(informers);
    }
    Map<SharedIndexInformer<?>, Set<String>> changed = dirty;
    dirty = new IdentityHashMap<>();
    long sinceNanos = pendingSinceNanos;
    pendingSinceNanos = SnapshotSink.UNTIMED;
    onlyEndpoints = true;
    boolean full = delivered == null;
    context.executeBlocking(() -> build(current, full ? null : changed), true)
        .onComplete(result -> {
      delivering = false;
      if (result.failed()) {
        LOG.error("could not build a snapshot of the cluster (a bug in Portico)", result.cause());
        if (first != null) {
          first.fail(result.cause());
        }
        return;
      }
      ResourceSnapshot snapshot = result.result();
      if (!stopped && snapshot != null) {
        delivered = snapshot;
        try {
          onSnapshot.accept(snapshot, sinceNanos);
        } catch (RuntimeException e) {
          if (first != null) {
            first.fail(e);
            return;
          }
          LOG.error("snapshot callback failed", e);
        }
      }
      if (first != null) {
        first.complete();
      }
      if (changedWhileBuilding) {
        schedule();
      }
    });
  }

  /**
   * Runs on a worker thread, one build at a time. Takes the changed objects into the index (all
   * of them when {@code changed} is null: the first build) and returns the new snapshot, or null
   * when nothing the snapshot holds changed.
   */
  private ResourceSnapshot build(List<Watch> current,
      Map<SharedIndexInformer<?>, Set<String>> changed) {
    boolean any = changed == null;
    for (Watch watch : current) {
      if (changed == null) {
        for (HasMetadata cached : watch.informer().getStore().list()) {
          index.refresh(watch.what(), Cache.metaNamespaceKeyFunc(cached), cached,
              watch.convert());
        }
        continue;
      }
      for (String storeKey : changed.getOrDefault(watch.informer(), Set.of())) {
        any |= index.refresh(watch.what(), storeKey,
            watch.informer().getStore().getByKey(storeKey), watch.convert());
      }
    }
    if (!any) {
      return null;
    }
    List<ConfigProblem> found = index.problems();
    Set<ConfigProblem> old = Set.copyOf(problems);
    problems = found;
    for (ConfigProblem problem : found) {
      if (!old.contains(problem)) {
        LOG.error("{}", problem);
      }
    }
    return index.snapshot();
  }

  /**
   * Returns the informers' current copy of an object, as the snapshot holds it, or null when
   * there is none. Unlike the snapshot's copy it carries the newest status and resourceVersion:
   * updates that change nothing but status are not taken into the snapshot (see
   * {@link StatusEchoes}), and this is where the status writer reads what is on the API server.
   * Safe from any thread.
   */
  public HasMetadata current(ObjectKey key) {
    Watch watch = byKind.get(key.kind());
    if (watch == null) {
      return null;
    }
    HasMetadata cached = watch.informer().getStore().getByKey(
        key.namespace().isEmpty() ? key.name() : key.namespace() + "/" + key.name());
    return cached == null ? null : watch.convert().apply(cached);
  }

  /**
   * Calls {@code listener} (on an informer thread) with the key and new resourceVersion of each
   * object whose update changed nothing but its status, which the snapshot does not take in:
   * the status writer's own writes coming back, or another's. Call before {@link #start()}.
   */
  public void onStatusChange(BiConsumer<ObjectKey, String> listener) {
    this.statusListener = Objects.requireNonNull(listener, "listener");
  }

  /** Returns how many updates were status echoes, not taken into the snapshot (for tests). */
  long statusEchoes() {
    return echoes.get();
  }

  /** Returns how many cluster objects have been converted and checked so far (for tests). */
  long objectsChecked() {
    return index.checked();
  }

  /**
   * Items of a list response may carry no kind or apiVersion, and the snapshot sorts generic
   * objects by them. Setting them is idempotent, so the cached object is completed in place.
   */
  private static void normalise(GenericKubernetesResource object, String kind) {
    if (object.getApiVersion() == null) {
      object.setApiVersion(ENVOY_V1ALPHA1);
    }
    if (object.getKind() == null) {
      object.setKind(kind);
    }
  }

  @Override
  public List<ConfigProblem> problems() {
    return problems;
  }

  /** Stops every informer; no snapshot is delivered after this. */
  @Override
  public Future<Void> stop() {
    stopped = true;
    synchronized (informers) {
      informers.forEach(w -> w.informer().stop());
      informers.clear();
      byKind.clear();
    }
    return Future.succeededFuture();
  }
}
