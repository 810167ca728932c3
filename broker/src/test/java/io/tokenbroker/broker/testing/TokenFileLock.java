package io.tokenbroker.broker.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Another process holding the POSIX locks on this JVM's SoftHSM2 token files, the way a second SoftHSM user
 * (or a stalled HSM) would: while it holds them, the broker's next login to the token blocks (as a login to an
 * unreachable network HSM does) instead of failing. Closing releases them and the login goes through. The
 * locks are taken in a separate process because POSIX record locks never block their own process.
 */
public final class TokenFileLock implements AutoCloseable {
  private final Process holder;

  private TokenFileLock(Process holder) {
    this.holder = holder;
  }

  /** Locks every file of the one token under this JVM's SoftHSM2 token directory, and returns once locked. */
  public static TokenFileLock acquire() throws IOException, InterruptedException {
    Path tokenDir = tokenDirectory();
    String launcher = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classes = Path.of(java.net.URI.create(TokenFileLock.class.getProtectionDomain().getCodeSource()
        .getLocation().toString())).toString();
    Process p = new ProcessBuilder(launcher, "-cp", classes, TokenFileLock.class.getName(), tokenDir.toString())
        .redirectErrorStream(true).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    if (line == null || !line.startsWith("locked")) {
      p.destroyForcibly();
      throw new IllegalStateException("the lock holder did not lock " + tokenDir + ": " + line);
    }
    return new TokenFileLock(p);
  }

  private static Path tokenDirectory() throws IOException {
    Path conf = Path.of(System.getenv("SOFTHSM2_CONF"));
    String tokens = Files.readAllLines(conf).stream().filter(l -> l.strip().startsWith("directories.tokendir"))
        .map(l -> l.substring(l.indexOf('=') + 1).strip()).findFirst()
        .orElseThrow(() -> new IllegalStateException("no directories.tokendir in " + conf));
    try (Stream<Path> dirs = Files.list(Path.of(tokens))) {
      List<Path> all = dirs.filter(Files::isDirectory).toList();
      if (all.size() != 1) {
        throw new IllegalStateException("expected one token directory in " + tokens + ", found " + all);
      }
      return all.get(0);
    }
  }

  @Override
  public void close() throws InterruptedException {
    try {
      holder.getOutputStream().close(); // end of input: the holder exits, its locks go with it
    } catch (IOException e) {
      // already gone
    }
    if (!holder.waitFor(10, TimeUnit.SECONDS)) {
      holder.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** The holder process: locks the files of the directory in args[0], says so, and waits for end of input. */
  public static void main(String[] args) throws IOException {
    List<FileLock> locks = new ArrayList<>();
    try (Stream<Path> files = Files.list(Path.of(args[0]))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        FileChannel channel = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE);
        locks.add(channel.lock());
      }
    }
    System.out.println("locked " + locks.size());
    System.out.flush();
    while (System.in.read() >= 0) {
      // hold until the test closes our input (or dies)
    }
  }
}
