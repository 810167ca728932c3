package io.tokenbroker.broker.oauth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 of a high-entropy secret (device code, refresh token), which is what the database stores and looks
 * up. A fast hash is right here: each secret carries 256 random bits, so there is nothing to brute-force.
 */
public final class SecretHash {
  private SecretHash() {}

  public static String sha256Hex(String secret) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
