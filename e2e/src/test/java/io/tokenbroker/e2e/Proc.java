package io.tokenbroker.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A child process whose merged output is collected line by line, with bounded waits. */
final class Proc implements AutoCloseable {
  static final Path ROOT = Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize();
  static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

  record Result(int exitCode, String output) {}

  private final Process process;
  private final List<String> lines = new ArrayList<>();

  private Proc(Process process) {
    this.process = process;
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          synchronized (lines) {
            lines.add(line);
            lines.notifyAll();
          }
        }
      } catch (IOException ignored) {
        // process ended
      }
    }, "proc-output");
    reader.setDaemon(true);
    reader.start();
  }

  static Proc start(Map<String, String> env, List<String> command) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().remove("SOFTHSM2_CONF");
    pb.environment().put("JAVA", JAVA);
    // The launchers' class-data sharing archives in the build directory, not in the user's ~/.cache.
    pb.environment().put("TOKENBROKER_CDS_DIR", ROOT.resolve("e2e/target/cds").toString());
    pb.environment().put("DEVICE_AGENT_CDS_DIR", ROOT.resolve("e2e/target/cds").toString());
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    return new Proc(p);
  }

  static Result run(Map<String, String> env, List<String> command) throws Exception {
    try (Proc p = start(env, command)) {
      int code = p.waitFor(Duration.ofMinutes(2));
      return new Result(code, p.output());
    }
  }

  String output() {
    synchronized (lines) {
      return String.join("\n", lines);
    }
  }

  long countLines(Predicate<String> match) {
    synchronized (lines) {
      return lines.stream().filter(match).count();
    }
  }

  /** Waits until {@code count} lines match, or fails with the output so far. */
  String awaitLines(Predicate<String> match, int count, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lines) {
      while (true) {
        List<String> found = lines.stream().filter(match).toList();
        if (found.size() >= count) {
          return found.get(count - 1);
        }
        long left = deadline - System.nanoTime();
        if (left <= 0 || (!process.isAlive() && found.size() < count && drained())) {
          throw new AssertionError("expected output did not appear within " + timeout + " (alive="
              + process.isAlive() + "):\n" + String.join("\n", lines));
        }
        lines.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 200)));
      }
    }
  }

  private boolean drained() {
    try {
      return process.getInputStream().available() == 0;
    } catch (IOException e) {
      return true;
    }
  }

  int waitFor(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("process did not end within " + timeout + ":\n" + output());
    }
    Thread.sleep(50); // let the reader drain the last lines
    return process.exitValue();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  long pid() {
    return process.toHandle().descendants().filter(h -> h.info().command().orElse("").endsWith("java"))
        .findFirst().map(ProcessHandle::pid).orElse(process.pid());
  }

  /**
   * SIGKILL, as a power cut: {@link Process#destroyForcibly()} sends SIGKILL on Linux, and the exit status is then
   * 137 (128 + 9), which callers assert to be sure the process died of the signal and not by itself.
   */
  int kill() throws InterruptedException {
    process.destroyForcibly();
    return waitFor(Duration.ofSeconds(30));
  }

  /** SIGTERM, as an init system stops a service. */
  int stop() throws InterruptedException {
    process.destroy();
    return waitFor(Duration.ofSeconds(30));
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
