package io.tokenbroker.e2e;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The secrets one run issued or used, and a search for them in a {@link Transcript}. A secret of 16 characters
 * or more is found by any 16-character piece of it, so a truncated token counts too; a user code (8 letters)
 * is found whole, with or without its dash, in any case. Findings name the source, the line and the kind of
 * secret, never its value, so that a failure does not leak what it found.
 */
final class IssuedSecrets {
  static final int PIECE = 16;

  private record Secret(String label, String value, boolean userCode) {}

  private final Map<String, Integer> counts = new LinkedHashMap<>();
  private final Map<String, Secret> byValue = new LinkedHashMap<>();
  private final Map<String, Secret> pieces = new HashMap<>();
  /** Upper-case forms of each user code (with and without the dash). */
  private final Map<String, Secret> userCodes = new HashMap<>();

  /** Adds a secret of {@code kind} (e.g. "refresh token"); returns it for chaining. */
  String add(String kind, String value) {
    if (value == null || value.isEmpty() || byValue.containsKey(value)) {
      return value;
    }
    if (value.length() < PIECE) {
      throw new IllegalArgumentException(kind + " is shorter than " + PIECE + " characters; add it as a user code");
    }
    Secret s = new Secret(label(kind), value, false);
    byValue.put(value, s);
    for (int i = 0; i + PIECE <= value.length(); i++) {
      pieces.putIfAbsent(value.substring(i, i + PIECE), s);
    }
    return value;
  }

  /** A user code as the device shows it ({@code XXXX-XXXX}). */
  String addUserCode(String kind, String code) {
    String canonical = code.replace("-", "").toUpperCase(Locale.ROOT);
    if (canonical.length() != 8 || byValue.containsKey(canonical)) {
      throw new IllegalArgumentException("not a new user code");
    }
    Secret s = new Secret(label(kind), canonical, true);
    byValue.put(canonical, s);
    userCodes.put(canonical, s);
    userCodes.put(canonical.substring(0, 4) + "-" + canonical.substring(4), s);
    return code;
  }

  private String label(String kind) {
    return kind + " #" + counts.merge(kind, 1, Integer::sum);
  }

  int size() {
    return byValue.size();
  }

  int pieces() {
    return pieces.size();
  }

  /** Where a secret shows up that the text is not meant to show: "source, line N: kind #i", nothing more. */
  List<String> findLeaks(Transcript transcript) {
    List<String> findings = new ArrayList<>();
    for (Transcript.Entry e : transcript.entries()) {
      List<String> lines = e.text().lines().toList();
      for (int n = 0; n < lines.size(); n++) {
        for (Secret s : secretsIn(lines.get(n))) {
          if (!shows(e, s)) {
            findings.add(e.source() + ", line " + (n + 1) + ": " + s.label());
          }
        }
      }
    }
    return findings;
  }

  private static boolean shows(Transcript.Entry e, Secret s) {
    return e.shows().stream().anyMatch(v -> v.equals(s.value())
        || s.userCode() && v.replace("-", "").toUpperCase(Locale.ROOT).equals(s.value()));
  }

  private List<Secret> secretsIn(String line) {
    List<Secret> found = new ArrayList<>();
    for (int i = 0; i + PIECE <= line.length(); i++) {
      Secret s = pieces.get(line.substring(i, i + PIECE));
      if (s != null && !found.contains(s)) {
        found.add(s);
      }
    }
    String upper = line.toUpperCase(Locale.ROOT);
    for (Map.Entry<String, Secret> code : userCodes.entrySet()) {
      if (upper.contains(code.getKey()) && !found.contains(code.getValue())) {
        found.add(code.getValue());
      }
    }
    return found;
  }
}
