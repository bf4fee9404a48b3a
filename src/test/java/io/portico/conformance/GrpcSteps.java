package io.portico.conformance;

import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.portico.testing.GrpcEcho;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Runs the gRPC steps ({@code expectGrpc}, {@code expectGrpcFailure}, and {@code expectWeights}
 * with {@code protocol: GRPC}) with a real grpc-java client (Netty transport, cleartext HTTP/2
 * with prior knowledge), calling the conformance echo service's unary methods with an empty
 * request.
 */
final class GrpcSteps {

  private static final Duration MAX_TIME_TO_CONSISTENCY = Duration.ofSeconds(30);
  private static final Duration RETRY_INTERVAL = Duration.ofMillis(100);
  private static final long REQUEST_TIMEOUT_MILLIS = 10_000;
  private static final int CONSECUTIVE = 3;

  private final CaseContext context;

  GrpcSteps(CaseContext context) {
    this.context = context;
  }

  /** What one call ended with: its status, and the echo's answer when it was OK. */
  private record Outcome(Status status, GrpcEcho.Answer answer) {
  }

  /**
   * upstream MakeRequestAndExpectEventuallyConsistentResponse for gRPC: three consecutive calls
   * must end with {@code code} (and, when OK, come from the expected method, namespace and pod).
   * The channel is kept for the attempts of the step, re-dialled after an Internal status.
   */
  void expectGrpc(Map<String, Object> step) {
    Call call = call(step);
    String expectedCode = Yaml.string(step.get("code"));
    long deadline = System.nanoTime() + MAX_TIME_TO_CONSISTENCY.toNanos();
    int consecutive = 0;
    String last = "no attempt";
    ManagedChannel channel = call.dial();
    try {
      while (true) {
        Outcome outcome = call.invoke(channel);
        last = mismatch(step, call, expectedCode, outcome);
        if (last == null) {
          if (++consecutive == CONSECUTIVE) {
            return;
          }
          continue;
        }
        consecutive = 0;
        if (outcome.status().getCode() == Status.Code.INTERNAL) {
          channel.shutdownNow();
          channel = call.dial();
        }
        if (System.nanoTime() > deadline) {
          throw new StepFailure("gRPC " + call.method() + " through " + step.get("gateway")
              + " did not consistently end with " + expectedCode + " within "
              + MAX_TIME_TO_CONSISTENCY.toSeconds() + " s; last: " + last);
        }
        Poll.pause(RETRY_INTERVAL);
      }
    } finally {
      channel.shutdownNow();
    }
  }

  /**
   * The call must consistently (3 in a row) end with a status other than OK; an OK fails the
   * case at once; a transport error (the channel could not reach the gateway) is "not yet".
   */
  void expectGrpcFailure(Map<String, Object> step) {
    Call call = call(step);
    long deadline = System.nanoTime() + MAX_TIME_TO_CONSISTENCY.toNanos();
    int consecutive = 0;
    String last = "no attempt";
    ManagedChannel channel = call.dial();
    try {
      while (true) {
        Outcome outcome = call.invoke(channel);
        if (outcome.status().isOk()) {
          throw new StepFailure("gRPC " + call.method() + " through " + step.get("gateway")
              + " succeeded (from pod " + outcome.answer().pod() + "); expected a failure");
        }
        if (outcome.status().getCause() == null) {
          if (++consecutive == CONSECUTIVE) {
            return;
          }
          continue;
        }
        consecutive = 0;
        last = outcome.status().toString();
        if (System.nanoTime() > deadline) {
          throw new StepFailure("gRPC " + call.method() + " through " + step.get("gateway")
              + " did not consistently fail within " + MAX_TIME_TO_CONSISTENCY.toSeconds()
              + " s; last: " + last);
        }
        channel.shutdownNow();
        channel = call.dial();
        Poll.pause(RETRY_INTERVAL);
      }
    } finally {
      channel.shutdownNow();
    }
  }

  /**
   * {@code expectWeights} for gRPC: each sample is one call that must end OK; the backend of
   * the pod that answered is its name without the last two segments.
   */
  void expectWeights(Map<String, Object> step) {
    Call call = call(step);
    Map<String, Object> weights = Yaml.map(step.get("weights"));
    int requests = ((Number) step.getOrDefault("requests", 500)).intValue();
    int concurrency = ((Number) step.getOrDefault("concurrency", 10)).intValue();
    double tolerance = ((Number) step.getOrDefault("tolerance", 0.05)).doubleValue();
    int maxAttempts = ((Number) step.getOrDefault("maxAttempts", 10)).intValue();
    boolean entropy = Boolean.TRUE.equals(step.get("entropy"));
    String last = "no attempt";
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    ManagedChannel channel = call.dial();
    try {
      for (int attempt = 0; attempt < maxAttempts; attempt++) {
        last = TcpSteps.weightsAttempt(pool, requests, () -> {
          Call sample = entropy && ThreadLocalRandom.current().nextBoolean()
              ? call.withMetadata(Map.of("x-jitter",
                  Integer.toString(ThreadLocalRandom.current().nextInt(10_000))))
              : call;
          Outcome outcome = sample.invoke(channel);
          if (!outcome.status().isOk()) {
            throw new IllegalStateException("status " + outcome.status());
          }
          return TcpSteps.backendOf(outcome.answer().pod());
        }, weights, tolerance);
        if (last == null) {
          return;
        }
      }
    } finally {
      pool.shutdownNow();
      channel.shutdownNow();
    }
    throw new StepFailure("weighted gRPC traffic through " + step.get("gateway") + " did not"
        + " match " + weights + " in " + maxAttempts + " attempts; last: " + last);
  }

  /** Returns why {@code outcome} does not satisfy the step, or null when it does. */
  private static String mismatch(Map<String, Object> step, Call call, String expectedCode,
      Outcome outcome) {
    String code = codeName(outcome.status().getCode());
    if (!code.equalsIgnoreCase(expectedCode)) {
      return "status " + outcome.status();
    }
    if (!outcome.status().isOk()) {
      return null;
    }
    GrpcEcho.Answer answer = outcome.answer();
    String method = "/" + GrpcEcho.SERVICE + "/" + call.method();
    if (!method.equals(answer.fullyQualifiedMethod())) {
      return "the echo saw method " + answer.fullyQualifiedMethod() + ", expected " + method;
    }
    Object namespace = step.get("namespace");
    if (namespace != null && !namespace.equals(answer.namespace())) {
      return "namespace " + answer.namespace() + ", expected " + namespace;
    }
    Object backend = step.get("backend");
    if (backend != null && !answer.pod().startsWith(backend.toString())) {
      return "pod " + answer.pod() + " is not of backend " + backend;
    }
    // declaredMetadata is not compared, as upstream does not: in GRPCRouteRequestHeaderModifier
    // three rules match Echo alike, so only the first (set) can ever serve it, and the values
    // declared for the add and remove cases could not arrive from any implementation.
    return null;
  }

  /** The status code in the spelling the case files use (Go's codes: OK, Unimplemented ...). */
  private static String codeName(Status.Code code) {
    String[] words = code.name().toLowerCase(Locale.ROOT).split("_");
    StringBuilder name = new StringBuilder();
    for (String word : words) {
      name.append(Character.toUpperCase(word.charAt(0))).append(word.substring(1));
    }
    return code == Status.Code.OK ? "OK" : name.toString();
  }

  private Call call(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    int port = step.get("port") == null ? 80 : ((Number) step.get("port")).intValue();
    String address = GatewayAddresses.address(context.view().state(), gateway[0], gateway[1]);
    if (address == null) {
      throw new StepFailure("Gateway " + gateway[0] + "/" + gateway[1] + " has no status address");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    Yaml.map(step.getOrDefault("metadata", Map.of())).forEach((name, value) ->
        metadata.put(name.toLowerCase(Locale.ROOT), String.valueOf(value)));
    return new Call(GatewayAddresses.connectTo(address, port), Yaml.string(step.get("authority")),
        Yaml.string(step.getOrDefault("method", "Echo")), metadata);
  }

  /** One kind of call: where to, with which authority, method and metadata. */
  private record Call(InetSocketAddress address, String authority, String method,
      Map<String, String> metadata) {

    Call withMetadata(Map<String, String> replacement) {
      return new Call(address, authority, method, replacement);
    }

    ManagedChannel dial() {
      NettyChannelBuilder builder = NettyChannelBuilder.forAddress(address).usePlaintext();
      if (authority != null) {
        builder.overrideAuthority(authority);
      }
      return builder.build();
    }

    Outcome invoke(ManagedChannel channel) {
      Metadata headers = new Metadata();
      metadata.forEach((name, value) ->
          headers.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value));
      try {
        byte[] answer = ClientCalls.blockingUnaryCall(
            ClientInterceptors.intercept(channel,
                MetadataUtils.newAttachHeadersInterceptor(headers)),
            GrpcEcho.method(method),
            CallOptions.DEFAULT.withDeadlineAfter(REQUEST_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS),
            new byte[0]);
        return new Outcome(Status.OK, GrpcEcho.Answer.parse(answer));
      } catch (StatusRuntimeException e) {
        return new Outcome(e.getStatus(), null);
      }
    }
  }
}
