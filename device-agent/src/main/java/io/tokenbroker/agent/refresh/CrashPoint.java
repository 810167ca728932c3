package io.tokenbroker.agent.refresh;

import java.util.Locale;

/**
 * Named points of a refresh-token rotation where crash tests halt the agent as a power cut would
 * ({@link Runtime#halt}: no shutdown hooks, no flushing). Honoured only when the environment has
 * {@code TOKENBROKER_AGENT_TEST_HOOKS=enabled} and {@code TOKENBROKER_AGENT_CRASH_AT=<point>}; never in
 * production configuration.
 */
public enum CrashPoint {
  /** The rotation is journalled; the request has not been sent. */
  BEFORE_REQUEST,
  /** The broker has committed the rotation and started answering; the response has not been read. */
  AFTER_REQUEST,
  /** The response is in memory; nothing is written. */
  AFTER_RESPONSE,
  /** Half of the new state file is written to the temporary file. */
  DURING_WRITE;

  /** Exit status of a halt, so tests can tell it from a real failure. */
  public static final int HALT_STATUS = 137;
  private static final CrashPoint ARMED = armed();

  private static CrashPoint armed() {
    if (!"enabled".equals(System.getenv("TOKENBROKER_AGENT_TEST_HOOKS"))) {
      return null;
    }
    String at = System.getenv("TOKENBROKER_AGENT_CRASH_AT");
    return at == null ? null : CrashPoint.valueOf(at.toUpperCase(Locale.ROOT).replace('-', '_'));
  }

  /** Halts the process here if this point is armed. */
  public void reach() {
    if (this == ARMED) {
      System.err.println("device-agent: test hook: halting at " + name());
      System.err.flush();
      Runtime.getRuntime().halt(HALT_STATUS);
    }
  }
}
