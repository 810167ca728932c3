package io.tokenbroker.broker;

/**
 * A failure whose message is meant for the operator: one line that names what is wrong and what to fix,
 * never a secret and never a stack trace. The command line prints it as is and exits with {@link #exitCode()}.
 */
public class BrokerFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Exit code for a configuration problem the operator must fix. */
  public static final int EXIT_CONFIG = 2;
  /** Exit code for an HSM that is missing, locked or refuses an operation. */
  public static final int EXIT_HSM = 3;
  /** Exit code for a database that cannot be opened or migrated. */
  public static final int EXIT_DATABASE = 4;

  private final int exitCode;

  public BrokerFailure(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  public BrokerFailure(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  public int exitCode() {
    return exitCode;
  }
}
