package io.tokenbroker.agent.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.SignedJWT;
import io.tokenbroker.agent.dpop.DpopProofs;
import io.tokenbroker.agent.store.AgentState;
import io.tokenbroker.agent.store.StateDirectory;
import io.tokenbroker.agent.store.StateStore;
import io.tokenbroker.agent.testing.SoftHsmForTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The DPoP key and the store key inside a real SoftHSM2 token through SunPKCS11. */
@Tag("hsm")
class Pkcs11KeysTest {
  private static SoftHsmForTest.Token token;
  private static Pkcs11Device device;
  @TempDir Path tmp;

  @BeforeAll
  static void createToken() throws Exception {
    token = SoftHsmForTest.forThisJvm("agent-keys-test");
    Path pinFile = token.pkcs11Config().resolveSibling("pin");
    Files.writeString(pinFile, token.pin());
    Files.setPosixFilePermissions(pinFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    device = Pkcs11Device.open(token.pkcs11Config(), "NO_SUCH_PIN_VARIABLE_SET", Optional.of(pinFile));
  }

  @Test
  void dpopKeyIsMadeInTheTokenFoundAgainAndSignsVerifiableProofs() throws Exception {
    Pkcs11DpopKey key = Pkcs11DpopKey.openOrCreate(device, true);
    Pkcs11DpopKey again = Pkcs11DpopKey.openOrCreate(device, false);
    assertThat(again.thumbprint()).isEqualTo(key.thumbprint());
    String proof = new DpopProofs(again, Clock.systemUTC()).create("POST", "https://b/x", "at", null);
    SignedJWT jwt = SignedJWT.parse(proof);
    assertThat(jwt.verify(new ECDSAVerifier((ECKey) jwt.getHeader().getJWK()))).isTrue();
    assertThat(jwt.getHeader().getJWK().computeThumbprint().toString()).isEqualTo(key.thumbprint());

    Key privateKey = device.keyStore().getKey(Pkcs11DpopKey.ALIAS, null);
    assertThat(privateKey.getEncoded()).as("a sensitive, non-extractable key has no encoding").isNull();
    assertThat(privateKey.toString()).contains("sensitive").contains("token object");
  }

  @Test
  void storeKeyLivesInTheTokenAndSealsTheStateFile() throws Exception {
    Pkcs11StoreKey key = Pkcs11StoreKey.openOrCreate(device, true);
    Key secret = device.keyStore().getKey(Pkcs11StoreKey.ALIAS, null);
    assertThat(secret.getEncoded()).as("non-extractable").isNull();
    Path dir = tmp.resolve("state");
    StateStore store = new StateStore(StateDirectory.open(dir), key);
    store.save(AgentState.withKey("c", null, Pkcs11DpopKey.ALIAS).withTokens("d", "refresh-secret", null, "at",
        Instant.now(), List.of(), List.of(), Instant.now()));
    StateStore reopened = new StateStore(StateDirectory.open(dir), Pkcs11StoreKey.openOrCreate(device, false));
    assertThat(reopened.load().orElseThrow().refreshToken()).isEqualTo("refresh-secret");
    assertThat(new String(Files.readAllBytes(store.path()), java.nio.charset.StandardCharsets.ISO_8859_1))
        .doesNotContain("refresh-secret");
  }

  @Test
  void missingKeysAreReportedNotSilentlyRecreated() {
    Pkcs11DpopKey.openOrCreate(device, true);
    Pkcs11DpopKey.destroy(device);
    assertThatThrownBy(() -> Pkcs11DpopKey.openOrCreate(device, false)).hasMessageContaining("login");
  }
}
