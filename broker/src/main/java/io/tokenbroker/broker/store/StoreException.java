package io.tokenbroker.broker.store;

/** A database operation failed; the transaction it ran in was rolled back. */
public final class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
