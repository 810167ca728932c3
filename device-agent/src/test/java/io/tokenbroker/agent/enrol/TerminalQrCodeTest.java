package io.tokenbroker.agent.enrol;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.zxing.common.BitMatrix;
import com.google.zxing.qrcode.decoder.Decoder;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What 'login' draws is a QR code a phone decodes to the complete verification URI, in both drawing styles. */
class TerminalQrCodeTest {
  private static final String COMPLETE = "https://broker.example:8444/device?user_code=WDJB-MJHT";

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void theDrawnCodeDecodesToTheCompleteUri(boolean unicode) throws Exception {
    String drawn = TerminalQrCode.render(COMPLETE, unicode);

    BitMatrix scanned = scan(drawn, unicode);
    assertThat(new Decoder().decode(scanned).getText()).isEqualTo(COMPLETE);
  }

  @Test
  void theCodeHasAQuietZoneOfLightModulesAllAround() {
    List<String> lines = TerminalQrCode.render(COMPLETE, false).lines().toList();
    assertThat(lines.get(0)).matches("#+").hasSize(lines.size() * 2);
    assertThat(lines.get(lines.size() - 1)).matches("#+");
    assertThat(lines).allMatch(l -> l.startsWith("####") && l.endsWith("####"));
  }

  /** Reads the drawing back into dark modules, without the two-module quiet zone, as a phone's camera would. */
  private static BitMatrix scan(String drawn, boolean unicode) {
    List<String> lines = drawn.lines().toList();
    int width = unicode ? lines.get(0).length() : lines.get(0).length() / 2;
    boolean[][] dark = new boolean[width][width];
    for (int row = 0; row < lines.size(); row++) {
      String line = lines.get(row);
      for (int x = 0; x < width; x++) {
        if (unicode) {
          char c = line.charAt(x);
          dark[2 * row][x] = c == ' ' || c == '\u2584';
          if (2 * row + 1 < width) {
            dark[2 * row + 1][x] = c == ' ' || c == '\u2580';
          }
        } else {
          dark[row][x] = line.charAt(2 * x) == ' ';
        }
      }
    }
    int size = width - 4;
    BitMatrix modules = new BitMatrix(size);
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        if (dark[y + 2][x + 2]) {
          modules.set(x, y);
        }
      }
    }
    return modules;
  }
}
