package io.tokenbroker.verifier;

/**
 * A refused token or proof. The message names the failed check in plain words and never contains the token,
 * the proof or any other secret, so it is safe to log and to return to the caller.
 */
public final class VerificationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final VerificationError error;

  /**
   * @param error the RFC error code this refusal maps to
   * @param description which check failed, without secrets
   */
  public VerificationException(VerificationError error, String description) {
    super(description, null, false, false);
    this.error = error;
  }

  /** The RFC error code this refusal maps to. */
  public VerificationError error() {
    return error;
  }

  /** Which check failed, in plain words; the same as {@link #getMessage()}. */
  public String description() {
    return getMessage();
  }
}
