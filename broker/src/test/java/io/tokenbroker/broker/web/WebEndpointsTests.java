package io.tokenbroker.broker.web;

import static io.tokenbroker.broker.testing.HttpsTestClient.csrf;
import static io.tokenbroker.broker.testing.HttpsTestClient.form;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.util.JSONObjectUtils;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.testing.HttpsTestClient;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTPS listener over real TLS with java.net.http: security headers, cookie attributes, CSRF and form
 * bounds, the RFC 8414 metadata and the JWKS, on a real SoftHSM2 token and H2 file.
 */
@SoftHsmTest
class WebEndpointsTests {
  private static final String PASSWORD = "correct horse battery";
  private static final String NASTY_NAME = "<script>alert(1)</script> & \"Acme\"";

  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now());
  @TempDir Path dir;
  private InProcessBroker broker;
  private HttpsTestClient web;

  WebEndpointsTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  @BeforeEach
  void startBroker() throws Exception {
    broker = InProcessBroker.start(hsm, dir, clock, "web.sign-in-failures-per-account=3\n");
    broker.application().clientRegistry().create(ClientRegistry.draft(InProcessBroker.CLIENT, NASTY_NAME,
        Set.of("telemetry:write"), Set.of("https://api.example.test"), BindingPolicy.DPOP), "test");
    broker.application().ownerAccounts().create("alice", PASSWORD.toCharArray(), "test");
    web = new HttpsTestClient(dir.resolve("tls/ca.crt"), broker.webOrigin());
  }

  @AfterEach
  void stopBroker() throws Exception {
    broker.close();
  }

  private String startedUserCode() {
    StartDeviceAuthorizationResponse r = broker.deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId(InProcessBroker.CLIENT).build());
    return r.getUserCode();
  }

  /** Walks GET /device, the code, and sign-in; returns the confirmation page. */
  private HttpResponse<String> signedInConfirmation(String userCode) throws Exception {
    HttpResponse<String> page = web.get("/device");
    page = web.post("/device", form("csrf_token", csrf(page), "user_code", userCode));
    assertThat(page.body()).contains("Sign in");
    page = web.post("/device/sign-in", form("csrf_token", csrf(page), "user_code", userCode, "username", "alice",
        "password", PASSWORD));
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("Approve this device?");
    return page;
  }

  @Test
  void devicePageSendsStrictSecurityHeaders() throws Exception {
    HttpResponse<String> r = web.get("/device");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).contains("text/html; charset=utf-8");
    assertThat(r.headers().firstValue("content-security-policy")).contains("default-src 'none'; style-src 'self'; "
        + "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    assertThat(r.headers().firstValue("x-content-type-options")).contains("nosniff");
    assertThat(r.headers().firstValue("referrer-policy")).contains("no-referrer");
    assertThat(r.headers().firstValue("cache-control")).contains("no-store");
    assertThat(r.headers().firstValue("strict-transport-security")).contains("max-age=31536000");
    assertThat(r.headers().firstValue("x-frame-options")).contains("DENY");
    assertThat(r.headers().firstValue("server")).isEmpty();
    // No inline script or style, no third-party asset: everything the page loads is same-origin.
    assertThat(r.body()).doesNotContain("<script").doesNotContain("style=").doesNotContain("<style")
        .doesNotContain("http://").contains("<link rel=\"stylesheet\" href=\"/device/style.css\">");
  }

  @Test
  void sessionCookieIsHostPrefixedSecureHttpOnlySameSiteStrictAndStoredOnlyHashed() throws Exception {
    HttpResponse<String> r = web.get("/device");

    List<String> cookies = r.headers().allValues("set-cookie");
    assertThat(cookies).hasSize(1);
    String cookie = cookies.get(0);
    assertThat(cookie).startsWith("__Host-tokenbroker-session=").containsIgnoringCase("; Path=/")
        .containsIgnoringCase("; Secure").containsIgnoringCase("; HttpOnly").containsIgnoringCase("; SameSite=Strict")
        .doesNotContainIgnoringCase("Domain=");
    assertThat(web.session()).matches("[A-Za-z0-9_-]{43}");
    assertThat(sessionTable()).doesNotContain(web.session()).isNotEmpty();
  }

  @Test
  void signingInReplacesTheSessionWithANewIdAndCsrfToken() throws Exception {
    String code = startedUserCode();
    HttpResponse<String> page = web.get("/device");
    String anonymousId = web.session();
    String anonymousCsrf = csrf(page);
    page = web.post("/device", form("csrf_token", anonymousCsrf, "user_code", code));

    page = web.post("/device/sign-in", form("csrf_token", csrf(page), "user_code", code, "username", "ALICE",
        "password", PASSWORD));

    assertThat(page.body()).contains("Approve this device?");
    assertThat(web.session()).isNotEqualTo(anonymousId);
    assertThat(csrf(page)).isNotEqualTo(anonymousCsrf);
    // The planted anonymous session is gone: a request with it is no longer in any session.
    String signedIn = web.session();
    web.forgetSession();
    HttpResponse<String> fresh = web.get("/device");
    assertThat(web.session()).isNotEqualTo(signedIn).isNotEqualTo(anonymousId);
    assertThat(fresh.body()).doesNotContain("Signed in as");
  }

  @Test
  void decisionWithoutOrWithWrongCsrfTokenIsRefusedAndChangesNothing() throws Exception {
    String code = startedUserCode();
    HttpResponse<String> confirm = signedInConfirmation(code);
    Map<String, List<String>> before = broker.grantState();

    HttpResponse<String> missing = web.post("/device/decision", form("user_code", code, "decision", "approve"));
    HttpResponse<String> wrong = web.post("/device/decision", form("csrf_token", csrf(confirm) + "x",
        "user_code", code, "decision", "approve"));

    assertThat(missing.statusCode()).isEqualTo(403);
    assertThat(missing.body()).contains("Request refused").contains("Nothing was changed");
    assertThat(wrong.statusCode()).isEqualTo(403);
    assertThat(broker.grantState()).isEqualTo(before);
    // The real token still works afterwards: the refusal did not end the session either.
    HttpResponse<String> ok = web.post("/device/decision", form("csrf_token", csrf(confirm), "user_code", code,
        "decision", "approve"));
    assertThat(ok.body()).contains("Device approved");
  }

  @Test
  void postWithoutSessionCookieIsRefused() throws Exception {
    String code = startedUserCode();
    HttpResponse<String> page = web.get("/device");
    String token = csrf(page);
    web.forgetSession();

    HttpResponse<String> r = web.post("/device", form("csrf_token", token, "user_code", code));

    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("Session ended");
  }

  @Test
  void requestHeadersOver8KibAreRefusedWith431AndTheListenerKeepsServing() throws Exception {
    assertThat(web.get("/device", "X-Padding", "p".repeat(7 * 1024)).statusCode()).isEqualTo(200);
    assertThat(web.get("/device", "X-Padding", "p".repeat(9 * 1024)).statusCode()).isEqualTo(431);
    assertThat(web.get("/device").statusCode()).isEqualTo(200);
  }

  @Test
  void atTheConnectionLimitANewConnectionWaitsUntilAnOpenOneCloses() throws Exception {
    char[] password = "test-store".toCharArray();
    BrokerWebServer limited = new BrokerWebServer("127.0.0.1", 0, io.tokenbroker.broker.tls.TlsKeyStores.keyStore(
        dir.resolve("tls/server.crt"), dir.resolve("tls/server.key"), password), password,
        broker.application().webRoutes(), 2).start();
    javax.net.ssl.SSLSocketFactory tls = HttpsTestClient.sslContext(dir.resolve("tls/ca.crt")).getSocketFactory();
    java.util.concurrent.ExecutorService connector = java.util.concurrent.Executors.newSingleThreadExecutor();
    List<java.net.Socket> open = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) tls.createSocket("127.0.0.1", limited.port());
        s.setSoTimeout(30_000);
        s.startHandshake();
        open.add(s);
      }
      java.util.concurrent.Future<javax.net.ssl.SSLSocket> third = connector.submit(() -> {
        javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) tls.createSocket("127.0.0.1", limited.port());
        s.setSoTimeout(60_000);
        s.startHandshake();
        return s;
      });
      // Shorter than the 5 s after which idle connections are closed while at the limit.
      assertThat(catchTimeout(() -> third.get(1, java.util.concurrent.TimeUnit.SECONDS))).as("the third waits")
          .isTrue();
      open.remove(0).close();
      open.add(third.get(30, java.util.concurrent.TimeUnit.SECONDS));
    } finally {
      for (java.net.Socket s : open) {
        s.close();
      }
      connector.shutdownNow();
      limited.stop();
    }
  }

  private static boolean catchTimeout(java.util.concurrent.Callable<?> call) throws Exception {
    try {
      call.call();
      return false;
    } catch (java.util.concurrent.TimeoutException e) {
      return true;
    }
  }

  @Test
  void crossSiteOversizedAndNonFormPostsAreRefused() throws Exception {
    String code = startedUserCode();
    String token = csrf(web.get("/device"));

    HttpResponse<String> crossSite = web.post("/device", form("csrf_token", token, "user_code", code),
        "Sec-Fetch-Site", "cross-site");
    HttpResponse<String> oversized = web.post("/device", form("csrf_token", token, "user_code", code,
        "padding", "x".repeat(5000)));
    HttpResponse<String> json = web.postRaw("/device", "application/json", "{\"user_code\":\"" + code + "\"}");
    HttpResponse<String> put = web.get("/device/decision");

    assertThat(crossSite.statusCode()).isEqualTo(403);
    assertThat(oversized.statusCode()).isEqualTo(413);
    assertThat(json.statusCode()).isEqualTo(415);
    assertThat(put.statusCode()).isEqualTo(405);
    assertThat(crossSite.headers().firstValue("content-security-policy")).isPresent();
  }

  @Test
  void clientNameFromTheOperatorIsHtmlEscaped() throws Exception {
    HttpResponse<String> confirm = signedInConfirmation(startedUserCode());

    assertThat(confirm.body()).doesNotContain("<script>alert(1)</script>")
        .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Acme&quot;")
        .contains("telemetry:write").contains("https://api.example.test").contains(InProcessBroker.ISSUER)
        .contains("alice");
  }

  @Test
  void prefilledCodeIsNormalisedAndAnythingElseIsNotEchoed() throws Exception {
    String code = startedUserCode();

    HttpResponse<String> good = web.get("/device?user_code=" + code.toLowerCase().replace("-", "%20"));
    HttpResponse<String> bad = web.get("/device?user_code=%22%3E%3Cscript%3Ex%3C/script%3E");

    assertThat(good.body()).contains("value=\"" + code + "\"").contains("Check that this code");
    assertThat(bad.body()).doesNotContain("<script>x").doesNotContain("&lt;script");
  }

  @Test
  void accountIsLockedAfterRepeatedWrongPasswordsEvenForTheRightOne() throws Exception {
    String code = startedUserCode();
    HttpResponse<String> page = web.get("/device");
    page = web.post("/device", form("csrf_token", csrf(page), "user_code", code));
    String token = csrf(page);
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> wrong = web.post("/device/sign-in", form("csrf_token", token, "user_code", code,
          "username", "alice", "password", "wrong password " + i));
      assertThat(wrong.statusCode()).isEqualTo(400);
      assertThat(wrong.body()).contains("Wrong username or password").doesNotContain("wrong password " + i);
    }

    HttpResponse<String> locked = web.post("/device/sign-in", form("csrf_token", token, "user_code", code,
        "username", "alice", "password", PASSWORD));

    assertThat(locked.statusCode()).isEqualTo(429);
    assertThat(locked.body()).contains("Too many failed sign-ins");
    assertThat(locked.headers().firstValue("retry-after")).isPresent();
    assertThat(broker.auditCount("owner_sign_in_failed")).isEqualTo(3);
  }

  @Test
  void ownerPasswordIsStoredOnlyAsAnArgon2idHash() {
    String stored = broker.context().database().inTransaction(c -> {
      try (var s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT password_hash FROM owners")) {
        rs.next();
        return rs.getString(1);
      }
    });
    assertThat(stored).startsWith("$argon2id$v=19$m=19456,t=2,p=1$").doesNotContain(PASSWORD);
  }

  @Test
  void oneAddressCannotStartSessionsWithoutBound() throws Exception {
    int started = 0;
    HttpResponse<String> r = null;
    for (int i = 0; i <= DevicePageHandler.SESSION_STARTS_PER_ADDRESS; i++) {
      web.forgetSession();
      r = web.get("/device");
      if (r.statusCode() != 200) {
        break;
      }
      started++;
    }

    assertThat(started).isEqualTo(DevicePageHandler.SESSION_STARTS_PER_ADDRESS);
    assertThat(r.statusCode()).isEqualTo(429);
    assertThat(r.headers().allValues("set-cookie")).isEmpty();
    assertThat(sessionCount()).isEqualTo(started);
  }

  private int sessionCount() {
    return broker.context().database().inTransaction(c -> {
      try (var s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM owner_sessions")) {
        rs.next();
        return rs.getInt(1);
      }
    });
  }

  @Test
  @SuppressWarnings("unchecked")
  void metadataDocumentHasTheRfc8414ShapeWithGrpcEndpoints() throws Exception {
    HttpResponse<String> r = web.get("/.well-known/oauth-authorization-server");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).contains("application/json");
    Map<String, Object> m = JSONObjectUtils.parse(r.body());
    assertThat(m.get("issuer")).isEqualTo(InProcessBroker.ISSUER);
    assertThat(m.get("jwks_uri")).isEqualTo("https://broker.test:8444/.well-known/jwks.json");
    assertThat(m.get("device_authorization_endpoint"))
        .isEqualTo(InProcessBroker.ISSUER + "/tokenbroker.v1.DeviceAuthorizationService/StartDeviceAuthorization");
    assertThat(m.get("token_endpoint")).isEqualTo(InProcessBroker.tokenHtu());
    assertThat((List<Object>) (List<?>) m.get("grant_types_supported"))
        .containsExactly("urn:ietf:params:oauth:grant-type:device_code", "refresh_token");
    assertThat((List<Object>) (List<?>) m.get("token_endpoint_auth_methods_supported")).containsExactly("none");
    assertThat((List<Object>) (List<?>) m.get("dpop_signing_alg_values_supported")).contains("ES256", "EdDSA");
    assertThat(m.get("tls_client_certificate_bound_access_tokens")).as("RFC 8705 §3.3").isEqualTo(true);
    assertThat((List<Object>) (List<?>) m.get("response_types_supported")).isEmpty();
  }

  @Test
  void jwksIsStillServedAndMatchesTheSigningKeys() throws Exception {
    HttpResponse<String> r = web.get("/.well-known/jwks.json");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).contains("application/jwk-set+json");
    assertThat(JWKSet.parse(r.body()).getKeys()).extracting(k -> k.getKeyID())
        .containsExactlyInAnyOrderElementsOf(broker.context().keys().publishedKeys().getKeys().stream()
            .map(k -> k.getKeyID()).toList());
  }

  @Test
  void styleSheetAndUnknownPaths() throws Exception {
    HttpResponse<String> css = web.get("/device/style.css");
    HttpResponse<String> missing = web.get("/admin");

    assertThat(css.statusCode()).isEqualTo(200);
    assertThat(css.headers().firstValue("content-type")).contains("text/css; charset=utf-8");
    assertThat(css.body()).contains(".card");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.headers().firstValue("x-content-type-options")).contains("nosniff");
  }

  private String sessionTable() {
    return broker.context().database().inTransaction(c -> {
      StringBuilder sb = new StringBuilder();
      try (var s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM owner_sessions")) {
        while (rs.next()) {
          for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
            sb.append(rs.getString(i)).append('|');
          }
        }
      }
      return sb.toString();
    });
  }
}
