package io.tokenbroker.e2e;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Date;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A minimal DPoP-protected HTTP API on loopback for the example device application: it accepts a POST only with
 * an RFC 9068 token signed by the broker (JWKS fetched over HTTPS with the broker's CA), for its audience, not
 * expired, presented as {@code Authorization: DPoP} with a proof (RFC 9449 §4.3) from the token's key
 * ({@code cnf.jkt}) for this method and URI, with the token's {@code ath}.
 */
final class ProtectedApi implements AutoCloseable {
  private final HttpServer server;
  private final JWKSet brokerKeys;
  private final String audience;
  final String url;

  ProtectedApi(BrokerHome broker, String audience) throws Exception {
    this.audience = audience;
    this.brokerKeys = JWKSet.parse(fetchJwks(broker));
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    url = "http://127.0.0.1:" + server.getAddress().getPort() + "/telemetry";
    server.createContext("/telemetry", this::handle);
    server.start();
  }

  private static String fetchJwks(BrokerHome broker) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(broker.caFile())) {
      trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(tls).build().send(HttpRequest.newBuilder(
        URI.create("https://localhost:" + broker.httpsPort + "/.well-known/jwks.json")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  private void handle(HttpExchange exchange) throws java.io.IOException {
    String refusal;
    try {
      refusal = check(exchange);
    } catch (Exception e) {
      refusal = "malformed: " + e.getClass().getSimpleName();
    }
    byte[] body = (refusal == null ? "accepted" : refusal).getBytes(StandardCharsets.UTF_8);
    if (refusal != null) {
      exchange.getResponseHeaders().add("WWW-Authenticate", "DPoP algs=\"ES256\"");
    }
    exchange.sendResponseHeaders(refusal == null ? 200 : 401, body.length);
    exchange.getResponseBody().write(body);
    exchange.close();
  }

  private String check(HttpExchange exchange) throws Exception {
    String authorization = exchange.getRequestHeaders().getFirst("Authorization");
    String proofHeader = exchange.getRequestHeaders().getFirst("DPoP");
    if (authorization == null || !authorization.startsWith("DPoP ") || proofHeader == null) {
      return "DPoP token and proof required";
    }
    String token = authorization.substring(5);
    SignedJWT jwt = SignedJWT.parse(token);
    ECKey signingKey = (ECKey) brokerKeys.getKeyByKeyId(jwt.getHeader().getKeyID());
    if (signingKey == null || !jwt.verify(new ECDSAVerifier(signingKey))
        || !new JOSEObjectType("at+jwt").equals(jwt.getHeader().getType())) {
      return "token not signed by the broker";
    }
    var claims = jwt.getJWTClaimsSet();
    if (!claims.getAudience().contains(audience) || claims.getExpirationTime().before(new Date())) {
      return "token expired or for another audience";
    }
    SignedJWT proof = SignedJWT.parse(proofHeader);
    if (!new JOSEObjectType("dpop+jwt").equals(proof.getHeader().getType())) {
      return "not a DPoP proof";
    }
    String proofKey = Jwts.verifiedProofKey(proofHeader);
    var p = proof.getJWTClaimsSet();
    if (!proofKey.equals(Jwts.jkt(token))) {
      return "proof key is not the token's key";
    }
    if (!"POST".equals(p.getStringClaim("htm")) || !url.equals(p.getStringClaim("htu"))) {
      return "proof is for another request";
    }
    if (!Jwts.ath(token).equals(p.getStringClaim("ath"))) {
      return "proof is for another token";
    }
    return null;
  }

  /** The example app, as a process: {@code java -cp device-agent.jar examples/device-app/DeviceApp.java}. */
  Proc.Result runExampleApp(Path socket) throws Exception {
    return Proc.run(java.util.Map.of(), java.util.List.of(Proc.JAVA, "-cp",
        Proc.ROOT.resolve("device-agent/target/device-agent.jar").toString(),
        Proc.ROOT.resolve("examples/device-app/DeviceApp.java").toString(), "--socket", socket.toString(),
        "--audience", audience, "--url", url));
  }

  @Override
  public void close() {
    server.stop(0);
  }

}
