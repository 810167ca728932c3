package io.tokenbroker.bench;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Keycloak peer over HTTP/1.1 (keep-alive): each worker holds one rotating refresh chain bound to its own
 * DPoP key. Its first refresh token comes from the password grant (the device grant needs a browser login);
 * the measured refresh grant is the same one a device would use. Configuration comes from the env file that
 * {@code bench/keycloak/setup.sh} writes.
 */
final class KeycloakPeer {
  private static final Pattern REFRESH = Pattern.compile("\"refresh_token\"\\s*:\\s*\"([^\"]+)\"");
  private static final Pattern ACCESS = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"");
  private static final Pattern TOKEN_TYPE = Pattern.compile("\"token_type\"\\s*:\\s*\"([^\"]+)\"");
  private static final Pattern ERROR = Pattern.compile("\"error\"\\s*:\\s*\"([^\"]+)\"");

  record Config(String baseUrl, String realm, String clientId, String username, String password, long pid,
      String version, String javaHome, String readySeconds) {
    String tokenUrl() {
      return baseUrl + "/realms/" + realm + "/protocol/openid-connect/token";
    }
  }

  static Config load(Path envFile) throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    for (String line : Files.readAllLines(envFile)) {
      int eq = line.indexOf('=');
      if (eq > 0 && !line.startsWith("#")) {
        env.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
      }
    }
    return new Config(env.get("KEYCLOAK_URL"), env.get("KEYCLOAK_REALM"), env.get("KEYCLOAK_CLIENT"),
        env.get("KEYCLOAK_USER"), env.get("KEYCLOAK_PASSWORD"), Long.parseLong(env.get("KEYCLOAK_PID")),
        env.getOrDefault("KEYCLOAK_VERSION", "?"), env.getOrDefault("KEYCLOAK_JAVA_HOME", "?"),
        env.getOrDefault("KEYCLOAK_READY_SECONDS", "?"));
  }

  private final Config config;
  private final HttpClient http;

  KeycloakPeer(Config config) {
    this.config = config;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();
  }

  Config config() {
    return config;
  }

  /** One worker's refresh chain. */
  final class Chain {
    private final DpopKey key = new DpopKey();
    private String refreshToken;

    void login() throws Exception {
      refreshToken = post("grant_type=password&client_id=" + enc(config.clientId()) + "&username="
          + enc(config.username()) + "&password=" + enc(config.password()));
    }

    void refresh() throws Exception {
      refreshToken = post("grant_type=refresh_token&client_id=" + enc(config.clientId()) + "&refresh_token="
          + enc(refreshToken));
    }

    void refreshOrLogin() throws Exception {
      try {
        refresh();
      } catch (Exception e) {
        try {
          login();
        } catch (Exception again) {
          e.addSuppressed(again);
        }
        throw e;
      }
    }

    private String post(String form) throws Exception {
      HttpRequest request = HttpRequest.newBuilder(URI.create(config.tokenUrl()))
          .timeout(Duration.ofSeconds(15))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .header("DPoP", key.proof(config.tokenUrl()))
          .POST(HttpRequest.BodyPublishers.ofString(form)).build();
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      String body = response.body();
      if (response.statusCode() != 200) {
        Matcher e = ERROR.matcher(body);
        throw new ClosedLoop.PeerException("HTTP " + response.statusCode() + (e.find() ? "/" + e.group(1) : ""),
            body.length() > 200 ? body.substring(0, 200) : body);
      }
      Matcher refresh = REFRESH.matcher(body);
      Matcher access = ACCESS.matcher(body);
      Matcher type = TOKEN_TYPE.matcher(body);
      if (!refresh.find() || !access.find()) {
        throw new ClosedLoop.PeerException("no tokens in response", body);
      }
      if (!type.find() || !"DPoP".equalsIgnoreCase(type.group(1))) {
        throw new ClosedLoop.PeerException("token not DPoP-bound", "token_type is not DPoP");
      }
      return refresh.group(1);
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
