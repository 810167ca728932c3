package io.tokenbroker.broker.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the packaged broker through the {@code bin/broker} launcher, as an operator would, in a separate
 * process: one-shot commands, or {@code serve} until it prints its ready line.
 */
final class BrokerProcess implements AutoCloseable {
  static final Path REPO_ROOT = Path.of("").toAbsolutePath().getParent();
  static final Path LAUNCHER = REPO_ROOT.resolve("bin/broker");
  private static final Pattern READY = Pattern.compile("broker ready: grpc=[^:]+:(\\d+)(?: \\(plaintext\\))? https=[^:]+:(\\d+)");

  record Result(int exitCode, String stdout, String stderr) {
    List<String> stderrLines() {
      return stderr.lines().filter(l -> !l.isBlank()).toList();
    }
  }

  private final Process process;
  private final int grpcPort;
  private final int httpsPort;
  private final StringBuffer output;

  private BrokerProcess(Process process, int grpcPort, int httpsPort, StringBuffer output) {
    this.process = process;
    this.grpcPort = grpcPort;
    this.httpsPort = httpsPort;
    this.output = output;
  }

  private static ProcessBuilder builder(Map<String, String> env, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(LAUNCHER.toString());
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command);
    Map<String, String> environment = pb.environment();
    environment.remove("SOFTHSM2_CONF");
    environment.remove("TOKENBROKER_HSM_PIN");
    environment.put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // The launcher's class-data sharing archive in the build directory, not in the user's ~/.cache.
    environment.put("TOKENBROKER_CDS_DIR", Path.of("target", "cds").toAbsolutePath().toString());
    // C1 only, for serve too: these tests are about behaviour, not speed, and about 40 broker starts with C2's
    // compile threads cost minutes of CPU on a 2-core machine. DistributionIT, the end-to-end tests and the
    // quickstart run the launcher's defaults.
    environment.put("TOKENBROKER_JAVA_OPTS", "-XX:TieredStopAtLevel=1");
    environment.put("TOKENBROKER_BROKER_JAR", System.getProperty("broker.jar",
        REPO_ROOT.resolve("broker/target/broker.jar").toString()));
    environment.putAll(env);
    return pb;
  }

  /** Runs a command to completion (at most two minutes). */
  static Result run(Map<String, String> env, String... args) throws IOException, InterruptedException {
    Process p = builder(env, List.of(args)).start();
    p.getOutputStream().close();
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
    if (!p.waitFor(2, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new IllegalStateException("broker " + String.join(" ", args) + " did not finish");
    }
    return new Result(p.exitValue(), out.join(), err.join());
  }

  static Result run(String... args) throws IOException, InterruptedException {
    return run(Map.of(), args);
  }

  private static String read(java.io.InputStream in) {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /** Starts {@code broker serve --home home} and waits for its ready line. */
  static BrokerProcess serve(Path home, String... extraArgs) throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(List.of("serve", "--home", home.toString()));
    args.addAll(List.of(extraArgs));
    Process p = builder(Map.of(), args).redirectErrorStream(true).start();
    p.getOutputStream().close();
    StringBuffer output = new StringBuffer();
    CompletableFuture<int[]> ready = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          output.append(line).append('\n');
          Matcher m = READY.matcher(line);
          if (m.find()) {
            ready.complete(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
          }
        }
      } catch (IOException ignored) {
        // process ended
      }
      ready.completeExceptionally(new IllegalStateException("broker serve exited before it was ready:\n" + output));
    }, "broker-output");
    reader.setDaemon(true);
    reader.start();
    try {
      int[] ports = ready.get(60, TimeUnit.SECONDS);
      return new BrokerProcess(p, ports[0], ports[1], output);
    } catch (Exception e) {
      p.destroyForcibly();
      throw new IllegalStateException("broker serve did not become ready: " + e.getMessage() + "\n" + output, e);
    }
  }

  int grpcPort() {
    return grpcPort;
  }

  int httpsPort() {
    return httpsPort;
  }

  String output() {
    return output.toString();
  }

  /** The operations listener's address from the ready line ("ops=HOST:PORT"). */
  java.net.InetSocketAddress opsAddress() {
    Matcher m = Pattern.compile("broker ready: .* ops=([^\\s:]+):(\\d+)").matcher(output);
    if (!m.find()) {
      throw new IllegalStateException("no ops= in the ready line:\n" + output);
    }
    return java.net.InetSocketAddress.createUnresolved(m.group(1), Integer.parseInt(m.group(2)));
  }

  /** SIGTERM and wait: the orderly stop an init system does. */
  int stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
    return process.waitFor();
  }

  /** SIGKILL: what a crash or power cut does to the process. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }

  static Map<String, String> env(String... keyValues) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      m.put(keyValues[i], keyValues[i + 1]);
    }
    return m;
  }

  static boolean isEmptyOrAbsent(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return true;
    }
    try (var s = Files.list(dir)) {
      return s.findAny().isEmpty();
    }
  }
}
