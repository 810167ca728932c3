package io.tokenbroker.broker.revocation;

import com.nimbusds.jwt.JWTClaimsSet;
import io.tokenbroker.broker.Transactor;
import io.tokenbroker.broker.device.Device;
import io.tokenbroker.broker.device.DeviceStore;
import io.tokenbroker.broker.token.IssuedTokenReader;
import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;

/**
 * RFC 7662 introspection of access tokens: {@code active} only when the token is ours, unexpired, its device
 * is ACTIVE and neither the device, its refresh family, its key nor the token itself was revoked after it was
 * issued. Refresh tokens are never reported active (they are for the device alone).
 */
public final class Introspection {
  /** RFC 7662 §2.2: what an active token's introspection reports. */
  public record Result(boolean active, JWTClaimsSet claims, Device.State deviceState) {
    static Result inactive() {
      return new Result(false, null, null);
    }
  }

  private final IssuedTokenReader reader;
  private final DeviceStore devices;
  private final RevocationLog log;
  private final Transactor transactor;
  private final Clock clock;

  public Introspection(IssuedTokenReader reader, DeviceStore devices, RevocationLog log, Transactor transactor,
      Clock clock) {
    this.reader = reader;
    this.devices = devices;
    this.log = log;
    this.transactor = transactor;
    this.clock = clock;
  }

  public Result introspect(String token) {
    Optional<JWTClaimsSet> read = reader.read(token);
    if (read.isEmpty()) {
      return Result.inactive();
    }
    JWTClaimsSet claims = read.get();
    Instant now = clock.instant();
    if (claims.getExpirationTime() == null || !now.isBefore(claims.getExpirationTime().toInstant())
        || claims.getIssueTime() == null) {
      return Result.inactive();
    }
    Instant iat = claims.getIssueTime().toInstant();
    return transactor.inTransaction(() -> {
      Optional<Device> device = devices.find(claims.getSubject());
      if (device.isEmpty() || device.get().state() != Device.State.ACTIVE) {
        return Result.inactive();
      }
      String sid = stringClaim(claims, "sid");
      String jkt = jkt(claims);
      boolean revoked = log.revokedSince(SubjectKind.DEVICE_ID, claims.getSubject(), iat)
          || (sid != null && log.revokedSince(SubjectKind.REFRESH_FAMILY_ID, sid, iat))
          || (claims.getJWTID() != null && log.isRevoked(SubjectKind.ACCESS_TOKEN_JTI, claims.getJWTID()))
          || (jkt != null && log.isRevoked(SubjectKind.JKT, jkt))
          || (x5t(claims) != null && log.revokedSince(SubjectKind.X5T_S256, x5t(claims), iat))
          || log.revokedSince(SubjectKind.CLIENT_ID, String.valueOf(claims.getClaim("client_id")), iat);
      return revoked ? Result.inactive() : new Result(true, claims, device.get().state());
    });
  }

  static String stringClaim(JWTClaimsSet claims, String name) {
    try {
      return claims.getStringClaim(name);
    } catch (ParseException e) {
      return null;
    }
  }

  /** RFC 8705 §3.1: the certificate thumbprint of a certificate-bound token, or null. */
  static String x5t(JWTClaimsSet claims) {
    try {
      var cnf = claims.getJSONObjectClaim("cnf");
      return cnf == null ? null : (String) cnf.get("x5t#S256");
    } catch (ParseException | ClassCastException e) {
      return null;
    }
  }

  static String jkt(JWTClaimsSet claims) {
    try {
      var cnf = claims.getJSONObjectClaim("cnf");
      return cnf == null ? null : (String) cnf.get("jkt");
    } catch (ParseException | ClassCastException e) {
      return null;
    }
  }
}
