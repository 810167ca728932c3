package io.tokenbroker.agent.keys;

import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import io.tokenbroker.agent.store.StateDirectory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.Provider;
import java.security.Security;
import java.util.Arrays;
import java.util.Optional;

/**
 * The device's PKCS#11 token (TPM2-PKCS#11, a secure element, SoftHSM2 in tests) reached through the JDK's
 * SunPKCS11 provider, logged in with the user PIN. The configuration file names the token ({@code name},
 * {@code library}, {@code slot}); when it has no {@code attributes(...)} lines of its own, the agent adds its
 * key-generation template {@link #ATTRIBUTES} (sensitive, non-extractable, single-purpose keys).
 */
public final class Pkcs11Device {
  /**
   * The key-generation template the agent uses: private keys that are token objects, sensitive, never extractable
   * and may only sign; AES keys that may only encrypt and decrypt.
   */
  public static final String ATTRIBUTES = """
      attributes(generate, CKO_PRIVATE_KEY, *) = {
        CKA_TOKEN = true
        CKA_PRIVATE = true
        CKA_SENSITIVE = true
        CKA_EXTRACTABLE = false
        CKA_SIGN = true
        CKA_DECRYPT = false
        CKA_UNWRAP = false
        CKA_DERIVE = false
      }
      attributes(generate, CKO_PUBLIC_KEY, *) = {
        CKA_TOKEN = false
        CKA_VERIFY = true
        CKA_ENCRYPT = false
        CKA_WRAP = false
      }
      attributes(generate, CKO_SECRET_KEY, CKK_AES) = {
        CKA_TOKEN = true
        CKA_PRIVATE = true
        CKA_SENSITIVE = true
        CKA_EXTRACTABLE = false
        CKA_ENCRYPT = true
        CKA_DECRYPT = true
        CKA_SIGN = false
        CKA_VERIFY = false
        CKA_WRAP = false
        CKA_UNWRAP = false
        CKA_DERIVE = false
      }
      """;

  private final Provider provider;
  private final KeyStore keyStore;
  private final Path configFile;

  private Pkcs11Device(Provider provider, KeyStore keyStore, Path configFile) {
    this.provider = provider;
    this.keyStore = keyStore;
    this.configFile = configFile;
  }

  /**
   * Loads the library named in {@code configFile} and logs in.
   *
   * @param pinEnv environment variable holding the PIN (wins when set)
   * @param pinFile file holding the PIN (mode 0600), if any
   */
  public static Pkcs11Device open(Path configFile, String pinEnv, Optional<Path> pinFile) {
    char[] pin = readPin(pinEnv, pinFile);
    Provider provider;
    try {
      // SunPKCS11 takes an inline configuration after "--": the file plus the agent's template when it has none.
      provider = Security.getProvider("SunPKCS11").configure("--" + withTemplate(readConfig(configFile)));
    } catch (RuntimeException e) {
      throw new AgentException(ExitCodes.KEY, "cannot load the PKCS#11 token configured in " + configFile + ": "
          + rootMessage(e));
    }
    try {
      KeyStore ks = KeyStore.getInstance("PKCS11", provider);
      ks.load(null, pin);
      return new Pkcs11Device(provider, ks, configFile);
    } catch (Exception e) {
      throw new AgentException(ExitCodes.KEY, "cannot log in to the PKCS#11 token configured in " + configFile
          + ": " + rootMessage(e) + " (wrong or locked PIN, or no token in the configured slot)");
    } finally {
      Arrays.fill(pin, '\0');
    }
  }

  /** {@code config} with {@link #ATTRIBUTES} appended, unless it declares key attributes itself. */
  static String withTemplate(String config) {
    return config.contains("attributes(") ? config : config.stripTrailing() + "\n" + ATTRIBUTES;
  }

  private static String readConfig(Path configFile) {
    try {
      return Files.readString(configFile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new AgentException(ExitCodes.KEY, "cannot read the PKCS#11 configuration " + configFile + ": "
          + e.getMessage());
    }
  }

  private static char[] readPin(String pinEnv, Optional<Path> pinFile) {
    String fromEnv = System.getenv(pinEnv);
    if (fromEnv != null && !fromEnv.isEmpty()) {
      return fromEnv.toCharArray();
    }
    if (pinFile.isEmpty()) {
      throw new AgentException(ExitCodes.KEY, "no PKCS#11 PIN: set " + pinEnv + " or the config key pkcs11.pin-file");
    }
    try {
      StateDirectory.requirePrivate(pinFile.get(), "600");
      return Files.readString(pinFile.get(), StandardCharsets.UTF_8).strip().toCharArray();
    } catch (IOException e) {
      throw new AgentException(ExitCodes.KEY, "cannot read PIN file " + pinFile.get() + ": " + e.getMessage());
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }

  public Provider provider() {
    return provider;
  }

  public KeyStore keyStore() {
    return keyStore;
  }

  public String description() {
    return "PKCS#11 token of " + configFile;
  }
}
