package io.tokenbroker.agent.store;

import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;

/**
 * One file sealed with AES-256-GCM: {@code "TBAGENT1"} (8 bytes), a random 96-bit nonce, then ciphertext and
 * 128-bit tag. The magic is authenticated as associated data. A file that fails the tag check (tampered,
 * truncated, or sealed under another key) is refused with a message naming it; nothing is overwritten.
 */
public final class SealedFile {
  private static final byte[] MAGIC = "TBAGENT1".getBytes(StandardCharsets.US_ASCII);
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  /** The state is a few KiB; anything much bigger is not ours. */
  private static final int MAX_BYTES = 256 * 1024;

  private final Path file;
  private final StoreKey key;
  private final SecureRandom random = new SecureRandom();

  public SealedFile(Path file, StoreKey key) {
    this.file = file;
    this.key = key;
  }

  public Path path() {
    return file;
  }

  /** The plaintext, or empty if the file does not exist. */
  public Optional<byte[]> read() {
    byte[] sealed;
    try {
      if (Files.size(file) > MAX_BYTES) {
        throw damaged("is larger than " + MAX_BYTES + " bytes");
      }
      StateDirectory.requirePrivate(file, "600");
      sealed = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new AgentException(ExitCodes.STORE, "cannot read state file " + file + ": " + e.getMessage());
    }
    if (sealed.length < MAGIC.length + NONCE_BYTES + TAG_BITS / 8) {
      throw damaged("is truncated (" + sealed.length + " bytes)");
    }
    if (!Arrays.equals(sealed, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw damaged("is not a device-agent state file (bad header)");
    }
    try {
      Cipher cipher = key.gcm(Cipher.DECRYPT_MODE,
          new GCMParameterSpec(TAG_BITS, sealed, MAGIC.length, NONCE_BYTES));
      cipher.updateAAD(MAGIC);
      int offset = MAGIC.length + NONCE_BYTES;
      return Optional.of(cipher.doFinal(sealed, offset, sealed.length - offset));
    } catch (AEADBadTagException e) {
      throw damaged("failed its integrity check (tampered, truncated, or sealed with another key than the "
          + key.description() + ")");
    } catch (GeneralSecurityException e) {
      throw new AgentException(ExitCodes.KEY, "cannot decrypt state file " + file + " with the "
          + key.description() + ": " + e.getClass().getSimpleName());
    }
  }

  /** Seals {@code plaintext} and replaces the file atomically. */
  public void write(byte[] plaintext, AtomicFile.MidWriteHook hook) {
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    byte[] ciphertext;
    try {
      Cipher cipher = key.gcm(Cipher.ENCRYPT_MODE, new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(MAGIC);
      ciphertext = cipher.doFinal(plaintext);
    } catch (GeneralSecurityException e) {
      throw new AgentException(ExitCodes.KEY, "cannot encrypt the state with the " + key.description() + ": "
          + e.getClass().getSimpleName());
    }
    byte[] out = new byte[MAGIC.length + NONCE_BYTES + ciphertext.length];
    System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
    System.arraycopy(nonce, 0, out, MAGIC.length, NONCE_BYTES);
    System.arraycopy(ciphertext, 0, out, MAGIC.length + NONCE_BYTES, ciphertext.length);
    AtomicFile.write(file, out, hook);
  }

  private AgentException damaged(String what) {
    return new AgentException(ExitCodes.STORE, "state file " + file + " " + what + "; the agent will not "
        + "overwrite it. Restore it from a backup, or move it away and run 'device-agent login' to enrol again");
  }
}
