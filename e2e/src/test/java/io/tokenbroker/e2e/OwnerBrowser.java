package io.tokenbroker.e2e;

import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A device owner at the broker's verification page: java.net.http over TLS (trusting only the home's CA) with
 * a one-cookie jar for the session cookie, sending the forms with the CSRF token of the page they came from.
 * Every session cookie and CSRF token it receives becomes an {@link IssuedSecrets} entry, every page with an
 * error status goes to the {@link Transcript}.
 */
final class OwnerBrowser {
  static final String SESSION_COOKIE = "__Host-tokenbroker-session";
  private static final Pattern CSRF = Pattern.compile("name=\"csrf_token\" value=\"([^\"]*)\"");

  private final HttpClient http;
  private final URI origin;
  private final IssuedSecrets secrets;
  private final Transcript transcript;
  private String session;
  private String csrf;

  OwnerBrowser(BrokerHome broker, IssuedSecrets secrets, Transcript transcript) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(broker.caFile())) {
      trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    http = HttpClient.newBuilder().sslContext(ssl).followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(20)).build();
    origin = URI.create("https://localhost:" + broker.httpsPort);
    this.secrets = secrets;
    this.transcript = transcript;
  }

  /** The CSRF token of the last page's forms. */
  String csrf() {
    return csrf;
  }

  /** {@code GET path}; {@code typedCode} is the code in its query, which an error page may show back. */
  HttpResponse<String> get(String pathAndQuery, String typedCode) throws Exception {
    return send(request(pathAndQuery).GET().build(), typedCode);
  }

  /** A form POST ({@code names and values}), as the page's own form sends it. */
  HttpResponse<String> post(String path, String typedCode, String... form) throws Exception {
    StringBuilder body = new StringBuilder();
    for (int i = 0; i + 1 < form.length; i += 2) {
      body.append(body.length() == 0 ? "" : "&").append(URLEncoder.encode(form[i], StandardCharsets.UTF_8))
          .append('=').append(URLEncoder.encode(form[i + 1], StandardCharsets.UTF_8));
    }
    return send(request(path).header("Content-Type", "application/x-www-form-urlencoded")
        .header("Sec-Fetch-Site", "same-origin")
        .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), typedCode);
  }

  private HttpRequest.Builder request(String pathAndQuery) {
    HttpRequest.Builder b = HttpRequest.newBuilder(origin.resolve(pathAndQuery)).timeout(Duration.ofSeconds(60));
    if (session != null) {
      b.header("Cookie", SESSION_COOKIE + "=" + session);
    }
    return b;
  }

  private HttpResponse<String> send(HttpRequest request, String typedCode) throws Exception {
    HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
    for (String c : r.headers().allValues("set-cookie")) {
      if (c.startsWith(SESSION_COOKIE + "=")) {
        session = secrets.add("session cookie", c.substring(SESSION_COOKIE.length() + 1, c.indexOf(';')));
      }
    }
    Matcher m = CSRF.matcher(r.body());
    String pageCsrf = m.find() ? secrets.add("CSRF token", m.group(1)) : null;
    if (pageCsrf != null) {
      csrf = pageCsrf;
    }
    if (r.statusCode() >= 400) {
      // An error page is shown to the person who sent the form: it may carry that session's CSRF token in its
      // forms and show the code they typed, nothing else.
      Set<String> shows = new HashSet<>();
      if (pageCsrf != null) {
        shows.add(pageCsrf);
      }
      if (typedCode != null) {
        shows.add(typedCode);
      }
      transcript.add("verification page " + request.method() + " " + request.uri().getPath() + " -> "
          + r.statusCode(), r.body(), shows);
    }
    return r;
  }
}
