package io.tokenbroker.broker.keys;

/** A key store could not generate, find, use or destroy a key. The message carries no key material. */
public final class KeyOperationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public KeyOperationException(String message, Throwable cause) {
    super(message, cause);
  }

  public KeyOperationException(String message) {
    super(message);
  }
}
