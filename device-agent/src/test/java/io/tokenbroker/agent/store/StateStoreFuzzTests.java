package io.tokenbroker.agent.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * The agent's sealed state file as it is read back after a restart ({@link StateStore#load}), from arbitrary
 * contents. Whatever the file holds, loading either refuses it with the store's {@link AgentException}
 * ({@link ExitCodes#STORE}, naming the file, repeating no secret of its content) and leaves the file, its mode,
 * the device secret and the rest of the directory exactly as they were, or returns a state from a file that an
 * independent AES-256-GCM check (the JDK's cipher under a key derived here with the JDK's HMAC) finds sealed
 * under this device's key, and that survives being saved and loaded again unchanged.
 *
 * <p>An input is the file's contents, except one that starts with the line {@code plain}: the rest is then
 * sealed under the device's key first, the way the agent seals its state, so that the fuzzer reaches the
 * decoding of the decrypted state (and of its rotation journal) behind the integrity check. The device secret is
 * fixed, so the committed genuine files decrypt. A software key in a temporary directory with the modes the
 * agent insists on (0700, 0600). Runs over the committed inputs in every build; {@code fuzz/run} fuzzes it.
 */
class StateStoreFuzzTests {
  /** A fixed device secret (test only), so that committed sealed files are genuine. */
  private static final byte[] DEVICE_SECRET = new byte[32];
  private static final byte[] MAGIC = "TBAGENT1".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PLAIN = "plain\n".getBytes(StandardCharsets.US_ASCII);
  private static final StateDirectory DIR;
  private static final StoreKey KEY;

  static {
    for (int i = 0; i < DEVICE_SECRET.length; i++) {
      DEVICE_SECRET[i] = (byte) (0xa0 + i);
    }
    try {
      DIR = StateDirectory.open(Files.createTempDirectory("state-store-fuzz").resolve("state"));
      Path secret = DIR.resolve("device.secret");
      Files.write(secret, DEVICE_SECRET);
      Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
      KEY = DerivedStoreKey.open(secret, false);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @FuzzTest
  // libFuzzer dictionary syntax: \xNN, \\ and \" are the only escapes.
  @DictionaryEntries({"TBAGENT1", "plain\\x0A", "version=1\\x0A", "client_id=", "device_id=", "refresh_token=",
      "refresh_expires_at=", "access_token=", "access_expires_at=", "audiences=", "scopes=", "last_refresh_at=",
      "device_state=", "last_error=", "last_error_reason=", "rotation_started_at=", "dpop_key_jwk=",
      "dpop_key_alias=", "2026-01-01T00:04:00Z", "+1000000000-12-31T23:59:59.999999999Z", "\\\\u00",
      "\\\\\\x0A", "#"})
  void loadRefusesWithoutHarmOrReturnsWhatWasSealedUnderTheDeviceKey(byte[] input) throws Exception {
    Path file = DIR.resolve(StateStore.FILE_NAME);
    byte[] plaintext = null;
    if (startsWith(input, PLAIN)) {
      plaintext = Arrays.copyOfRange(input, PLAIN.length, input.length);
      new SealedFile(file, KEY).write(plaintext, null);
    } else {
      Files.write(file, input);
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }
    Map<Path, String> before = snapshot();

    Optional<AgentState> loaded;
    try {
      loaded = new StateStore(DIR, KEY).load();
    } catch (AgentException refused) {
      assertThat(refused.exitCode()).as(refused.getMessage()).isEqualTo(ExitCodes.STORE);
      assertThat(refused.getMessage()).contains(file.toString());
      byte[] opened = IndependentSeal.open(Files.readAllBytes(file), DEVICE_SECRET);
      for (String secret : secrets(opened)) {
        assertThat(refused.getMessage()).as("a refusal repeats no secret of the file").doesNotContain(secret);
      }
      assertThat(snapshot()).as("a refused file is left as it was, and so is everything beside it")
          .isEqualTo(before);
      return;
    }
    assertThat(loaded).as("the file exists, so it is loaded or refused").isPresent();
    byte[] opened = IndependentSeal.open(Files.readAllBytes(file), DEVICE_SECRET);
    assertThat(opened).as("only a file sealed under this device's key is accepted").isNotNull();
    if (plaintext != null) {
      assertThat(opened).isEqualTo(plaintext);
    }
    AgentState state = loaded.get();
    for (String secret : secrets(opened)) {
      // The client and device ids are printed by design; a file whose id equals a token's value leaks nothing.
      if (!contains(state.clientId(), secret) && !contains(state.deviceId(), secret)) {
        assertThat(state.toString()).doesNotContain(secret);
      }
    }
    new StateStore(DIR, KEY).save(state);
    assertThat(new StateStore(DIR, KEY).load()).as("saving and loading again changes nothing").contains(state);
  }

  @Test
  void theGenuineSeedsLoadSoTheFuzzerStartsPastTheIntegrityCheck() throws Exception {
    for (String seed : List.of("seed-sealed-enrolled", "seed-sealed-rotation-journal")) {
      byte[] input;
      try (var in = StateStoreFuzzTests.class.getResourceAsStream("StateStoreFuzzTestsInputs/"
          + "loadRefusesWithoutHarmOrReturnsWhatWasSealedUnderTheDeviceKey/" + seed)) {
        input = in.readAllBytes();
      }
      loadRefusesWithoutHarmOrReturnsWhatWasSealedUnderTheDeviceKey(input);
      assertThat(new StateStore(DIR, KEY).load()).as(seed).hasValueSatisfying(s -> assertThat(s.hasRefreshToken())
          .isTrue());
    }
  }

  /** Every file in the state directory with its mode and contents. */
  private static Map<Path, String> snapshot() throws IOException {
    Map<Path, String> files = new TreeMap<>();
    try (var list = Files.list(DIR.path())) {
      for (Path p : list.toList()) {
        files.put(p.getFileName(), PosixFilePermissions.toString(Files.getPosixFilePermissions(p)) + " "
            + Arrays.toString(Files.readAllBytes(p)));
      }
    }
    return files;
  }

  /** The secret values of a decrypted state (tokens, key), when long enough to be recognisable. */
  private static List<String> secrets(byte[] plaintext) {
    List<String> secrets = new ArrayList<>();
    if (plaintext == null) {
      return secrets;
    }
    Properties p = new Properties();
    try {
      p.load(new StringReader(new String(plaintext, StandardCharsets.ISO_8859_1)));
    } catch (IOException | IllegalArgumentException e) {
      return secrets;
    }
    for (String name : List.of("refresh_token", "access_token", "dpop_key_jwk")) {
      String value = p.getProperty(name);
      if (value != null && value.strip().length() >= 8) {
        secrets.add(value.strip());
      }
    }
    return secrets;
  }

  private static boolean contains(String field, String secret) {
    return field != null && field.contains(secret);
  }

  private static boolean startsWith(byte[] input, byte[] prefix) {
    return input.length >= prefix.length && Arrays.equals(input, 0, prefix.length, prefix, 0, prefix.length);
  }

  /**
   * The sealed file format of {@link SealedFile} read with the JDK alone: magic, 96-bit nonce, AES-256-GCM
   * ciphertext and tag with the magic as associated data, under HKDF-SHA256 (RFC 5869) of the device secret.
   */
  static final class IndependentSeal {
    private IndependentSeal() {}

    /** The plaintext, or null if the file is not sealed under the key of {@code deviceSecret}. */
    static byte[] open(byte[] file, byte[] deviceSecret) throws GeneralSecurityException {
      if (file.length < MAGIC.length + 12 + 16 || !startsWith(file, MAGIC)) {
        return null;
      }
      Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
      gcm.init(Cipher.DECRYPT_MODE, new SecretKeySpec(hkdf(deviceSecret), "AES"),
          new GCMParameterSpec(128, file, MAGIC.length, 12));
      gcm.updateAAD(MAGIC);
      try {
        return gcm.doFinal(file, MAGIC.length + 12, file.length - MAGIC.length - 12);
      } catch (javax.crypto.AEADBadTagException e) {
        return null;
      }
    }

    private static byte[] hkdf(byte[] secret) throws GeneralSecurityException {
      Mac extract = Mac.getInstance("HmacSHA256");
      extract.init(new SecretKeySpec("tokenbroker device-agent".getBytes(StandardCharsets.US_ASCII), "HmacSHA256"));
      byte[] prk = extract.doFinal(secret);
      Mac expand = Mac.getInstance("HmacSHA256");
      expand.init(new SecretKeySpec(prk, "HmacSHA256"));
      expand.update("state store AES-256-GCM v1".getBytes(StandardCharsets.US_ASCII));
      return expand.doFinal(new byte[] {1});
    }
  }
}
