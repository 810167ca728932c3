package io.tokenbroker.broker;

import java.util.function.Supplier;

/**
 * Runs a use case in one database transaction. Store calls made by {@code work} on this thread join it; the
 * transaction commits durably before {@code inTransaction} returns, so a caller that answers a request after
 * it answers only about committed state. Any exception rolls back everything {@code work} wrote.
 */
public interface Transactor {
  <T> T inTransaction(Supplier<T> work);
}
