package io.tokenbroker.broker.device;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UserCodeTest {
  @Test
  void generateGivesEightConsonantsShownWithADash() {
    SecureRandom random = new SecureRandom();
    for (int i = 0; i < 1000; i++) {
      assertThat(UserCode.generate(random)).matches("[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}");
    }
  }

  @Test
  void generateUsesEveryLetterOfTheAlphabetAboutEquallyOften() {
    SecureRandom random = new SecureRandom();
    Map<Character, Integer> counts = new HashMap<>();
    int codes = 20_000;
    for (int i = 0; i < codes; i++) {
      for (char c : UserCode.generate(random).replace("-", "").toCharArray()) {
        counts.merge(c, 1, Integer::sum);
      }
    }
    assertThat(counts).hasSize(20);
    double expected = codes * 8 / 20.0;
    // 8000 expected per letter; a biased generator (e.g. modulo of a byte) is off by far more than 5 %.
    counts.values().forEach(n -> assertThat((double) n).isBetween(expected * 0.95, expected * 1.05));
  }

  @ParameterizedTest
  @ValueSource(strings = {"WDJB-MJHT", "wdjb-mjht", "WDJBMJHT", "wdjbmjht", " wdjb mjht ", "Wd-Jb-Mj-Ht"})
  void normalizeAcceptsLowerCaseSpacesAndAMissingDash(String typed) {
    assertThat(UserCode.normalize(typed)).hasValue("WDJBMJHT");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "WDJB-MJH", "WDJB-MJHTX", "WDJA-MJHT", "WDJB_MJHT", "WDJB-MJH1",
      "WDJB-MJHT-WDJB-MJHT-WDJB-MJHT-WDJB"})
  void normalizeRefusesWrongLengthsAndCharactersOutsideTheAlphabet(String typed) {
    assertThat(UserCode.normalize(typed)).isEmpty();
  }

  @Test
  void hashIsStableAndDoesNotContainTheCode() {
    assertThat(UserCode.hash("WDJBMJHT")).isEqualTo(UserCode.hash("WDJBMJHT")).hasSize(64)
        .doesNotContain("WDJBMJHT");
    assertThat(UserCode.hash("WDJBMJHT")).isNotEqualTo(UserCode.hash("WDJBMJHV"));
  }
}
