package io.tokenbroker.broker.web;

import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;

/**
 * Headers on every HTTPS response. The page has no script at all, loads only its own style sheet and posts
 * only to itself, so the Content-Security-Policy can deny everything else; framing is refused (clickjacking of
 * the Approve button); nothing is cached and no Referer leaves the page (the prefilled URL carries the user
 * code).
 */
final class SecurityHeaders {
  static final String CONTENT_SECURITY_POLICY =
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
          + "base-uri 'none'";
  /** One year; browsers then refuse plain HTTP to this host. */
  static final String STRICT_TRANSPORT_SECURITY = "max-age=31536000";

  private SecurityHeaders() {}

  static void apply(HttpFields.Mutable headers) {
    headers.put("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    headers.put("X-Content-Type-Options", "nosniff");
    headers.put("Referrer-Policy", "no-referrer");
    headers.put("X-Frame-Options", "DENY");
    headers.put("Cross-Origin-Opener-Policy", "same-origin");
    headers.put("Cross-Origin-Resource-Policy", "same-origin");
    headers.put("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()");
    headers.put(HttpHeader.STRICT_TRANSPORT_SECURITY, STRICT_TRANSPORT_SECURITY);
    headers.put(HttpHeader.CACHE_CONTROL, "no-store");
  }
}
