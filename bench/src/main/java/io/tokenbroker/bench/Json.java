package io.tokenbroker.bench;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** A minimal JSON writer for the result files (maps keep their insertion order). */
final class Json {
  private Json() {}

  static String write(Object value) {
    StringBuilder out = new StringBuilder();
    write(value, out, 0);
    return out.append('\n').toString();
  }

  private static void write(Object value, StringBuilder out, int indent) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof String s) {
      quote(s, out);
    } else if (value instanceof Double d) {
      out.append(d.isNaN() || d.isInfinite() ? "null" : formatDouble(d));
    } else if (value instanceof Float f) {
      write(f.doubleValue(), out, indent);
    } else if (value instanceof Number || value instanceof Boolean) {
      out.append(value);
    } else if (value instanceof Map<?, ?> map) {
      if (map.isEmpty()) {
        out.append("{}");
        return;
      }
      out.append("{\n");
      Iterator<? extends Map.Entry<?, ?>> it = map.entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<?, ?> e = it.next();
        pad(out, indent + 2);
        quote(String.valueOf(e.getKey()), out);
        out.append(": ");
        write(e.getValue(), out, indent + 2);
        out.append(it.hasNext() ? ",\n" : "\n");
      }
      pad(out, indent);
      out.append('}');
    } else if (value instanceof List<?> list) {
      if (list.isEmpty()) {
        out.append("[]");
        return;
      }
      boolean scalars = list.stream().noneMatch(v -> v instanceof Map || v instanceof List);
      out.append(scalars ? "[" : "[\n");
      for (int i = 0; i < list.size(); i++) {
        if (!scalars) {
          pad(out, indent + 2);
        }
        write(list.get(i), out, indent + 2);
        if (i < list.size() - 1) {
          out.append(scalars ? ", " : ",\n");
        }
      }
      if (!scalars) {
        out.append('\n');
        pad(out, indent);
      }
      out.append(']');
    } else {
      quote(value.toString(), out);
    }
  }

  private static String formatDouble(double d) {
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      return Long.toString((long) d);
    }
    return Double.toString(Math.round(d * 1e6) / 1e6);
  }

  private static void pad(StringBuilder out, int n) {
    out.append(" ".repeat(n));
  }

  static void quote(String s, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  /** Convenience for building ordered maps inline. */
  static Map<String, Object> obj(Object... keyValues) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      m.put((String) keyValues[i], keyValues[i + 1]);
    }
    return m;
  }

  static List<Object> list(Object... values) {
    return new java.util.ArrayList<>(List.of(values));
  }
}
