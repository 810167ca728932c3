package io.tokenbroker.broker.hsm;

import io.tokenbroker.broker.BrokerFailure;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Creates a SoftHSM2 token in a directory of its own, for development and tests: a {@code softhsm2.conf}, the
 * token directory, and the token itself through {@code softhsm2-util}.
 *
 * <p>SoftHSM reads {@code SOFTHSM2_CONF} once per process, when the first SunPKCS11 provider loads the
 * library; a JVM that wants to use the token must therefore have {@code SOFTHSM2_CONF} pointing at the file
 * written here before it opens any PKCS#11 provider.
 */
public final class SoftHsmDevToken {
  /** Where Debian, Ubuntu, Fedora and source builds put the library. */
  private static final List<Path> LIBRARY_CANDIDATES = List.of(
      Path.of("/usr/lib/softhsm/libsofthsm2.so"),
      Path.of("/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"),
      Path.of("/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"),
      Path.of("/usr/lib64/pkcs11/libsofthsm2.so"),
      Path.of("/usr/lib64/softhsm/libsofthsm2.so"),
      Path.of("/usr/local/lib/softhsm/libsofthsm2.so"));
  private static final Pattern REASSIGNED = Pattern.compile("reassigned to slot (\\d+)");

  /** What was created: the files a SunPKCS11 provider needs to reach the token. */
  public record Created(Path softhsmConf, Path library, long slot) {}

  private SoftHsmDevToken() {}

  /** The SoftHSM2 library on this machine, if installed. */
  public static Optional<Path> findLibrary() {
    return LIBRARY_CANDIDATES.stream().filter(Files::isRegularFile).findFirst();
  }

  /** The library, or a failure that gives the exact install command. */
  public static Path requireLibrary() {
    return findLibrary().orElseThrow(() -> new HsmException(
        "SoftHSM2 is not installed (no libsofthsm2.so in " + LIBRARY_CANDIDATES.get(0).getParent()
            + " or the multiarch paths); run: apt-get install -y softhsm2"));
  }

  /**
   * Writes {@code dir/softhsm2.conf}, creates {@code dir/tokens} and initialises a token labelled
   * {@code label} with the given PINs.
   */
  public static Created create(Path dir, String label, char[] userPin, char[] soPin) {
    Path library = requireLibrary();
    try {
      Path tokens = dir.resolve("tokens");
      Files.createDirectories(tokens);
      Path conf = dir.resolve("softhsm2.conf");
      Files.writeString(conf, "# SoftHSM2 configuration of a development token written by tokenbroker.\n"
          + "directories.tokendir = " + tokens.toAbsolutePath() + "\n"
          + "objectstore.backend = file\n"
          + "log.level = ERROR\n"
          + "slots.removable = false\n", StandardCharsets.UTF_8);
      // softhsm2-util takes PINs only as arguments or from a terminal. This is a development token whose
      // PIN is also written to a 0600 file, so its brief presence in this child's argv is acceptable.
      List<String> command = new ArrayList<>(List.of("softhsm2-util", "--init-token", "--free",
          "--label", label, "--so-pin", new String(soPin), "--pin", new String(userPin)));
      String output = run(command, conf);
      Matcher m = REASSIGNED.matcher(output);
      if (!m.find()) {
        throw new HsmException("softhsm2-util did not report the new token's slot; output: "
            + firstLine(output));
      }
      return new Created(conf.toAbsolutePath(), library, Long.parseLong(m.group(1)));
    } catch (IOException e) {
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "cannot create the SoftHSM2 token in " + dir + ": "
          + e.getMessage());
    }
  }

  private static String run(List<String> command, Path conf) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("SOFTHSM2_CONF", conf.toAbsolutePath().toString());
    Process process;
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new HsmException("cannot run softhsm2-util (" + e.getMessage() + "); run: apt-get install -y softhsm2");
    }
    try {
      process.getOutputStream().close();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new HsmException("softhsm2-util did not finish within 60 s");
      }
      if (process.exitValue() != 0) {
        throw new HsmException("softhsm2-util --init-token failed: " + firstLine(output));
      }
      return output;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new HsmException("interrupted while creating the SoftHSM2 token");
    }
  }

  private static String firstLine(String text) {
    String trimmed = text.strip();
    int nl = trimmed.lastIndexOf('\n');
    return nl < 0 ? trimmed : trimmed.substring(nl + 1);
  }
}
