package io.tokenbroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The device agent's installable archive {@code device-agent-<version>.tar.gz} works on its own: unpacked into an
 * empty directory, its {@code bin/device-agent} finds its own {@code lib/device-agent.jar} (no source tree, no
 * DEVICE_AGENT_JAR), names its version and commit, and runs a command with the shipped sample configuration,
 * its state directory moved by a DEVICE_AGENT_STATE_DIR override.
 */
class AgentDistributionIT {
  @TempDir Path tmp;

  @Test
  void theUnpackedArchivePrintsItsVersionAndRunsWithTheShippedSampleConfiguration() throws Exception {
    Path archive;
    try (Stream<Path> files = Files.list(Proc.ROOT.resolve("device-agent/target"))) {
      archive = files.filter(p -> p.getFileName().toString().matches("device-agent-.+\\.tar\\.gz")).findFirst()
          .orElseThrow(() -> new AssertionError("no device-agent-<version>.tar.gz in device-agent/target: "
              + "run mvn package"));
    }
    Path install = Files.createDirectories(tmp.resolve("opt"));
    Proc.Result untar = Proc.run(Map.of(), List.of("tar", "-xzf", archive.toString(), "-C", install.toString()));
    assertThat(untar.exitCode()).as(untar.output()).isZero();
    Path root;
    try (Stream<Path> dirs = Files.list(install)) {
      root = dirs.findFirst().orElseThrow();
    }
    assertThat(root.getFileName().toString()).startsWith("device-agent-");
    assertThat(root.resolve("lib/device-agent.jar")).isRegularFile();
    assertThat(Files.getPosixFilePermissions(root.resolve("bin/device-agent")))
        .contains(PosixFilePermission.OWNER_EXECUTE);
    assertThat(root.resolve("conf/agent.properties.example")).content().contains("broker.target=");
    assertThat(root.resolve("systemd/device-agent.service")).content()
        .contains("User=device-agent", "StateDirectory=device-agent", "ReadWritePaths=/var/lib/device-agent",
            "ProtectSystem=strict", "ProtectHome=yes", "NoNewPrivileges=yes", "PrivateTmp=yes",
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "ExecStart=/opt/device-agent/bin/device-agent run");
    String launcher = root.resolve("bin/device-agent").toString();
    Map<String, String> noSourceTree = Map.of("DEVICE_AGENT_JAR", "");

    Proc.Result version = Proc.run(noSourceTree, List.of(launcher, "--version"));
    assertThat(version.exitCode()).as(version.output()).isZero();
    assertThat(version.output())
        .matches("(?s)device-agent \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? \\(commit [0-9a-f]{12}(, modified)?\\)\\s*");

    // The sample as shipped, with the state directory (and so the socket) moved by the environment.
    Path state = Files.createDirectory(tmp.resolve("state"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Map<String, String> env = Map.of("DEVICE_AGENT_JAR", "", "DEVICE_AGENT_STATE_DIR", state.toString(),
        "DEVICE_AGENT_SOCKET_PATH", state.resolve("agent.sock").toString());
    Proc.Result status = Proc.run(env, List.of(launcher, "status", "--json", "--config",
        root.resolve("conf/agent.properties.example").toString()));
    assertThat(status.exitCode()).as(status.output()).isEqualTo(10);
    assertThat(status.output()).contains("\"state\":\"login_required\"");

    Proc.Result misspelt = Proc.run(Map.of("DEVICE_AGENT_JAR", "", "DEVICE_AGENT_STATE_DIRECTORY", "/x"),
        List.of(launcher, "status", "--config", root.resolve("conf/agent.properties.example").toString()));
    assertThat(misspelt.exitCode()).isEqualTo(2);
    assertThat(misspelt.output()).startsWith("device-agent: error: environment variable(s) "
        + "[DEVICE_AGENT_STATE_DIRECTORY] name no config key");
  }
}
