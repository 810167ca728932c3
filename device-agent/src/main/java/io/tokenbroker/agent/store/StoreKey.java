package io.tokenbroker.agent.store;

import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;

/** The AES-256 key that seals the state file, wherever it lives (PKCS#11 token or derived in software). */
public interface StoreKey {
  /** An AES/GCM/NoPadding cipher initialised with this key. */
  Cipher gcm(int mode, GCMParameterSpec spec) throws GeneralSecurityException;

  /** For messages: where the key lives. */
  String description();
}
