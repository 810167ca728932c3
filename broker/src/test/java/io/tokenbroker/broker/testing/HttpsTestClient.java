package io.tokenbroker.broker.testing;

import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * java.net.http over real TLS to the broker's HTTPS listener, trusting only the home's dev CA, with the one
 * session cookie of the verification page kept by hand (so tests see the exact Set-Cookie header).
 */
public final class HttpsTestClient {
  public static final String SESSION_COOKIE = "__Host-tokenbroker-session";
  private static final Pattern CSRF = Pattern.compile("name=\"csrf_token\" value=\"([^\"]*)\"");

  private final HttpClient http;
  private final URI origin;
  private String session;

  public HttpsTestClient(Path caFile, URI origin) throws Exception {
    http = HttpClient.newBuilder().sslContext(sslContext(caFile)).followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(10)).build();
    this.origin = origin;
  }

  /** A TLS client context that trusts only the CA in {@code caFile}. */
  public static SSLContext sslContext(Path caFile) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(caFile)) {
      trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    return ssl;
  }

  /** A GET with the kept session cookie; {@code extraHeaders} name/value pairs. */
  public HttpResponse<String> get(String pathAndQuery, String... extraHeaders) throws Exception {
    HttpRequest.Builder b = request(pathAndQuery).GET();
    for (int i = 0; i + 1 < extraHeaders.length; i += 2) {
      b.header(extraHeaders[i], extraHeaders[i + 1]);
    }
    return send(b.build());
  }

  /** A url-encoded form POST with the kept session cookie; {@code extraHeaders} name/value pairs. */
  public HttpResponse<String> post(String path, Map<String, String> form, String... extraHeaders) throws Exception {
    String body = form.entrySet().stream().map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8)).collect(Collectors.joining("&"));
    return postRaw(path, "application/x-www-form-urlencoded", body, extraHeaders);
  }

  public HttpResponse<String> postRaw(String path, String contentType, String body, String... extraHeaders)
      throws Exception {
    HttpRequest.Builder b = request(path).header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i + 1 < extraHeaders.length; i += 2) {
      b.header(extraHeaders[i], extraHeaders[i + 1]);
    }
    return send(b.build());
  }

  private HttpRequest.Builder request(String pathAndQuery) {
    HttpRequest.Builder b = HttpRequest.newBuilder(origin.resolve(pathAndQuery)).timeout(Duration.ofSeconds(30));
    if (session != null) {
      b.header("Cookie", SESSION_COOKIE + "=" + session);
    }
    return b;
  }

  private HttpResponse<String> send(HttpRequest request) throws Exception {
    HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
    r.headers().allValues("set-cookie").stream().filter(c -> c.startsWith(SESSION_COOKIE + "="))
        .forEach(c -> session = c.substring(SESSION_COOKIE.length() + 1, c.indexOf(';')));
    return r;
  }

  public String session() {
    return session;
  }

  public void forgetSession() {
    session = null;
  }

  /** The CSRF token of the first form of a page. */
  public static String csrf(HttpResponse<String> page) {
    Matcher m = CSRF.matcher(page.body());
    if (!m.find()) {
      throw new AssertionError("no csrf_token on the page: " + page.body());
    }
    return m.group(1);
  }

  public static Map<String, String> form(String... namesAndValues) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i + 1 < namesAndValues.length; i += 2) {
      m.put(namesAndValues[i], namesAndValues[i + 1]);
    }
    return m;
  }
}
