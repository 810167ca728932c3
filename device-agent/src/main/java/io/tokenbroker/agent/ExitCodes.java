package io.tokenbroker.agent;

/** The agent's process exit codes; each failure class has its own so scripts and init systems can act on it. */
public final class ExitCodes {
  /** Done. */
  public static final int OK = 0;
  /** Bad arguments or configuration (unknown key, wrong type, missing value). */
  public static final int CONFIG = 2;
  /** The device's PKCS#11 token or key cannot be used (library, slot, PIN, key generation). */
  public static final int KEY = 3;
  /** The state directory or store is unusable: loose permissions, tampered or truncated file, locked. */
  public static final int STORE = 4;
  /** The broker refused the request for a reason not listed below. */
  public static final int REFUSED = 5;
  /** The broker could not be reached (network, TLS, UNAVAILABLE). */
  public static final int UNREACHABLE = 6;
  /** RFC 8628 §3.5 access_denied: the owner denied the device. */
  public static final int ACCESS_DENIED = 7;
  /** RFC 8628 §3.5 expired_token: the user code expired before approval. */
  public static final int EXPIRED = 8;
  /** The broker reported the device as revoked: stop for good. */
  public static final int REVOKED = 9;
  /** No usable credentials: a new {@code login} is needed (never logged in, logged out, family dead). */
  public static final int LOGIN_REQUIRED = 10;
  /** The broker reported the device as suspended: wait. */
  public static final int SUSPENDED = 11;

  private ExitCodes() {}
}
