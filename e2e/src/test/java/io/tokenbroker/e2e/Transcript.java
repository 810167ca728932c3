package io.tokenbroker.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Every text a person or a log collector could see during a run: process output, error messages that clients
 * received, error pages. Each entry may name secrets it is meant to show (a page carries its own session's
 * CSRF token and the code its reader typed); none may show any other.
 */
final class Transcript {
  /** One captured text; {@code shows} are secret values it exists to display. */
  record Entry(String source, String text, Set<String> shows) {
    long lines() {
      return text.lines().count();
    }
  }

  private final List<Entry> entries = new ArrayList<>();

  void add(String source, String text) {
    add(source, text, Set.of());
  }

  void add(String source, String text, Set<String> shows) {
    entries.add(new Entry(source, text == null ? "" : text, Set.copyOf(shows)));
  }

  List<Entry> entries() {
    return List.copyOf(entries);
  }

  long lines() {
    return entries.stream().mapToLong(Entry::lines).sum();
  }
}
