package io.tokenbroker.broker.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.tokenbroker.broker.hsm.Pkcs11Token;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.broker.token.AccessTokenSigner;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.Test;

@SoftHsmTest
class Pkcs11SigningKeyStoreTest {
  private final SoftHsm hsm;
  private final Pkcs11SigningKeyStore store;

  Pkcs11SigningKeyStoreTest(SoftHsm hsm) {
    this.hsm = hsm;
    Pkcs11Token token = hsm.token();
    this.store = new Pkcs11SigningKeyStore(token, Clock.systemUTC());
  }

  @Test
  void signAccessTokenWhenEs256KeyInHsmThenVerifiesWithJwksPublicKeyThroughPlainJca() throws Exception {
    SigningKey key = store.generate(SigningAlgorithm.ES256);
    String jwt = new AccessTokenSigner(() -> key).signAccessToken(new JWTClaimsSet.Builder()
        .issuer("https://broker.test").subject("device-1").expirationTime(Date.from(Instant.now().plusSeconds(300)))
        .build());

    SignedJWT parsed = SignedJWT.parse(jwt);
    assertThat(parsed.getHeader().getType()).isEqualTo(new JOSEObjectType("at+jwt"));
    assertThat(parsed.getHeader().getKeyID()).isEqualTo(key.kid());
    // JOSE R||S, not DER.
    assertThat(parsed.getSignature().decode()).hasSize(64);

    JWK published = JWKSet.parse(new JWKSet(key.publicJwk()).toString()).getKeyByKeyId(key.kid());
    PublicKey publicKey = published.toECKey().toECPublicKey();
    Signature verify = Signature.getInstance("SHA256withECDSAinP1363Format");
    verify.initVerify(publicKey);
    verify.update(parsed.getSigningInput());
    assertThat(verify.verify(parsed.getSignature().decode())).isTrue();

    verify.initVerify(publicKey);
    verify.update((new String(parsed.getSigningInput(), StandardCharsets.US_ASCII) + "x")
        .getBytes(StandardCharsets.US_ASCII));
    assertThat(verify.verify(parsed.getSignature().decode())).isFalse();
  }

  @Test
  void signWhenPs256KeyInHsmThenRsaPssSignatureVerifiesWithPublicJwk() throws Exception {
    SigningKey key = store.generate(SigningAlgorithm.PS256);
    byte[] input = "header.payload".getBytes(StandardCharsets.US_ASCII);
    byte[] signature = key.sign(input);

    assertThat(key.publicJwk().toRSAKey().size()).isEqualTo(3072);
    Signature verify = SigningAlgorithm.PS256.newVerifier();
    verify.initVerify(key.publicJwk().toRSAKey().toRSAPublicKey());
    verify.update(input);
    assertThat(verify.verify(signature)).isTrue();
  }

  @Test
  void kidIsTheRfc7638ThumbprintOfThePublishedKey() throws Exception {
    SigningKey key = store.generate(SigningAlgorithm.ES256);
    JWK publicOnly = JWK.parse(key.publicJwk().toJSONString());
    assertThat(publicOnly.isPrivate()).isFalse();
    assertThat(key.kid()).isEqualTo(publicOnly.computeThumbprint().toString());
    assertThat(key.publicJwk().getAlgorithm().getName()).isEqualTo("ES256");
    assertThat(key.publicJwk().getKeyUse().identifier()).isEqualTo("sig");
  }

  @Test
  void generatedPrivateKeyCannotBeExtractedThroughJca() throws Exception {
    SigningKey key = store.generate(SigningAlgorithm.ES256);
    KeyStore ks = hsm.token().keyStore();
    PrivateKey privateKey = (PrivateKey) ks.getKey(Pkcs11SigningKeyStore.ALIAS_PREFIX + key.kid(), null);

    assertThat(privateKey).isNotNull();
    assertThat(privateKey.getEncoded()).isNull();
    assertThatThrownBy(() -> KeyFactory.getInstance("EC", hsm.token().provider())
        .getKeySpec(privateKey, PKCS8EncodedKeySpec.class)).isInstanceOf(Exception.class);
  }

  @Test
  void pkcs11AttributesOfGeneratedKeySaySensitiveNeverExtractableAndSignOnly() throws Exception {
    store.generate(SigningAlgorithm.ES256);
    store.generate(SigningAlgorithm.PS256);
    String objects = hsm.pkcs11ToolObjects();

    List<String> privateKeyBlocks = privateKeyBlocks(objects);
    assertThat(privateKeyBlocks).as("private key objects in:%n%s", objects).isNotEmpty();
    for (String block : privateKeyBlocks) {
      assertThat(block).contains("sensitive").contains("always sensitive").contains("never extractable");
      assertThat(block).containsPattern("Usage:\\s+sign\\s*\\n");
      assertThat(block).doesNotContain("decrypt").doesNotContain("unwrap").doesNotContain("derive");
    }
  }

  private static List<String> privateKeyBlocks(String objects) {
    return List.of(objects.split("(?=\\n\\S)")).stream()
        .map(String::strip)
        .filter(b -> b.startsWith("Private Key Object"))
        .toList();
  }

  @Test
  void findWhenTokenReopenedByAnotherProviderThenSameKeyIsFoundByKid() throws Exception {
    SigningKey key = store.generate(SigningAlgorithm.ES256);
    Pkcs11Token reopened = Pkcs11Token.open(hsm.pkcs11Config(), hsm.pin());
    Pkcs11SigningKeyStore other = new Pkcs11SigningKeyStore(reopened, Clock.systemUTC());

    assertThat(other.kids()).contains(key.kid());
    SigningKey again = other.find(key.kid()).orElseThrow();
    byte[] input = {1, 2, 3};
    Signature verify = Signature.getInstance("SHA256withECDSAinP1363Format");
    verify.initVerify(key.publicJwk().toECKey().toECPublicKey());
    verify.update(input);
    assertThat(verify.verify(again.sign(input))).isTrue();
  }

  @Test
  void destroyRemovesKeyFromToken() {
    SigningKey key = store.generate(SigningAlgorithm.ES256);
    store.destroy(key.kid());
    assertThat(store.kids()).doesNotContain(key.kid());
    assertThat(store.find(key.kid())).isEmpty();
  }
}
