package org.authhmac.testing.redis;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RedisServerTest {

    @Test
    void startsWithoutPersistenceByDefault() {
        try (RedisServer redis = RedisServer.start()) {
            assertThat(redis.command("CONFIG", "GET", "appendonly")).isEqualTo("appendonly\nno");
            assertThat(redis.command("CONFIG", "GET", "save")).isEqualTo("save\n");
        }
    }

    @Test
    void appendOnlyKeepsAcknowledgedWritesAcrossAKill() {
        try (RedisServer redis = RedisServer.startAppendOnly("everysec")) {
            assertThat(redis.command("CONFIG", "GET", "appendonly")).isEqualTo("appendonly\nyes");
            assertThat(redis.command("CONFIG", "GET", "appendfsync")).isEqualTo("appendfsync\neverysec");
            assertThat(redis.command("SET", "k", "v")).isEqualTo("OK");

            // Redis writes to the append-only file before it answers (everysec: fsync a second later, which only a
            // crash of the host, not of the process, can lose)
            redis.restart();

            assertThat(redis.command("GET", "k")).isEqualTo("v");
        }
    }
}
