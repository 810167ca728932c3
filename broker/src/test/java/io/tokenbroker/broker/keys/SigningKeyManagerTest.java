package io.tokenbroker.broker.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.tokenbroker.broker.store.Database;
import io.tokenbroker.broker.store.JdbcSigningKeyRecords;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.broker.token.AccessTokenSigner;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The key lifecycle against a real SoftHSM2 token and a real H2 file. */
@SoftHsmTest
class SigningKeyManagerTest {
  private static final KeyLifecycleSettings SETTINGS = new KeyLifecycleSettings(SigningAlgorithm.ES256,
      Duration.ZERO, Duration.ZERO, Duration.ofMinutes(10));

  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now().plusNanos(999));
  @TempDir Path dir;
  private Database database;

  SigningKeyManagerTest(SoftHsm hsm) {
    this.hsm = hsm;
  }

  @AfterEach
  void closeDatabase() {
    if (database != null) {
      database.close();
    }
  }

  private SigningKeyManager startManager() {
    if (database != null) {
      database.close();
    }
    database = Database.open("jdbc:h2:file:" + dir.resolve("broker") + ";WRITE_DELAY=0", 2);
    SigningKeyStore store = new Pkcs11SigningKeyStore(hsm.token(), clock);
    SigningKeyManager manager = new SigningKeyManager(store, new JdbcSigningKeyRecords(database),
        new KeyRotationPolicy(SETTINGS), clock);
    manager.start();
    return manager;
  }

  private String token(SigningKeyManager manager) {
    return new AccessTokenSigner(manager::activeKey).signAccessToken(new JWTClaimsSet.Builder()
        .subject("device-1").expirationTime(Date.from(clock.instant().plusSeconds(300))).build());
  }

  /** What a verifier does: find the token's kid in the published JWKS and check the signature. */
  private static boolean verifiesAgainst(JWKSet jwks, String token) throws Exception {
    SignedJWT jwt = SignedJWT.parse(token);
    JWK key = jwks.getKeyByKeyId(jwt.getHeader().getKeyID());
    return key != null && jwt.verify(new ECDSAVerifier(key.toECKey()));
  }

  private static Map<String, KeyState> states(SigningKeyManager manager) {
    return manager.records().stream().collect(Collectors.toMap(SigningKeyRecord::kid, SigningKeyRecord::state));
  }

  @Test
  void startWhenNewBrokerThenOneActiveAndOneNextKeyArePublished() {
    SigningKeyManager manager = startManager();

    assertThat(states(manager).values()).containsExactlyInAnyOrder(KeyState.ACTIVE, KeyState.NEXT);
    assertThat(manager.publishedKeys().getKeys()).extracting(JWK::getKeyID)
        .containsExactlyInAnyOrderElementsOf(states(manager).keySet());
    assertThat(manager.publishedKeys().getKeys()).allMatch(k -> !k.isPrivate());
  }

  @Test
  void rotateThenOldTokensVerifyUntilTheirKeyIsRetiredAndRemoved() throws Exception {
    SigningKeyManager manager = startManager();
    String first = manager.activeKey().kid();
    String oldToken = token(manager);

    SigningKeyRecord activated = manager.rotate();

    assertThat(activated.kid()).isNotEqualTo(first);
    assertThat(manager.activeKey().kid()).isEqualTo(activated.kid());
    assertThat(states(manager)).containsEntry(first, KeyState.RETIRED).containsEntry(activated.kid(), KeyState.ACTIVE)
        .containsValue(KeyState.NEXT);
    String newToken = token(manager);
    assertThat(SignedJWT.parse(newToken).getHeader().getKeyID()).isEqualTo(activated.kid());
    assertThat(verifiesAgainst(manager.publishedKeys(), oldToken)).isTrue();
    assertThat(verifiesAgainst(manager.publishedKeys(), newToken)).isTrue();

    clock.advance(Duration.ofMinutes(10).minusSeconds(1));
    assertThat(manager.maintain()).isEmpty();
    assertThat(verifiesAgainst(manager.publishedKeys(), oldToken)).isTrue();

    clock.advance(Duration.ofSeconds(1));
    assertThat(manager.maintain()).containsExactly(new KeyAction.Remove(first));
    assertThat(states(manager)).containsEntry(first, KeyState.REMOVED);
    assertThat(verifiesAgainst(manager.publishedKeys(), oldToken)).isFalse();
    assertThat(verifiesAgainst(manager.publishedKeys(), newToken)).isTrue();
    Pkcs11SigningKeyStore store = new Pkcs11SigningKeyStore(hsm.token(), clock);
    assertThat(store.kids()).doesNotContain(first).contains(activated.kid());
  }

  @Test
  void restartKeepsKeyStatesAndTheActiveKeySignsAgain() throws Exception {
    SigningKeyManager before = startManager();
    before.rotate();
    Map<String, KeyState> statesBefore = states(before);
    String activeBefore = before.activeKey().kid();

    SigningKeyManager after = startManager();

    assertThat(states(after)).isEqualTo(statesBefore);
    assertThat(after.activeKey().kid()).isEqualTo(activeBefore);
    assertThat(verifiesAgainst(after.publishedKeys(), token(after))).isTrue();
  }

  @Test
  void startWhenActiveKeyIsMissingFromTheHsmThenFailsNamingTheKey() {
    SigningKeyManager manager = startManager();
    String active = manager.activeKey().kid();
    new Pkcs11SigningKeyStore(hsm.token(), clock).destroy(active);

    assertThatThrownBy(this::startManager)
        .isInstanceOf(KeyOperationException.class)
        .hasMessageContaining("ACTIVE signing key " + active + " is not in the HSM token");
  }

  @Test
  void activateWhenKidIsNotNextThenNothingChanges() {
    SigningKeyManager manager = startManager();
    JdbcSigningKeyRecords records = new JdbcSigningKeyRecords(database);
    List<SigningKeyRecord> before = records.list();
    String active = manager.activeKey().kid();

    assertThatThrownBy(() -> records.activate(active, clock.instant())).isInstanceOf(IllegalStateException.class);
    assertThat(records.list()).isEqualTo(before);
  }

  @Test
  void publishedKeysAreIndexedByKidAndMatchTheHsmKeys() {
    SigningKeyManager manager = startManager();
    Map<String, JWK> published = manager.publishedKeys().getKeys().stream()
        .collect(Collectors.toMap(JWK::getKeyID, Function.identity()));
    JWK active = published.get(manager.activeKey().kid());
    assertThat(active).isNotNull();
    assertThat(active.toJSONObject()).isEqualTo(manager.activeKey().publicJwk().toJSONObject());
  }
}
