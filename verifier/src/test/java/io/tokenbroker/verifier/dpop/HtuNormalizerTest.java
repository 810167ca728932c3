package io.tokenbroker.verifier.dpop;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 3986 §6.2.2-6.2.3 normalisation for RFC 9449 {@code htu} comparison. */
class HtuNormalizerTest {
  @ParameterizedTest
  @CsvSource({
      "https://broker.example/tokenbroker.v1.TokenService/Token, https://broker.example/tokenbroker.v1.TokenService/Token",
      "HTTPS://Broker.Example/x, https://broker.example/x",
      "https://broker.example:443/x, https://broker.example/x",
      "https://broker.example:8443/x, https://broker.example:8443/x",
      "http://broker.example:80/x, http://broker.example/x",
      "https://broker.example, https://broker.example/",
      "https://broker.example/a/./b/../c, https://broker.example/a/c",
      "https://broker.example/%7Euser/%2f, https://broker.example/~user/%2F",
      "https://broker.example/x?q=1#frag, https://broker.example/x"
  })
  void normalizeGivesTheRfc3986NormalForm(String input, String expected) {
    assertThat(HtuNormalizer.normalize(input)).hasValue(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "/relative/path", "ftp://broker.example/x", "https://user@broker.example/x",
      "https://broker.example/%zz", "https://broker.example/%4", "::not a uri::"})
  void normalizeRefusesWhatIsNotAnAbsoluteHttpUri(String input) {
    assertThat(HtuNormalizer.normalize(input)).isEmpty();
  }

  @ParameterizedTest
  @CsvSource({"https://broker.example/X, https://broker.example/x", "https://broker.example/x, http://broker.example/x"})
  void pathCaseAndSchemeStillMatter(String a, String b) {
    assertThat(HtuNormalizer.normalize(a)).isNotEqualTo(HtuNormalizer.normalize(b));
  }
}
