package io.tokenbroker.broker.devicecert;

import java.time.Instant;

/**
 * A certificate the device CA issued (RFC 5280 §4.1.2.2 serial as lowercase hex without leading zeros), with the
 * RFC 8705 §3.1 thumbprint of its DER. {@code revokedAt} is null while it is not revoked.
 */
public record DeviceCertificate(String serial, String deviceId, String x5tS256, Instant notBefore, Instant notAfter,
    Instant issuedAt, Instant revokedAt) {}
