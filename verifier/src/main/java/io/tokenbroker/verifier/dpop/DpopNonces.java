package io.tokenbroker.verifier.dpop;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Server-provided DPoP nonces (RFC 9449 §8): stateless values {@code base64url(time || HMAC(time))} that are
 * valid for a bounded lifetime. They make pre-generated proofs useless (RFC 9449 §11.2).
 *
 * <p>The MAC key is random per process, so a restart invalidates outstanding nonces (a client simply gets
 * {@code use_dpop_nonce} once more). Several replicas would need a shared key.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class DpopNonces {
  private static final int TIME_BYTES = 8;
  private static final int MAC_BYTES = 16;

  private final SecretKeySpec key;
  private final Duration lifetime;
  private final Clock clock;

  public DpopNonces(Duration lifetime, Clock clock) {
    byte[] k = new byte[32];
    new SecureRandom().nextBytes(k);
    this.key = new SecretKeySpec(k, "HmacSHA256");
    this.lifetime = lifetime;
    this.clock = clock;
  }

  /** A fresh nonce. */
  public String issue() {
    long now = clock.instant().getEpochSecond();
    ByteBuffer b = ByteBuffer.allocate(TIME_BYTES + MAC_BYTES).putLong(now).put(mac(now));
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
  }

  /** Whether {@code nonce} was issued by this process and is still within its lifetime. */
  public boolean isValid(String nonce) {
    if (nonce == null || nonce.length() > 64) {
      return false;
    }
    byte[] raw;
    try {
      raw = Base64.getUrlDecoder().decode(nonce);
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (raw.length != TIME_BYTES + MAC_BYTES) {
      return false;
    }
    ByteBuffer b = ByteBuffer.wrap(raw);
    long issued = b.getLong();
    byte[] presented = new byte[MAC_BYTES];
    b.get(presented);
    if (!MessageDigest.isEqual(presented, mac(issued))) {
      return false;
    }
    Instant now = clock.instant();
    Instant issuedAt = Instant.ofEpochSecond(issued);
    return !issuedAt.isAfter(now.plusSeconds(1)) && now.isBefore(issuedAt.plus(lifetime));
  }

  private byte[] mac(long time) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      byte[] full = mac.doFinal(ByteBuffer.allocate(TIME_BYTES).putLong(time).array());
      byte[] truncated = new byte[MAC_BYTES];
      System.arraycopy(full, 0, truncated, 0, MAC_BYTES);
      return truncated;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
