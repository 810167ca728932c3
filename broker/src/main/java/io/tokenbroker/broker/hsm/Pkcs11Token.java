package io.tokenbroker.broker.hsm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.AuthProvider;
import java.security.KeyStore;
import java.security.Provider;
import java.security.Security;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import javax.security.auth.login.LoginException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A logged-in PKCS#11 token reached through the JDK's SunPKCS11 provider, configured from a SunPKCS11
 * configuration file (see {@code hsm-config/}).
 *
 * <p>Every way this can fail at start-up is turned into an {@link HsmException} whose message names what to
 * fix: the library is missing, no token is in the configured slot, the PIN is wrong or locked.
 *
 * <p>The login can vanish under a running broker: network HSMs drop sessions, idle YubiHSMs time out, an
 * administrator logs the token out. Key handles then fail (SoftHSM answers {@code CKR_OBJECT_HANDLE_INVALID}
 * or {@code CKR_USER_NOT_LOGGED_IN}). Whoever sees such a failure calls {@link #reportSessionLost()}; the
 * health monitor then calls {@link #relogin()}, which logs in again and bumps {@link #generation()} so that
 * key objects fetch fresh handles. The PIN is therefore kept in memory for the life of the process.
 *
 * <p>Thread-safety: thread-safe; the provider and key store are thread-safe as the JDK documents them.
 */
public final class Pkcs11Token {
  private static final Pattern LIBRARY = Pattern.compile("(?m)^\\s*library\\s*=\\s*(.+?)\\s*$");
  /** PKCS#11 return codes that mean the session, login or token is gone. */
  private static final List<String> SESSION_LOST = List.of("CKR_USER_NOT_LOGGED_IN", "CKR_OBJECT_HANDLE_INVALID",
      "CKR_KEY_HANDLE_INVALID", "CKR_SESSION_HANDLE_INVALID", "CKR_SESSION_CLOSED", "CKR_DEVICE_REMOVED",
      "CKR_TOKEN_NOT_PRESENT", "CKR_DEVICE_ERROR");
  private static final Pattern SLOT = Pattern.compile("(?m)^\\s*(slot|slotListIndex)\\s*=\\s*(\\S+)\\s*$");

  private final Provider provider;
  private final String description;
  /** A copy the token owns: re-login needs the PIN long after start-up. */
  private final HsmPin pin;
  private final AtomicLong generation = new AtomicLong();
  private final List<Runnable> sessionLostListeners = new CopyOnWriteArrayList<>();
  private volatile KeyStore keyStore;

  private Pkcs11Token(Provider provider, KeyStore keyStore, String description, HsmPin pin) {
    this.provider = provider;
    this.keyStore = keyStore;
    this.description = description;
    this.pin = pin;
  }

  /**
   * Loads the PKCS#11 library named in {@code configFile} and logs into its token with {@code pin}.
   *
   * @throws HsmException with a one-line explanation when the library, the token or the login fails
   */
  public static Pkcs11Token open(Path configFile, HsmPin pin) {
    String config = readConfig(configFile);
    Optional<String> library = match(LIBRARY, config, 1);
    if (library.isEmpty()) {
      throw new HsmException("PKCS#11 config " + configFile + " has no 'library = ...' line");
    }
    Path libraryPath = Path.of(library.get());
    if (!Files.isRegularFile(libraryPath)) {
      throw new HsmException("PKCS#11 library not found: " + libraryPath + " (named in " + configFile
          + "); install it (SoftHSM2: apt-get install -y softhsm2) or fix 'library'");
    }
    String slot = match(SLOT, config, 0).map(String::strip).orElse("the first slot");
    String description = "token in " + slot + " of " + libraryPath;

    Provider provider;
    try {
      provider = Security.getProvider("SunPKCS11").configure(configFile.toString());
    } catch (RuntimeException e) {
      throw new HsmException(describeStartFailure(e, configFile, slot, libraryPath), e);
    }

    KeyStore keyStore;
    char[] secret = pin.copy();
    try {
      keyStore = KeyStore.getInstance("PKCS11", provider);
      keyStore.load(null, secret);
    } catch (Exception e) {
      throw new HsmException(describeLoginFailure(e, description, pin), e);
    } finally {
      Arrays.fill(secret, '\0');
    }
    return new Pkcs11Token(provider, keyStore, description, HsmPin.ofChars(pin.copy(), pin.source()));
  }

  /**
   * Logs out (ignoring a login that is already gone), logs in again with the PIN and reloads the key store.
   * Key handles obtained before are invalid afterwards; {@link #generation()} tells their holders.
   *
   * @throws HsmException when the token cannot be logged into (still unreachable, PIN changed)
   */
  public synchronized void relogin() {
    try {
      ((AuthProvider) provider).logout();
    } catch (LoginException | RuntimeException e) {
      // Already logged out, or the session is gone: either way the login below starts afresh.
    }
    char[] secret = pin.copy();
    try {
      KeyStore fresh = KeyStore.getInstance("PKCS11", provider);
      fresh.load(null, secret);
      keyStore = fresh;
      generation.incrementAndGet();
    } catch (Exception e) {
      throw new HsmException(describeLoginFailure(e, description, pin), e);
    } finally {
      Arrays.fill(secret, '\0');
    }
  }

  /** Counts successful re-logins; a key handle fetched under an older generation must be fetched again. */
  public long generation() {
    return generation.get();
  }

  /** Called by code whose key operation failed because the session or login is gone. */
  public void reportSessionLost() {
    sessionLostListeners.forEach(Runnable::run);
  }

  /**
   * Reports a session loss when {@code failure} of a key operation means the session, the login or the token
   * went away (rather than that the operation itself was refused): a re-login with fresh handles may cure it.
   */
  public void noteFailure(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      String message = String.valueOf(t.getMessage());
      if (SESSION_LOST.stream().anyMatch(message::contains)) {
        reportSessionLost();
        return;
      }
    }
  }

  /** Registers {@code listener} to run (on the reporting thread; keep it short) when a session loss is reported. */
  public void onSessionLost(Runnable listener) {
    sessionLostListeners.add(listener);
  }

  private static String readConfig(Path configFile) {
    try {
      return Files.readString(configFile);
    } catch (IOException e) {
      throw new HsmException("cannot read PKCS#11 config " + configFile + " (" + e.getClass().getSimpleName()
          + "); set 'hsm.pkcs11-config' to a SunPKCS11 configuration file");
    }
  }

  private static Optional<String> match(Pattern pattern, String text, int group) {
    Matcher m = pattern.matcher(text);
    return m.find() ? Optional.of(m.group(group)) : Optional.empty();
  }

  private static String describeStartFailure(Throwable e, Path configFile, String slot, Path library) {
    String codes = pkcs11Codes(e);
    if (codes.contains("CKR_SLOT_ID_INVALID") || codes.contains("CKR_TOKEN_NOT_PRESENT")
        || codes.contains("CKR_TOKEN_NOT_RECOGNIZED") || codes.contains("NO TOKEN")
        || codes.contains("SLOTLISTINDEX")) {
      return "PKCS#11 token not found: no token in " + slot + " of " + library + " (" + configFile
          + "); list tokens with 'softhsm2-util --show-slots' or 'pkcs11-tool --module " + library
          + " -L' and fix 'slot'";
    }
    if (codes.contains("LOAD") || codes.contains("DLOPEN") || codes.contains("NOT FOUND")) {
      return "cannot load PKCS#11 library " + library + ": " + firstLine(e);
    }
    return "cannot start the PKCS#11 provider from " + configFile + ": " + firstLine(e);
  }

  private static String describeLoginFailure(Throwable e, String description, HsmPin pin) {
    String codes = pkcs11Codes(e);
    if (codes.contains("CKR_PIN_INCORRECT")) {
      return "HSM login failed: wrong PIN for the " + description + " (PIN from " + pin.source() + ")";
    }
    if (codes.contains("CKR_PIN_LOCKED")) {
      return "HSM login failed: the user PIN of the " + description + " is locked; unlock it with the SO PIN";
    }
    if (codes.contains("CKR_USER_PIN_NOT_INITIALIZED")) {
      return "HSM login failed: the " + description + " has no user PIN; initialise it first";
    }
    return "HSM login failed for the " + description + ": " + firstLine(e);
  }

  /** The messages along the cause chain, upper-cased, where SunPKCS11 puts the CKR_ code names. */
  private static String pkcs11Codes(Throwable e) {
    StringBuilder sb = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      sb.append(' ').append(t.getClass().getSimpleName()).append(' ').append(t.getMessage());
    }
    return sb.toString().toUpperCase(Locale.ROOT);
  }

  private static String firstLine(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }

  /** The SunPKCS11 provider bound to this token; every key operation pins it. */
  public Provider provider() {
    return provider;
  }

  /** The token's key store, logged in (the current one after a re-login). Aliases are the objects' {@code CKA_ID}. */
  public KeyStore keyStore() {
    return keyStore;
  }

  /** "token in slot = N of /usr/lib/...": for messages, never secret. */
  public String description() {
    return description;
  }
}
