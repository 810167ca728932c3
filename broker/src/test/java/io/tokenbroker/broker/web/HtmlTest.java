package io.tokenbroker.broker.web;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HtmlTest {
  @Test
  void escapesMarkupAndBothQuotes() {
    assertThat(Html.escape("<script>alert('x')</script> & \"q\""))
        .isEqualTo("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
  }

  @Test
  void nullIsEmptyAndPlainTextUnchanged() {
    assertThat(Html.escape(null)).isEmpty();
    assertThat(Html.escape("Acme Thermostat 3000 – ünïcode")).isEqualTo("Acme Thermostat 3000 – ünïcode");
  }

  @Test
  void metadataNamesTheGrpcEndpointsUnderTheExternalUrl() {
    String json = AuthorizationServerMetadata.json(java.net.URI.create("https://broker.example"),
        java.net.URI.create("https://grpc.example:8443"), java.net.URI.create("https://broker.example:8444/"));
    assertThat(json).contains("\"issuer\":\"https://broker.example\"")
        .contains("\"token_endpoint\":\"https://grpc.example:8443/tokenbroker.v1.TokenService/Token\"")
        .contains("\"jwks_uri\":\"https://broker.example:8444/.well-known/jwks.json\"");
  }
}
