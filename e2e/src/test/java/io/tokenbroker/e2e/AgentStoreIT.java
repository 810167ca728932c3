package io.tokenbroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The encrypted store of a device without a PKCS#11 token (software key, device secret file): no plaintext
 * token in the file, a tampered file is refused without a crash loop or a silent re-login, loose permissions
 * are refused, and logout revokes at the broker before wiping.
 */
class AgentStoreIT {
  @TempDir Path tmp;

  @Test
  void storeIsSealedTamperingIsRefusedAndLogoutRevokesAtTheBroker() throws Exception {
    try (BrokerHome broker = BrokerHome.initAndServe(tmp.resolve("broker"))) {
      broker.admin("clients", "create", "--client-id", "e2e-store", "--name", "E2E store", "--scope",
          "telemetry:write", "--audience", AgentLifecycleIT.AUDIENCE, "--access-token-lifetime", "PT30S");
      AgentHome agent = AgentHome.create(tmp.resolve("device"), broker, "e2e-store", false);
      agent.loginApprovedBy(broker);
      try (Proc run = agent.runDaemon(Map.of())) {
        run.awaitLines(AgentHome::isRefresh, 2, Duration.ofSeconds(60));
        run.stop();
      }
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(agent.stateDir()))).isEqualTo("rwx------");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(agent.stateFile()))).isEqualTo("rw-------");

      // Without the daemon, 'token' reads (or refreshes) the store under its lock.
      Proc.Result token = agent.run("token");
      assertThat(token.exitCode()).as(token.output()).isZero();
      String accessToken = token.output().lines().filter(l -> l.startsWith("eyJ")).findFirst().orElseThrow();
      byte[] sealed = Files.readAllBytes(agent.stateFile());
      assertThat(Jwts.contains(sealed, accessToken.substring(0, 24))).isFalse();
      assertThat(Jwts.contains(sealed, "refresh_token")).isFalse();
      assertThat(Jwts.contains(sealed, "\"kty\"")).as("the software DPoP key is sealed too").isFalse();

      Path backup = tmp.resolve("backup");
      copyDir(agent.stateDir(), backup);

      byte[] tampered = sealed.clone();
      tampered[tampered.length - 5] ^= 0x40;
      Files.write(agent.stateFile(), tampered);
      Proc.Result refused = agent.run("run");
      assertThat(refused.exitCode()).as("one clear failure, no crash loop").isEqualTo(4);
      assertThat(refused.output()).contains(agent.stateFile().toString(), "integrity check")
          .doesNotContain("enter the code");
      assertThat(Files.readAllBytes(agent.stateFile())).as("left for inspection, not overwritten").isEqualTo(tampered);
      Files.write(agent.stateFile(), sealed);

      Files.setPosixFilePermissions(agent.stateDir(), PosixFilePermissions.fromString("rwxr-xr-x"));
      Proc.Result loose = agent.run("status");
      assertThat(loose.exitCode()).isEqualTo(4);
      assertThat(loose.output()).contains("chmod 700");
      Files.setPosixFilePermissions(agent.stateDir(), PosixFilePermissions.fromString("rwx------"));

      Proc.Result logout = agent.run("logout");
      assertThat(logout.exitCode()).as(logout.output()).isZero();
      assertThat(logout.output()).contains("revoked at the broker");
      assertThat(agent.stateFile()).doesNotExist();
      assertThat(agent.stateDir().resolve("device.secret")).doesNotExist();
      assertThat(agent.run("status").exitCode()).isEqualTo(10);

      // A copy of the old state is worthless: the broker revoked its refresh family.
      copyDir(backup, agent.stateDir());
      Proc.Result stale = agent.run("run");
      assertThat(stale.exitCode()).as(stale.output()).isEqualTo(10);
      assertThat(stale.output()).contains("INVALID_GRANT");
    }
  }

  private static void copyDir(Path from, Path to) throws Exception {
    Files.createDirectories(to);
    Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rwx------"));
    try (var files = Files.list(from)) {
      for (Path f : files.filter(p -> p.getFileName().toString().matches("state\\.enc|device\\.secret")).toList()) {
        Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
  }
}
