package io.tokenbroker.agent.store;

import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;

/**
 * The store key of a device without a PKCS#11 token: HKDF-SHA256 (RFC 5869) of a 256-bit device secret kept in
 * a file only the agent's user can read (created on first use, mode 0600).
 */
public final class DerivedStoreKey implements StoreKey {
  private static final int SECRET_BYTES = 32;
  private static final byte[] SALT = "tokenbroker device-agent".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] INFO = "state store AES-256-GCM v1".getBytes(StandardCharsets.US_ASCII);

  private final SecretKey key;
  private final Path secretFile;

  private DerivedStoreKey(SecretKey key, Path secretFile) {
    this.key = key;
    this.secretFile = secretFile;
  }

  /** Reads the device secret from {@code secretFile}, creating it when {@code create} and it is missing. */
  public static DerivedStoreKey open(Path secretFile, boolean create) {
    try {
      if (!Files.exists(secretFile)) {
        if (!create) {
          throw new AgentException(ExitCodes.STORE, "device secret " + secretFile + " is missing; the state "
              + "file cannot be decrypted without it (run 'device-agent login' to enrol again)");
        }
        byte[] secret = new byte[SECRET_BYTES];
        new SecureRandom().nextBytes(secret);
        AtomicFile.write(secretFile, secret, null);
        Arrays.fill(secret, (byte) 0);
      }
      StateDirectory.requirePrivate(secretFile, "600");
      byte[] secret = Files.readAllBytes(secretFile);
      if (secret.length != SECRET_BYTES) {
        throw new AgentException(ExitCodes.STORE, "device secret " + secretFile + " has " + secret.length
            + " bytes instead of " + SECRET_BYTES + " (damaged)");
      }
      HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest());
      hkdf.init(new HKDFParameters(secret, SALT, INFO));
      byte[] keyBytes = new byte[32];
      hkdf.generateBytes(keyBytes, 0, keyBytes.length);
      Arrays.fill(secret, (byte) 0);
      SecretKey key = new SecretKeySpec(keyBytes, "AES");
      Arrays.fill(keyBytes, (byte) 0);
      return new DerivedStoreKey(key, secretFile);
    } catch (IOException e) {
      throw new AgentException(ExitCodes.STORE, "cannot read device secret " + secretFile + ": " + e.getMessage());
    }
  }

  @Override
  public Cipher gcm(int mode, GCMParameterSpec spec) throws GeneralSecurityException {
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(mode, key, spec);
    return cipher;
  }

  @Override
  public String description() {
    return "key derived from " + secretFile;
  }

}
