package io.portico.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import io.portico.testing.GrpcEcho;
import io.portico.testing.TestGateway;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A BackendTrafficPolicy's load balancing on a GRPCRoute: two grpc-java pods of one Service
 * (127.0.0.1 and 127.0.0.2, same port); by default calls go round robin over both, and with
 * consistent hashing on a metadata entry every call of one user lands on one pod.
 */
class GrpcLoadBalancingEndToEndTest {

  private static final MethodDescriptor<byte[], byte[]> WHO = MethodDescriptor
      .<byte[], byte[]>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY)
      .setFullMethodName("test.Pods/Who")
      .setRequestMarshaller(GrpcEcho.BYTES)
      .setResponseMarshaller(GrpcEcho.BYTES)
      .build();

  @TempDir
  Path directory;

  private final int port = TestGateway.freePort();
  private Server podA;
  private Server podB;
  private TestGateway gateway;
  private ManagedChannel channel;

  private static Server pod(String address, int port, String name) throws Exception {
    return NettyServerBuilder.forAddress(new InetSocketAddress(address, port))
        .addService(ServerServiceDefinition.builder("test.Pods")
            .addMethod(WHO, ServerCalls.asyncUnaryCall((request, response) -> {
              response.onNext(name.getBytes(StandardCharsets.UTF_8));
              response.onCompleted();
            }))
            .build())
        .build().start();
  }

  @BeforeEach
  void startPods() throws Exception {
    // Both pods listen on one port (an EndpointSlice has one port for all its addresses): the
    // port the system gave pod A may be taken on 127.0.0.2 (a listener on every address), so
    // a few ports are tried.
    for (int attempt = 1; ; attempt++) {
      podA = pod("127.0.0.1", 0, "pod-a");
      try {
        podB = pod("127.0.0.2", podA.getPort(), "pod-b");
        return;
      } catch (java.io.IOException e) {
        podA.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        if (attempt == 10) {
          throw e;
        }
      }
    }
  }

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (gateway != null) {
      gateway.close();
    }
    podA.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    podB.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
  }

  private void serve(String policy) {
    String config = ProxyEndToEndTest.GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          listeners: [{name: h2c, protocol: HTTP, port: %1$d}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: GRPCRoute
        metadata: {name: pods, namespace: default}
        spec:
          parentRefs: [{name: gw}]
          rules:
          - backendRefs: [{name: pods, port: 50051}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: pods, namespace: default}
        spec:
          ports: [{name: grpc, port: 50051}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: pods-1, namespace: default, labels: {kubernetes.io/service-name: pods}}
        addressType: IPv4
        ports: [{name: grpc, port: %2$d}]
        endpoints: [{addresses: [127.0.0.1]}, {addresses: [127.0.0.2]}]
        ---
        """.formatted(port, podA.getPort()) + policy;
    gateway = TestGateway.start(directory, "gateway.yaml", config);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  private String who(String user) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("x-user", Metadata.ASCII_STRING_MARSHALLER), user);
    byte[] answer = ClientCalls.blockingUnaryCall(
        ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers)),
        WHO, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[0]);
    return new String(answer, StandardCharsets.UTF_8);
  }

  @Test
  void callsGoRoundRobinOverThePodsByDefault() {
    serve("");
    Set<String> pods = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      pods.add(who("alice"));
    }
    assertThat(pods).containsExactlyInAnyOrder("pod-a", "pod-b");
  }

  @Test
  void consistentHashOnAMetadataEntryKeepsEachUserOnOnePod() {
    serve("""
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: by-user, namespace: default}
        spec:
          targetRef: {group: gateway.networking.k8s.io, kind: GRPCRoute, name: pods}
          loadBalancer:
            type: ConsistentHash
            consistentHash: {type: Header, header: {name: x-user}}
        """);
    Set<String> seen = new HashSet<>();
    for (int u = 0; u < 20; u++) {
      Set<String> pods = new HashSet<>();
      for (int i = 0; i < 3; i++) {
        pods.add(who("user-" + u));
      }
      assertThat(pods).as("pods that served user-%d", u).hasSize(1);
      seen.addAll(pods);
    }
    // Twenty users hashed over two pods: that all land on one has odds of 2 in a million.
    assertThat(seen).containsExactlyInAnyOrder("pod-a", "pod-b");
  }
}
