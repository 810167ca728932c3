package io.tokenbroker.verifier.revocation;

import io.tokenbroker.proto.v1.RevocationEvent;
import io.tokenbroker.verifier.token.AccessToken;
import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The live deny list built from {@code WatchRevocations} events (revocation_service.proto). Events only add and
 * are idempotent, so applying one twice, or a full snapshot over an existing list, is harmless.
 *
 * <p>Matching, as the proto defines it: a subject-based revocation (device, refresh family, client, DPoP key,
 * certificate hash) refuses tokens with that claim whose {@code iat} is at or before {@code revoked_at} rounded
 * up to the whole second, so a resumed device's new tokens work; an {@code access_token_jti} revocation refuses
 * exactly that token; a {@code certificate_serial} refuses mutual-TLS peers presenting it. Entries are dropped
 * after {@code relevant_until}, when every token they could affect has expired.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class RevocationList {
  /** Which claim a revocation names. */
  enum Kind { DEVICE, FAMILY, JTI, JKT, X5T, SERIAL, CLIENT }

  /** The latest revocation of one subject. */
  private record Entry(Instant revokedUpTo, Instant relevantUntil) {
    Entry merge(Entry other) {
      return new Entry(max(revokedUpTo, other.revokedUpTo), max(relevantUntil, other.relevantUntil));
    }

    private static Instant max(Instant a, Instant b) {
      return a.isAfter(b) ? a : b;
    }
  }

  private final Map<Kind, Map<String, Entry>> entries = new EnumMap<>(Kind.class);

  public RevocationList() {
    for (Kind k : Kind.values()) {
      entries.put(k, new ConcurrentHashMap<>());
    }
  }

  /** Adds one event from the stream. Returns false (and changes nothing) if it names no subject. */
  public boolean apply(RevocationEvent event) {
    Kind kind = switch (event.getSubjectCase()) {
      case DEVICE_ID -> Kind.DEVICE;
      case REFRESH_FAMILY_ID -> Kind.FAMILY;
      case ACCESS_TOKEN_JTI -> Kind.JTI;
      case JKT -> Kind.JKT;
      case X5T_S256 -> Kind.X5T;
      case CERTIFICATE_SERIAL -> Kind.SERIAL;
      case CLIENT_ID -> Kind.CLIENT;
      case SUBJECT_NOT_SET -> null;
    };
    if (kind == null) {
      return false;
    }
    String subject = switch (kind) {
      case DEVICE -> event.getDeviceId();
      case FAMILY -> event.getRefreshFamilyId();
      case JTI -> event.getAccessTokenJti();
      case JKT -> event.getJkt();
      case X5T -> event.getX5TS256();
      case SERIAL -> event.getCertificateSerial().toLowerCase(java.util.Locale.ROOT);
      case CLIENT -> event.getClientId();
    };
    Instant revokedAt = Instant.ofEpochSecond(event.getRevokedAt().getSeconds(), event.getRevokedAt().getNanos());
    // "iat at or before revoked_at rounded up to the whole second" (revocation_service.proto).
    Instant revokedUpTo = revokedAt.getNano() == 0 ? revokedAt : Instant.ofEpochSecond(revokedAt.getEpochSecond() + 1);
    Instant relevantUntil = Instant.ofEpochSecond(event.getRelevantUntil().getSeconds(),
        event.getRelevantUntil().getNanos());
    entries.get(kind).merge(subject, new Entry(revokedUpTo, relevantUntil), Entry::merge);
    return true;
  }

  /**
   * Why {@code token} (presented over a connection with {@code peer}, if any) is revoked, or empty if it is not.
   * The reason names the kind of revocation, never a secret.
   */
  public Optional<String> revocationOf(AccessToken token, Optional<X509Certificate> peer) {
    Instant iat = token.issuedAt();
    if (entries.get(Kind.JTI).containsKey(token.jti())) {
      return Optional.of("the access token was revoked");
    }
    if (covers(Kind.DEVICE, token.deviceId(), iat)) {
      return Optional.of("the device's tokens were revoked");
    }
    if (token.refreshFamilyId() != null && covers(Kind.FAMILY, token.refreshFamilyId(), iat)) {
      return Optional.of("the token's refresh family was revoked");
    }
    if (covers(Kind.CLIENT, token.clientId(), iat)) {
      return Optional.of("the tokens of every device of the client were revoked");
    }
    Kind bindingKind = switch (token.binding().method()) {
      case DPOP -> Kind.JKT;
      case MTLS -> Kind.X5T;
    };
    if (covers(bindingKind, token.binding().thumbprint(), iat)) {
      return Optional.of("the key or certificate the token is bound to was revoked");
    }
    if (peer.isPresent() && entries.get(Kind.SERIAL).containsKey(serial(peer.get().getSerialNumber()))) {
      return Optional.of("the client certificate was revoked");
    }
    return Optional.empty();
  }

  /** Forgets revocations whose tokens have all expired; returns how many. */
  public int purgeBefore(Instant now) {
    int removed = 0;
    for (Map<String, Entry> byKind : entries.values()) {
      int before = byKind.size();
      byKind.values().removeIf(e -> e.relevantUntil().isBefore(now));
      removed += before - byKind.size();
    }
    return removed;
  }

  /** How many subjects are on the list. */
  public int size() {
    return entries.values().stream().mapToInt(Map::size).sum();
  }

  private boolean covers(Kind kind, String subject, Instant iat) {
    Entry e = entries.get(kind).get(subject);
    return e != null && !iat.isAfter(e.revokedUpTo());
  }

  /** RFC 5280 serial as the proto writes it: lowercase hex, no separators, no leading zeros. */
  static String serial(BigInteger serial) {
    return serial.toString(16);
  }
}
