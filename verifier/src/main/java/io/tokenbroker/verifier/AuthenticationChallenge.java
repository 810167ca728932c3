package io.tokenbroker.verifier;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code WWW-Authenticate} values (RFC 6750 §3, RFC 9449 §7.1) for a refused request, shared by the gRPC and
 * HTTP adapters. Descriptions come from {@link VerificationException}, which never carries a token.
 */
public final class AuthenticationChallenge {
  private AuthenticationChallenge() {}

  /**
   * The challenges for a request that carried no credentials: RFC 6750 §3.1 says no error code then. Both
   * schemes are offered, DPoP with the proof algorithms (RFC 9449 §7.1).
   */
  public static List<String> forMissingCredentials() {
    return List.of("DPoP algs=\"" + TokenVerifier.DPOP_ALGORITHMS + "\"", "Bearer");
  }

  /**
   * The challenge for a refusal: in the scheme the client used ({@code Bearer} for certificate-bound tokens,
   * otherwise {@code DPoP} with {@code algs}).
   *
   * @param bearerScheme whether the request used the Bearer scheme
   */
  public static List<String> forRefusal(VerificationException refusal, boolean bearerScheme) {
    List<String> params = new ArrayList<>();
    params.add("error=\"" + refusal.error().code() + "\"");
    params.add("error_description=\"" + quoted(refusal.description()) + "\"");
    if (bearerScheme) {
      return List.of("Bearer " + String.join(", ", params));
    }
    params.add("algs=\"" + TokenVerifier.DPOP_ALGORITHMS + "\"");
    return List.of("DPoP " + String.join(", ", params));
  }

  /** The challenge for a token that lacks scopes (RFC 6750 §3.1 {@code insufficient_scope}). */
  public static List<String> forInsufficientScope(String requiredScopes, boolean bearerScheme) {
    String params = "error=\"insufficient_scope\", error_description=\"the access token lacks a required scope\", "
        + "scope=\"" + quoted(requiredScopes) + "\"";
    return List.of((bearerScheme ? "Bearer " : "DPoP ") + params);
  }

  /** Whether the request's (single) authorization value uses the Bearer scheme. */
  public static boolean usesBearerScheme(List<String> authorization) {
    return authorization.size() == 1 && authorization.get(0).regionMatches(true, 0, "Bearer ", 0, 7);
  }

  /** RFC 9110 §5.6.4 quoted-string content: printable ASCII, with {@code "} and {@code \} escaped. */
  private static String quoted(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c >= 0x20 && c < 0x7f) {
        sb.append(c);
      }
    }
    return sb.toString();
  }
}
