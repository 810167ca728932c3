package io.tokenbroker.broker.web;

import static io.tokenbroker.broker.web.Html.escape;

import io.tokenbroker.broker.device.DeviceFlow;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.TreeSet;

/**
 * The HTML of the verification page (RFC 8628 §3.3): plain server-rendered forms, no script, one style sheet.
 * Every value shown is escaped, including client names and scopes that operators typed. Each page says which
 * broker it belongs to, so a person can tell a look-alike.
 */
final class DevicePages {
  static final String STYLE_PATH = "/device/style.css";
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")
      .withZone(ZoneOffset.UTC);

  /** A rendered page and its HTTP status. */
  record Page(int status, String html) {}

  private final String issuer;

  DevicePages(String issuer) {
    this.issuer = issuer;
  }

  /** The form where a person types the code the device shows (prefilled from verification_uri_complete). */
  Page enterCode(int status, String csrf, String prefilled, String alert, String signedInAs) {
    StringBuilder b = new StringBuilder();
    alert(b, alert);
    if (prefilled != null && !prefilled.isEmpty() && alert == null) {
      b.append("<p class=\"lead\">Check that this code is the one your device shows, then continue.</p>\n");
    } else {
      b.append("<p class=\"lead\">Enter the code your device shows to connect it to your account.</p>\n");
    }
    b.append("<form method=\"post\" action=\"/device\">\n");
    csrf(b, csrf);
    b.append("<label for=\"user_code\">Code shown on your device</label>\n")
        .append("<input id=\"user_code\" name=\"user_code\" type=\"text\" class=\"code-input\" required ")
        .append("maxlength=\"32\" autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" ")
        .append("aria-describedby=\"code-help\" value=\"").append(escape(prefilled)).append("\"")
        .append(prefilled == null || prefilled.isEmpty() ? " autofocus" : "").append(">\n")
        .append("<p id=\"code-help\" class=\"hint\">8 letters, like BDFG-HJKL. Lower case, spaces and a missing "
            + "dash are fine.</p>\n")
        .append("<div class=\"actions\"><button type=\"submit\" class=\"primary\">Continue</button></div>\n")
        .append("</form>\n");
    signedIn(b, csrf, signedInAs);
    return page(status, "Connect a device", b);
  }

  /** Sign-in, carrying the code that was entered. */
  Page signIn(int status, String csrf, String userCode, String username, String alert) {
    StringBuilder b = new StringBuilder();
    alert(b, alert);
    b.append("<p class=\"lead\">Sign in to decide about the device showing <span class=\"code\">")
        .append(escape(userCode)).append("</span>.</p>\n")
        .append("<form method=\"post\" action=\"/device/sign-in\">\n");
    csrf(b, csrf);
    hidden(b, "user_code", userCode);
    b.append("<label for=\"username\">Username</label>\n")
        .append("<input id=\"username\" name=\"username\" type=\"text\" required maxlength=\"64\" ")
        .append("autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" value=\"")
        .append(escape(username)).append("\"").append(username == null || username.isEmpty() ? " autofocus" : "")
        .append(">\n")
        .append("<label for=\"password\">Password</label>\n")
        .append("<input id=\"password\" name=\"password\" type=\"password\" required maxlength=\"128\" ")
        .append("autocomplete=\"current-password\"").append(username != null && !username.isEmpty() ? " autofocus" : "")
        .append(">\n")
        .append("<div class=\"actions\"><button type=\"submit\" class=\"primary\">Sign in</button></div>\n")
        .append("</form>\n")
        .append("<p class=\"hint\"><a href=\"/device\">Enter a different code</a></p>\n");
    return page(status, "Sign in", b);
  }

  /** RFC 8628 §5.4: what is asked, by which product, since when, at which broker; then approve or deny. */
  Page confirm(String csrf, String userCode, DeviceFlow.PendingRequest request, String owner, Instant now) {
    StringBuilder b = new StringBuilder();
    b.append("<p class=\"lead\">A device asks to act on your behalf. Approve only if <strong>you</strong> started "
            + "this on a device you own and its screen shows this code:</p>\n")
        .append("<p class=\"code big\" id=\"confirm-code\">").append(escape(userCode)).append("</p>\n")
        .append("<dl class=\"facts\">\n")
        .append("<dt>Product</dt><dd id=\"client-name\">").append(escape(request.clientName()))
        .append(" <span class=\"muted\">(").append(escape(request.clientId())).append(")</span></dd>\n")
        .append("<dt>Permissions</dt><dd>");
    list(b, "scopes", request.scopes(), "none");
    b.append("</dd>\n<dt>Services it may call</dt><dd>");
    list(b, "audiences", request.audiences(), "none");
    b.append("</dd>\n<dt>Requested</dt><dd id=\"requested\">").append(TIME.format(request.createdAt()))
        .append(" (").append(ago(request.createdAt(), now)).append(")</dd>\n")
        .append("<dt>Code valid until</dt><dd>").append(TIME.format(request.expiresAt())).append("</dd>\n")
        .append("<dt>Broker</dt><dd id=\"broker\">").append(escape(issuer)).append("</dd>\n")
        .append("<dt>Your account</dt><dd id=\"owner\">").append(escape(owner)).append("</dd>\n")
        .append("</dl>\n")
        .append("<form method=\"post\" action=\"/device/decision\">\n");
    csrf(b, csrf);
    hidden(b, "user_code", userCode);
    b.append("<div class=\"actions\">")
        .append("<button type=\"submit\" name=\"decision\" value=\"approve\" id=\"approve\" class=\"primary\">")
        .append("Approve</button>")
        .append("<button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\" class=\"secondary\">")
        .append("Deny</button></div>\n</form>\n")
        .append("<p class=\"hint\">Someone sent you this code, or you did not start anything? Deny.</p>\n");
    return page(200, "Approve this device?", b);
  }

  Page approved(String clientName, String owner) {
    StringBuilder b = new StringBuilder();
    b.append("<p class=\"lead success\" role=\"status\">").append(escape(clientName))
        .append(" is now connected to the account ").append(escape(owner)).append(".</p>\n")
        .append("<p>Go back to your device: it continues by itself within a few seconds. You can close this page."
            + "</p>\n");
    return page(200, "Device approved", b);
  }

  Page denied(String clientName) {
    StringBuilder b = new StringBuilder();
    b.append("<p class=\"lead\" role=\"status\">The request of ").append(escape(clientName))
        .append(" was denied. The device gets no access.</p>\n")
        .append("<p><a href=\"/device\">Enter another code</a></p>\n");
    return page(200, "Request denied", b);
  }

  Page expired() {
    return ended(410, "Code expired", "This code has expired. Start again on the device to get a new code.");
  }

  Page alreadyUsed() {
    return ended(409, "Code already used",
        "Someone already approved or denied the request with this code. If that was not you, tell your operator.");
  }

  Page lockedOut(Instant until, Instant now, String what) {
    return ended(429, "Too many attempts", "Too many " + what + ". For your safety, try again in "
        + minutes(Duration.between(now, until)) + ".");
  }

  Page refused(int status, String title, String message) {
    return ended(status, title, message);
  }

  private Page ended(int status, String title, String message) {
    StringBuilder b = new StringBuilder();
    alert(b, message);
    b.append("<p><a href=\"/device\">Enter a code</a></p>\n");
    return page(status, title, b);
  }

  private void signedIn(StringBuilder b, String csrf, String owner) {
    if (owner == null) {
      return;
    }
    b.append("<form method=\"post\" action=\"/device/sign-out\" class=\"account\">\n");
    csrf(b, csrf);
    b.append("<span>Signed in as <strong>").append(escape(owner)).append("</strong></span> ")
        .append("<button type=\"submit\" class=\"link\">Sign out</button>\n</form>\n");
  }

  private Page page(int status, String title, StringBuilder body) {
    String html = "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        + "<meta name=\"referrer\" content=\"no-referrer\">\n"
        + "<title>" + escape(title) + " · tokenbroker</title>\n"
        + "<link rel=\"stylesheet\" href=\"" + STYLE_PATH + "\">\n</head>\n<body>\n"
        + "<header class=\"bar\"><span class=\"brand\">tokenbroker</span>"
        + "<span class=\"issuer\">" + escape(issuer) + "</span></header>\n"
        + "<main class=\"card\">\n<h1>" + escape(title) + "</h1>\n" + body + "</main>\n"
        + "<footer>Device approval for " + escape(issuer) + ". Never enter a code that someone else gave you."
        + "</footer>\n</body>\n</html>\n";
    return new Page(status, html);
  }

  private static void alert(StringBuilder b, String message) {
    if (message != null) {
      b.append("<p class=\"alert\" role=\"alert\" id=\"alert\">").append(escape(message)).append("</p>\n");
    }
  }

  private static void csrf(StringBuilder b, String token) {
    hidden(b, DevicePageHandler.CSRF_FIELD, token);
  }

  private static void hidden(StringBuilder b, String name, String value) {
    b.append("<input type=\"hidden\" name=\"").append(escape(name)).append("\" value=\"").append(escape(value))
        .append("\">\n");
  }

  private static void list(StringBuilder b, String id, Collection<String> values, String empty) {
    if (values.isEmpty()) {
      b.append("<span class=\"muted\">").append(escape(empty)).append("</span>");
      return;
    }
    b.append("<ul id=\"").append(id).append("\">");
    for (String v : new TreeSet<>(values)) {
      b.append("<li>").append(escape(v)).append("</li>");
    }
    b.append("</ul>");
  }

  private static String ago(Instant then, Instant now) {
    long seconds = Math.max(0, Duration.between(then, now).getSeconds());
    if (seconds < 60) {
      return "just now";
    }
    long minutes = seconds / 60;
    return minutes == 1 ? "1 minute ago" : minutes + " minutes ago";
  }

  private static String minutes(Duration d) {
    long m = Math.max(1, (d.getSeconds() + 59) / 60);
    return m == 1 ? "1 minute" : m + " minutes";
  }
}
