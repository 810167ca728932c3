package io.tokenbroker.agent.keys;

import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import io.tokenbroker.agent.store.StoreKey;
import java.security.GeneralSecurityException;
import java.security.Key;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * The state file's AES-256 key as a non-extractable secret key in the device's PKCS#11 token: encryption and
 * decryption happen inside the token, the key bytes are never in the agent's memory.
 */
public final class Pkcs11StoreKey implements StoreKey {
  /** The alias ({@code CKA_LABEL}) of the store key in the token. */
  public static final String ALIAS = "device-agent-store";

  private final Pkcs11Device device;
  private final Key key;

  private Pkcs11StoreKey(Pkcs11Device device, Key key) {
    this.device = device;
    this.key = key;
  }

  /** The key under {@link #ALIAS}, generated in the token first if {@code create} and it is missing. */
  public static Pkcs11StoreKey openOrCreate(Pkcs11Device device, boolean create) {
    try {
      var ks = device.keyStore();
      if (!ks.containsAlias(ALIAS)) {
        if (!create) {
          throw new AgentException(ExitCodes.KEY, "the store key '" + ALIAS + "' is missing from the "
              + device.description() + "; the state file cannot be decrypted (run 'device-agent login')");
        }
        KeyGenerator generator = KeyGenerator.getInstance("AES", device.provider());
        generator.init(256);
        SecretKey key = generator.generateKey();
        ks.setKeyEntry(ALIAS, key, null, null);
      }
      return new Pkcs11StoreKey(device, ks.getKey(ALIAS, null));
    } catch (AgentException e) {
      throw e;
    } catch (Exception e) {
      throw new AgentException(ExitCodes.KEY, "cannot use the store key in the " + device.description() + ": "
          + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
    }
  }

  /** Destroys the key in the token (logout). */
  public static void destroy(Pkcs11Device device) {
    try {
      if (device.keyStore().containsAlias(ALIAS)) {
        device.keyStore().deleteEntry(ALIAS);
      }
    } catch (Exception e) {
      throw new AgentException(ExitCodes.KEY, "cannot delete the store key from the " + device.description());
    }
  }

  @Override
  public Cipher gcm(int mode, GCMParameterSpec spec) throws GeneralSecurityException {
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding", device.provider());
    cipher.init(mode, key, spec);
    return cipher;
  }

  @Override
  public String description() {
    return "AES key '" + ALIAS + "' in the " + device.description();
  }
}
