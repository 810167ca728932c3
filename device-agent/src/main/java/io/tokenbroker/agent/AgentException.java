package io.tokenbroker.agent;

/**
 * A failure the agent reports as one line and an exit code. The message never contains a token, a refresh
 * token, a PIN or a key.
 */
public class AgentException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int exitCode;

  /** @param exitCode one of {@link ExitCodes} */
  public AgentException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  public AgentException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  /** The process exit code that stands for this failure. */
  public int exitCode() {
    return exitCode;
  }
}
