package io.tokenbroker.broker.oauth;

import java.security.SecureRandom;
import java.util.Base64;

/** Opaque random values: 256-bit device codes and refresh tokens, 128-bit token ids. */
public final class RandomTokens {
  private static final SecureRandom RANDOM = new SecureRandom();

  private RandomTokens() {}

  /** {@code bytes} random bytes, base64url without padding. */
  public static String base64Url(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  public static SecureRandom random() {
    return RANDOM;
  }
}
