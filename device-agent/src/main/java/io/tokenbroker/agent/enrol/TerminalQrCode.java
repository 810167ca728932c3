package io.tokenbroker.agent.enrol;

import com.google.zxing.BarcodeFormat;
import com.google.zxing.EncodeHintType;
import com.google.zxing.WriterException;
import com.google.zxing.common.BitMatrix;
import com.google.zxing.qrcode.QRCodeWriter;
import com.google.zxing.qrcode.decoder.ErrorCorrectionLevel;
import java.nio.charset.Charset;
import java.util.Map;

/**
 * A QR code of {@code verification_uri_complete} drawn with text, so that a person can scan it from the
 * device's console with a phone (RFC 8628 §3.3.1). Encoding is Google's ZXing; this class only draws.
 *
 * <p>Light modules are drawn as filled characters and dark ones as blanks, which reads correctly on the usual
 * dark terminal background; a quiet zone of two light modules surrounds the code. Where the console can show
 * Unicode half blocks, two module rows share one text line; otherwise two ASCII characters draw one module.
 */
public final class TerminalQrCode {
  private static final int QUIET_ZONE = 2;

  private TerminalQrCode() {}

  /** The code for {@code text}, one string per line. */
  public static String render(String text, boolean unicode) {
    BitMatrix modules = encode(text);
    int size = modules.getWidth() + 2 * QUIET_ZONE;
    StringBuilder out = new StringBuilder();
    if (unicode) {
      for (int y = 0; y < size; y += 2) {
        for (int x = 0; x < size; x++) {
          boolean upperLight = light(modules, x, y);
          boolean lowerLight = y + 1 >= size || light(modules, x, y + 1);
          out.append(upperLight ? (lowerLight ? '\u2588' : '\u2580') : (lowerLight ? '\u2584' : ' '));
        }
        out.append('\n');
      }
    } else {
      for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
          out.append(light(modules, x, y) ? "##" : "  ");
        }
        out.append('\n');
      }
    }
    return out.toString();
  }

  /** Whether the console's charset can show the half-block characters. */
  public static boolean consoleSupportsUnicode() {
    String name = System.getProperty("stdout.encoding",
        System.getProperty("sun.stdout.encoding", Charset.defaultCharset().name()));
    try {
      return Charset.forName(name).newEncoder().canEncode("\u2580\u2584\u2588");
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** The QR modules of {@code text}: error correction level M, no quiet zone (drawn separately). */
  static BitMatrix encode(String text) {
    try {
      return new QRCodeWriter().encode(text, BarcodeFormat.QR_CODE, 0, 0,
          Map.of(EncodeHintType.ERROR_CORRECTION, ErrorCorrectionLevel.M, EncodeHintType.MARGIN, 0));
    } catch (WriterException e) {
      throw new IllegalArgumentException("cannot encode the URI as a QR code: " + e.getMessage(), e);
    }
  }

  private static boolean light(BitMatrix modules, int x, int y) {
    int mx = x - QUIET_ZONE;
    int my = y - QUIET_ZONE;
    boolean inside = mx >= 0 && my >= 0 && mx < modules.getWidth() && my < modules.getHeight();
    return !inside || !modules.get(mx, my);
  }
}
