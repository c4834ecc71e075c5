package org.authhmac.james.matchers;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.metrics.tests.RecordingMetricFactory;
import org.apache.james.utils.PropertiesProvider;
import org.authhmac.james.KeyVaultHealthCheck;
import org.authhmac.james.PartnerPolicyFile;
import org.authhmac.james.mailets.AuthHmacQuarantine;
import org.authhmac.james.mailets.SignForMailbox;
import org.authhmac.james.mailets.SignWithAuthHmac;
import org.authhmac.james.testing.Repositories;
import org.authhmac.james.testing.TestPartners;
import org.authhmac.vault.KeyVault;
import org.authhmac.vault.guice.AuthHmacVaultModule;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Instantiation the way James does it: its GuiceGenericLoader builds one child injector from the modules in
 * extensions.properties and asks it for each mailet, matcher and additional health check by class.
 */
class GuiceWiringTest {
    @TempDir
    Path dir;

    @AfterEach
    void clearProperty() {
        System.clearProperty(AuthHmacVaultModule.CONFIG_PROPERTY);
    }

    Injector jamesLikeInjector() throws Exception {
        Path conf = dir.resolve("auth-hmac.properties");
        Files.writeString(conf, "vault.backend=pkcs12\npkcs12.file=keys.p12\npkcs12.password=test-only\n");
        System.setProperty(AuthHmacVaultModule.CONFIG_PROPERTY, conf.toString());
        TestPartners.write(dir, "authservId=mx.b.example", "partner.a.example.keyset=a-b", "replayCache.capacity=1000");
        MailRepositoryStore store = Repositories.memoryStore();
        // What James itself binds...
        Injector james = Guice.createInjector(new AbstractModule() {
            @Override
            protected void configure() {
                bind(MetricFactory.class).toInstance(new RecordingMetricFactory());
                bind(org.apache.james.metrics.api.GaugeRegistry.class).toInstance(new org.apache.james.metrics.api.NoopGaugeRegistry());
                bind(PropertiesProvider.class).toInstance(TestPartners.provider(dir));
                bind(MailRepositoryStore.class).toInstance(store);
                // James binds its recipient rewrite table; only its type matters here
                bind(org.apache.james.rrt.api.RecipientRewriteTable.class).toInstance((org.apache.james.rrt.api.RecipientRewriteTable)
                        java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                                new Class<?>[] {org.apache.james.rrt.api.RecipientRewriteTable.class}, (proxy, method, args) -> {
                                    throw new UnsupportedOperationException(method.getName());
                                }));
            }
        });
        // ...and the child injector made from guice.extension.module.
        return james.createChildInjector(new AuthHmacVaultModule());
    }

    @Test
    void everyExtensionClassIsBuiltByGuiceWithTheOneVault() throws Exception {
        Injector extensions = jamesLikeInjector();

        SignWithAuthHmac signer = extensions.getInstance(SignWithAuthHmac.class);
        AuthHmacFailed matcher = extensions.getInstance(AuthHmacFailed.class);
        AuthHmacQuarantine quarantine = extensions.getInstance(AuthHmacQuarantine.class);
        KeyVaultHealthCheck health = extensions.getInstance(KeyVaultHealthCheck.class);
        SignForMailbox mailboxSigner = extensions.getInstance(SignForMailbox.class);
        org.authhmac.james.mailets.AuthHmacHold hold = extensions.getInstance(org.authhmac.james.mailets.AuthHmacHold.class);
        org.authhmac.james.mailets.AuthHmacRelease release = extensions.getInstance(org.authhmac.james.mailets.AuthHmacRelease.class);

        assertThat(signer).isNotNull();
        assertThat(matcher).isNotNull();
        assertThat(quarantine).isNotNull();
        assertThat(mailboxSigner).isNotNull();
        assertThat(hold).isNotNull();
        assertThat(release).isNotNull();
        // the WebAdmin key route asks for the managed vault: the same single instance
        assertThat(extensions.getInstance(org.authhmac.vault.ManagedKeyVault.class)).isSameAs(extensions.getInstance(KeyVault.class));
        assertThat(health.componentName().getName()).isEqualTo("AuthHmacKeyVault");
        // the partners' health: one, fed by the matcher and read by its check
        assertThat(extensions.getInstance(org.authhmac.james.PartnerHealthCheck.class).componentName().getName())
                .isEqualTo("AuthHmacPartners");
        assertThat(extensions.getInstance(org.authhmac.james.PartnerHealth.class))
                .isSameAs(extensions.getInstance(org.authhmac.james.PartnerHealth.class));
        assertThat(extensions.getInstance(KeyVault.class)).isSameAs(extensions.getInstance(KeyVault.class));
        // the signing mailets' clock check: one thread and one set of gauges for all their declarations
        assertThat(extensions.getInstance(org.authhmac.james.ClockWatch.class))
                .isSameAs(extensions.getInstance(org.authhmac.james.ClockWatch.class));
    }

    @Test
    void theMailetsAndTheMatcherShareThePartnerFileReadFromJamesConfigurationFolder() throws Exception {
        Injector extensions = jamesLikeInjector();

        PartnerPolicyFile file = extensions.getInstance(PartnerPolicyFile.class);

        assertThat(extensions.getInstance(PartnerPolicyFile.class)).isSameAs(file);
        assertThat(file.policies().keysetByDomain()).containsExactly(java.util.Map.entry("a.example", "a-b"));
        assertThat(file.policies().replayCache().capacity()).isEqualTo(1000);
    }

    @Test
    void theHealthCheckIsUnhealthyNamingAKeysetTheInitialisedMailetAndMatcherNeedButTheVaultLacks() throws Exception {
        // given the partner file names keyset a-b, and the vault (empty) holds no key in it
        Injector extensions = jamesLikeInjector();
        KeyVaultHealthCheck health = extensions.getInstance(KeyVaultHealthCheck.class);
        assertThat(reactor.core.publisher.Mono.from(health.check()).block().isHealthy()).isTrue();

        extensions.getInstance(SignWithAuthHmac.class).init(org.apache.mailet.base.test.FakeMailetConfig.builder()
                .mailetName("SignWithAuthHmac").mailetContext(org.apache.mailet.base.test.FakeMailContext.defaultContext())
                .setProperty("signingDomain", "b.example").build());
        extensions.getInstance(AuthHmacFailed.class).init(org.apache.mailet.base.test.FakeMatcherConfig.builder()
                .matcherName("AuthHmacFailed").mailetContext(org.apache.mailet.base.test.FakeMailContext.defaultContext()).build());

        org.apache.james.core.healthcheck.Result result = reactor.core.publisher.Mono.from(health.check()).block();
        assertThat(result.isUnHealthy()).isTrue();
        assertThat(result.getCause()).hasValueSatisfying(cause -> assertThat(cause)
                .contains("keyset 'a-b' has no primary key, so mail to partner a.example waits unsigned")
                .contains("keyset 'a-b' holds no PRIMARY or ACTIVE key, so mail from partner a.example fails verification"));
    }

    @Test
    void allMatchersShareOneReplayCache() throws Exception {
        Injector extensions = jamesLikeInjector();

        assertThat(extensions.getInstance(SharedReplayCache.class)).isSameAs(extensions.getInstance(SharedReplayCache.class));
        // each mailet/matcher declaration is its own instance, as in James
        assertThat(extensions.getInstance(AuthHmacFailed.class)).isNotSameAs(extensions.getInstance(AuthHmacFailed.class));
    }
}
