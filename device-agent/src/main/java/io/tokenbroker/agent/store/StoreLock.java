package io.tokenbroker.agent.store;

import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * An exclusive lock on the state directory, so that only one agent process (the daemon, or one CLI command)
 * reads and rotates the refresh token at a time. Released by {@link #close()} or by the process ending.
 */
public final class StoreLock implements AutoCloseable {
  private final FileChannel channel;
  private final FileLock lock;

  private StoreLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /** Takes the lock or fails at once with a message saying who probably holds it. */
  public static StoreLock acquire(StateDirectory dir) {
    Path file = dir.resolve("state.lock");
    try {
      FileChannel channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
          PosixFilePermissions.asFileAttribute(StateDirectory.FILE_MODE));
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        channel.close();
        throw new AgentException(ExitCodes.STORE, "another device-agent process is using " + dir.path()
            + " (is 'device-agent run' active? its local socket serves tokens and proofs)");
      }
      return new StoreLock(channel, lock);
    } catch (IOException e) {
      throw new AgentException(ExitCodes.STORE, "cannot lock " + file + ": " + e.getMessage());
    }
  }

  @Override
  public void close() {
    try {
      lock.release();
      channel.close();
    } catch (IOException e) {
      // The process ending releases it too.
    }
  }
}
