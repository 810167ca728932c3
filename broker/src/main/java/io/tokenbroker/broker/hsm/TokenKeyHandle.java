package io.tokenbroker.broker.hsm;

import java.security.GeneralSecurityException;
import java.security.KeyStoreException;
import java.security.PrivateKey;

/**
 * A private key in the token, found by its alias. A PKCS#11 object handle is valid for one login only: after
 * {@link Pkcs11Token#relogin()} this fetches a fresh handle under the same alias before the next use.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class TokenKeyHandle {
  private final Pkcs11Token token;
  private final String alias;
  private volatile Current current;

  private record Current(PrivateKey key, long generation) {}

  /** @param key the handle just read from the token's key store under {@code alias} */
  public TokenKeyHandle(Pkcs11Token token, String alias, PrivateKey key) {
    this.token = token;
    this.alias = alias;
    this.current = new Current(key, token.generation());
  }

  /** The handle for the current login. */
  public PrivateKey get() throws GeneralSecurityException {
    Current now = current;
    long generation = token.generation();
    if (now.generation() == generation) {
      return now.key();
    }
    PrivateKey fresh = (PrivateKey) token.keyStore().getKey(alias, null);
    if (fresh == null) {
      throw new KeyStoreException("the HSM no longer holds " + alias);
    }
    current = new Current(fresh, generation);
    return fresh;
  }
}
