package io.tokenbroker.broker.keys;

/**
 * Hears how each signature made in the key store went, for monitoring (latency and failures of the HSM).
 * Called on the signing thread: implementations must be quick and must not throw.
 */
public interface SigningObserver {
  /** Observes nothing. */
  SigningObserver NONE = new SigningObserver() {
    @Override
    public void signed(long nanos) {}

    @Override
    public void failed(long nanos) {}
  };

  /** A signature was made; it took {@code nanos}. */
  void signed(long nanos);

  /** The key store refused or could not be reached; the attempt took {@code nanos}. */
  void failed(long nanos);
}
