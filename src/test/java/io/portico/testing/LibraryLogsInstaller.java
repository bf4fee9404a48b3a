package io.portico.testing;

import io.portico.proxy.LibraryLogs;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Installs {@link LibraryLogs} when the test run starts, before any test loads Netty or Vert.x,
 * as {@code main} does before it starts a gateway: their loggers are made when their classes
 * load, and the suite runs in one JVM.
 */
public final class LibraryLogsInstaller implements LauncherSessionListener {

  @Override
  public void launcherSessionOpened(LauncherSession session) {
    LibraryLogs.install();
  }
}
