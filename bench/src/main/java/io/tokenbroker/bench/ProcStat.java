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
