package org.authhmac.testing.james;

import com.google.inject.AbstractModule;
import com.google.inject.Key;
import com.google.inject.multibindings.OptionalBinder;
import com.google.inject.name.Names;
import java.time.Clock;
import java.time.Duration;

/**
 * Runs inside James (loaded from {@code extensions-jars/} as a {@code guice.extension.module}): sets the clock the
 * signing mailet signs with, the product's {@code @Named("auth-hmac") Clock} (an {@code OptionalBinder} whose default
 * is the system clock), to the system clock plus {@code -Dauthhmac.test.signingClockOffset}. James's own clock stays as
 * it is: only the {@code t=} this server signs with moves. Set it up with {@link SigningClockOffset}, which the test JVM
 * can load without Guice.
 */
public class OffsetSigningClockModule extends AbstractModule {
    @Override
    protected void configure() {
        Duration offset = Duration.parse(System.getProperty(SigningClockOffset.PROPERTY, "PT0S"));
        OptionalBinder.newOptionalBinder(binder(), Key.get(Clock.class, Names.named(SigningClockOffset.CLOCK_NAME)))
                .setBinding().toInstance(Clock.offset(Clock.systemUTC(), offset));
    }
}
