package io.tokenbroker.broker.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ReadinessMonitorTest {
  private final List<Boolean> heard = new CopyOnWriteArrayList<>();

  private ReadinessMonitor monitor(ReadinessMonitor.Check... checks) {
    return new ReadinessMonitor(List.of(checks), Duration.ofMinutes(5), Duration.ofMillis(200), heard::add);
  }

  @Test
  void aCheckThatHangsIsNotReadyAndIsNotStartedAgainUntilItReturns() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger attempts = new AtomicInteger();
    try (ReadinessMonitor m = monitor(new ReadinessMonitor.Check("hsm", () -> true),
        new ReadinessMonitor.Check("database", () -> {
          attempts.incrementAndGet();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return true;
        }))) {
      assertThat(m.evaluateNow()).isEqualTo(new Readiness(false, List.of("database")));
      assertThat(m.evaluateNow()).isEqualTo(new Readiness(false, List.of("database")));
      assertThat(attempts).as("no second attempt piles up behind a hanging one").hasValue(1);

      release.countDown();
      Readiness after = m.evaluateNow();
      for (int i = 0; i < 50 && !after.ready(); i++) {
        after = m.evaluateNow(); // the first attempt may still be finishing
      }
      assertThat(after.ready()).isTrue();
      assertThat(m.current()).isEqualTo(after);
      assertThat(heard).containsExactly(false, true);
    }
  }

  @Test
  void aCheckThatThrowsOrSaysNoIsNamedAndNothingElseIsSaid() {
    AtomicBoolean keyOk = new AtomicBoolean(true);
    try (ReadinessMonitor m = monitor(
        new ReadinessMonitor.Check("database", () -> {
          throw new IllegalStateException("jdbc:h2:tcp://secret-host/db unreachable");
        }),
        new ReadinessMonitor.Check("signing_key", keyOk::get))) {
      assertThat(m.evaluateNow().json()).isEqualTo("{\"status\":\"not ready\",\"failed\":[\"database\"]}");
      keyOk.set(false);
      assertThat(m.evaluateNow().json())
          .isEqualTo("{\"status\":\"not ready\",\"failed\":[\"database\",\"signing_key\"]}");
      assertThat(heard).as("told once: readiness did not change in between").containsExactly(false);
    }
  }

  @Test
  void allChecksPassingIsReady() {
    try (ReadinessMonitor m = monitor(new ReadinessMonitor.Check("hsm", () -> true))) {
      assertThat(m.evaluateNow().json()).isEqualTo("{\"status\":\"ready\"}");
      assertThat(heard).containsExactly(true);
    }
  }
}
