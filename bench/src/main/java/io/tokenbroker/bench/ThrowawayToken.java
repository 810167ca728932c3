package io.tokenbroker.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A SoftHSM2 token made for one measurement with {@code softhsm2-util}: its {@code softhsm2.conf} (a JVM using it
 * needs {@code SOFTHSM2_CONF} pointing there before it loads the library) and a SunPKCS11 configuration for its
 * slot. Its PIN is a throwaway for a throwaway token, so it may appear in a child's arguments.
 */
record ThrowawayToken(Path softhsmConf, Path pkcs11Config) {
  static final String PIN = "246810";
  static final String SOFTHSM_LIBRARY = "/usr/lib/softhsm/libsofthsm2.so";
  private static final Pattern SLOT = Pattern.compile("reassigned to slot (\\d+)");
  /** The broker's template: the private key is a sensitive, non-extractable token object that may only sign. */
  private static final String BROKER_KEY_ATTRIBUTES = "attributes(generate, CKO_PRIVATE_KEY, *) = {\n"
      + "  CKA_TOKEN = true\n  CKA_PRIVATE = true\n  CKA_SENSITIVE = true\n  CKA_EXTRACTABLE = false\n"
      + "  CKA_SIGN = true\n  CKA_DECRYPT = false\n  CKA_UNWRAP = false\n  CKA_DERIVE = false\n}\n"
      + "attributes(generate, CKO_PUBLIC_KEY, *) = {\n  CKA_TOKEN = false\n  CKA_VERIFY = true\n}\n";

  /**
   * Initialises a token labelled {@code label} under {@code dir}; with {@code brokerKeyAttributes} its SunPKCS11
   * configuration generates keys as the broker's does, otherwise it names only the library and slot.
   */
  static ThrowawayToken create(Path dir, String label, boolean brokerKeyAttributes) throws Exception {
    Path tokens = Files.createDirectories(dir.resolve("tokens"));
    Path conf = dir.resolve("softhsm2.conf");
    Files.writeString(conf, "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n"
        + "slots.removable = false\n");
    ProcessBuilder init = new ProcessBuilder("softhsm2-util", "--init-token", "--free", "--label", label,
        "--pin", PIN, "--so-pin", PIN + "0").redirectErrorStream(true);
    init.environment().put("SOFTHSM2_CONF", conf.toString());
    Process p = init.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("softhsm2-util --init-token failed: " + out.trim());
    }
    Matcher slot = SLOT.matcher(out);
    if (!slot.find()) {
      throw new IllegalStateException("cannot find the slot in: " + out.trim());
    }
    Path cfg = dir.resolve("pkcs11.cfg");
    Files.writeString(cfg, "name = " + label.replaceAll("[^A-Za-z0-9]", "") + "\nlibrary = " + SOFTHSM_LIBRARY
        + "\nslot = " + slot.group(1) + "\n" + (brokerKeyAttributes ? BROKER_KEY_ATTRIBUTES : ""));
    return new ThrowawayToken(conf, cfg);
  }
}
