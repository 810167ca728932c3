package io.tokenbroker.broker.device;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Optional;

/**
 * What a person types into the verification page or the operator CLI: whatever it is, normalisation either
 * refuses it or yields a code that the typed characters spell, letter for letter, ignoring only ASCII case,
 * dashes and whitespace. Runs over the committed inputs in every build; {@code fuzz/run} fuzzes it.
 */
class UserCodeFuzzTests {
  @FuzzTest
  void normalizeAcceptsOnlyWhatTheTypedLettersSpell(FuzzedDataProvider data) {
    String typed = data.consumeRemainingAsString();

    Optional<String> code = UserCode.normalize(typed);

    if (code.isEmpty()) {
      return;
    }
    assertThat(code.get()).hasSize(UserCode.LENGTH);
    StringBuilder spelled = new StringBuilder();
    for (char c : typed.toCharArray()) {
      if (c == '-' || Character.isWhitespace(c)) {
        continue;
      }
      boolean asciiLetter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
      assertThat(asciiLetter).as("only ASCII letters may count towards a code, not U+%04X", (int) c).isTrue();
      spelled.append(Character.toUpperCase(c));
    }
    assertThat(code.get()).isEqualTo(spelled.toString());
    assertThat(code.get().chars()).allMatch(c -> UserCode.ALPHABET.indexOf(c) >= 0);
    // Display form and canonical form name the same code.
    assertThat(UserCode.normalize(code.get().substring(0, 4) + "-" + code.get().substring(4))).isEqualTo(code);
  }
}
