package io.tokenbroker.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The broker as an operator runs it: {@code bin/broker init} and {@code bin/broker serve} as child processes
 * (the launcher {@code exec}s the JVM, so the child's pid is the broker JVM's). {@code TOKENBROKER_BROKER_JAR}
 * and {@code TOKENBROKER_JAVA_OPTS} pass through from this process's environment.
 */
final class BrokerProcess implements AutoCloseable {
  private static final Pattern READY = Pattern.compile(
      "broker ready: grpc=(\\S+):(\\d+)(?: \\(plaintext\\))? https=(\\S+):(\\d+) issuer=(\\S+)");

  private final Process process;
  private final String grpcHost;
  private final int grpcPort;
  private final String issuer;
  private final Path log;

  private BrokerProcess(Process process, String grpcHost, int grpcPort, String issuer, Path log) {
    this.process = process;
    this.grpcHost = grpcHost;
    this.grpcPort = grpcPort;
    this.issuer = issuer;
    this.log = log;
  }

  private static ProcessBuilder builder(Path launcher, List<String> args, Map<String, String> extraEnv) {
    List<String> command = new ArrayList<>();
    command.add(launcher.toString());
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().remove("SOFTHSM2_CONF");
    pb.environment().remove("TOKENBROKER_HSM_PIN");
    pb.environment().putIfAbsent("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    pb.environment().putAll(extraEnv);
    return pb;
  }

  /** {@code bin/broker init --home home --grpc-port 0 --https-port 0}, at most two minutes. */
  static void init(Path launcher, Path home) throws IOException, InterruptedException {
    Process p = builder(launcher, List.of("init", "--home", home.toString(), "--grpc-port", "0", "--https-port",
        "0"), Map.of()).redirectErrorStream(true).start();
    p.getOutputStream().close();
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(p));
    if (!p.waitFor(2, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new IllegalStateException("broker init did not finish in 2 minutes");
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException("broker init failed (exit " + p.exitValue() + "): " + out.join());
    }
  }

  /** Appends settings to the home's broker.properties (before serve). */
  static void configure(Path home, Map<String, String> settings) throws IOException {
    if (settings.isEmpty()) {
      return;
    }
    StringBuilder sb = new StringBuilder("\n# added by the benchmark harness\n");
    settings.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
    Files.writeString(home.resolve("broker.properties"), sb, StandardOpenOption.APPEND);
  }

  /** {@code bin/broker serve --home home}; waits (at most 90 s) for its ready line. Output goes to {@code log}. */
  static BrokerProcess serve(Path launcher, Path home, Path log, Map<String, String> extraEnv)
      throws IOException, InterruptedException {
    Process p = builder(launcher, List.of("serve", "--home", home.toString()), extraEnv)
        .redirectErrorStream(true).start();
    p.getOutputStream().close();
    CompletableFuture<Matcher> ready = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
           Writer w = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
        String line;
        while ((line = r.readLine()) != null) {
          w.write(line);
          w.write('\n');
          w.flush();
          Matcher m = READY.matcher(line);
          if (m.find()) {
            ready.complete(m);
          }
        }
      } catch (IOException ignored) {
        // the process ended
      }
      ready.completeExceptionally(new IllegalStateException("broker serve exited before it was ready; see " + log));
    }, "broker-output");
    reader.setDaemon(true);
    reader.start();
    try {
      Matcher m = ready.get(90, TimeUnit.SECONDS);
      BrokerProcess b = new BrokerProcess(p, m.group(1), Integer.parseInt(m.group(2)), m.group(5), log);
      String comm = ProcStat.comm(p.pid());
      if (!comm.startsWith("java")) {
        throw new IllegalStateException("pid " + p.pid() + " is '" + comm + "', not the broker JVM");
      }
      return b;
    } catch (Exception e) {
      p.destroyForcibly();
      throw new IllegalStateException("broker serve did not become ready: " + e.getMessage(), e);
    }
  }

  long pid() {
    return process.pid();
  }

  String grpcHost() {
    return grpcHost;
  }

  int grpcPort() {
    return grpcPort;
  }

  String issuer() {
    return issuer;
  }

  /** The DPoP htu of the token endpoint: base URL + "/" + full gRPC method name. */
  String tokenHtu() {
    return issuer + "/tokenbroker.v1.TokenService/Token";
  }

  long cpuNanos() {
    return ProcStat.cpuNanos(process.pid());
  }

  double rssMiB() {
    return ProcStat.rssMiB(process.pid());
  }

  Path log() {
    return log;
  }

  /** SIGTERM, as an init system stops it; SIGKILL after 30 s. */
  void stop(PrintStream out) throws InterruptedException {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      out.println("  broker did not stop in 30 s after SIGTERM; killing pid " + process.pid());
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** SIGKILL if it is still running (after a failure); {@link #stop} is the orderly way. */
  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static String readAll(Process p) {
    try {
      return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }
}
