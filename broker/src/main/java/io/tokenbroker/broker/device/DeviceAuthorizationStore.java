package io.tokenbroker.broker.device;

import java.util.Optional;

/** Port: device authorizations. Lookups lock the row until the caller's transaction ends. */
public interface DeviceAuthorizationStore {
  void insert(DeviceAuthorization authorization);

  Optional<DeviceAuthorization> lockByDeviceCodeHash(String deviceCodeHash);

  Optional<DeviceAuthorization> lockByUserCodeHash(String userCodeHash);

  void update(DeviceAuthorization authorization);

  /** Deletes authorizations that expired before {@code before}; returns how many. */
  int purgeExpired(java.time.Instant before);
}
