package io.tokenbroker.verifier.dpop;

import com.nimbusds.jose.JWSVerifier;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A bounded, least-recently-used cache of signature verifiers by key thumbprint. Nimbus verifiers are
 * thread-safe, so one instance serves every proof made with that key.
 *
 * <p>Thread-safety: thread-safe; building a verifier happens outside the lock.
 */
final class PreparedVerifiers {
  private final Map<String, JWSVerifier> cache;

  PreparedVerifiers(int capacity) {
    this.cache = new LinkedHashMap<>(256, 0.75f, true) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<String, JWSVerifier> eldest) {
        return size() > capacity;
      }
    };
  }

  JWSVerifier get(String thumbprint, Supplier<JWSVerifier> build) {
    synchronized (cache) {
      JWSVerifier cached = cache.get(thumbprint);
      if (cached != null) {
        return cached;
      }
    }
    JWSVerifier built = build.get();
    synchronized (cache) {
      cache.putIfAbsent(thumbprint, built);
    }
    return built;
  }
}
