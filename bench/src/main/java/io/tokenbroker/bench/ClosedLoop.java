package io.tokenbroker.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A closed-loop load run: {@code concurrency} workers, each sends its next request as soon as the previous one
 * answered. All workers run through a warm-up and then a measured window; only requests that complete inside
 * the window count. The run is bounded in time (warm-up + window + a grace for the last requests) and in count
 * ({@code maxOps} requests at most, over all workers).
 */
final class ClosedLoop {
  /** One request of worker {@code worker}; throws on failure (the failure is counted, by {@link #classify}). */
  @FunctionalInterface
  interface Op {
    void run(int worker) throws Exception;
  }

  /** What was measured in the window. */
  record Result(String name, int concurrency, double windowSeconds, long ok, Map<String, Long> errors,
      Latencies latencies, long serverCpuNanos, long clientCpuNanos, long machineBusyNanos, long serverWchar,
      long serverWriteBytes, long serverJitNanos, long serverGcNanos, String otherTop, boolean countBoundHit,
      int stuckWorkers) {
    double rate() {
      return ok / windowSeconds;
    }

    long errorCount() {
      return errors.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Server CPU per successful request, in microseconds. */
    double serverCpuMicrosPerOp() {
      return ok == 0 ? 0 : serverCpuNanos / 1_000.0 / ok;
    }

    /** CPU the rest of the machine used in the window (other processes, interrupts): interference. */
    long otherCpuNanos() {
      return Math.max(0, machineBusyNanos - serverCpuNanos - clientCpuNanos);
    }

    double clientCpuMicrosPerOp() {
      return ok == 0 ? 0 : clientCpuNanos / 1_000.0 / ok;
    }

    Map<String, Object> toJson() {
      Map<String, Object> m = Json.obj("concurrency", concurrency, "window_s", windowSeconds, "ok", ok,
          "errors", errorCount(), "per_s", Math.round(rate() * 10) / 10.0);
      m.putAll(latencies.toMillis());
      m.put("server_cpu_s", serverCpuNanos / 1e9);
      m.put("server_cpu_us_per_op", Math.round(serverCpuMicrosPerOp() * 10) / 10.0);
      m.put("server_cores_busy", Math.round(serverCpuNanos / 1e9 / windowSeconds * 100) / 100.0);
      m.put("loadgen_cpu_us_per_op", Math.round(clientCpuMicrosPerOp() * 10) / 10.0);
      m.put("loadgen_cores_busy", Math.round(clientCpuNanos / 1e9 / windowSeconds * 100) / 100.0);
      m.put("server_jit_cores_busy", Math.round(serverJitNanos / 1e9 / windowSeconds * 100) / 100.0);
      m.put("server_gc_cores_busy", Math.round(serverGcNanos / 1e9 / windowSeconds * 100) / 100.0);
      m.put("server_write_syscall_kib_per_op", ok == 0 ? 0 : Math.round(serverWchar / 1024.0 / ok * 10) / 10.0);
      m.put("server_storage_write_kib_per_op", ok == 0 ? 0 : Math.round(serverWriteBytes / 1024.0 / ok * 10) / 10.0);
      m.put("other_cores_busy", Math.round(otherCpuNanos() / 1e9 / windowSeconds * 100) / 100.0);
      m.put("other_top_processes", otherTop);
      m.put("error_kinds", new TreeMap<>(errors));
      if (countBoundHit) {
        m.put("note", "request count bound reached before the window ended");
      }
      if (stuckWorkers > 0) {
        m.put("stuck_workers", stuckWorkers);
      }
      return m;
    }
  }

  /** Per-worker samples: completion time, latency, and error kind (null = success). */
  private static final class Samples {
    long[] done = new long[4096];
    long[] latency = new long[4096];
    String[] error = new String[4096];
    int n;

    void add(long doneAt, long nanos, String err) {
      if (n == done.length) {
        done = Arrays.copyOf(done, n * 2);
        latency = Arrays.copyOf(latency, n * 2);
        error = Arrays.copyOf(error, n * 2);
      }
      done[n] = doneAt;
      latency[n] = nanos;
      error[n] = err;
      n++;
    }
  }

  private ClosedLoop() {}

  /**
   * @param serverPid the server process, whose CPU time and I/O are read at the window's edges; -1 for none
   */
  static Result run(String name, int concurrency, Duration warmup, Duration window, long maxOps, Duration grace,
      long serverPid, Op op) throws InterruptedException {
    AtomicLong started = new AtomicLong();
    Samples[] samples = new Samples[concurrency];
    Thread[] workers = new Thread[concurrency];
    var stopFlag = new java.util.concurrent.atomic.AtomicBoolean();
    for (int w = 0; w < concurrency; w++) {
      Samples s = new Samples();
      samples[w] = s;
      int worker = w;
      workers[w] = new Thread(() -> {
        while (!stopFlag.get() && started.incrementAndGet() <= maxOps) {
          long t0 = System.nanoTime();
          String err = null;
          try {
            op.run(worker);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          } catch (Exception e) {
            err = classify(e);
          }
          long t1 = System.nanoTime();
          s.add(t1, t1 - t0, err);
        }
      }, name + "-" + w);
      workers[w].setDaemon(true);
    }
    for (Thread t : workers) {
      t.start();
    }
    Thread.sleep(warmup.toMillis());
    long cpuClient0 = ProcStat.selfCpuNanos();
    long cpuServer0 = serverPid < 0 ? 0 : ProcStat.cpuNanos(serverPid);
    long[] io0 = serverPid < 0 ? new long[2] : ProcStat.io(serverPid);
    long[] jit0 = serverPid < 0 ? new long[2] : ProcStat.jitAndGcNanos(serverPid);
    var procs0 = ProcStat.allProcesses();
    long machine0 = ProcStat.machineBusyNanos();
    long windowStart = System.nanoTime();
    Thread.sleep(window.toMillis());
    long windowEnd = System.nanoTime();
    long machine1 = ProcStat.machineBusyNanos();
    var procs1 = ProcStat.allProcesses();
    long cpuServer1 = serverPid < 0 ? 0 : ProcStat.cpuNanos(serverPid);
    long[] io1 = serverPid < 0 ? new long[2] : ProcStat.io(serverPid);
    long[] jit1 = serverPid < 0 ? new long[2] : ProcStat.jitAndGcNanos(serverPid);
    long cpuClient1 = ProcStat.selfCpuNanos();
    stopFlag.set(true);
    long joinDeadline = System.nanoTime() + grace.toNanos();
    int stuck = 0;
    for (Thread t : workers) {
      long left = Math.max(1, (joinDeadline - System.nanoTime()) / 1_000_000);
      t.join(left);
      if (t.isAlive()) {
        stuck++;
        t.interrupt();
      }
    }
    long ok = 0;
    int total = 0;
    for (Samples s : samples) {
      total += s.n;
    }
    long[] lat = new long[total];
    int k = 0;
    Map<String, Long> errors = new TreeMap<>();
    for (Samples s : samples) {
      for (int i = 0; i < s.n; i++) {
        if (s.done[i] < windowStart || s.done[i] >= windowEnd) {
          continue;
        }
        if (s.error[i] == null) {
          lat[k++] = s.latency[i];
          ok++;
        } else {
          errors.merge(s.error[i], 1L, Long::sum);
        }
      }
    }
    return new Result(name, concurrency, (windowEnd - windowStart) / 1e9, ok, errors, new Latencies(lat, k),
        cpuServer1 - cpuServer0, cpuClient1 - cpuClient0, machine1 - machine0, io1[0] - io0[0],
        io1[1] - io0[1], jit1[0] - jit0[0], jit1[1] - jit0[1], ProcStat.topOthers(procs0, procs1, java.util.Set.of(ProcessHandle.current().pid(), serverPid),
            (windowEnd - windowStart) / 1e9, 4), started.get() > maxOps, stuck);
  }

  /** A short name for a failure: the gRPC code and the ErrorInfo reason, or the exception's class. */
  static String classify(Throwable e) {
    if (e instanceof io.grpc.StatusRuntimeException sre) {
      String reason = GrpcSupport.errorReason(sre);
      return sre.getStatus().getCode() + (reason == null ? "" : "/" + reason);
    }
    if (e instanceof PeerException pe) {
      return pe.kind();
    }
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + (m.length() > 80 ? m.substring(0, 80) : m));
  }

  /** A failure answered by a peer (HTTP status and OAuth error), classified by its kind. */
  static final class PeerException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String kind;

    PeerException(String kind, String message) {
      super(message);
      this.kind = kind;
    }

    String kind() {
      return kind;
    }
  }

  static List<Map<String, Object>> toJson(List<Result> results) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Result r : results) {
      out.add(r.toJson());
    }
    return out;
  }
}
