package io.tokenbroker.agent.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A fresh SoftHSM2 token for one test JVM, made with {@code softhsm2-util} before any PKCS#11 provider loads
 * (SoftHSM reads {@code SOFTHSM2_CONF} once per process; Surefire's {@code hsm-test} execution sets it and
 * forks a JVM per class).
 */
public final class SoftHsmForTest {
  public static final Path LIBRARY = Stream.of("/usr/lib/softhsm/libsofthsm2.so",
      "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so")
      .map(Path::of).filter(Files::isRegularFile).findFirst().orElse(Path.of("/usr/lib/softhsm/libsofthsm2.so"));
  private static final Pattern REASSIGNED = Pattern.compile("reassigned to slot (\\d+)");

  /** The SunPKCS11 configuration and PIN of the created token. */
  public record Token(Path pkcs11Config, String pin) {}

  private SoftHsmForTest() {}

  /** Creates a token under the directory of {@code softhsmConf} (which it writes) and its SunPKCS11 config. */
  public static Token create(Path softhsmConf, String label) throws IOException, InterruptedException {
    Path dir = softhsmConf.toAbsolutePath().getParent();
    if (Files.exists(dir)) {
      try (Stream<Path> walk = Files.walk(dir)) {
        for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    Path tokens = dir.resolve("tokens");
    Files.createDirectories(tokens);
    Files.writeString(softhsmConf, "directories.tokendir = " + tokens + "\nobjectstore.backend = file\n"
        + "log.level = ERROR\nslots.removable = false\n");
    String pin = HexFormat.of().formatHex(new SecureRandom().generateSeed(8));
    ProcessBuilder pb = new ProcessBuilder(List.of("softhsm2-util", "--init-token", "--free", "--label", label,
        "--so-pin", pin + "so", "--pin", pin)).redirectErrorStream(true);
    pb.environment().put("SOFTHSM2_CONF", softhsmConf.toAbsolutePath().toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("softhsm2-util failed: " + out);
    }
    Matcher m = REASSIGNED.matcher(out);
    if (!m.find()) {
      throw new IllegalStateException("no slot in softhsm2-util output: " + out);
    }
    Path cfg = dir.resolve("pkcs11.cfg");
    // Only which token: the agent adds its key template itself (Pkcs11Device.withTemplate).
    Files.writeString(cfg, "name = " + label + "\nlibrary = " + LIBRARY + "\nslot = " + m.group(1) + "\n");
    return new Token(cfg, pin);
  }

  /** The token for this JVM, at the path Surefire put in {@code SOFTHSM2_CONF}. */
  public static Token forThisJvm(String label) throws IOException, InterruptedException {
    String conf = System.getenv("SOFTHSM2_CONF");
    if (conf == null || conf.isBlank()) {
      throw new IllegalStateException("SOFTHSM2_CONF is not set: run HSM tests through Maven");
    }
    return create(Path.of(conf), label);
  }
}
