package io.tokenbroker.broker.revocation;

/** Told after a transaction that appended revocation events has committed, so live subscribers can read them. */
@FunctionalInterface
public interface RevocationListener {
  void revocationsCommitted();
}
