package io.tokenbroker.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** What the figures were measured on. */
final class Machine {
  private Machine() {}

  static Map<String, Object> describe() {
    String softhsm = run(null, "softhsm2-util", "--version");
    return Json.obj(
        "cores", Runtime.getRuntime().availableProcessors(),
        "cpu", cpuModel(),
        "memory_mib", memTotalMiB(),
        "os", osName(),
        "kernel", read("/proc/sys/kernel/osrelease"),
        "jdk", System.getProperty("java.vm.vendor") + " " + System.getProperty("java.vm.name") + " "
            + System.getProperty("java.runtime.version"),
        "jdk_home", System.getProperty("java.home"),
        "jdk_note", "the broker JVM, the load generator and the ceiling child all run on this JDK",
        "softhsm", softhsm == null ? "unknown" : softhsm.strip(),
        "loopback_only", true);
  }

  private static String cpuModel() {
    String info = read("/proc/cpuinfo");
    if (info == null) {
      return "unknown";
    }
    return info.lines().filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).trim())
        .findFirst().orElse("unknown");
  }

  private static long memTotalMiB() {
    String info = read("/proc/meminfo");
    if (info == null) {
      return -1;
    }
    return info.lines().filter(l -> l.startsWith("MemTotal:"))
        .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024).findFirst().orElse(-1L);
  }

  private static String osName() {
    String rel = read("/etc/os-release");
    if (rel == null) {
      return System.getProperty("os.name");
    }
    return rel.lines().filter(l -> l.startsWith("PRETTY_NAME=")).map(l -> l.substring(12).replace("\"", ""))
        .findFirst().orElse(System.getProperty("os.name"));
  }

  private static String read(String path) {
    try {
      return Files.readString(Path.of(path)).strip();
    } catch (Exception e) {
      return null;
    }
  }

  /** Runs a short command; its trimmed output, or null when it fails. */
  static String run(Path dir, String... command) {
    try {
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
      if (dir != null) {
        pb.directory(dir.toFile());
      }
      Process p = pb.start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return null;
      }
      return out;
    } catch (Exception e) {
      return null;
    }
  }
}
