package io.tokenbroker.broker.owner;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PasswordHasherTest {
  private final PasswordHasher hasher = new PasswordHasher();

  @Test
  void hashIsArgon2idPhcStringWithDocumentedParametersAndFreshSalt() {
    String a = hasher.hash("correct horse battery".toCharArray());
    String b = hasher.hash("correct horse battery".toCharArray());

    assertThat(a).matches("\\$argon2id\\$v=19\\$m=19456,t=2,p=1\\$[A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{43}");
    assertThat(a).isNotEqualTo(b).doesNotContain("correct");
  }

  @Test
  void verifyAcceptsOnlyTheSamePassword() {
    String stored = hasher.hash("correct horse battery".toCharArray());

    assertThat(hasher.verify("correct horse battery".toCharArray(), stored)).isTrue();
    assertThat(hasher.verify("correct horse batterY".toCharArray(), stored)).isFalse();
    assertThat(hasher.verify("".toCharArray(), stored)).isFalse();
  }

  @Test
  void nonAsciiPasswordsAreHashedAsUtf8() {
    String stored = hasher.hash("pässwörd-ünïcode".toCharArray());
    assertThat(hasher.verify("pässwörd-ünïcode".toCharArray(), stored)).isTrue();
    assertThat(hasher.verify("password-unicode".toCharArray(), stored)).isFalse();
  }

  @Test
  void malformedOrOutOfBoundsStoredHashesNeverVerify() {
    String stored = hasher.hash("correct horse battery".toCharArray());
    char[] pw = "correct horse battery".toCharArray();

    assertThat(hasher.verify(pw, null)).isFalse();
    assertThat(hasher.verify(pw, "")).isFalse();
    assertThat(hasher.verify(pw, stored.replace("argon2id", "argon2i"))).isFalse();
    // A tampered row asking for 4 GiB of memory is refused instead of exhausting the broker.
    assertThat(hasher.verify(pw, stored.replace("m=19456", "m=4194304"))).isFalse();
    assertThat(hasher.verify(pw, stored.replace("t=2", "t=99"))).isFalse();
  }

  @Test
  void parametersReadBackFromTheStoredHashAreUsed() {
    String stored = hasher.hash("correct horse battery".toCharArray());
    // Same salt and tag, other parameters: a different derivation, so no match.
    assertThat(hasher.verify("correct horse battery".toCharArray(), stored.replace("t=2", "t=3"))).isFalse();
  }
}
