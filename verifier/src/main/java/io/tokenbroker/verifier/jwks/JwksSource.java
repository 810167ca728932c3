package io.tokenbroker.verifier.jwks;

import com.nimbusds.jose.jwk.JWKSet;
import java.io.IOException;

/**
 * Port: where the broker's token-signing public keys come from (RFC 7517 §5). Verification never does network
 * I/O itself; {@link SigningKeyCache} calls this when it needs fresh keys.
 *
 * <p>Implementations: {@link GrpcJwksSource} ({@code JwksService.GetJwks}) and {@link HttpsJwksSource}
 * ({@code /.well-known/jwks.json}). Thread-safety: implementations are thread-safe.
 */
public interface JwksSource {
  /**
   * Fetches the current JWK Set.
   *
   * @throws IOException if the broker cannot be reached or answers with something that is not a JWK Set
   */
  JWKSet fetch() throws IOException;

  /** Where the keys come from, for logs (no secrets). */
  String describe();
}
