package io.portico.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.portico.testing.GrpcEcho;
import io.portico.testing.TestCertificates;
import io.portico.testing.TestCertificates.Pem;
import io.portico.testing.TestGateway;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GRPCRoute end to end: a real grpc-java client (Netty transport) calls a real grpc-java server
 * through Portico over loopback, in cleartext (h2c with prior knowledge) and over TLS (h2 by
 * ALPN). The backend's Service port declares no appProtocol: a GRPCRoute backend is HTTP/2.
 */
class GrpcRouteEndToEndTest {

  private static final String SERVICE = "test.Greeter";
  private static final Metadata.Key<String> FROM =
      Metadata.Key.of("x-from", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> SEEN_AUTHORITY =
      Metadata.Key.of("x-seen-authority", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> ADDED =
      Metadata.Key.of("x-added", Metadata.ASCII_STRING_MARSHALLER);

  @TempDir
  Path directory;

  private final int port = TestGateway.freePort();
  private final int tlsPort = TestGateway.freePort();
  private final Pem gatewayCert = TestCertificates.selfSigned("grpc.example.com");
  private final AtomicReference<Metadata> lastHeaders = new AtomicReference<>();
  private Server backend;
  /** A second backend that only records what it gets: the mirror of the Mirrored method. */
  private Server shadow;
  private final java.util.List<String> shadowed =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private TestGateway gateway;
  private final List<ManagedChannel> channels = new ArrayList<>();

  private static MethodDescriptor<byte[], byte[]> method(String name,
      MethodDescriptor.MethodType type) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(type)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
        .setRequestMarshaller(GrpcEcho.BYTES)
        .setResponseMarshaller(GrpcEcho.BYTES)
        .build();
  }

  private static final MethodDescriptor<byte[], byte[]> HELLO =
      method("Hello", MethodDescriptor.MethodType.UNARY);
  private static final MethodDescriptor<byte[], byte[]> COUNT =
      method("Count", MethodDescriptor.MethodType.SERVER_STREAMING);
  private static final MethodDescriptor<byte[], byte[]> SILENT =
      method("Silent", MethodDescriptor.MethodType.UNARY);
  private static final MethodDescriptor<byte[], byte[]> REFUSE =
      method("Refuse", MethodDescriptor.MethodType.UNARY);
  private static final MethodDescriptor<byte[], byte[]> FLAKY =
      method("Flaky", MethodDescriptor.MethodType.UNARY);
  private static final MethodDescriptor<byte[], byte[]> MIRRORED =
      method("Mirrored", MethodDescriptor.MethodType.UNARY);
  /** Calls per method name the backend received. */
  private final java.util.Map<String, java.util.concurrent.atomic.AtomicInteger> calls =
      new java.util.concurrent.ConcurrentHashMap<>();

  @BeforeEach
  void startBackend() throws Exception {
    ServerServiceDefinition greeter = ServerServiceDefinition.builder(SERVICE)
        // Hello: answers "hello <request>", with a header and a trailer of its own.
        .addMethod(HELLO, ServerCalls.asyncUnaryCall((request, response) -> {
          response.onNext(("hello " + new String(request, StandardCharsets.UTF_8))
              .getBytes(StandardCharsets.UTF_8));
          response.onCompleted();
        }))
        // Count: streams the numbers 1..N, N being the request's one byte.
        .addMethod(COUNT, ServerCalls.asyncServerStreamingCall((request, response) -> {
          for (int i = 1; i <= request[0]; i++) {
            response.onNext(new byte[] {(byte) i});
          }
          response.onCompleted();
        }))
        // Silent: never answers, so that only the caller's deadline ends the call.
        .addMethod(SILENT, ServerCalls.asyncUnaryCall((request, response) -> { }))
        // Refuse: fails with a status and message of its own, in the trailers.
        .addMethod(REFUSE, ServerCalls.asyncUnaryCall((request, response) ->
            response.onError(Status.RESOURCE_EXHAUSTED.withDescription("quota: 0 left")
                .asRuntimeException())))
        .addMethod(MIRRORED, ServerCalls.asyncUnaryCall((request, response) -> {
          response.onNext("real".getBytes(StandardCharsets.UTF_8));
          response.onCompleted();
        }))
        // Flaky: UNAVAILABLE to the first two calls, then echoes the request and the count.
        .addMethod(FLAKY, ServerCalls.asyncUnaryCall((request, response) -> {
          int call = calls.get("Flaky").get();
          if (call <= 2) {
            response.onError(Status.UNAVAILABLE.withDescription("warming up").asRuntimeException());
            return;
          }
          response.onNext((new String(request, StandardCharsets.UTF_8) + " on call " + call)
              .getBytes(StandardCharsets.UTF_8));
          response.onCompleted();
        }))
        .build();
    backend = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(io.grpc.ServerInterceptors.intercept(greeter, new io.grpc.ServerInterceptor() {
          @Override
          public <Q, A> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, A> call,
              Metadata headers, io.grpc.ServerCallHandler<Q, A> next) {
            lastHeaders.set(headers);
            calls.computeIfAbsent(call.getMethodDescriptor().getBareMethodName(),
                m -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
            return next.startCall(new io.grpc.ForwardingServerCall.SimpleForwardingServerCall<>(
                call) {
              @Override
              public void sendHeaders(Metadata responseHeaders) {
                responseHeaders.put(FROM, "greeter");
                responseHeaders.put(SEEN_AUTHORITY, String.valueOf(call.getAuthority()));
                super.sendHeaders(responseHeaders);
              }
            }, headers);
          }
        }))
        .build().start();
    shadow = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerServiceDefinition.builder(SERVICE)
            .addMethod(MIRRORED, ServerCalls.asyncUnaryCall((request, response) -> {
              shadowed.add(new String(request, StandardCharsets.UTF_8));
              response.onNext("shadow".getBytes(StandardCharsets.UTF_8));
              response.onCompleted();
            }))
            .build())
        .build().start();
  }

  @AfterEach
  void stop() throws Exception {
    channels.forEach(ManagedChannel::shutdownNow);
    if (gateway != null) {
      gateway.close();
    }
    backend.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    shadow.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
  }

  private void serve() {
    serve("");
  }

  /** Serves the Gateway, GRPCRoute and backends with {@code extra} config appended. */
  private void serve(String extra) {
    String config = ProxyEndToEndTest.GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          listeners:
          - {name: h2c, protocol: HTTP, port: %1$d}
          - name: tls
            protocol: HTTPS
            port: %2$d
            tls: {certificateRefs: [{name: grpc-cert}]}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: GRPCRoute
        metadata: {name: greeter, namespace: default}
        spec:
          parentRefs: [{name: gw}]
          hostnames: [grpc.example.com]
          rules:
          - matches: [{method: {service: test.Greeter, method: Mirrored}}]
            filters:
            - type: RequestMirror
              requestMirror: {backendRef: {name: shadow, port: 50051}}
            backendRefs: [{name: greeter, port: 50051}]
          - matches: [{method: {service: test.Greeter}}]
            filters:
            - type: RequestHeaderModifier
              requestHeaderModifier: {add: [{name: x-added, value: by-portico}]}
            backendRefs: [{name: greeter, port: 50051}]
          - matches: [{method: {service: test.Empty}}]
            backendRefs: [{name: empty, port: 50051}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: greeter, namespace: default}
        spec:
          ports: [{name: grpc, port: 50051}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: greeter-1, namespace: default, labels: {kubernetes.io/service-name: greeter}}
        addressType: IPv4
        ports: [{name: grpc, port: %3$d}]
        endpoints: [{addresses: [127.0.0.1]}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: shadow, namespace: default}
        spec:
          ports: [{name: grpc, port: 50051}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: shadow-1, namespace: default, labels: {kubernetes.io/service-name: shadow}}
        addressType: IPv4
        ports: [{name: grpc, port: %4$d}]
        endpoints: [{addresses: [127.0.0.1]}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: empty, namespace: default}
        spec:
          ports: [{name: grpc, port: 50051}]
        ---
        """.formatted(port, tlsPort, backend.getPort(), shadow.getPort()) + extra;
    gateway = TestGateway.start(directory, "gateway.yaml", config, "secret.yaml",
        gatewayCert.secretYaml("default", "grpc-cert"));
  }

  private ManagedChannel cleartext() {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
        .overrideAuthority("grpc.example.com").build();
    channels.add(channel);
    return channel;
  }

  private ManagedChannel tls() throws Exception {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", tlsPort)
        .sslContext(GrpcSslContexts.forClient().trustManager(gatewayCert.x509()).build())
        .overrideAuthority("grpc.example.com").build();
    channels.add(channel);
    return channel;
  }

  private static byte[] hello(ManagedChannel channel, String name, Metadata[] responseHeaders) {
    AtomicReference<Metadata> headers = new AtomicReference<>();
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    byte[] answer = ClientCalls.blockingUnaryCall(
        ClientInterceptors.intercept(channel,
            MetadataUtils.newCaptureMetadataInterceptor(headers, trailers)),
        HELLO, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
        name.getBytes(StandardCharsets.UTF_8));
    if (responseHeaders != null) {
      responseHeaders[0] = headers.get();
    }
    return answer;
  }

  private static Status statusOf(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
    return Status.OK;
  }

  @Test
  void unaryCallOverH2cReachesTheBackendWithItsHeadersAndFilters() {
    serve();
    Metadata[] headers = new Metadata[1];
    byte[] answer = hello(cleartext(), "portico", headers);
    assertThat(new String(answer, StandardCharsets.UTF_8)).isEqualTo("hello portico");
    assertThat(headers[0].get(FROM)).isEqualTo("greeter");
    assertThat(headers[0].get(SEEN_AUTHORITY)).isEqualTo("grpc.example.com");
    assertThat(lastHeaders.get().get(ADDED)).isEqualTo("by-portico");
  }

  @Test
  void unaryCallOverTlsWithAlpnH2ReachesTheBackend() throws Exception {
    serve();
    byte[] answer = hello(tls(), "tls", null);
    assertThat(new String(answer, StandardCharsets.UTF_8)).isEqualTo("hello tls");
  }

  @Test
  void serverStreamingCallRelaysEveryMessageThenTheStatus() {
    serve();
    Iterator<byte[]> stream = ClientCalls.blockingServerStreamingCall(cleartext(), COUNT,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[] {5});
    List<Integer> numbers = new ArrayList<>();
    stream.forEachRemaining(message -> numbers.add((int) message[0]));
    assertThat(numbers).containsExactly(1, 2, 3, 4, 5);
  }

  @Test
  void backendStatusAndMessageTravelInTheTrailers() {
    serve();
    ManagedChannel channel = cleartext();
    Status status = statusOf(() -> ClientCalls.blockingUnaryCall(channel, REFUSE,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[0]));
    assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(status.getDescription()).isEqualTo("quota: 0 left");
  }

  private static final String RETRY_ON_UNAVAILABLE = """
      apiVersion: gateway.envoyproxy.io/v1alpha1
      kind: BackendTrafficPolicy
      metadata: {name: retries, namespace: default}
      spec:
        targetRef: {group: gateway.networking.k8s.io, kind: GRPCRoute, name: greeter}
        retry:
          numRetries: 2
          retryOn: {triggers: [unavailable]}
          perRetry: {backOff: {baseInterval: 10ms, maxInterval: 20ms}}
      """;

  @Test
  void callAnsweredUnavailableIsRetriedWithItsBodyAsThePolicySays() {
    serve(RETRY_ON_UNAVAILABLE);
    byte[] answer = ClientCalls.blockingUnaryCall(cleartext(), FLAKY,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
        "payload".getBytes(StandardCharsets.UTF_8));
    assertThat(new String(answer, StandardCharsets.UTF_8)).isEqualTo("payload on call 3");
    assertThat(calls.get("Flaky")).hasValue(3);
  }

  @Test
  void statusOutsideTheTriggersIsNotRetried() {
    serve(RETRY_ON_UNAVAILABLE);
    ManagedChannel channel = cleartext();
    Status status = statusOf(() -> ClientCalls.blockingUnaryCall(channel, REFUSE,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[0]));
    assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(calls.get("Refuse")).hasValue(1);
  }

  @Test
  void withoutARetryPolicyAnUnavailableCallIsAnsweredAsIs() {
    serve();
    ManagedChannel channel = cleartext();
    Status status = statusOf(() -> ClientCalls.blockingUnaryCall(channel, FLAKY,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[0]));
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(status.getDescription()).isEqualTo("warming up");
    assertThat(calls.get("Flaky")).hasValue(1);
  }

  @Test
  void mirroredCallReachesTheMirrorWithItsBodyAndTheClientGetsTheRealAnswer() {
    serve();
    byte[] answer = ClientCalls.blockingUnaryCall(cleartext(), MIRRORED,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
        "copy me".getBytes(StandardCharsets.UTF_8));
    assertThat(new String(answer, StandardCharsets.UTF_8)).isEqualTo("real");
    TestGateway.awaitCondition("the mirror got the call", () -> shadowed.contains("copy me"));
  }

  @Test
  void theCallersDeadlineEndsACallTheBackendNeverAnswers() {
    serve();
    ManagedChannel channel = cleartext();
    Status status = statusOf(() -> ClientCalls.blockingUnaryCall(channel, SILENT,
        CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS), new byte[0]));
    assertThat(status.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    // The connection survives the cancelled stream.
    assertThat(new String(hello(channel, "again", null), StandardCharsets.UTF_8))
        .isEqualTo("hello again");
  }

  @Test
  void methodNoRuleMatchesIsUnimplemented() {
    serve();
    MethodDescriptor<byte[], byte[]> other = MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName("test.Other/Hello")
        .setRequestMarshaller(GrpcEcho.BYTES).setResponseMarshaller(GrpcEcho.BYTES).build();
    ManagedChannel channel = cleartext();
    Status status = statusOf(() -> ClientCalls.blockingUnaryCall(channel, other,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[0]));
    assertThat(status.getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
  }

  @Test
  void backendWithoutEndpointsIsUnavailable() {
    serve();
    MethodDescriptor<byte[], byte[]> empty = MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName("test.Empty/Hello")
        .setRequestMarshaller(GrpcEcho.BYTES).setResponseMarshaller(GrpcEcho.BYTES).build();
    ManagedChannel channel = cleartext();
    Status status = statusOf(() -> ClientCalls.blockingUnaryCall(channel, empty,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[0]));
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(status.getDescription()).contains("no ready endpoint");
  }

  @Test
  void unknownHostIsUnimplementedToo() {
    serve();
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
        .overrideAuthority("elsewhere.example.com").build();
    channels.add(channel);
    assertThatThrownBy(() -> hello(channel, "x", null))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
  }
}
