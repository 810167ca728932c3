package io.tokenbroker.broker.device;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Port: devices. */
public interface DeviceStore {
  void insert(Device device);

  Optional<Device> find(String deviceId);

  /** Devices ordered by id after {@code afterDeviceId} (null = from the start); null filters match all. */
  List<Device> list(String afterDeviceId, String clientId, Device.State state, String owner, int limit);

  void touch(String deviceId, Instant lastSeenAt);
}
