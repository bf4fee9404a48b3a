package io.portico.conformance;

import io.portico.controller.GatewayState;
import io.vertx.core.json.JsonObject;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs the TCP and TLS-passthrough steps ({@code expectTcp}, {@code expectTcpConnect},
 * {@code expectTcpEcho}, {@code expectTcpSamples}, {@code expectTlsRejected}, and
 * {@code expectWeights} with {@code protocol: TCP}) with blocking sockets, speaking the TCP echo
 * dialogue of the conformance echo server.
 */
final class TcpSteps {

  private static final Duration MAX_TIME_TO_CONSISTENCY = Duration.ofSeconds(30);
  private static final Duration RETRY_INTERVAL = Duration.ofMillis(100);
  private static final int REQUEST_TIMEOUT_MILLIS = 10_000;

  private final CaseContext context;

  TcpSteps(CaseContext context) {
    this.context = context;
  }

  /** What one echo dialogue answered to TEST, and what IS_TLS said (null when not asked). */
  private record Answer(JsonObject test, Boolean isTls) {
    String pod() {
      return test.getString("pod", "");
    }
  }

  /**
   * upstream MakeTCPRequestAndExpectEventuallyValidResponse: IO errors are retried; the first
   * dialogue that completes is judged.
   */
  void expectTcp(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    int port = ((Number) step.get("port")).intValue();
    boolean tls = Boolean.TRUE.equals(step.get("tls"));
    String sni = Yaml.string(step.get("sni"));
    SSLContext trust = tls ? TrustMaterial.trusting(context.store(), Yaml.string(step.get("trust")))
        : null;
    Map<String, Object> expect = Yaml.map(step.get("expect"));
    Answer answer = retryUntilComplete("TCP dialogue with " + step.get("gateway") + ":" + port,
        () -> dialogue(address(gateway, port), trust, sni, true));
    String mismatch = mismatch(answer, expect);
    if (mismatch != null) {
      throw new StepFailure("TCP dialogue with " + step.get("gateway") + ":" + port + ": "
          + mismatch + " (answer " + answer.test().encode() + ", IS_TLS " + answer.isTls() + ")");
    }
  }

  private static String mismatch(Answer answer, Map<String, Object> expect) {
    Object backendIsTls = expect.get("backendIsTLS");
    if (backendIsTls != null && !Objects.equals(backendIsTls, answer.isTls())) {
      return "IS_TLS answered " + answer.isTls() + ", expected " + backendIsTls;
    }
    String namespace = Yaml.string(expect.get("namespace"));
    if (namespace != null && !namespace.equals(answer.test().getString("namespace"))) {
      return "namespace " + answer.test().getString("namespace") + ", expected " + namespace;
    }
    String backend = Yaml.string(expect.get("backend"));
    if (backend != null && !answer.pod().startsWith(backend + "-")) {
      return "pod " + answer.pod() + ", expected one of " + backend;
    }
    String hostname = Yaml.string(expect.get("hostname"));
    if (hostname != null) {
      JsonObject tls = answer.test().getJsonObject("tls");
      String serverName = tls == null ? null : tls.getString("serverName");
      if (!hostname.equals(serverName)) {
        return "backend saw SNI " + serverName + ", expected " + hostname;
      }
    }
    return null;
  }

  /** A TCP connection can be established (retried every 100 ms, up to 30 s). */
  void expectTcpConnect(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    int port = ((Number) step.get("port")).intValue();
    retryUntilComplete("TCP connection to " + step.get("gateway") + ":" + port, () -> {
      try (Socket socket = new Socket()) {
        socket.connect(address(gateway, port), REQUEST_TIMEOUT_MILLIS);
        return Boolean.TRUE;
      }
    });
  }

  /** One EchoSendOnce probe returns a pod name (retried every 100 ms, up to 30 s). */
  void expectTcpEcho(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    int port = ((Number) step.get("port")).intValue();
    retryUntilComplete("TCP echo through " + step.get("gateway") + ":" + port, () -> {
      Answer answer = dialogue(address(gateway, port), null, null, false);
      if (answer.pod().isEmpty()) {
        throw new IOException("no pod name in " + answer.test().encode());
      }
      return answer;
    });
  }

  /** Sequential EchoSendOnce probes; any error or pod outside the expected prefix fails. */
  void expectTcpSamples(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    int port = ((Number) step.get("port")).intValue();
    int count = ((Number) step.get("count")).intValue();
    String every = Yaml.string(step.get("everyPodPrefix"));
    String never = Yaml.string(step.get("neverPodPrefix"));
    InetSocketAddress address = address(gateway, port);
    for (int i = 0; i < count; i++) {
      Answer answer;
      try {
        answer = dialogue(address, null, null, false);
      } catch (IOException | RuntimeException e) {
        throw new StepFailure("probe " + (i + 1) + " of " + count + " failed: " + e);
      }
      String pod = answer.pod();
      if (every != null && !pod.startsWith(every) || never != null && pod.startsWith(never)) {
        throw new StepFailure("probe " + (i + 1) + " of " + count + " reached pod " + pod
            + " (expected " + every + "*, never " + never + "*)");
      }
    }
  }

  /**
   * upstream TLS dial with default trust: passes once the handshake ends with a reset or EOF;
   * a certificate error, a timeout or a completed handshake count as "not yet".
   */
  void expectTlsRejected(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    int port = ((Number) step.get("port")).intValue();
    String sni = Yaml.string(step.get("sni"));
    long deadline = System.nanoTime() + MAX_TIME_TO_CONSISTENCY.toNanos();
    String last = "no attempt";
    while (System.nanoTime() < deadline) {
      last = tlsRejection(address(gateway, port), sni);
      if (last == null) {
        return;
      }
      Poll.pause(RETRY_INTERVAL);
    }
    throw new StepFailure("TLS dial of " + step.get("gateway") + ":" + port + " with SNI " + sni
        + " was not rejected within " + MAX_TIME_TO_CONSISTENCY.toSeconds() + " s; last: " + last);
  }

  /** Returns null when the handshake ended in a reset or EOF, else what happened. */
  private static String tlsRejection(InetSocketAddress address, String sni) {
    try (Socket plain = new Socket()) {
      plain.connect(address, REQUEST_TIMEOUT_MILLIS);
      SSLSocket socket = (SSLSocket) SSLContext.getDefault().getSocketFactory()
          .createSocket(plain, sni, address.getPort(), true);
      socket.setSoTimeout(REQUEST_TIMEOUT_MILLIS);
      socket.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setServerNames(List.of(new SNIHostName(sni)));
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      return "the handshake completed";
    } catch (java.net.SocketTimeoutException e) {
      return "timeout: " + e;
    } catch (IOException e) {
      for (Throwable cause = e; cause != null; cause = cause.getCause()) {
        if (cause instanceof CertificateException
            || cause instanceof java.security.cert.CertPathValidatorException
            || cause.getClass().getName().contains("ValidatorException")) {
          return "certificate error: " + e;
        }
      }
      if (e instanceof EOFException || e instanceof SocketException
          || e instanceof SSLHandshakeException || e.getCause() instanceof EOFException
          || e.getCause() instanceof SocketException) {
        return null;
      }
      return "error: " + e;
    } catch (GeneralSecurityException e) {
      return "error: " + e;
    }
  }

  /**
   * {@code expectWeights} for TCP: each sample is one EchoSendOnce probe; the backend of a
   * pod is its name without the last two segments.
   */
  void expectWeights(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    int port = ((Number) step.get("port")).intValue();
    Map<String, Object> weights = Yaml.map(step.get("weights"));
    int requests = ((Number) step.getOrDefault("requests", 500)).intValue();
    int concurrency = ((Number) step.getOrDefault("concurrency", 10)).intValue();
    double tolerance = ((Number) step.getOrDefault("tolerance", 0.05)).doubleValue();
    int maxAttempts = ((Number) step.getOrDefault("maxAttempts", 10)).intValue();
    InetSocketAddress address = address(gateway, port);
    String last = "no attempt";
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    try {
      for (int attempt = 0; attempt < maxAttempts; attempt++) {
        last = weightsAttempt(pool, requests,
            () -> backendOf(dialogue(address, null, null, false).pod()), weights, tolerance);
        if (last == null) {
          return;
        }
      }
    } finally {
      pool.shutdownNow();
    }
    throw new StepFailure("weighted TCP traffic through " + step.get("gateway") + ":" + port
        + " did not match " + weights + " in " + maxAttempts + " attempts; last: " + last);
  }

  /**
   * One attempt of the expectWeights rule: {@code requests} samples on {@code pool}, each
   * answering the backend that served it; returns why the distribution does not follow
   * {@code weights} (or the first sample's failure), null when it does.
   */
  static String weightsAttempt(ExecutorService pool, int requests,
      java.util.concurrent.Callable<String> sample, Map<String, Object> weights,
      double tolerance) {
    List<Future<String>> samples = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      samples.add(pool.submit(sample));
    }
    Map<String, Integer> counts = new HashMap<>();
    String error = null;
    for (Future<String> done : samples) {
      try {
        counts.merge(done.get(), 1, Integer::sum);
      } catch (Exception e) {
        error = error == null ? "a sample failed: " + e.getCause() : error;
      }
    }
    return error != null ? error : distributionMismatch(counts, weights, requests, tolerance);
  }

  private static String distributionMismatch(Map<String, Integer> counts,
      Map<String, Object> weights, int requests, double tolerance) {
    for (String backend : counts.keySet()) {
      if (!weights.containsKey(backend)) {
        return "pods of unlisted backend " + backend + " answered; counts " + counts;
      }
    }
    long expectedBackends = weights.values().stream()
        .filter(w -> ((Number) w).doubleValue() > 0).count();
    if (counts.size() != expectedBackends) {
      return counts.size() + " backends got traffic, expected " + expectedBackends + "; counts "
          + counts;
    }
    for (Map.Entry<String, Object> weight : weights.entrySet()) {
      double share = counts.getOrDefault(weight.getKey(), 0) / (double) requests;
      if (Math.abs(share - ((Number) weight.getValue()).doubleValue()) > tolerance) {
        return weight.getKey() + " got " + share + " of the traffic; counts " + counts;
      }
    }
    return null;
  }

  /** The backend (Deployment) of a pod: its name without the last two segments. */
  static String backendOf(String pod) {
    String[] parts = pod.split("-");
    return parts.length <= 2 ? pod : String.join("-", java.util.Arrays.copyOf(parts,
        parts.length - 2));
  }

  /** A step body that may fail with an IO error (retried). */
  private interface Attempt<T> {
    T run() throws IOException, GeneralSecurityException;
  }

  private static <T> T retryUntilComplete(String what, Attempt<T> attempt) {
    long deadline = System.nanoTime() + MAX_TIME_TO_CONSISTENCY.toNanos();
    String last;
    while (true) {
      try {
        return attempt.run();
      } catch (StepFailure failure) {
        throw failure;
      } catch (IOException | GeneralSecurityException | RuntimeException e) {
        last = e.toString();
      }
      if (System.nanoTime() > deadline) {
        throw new StepFailure(what + ": no complete exchange within "
            + MAX_TIME_TO_CONSISTENCY.toSeconds() + " s; last error: " + last);
      }
      Poll.pause(RETRY_INTERVAL);
    }
  }

  private InetSocketAddress address(String[] gateway, int port) {
    GatewayState state = context.view().state();
    String address = GatewayAddresses.address(state, gateway[0], gateway[1]);
    if (address == null) {
      throw new StepFailure("Gateway " + gateway[0] + "/" + gateway[1] + " has no status address");
    }
    return GatewayAddresses.connectTo(address, port);
  }

  /**
   * One echo dialogue: (TLS handshake with SNI), welcome line, then PING/PONG and IS_TLS when
   * {@code full}, then TEST and its JSON answer.
   */
  private static Answer dialogue(InetSocketAddress address, SSLContext tls, String sni,
      boolean full) throws IOException {
    Socket plain = new Socket();
    Socket socket = plain;
    try {
      plain.connect(address, REQUEST_TIMEOUT_MILLIS);
      plain.setSoTimeout(REQUEST_TIMEOUT_MILLIS);
      if (tls != null) {
        SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(plain,
            sni == null ? address.getHostString() : sni, address.getPort(), true);
        ssl.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
        if (sni != null) {
          SSLParameters parameters = ssl.getSSLParameters();
          parameters.setServerNames(List.of(new SNIHostName(sni)));
          ssl.setSSLParameters(parameters);
        }
        ssl.startHandshake();
        socket = ssl;
      }
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
          StandardCharsets.UTF_8));
      OutputStream out = socket.getOutputStream();
      expectLine(in, "Gateway API Test TCP Server");
      Boolean isTls = null;
      if (full) {
        send(out, "PING");
        expectLine(in, "PONG");
        send(out, "IS_TLS");
        isTls = Boolean.parseBoolean(readLine(in));
      }
      send(out, "TEST");
      JsonObject test;
      try {
        test = new JsonObject(readLine(in));
      } catch (io.vertx.core.json.DecodeException e) {
        throw new IOException("TEST answer is not JSON: " + e.getMessage());
      }
      return new Answer(test, isTls);
    } finally {
      socket.close();
    }
  }

  private static void send(OutputStream out, String line) throws IOException {
    out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  private static String readLine(BufferedReader in) throws IOException {
    String line = in.readLine();
    if (line == null) {
      throw new EOFException("connection closed");
    }
    return line.strip();
  }

  private static void expectLine(BufferedReader in, String expected) throws IOException {
    String line = readLine(in);
    if (!expected.equals(line)) {
      throw new IOException("expected '" + expected + "', got '" + line + "'");
    }
  }
}
