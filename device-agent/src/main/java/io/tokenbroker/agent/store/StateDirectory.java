package io.tokenbroker.agent.store;

import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * The agent's state directory and the modes it insists on: the directory 0700, secret files 0600, both owned
 * by the agent's user. Looser permissions are refused with a message that says how to fix them, because a
 * refresh token or device secret readable by others is as good as stolen.
 */
public final class StateDirectory {
  private static final Set<PosixFilePermission> GROUP_OR_OTHER = EnumSet.of(
      PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);
  static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
  static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");

  private final Path dir;

  private StateDirectory(Path dir) {
    this.dir = dir;
  }

  /** Creates {@code dir} with mode 0700 if it is missing, then checks its owner and mode. */
  public static StateDirectory open(Path dir) {
    try {
      if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
        Files.createDirectories(dir.getParent());
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
      }
    } catch (IOException e) {
      throw new AgentException(ExitCodes.STORE, "cannot create state directory " + dir + ": " + e.getMessage());
    }
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new AgentException(ExitCodes.STORE, "state directory " + dir + " is not a directory");
    }
    requirePrivate(dir, "700");
    return new StateDirectory(dir);
  }

  /**
   * Refuses {@code path} unless it belongs to this process's user and has no group or other permission bits.
   *
   * @param mode the mode to suggest in the message, e.g. "600"
   */
  public static void requirePrivate(Path path, String mode) {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
      Set<PosixFilePermission> loose = EnumSet.noneOf(PosixFilePermission.class);
      loose.addAll(perms);
      loose.retainAll(GROUP_OR_OTHER);
      if (!loose.isEmpty()) {
        throw new AgentException(ExitCodes.STORE, path + " has mode " + PosixFilePermissions.toString(perms)
            + "; it must not be accessible by group or others (run: chmod " + mode + " " + path + ")");
      }
      String owner = Files.getOwner(path, LinkOption.NOFOLLOW_LINKS).getName();
      String me = System.getProperty("user.name");
      if (me != null && !owner.equals(me)) {
        throw new AgentException(ExitCodes.STORE, path + " belongs to " + owner + ", not to " + me
            + " who runs the agent (run: chown " + me + " " + path + ")");
      }
    } catch (IOException e) {
      throw new AgentException(ExitCodes.STORE, "cannot check the permissions of " + path + ": " + e.getMessage());
    }
  }

  public Path path() {
    return dir;
  }

  public Path resolve(String name) {
    return dir.resolve(name);
  }
}
