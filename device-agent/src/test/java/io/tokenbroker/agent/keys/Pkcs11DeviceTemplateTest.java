package io.tokenbroker.agent.keys;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A device's SunPKCS11 configuration only has to name the token: the agent brings its own key template. */
class Pkcs11DeviceTemplateTest {
  private static final String NAMES_THE_TOKEN = "name = device\nlibrary = /usr/lib/softhsm/libsofthsm2.so\nslot = 7\n";

  @Test
  void aConfigurationWithoutKeyAttributesGetsTheAgentsTemplate() {
    String effective = Pkcs11Device.withTemplate(NAMES_THE_TOKEN);

    assertThat(effective).startsWith(NAMES_THE_TOKEN).endsWith(Pkcs11Device.ATTRIBUTES);
    assertThat(Pkcs11Device.ATTRIBUTES).contains("CKA_EXTRACTABLE = false").contains("CKA_SENSITIVE = true")
        .contains("CKA_DECRYPT = false");
  }

  @Test
  void aConfigurationWithItsOwnKeyAttributesIsUsedAsWritten() {
    String own = NAMES_THE_TOKEN + "attributes(generate, *, *) = {\n  CKA_TOKEN = true\n}\n";

    assertThat(Pkcs11Device.withTemplate(own)).isEqualTo(own);
  }
}
