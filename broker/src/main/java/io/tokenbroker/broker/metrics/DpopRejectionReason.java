package io.tokenbroker.broker.metrics;

import io.tokenbroker.broker.oauth.OAuthError;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Which RFC 9449 check a refused DPoP proof failed, as a label value from a fixed set. The validator says it in
 * words (its descriptions never echo the proof); this reads the words, so a description nobody foresaw becomes
 * {@link #OTHER} rather than a new label.
 */
public enum DpopRejectionReason {
  /** RFC 9449 §8: a server nonce is required and the proof has none or a stale one. */
  NONCE,
  /** §4.3 check 1: no proof. */
  MISSING,
  /** §4.3 check 1: more than one proof. */
  MULTIPLE,
  TOO_LARGE,
  /** §4.3 check 2-3: not a well-formed JWT. */
  MALFORMED,
  /** §11.1: the proof's jti was seen before. */
  REPLAY,
  /** The proof is from another key than the token or refresh token is bound to. */
  KEY_MISMATCH,
  /** §4.3 check 7. */
  SIGNATURE,
  /** §4.3 check 4. */
  TYP,
  /** §4.3 check 5. */
  ALG,
  CRIT,
  /** §4.3 check 6: the jwk header is missing, private or does not fit alg. */
  JWK,
  JTI,
  /** §4.3 check 8: method. */
  HTM,
  /** §4.3 check 9: URI. */
  HTU,
  /** §4.3 check 11: iat outside the window. */
  IAT,
  /** §4.3 check 12: the access token hash. */
  ATH,
  OTHER;

  private static final Pattern WORDS = Pattern.compile("[^a-z0-9+-]+");

  /** The label value: the name in lower case. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The reason of a refusal with {@code error} ({@code INVALID_DPOP_PROOF} or {@code USE_DPOP_NONCE}). */
  public static DpopRejectionReason classify(OAuthError error, String description) {
    if (error == OAuthError.USE_DPOP_NONCE) {
      return NONCE;
    }
    String text = description == null ? "" : description.toLowerCase(Locale.ROOT);
    // Whole phrases first: a description may name several fields ("signature ... with its jwk").
    if (text.contains("is required")) {
      return MISSING;
    }
    if (text.contains("exactly one")) {
      return MULTIPLE;
    }
    if (text.contains("larger than")) {
      return TOO_LARGE;
    }
    if (text.contains("well-formed")) {
      return MALFORMED;
    }
    if (text.contains("already used")) {
      return REPLAY;
    }
    if (text.contains("bound")) {
      return KEY_MISMATCH;
    }
    if (text.contains("signature")) {
      return SIGNATURE;
    }
    if (text.contains("critical")) {
      return CRIT;
    }
    java.util.Set<String> words = new java.util.HashSet<>(java.util.Arrays.asList(
        WORDS.split(text.replace("'s", " "))));
    for (DpopRejectionReason claim : new DpopRejectionReason[] {TYP, ALG, JWK, JTI, HTM, HTU, IAT, ATH}) {
      if (words.contains(claim.label())) {
        return claim;
      }
    }
    if (text.contains("rsa key")) {
      return JWK;
    }
    return OTHER;
  }
}
