package org.authhmac.vault.guice;

import com.google.inject.AbstractModule;
import com.google.inject.Key;
import com.google.inject.Provides;
import com.google.inject.name.Names;
import com.google.inject.multibindings.OptionalBinder;
import java.time.Clock;
import com.google.inject.Singleton;
import java.nio.file.Path;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.vault.KeyVault;
import org.authhmac.vault.KeyVaults;
import org.authhmac.vault.ManagedKeyVault;

/**
 * Binds {@link KeyVault} (and {@link PeriodKeys}) for James, listed in extensions.properties as
 * {@code guice.extension.module=org.authhmac.vault.guice.AuthHmacVaultModule}. The configuration file is found as
 * {@link KeyVaults#defaultConfigFile()} says: -Dauthhmac.config, else conf/auth-hmac.properties under James's
 * working directory. A bad file fails James's start-up with a message naming the property.
 *
 * <p>The bound {@link PeriodKeys} is the vault itself, the trusted path for our own contexts (signing). Code that
 * verifies received mail takes {@link KeyVault#forVerification} instead, as AuthHmacFailed does through
 * PartnerKeys, so that forged headers cannot fill the cache or steer the prefetching.
 */
public class AuthHmacVaultModule extends AbstractModule {
    public static final String CONFIG_PROPERTY = KeyVaults.CONFIG_PROPERTY;
    public static final String FILE_NAME = KeyVaults.CONFIG_FILE_NAME;
    /** The name of the clock our mailets sign with. */
    public static final String CLOCK_NAME = "auth-hmac";
    public static final Key<Clock> CLOCK = Key.get(Clock.class, Names.named(CLOCK_NAME));

    @Override
    protected void configure() {
        // the mailets may ask for the narrower protocol interface; the WebAdmin key route for the managed one
        bind(PeriodKeys.class).to(KeyVault.class);
        bind(KeyVault.class).to(ManagedKeyVault.class);
        // the signing mailet's clock: the system's, unless a test module sets another (OptionalBinder.setBinding);
        // named, so that it neither takes nor changes a Clock James binds for itself
        OptionalBinder.newOptionalBinder(binder(), CLOCK).setDefault().toInstance(Clock.systemUTC());
    }

    @Provides
    @Singleton
    ManagedKeyVault keyVault() {
        ManagedKeyVault vault = KeyVaults.openManaged(configFile());
        Runtime.getRuntime().addShutdownHook(new Thread(vault::close, "auth-hmac-vault-close"));
        return vault;
    }

    /** Where the vault configuration lives; see {@link KeyVaults#defaultConfigFile()}. */
    public static Path configFile() {
        return KeyVaults.defaultConfigFile();
    }
}
