package io.tokenbroker.verifier.dpop;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Optional;

/**
 * RFC 9449 §4.3 check 9: {@code htu} is compared with the request URI "ignoring any query and fragment parts",
 * after RFC 3986 §6.2.2 syntax-based (case, percent-encoding, dot segments) and §6.2.3 scheme-based (default
 * port, empty path) normalisation.
 */
public final class HtuNormalizer {
  private static final String UNRESERVED_PUNCTUATION = "-._~";

  private HtuNormalizer() {}

  /** The normal form of an absolute http(s) URI without query and fragment, or empty if it is not one. */
  public static Optional<String> normalize(String value) {
    if (value == null || value.isEmpty() || value.length() > 2048) {
      return Optional.empty();
    }
    URI uri;
    try {
      uri = new URI(value);
    } catch (URISyntaxException e) {
      return Optional.empty();
    }
    String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!"https".equals(scheme) && !"http".equals(scheme)) {
      return Optional.empty();
    }
    if (uri.getRawAuthority() == null || uri.getHost() == null || uri.getRawUserInfo() != null) {
      return Optional.empty();
    }
    int port = uri.getPort();
    if (("https".equals(scheme) && port == 443) || ("http".equals(scheme) && port == 80)) {
      port = -1;
    }
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    Optional<String> percentNormalized = normalizePercentEncoding(path);
    if (percentNormalized.isEmpty()) {
      return Optional.empty();
    }
    String withoutDots;
    try {
      // Remove dot segments (RFC 3986 §5.2.4) on the path alone, under a placeholder authority.
      withoutDots = new URI("https://placeholder" + percentNormalized.get()).normalize().getRawPath();
    } catch (URISyntaxException e) {
      return Optional.empty();
    }
    return Optional.of(scheme + "://" + uri.getHost().toLowerCase(Locale.ROOT) + (port == -1 ? "" : ":" + port)
        + withoutDots);
  }

  /** Upper-case hex digits, and decode octets that are unreserved characters (RFC 3986 §6.2.2.2). */
  private static Optional<String> normalizePercentEncoding(String path) {
    StringBuilder sb = new StringBuilder(path.length());
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c != '%') {
        sb.append(c);
        continue;
      }
      if (i + 2 >= path.length()) {
        return Optional.empty();
      }
      int hi = Character.digit(path.charAt(i + 1), 16);
      int lo = Character.digit(path.charAt(i + 2), 16);
      if (hi < 0 || lo < 0) {
        return Optional.empty();
      }
      char decoded = (char) (hi * 16 + lo);
      if (Character.isLetterOrDigit(decoded) && decoded < 128 || UNRESERVED_PUNCTUATION.indexOf(decoded) >= 0) {
        sb.append(decoded);
      } else {
        sb.append('%').append(Character.toUpperCase(path.charAt(i + 1))).append(Character.toUpperCase(path.charAt(i + 2)));
      }
      i += 2;
    }
    return Optional.of(sb.toString());
  }
}
