package io.portico.cli;

/**
 * Sets Netty's production defaults before any Netty class loads, unless the user set them
 * (-D on the command line wins): no reference-count and bounds check on every buffer access
 * (the refCnt read of {@code isAccessible} was 3.6% of the proxy's CPU samples under load, a
 * cache miss per access), no leak-detection sampling, and no JFR events for Netty's buffer
 * allocations: with them on (Netty's default whenever the JVM has JFR), Netty initializes the
 * flight recorder at start and registers its event classes, ~120 classes and 37 generated
 * ones loaded by every gateway for events no recording asks for (pass
 * {@code -Dio.netty.jfr.enabled=true} to record them). Tests start Portico without this
 * class, so they keep Netty's checks.
 */
final class NettyDefaults {

  private NettyDefaults() {
  }

  static void apply() {
    setIfAbsent("io.netty.buffer.checkAccessible", "false");
    setIfAbsent("io.netty.buffer.checkBounds", "false");
    setIfAbsent("io.netty.leakDetection.level", "disabled");
    setIfAbsent("io.netty.jfr.enabled", "false");
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
