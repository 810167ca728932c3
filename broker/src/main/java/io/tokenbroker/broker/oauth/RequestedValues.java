package io.tokenbroker.broker.oauth;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Requested scopes and audiences checked against what may be granted. */
public final class RequestedValues {
  private static final int MAX_VALUES = 32;

  private RequestedValues() {}

  /**
   * The requested values, which must all be allowed; an empty request means everything the client may have
   * (RFC 6749 §3.3 lets the server apply a default).
   */
  public static Set<String> subset(List<String> requested, Set<String> allowed, OAuthError error, String what) {
    if (requested.size() > MAX_VALUES) {
      throw new OAuthException(OAuthError.INVALID_REQUEST, "at most " + MAX_VALUES + " " + what + " values");
    }
    if (requested.isEmpty()) {
      return allowed;
    }
    Set<String> granted = new HashSet<>();
    for (String value : requested) {
      if (value == null || value.isEmpty() || value.length() > 256) {
        throw new OAuthException(OAuthError.INVALID_REQUEST, what + " values must be 1-256 characters");
      }
      if (!allowed.contains(value)) {
        throw new OAuthException(error, "the client may not request " + what + " '" + value + "'");
      }
      granted.add(value);
    }
    return granted;
  }
}
