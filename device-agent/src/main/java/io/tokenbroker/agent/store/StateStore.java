package io.tokenbroker.agent.store;

import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The agent's encrypted, crash-safe state: one {@link SealedFile} ({@code state.enc}) in the
 * {@link StateDirectory}. Callers hold the {@link StoreLock} while they read, rotate and write.
 */
public final class StateStore {
  public static final String FILE_NAME = "state.enc";

  private final SealedFile file;

  public StateStore(StateDirectory dir, StoreKey key) {
    this.file = new SealedFile(dir.resolve(FILE_NAME), key);
  }

  public Path path() {
    return file.path();
  }

  /** The stored state, or empty if the agent never enrolled (or was logged out). */
  public Optional<AgentState> load() {
    return file.read().map(bytes -> AgentState.parse(bytes, file.path()));
  }

  /** Durably replaces the state; when this returns, a power cut cannot lose it. */
  public void save(AgentState state) {
    save(state, null);
  }

  /** As {@link #save(AgentState)}, with a hook between the halves of the write (crash tests). */
  public void save(AgentState state, AtomicFile.MidWriteHook hook) {
    file.write(state.serialize(), hook);
  }

  /** Removes the state file (logout). The device secret and PKCS#11 keys are removed by their owners. */
  public void wipe() {
    try {
      Files.deleteIfExists(AtomicFile.tempOf(file.path()));
      Files.deleteIfExists(file.path());
      AtomicFile.fsyncDirectory(file.path().getParent());
    } catch (IOException e) {
      throw new AgentException(ExitCodes.STORE, "cannot delete " + file.path() + ": " + e.getMessage());
    }
  }
}
