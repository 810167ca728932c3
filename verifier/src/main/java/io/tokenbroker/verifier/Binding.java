package io.tokenbroker.verifier;

import java.util.Objects;

/**
 * What an access token is bound to, from its {@code cnf} claim (RFC 7800 §3.1), and what the caller proved it
 * holds.
 *
 * @param method how the token is bound
 * @param thumbprint {@code cnf.jkt} (RFC 9449 §6.1) or {@code cnf["x5t#S256"]} (RFC 8705 §3.1): base64url
 *     SHA-256, 43 characters
 */
public record Binding(Method method, String thumbprint) {
  /** The two confirmation methods the broker issues; it never issues unbound tokens. */
  public enum Method {
    /** RFC 9449: a DPoP key; the caller signed a proof with it. */
    DPOP,
    /** RFC 8705 §3: a client certificate; the caller made the TLS connection with it. */
    MTLS
  }

  public Binding {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(thumbprint, "thumbprint");
  }
}
