package io.tokenbroker.broker.devicecert;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Port: the certificates the device CA issued. */
public interface DeviceCertificateStore {
  void insert(DeviceCertificate certificate);

  Optional<DeviceCertificate> findBySerial(String serial);

  Optional<DeviceCertificate> findByThumbprint(String x5tS256);

  /** Marks every unrevoked certificate of the device that has not expired at {@code now} revoked; returns them. */
  List<DeviceCertificate> revokeUnexpiredOfDevice(String deviceId, Instant now);

  /** Serials of the device's certificates not expired at {@code now}, newest first (for operators). */
  List<String> unexpiredSerialsOfDevice(String deviceId, Instant now);
}
