package io.tokenbroker.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProcStatTest {
  @Test
  void cpuTicksAreUtimePlusStimeEvenWithParenthesesInTheCommandName() {
    // proc(5): pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime ...
    String stat = "4242 (java (x) y) S 1 4242 4242 0 -1 4194560 9000 0 3 0 1234 567 0 0 20 0 42 0 100 0 0";
    assertThat(ProcStat.parseCpuTicks(stat)).isEqualTo(1234 + 567);
  }

  @Test
  void thisProcessHasCpuTimeAndMemory() {
    long pid = ProcessHandle.current().pid();
    assertThat(ProcStat.cpuNanos(pid)).isPositive();
    assertThat(ProcStat.rssMiB(pid)).isPositive();
    assertThat(ProcStat.allProcesses()).containsKey(pid);
    // This JVM has compiled something by now, and its JIT threads are found by name.
    assertThat(ProcStat.jitAndGcNanos(pid)[0]).isPositive();
  }
}
