package io.tokenbroker.broker.device;

import io.tokenbroker.broker.oauth.SecretHash;
import java.security.SecureRandom;
import java.util.Optional;

/**
 * RFC 8628 §6.1 user codes: 8 characters from the 20 consonants {@code BCDFGHJKLMNPQRSTVWXZ} (no vowels, so no
 * words; about 34.5 bits), shown as {@code XXXX-XXXX}, and matched case-insensitively without the dash.
 */
public final class UserCode {
  static final String ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";
  static final int LENGTH = 8;
  /** Longest input accepted before normalisation: 8 characters plus generous separators. */
  static final int MAX_INPUT = 32;

  private UserCode() {}

  /** A fresh code in display form {@code XXXX-XXXX}. {@link SecureRandom#nextInt(int)} has no modulo bias. */
  public static String generate(SecureRandom random) {
    StringBuilder sb = new StringBuilder(LENGTH + 1);
    for (int i = 0; i < LENGTH; i++) {
      if (i == LENGTH / 2) {
        sb.append('-');
      }
      sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    return sb.toString();
  }

  /**
   * The canonical form of what a person typed: upper case, dashes and whitespace removed. Empty when the input
   * cannot be a user code (wrong length or a character outside the alphabet).
   */
  public static Optional<String> normalize(String input) {
    if (input == null || input.length() > MAX_INPUT) {
      return Optional.empty();
    }
    StringBuilder sb = new StringBuilder(LENGTH);
    for (char typed : input.toCharArray()) {
      if (typed == '-' || Character.isWhitespace(typed)) {
        continue;
      }
      // ASCII case folding only: Unicode upper-casing maps letters such as U+017F (long s) or U+FB00 (ff) onto
      // the alphabet, so codes could be "typed" with look-alike characters (found by UserCodeFuzzTests).
      char c = typed >= 'a' && typed <= 'z' ? (char) (typed - ('a' - 'A')) : typed;
      if (ALPHABET.indexOf(c) < 0 || sb.length() == LENGTH) {
        return Optional.empty();
      }
      sb.append(c);
    }
    return sb.length() == LENGTH ? Optional.of(sb.toString()) : Optional.empty();
  }

  /** What the database keeps: SHA-256 of the canonical form. */
  public static String hash(String canonical) {
    return SecretHash.sha256Hex("user-code:" + canonical);
  }
}
