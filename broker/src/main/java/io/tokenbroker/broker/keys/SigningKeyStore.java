package io.tokenbroker.broker.keys;

import java.util.Optional;
import java.util.Set;

/**
 * Generates, finds and destroys signing keys inside a key store. The production implementation keeps the
 * keys in a PKCS#11 token; nothing outside the store ever sees private key material.
 *
 * <p>Implementations are thread-safe.
 */
public interface SigningKeyStore {
  /**
   * Generates a key pair of {@code algorithm} inside the store and makes it findable by its kid.
   *
   * @throws KeyOperationException when the store refuses to generate the key
   */
  SigningKey generate(SigningAlgorithm algorithm);

  /** The key with this kid, if the store holds it. */
  Optional<SigningKey> find(String kid);

  /** The kids of every broker signing key the store holds. */
  Set<String> kids();

  /** Destroys the key; destroying an absent key does nothing. */
  void destroy(String kid);
}
