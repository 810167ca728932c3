package io.tokenbroker.broker.testing;

import io.tokenbroker.broker.hsm.HsmPin;
import io.tokenbroker.broker.hsm.Pkcs11Token;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The fresh SoftHSM2 token of one test class, logged in through SunPKCS11. */
public final class SoftHsm {
  private final Pkcs11Token token;
  private final Path pkcs11Config;
  private final Path library;
  private final String label;
  private final char[] pin;

  SoftHsm(Pkcs11Token token, Path pkcs11Config, Path library, String label, char[] pin) {
    this.token = token;
    this.pkcs11Config = pkcs11Config;
    this.library = library;
    this.label = label;
    this.pin = pin;
  }

  public Pkcs11Token token() {
    return token;
  }

  public Path pkcs11Config() {
    return pkcs11Config;
  }

  /** The user PIN's characters (a copy). */
  public char[] pinChars() {
    return pin.clone();
  }

  /** A fresh copy of the user PIN. */
  public HsmPin pin() {
    return HsmPin.ofChars(pin, "test");
  }

  /**
   * The object listing of OpenSC's {@code pkcs11-tool -O} for this token, logged in: an independent reading of
   * the PKCS#11 attributes, not SunPKCS11's.
   */
  public String pkcs11ToolObjects() throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("pkcs11-tool", "--module", library.toString(),
        "--token-label", label, "--login", "--pin", new String(pin), "-O"));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("pkcs11-tool failed: " + out);
    }
    return out;
  }
}
