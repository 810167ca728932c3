package io.tokenbroker.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time and resident memory of a process, from Linux /proc (utime + stime, in clock ticks). */
final class ProcStat {
  private static final long CLOCK_TICKS = clockTicks();

  private ProcStat() {}

  /** utime + stime of {@code pid}, in nanoseconds (resolution 1/CLK_TCK, usually 10 ms). */
  static long cpuNanos(long pid) {
    try {
      return parseCpuTicks(Files.readString(Path.of("/proc", Long.toString(pid), "stat"))) * 1_000_000_000L
          / CLOCK_TICKS;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read /proc/" + pid + "/stat: " + e.getMessage(), e);
    }
  }

  /**
   * utime + stime from the text of /proc/PID/stat. The command name (field 2) is in parentheses and may hold
   * spaces, so the fields are counted from the last ')': field 3 (state) is the first after it, utime is
   * field 14 and stime field 15 (proc(5)).
   */
  static long parseCpuTicks(String stat) {
    int close = stat.lastIndexOf(')');
    String[] f = stat.substring(close + 2).trim().split(" +");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  /**
   * Busy CPU time of the whole machine (all cores) in nanoseconds, from the first line of /proc/stat: user +
   * nice + system + irq + softirq + steal.
   */
  static long machineBusyNanos() {
    try {
      String first = Files.readAllLines(Path.of("/proc/stat")).get(0);
      String[] f = first.trim().split(" +");
      long busy = 0;
      for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
        if (i < f.length) {
          busy += Long.parseLong(f[i]);
        }
      }
      return busy * 1_000_000_000L / CLOCK_TICKS;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /**
   * {wchar, write_bytes} of {@code pid} from /proc/PID/io: bytes passed to write calls (files and sockets), and
   * bytes the process caused to be sent to storage. {0, 0} when unreadable.
   */
  static long[] io(long pid) {
    long[] out = new long[2];
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "io"))) {
        if (line.startsWith("wchar:")) {
          out[0] = Long.parseLong(line.substring(6).trim());
        } else if (line.startsWith("write_bytes:")) {
          out[1] = Long.parseLong(line.substring(12).trim());
        }
      }
    } catch (IOException | RuntimeException e) {
      return new long[2];
    }
    return out;
  }

  /**
   * CPU time in nanoseconds of the JVM {@code pid}'s JIT compiler threads and garbage-collector threads, from
   * /proc/PID/task/TID/stat (thread names are the JVM's, truncated to 15 characters): {jit, gc}.
   */
  static long[] jitAndGcNanos(long pid) {
    long[] out = new long[2];
    java.io.File[] tasks = new java.io.File("/proc/" + pid + "/task").listFiles();
    if (tasks == null) {
      return out;
    }
    for (java.io.File t : tasks) {
      try {
        String stat = Files.readString(t.toPath().resolve("stat"));
        String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        long nanos = parseCpuTicks(stat) * 1_000_000_000L / CLOCK_TICKS;
        if (comm.startsWith("C1 Compiler") || comm.startsWith("C2 Compiler")) {
          out[0] += nanos;
        } else if (comm.startsWith("GC Thread") || comm.startsWith("G1 ") || comm.startsWith("VM Thread")) {
          out[1] += nanos;
        }
      } catch (IOException | RuntimeException e) {
        // the thread ended meanwhile
      }
    }
    return out;
  }

  /** CPU ticks (utime + stime) and command name of every process in /proc, by pid. */
  static java.util.Map<Long, Object[]> allProcesses() {
    java.util.Map<Long, Object[]> out = new java.util.HashMap<>();
    java.io.File[] dirs = new java.io.File("/proc").listFiles((d, n) -> n.chars().allMatch(Character::isDigit));
    if (dirs == null) {
      return out;
    }
    for (java.io.File d : dirs) {
      try {
        String stat = Files.readString(d.toPath().resolve("stat"));
        String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        out.put(Long.parseLong(d.getName()), new Object[] {comm, parseCpuTicks(stat)});
      } catch (IOException | RuntimeException e) {
        // the process ended meanwhile
      }
    }
    return out;
  }

  /**
   * The processes other than {@code exclude} that used the most CPU between two {@link #allProcesses}
   * snapshots, as "comm[pid] cores" over {@code seconds}; those above 0.02 cores, at most {@code max}.
   */
  static String topOthers(java.util.Map<Long, Object[]> before, java.util.Map<Long, Object[]> after,
      java.util.Set<Long> exclude, double seconds, int max) {
    java.util.List<Object[]> rows = new java.util.ArrayList<>();
    for (var e : after.entrySet()) {
      if (exclude.contains(e.getKey())) {
        continue;
      }
      Object[] b = before.get(e.getKey());
      long ticks = (Long) e.getValue()[1] - (b == null ? 0 : (Long) b[1]);
      double cores = ticks / (double) CLOCK_TICKS / seconds;
      if (cores >= 0.02) {
        rows.add(new Object[] {e.getValue()[0] + "[" + e.getKey() + "]", cores});
      }
    }
    rows.sort((x, y) -> Double.compare((Double) y[1], (Double) x[1]));
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.min(max, rows.size()); i++) {
      sb.append(i == 0 ? "" : ", ").append(rows.get(i)[0]).append(' ')
          .append(String.format(java.util.Locale.ROOT, "%.2f", (Double) rows.get(i)[1]));
    }
    return sb.toString();
  }

  /** VmRSS of {@code pid} in MiB, or -1 when unknown. */
  static double rssMiB(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  static String comm(long pid) {
    try {
      return Files.readString(Path.of("/proc", Long.toString(pid), "comm")).trim();
    } catch (IOException e) {
      return "";
    }
  }

  /** CPU time of this JVM (the load generator) in nanoseconds. */
  static long selfCpuNanos() {
    return cpuNanos(ProcessHandle.current().pid());
  }

  private static long clockTicks() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor();
      return Long.parseLong(out);
    } catch (Exception e) {
      return 100;
    }
  }
}
