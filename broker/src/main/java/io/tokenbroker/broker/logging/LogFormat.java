package io.tokenbroker.broker.logging;

import java.util.Locale;

/** How the broker writes log lines: for people ({@code text}) or for log collectors (one JSON object a line). */
public enum LogFormat {
  TEXT, JSON;

  /** {@code text} or {@code json}, any case. */
  public static LogFormat parse(String value) {
    try {
      return valueOf(value.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("must be text or json");
    }
  }
}
