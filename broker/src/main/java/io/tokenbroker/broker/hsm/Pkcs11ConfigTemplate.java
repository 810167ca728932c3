package io.tokenbroker.broker.hsm;

import java.nio.file.Path;

/**
 * Writes SunPKCS11 configuration files whose key-generation template keeps private keys inside the token.
 *
 * <p>Security: SoftHSM (and several HSMs) grant decrypt, unwrap and derive to a new private key unless told
 * otherwise, so the template states every usage flag. Public keys are session objects: the certificate
 * stored beside the private key carries the public key across restarts.
 */
public final class Pkcs11ConfigTemplate {
  /** The attribute block every broker key is generated with; the same text is in {@code hsm-config/}. */
  public static final String KEY_ATTRIBUTES = """
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
      """;

  private Pkcs11ConfigTemplate() {}

  /** A complete SunPKCS11 configuration for the token in {@code slot} of {@code library}. */
  public static String forSlot(String name, Path library, long slot) {
    return "# SunPKCS11 configuration written by 'broker init'. See hsm-config/README.md.\n"
        + "name = " + name + "\n"
        + "library = " + library + "\n"
        + "slot = " + slot + "\n"
        + KEY_ATTRIBUTES;
  }
}
