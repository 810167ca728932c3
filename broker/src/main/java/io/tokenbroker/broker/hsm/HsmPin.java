package io.tokenbroker.broker.hsm;

import io.tokenbroker.broker.BrokerFailure;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The user PIN of a PKCS#11 token. It comes from an environment variable or from a file that only its owner
 * can read, never from the broker's configuration file, and it never appears in {@link #toString()}.
 */
public final class HsmPin {
  private static final int MAX_PIN_LENGTH = 256;
  private static final Set<PosixFilePermission> TOO_OPEN = EnumSet.of(
      PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

  private final char[] pin;
  private final String source;

  private HsmPin(char[] pin, String source) {
    this.pin = pin;
    this.source = source;
  }

  /**
   * Reads the PIN from the environment variable {@code envName} when it is set, otherwise from {@code file}.
   *
   * @throws BrokerFailure when neither gives a PIN, or the file is readable by anyone but its owner
   */
  public static HsmPin resolve(String envName, Path file, Map<String, String> environment) {
    String fromEnv = envName == null ? null : environment.get(envName);
    if (fromEnv != null && !fromEnv.isEmpty()) {
      return of(fromEnv.strip().toCharArray(), "environment variable " + envName);
    }
    if (file == null) {
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG,
          "no HSM PIN: set the environment variable " + envName + " or 'hsm.pin-file' in the configuration");
    }
    if (!Files.isRegularFile(file)) {
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG,
          "HSM PIN file " + file + " does not exist; set 'hsm.pin-file' or the environment variable " + envName);
    }
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      if (perms.stream().anyMatch(TOO_OPEN::contains)) {
        throw new BrokerFailure(BrokerFailure.EXIT_CONFIG,
            "HSM PIN file " + file + " is accessible by other users; run: chmod 600 " + file);
      }
      byte[] bytes = Files.readAllBytes(file);
      try {
        String text = new String(bytes, StandardCharsets.UTF_8).strip();
        return of(text.toCharArray(), "file " + file);
      } finally {
        Arrays.fill(bytes, (byte) 0);
      }
    } catch (UnsupportedOperationException e) {
      // Not a POSIX file system: permissions cannot be checked here, read it anyway.
      return readUnchecked(file);
    } catch (IOException e) {
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "cannot read HSM PIN file " + file + ": " + e.getMessage());
    }
  }

  private static HsmPin readUnchecked(Path file) {
    try {
      return of(Files.readString(file, StandardCharsets.UTF_8).strip().toCharArray(), "file " + file);
    } catch (IOException e) {
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "cannot read HSM PIN file " + file + ": " + e.getMessage());
    }
  }

  private static HsmPin of(char[] pin, String source) {
    if (pin.length == 0 || pin.length > MAX_PIN_LENGTH) {
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG,
          "the HSM PIN from " + source + " must be 1 to " + MAX_PIN_LENGTH + " characters long");
    }
    return new HsmPin(pin, source);
  }

  /** Wraps a PIN held in memory, for tests and for {@code broker init}, which generates the PIN. */
  public static HsmPin ofChars(char[] pin, String source) {
    return of(pin.clone(), source);
  }

  /** A copy of the PIN for one login; the caller wipes it. */
  char[] copy() {
    return pin.clone();
  }

  /** Where the PIN came from, for error messages ("file /x/pin"); never the PIN itself. */
  public String source() {
    return source;
  }

  /** Overwrites the PIN in memory. */
  public void wipe() {
    Arrays.fill(pin, '\0');
  }

  @Override
  public String toString() {
    return "HsmPin[from " + source + ", redacted]";
  }
}
