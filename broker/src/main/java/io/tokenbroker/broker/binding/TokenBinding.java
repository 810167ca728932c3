package io.tokenbroker.broker.binding;

import java.util.Map;

/**
 * What a token is sender-constrained to (RFC 7800 §3.1 {@code cnf}): a DPoP key (RFC 9449 §6.1 {@code jkt}) or a
 * mutual-TLS client certificate (RFC 8705 §3.1 {@code x5t#S256}). Devices, refresh families and access tokens
 * carry exactly one; there are no unbound tokens.
 */
public sealed interface TokenBinding {
  /** The base64url SHA-256 value (43 characters). */
  String value();

  /** The {@code cnf} claim of an access token with this binding. */
  Map<String, Object> cnfClaim();

  /** RFC 9449 §6.1: bound to the DPoP key with this RFC 7638 thumbprint. */
  record Jkt(String value) implements TokenBinding {
    public Jkt {
      requireValue(value);
    }

    @Override
    public Map<String, Object> cnfClaim() {
      return Map.of("jkt", value);
    }
  }

  /** RFC 8705 §3.1: bound to the client certificate whose DER has this SHA-256 hash. */
  record X5tS256(String value) implements TokenBinding {
    public X5tS256 {
      requireValue(value);
    }

    @Override
    public Map<String, Object> cnfClaim() {
      return Map.of("x5t#S256", value);
    }
  }

  /** The binding stored as two nullable columns (jkt, x5t_s256), exactly one of them set. */
  static TokenBinding of(String jkt, String x5tS256) {
    if ((jkt == null) == (x5tS256 == null)) {
      throw new IllegalStateException("a binding needs exactly one of jkt and x5t#S256");
    }
    return jkt != null ? new Jkt(jkt) : new X5tS256(x5tS256);
  }

  /** The jkt column value, or null. */
  default String jktOrNull() {
    return this instanceof Jkt j ? j.value() : null;
  }

  /** The x5t_s256 column value, or null. */
  default String x5tS256OrNull() {
    return this instanceof X5tS256 x ? x.value() : null;
  }

  private static void requireValue(String value) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("refusing an empty binding");
    }
  }
}
