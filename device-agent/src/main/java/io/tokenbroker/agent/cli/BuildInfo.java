package io.tokenbroker.agent.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.jar.Manifest;

/** The version and git commit recorded in the runnable jar's manifest at build time. */
final class BuildInfo {
  private BuildInfo() {}

  /** "0.1.0 (commit 0123456789ab)", "(..., modified)" for a build from a dirty tree, or "development build". */
  static String describe(Class<?> fromJar) {
    Manifest manifest = manifestOf(fromJar);
    String version = manifest == null ? null : manifest.getMainAttributes().getValue("Implementation-Version");
    if (version == null) {
      return "development build";
    }
    String commit = manifest.getMainAttributes().getValue("Implementation-Commit");
    boolean dirty = "true".equals(manifest.getMainAttributes().getValue("Implementation-Commit-Dirty"));
    boolean knownCommit = commit != null && !commit.isBlank() && !commit.startsWith("${");
    return version + " (commit " + (knownCommit ? commit : "unknown") + (knownCommit && dirty ? ", modified" : "")
        + ")";
  }

  private static Manifest manifestOf(Class<?> type) {
    URL location = type.getProtectionDomain().getCodeSource() == null ? null
        : type.getProtectionDomain().getCodeSource().getLocation();
    if (location == null || !location.getPath().endsWith(".jar")) {
      return null;
    }
    try (InputStream in = java.net.URI.create("jar:" + location + "!/META-INF/MANIFEST.MF").toURL().openStream()) {
      return new Manifest(in);
    } catch (IOException e) {
      return null;
    }
  }
}
