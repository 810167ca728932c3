package io.tokenbroker.bench;

import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The benchmark harness's entry point: a closed-loop load generator against a real broker process (started
 * through {@code bin/broker}), the crypto ceiling, the scale runs and the Keycloak peer. See
 * {@code bench/README.md} or {@code --help}.
 */
public final class LoadGenerator {
  private static final PrintStream OUT = System.out;
  private static final String CLIENT_ID = "demo-device";

  private final Options o;
  private final Map<String, Object> results = new LinkedHashMap<>();
  private final List<String> notes = new ArrayList<>();
  private final long startNanos = System.nanoTime();
  private final Path work;

  private LoadGenerator(Options o) throws IOException {
    this.o = o;
    this.work = o.work != null ? o.work : Files.createTempDirectory("tokenbroker-bench-");
    Files.createDirectories(work);
  }

  public static void main(String[] args) throws Exception {
    Options o;
    try {
      o = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("bench: error: " + e.getMessage());
      System.err.println(Options.USAGE);
      System.exit(2);
      return;
    }
    if (o.help) {
      OUT.println(Options.USAGE);
      return;
    }
    // Stopped mid-run (SIGTERM, SIGINT), the harness takes its children with it: a broker left serving would keep
    // a core busy with its home deleted under it and skew the next run (it happened).
    Runtime.getRuntime().addShutdownHook(new Thread(
        () -> ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly), "bench-children"));
    LoadGenerator g = new LoadGenerator(o);
    int rc;
    try {
      rc = g.run();
    } finally {
      g.cleanUp();
    }
    System.exit(rc);
  }

  private int run() throws Exception {
    OUT.println("bench: work directory " + work + "; mode " + o.mode);
    results.put("generated_at", OffsetDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.SECONDS).toString());
    results.put("machine", Machine.describe());
    results.put("broker_build", brokerBuild());
    results.put("settings", o.toJson());
    boolean all = o.mode.equals("all");
    if (all || o.mode.equals("ceiling")) {
      phase("ceiling", this::ceiling);
    }
    if (all || o.mode.equals("verifier")) {
      phase("verifier", this::verifier);
    }
    if (all || o.mode.equals("micro")) {
      phase("micro", this::micro);
    }
    if (all || o.mode.equals("broker")) {
      phase("broker", this::brokerRun);
    }
    if (all || o.mode.equals("agent")) {
      phase("agent", this::agent);
    }
    if (all || o.mode.equals("scale")) {
      phase("scale", this::scale);
    }
    if ((all && o.peer != null) || o.mode.equals("peer")) {
      phase("peer", this::peer);
    } else if (all) {
      results.put("peer", Json.obj("status", "skipped", "reason", "--no-peer"));
    }
    derive();
    if (results.get("derived") instanceof Map<?, ?> d) {
      OUT.printf("bench: refresh at c=%s = %s/s = %.1f%% of the crypto ceiling (%s grants/s); broker CPU %s µs "
              + "per token, of which signing + proof verification %s µs%n", d.get("refresh_concurrency"),
          d.get("refresh_per_s"), ((Number) d.get("fraction_of_ceiling")).doubleValue() * 100,
          d.get("ceiling_grants_per_s"), d.get("broker_cpu_us_per_token"), d.get("crypto_cpu_us_per_token"));
    }
    results.put("notes", notes);
    results.put("total_seconds", Math.round(elapsedSeconds()));
    Report.write(o.out, o.reportName, results);
    OUT.printf("bench: done in %.0f s; wrote %s and %s%n", elapsedSeconds(),
        o.out.resolve(o.reportName + ".md"), o.out.resolve(o.reportName + ".json"));
    return 0;
  }

  interface Phase {
    void run() throws Exception;
  }

  private void phase(String name, Phase p) {
    OUT.printf("== %s (t=%.0f s)%n", name, elapsedSeconds());
    try {
      p.run();
    } catch (Exception e) {
      OUT.println("bench: phase " + name + " failed: " + e);
      e.printStackTrace(OUT);
      Object existing = results.get(name);
      if (existing instanceof Map<?, ?> m) {
        @SuppressWarnings("unchecked")
        Map<String, Object> mm = (Map<String, Object>) m;
        mm.put("error", String.valueOf(e.getMessage()));
      } else {
        results.put(name, Json.obj("error", String.valueOf(e.getMessage())));
      }
    }
    try {
      // Partial results survive a later failure.
      Report.write(o.out, o.reportName, results);
    } catch (IOException e) {
      OUT.println("bench: cannot write partial results: " + e.getMessage());
    }
  }

  // ---------------------------------------------------------------- ceiling

  private void ceiling() throws Exception {
    Map<String, Object> r = CryptoCeiling.measure(work.resolve("ceiling"), o.ceilingWarmupMs, o.ceilingMeasureMs, OUT);
    Map<String, Object> c = new LinkedHashMap<>(r);
    double sign1 = (Double) r.get("sign_t1_per_s");
    double verify1 = (Double) r.get("verify_t1_per_s");
    int cores = Runtime.getRuntime().availableProcessors();
    double signUs = 1e6 / sign1;
    double verifyUs = 1e6 / verify1;
    double ceiling = cores * 1e6 / (signUs + verifyUs);
    c.put("sign_cpu_us", round1(signUs));
    c.put("verify_cpu_us", round1(verifyUs));
    c.put("cores", cores);
    c.put("ceiling_grants_per_s", Math.round(ceiling));
    c.put("formula", cores + " cores / (1/sign_t1_per_s + 1/verify_t1_per_s)");
    double signThreadUs = (Double) r.get("sign_t1_cpu_us");
    double verifyThreadUs = (Double) r.get("verify_t1_cpu_us");
    c.put("ceiling_from_thread_cpu_per_s", Math.round(cores * 1e6 / (signThreadUs + verifyThreadUs)));
    results.put("ceiling", c);
    OUT.printf("  ES256 sign (SoftHSM via SunPKCS11): %.0f/s (1 thread), %.0f/s (2 threads)%n", sign1,
        r.get("sign_t2_per_s"));
    OUT.printf("  ES256 verify (Bouncy Castle key object): %.0f/s (1 thread), %.0f/s (2 threads)%n", verify1,
        r.get("verify_t2_per_s"));
    OUT.printf("  crypto ceiling for one grant: %d cores / (%.1f + %.1f µs) = %.0f grants/s%n", cores, signUs,
        verifyUs, ceiling);
  }

  // ---------------------------------------------------------------- verifier library

  private void verifier() throws Exception {
    Map<String, Object> r = VerifierThroughput.measure(o.ceilingWarmupMs, o.ceilingMeasureMs, OUT);
    Map<String, Object> v = new LinkedHashMap<>(r);
    for (int t : new int[] {1, 2}) {
      double rate = (Double) r.get("verifier_t" + t + "_per_s");
      double raw = (Double) r.get("raw_t" + t + "_per_s");
      v.put("fraction_of_raw_t" + t, Math.round(rate / raw * 1000) / 1000.0);
      OUT.printf("  verify access token + DPoP proof, %d thread(s): %.0f/s = %.1f%% of two raw ES256 verifications "
          + "(%.0f/s); %.1f µs of thread CPU per request%n", t, rate, rate / raw * 100, raw,
          r.get("verifier_t" + t + "_cpu_us"));
    }
    results.put("verifier", v);
  }

  // ---------------------------------------------------------------- JMH micro-benchmarks

  private void micro() throws Exception {
    Map<String, Object> m = HotPathBenchmarks.measure(Files.createDirectories(work.resolve("micro")), OUT);
    results.put("micro", m);
    OUT.printf("  µs/op: mint access token %s (HSM signature alone %s); DPoP proof %s, access token %s, key lookup "
        + "%s (one raw ES256 verify %s)%n", m.get("micro_mintAccessToken_us"), m.get("micro_hsmSign_us"),
        m.get("micro_validateDpopProof_us"), m.get("micro_validateAccessToken_us"),
        m.get("micro_lookUpSigningKey_us"), m.get("micro_verifyEs256Raw_us"));
  }

  // ---------------------------------------------------------------- device agent

  private void agent() throws Exception {
    Map<String, Object> a = AgentFootprint.measure(o.repo, o.launcher, work.resolve("agent"), o.agentSeconds, OUT);
    results.put("agent", a);
    OUT.printf("  device-agent: jar %.1f MiB; run: first token %s ms after start; after %s refresh cycles in %s s: "
            + "RSS %s MiB (anon %s, file %s), peak %s MiB%n", ((Number) a.get("jar_bytes")).longValue() / 1048576.0,
        a.get("start_to_first_token_ms"), a.get("refresh_cycles"), a.get("run_seconds"), a.get("rss_mib"),
        a.get("rss_anon_mib"), a.get("rss_file_mib"), a.get("rss_peak_mib"));
  }

  // ---------------------------------------------------------------- broker: refresh levels + device flow

  private void brokerRun() throws Exception {
    Map<String, Object> section = new LinkedHashMap<>();
    results.put("broker", section);
    Path home = work.resolve("main/home");
    Files.createDirectories(home.getParent());
    BrokerProcess.init(o.launcher, home);
    BrokerProcess.configure(home, o.brokerProps);
    Map<String, String> env = new LinkedHashMap<>();
    if (o.jfr) {
      Path jfr = work.resolve("main/broker.jfr");
      env.put("TOKENBROKER_JAVA_OPTS", (System.getenv().getOrDefault("TOKENBROKER_JAVA_OPTS", "")
          + " -XX:FlightRecorderOptions=stackdepth=256 -XX:StartFlightRecording=filename=" + jfr
          + ",settings=profile,dumponexit=true").trim());
      section.put("jfr", jfr.toString());
    }
    try (BrokerProcess broker = BrokerProcess.serve(o.launcher, home, work.resolve("main/broker.log"), env);
         Fleet fleet = new Fleet(home, broker)) {
      section.put("issuer", broker.issuer());
      section.put("rss_mib_after_start", round1(broker.rssMiB()));
      int maxLevel = o.levels.stream().max(Integer::compare).orElse(1);
      long t0 = System.nanoTime();
      fleet.enrol(maxLevel);
      OUT.printf("  enrolled %d devices through the device flow in %.1f s%n", maxLevel, (System.nanoTime() - t0) / 1e9);
      if (o.jitWarmup > 0) {
        // A fresh broker JVM needs about a minute of load before C2 has compiled its hot paths on 2 cores;
        // without this the first level (c=1) would measure the JIT as much as the broker.
        int warmC = Math.min(8, maxLevel);
        OUT.printf("  JIT warm-up: %d s of refresh grants at c=%d (not a result)%n", o.jitWarmup, warmC);
        ClosedLoop.run("jit-warmup", warmC, Duration.ZERO, Duration.ofSeconds(o.jitWarmup), o.maxRequests, grace(),
            broker.pid(), w -> fleet.devices.get(w).refreshOrReenrol());
        section.put("jit_warmup_s", o.jitWarmup);
      }
      List<Map<String, Object>> cells = new ArrayList<>();
      section.put("refresh", cells);
      for (int c : o.levels) {
        ClosedLoop.Result r = ClosedLoop.run("refresh-c" + c, c, Duration.ofSeconds(o.warmup),
            Duration.ofSeconds(o.measure), o.maxRequests, grace(), broker.pid(),
            w -> fleet.devices.get(w).refreshOrReenrol());
        print("refresh", r);
        cells.add(r.toJson());
      }
      ClosedLoop.Result flow = ClosedLoop.run("device-flow", o.flowConcurrency, Duration.ofSeconds(o.flowWarmup),
          Duration.ofSeconds(o.flowMeasure), o.maxRequests, grace(), broker.pid(),
          w -> fleet.newDevice(w % fleet.channels.size()).enrol());
      print("device flow", flow);
      Map<String, Object> flowJson = flow.toJson();
      flowJson.put("what", "StartDeviceAuthorization + ApproveDeviceAuthorization (operator, mTLS) + Token "
          + "(device_code grant, DPoP); per_s = completed flows/s; latency = whole flow");
      section.put("device_flow", flowJson);
      section.put("rss_mib_after_load", round1(broker.rssMiB()));
      broker.stop(OUT);
    }
  }

  // ---------------------------------------------------------------- scale

  private void scale() throws Exception {
    List<Map<String, Object>> rows = new ArrayList<>();
    results.put("scale", rows);
    List<Long> counts = new ArrayList<>(o.scaleCounts);
    for (int i = 0; i < counts.size(); i++) {
      long count = counts.get(i);
      Map<String, Object> row = new LinkedHashMap<>();
      rows.add(row);
      row.put("families_requested", count);
      try {
        scaleOne(count, row, i == counts.size() - 1);
      } catch (Exception e) {
        OUT.println("  scale " + count + " failed: " + e);
        row.put("error", String.valueOf(e.getMessage()));
      }
    }
  }

  private void scaleOne(long count, Map<String, Object> row, boolean last) throws Exception {
    Path dir = work.resolve("scale-" + count);
    Path home = dir.resolve("home");
    Files.createDirectories(dir);
    BrokerProcess.init(o.launcher, home);
    BrokerProcess.configure(home, o.brokerProps);
    // What the rest of the run needs after the seeding: serve + enrol + the cell (+ the peer).
    long cellSeconds = o.scaleWarmup + 5 + o.scaleMeasure + 25;
    long after = last ? cellSeconds + peerEstimateSeconds() : cellSeconds * 2 + peerEstimateSeconds();
    long budget = Math.min(o.seedBudget, (long) remainingSeconds() - after);
    if (budget < 5) {
      row.put("skipped", "no time left in the run budget for seeding");
      notes.add("scale " + count + ": skipped, the run budget was spent");
      return;
    }
    OUT.printf("  seeding %,d devices/families (budget %d s) ...%n", count, budget);
    Seeder.Outcome seeded = Seeder.seed(home, CLIENT_ID, count, Duration.ofSeconds(budget), OUT);
    row.put("families_seeded", seeded.seeded());
    row.put("seed_seconds", round1(seeded.seconds()));
    row.put("seed_families_per_s", Math.round(seeded.rowsPerSecond()));
    row.put("db_mib", round1(seeded.dbBytes() / 1048576.0));
    OUT.printf("  seeded %,d in %.1f s (%.0f families/s, 3 rows each), database %.0f MiB%n", seeded.seeded(),
        seeded.seconds(), seeded.rowsPerSecond(), seeded.dbBytes() / 1048576.0);
    if (seeded.budgetHit()) {
      String note = String.format("scale: asked for %,d families, seeded %,d in the %d s seeding budget "
          + "(%.0f/s); the row says so", count, seeded.seeded(), budget, seeded.rowsPerSecond());
      notes.add(note);
      row.put("note", "seeding budget reached: " + seeded.seeded() + " of " + count);
    }
    long t0 = System.nanoTime();
    try (BrokerProcess broker = BrokerProcess.serve(o.launcher, home, dir.resolve("broker.log"), Map.of());
         Fleet fleet = new Fleet(home, broker)) {
      row.put("serve_ready_s", round1((System.nanoTime() - t0) / 1e9));
      fleet.enrol(o.scaleConcurrency);
      // JIT warm-up at c=8 (the compiler threads get more of the 2 cores than under 32 busy workers), then the
      // cell's own warm-up at its concurrency.
      int jitC = Math.min(8, o.scaleConcurrency);
      ClosedLoop.run("scale-jit", jitC, Duration.ZERO, Duration.ofSeconds(o.scaleWarmup), o.maxRequests, grace(),
          broker.pid(), w -> fleet.devices.get(w).refreshOrReenrol());
      ClosedLoop.Result r = ClosedLoop.run("scale-" + count, o.scaleConcurrency, Duration.ofSeconds(5),
          Duration.ofSeconds(o.scaleMeasure), o.maxRequests, grace(), broker.pid(),
          w -> fleet.devices.get(w).refreshOrReenrol());
      print("refresh @" + seeded.seeded(), r);
      row.put("refresh", r.toJson());
      row.put("rss_mib_after_load", round1(broker.rssMiB()));
      broker.stop(OUT);
    }
    deleteTree(dir);
  }

  // ---------------------------------------------------------------- peer

  private long peerEstimateSeconds() {
    if (o.peer == null) {
      return 0;
    }
    // What the peer needs at least: start-up (40 s on a fresh unpack, less later) and what peer() asks for
    // after it. Seeding comes first; the peer's warm-up gets whatever is left after it.
    return 60 + peerNeededAfterStart();
  }

  /** Realm set-up, a 20 s warm-up, the levels, stop: what {@link #peer} wants left once Keycloak is up. */
  private long peerNeededAfterStart() {
    return 20 + (long) o.peerLevels.size() * (o.peerLevelWarmup + o.peerMeasure + 3) + 30;
  }

  private void peer() throws Exception {
    Map<String, Object> section = new LinkedHashMap<>();
    results.put("peer", section);
    section.put("name", "keycloak");
    Path setup = o.repo.resolve("bench/keycloak/setup.sh");
    Path envFile = o.cacheDir.resolve("keycloak.env");
    long needed = peerNeededAfterStart();
    long forStart = (long) remainingSeconds() - needed;
    if (o.mode.equals("all") && forStart < 60) {
      section.put("status", "skipped");
      section.put("reason", "run budget spent (" + Math.round(remainingSeconds()) + " s left)");
      OUT.println("  peer: skipped, the run budget is spent");
      return;
    }
    boolean started = false;
    boolean reused = false;
    // A harness stopped mid-run (SIGTERM, SIGINT) stops the Keycloak it started. Keycloak is not a descendant
    // (setup.sh detaches it), and a stop script started from a hook could be killed by the other hook, so this
    // signals its pid directly.
    Thread peerReaper = new Thread(() -> {
      try {
        if (Files.exists(envFile)) {
          ProcessHandle.of(KeycloakPeer.load(envFile).pid()).ifPresent(ProcessHandle::destroy);
        }
      } catch (Exception ignored) {
        // nothing more to do while the JVM exits
      }
    }, "keycloak-reaper");
    try {
      if (o.mode.equals("peer") && Files.exists(envFile)
          && ProcessHandle.of(KeycloakPeer.load(envFile).pid()).map(ProcessHandle::isAlive).orElse(false)) {
        reused = true;
        OUT.println("  using the Keycloak already started by setup.sh (" + envFile + "); it is left running");
      } else {
        OUT.println("  starting Keycloak with " + setup + " start ...");
        Runtime.getRuntime().addShutdownHook(peerReaper);
        String out = runScript(setup, "start", Math.max(60, Math.min(300, forStart)));
        started = true;
        OUT.println(indent(out));
      }
      KeycloakPeer.Config cfg = KeycloakPeer.load(envFile);
      section.put("ready_after_s", cfg.readySeconds());
      section.put("version", cfg.version());
      section.put("java_home", cfg.javaHome());
      section.put("token_url", cfg.tokenUrl());
      KeycloakPeer peer = new KeycloakPeer(cfg);
      int maxLevel = o.peerLevels.stream().max(Integer::compare).orElse(1);
      List<KeycloakPeer.Chain> chains = new ArrayList<>();
      for (int i = 0; i < maxLevel; i++) {
        KeycloakPeer.Chain chain = peer.new Chain();
        chain.login();
        chains.add(chain);
      }
      OUT.printf("  %d DPoP-bound refresh chains from the password grant%n", maxLevel);
      int warmC = Math.min(8, maxLevel);
      long warmup = o.peerWarmup;
      if (o.mode.equals("all")) {
        // PEERS.md: Keycloak needs about 4 minutes of warm-up on 2 cores; spend whatever the budget leaves.
        long levelsSeconds = (long) o.peerLevels.size() * (o.peerLevelWarmup + o.peerMeasure + 3) + 15;
        warmup = Math.max(20, Math.min(240, (long) remainingSeconds() - levelsSeconds));
        if (warmup < 240) {
          notes.add("Keycloak got " + warmup + " s of warm-up at c=8 (what the 10-minute budget left); PEERS.md "
              + "says it needs about 4 minutes on 2 cores, so its figures here are a lower bound.");
        }
      }
      OUT.printf("  peer warm-up: %d s at c=%d ...%n", warmup, warmC);
      ClosedLoop.Result warm = ClosedLoop.run("peer-warmup", warmC, Duration.ZERO, Duration.ofSeconds(warmup),
          o.maxRequests, grace(), cfg.pid(), w -> chains.get(w).refreshOrLogin());
      print("peer warm-up (not a result)", warm);
      section.put("warmup_s", warmup);
      section.put("warmup_last_rate_note", "rate over the whole warm-up: " + Math.round(warm.rate()) + "/s");
      List<Map<String, Object>> cells = new ArrayList<>();
      section.put("refresh", cells);
      for (int c : o.peerLevels) {
        ClosedLoop.Result r = ClosedLoop.run("peer-c" + c, c, Duration.ofSeconds(o.peerLevelWarmup),
            Duration.ofSeconds(o.peerMeasure), o.maxRequests, grace(), cfg.pid(),
            w -> chains.get(w).refreshOrLogin());
        print("keycloak refresh", r);
        cells.add(r.toJson());
      }
      section.put("rss_mib_after_load", round1(ProcStat.rssMiB(cfg.pid())));
      section.put("status", "measured");
    } catch (Exception e) {
      section.put("status", started ? "failed" : "skipped");
      section.put("reason", firstLine(e.getMessage()));
      OUT.println("  peer: " + (started ? "failed" : "skipped") + ": " + firstLine(e.getMessage()));
    } finally {
      if (!reused && (started || Files.exists(envFile))) {
        try {
          runScript(setup, "stop", 60);
        } catch (Exception e) {
          OUT.println("  peer: stop failed: " + e.getMessage());
        }
      }
      try {
        Runtime.getRuntime().removeShutdownHook(peerReaper);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run
      }
    }
  }

  private String runScript(Path script, String arg, long timeoutSeconds) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), arg).redirectErrorStream(true);
    pb.environment().put("TOKENBROKER_BENCH_CACHE", o.cacheDir.toString());
    Process p = pb.start();
    p.getOutputStream().close();
    Path log = work.resolve("keycloak-" + arg + ".log");
    Thread copier = new Thread(() -> {
      try {
        Files.copy(p.getInputStream(), log, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException ignored) {
        // process ended
      }
    });
    copier.setDaemon(true);
    copier.start();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroy();
      p.waitFor(10, TimeUnit.SECONDS);
      throw new IllegalStateException(script.getFileName() + " " + arg + " did not finish in " + timeoutSeconds
          + " s (log " + log + ")");
    }
    copier.join(5_000);
    String out = Files.exists(log) ? Files.readString(log) : "";
    if (p.exitValue() != 0) {
      String[] lines = out.strip().split("\n");
      throw new IllegalStateException(lines[lines.length - 1]);
    }
    return out.strip();
  }

  // ---------------------------------------------------------------- derived figures

  @SuppressWarnings("unchecked")
  private void derive() {
    Object ceilingObj = results.get("ceiling");
    Object brokerObj = results.get("broker");
    if (!(ceilingObj instanceof Map<?, ?> ceiling) || !(brokerObj instanceof Map<?, ?> broker)
        || !ceiling.containsKey("ceiling_grants_per_s") || !(broker.get("refresh") instanceof List<?> cells)) {
      return;
    }
    Map<String, Object> best = null;
    Map<String, Object> atMax = null;
    int maxC = 0;
    for (Object cell : cells) {
      Map<String, Object> m = (Map<String, Object>) cell;
      int c = ((Number) m.get("concurrency")).intValue();
      if (c >= maxC) {
        maxC = c;
        atMax = m;
      }
      if (best == null || ((Number) m.get("per_s")).doubleValue() > ((Number) best.get("per_s")).doubleValue()) {
        best = m;
      }
    }
    if (atMax == null) {
      return;
    }
    double ceilingRate = ((Number) ceiling.get("ceiling_grants_per_s")).doubleValue();
    double rate = ((Number) atMax.get("per_s")).doubleValue();
    double cryptoUs = ((Number) ceiling.get("sign_cpu_us")).doubleValue()
        + ((Number) ceiling.get("verify_cpu_us")).doubleValue();
    double brokerUs = ((Number) atMax.get("server_cpu_us_per_op")).doubleValue();
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("refresh_concurrency", maxC);
    d.put("refresh_per_s", rate);
    d.put("ceiling_grants_per_s", ceilingRate);
    d.put("fraction_of_ceiling", Math.round(rate / ceilingRate * 1000) / 1000.0);
    d.put("broker_cpu_us_per_token", brokerUs);
    d.put("crypto_cpu_us_per_token", round1(cryptoUs));
    d.put("crypto_share_of_broker_cpu", brokerUs == 0 ? null : Math.round(cryptoUs / brokerUs * 1000) / 1000.0);
    int cores = ((Number) ceiling.get("cores")).intValue();
    d.put("broker_only_rate_bound_per_s", brokerUs == 0 ? null : Math.round(cores * 1e6 / brokerUs));
    d.put("broker_only_rate_bound_note", "cores / broker CPU per token: the rate if the broker had both cores "
        + "to itself (the load generator shares them here)");
    results.put("derived", d);
  }

  // ---------------------------------------------------------------- helpers

  /** The fleet of one broker: channels, the operator's channel, enrolled devices. */
  private final class Fleet implements AutoCloseable {
    final Path home;
    final BrokerProcess broker;
    final ManagedChannel operator;
    final List<ManagedChannel> channels = new ArrayList<>();
    final List<VirtualDevice> devices = new ArrayList<>();

    Fleet(Path home, BrokerProcess broker) throws IOException {
      this.home = home;
      this.broker = broker;
      this.operator = GrpcSupport.operatorChannel(home, broker.grpcHost(), broker.grpcPort());
    }

    /** Enrols {@code n} devices (each with its own channel and key) through the device flow, 8 at a time. */
    void enrol(int n) throws Exception {
      for (int i = 0; i < n; i++) {
        ManagedChannel ch = GrpcSupport.deviceChannel(home, broker.grpcHost(), broker.grpcPort());
        channels.add(ch);
        devices.add(new VirtualDevice(ch, operator, CLIENT_ID, broker.tokenHtu()));
      }
      ExecutorService pool = Executors.newFixedThreadPool(Math.min(8, n));
      try {
        List<Future<?>> fs = new ArrayList<>();
        for (VirtualDevice d : devices) {
          fs.add(pool.submit(() -> {
            d.enrol();
            return null;
          }));
        }
        for (Future<?> f : fs) {
          f.get(120, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
    }

    VirtualDevice newDevice(int channel) {
      return new VirtualDevice(channels.get(channel), operator, CLIENT_ID, broker.tokenHtu());
    }

    @Override
    public void close() {
      channels.forEach(GrpcSupport::close);
      GrpcSupport.close(operator);
    }
  }

  private Duration grace() {
    return Duration.ofSeconds(VirtualDevice.DEADLINE_SECONDS + 5);
  }

  private static void print(String what, ClosedLoop.Result r) {
    Latencies l = r.latencies();
    OUT.printf("  %-14s c=%-3d %8.1f/s  p50 %7.2f ms  p95 %7.2f  p99 %7.2f  max %7.2f  errors %d  "
            + "server CPU %6.1f µs/op (%.2f cores) writes %.1f KiB/op  loadgen %.2f cores  other %.2f cores%s%n",
        what, r.concurrency(), r.rate(),
        l.percentile(50) / 1e6, l.percentile(95) / 1e6, l.percentile(99) / 1e6, l.max() / 1e6, r.errorCount(),
        r.serverCpuMicrosPerOp(), r.serverCpuNanos() / 1e9 / r.windowSeconds(),
        r.ok() == 0 ? 0.0 : r.serverWriteBytes() / 1024.0 / r.ok(),
        r.clientCpuNanos() / 1e9 / r.windowSeconds(), r.otherCpuNanos() / 1e9 / r.windowSeconds(),
        r.errors().isEmpty() ? "" : " " + r.errors());
    OUT.printf("      server JIT %.2f cores, GC %.2f cores%n", r.serverJitNanos() / 1e9 / r.windowSeconds(),
        r.serverGcNanos() / 1e9 / r.windowSeconds());
    if (!r.otherTop().isEmpty()) {
      OUT.println("      other processes busy in the window: " + r.otherTop());
    }
  }

  private double elapsedSeconds() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private double remainingSeconds() {
    return o.budgetSeconds - elapsedSeconds() - o.budgetAlreadySpent;
  }

  private Map<String, Object> brokerBuild() {
    Map<String, Object> b = new LinkedHashMap<>();
    String env = System.getenv("TOKENBROKER_BROKER_JAR");
    Path jar = env != null && !env.isBlank() ? Path.of(env) : o.repo.resolve("broker/target/broker.jar");
    b.put("jar", jar.toString());
    try {
      b.put("jar_modified", Files.getLastModifiedTime(jar).toString());
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      b.put("jar_sha256_12", HexFormat.of().formatHex(sha.digest(Files.readAllBytes(jar))).substring(0, 12));
    } catch (Exception e) {
      b.put("jar_error", e.getMessage());
    }
    b.put("git_head", Machine.run(o.repo, "git", "rev-parse", "--short", "HEAD"));
    String dirty = Machine.run(o.repo, "git", "status", "--porcelain", "--", "broker", "proto", "verifier");
    b.put("broker_sources_modified_since_head", dirty != null && !dirty.isBlank());
    return b;
  }

  private void cleanUp() {
    if (o.keepWork || o.work != null) {
      OUT.println("bench: kept work directory " + work);
      return;
    }
    try {
      deleteTree(work);
    } catch (IOException e) {
      OUT.println("bench: could not delete " + work + ": " + e.getMessage());
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  static double round1(double v) {
    return Math.round(v * 10) / 10.0;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "unknown error";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  private static String indent(String s) {
    return s.lines().map(l -> "    " + l).reduce((a, b) -> a + "\n" + b).orElse("");
  }

  // ---------------------------------------------------------------- options

  static final class Options {
    static final String USAGE = """
        usage: java -jar bench/target/bench.jar [MODE] [options]
          MODE: all (default; ceiling, verifier, micro, broker, agent, scale, peer) | ceiling | verifier | micro
                | broker | agent | scale | peer   (micro: the JMH micro-benchmarks of the hot paths)
          --peer keycloak | --no-peer    measure the Keycloak peer (all: default keycloak); --peer alone = MODE peer
          --repo DIR                     repository root (default: found from the jar or the current directory)
          --out DIR                      results directory (default REPO/bench/results)
          --report NAME                  results file name without extension (default latest)
          --work DIR                     keep homes and logs here instead of a deleted temp dir
          --keep-work                    do not delete the temp work directory
          --levels 1,8,32                refresh concurrency levels
          --jit-warmup S                 uncounted load at c=8 before the first level (default 30)
          --warmup S --measure S         per refresh level (default 5 + 15)
          --flow-concurrency N           device-flow concurrency (default 8)
          --flow-warmup S --flow-measure S   (default 5 + 10)
          --scale 1000,1000000           families/devices seeded before the scale runs
          --scale-concurrency N          (default 32)  --scale-warmup S --scale-measure S (default 15 + 10; the warm-up
                                         runs at c=8 for the JIT, then 5 s at the cell's concurrency)
          --seed-budget S                most seconds spent seeding one home (default 170)
          --peer-warmup S                Keycloak warm-up at c=8 before its levels (default 60; in MODE all
                                         whatever the budget leaves, 20-240 s)
          --peer-levels 1,8,32 --peer-level-warmup S --peer-measure S   (default 4 + 8)
          --ceiling-warmup-ms MS --ceiling-measure-ms MS   (default 1000 + 3000, after 3 s of JIT warm-up per operation)
          --agent-seconds S              device-agent run time after its first token (default 20)
          --max-requests N               bound on requests per cell (default 2000000)
          --budget S                     whole-run budget the phases fit into (default 598)
          --budget-spent S               seconds already spent before this JVM started (the build)
          --broker-prop KEY=VALUE        appended to each home's broker.properties (repeatable)
          --jfr                          record a JFR profile of the main broker (kept in the work directory)
          --cache DIR                    Keycloak cache (default ~/.cache/tokenbroker-bench)
        env: TOKENBROKER_BROKER_JAR (broker jar for bin/broker), TOKENBROKER_JAVA_OPTS (broker JVM options)""";

    String mode = "all";
    boolean help;
    Path repo;
    Path out;
    String reportName;
    Path work;
    boolean keepWork;
    List<Integer> levels = List.of(1, 8, 32);
    long warmup = 5;
    long measure = 15;
    int flowConcurrency = 8;
    long flowWarmup = 5;
    long flowMeasure = 10;
    List<Long> scaleCounts = List.of(1_000L, 1_000_000L);
    int scaleConcurrency = 32;
    long scaleWarmup = 15;
    long jitWarmup = 30;
    long scaleMeasure = 10;
    long seedBudget = 170;
    String peer = "keycloak";
    long peerWarmup = 60;
    List<Integer> peerLevels = List.of(1, 8, 32);
    long peerLevelWarmup = 4;
    long peerMeasure = 8;
    long ceilingWarmupMs = 1000;
    long ceilingMeasureMs = 3000;
    long maxRequests = 2_000_000;
    long agentSeconds = 20;
    double budgetSeconds = 598;
    double budgetAlreadySpent = 0;
    Map<String, String> brokerProps = new LinkedHashMap<>();
    boolean jfr;
    Path cacheDir = Path.of(System.getProperty("user.home"), ".cache", "tokenbroker-bench");
    Path launcher;

    static Options parse(String[] args) {
      Options o = new Options();
      List<String> a = new ArrayList<>(Arrays.asList(args));
      if (!a.isEmpty() && !a.get(0).startsWith("-")) {
        o.mode = a.remove(0);
        if (!List.of("all", "ceiling", "verifier", "micro", "broker", "scale", "agent", "peer").contains(o.mode)) {
          throw new IllegalArgumentException("unknown mode " + o.mode);
        }
      }
      boolean peerOnly = false;
      for (int i = 0; i < a.size(); i++) {
        String k = a.get(i);
        java.util.function.Supplier<String> v = () -> {
          throw new IllegalArgumentException(k + " needs a value");
        };
        int idx = i;
        java.util.function.Supplier<String> next = () -> {
          if (idx + 1 >= a.size()) {
            return v.get();
          }
          return a.get(idx + 1);
        };
        switch (k) {
          case "-h", "--help" -> o.help = true;
          case "--peer" -> {
            o.peer = next.get();
            i++;
            if (!o.peer.equals("keycloak")) {
              throw new IllegalArgumentException("the only peer is keycloak");
            }
            peerOnly = true;
          }
          case "--no-peer" -> o.peer = null;
          case "--repo" -> { o.repo = Path.of(next.get()).toAbsolutePath().normalize(); i++; }
          case "--out" -> { o.out = Path.of(next.get()).toAbsolutePath().normalize(); i++; }
          case "--report" -> { o.reportName = next.get(); i++; }
          case "--work" -> { o.work = Path.of(next.get()).toAbsolutePath().normalize(); i++; }
          case "--keep-work" -> o.keepWork = true;
          case "--levels" -> { o.levels = ints(next.get()); i++; }
          case "--warmup" -> { o.warmup = Long.parseLong(next.get()); i++; }
          case "--measure" -> { o.measure = Long.parseLong(next.get()); i++; }
          case "--flow-concurrency" -> { o.flowConcurrency = Integer.parseInt(next.get()); i++; }
          case "--flow-warmup" -> { o.flowWarmup = Long.parseLong(next.get()); i++; }
          case "--flow-measure" -> { o.flowMeasure = Long.parseLong(next.get()); i++; }
          case "--scale" -> { o.scaleCounts = ints(next.get()).stream().map(Integer::longValue).toList(); i++; }
          case "--scale-concurrency" -> { o.scaleConcurrency = Integer.parseInt(next.get()); i++; }
          case "--jit-warmup" -> { o.jitWarmup = Long.parseLong(next.get()); i++; }
          case "--scale-warmup" -> { o.scaleWarmup = Long.parseLong(next.get()); i++; }
          case "--scale-measure" -> { o.scaleMeasure = Long.parseLong(next.get()); i++; }
          case "--seed-budget" -> { o.seedBudget = Long.parseLong(next.get()); i++; }
          case "--peer-warmup" -> { o.peerWarmup = Long.parseLong(next.get()); i++; }
          case "--peer-levels" -> { o.peerLevels = ints(next.get()); i++; }
          case "--peer-level-warmup" -> { o.peerLevelWarmup = Long.parseLong(next.get()); i++; }
          case "--peer-measure" -> { o.peerMeasure = Long.parseLong(next.get()); i++; }
          case "--ceiling-warmup-ms" -> { o.ceilingWarmupMs = Long.parseLong(next.get()); i++; }
          case "--ceiling-measure-ms" -> { o.ceilingMeasureMs = Long.parseLong(next.get()); i++; }
          case "--agent-seconds" -> { o.agentSeconds = Long.parseLong(next.get()); i++; }
          case "--max-requests" -> { o.maxRequests = Long.parseLong(next.get()); i++; }
          case "--budget" -> { o.budgetSeconds = Double.parseDouble(next.get()); i++; }
          case "--budget-spent" -> { o.budgetAlreadySpent = Double.parseDouble(next.get()); i++; }
          case "--broker-prop" -> {
            String kv = next.get();
            i++;
            int eq = kv.indexOf('=');
            if (eq <= 0) {
              throw new IllegalArgumentException("--broker-prop needs KEY=VALUE");
            }
            o.brokerProps.put(kv.substring(0, eq), kv.substring(eq + 1));
          }
          case "--jfr" -> o.jfr = true;
          case "--cache" -> { o.cacheDir = Path.of(next.get()).toAbsolutePath().normalize(); i++; }
          default -> throw new IllegalArgumentException("unknown option " + k);
        }
      }
      if (peerOnly && o.mode.equals("all") && !Arrays.asList(args).contains("all")) {
        o.mode = "peer";
      }
      if (o.repo == null) {
        o.repo = findRepo();
      }
      if (o.out == null) {
        o.out = o.repo.resolve("bench/results");
      }
      if (o.reportName == null) {
        o.reportName = o.mode.equals("all") ? "latest" : "adhoc-" + o.mode;
      }
      o.launcher = o.repo.resolve("bin/broker");
      if (!Files.isExecutable(o.launcher)) {
        throw new IllegalArgumentException(o.launcher + " not found or not executable (use --repo)");
      }
      for (int c : o.levels) {
        if (c < 1 || c > 1024) {
          throw new IllegalArgumentException("concurrency levels must be 1-1024");
        }
      }
      return o;
    }

    private static List<Integer> ints(String csv) {
      List<Integer> out = new ArrayList<>();
      for (String s : csv.split(",")) {
        out.add(Integer.parseInt(s.trim()));
      }
      return List.copyOf(out);
    }

    private static Path findRepo() {
      try {
        Path jar = Path.of(LoadGenerator.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        for (Path p = jar; p != null; p = p.getParent()) {
          if (Files.isExecutable(p.resolve("bin/broker")) && Files.isDirectory(p.resolve("bench"))) {
            return p;
          }
        }
      } catch (Exception ignored) {
        // fall through
      }
      return Path.of("").toAbsolutePath();
    }

    Map<String, Object> toJson() {
      return Json.obj("mode", mode, "jit_warmup_s", jitWarmup, "levels", new ArrayList<>(levels), "warmup_s", warmup,
          "measure_s", measure,
          "flow_concurrency", flowConcurrency, "flow_warmup_s", flowWarmup, "flow_measure_s", flowMeasure,
          "scale_families", new ArrayList<>(scaleCounts), "scale_concurrency", scaleConcurrency,
          "scale_warmup_s", scaleWarmup, "scale_measure_s", scaleMeasure, "seed_budget_s", seedBudget,
          "peer", peer, "peer_warmup_s", peerWarmup, "peer_levels", new ArrayList<>(peerLevels),
          "peer_level_warmup_s", peerLevelWarmup, "peer_measure_s", peerMeasure,
          "ceiling_warmup_ms", ceilingWarmupMs, "ceiling_measure_ms", ceilingMeasureMs,
          "max_requests_per_cell", maxRequests, "rpc_deadline_s", VirtualDevice.DEADLINE_SECONDS,
          "broker_props", new LinkedHashMap<>(brokerProps), "jfr", jfr, "agent_seconds", agentSeconds);
    }
  }
}
