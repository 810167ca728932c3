package io.tokenbroker.verifier.jwks;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import io.tokenbroker.verifier.VerificationError;
import io.tokenbroker.verifier.VerificationException;
import io.tokenbroker.verifier.jose.BouncyCastleEcdsaVerifier;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The broker's signing keys, each kept as a verifier whose public key is already in Bouncy Castle form
 * (DESIGN.md: preparing the key is half the cost of a check).
 *
 * <p>Refreshes from its {@link JwksSource} when a token names an unknown {@code kid} (the broker publishes NEXT
 * keys ahead of use, so this is rare) and when the keys are older than {@code maxAge} (so removed keys go
 * away), but never more often than once per {@code minRefreshInterval}: a flood of tokens with made-up
 * {@code kid}s costs the broker one request per interval. When a refresh fails the last good keys stay in use,
 * so an unreachable broker does not stop verification.
 *
 * <p>Thread-safety: thread-safe. A refresh happens in the calling thread. Callers that need a key the cache
 * does not have wait for a refresh in progress (at most the source's timeout) instead of fetching again; callers
 * whose keys are merely old go on with them while another thread refreshes, so an unreachable broker never
 * stalls verification of known keys.
 */
public final class SigningKeyCache {
  private static final System.Logger log = System.getLogger(SigningKeyCache.class.getName());
  private static final int MIN_RSA_BITS = 2048;

  private record PreparedKey(JWSAlgorithm algorithm, JWSVerifier verifier) {}

  private final JwksSource source;
  private final Clock clock;
  private final Duration minRefreshInterval;
  private final Duration maxAge;
  private final Set<JWSAlgorithm> accepted;
  private volatile Map<String, PreparedKey> keys = Map.of();
  private volatile Instant fetchedAt;
  private final ReentrantLock refreshing = new ReentrantLock();
  private Instant lastAttempt;

  /**
   * @param source where keys come from
   * @param minRefreshInterval the least time between two fetches, whatever the tokens say
   * @param maxAge keys older than this are fetched again (rate limited like any refresh)
   * @param accepted algorithms tokens may use; keys for other algorithms are ignored
   */
  public SigningKeyCache(JwksSource source, Clock clock, Duration minRefreshInterval, Duration maxAge,
      Set<JWSAlgorithm> accepted) {
    this.source = Objects.requireNonNull(source, "source");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.minRefreshInterval = Objects.requireNonNull(minRefreshInterval, "minRefreshInterval");
    this.maxAge = Objects.requireNonNull(maxAge, "maxAge");
    this.accepted = Set.copyOf(accepted);
  }

  /**
   * The verifier for the key {@code kid}, used with {@code algorithm}.
   *
   * @throws VerificationException {@code invalid_token} if no published key has that id or the key is for
   *     another algorithm; {@code temporarily_unavailable} if no keys could ever be fetched
   */
  public JWSVerifier verifierFor(String kid, JWSAlgorithm algorithm) {
    Instant fetched = fetchedAt;
    if (fetched == null) {
      refresh();
    } else if (clock.instant().isAfter(fetched.plus(maxAge)) && refreshing.tryLock()) {
      try {
        refreshLocked();
      } finally {
        refreshing.unlock();
      }
    }
    PreparedKey key = keys.get(kid);
    if (key == null) {
      // An unknown kid may be a key the broker just started using.
      refresh();
      key = keys.get(kid);
    }
    if (key == null) {
      if (fetchedAt == null) {
        throw new VerificationException(VerificationError.TEMPORARILY_UNAVAILABLE,
            "the broker's signing keys could not be fetched yet");
      }
      throw new VerificationException(VerificationError.INVALID_TOKEN,
          "the access token's kid is not one of the broker's published keys");
    }
    if (!key.algorithm().equals(algorithm)) {
      throw new VerificationException(VerificationError.INVALID_TOKEN,
          "the access token's alg does not match its key's alg");
    }
    return key.verifier();
  }

  /** Kids of the keys in use now. */
  public Set<String> kids() {
    return keys.keySet();
  }

  /**
   * Fetches the keys now unless a fetch happened less than {@code minRefreshInterval} ago. Returns whether the
   * keys in use came from a successful fetch at some point.
   */
  public boolean refresh() {
    refreshing.lock();
    try {
      return refreshLocked();
    } finally {
      refreshing.unlock();
    }
  }

  private boolean refreshLocked() {
    Instant now = clock.instant();
    if (lastAttempt != null && now.isBefore(lastAttempt.plus(minRefreshInterval))) {
      return fetchedAt != null;
    }
    lastAttempt = now;
    try {
      JWKSet set = source.fetch();
      keys = prepare(set);
      fetchedAt = now;
    } catch (IOException | RuntimeException e) {
      log.log(System.Logger.Level.WARNING, "cannot refresh signing keys from {0} ({1}); keeping the {2} known key(s)",
          source.describe(), e.getMessage(), keys.size());
    }
    return fetchedAt != null;
  }

  private Map<String, PreparedKey> prepare(JWKSet set) {
    Map<String, PreparedKey> prepared = new HashMap<>();
    for (JWK jwk : set.getKeys()) {
      if (jwk.getKeyID() == null || jwk.getAlgorithm() == null
          || (jwk.getKeyUse() != null && !KeyUse.SIGNATURE.equals(jwk.getKeyUse()))) {
        continue;
      }
      JWSAlgorithm alg = JWSAlgorithm.parse(jwk.getAlgorithm().getName());
      if (!accepted.contains(alg)) {
        continue;
      }
      JWSVerifier verifier = verifier(alg, jwk.toPublicJWK());
      if (verifier != null) {
        prepared.put(jwk.getKeyID(), new PreparedKey(alg, verifier));
      }
    }
    return Map.copyOf(prepared);
  }

  private static JWSVerifier verifier(JWSAlgorithm alg, JWK jwk) {
    try {
      if (jwk instanceof ECKey ec && JWSAlgorithm.Family.EC.contains(alg)) {
        return new BouncyCastleEcdsaVerifier(alg, ec);
      }
      if (jwk instanceof RSAKey rsa && JWSAlgorithm.Family.RSA.contains(alg) && rsa.size() >= MIN_RSA_BITS) {
        return new RSASSAVerifier(rsa);
      }
    } catch (JOSEException e) {
      log.log(System.Logger.Level.WARNING, "ignoring unusable published key {0}: {1}", jwk.getKeyID(),
          e.getMessage());
    }
    return null;
  }
}
