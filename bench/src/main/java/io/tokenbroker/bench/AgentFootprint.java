package io.tokenbroker.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The device agent as a device runs it, through {@code bin/device-agent} with its default JVM options
 * ({@code -Xmx32m} and the rest, see the launcher): its DPoP key and store key in a SoftHSM2 token of its own,
 * enrolled with {@code login} approved by the operator CLI against a broker started for it, then {@code run} with
 * 30-second access tokens refreshed at 5% of their lifetime, so that a minute holds a few dozen full rotations
 * (sealed state written and fsynced each time). Measured: the runnable jar's size, the time from starting
 * {@code run} to its first token (a refresh from the stored refresh token, the way a device starts after a
 * reboot), and the daemon's resident memory after the cycles.
 */
final class AgentFootprint {
  private static final Pattern USER_CODE = Pattern.compile("enter the code: ([B-Z]{4}-[B-Z]{4})");
  private static final String CLIENT_ID = "bench-agent";
  private static final String AUDIENCE = "https://telemetry.bench.test";
  /** Other JVM options for the agent, for experiments ({@code BENCH_AGENT_JAVA_OPTS}); unset: the launcher's. */
  private static final String JAVA_OPTS = System.getenv("BENCH_AGENT_JAVA_OPTS");

  private AgentFootprint() {}

  static Map<String, Object> measure(Path repo, Path brokerLauncher, Path dir, long runSeconds, PrintStream log)
      throws Exception {
    Map<String, Object> r = new LinkedHashMap<>();
    Path agentLauncher = repo.resolve("bin/device-agent");
    Path jar = Path.of(System.getenv().getOrDefault("DEVICE_AGENT_JAR",
        repo.resolve("device-agent/target/device-agent.jar").toString()));
    r.put("jar", jar.toString());
    r.put("jar_bytes", Files.size(jar));
    Path home = dir.resolve("broker-home");
    Files.createDirectories(dir);
    BrokerProcess.init(brokerLauncher, home);
    try (BrokerProcess broker = BrokerProcess.serve(brokerLauncher, home, dir.resolve("broker.log"), Map.of())) {
      String target = broker.grpcHost() + ":" + broker.grpcPort();
      run(List.of(brokerLauncher.toString(), "admin", "clients", "create", "--client-id", CLIENT_ID, "--name",
          "Bench agent", "--scope", "telemetry:write", "--audience", AUDIENCE, "--access-token-lifetime", "PT30S",
          "--home", home.toString(), "--target", target), Map.of(), 120);
      Path agentDir = dir.resolve("agent");
      Files.createDirectories(agentDir);
      Map<String, String> env = new LinkedHashMap<>(deviceToken(agentDir));
      // The launcher's class-data archive lives with the run, written by the first one-shot command (login).
      env.put("DEVICE_AGENT_CDS_DIR", Files.createDirectories(dir.resolve("cds")).toString());
      env.put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
      Path config = agentDir.resolve("agent.properties");
      Files.writeString(config, "broker.target=localhost:" + broker.grpcPort() + "\n"
          + "broker.external-url=https://localhost\n"
          + "broker.ca-file=" + home.resolve("tls/ca.crt") + "\n"
          + "client-id=" + CLIENT_ID + "\nstate-dir=state\n"
          + "pkcs11.config=" + agentDir.resolve("hsm/pkcs11.cfg") + "\n"
          + "refresh.fraction=0.05\nrefresh.jitter=0.01\n");
      List<String> agent = List.of(agentLauncher.toString(), "--config", config.toString());

      // Enrol: login prints the user code, the operator approves it.
      Process login = start(concat(agent, "login"), env);
      StringBuilder loginOut = new StringBuilder();
      CompletableFuture<String> code = new CompletableFuture<>();
      Thread reader = reader(login, line -> {
        loginOut.append(line).append('\n');
        Matcher m = USER_CODE.matcher(line);
        if (m.find()) {
          code.complete(m.group(1));
        }
      });
      String userCode = code.get(90, TimeUnit.SECONDS);
      run(List.of(brokerLauncher.toString(), "admin", "approve", userCode, "--owner", "bench", "--home",
          home.toString(), "--target", target), Map.of(), 120);
      if (!login.waitFor(90, TimeUnit.SECONDS) || login.exitValue() != 0) {
        login.destroyForcibly();
        throw new IllegalStateException("device-agent login failed:\n" + loginOut);
      }
      reader.join(5000);

      // run: time to the first token, then the cycles.
      long t0 = System.nanoTime();
      Process daemon = start(concat(agent, "run"), env);
      AtomicInteger refreshes = new AtomicInteger();
      AtomicLong firstTokenNanos = new AtomicLong(-1);
      StringBuilder daemonOut = new StringBuilder();
      Thread daemonReader = reader(daemon, line -> {
        synchronized (daemonOut) {
          if (daemonOut.length() < 200_000) {
            daemonOut.append(line).append('\n');
          }
        }
        if (line.contains("tokens refreshed")) {
          firstTokenNanos.compareAndSet(-1, System.nanoTime() - t0);
          refreshes.incrementAndGet();
        }
      });
      try {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (firstTokenNanos.get() < 0 && System.nanoTime() < deadline && daemon.isAlive()) {
          Thread.sleep(20);
        }
        if (firstTokenNanos.get() < 0) {
          throw new IllegalStateException("device-agent run got no token within 60 s:\n" + daemonOut);
        }
        double rssFirst = ProcStat.rssMiB(daemon.pid());
        long cpu0 = ProcStat.cpuNanos(daemon.pid());
        long w0 = System.nanoTime();
        Thread.sleep(TimeUnit.SECONDS.toMillis(runSeconds));
        long cpu1 = ProcStat.cpuNanos(daemon.pid());
        long w1 = System.nanoTime();
        if (!daemon.isAlive()) {
          throw new IllegalStateException("device-agent run stopped:\n" + daemonOut);
        }
        String comm = ProcStat.comm(daemon.pid());
        if (!comm.startsWith("java")) {
          throw new IllegalStateException("pid " + daemon.pid() + " is '" + comm + "', not the agent JVM");
        }
        Map<String, Long> status = status(daemon.pid());
        // Kept with the run for a per-mapping breakdown of the resident set (no secrets: addresses and sizes only).
        Files.copy(Path.of("/proc/" + daemon.pid() + "/smaps"), dir.resolve("agent-run.smaps"),
            StandardCopyOption.REPLACE_EXISTING);
        r.put("start_to_first_token_ms", Math.round(firstTokenNanos.get() / 1e6));
        r.put("rss_after_first_token_mib", Math.round(rssFirst * 10) / 10.0);
        r.put("refresh_cycles", refreshes.get());
        r.put("run_seconds", runSeconds);
        r.put("rss_mib", round1(status.get("VmRSS") / 1024.0));
        r.put("rss_anon_mib", round1(status.getOrDefault("RssAnon", 0L) / 1024.0));
        r.put("rss_file_mib", round1(status.getOrDefault("RssFile", 0L) / 1024.0));
        r.put("rss_peak_mib", round1(status.getOrDefault("VmHWM", 0L) / 1024.0));
        r.put("threads", status.getOrDefault("Threads", 0L));
        r.put("cpu_ms_per_refresh_window", Math.round((cpu1 - cpu0) / 1e6));
        r.put("cores_busy", Math.round((cpu1 - cpu0) / (double) (w1 - w0) * 1000) / 1000.0);
        r.put("jvm_options", JAVA_OPTS == null ? "bin/device-agent defaults (DEVICE_AGENT_JAVA_OPTS unset)" : JAVA_OPTS);
      } finally {
        daemon.destroy();
        if (!daemon.waitFor(30, TimeUnit.SECONDS)) {
          daemon.destroyForcibly();
        }
        daemonReader.join(5000);
      }
      broker.stop(log);
    }
    return r;
  }

  /** A SoftHSM2 token of the device's own; returns the environment agent commands need. */
  private static Map<String, String> deviceToken(Path agentDir) throws Exception {
    ThrowawayToken token = ThrowawayToken.create(Files.createDirectories(agentDir.resolve("hsm")), "bench-device",
        false);
    Map<String, String> env = Map.of("SOFTHSM2_CONF", token.softhsmConf().toString(), "DEVICE_AGENT_PKCS11_PIN",
        ThrowawayToken.PIN);
    Files.setPosixFilePermissions(agentDir, PosixFilePermissions.fromString("rwx------"));
    return env;
  }

  private static Map<String, Long> status(long pid) throws IOException {
    Map<String, Long> values = new LinkedHashMap<>();
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      String[] kv = line.split(":\\s+", 2);
      if (kv.length == 2) {
        String v = kv[1].replace(" kB", "").trim();
        if (v.matches("\\d+")) {
          values.put(kv[0], Long.parseLong(v));
        }
      }
    }
    return values;
  }

  private static double round1(double v) {
    return Math.round(v * 10) / 10.0;
  }

  private static List<String> concat(List<String> a, String... more) {
    List<String> all = new ArrayList<>(a);
    all.addAll(List.of(more));
    return all;
  }

  private static Process start(List<String> command, Map<String, String> env) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().remove("DEVICE_AGENT_JAVA_OPTS");
    if (JAVA_OPTS != null) {
      pb.environment().put("DEVICE_AGENT_JAVA_OPTS", JAVA_OPTS);
    }
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    return p;
  }

  private static Thread reader(Process p, java.util.function.Consumer<String> each) {
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          each.accept(line);
        }
      } catch (IOException ignored) {
        // the process ended
      }
    }, "agent-output");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** Runs a command to completion (at most {@code seconds}); returns its output; fails on a non-zero exit. */
  private static String run(List<String> command, Map<String, String> env, long seconds) throws Exception {
    Process p = start(command, env);
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
      try {
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "";
      }
    });
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command.subList(0, Math.min(3, command.size())))
          + " did not finish in " + seconds + " s");
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command.subList(0, Math.min(3, command.size())))
          + " failed (exit " + p.exitValue() + "): " + out.join().trim());
    }
    return out.join();
  }
}
