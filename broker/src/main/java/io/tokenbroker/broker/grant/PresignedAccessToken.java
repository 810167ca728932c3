package io.tokenbroker.broker.grant;

import io.tokenbroker.broker.binding.TokenBinding;
import io.tokenbroker.broker.token.AccessTokenIssuer.AccessToken;
import java.time.Duration;
import java.util.Set;

/**
 * An access token signed before its grant's transaction, from an unlocked read of the refresh family, so that the
 * HSM signature runs on the request thread, in parallel with other requests, instead of on the single writer that
 * commits the grants (GroupCommitTransactor). The transaction uses it only if what it decides under the locks
 * yields exactly the same claims ({@link #matches}); otherwise it signs anew. A prediction the transaction does
 * not use, or whose transaction fails or refuses, is dropped unseen: no token leaves the broker without its
 * committed grant, and an HSM that cannot sign still fails the request before anything changes.
 *
 * @param familyId the refresh family the presented token belonged to when read
 * @param deviceId that family's device
 */
record PresignedAccessToken(String familyId, String deviceId, String clientId, Set<String> scopes,
    Set<String> audiences, TokenBinding binding, Duration lifetime, AccessToken token) {

  /** Whether the transaction's decision would mint this very token (apart from {@code iat}, a moment earlier). */
  boolean matches(String deviceId, String clientId, Set<String> scopes, Set<String> audiences, TokenBinding binding,
      String familyId, Duration lifetime) {
    return this.deviceId.equals(deviceId) && this.clientId.equals(clientId) && this.scopes.equals(scopes)
        && this.audiences.equals(audiences) && this.binding.equals(binding) && this.familyId.equals(familyId)
        && this.lifetime.equals(lifetime);
  }

  @Override
  public String toString() {
    return "PresignedAccessToken[family=" + familyId + ", device=" + deviceId + ", token redacted]";
  }
}
