package io.tokenbroker.broker.testing;

import java.time.Instant;

/** A clock that tests move by hand; shared with the verifier's tests. */
public final class MutableClock extends io.tokenbroker.verifier.testing.MutableClock {
  public MutableClock(Instant start) {
    super(start);
  }
}
