package io.tokenbroker.broker.web;

import com.nimbusds.jose.util.JSONObjectUtils;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.RevocationServiceGrpc;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The RFC 8414 §2 authorization server metadata document served at
 * {@code /.well-known/oauth-authorization-server} (RFC 8414 §3). The endpoints are gRPC methods, named the way
 * DPoP {@code htu} values name them: the external base URL + "/" + the full method name (see DESIGN: protocol
 * mapping). There is no authorization endpoint: devices use the device grant (RFC 8628 §4).
 */
final class AuthorizationServerMetadata {
  static final String PATH = "/.well-known/oauth-authorization-server";
  static final List<String> DPOP_ALGORITHMS = List.of("ES256", "ES384", "PS256", "EdDSA");

  private AuthorizationServerMetadata() {}

  /** The JSON document. {@code webBase} is the HTTPS side's origin (that of the verification URI). */
  static String json(URI issuer, URI externalUrl, URI webBase) {
    String base = stripSlash(externalUrl.toString());
    Map<String, Object> m = new LinkedHashMap<>();
    // RFC 8414 §2: "issuer" REQUIRED, identical to the iss of the tokens (RFC 9068 §2.2).
    m.put("issuer", stripSlash(issuer.toString()));
    m.put("jwks_uri", webBase.resolve(BrokerWebServer.JWKS_PATH).toString());
    // RFC 8628 §4: the device authorization endpoint.
    m.put("device_authorization_endpoint",
        base + "/" + DeviceAuthorizationServiceGrpc.getStartDeviceAuthorizationMethod().getFullMethodName());
    m.put("token_endpoint", base + "/" + TokenServiceGrpc.getTokenMethod().getFullMethodName());
    // RFC 8414 §2 / RFC 7009: revocation; RFC 8414 §2 / RFC 7662: introspection (backends, mutual TLS).
    m.put("revocation_endpoint", base + "/" + TokenServiceGrpc.getRevokeTokenMethod().getFullMethodName());
    m.put("introspection_endpoint",
        base + "/" + RevocationServiceGrpc.getIntrospectTokenMethod().getFullMethodName());
    m.put("grant_types_supported", List.of("urn:ietf:params:oauth:grant-type:device_code", "refresh_token"));
    // RFC 8414 §2 makes this REQUIRED; empty because there is no authorization endpoint.
    m.put("response_types_supported", List.of());
    // Public clients (RFC 6749 §2.1): no client secret; possession is proven by DPoP (RFC 9449).
    m.put("token_endpoint_auth_methods_supported", List.of("none"));
    m.put("revocation_endpoint_auth_methods_supported", List.of("none"));
    m.put("introspection_endpoint_auth_methods_supported", List.of("tls_client_auth"));
    // RFC 9449 §5.1.
    m.put("dpop_signing_alg_values_supported", DPOP_ALGORITHMS);
    // RFC 8705 §3.3: clients with binding policy mtls get certificate-bound access tokens (cnf x5t#S256).
    m.put("tls_client_certificate_bound_access_tokens", true);
    return JSONObjectUtils.toJSONString(m);
  }

  private static String stripSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }
}
