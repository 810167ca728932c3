package io.tokenbroker.broker.device;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Port: devices. */
public interface DeviceStore {
  void insert(Device device);

  Optional<Device> find(String deviceId);

  /**
   * Devices ordered by id after {@code afterDeviceId} (null = from the start); null filters match all;
   * {@code seenFrom} inclusive, {@code seenUntil} exclusive bounds on the last-seen time.
   */
  List<Device> list(String afterDeviceId, String clientId, Device.State state, String owner, Instant seenFrom,
      Instant seenUntil, int limit);

  /** A successful refresh: last seen and last refresh become {@code now}; the user agent is kept if given. */
  void recordRefresh(String deviceId, Instant now, String userAgent);

  /** The device's tokens are bound to {@code binding} from now on (RFC 8705 §4: moving to a certificate). */
  void rebind(String deviceId, io.tokenbroker.broker.binding.TokenBinding binding);

  /** The device, locked until the caller's transaction ends. */
  Optional<Device> lock(String deviceId);

  void setState(String deviceId, Device.State state, String reason, Instant now);

  /** How many devices are in each state (states without devices are absent). Reads every device's state. */
  java.util.Map<Device.State, Long> countByState();

  /** Ids of the client's devices that are not revoked. */
  List<String> unrevokedIdsOfClient(String clientId);
}
