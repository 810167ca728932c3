package io.tokenbroker.agent.store;

import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Crash-safe replacement of a file: write a temporary file beside it, fsync it, rename it over the target,
 * fsync the directory. After a crash at any point the target holds either the old or the new bytes, never a
 * mix; a left-over temporary file is ignored and replaced by the next write.
 */
public final class AtomicFile {
  /** Called between the first and second half of a write; only crash tests use it. */
  @FunctionalInterface
  public interface MidWriteHook {
    void halfWritten();
  }

  private AtomicFile() {}

  /** The temporary file used for {@code target}. */
  public static Path tempOf(Path target) {
    return target.resolveSibling(target.getFileName() + ".tmp");
  }

  /** Replaces {@code target} with {@code bytes} (mode 0600). */
  public static void write(Path target, byte[] bytes, MidWriteHook hook) {
    Path temp = tempOf(target);
    try {
      Files.deleteIfExists(temp);
      try (FileChannel ch = FileChannel.open(temp, java.util.Set.of(StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(StateDirectory.FILE_MODE))) {
        int half = bytes.length / 2;
        writeFully(ch, ByteBuffer.wrap(bytes, 0, half));
        if (hook != null) {
          ch.force(true);
          hook.halfWritten();
        }
        writeFully(ch, ByteBuffer.wrap(bytes, half, bytes.length - half));
        ch.force(true);
      }
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new AgentException(ExitCodes.STORE, "the file system of " + target + " cannot rename atomically");
      }
      fsyncDirectory(target.toAbsolutePath().getParent());
    } catch (IOException e) {
      throw new AgentException(ExitCodes.STORE, "cannot write " + target + ": " + e.getMessage());
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      ch.write(buffer);
    }
  }

  /** Makes a rename durable: Linux allows fsync on a directory opened for reading. */
  static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
