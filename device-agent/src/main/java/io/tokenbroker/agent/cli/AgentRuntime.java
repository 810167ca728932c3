package io.tokenbroker.agent.cli;

import io.grpc.ManagedChannel;
import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import io.tokenbroker.agent.broker.BrokerChannel;
import io.tokenbroker.agent.broker.BrokerClient;
import io.tokenbroker.agent.config.AgentConfig;
import io.tokenbroker.agent.dpop.DpopProofs;
import io.tokenbroker.agent.keys.DpopKey;
import io.tokenbroker.agent.keys.Pkcs11Device;
import io.tokenbroker.agent.keys.Pkcs11DpopKey;
import io.tokenbroker.agent.keys.Pkcs11StoreKey;
import io.tokenbroker.agent.keys.SoftwareDpopKey;
import io.tokenbroker.agent.store.AgentState;
import io.tokenbroker.agent.store.DerivedStoreKey;
import io.tokenbroker.agent.store.StateDirectory;
import io.tokenbroker.agent.store.StateStore;
import io.tokenbroker.agent.store.StoreKey;
import io.tokenbroker.agent.store.StoreLock;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Wires one command's parts from the configuration: state directory, lock, keys, store, broker client. */
final class AgentRuntime implements AutoCloseable {
  final AgentConfig config;
  final StateDirectory dir;
  private final StoreLock lock;
  private Pkcs11Device pkcs11;
  private ManagedChannel channel;

  private AgentRuntime(AgentConfig config, StateDirectory dir, StoreLock lock) {
    this.config = config;
    this.dir = dir;
    this.lock = lock;
  }

  /** @param exclusive take the state lock (every command that may rotate or write) */
  static AgentRuntime open(AgentConfig config, boolean exclusive) {
    StateDirectory dir = StateDirectory.open(config.stateDir());
    return new AgentRuntime(config, dir, exclusive ? StoreLock.acquire(dir) : null);
  }

  boolean usesPkcs11() {
    return config.pkcs11Config().isPresent();
  }

  Pkcs11Device pkcs11() {
    if (pkcs11 == null) {
      pkcs11 = Pkcs11Device.open(config.pkcs11Config().orElseThrow(), config.pkcs11PinEnv(), config.pkcs11PinFile());
    }
    return pkcs11;
  }

  boolean stateExists() {
    return Files.exists(dir.resolve(StateStore.FILE_NAME));
  }

  /** The store, creating its key when {@code create} (login). */
  StateStore store(boolean create) {
    StoreKey key = usesPkcs11() ? Pkcs11StoreKey.openOrCreate(pkcs11(), create)
        : DerivedStoreKey.open(config.deviceSecretFile(), create);
    return new StateStore(dir, key);
  }

  Optional<AgentState> loadState() {
    return stateExists() ? store(false).load() : Optional.empty();
  }

  /** The stored state of an enrolled device, or a failure saying a login is needed. */
  AgentState requireEnrolled() {
    AgentState state = loadState().orElseThrow(() -> new AgentException(ExitCodes.LOGIN_REQUIRED,
        "this device is not enrolled: run 'device-agent login'"));
    if (!state.hasRefreshToken()) {
      if ("revoked".equals(state.deviceState())) {
        throw new AgentException(ExitCodes.REVOKED, "the broker revoked this device (" + state.deviceId()
            + "); it must be enrolled again with 'device-agent login'");
      }
      throw new AgentException(ExitCodes.LOGIN_REQUIRED, "the device's credentials are no longer accepted ("
          + state.lastErrorReason() + "): run 'device-agent login'");
    }
    return state;
  }

  DpopKey dpopKey(AgentState state) {
    if (state.dpopKeyAlias() != null) {
      return Pkcs11DpopKey.openOrCreate(pkcs11(), false);
    }
    if (state.dpopKeyJwk() == null) {
      throw new AgentException(ExitCodes.STORE, "the state file has no DPoP key; run 'device-agent login'");
    }
    return SoftwareDpopKey.fromJwk(state.dpopKeyJwk());
  }

  DpopProofs proofs(DpopKey key) {
    return new DpopProofs(key, Clock.systemUTC());
  }

  BrokerClient brokerClient(DpopProofs proofs) {
    if (channel == null) {
      channel = BrokerChannel.open(config);
    }
    return new BrokerClient(channel, config.externalUrl(), config.clientId(), proofs, config.callTimeout());
  }

  /** Removes every local credential: state file, device secret, keys in the PKCS#11 token. */
  void wipeEverything() {
    store(false).wipe();
    if (usesPkcs11()) {
      Pkcs11DpopKey.destroy(pkcs11());
      Pkcs11StoreKey.destroy(pkcs11());
    } else {
      try {
        Files.deleteIfExists(config.deviceSecretFile());
      } catch (IOException e) {
        throw new AgentException(ExitCodes.STORE, "cannot delete " + config.deviceSecretFile() + ": "
            + e.getMessage());
      }
    }
  }

  @Override
  public void close() {
    if (channel != null) {
      channel.shutdownNow();
      try {
        channel.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (lock != null) {
      lock.close();
    }
  }
}
