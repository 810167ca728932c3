package io.tokenbroker.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The crypto ceiling of one grant: ES256 signatures/s through SunPKCS11 on a throwaway SoftHSM2 token, and ES256
 * verifications/s with Bouncy Castle on a BC key object, on 1 and 2 threads.
 *
 * <p>SoftHSM reads {@code SOFTHSM2_CONF} once, when the PKCS#11 library loads, so the measurement runs in a
 * child JVM started with that variable pointing at the throwaway token ({@link #main}); the parent
 * ({@link #measure}) makes the token with {@code softhsm2-util} and reads the child's result lines.
 */
final class CryptoCeiling {
  private static final Pattern RESULT = Pattern.compile("^RESULT (\\S+)=(\\S+)$");
  /** Untimed single-thread run of each operation before the cells. */
  static final long JIT_WARMUP_MS = 3000;

  /** A typical RFC 9068 signing input (header.payload, base64url), about the size the broker signs. */
  static final byte[] SIGNING_INPUT = ("eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NiIsImtpZCI6IkM4UGFYcjFyVllqSWxTcHR2bHdQ"
      + "SnA3NTlMeTdIaURiMTBVeGx2Ti1pNlkifQ.eyJpc3MiOiJodHRwczovL2xvY2FsaG9zdCIsInN1YiI6IjNmMmE5YjEwLTQ0YzctNGE"
      + "xZS05ZDM3LTdmYzJiNDE4ZTJhMSIsImF1ZCI6Imh0dHBzOi8vYXBpLmV4YW1wbGUudGVzdCIsImV4cCI6MTc5NDE5MzU5MiwiaWF0IjoxNz"
      + "k0MTkzMjkyLCJqdGkiOiJkNGQ3MmYyMS05YjY0LTQ4ODYtYjU0Yy1lZGI4ZDMxZjQ0YjIiLCJjbGllbnRfaWQiOiJkZW1vLWRldmljZSIs"
      + "InNjb3BlIjoiZmlybXdhcmU6cmVhZCB0ZWxlbWV0cnk6d3JpdGUiLCJzaWQiOiI3YTBkMWM4ZS0zMWI2LTRkOGQtOGIzNS1hOTg2YjJhM2"
      + "ZmYjIiLCJjbmYiOnsiamt0IjoiMGtCUXNaQUdKb2ZJa0o2SzNpM0o2dGRxVF9QTWV2YzBfZG5XOXJxeG5FYyJ9fQ")
      .getBytes(StandardCharsets.US_ASCII);

  private CryptoCeiling() {}

  /** Parent side: a throwaway token in {@code dir}, the child JVM, and its results. */
  static Map<String, Object> measure(Path dir, long warmupMs, long windowMs, PrintStream log) throws Exception {
    ThrowawayToken token = ThrowawayToken.create(dir, "bench-ceiling", true);
    Path cfg = token.pkcs11Config();
    Path conf = token.softhsmConf();
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), CryptoCeiling.class.getName(), cfg.toString(), ThrowawayToken.PIN,
        Long.toString(warmupMs), Long.toString(windowMs)));
    ProcessBuilder child = new ProcessBuilder(cmd).redirectErrorStream(true);
    child.environment().put("SOFTHSM2_CONF", conf.toString());
    long bound = (4 * ATTEMPTS * (warmupMs + windowMs) + 2 * JIT_WARMUP_MS) / 1000 + 60;
    return runChild(child, bound, "ceiling", log);
  }

  /**
   * Runs a measuring child JVM to its end (at most {@code boundSeconds}); returns its {@code RESULT name=value}
   * lines and passes its other lines to {@code log} with {@code [label]}.
   */
  static Map<String, Object> runChild(ProcessBuilder child, long boundSeconds, String label, PrintStream log)
      throws Exception {
    Process c = child.redirectErrorStream(true).start();
    c.getOutputStream().close();
    Map<String, Object> results = new LinkedHashMap<>();
    StringBuilder all = new StringBuilder();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        all.append(line).append('\n');
        Matcher m = RESULT.matcher(line);
        if (m.matches()) {
          results.put(m.group(1), Double.parseDouble(m.group(2)));
        } else {
          log.println("  [" + label + "] " + line);
        }
      }
    }
    if (!c.waitFor(boundSeconds, TimeUnit.SECONDS)) {
      c.destroyForcibly();
      throw new IllegalStateException("the " + label + " JVM did not finish in " + boundSeconds + " s");
    }
    if (c.exitValue() != 0) {
      throw new IllegalStateException("the " + label + " JVM failed (exit " + c.exitValue() + "):\n" + all);
    }
    return results;
  }

  /** Child side: args {@code pkcs11.cfg pin warmupMs windowMs}; prints {@code RESULT name=value} lines. */
  public static void main(String[] args) throws Exception {
    String cfg = args[0];
    char[] pin = args[1].toCharArray();
    long warmupMs = Long.parseLong(args[2]);
    long windowMs = Long.parseLong(args[3]);
    Provider p11 = Security.getProvider("SunPKCS11").configure(cfg);
    KeyStore ks = KeyStore.getInstance("PKCS11", p11);
    ks.load(null, pin);
    KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC", p11);
    kpg.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair pair = kpg.generateKeyPair();
    PrivateKey hsmKey = pair.getPrivate();

    Provider bc = DpopKey.BOUNCY_CASTLE;
    PublicKey bcPublic = KeyFactory.getInstance("EC", bc)
        .generatePublic(new X509EncodedKeySpec(pair.getPublic().getEncoded()));
    Signature once = Signature.getInstance("SHA256withECDSAinP1363Format", p11);
    once.initSign(hsmKey);
    once.update(SIGNING_INPUT);
    byte[] signature = once.sign();
    Signature check = Signature.getInstance("SHA256withPLAIN-ECDSA", bc);
    check.initVerify(bcPublic);
    check.update(SIGNING_INPUT);
    if (signature.length != 64 || !check.verify(signature)) {
      throw new IllegalStateException("the HSM's P1363 signature does not verify with Bouncy Castle");
    }
    System.out.println("HSM key generated in the token; P1363 signature verified with BC (" + signature.length
        + " bytes)");

    TaskFactory signing = () -> {
      Signature s = Signature.getInstance("SHA256withECDSAinP1363Format", p11);
      s.initSign(hsmKey);
      return () -> {
        s.update(SIGNING_INPUT);
        s.sign();
      };
    };
    TaskFactory verifying = () -> {
      Signature v = Signature.getInstance("SHA256withPLAIN-ECDSA", bc);
      return () -> {
        v.initVerify(bcPublic);
        v.update(SIGNING_INPUT);
        if (!v.verify(signature)) {
          throw new IllegalStateException("verification failed");
        }
      };
    };
    // JIT warm-up of both paths before any cell: Bouncy Castle's verify needs a few seconds of C2 compilation
    // on 2 cores, and compiler threads running during a window would steal its CPU.
    run(1, 0, JIT_WARMUP_MS, signing);
    run(1, 0, JIT_WARMUP_MS, verifying);
    for (int threads : new int[] {1, 2}) {
      cell("sign_t" + threads, threads, warmupMs, windowMs, signing);
    }
    for (int threads : new int[] {1, 2}) {
      cell("verify_t" + threads, threads, warmupMs, windowMs, verifying);
    }
    System.out.println("RESULT cpus=" + Runtime.getRuntime().availableProcessors());
  }

  interface Task {
    void run() throws Exception;
  }

  interface TaskFactory {
    Task create() throws Exception;
  }

  /**
   * One cell, repeated (at most {@value #ATTEMPTS} times) while it looks disturbed: other processes used more
   * than 0.15 core during the window, or the single thread was on a CPU less than 85% of it. Prints the last
   * attempt's figures and returns them (as {@link #run}).
   */
  static double[] cell(String name, int threads, long warmupMs, long windowMs, TaskFactory factory)
      throws Exception {
    double[] r = null;
    int attempt = 0;
    while (attempt < ATTEMPTS) {
      attempt++;
      r = run(threads, warmupMs, windowMs, factory);
      // Disturbed: other processes took CPU, or a single thread was off CPU (with 2 threads, time off CPU can
      // also be lock contention inside the provider, which is a result, not a disturbance).
      boolean disturbed = r[3] > 0.15 || (threads == 1 && r[2] < 0.85);
      if (!disturbed) {
        break;
      }
      System.out.printf("%s: on CPU only %.0f%% of the window (other processes %.2f cores); measuring again%n",
          name, r[2] * 100, r[3]);
    }
    System.out.println("RESULT " + name + "_per_s=" + r[0]);
    System.out.println("RESULT " + name + "_cpu_us=" + r[1]);
    System.out.println("RESULT " + name + "_on_cpu=" + Math.round(r[2] * 100) / 100.0);
    System.out.println("RESULT " + name + "_other_cores=" + Math.round(r[3] * 100) / 100.0);
    System.out.println("RESULT " + name + "_attempts=" + attempt);
    return r;
  }

  private static final int ATTEMPTS = 3;

  /**
   * {@code threads} threads loop the task; returns {ops/s in the window, thread CPU µs per op, fraction of the
   * window the threads were on a CPU, cores used by other processes during the window}.
   */
  static double[] run(int threads, long warmupMs, long windowMs, TaskFactory factory) throws Exception {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    AtomicBoolean measuring = new AtomicBoolean();
    AtomicBoolean stop = new AtomicBoolean();
    long[] ops = new long[threads];
    long[] cpu = new long[threads];
    List<Thread> ts = new ArrayList<>();
    Throwable[] failure = new Throwable[1];
    final long maxOps = 50_000_000L;
    for (int t = 0; t < threads; t++) {
      Task task = factory.create();
      int idx = t;
      Thread th = new Thread(() -> {
        try {
          long n = 0;
          long cpu0 = -1;
          while (!measuring.get() && !stop.get()) {
            task.run();
          }
          cpu0 = mx.getCurrentThreadCpuTime();
          while (!stop.get() && n < maxOps) {
            task.run();
            n++;
          }
          ops[idx] = n;
          cpu[idx] = mx.getCurrentThreadCpuTime() - cpu0;
        } catch (Throwable e) {
          failure[0] = e;
        }
      });
      ts.add(th);
      th.start();
    }
    Thread.sleep(warmupMs);
    long machine0 = ProcStat.machineBusyNanos();
    long self0 = ProcStat.selfCpuNanos();
    long t0 = System.nanoTime();
    measuring.set(true);
    Thread.sleep(windowMs);
    stop.set(true);
    long t1 = System.nanoTime();
    long self1 = ProcStat.selfCpuNanos();
    long machine1 = ProcStat.machineBusyNanos();
    for (Thread th : ts) {
      th.join(10_000);
    }
    if (failure[0] != null) {
      throw new IllegalStateException(failure[0]);
    }
    long total = 0;
    long cpuTotal = 0;
    for (int t = 0; t < threads; t++) {
      total += ops[t];
      cpuTotal += cpu[t];
    }
    double seconds = (t1 - t0) / 1e9;
    double onCpu = cpuTotal / 1e9 / seconds / threads;
    double others = Math.max(0, (machine1 - machine0) - (self1 - self0)) / 1e9 / seconds;
    return new double[] {Math.round(total / seconds), Math.round(cpuTotal / 1000.0 / Math.max(1, total) * 10) / 10.0,
        onCpu, others};
  }
}
