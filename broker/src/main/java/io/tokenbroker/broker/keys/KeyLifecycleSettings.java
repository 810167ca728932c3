package io.tokenbroker.broker.keys;

import java.time.Duration;
import java.util.Objects;

/**
 * How keys rotate.
 *
 * @param algorithm algorithm of newly generated keys
 * @param rotationPeriod how long a key stays ACTIVE before automatic rotation; zero disables it
 * @param nextPublicationLead how long a NEXT key is published before automatic rotation may activate it, so
 *     verifiers that cache the JWKS already know it
 * @param retiredRetention how long a RETIRED key stays published: at least the longest access-token lifetime
 *     plus the verifiers' clock skew
 */
public record KeyLifecycleSettings(
    SigningAlgorithm algorithm, Duration rotationPeriod, Duration nextPublicationLead, Duration retiredRetention) {

  public KeyLifecycleSettings {
    Objects.requireNonNull(algorithm, "algorithm");
    requireNotNegative(rotationPeriod, "rotationPeriod");
    requireNotNegative(nextPublicationLead, "nextPublicationLead");
    requireNotNegative(retiredRetention, "retiredRetention");
  }

  private static void requireNotNegative(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative()) {
      throw new IllegalArgumentException(name + " must not be negative");
    }
  }
}
