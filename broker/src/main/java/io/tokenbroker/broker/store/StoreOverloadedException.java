package io.tokenbroker.broker.store;

/**
 * The database has more work waiting than the broker queues: refused at once instead of queued without bound. The
 * message names the limit and says to retry; it holds nothing from the request.
 */
public final class StoreOverloadedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StoreOverloadedException(String message) {
    super(message);
  }
}
