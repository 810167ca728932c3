package io.tokenbroker.broker.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A test class that runs against a fresh, real SoftHSM2 token through SunPKCS11. Such classes carry the
 * {@code hsm} tag, which Surefire runs one JVM per class, because SoftHSM reads its configuration once per
 * process. Test methods and constructors can take a {@link SoftHsm} parameter.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("hsm")
@ExtendWith(SoftHsmTokenExtension.class)
public @interface SoftHsmTest {}
