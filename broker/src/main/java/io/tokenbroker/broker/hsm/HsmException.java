package io.tokenbroker.broker.hsm;

import io.tokenbroker.broker.BrokerFailure;

/** The HSM is missing, refuses a login or refuses an operation. The message names what to fix. */
public final class HsmException extends BrokerFailure {
  private static final long serialVersionUID = 1L;

  public HsmException(String message) {
    super(EXIT_HSM, message);
  }

  public HsmException(String message, Throwable cause) {
    super(EXIT_HSM, message, cause);
  }
}
