package io.tokenbroker.broker.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The installable archive {@code broker-<version>.tar.gz} works on its own: unpacked into an empty directory,
 * its {@code bin/broker} finds its own {@code lib/broker.jar} (no source tree, no environment overrides), names
 * its version and commit, creates a home and serves.
 */
class DistributionIT {
  @TempDir Path tmp;

  @Test
  void theUnpackedArchivePrintsItsVersionInitialisesAHomeAndServes() throws Exception {
    Path archive;
    try (Stream<Path> files = Files.list(BrokerProcess.REPO_ROOT.resolve("broker/target"))) {
      archive = files.filter(p -> p.getFileName().toString().matches("broker-.+\\.tar\\.gz")).findFirst()
          .orElseThrow(() -> new AssertionError("no broker-<version>.tar.gz in broker/target: run mvn package"));
    }
    Path install = Files.createDirectories(tmp.resolve("opt"));
    assertThat(run(install, List.of("tar", "-xzf", archive.toString(), "-C", install.toString())).exitCode)
        .isZero();
    Path root;
    try (Stream<Path> dirs = Files.list(install)) {
      root = dirs.findFirst().orElseThrow();
    }
    assertThat(root.getFileName().toString()).startsWith("broker-");
    assertThat(root.resolve("lib/broker.jar")).isRegularFile();
    assertThat(root.resolve("conf/broker.properties.sample")).isRegularFile();
    assertThat(root.resolve("conf/alerts.yml")).isRegularFile();
    assertThat(root.resolve("systemd/tokenbroker-broker.service")).content()
        .contains("ProtectSystem=strict").contains("NoNewPrivileges=yes");
    assertThat(root.resolve("hsm-config/softhsm2/create-token.sh")).isExecutable();
    assertThat(Files.getPosixFilePermissions(root.resolve("bin/broker")))
        .contains(PosixFilePermission.OWNER_EXECUTE);
    String launcher = root.resolve("bin/broker").toString();

    Result version = run(root, List.of(launcher, "--version"));
    assertThat(version.exitCode).isZero();
    assertThat(version.output).matches("(?s)broker \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? \\(commit [0-9a-f]{12}(, modified)?\\)\\s*");

    // The first command wrote the launcher's class-data sharing archive into the user's cache, and said nothing
    // of it (the version line above is all there was); the next command starts from it.
    Path cache = tmp.resolve("cache/tokenbroker");
    assertThat(archives(cache)).hasSize(1)
        .allMatch(a -> a.getFileName().toString().matches("broker-jdk\\d+-\\d+-\\d+\\.jsa"));
    // A cache directory others may write to is not used: an archive is class data the JVM would run.
    Path shared = Files.createDirectories(tmp.resolve("shared-cache"));
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
    ProcessBuilder withSharedCache = builder(root, List.of(launcher, "--version"));
    withSharedCache.environment().put("TOKENBROKER_CDS_DIR", shared.toString());
    Process p0 = withSharedCache.redirectErrorStream(true).start();
    assertThat(new String(p0.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(version.output);
    assertThat(p0.waitFor()).isZero();
    assertThat(archives(shared)).as("nothing written where others can write").isEmpty();

    Path home = tmp.resolve("home");
    Path classLog = tmp.resolve("classes.log");
    Result init = run(root, List.of(launcher, "init", "--home", home.toString(), "--grpc-port", "0",
        "--https-port", "0"), "-Xlog:class+load=info:file=" + classLog);
    assertThat(init.exitCode).as(init.output).isZero();
    assertThat(Files.readString(classLog)).as("classes came from the archive")
        .contains("io.tokenbroker.broker.cli.BrokerCommand source: shared objects file (top)");

    ProcessBuilder serve = builder(root, List.of(launcher, "serve", "--home", home.toString()));
    Process p = serve.redirectErrorStream(true).start();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      boolean ready = false;
      while (!ready && (line = out.readLine()) != null) {
        ready = line.startsWith("broker ready: grpc=");
      }
      assertThat(ready).as("the unpacked broker became ready").isTrue();
    } finally {
      p.destroy();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(archives(cache)).as("serve uses the archive, never writes one").hasSize(1);
  }

  private record Result(int exitCode, String output) {}

  private static List<Path> archives(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.toList();
    }
  }

  private ProcessBuilder builder(Path dir, List<String> command) {
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
    // Nothing from the source tree: the launcher must find its own jar, and uses the default cache directory.
    pb.environment().remove("TOKENBROKER_BROKER_JAR");
    pb.environment().remove("TOKENBROKER_CDS_DIR");
    pb.environment().remove("TOKENBROKER_JAVA_OPTS");
    pb.environment().put("XDG_CACHE_HOME", tmp.resolve("cache").toString());
    pb.environment().remove("SOFTHSM2_CONF");
    pb.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    return pb;
  }

  private Result run(Path dir, List<String> command) throws IOException, InterruptedException {
    return run(dir, command, null);
  }

  private Result run(Path dir, List<String> command, String javaOpts) throws IOException, InterruptedException {
    ProcessBuilder pb = builder(dir, command);
    if (javaOpts != null) {
      pb.environment().put("TOKENBROKER_JAVA_OPTS", javaOpts);
    }
    Process p = pb.redirectErrorStream(true).start();
    p.getOutputStream().close();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    return new Result(p.exitValue(), output);
  }
}
