package io.tokenbroker.broker.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/** Column conversions shared by the JDBC stores. */
final class Sql {
  /** SQLSTATE of a unique-constraint violation in H2 and PostgreSQL. */
  static final String UNIQUE_VIOLATION = "23505";

  private Sql() {}

  /**
   * A timestamp column value. Truncated to what the column keeps (microseconds): databases may round, and a
   * rounded-up time would make a record look younger than it is.
   */
  static OffsetDateTime ts(Instant instant) {
    return instant == null ? null : OffsetDateTime.ofInstant(instant.truncatedTo(ChronoUnit.MICROS), ZoneOffset.UTC);
  }

  static Instant instant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }

  /** Space-separated, sorted: the RFC 6749 §3.3 shape of a scope string. */
  static String joined(Set<String> values) {
    return String.join(" ", new TreeSet<>(values));
  }

  static Set<String> split(String value) {
    if (value == null || value.isBlank()) {
      return Set.of();
    }
    return Arrays.stream(value.split(" ")).filter(s -> !s.isEmpty()).collect(Collectors.toUnmodifiableSet());
  }

  static Duration seconds(ResultSet rs, String column) throws SQLException {
    return Duration.ofSeconds(rs.getInt(column));
  }

  static boolean isUniqueViolation(SQLException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException s && UNIQUE_VIOLATION.equals(s.getSQLState())) {
        return true;
      }
    }
    return false;
  }
}
