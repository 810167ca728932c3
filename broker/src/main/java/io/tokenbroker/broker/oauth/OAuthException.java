package io.tokenbroker.broker.oauth;

import java.util.Objects;

/**
 * A request the broker refuses, with the OAuth error to report and a short description for the caller. The
 * description never contains a token, a code, a PIN or key material.
 */
public final class OAuthException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final OAuthError error;

  public OAuthException(OAuthError error, String description) {
    super(description, null, false, false);
    this.error = Objects.requireNonNull(error);
  }

  public OAuthError error() {
    return error;
  }

  /** The human sentence sent as {@code error_description}. */
  public String description() {
    return getMessage();
  }
}
