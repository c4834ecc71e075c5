package org.authhmac.james;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.mailet.MailetException;
import org.authhmac.james.testing.TestPartners;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code replayCache.store} and {@code replayCache.redis.*} in the partner file: what is read, what is refused. */
class ReplayStoreSettingsTest {
    static final String PARTNER = "partner.a.example.keyset=a-b";

    @TempDir
    static Path dir;

    static PartnerPolicies read(String... lines) throws MailetException {
        String[] all = Stream.concat(Stream.of(PARTNER), Stream.of(lines)).toArray(String[]::new);
        return PartnerPolicies.from(TestPartners.configuration(all));
    }

    static Path passwordFile(String name, String mode) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, "s3cret\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    @Test
    void withoutAStoreTheCacheIsInMemory() throws Exception {
        assertThat(read().replayStore()).isEqualTo(new PartnerPolicies.ReplayStore.Memory());
    }

    @Test
    void readsEveryRedisKeyIntoItsValue() throws Exception {
        Path pw = passwordFile("pw-ok", "rw-r-----");
        PartnerPolicies p = read("replayCache.store=redis", "replayCache.redis.uri=rediss://redis.b.example:6380/3",
                "replayCache.redis.username=james", "replayCache.redis.passwordFile=" + pw,
                "replayCache.redis.timeout=500ms", "replayCache.redis.connectTimeout=3s", "replayCache.redis.keyPrefix=mx:rc:");
        assertThat(p.replayStore()).isEqualTo(new PartnerPolicies.ReplayStore.Redis(URI.create("rediss://redis.b.example:6380/3"),
                Optional.of("james"), Optional.of(pw), Duration.ofMillis(500), Duration.ofSeconds(3), "mx:rc:"));
    }

    @Test
    void onlyTheUriGivenMeansTheRedisDefaults() throws Exception {
        assertThat(read("replayCache.store=redis", "replayCache.redis.uri=redis://127.0.0.1:6379/0").replayStore())
                .isEqualTo(new PartnerPolicies.ReplayStore.Redis(URI.create("redis://127.0.0.1:6379/0"), Optional.empty(),
                        Optional.empty(), Duration.ofSeconds(2), Duration.ofSeconds(2), "authhmac:rc:"));
    }

    @Test
    void theEndsOfTheTimeoutRangeAreAccepted() throws Exception {
        PartnerPolicies.ReplayStore.Redis r = (PartnerPolicies.ReplayStore.Redis) read("replayCache.store=redis",
                "replayCache.redis.uri=redis://h", "replayCache.redis.timeout=50ms", "replayCache.redis.connectTimeout=60s").replayStore();
        assertThat(r.timeout()).isEqualTo(Duration.ofMillis(50));
        assertThat(r.connectTimeout()).isEqualTo(Duration.ofSeconds(60));
    }

    static Stream<Arguments> refused() throws Exception {
        String redis = "replayCache.store=redis";
        String uri = "replayCache.redis.uri=redis://127.0.0.1:6379/0";
        return Stream.of(
                Arguments.of("an unknown store", "replayCache.store", "is not a store", new String[] {"replayCache.store=memcached"}),
                Arguments.of("an unknown redis key", "replayCache.redis.url", "unknown", new String[] {redis, "replayCache.redis.url=redis://h"}),
                Arguments.of("a redis key while the store is memory", "replayCache.redis.uri", "only with replayCache.store=redis",
                        new String[] {uri}),
                Arguments.of("redis without uri", "replayCache.redis.uri", "is required", new String[] {redis}),
                Arguments.of("another scheme", "replayCache.redis.uri", "redis:// or rediss://", new String[] {redis, "replayCache.redis.uri=http://h:6379"}),
                Arguments.of("a password in the uri", "replayCache.redis.uri", "must not hold a user or password",
                        new String[] {redis, "replayCache.redis.uri=redis://:hunter2@h:6379/0"}),
                Arguments.of("a user in the uri", "replayCache.redis.uri", "must not hold a user or password",
                        new String[] {redis, "replayCache.redis.uri=redis://james@h:6379/0"}),
                Arguments.of("a uri without host", "replayCache.redis.uri", "names no host", new String[] {redis, "replayCache.redis.uri=redis:///0"}),
                Arguments.of("a query", "replayCache.redis.uri", "query", new String[] {redis, "replayCache.redis.uri=redis://h/0?timeout=1s"}),
                Arguments.of("a database that is no number", "replayCache.redis.uri", "database number",
                        new String[] {redis, "replayCache.redis.uri=redis://h/zero"}),
                Arguments.of("a timeout below 50ms", "replayCache.redis.timeout", "must be 50ms to 60s",
                        new String[] {redis, uri, "replayCache.redis.timeout=49ms"}),
                Arguments.of("a timeout above a minute", "replayCache.redis.timeout", "must be 50ms to 60s",
                        new String[] {redis, uri, "replayCache.redis.timeout=61s"}),
                Arguments.of("a connect timeout of zero", "replayCache.redis.connectTimeout", "must be 50ms to 60s",
                        new String[] {redis, uri, "replayCache.redis.connectTimeout=0"}),
                Arguments.of("a key prefix with a hash tag", "replayCache.redis.keyPrefix", "no braces",
                        new String[] {redis, uri, "replayCache.redis.keyPrefix={rc}:"}),
                Arguments.of("a key prefix with a space", "replayCache.redis.keyPrefix", "must be 1 to 64",
                        new String[] {redis, uri, "replayCache.redis.keyPrefix=a b"}),
                Arguments.of("a key prefix too long", "replayCache.redis.keyPrefix", "must be 1 to 64",
                        new String[] {redis, uri, "replayCache.redis.keyPrefix=" + "p".repeat(65)}),
                Arguments.of("a user without password file", "replayCache.redis.username", "needs replayCache.redis.passwordFile",
                        new String[] {redis, uri, "replayCache.redis.username=james"}),
                Arguments.of("a user with a space", "replayCache.redis.username", "must be 1 to 64",
                        new String[] {redis, uri, "replayCache.redis.username=ja mes"}),
                Arguments.of("a relative password file", "replayCache.redis.passwordFile", "absolute path",
                        new String[] {redis, uri, "replayCache.redis.passwordFile=redis.pw"}),
                Arguments.of("a missing password file", "replayCache.redis.passwordFile", "is not a readable file",
                        new String[] {redis, uri, "replayCache.redis.passwordFile=/nonexistent/redis.pw"}),
                Arguments.of("a world-readable password file", "replayCache.redis.passwordFile", "every user of this host",
                        new String[] {redis, uri, "replayCache.redis.passwordFile=" + passwordFile("pw-world", "rw-r--r--")}),
                Arguments.of("an empty timeout", "replayCache.redis.timeout", "has no value", new String[] {redis, uri, "replayCache.redis.timeout="}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void refused(String what, String key, String message, String[] lines) {
        assertThatThrownBy(() -> read(lines)).isInstanceOf(MailetException.class)
                .hasMessageContaining("conf/auth-hmac-partners.properties")
                .hasMessageContaining("'" + key + "'")
                .hasMessageContaining(message);
    }

    @Test
    void theRedisSettingsNeverPrintAPassword() throws Exception {
        Path pw = passwordFile("pw-print", "rw-------");
        PartnerPolicies p = read("replayCache.store=redis", "replayCache.redis.uri=redis://h:6379/0",
                "replayCache.redis.passwordFile=" + pw);
        assertThat(p.replayStore().toString()).doesNotContain("s3cret").contains(pw.toString());
    }
}
