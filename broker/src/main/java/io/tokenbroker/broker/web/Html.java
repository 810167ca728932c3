package io.tokenbroker.broker.web;

/** HTML escaping for text and attribute values: everything shown on a page goes through it. */
final class Html {
  private Html() {}

  /** {@code value} with {@code & < > " '} replaced by entities; null becomes empty. */
  static String escape(String value) {
    if (value == null) {
      return "";
    }
    StringBuilder sb = new StringBuilder(value.length() + 16);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '&' -> sb.append("&amp;");
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&#39;");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }
}
