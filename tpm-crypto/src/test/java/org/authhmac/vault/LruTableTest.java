package org.authhmac.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The bounded table behind each of the vault's caches: never more than its bound, the least recently used goes first. */
class LruTableTest {

    @Test
    void aFullTableDropsItsLeastRecentlyUsedEntryAndReturnsIt() {
        LruTable<String, Integer> table = new LruTable<>(2);
        assertThat(table.put("a", 1)).isEmpty();
        assertThat(table.put("b", 2)).isEmpty();
        table.get("a"); // b is now the least recently used

        assertThat(table.put("c", 3)).containsExactly(Map.entry("b", 2));
        assertThat(table.size()).isEqualTo(2);
        assertThat(table.get("b")).isNull();
        assertThat(table.get("a")).isEqualTo(1);
        assertThat(table.get("c")).isEqualTo(3);
    }

    @Test
    void aTableOfOneEntryHoldsTheLatest() {
        LruTable<String, Integer> table = new LruTable<>(1);
        table.put("a", 1);

        assertThat(table.put("b", 2)).containsExactly(Map.entry("a", 1));
        assertThat(table.snapshot()).containsExactly(Map.entry("b", 2));
    }

    @Test
    void aTableWithoutRoomIsRefused() {
        assertThatThrownBy(() -> new LruTable<String, Integer>(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void replacingAValueReturnsTheReplacedEntryAndPuttingTheSameValueAgainReturnsNothing() {
        LruTable<String, Integer> table = new LruTable<>(2);
        Integer one = 1000;
        table.put("a", one);

        assertThat(table.put("a", one)).isEmpty();
        assertThat(table.put("a", 2000)).containsExactly(Map.entry("a", 1000));
        assertThat(table.size()).isEqualTo(1);
    }

    @Test
    void mergeCombinesWithTheHeldValueAndMakesRoomLikePut() {
        LruTable<String, Long> table = new LruTable<>(2);
        table.merge("a", 5L, Math::max);
        table.merge("b", 1L, Math::max);

        assertThat(table.merge("a", 3L, Math::max)).isEmpty();
        assertThat(table.get("a")).isEqualTo(5L);
        assertThat(table.merge("c", 1L, Math::max)).as("b, the least recently used, makes room").containsExactly(Map.entry("b", 1L));
    }

    @Test
    void removeTakesTheEntryOnlyWhileItHoldsTheExpectedValue() {
        LruTable<String, Integer> table = new LruTable<>(2);
        table.put("a", 1);

        assertThat(table.remove("a", 2)).isFalse();
        assertThat(table.containsKey("a")).isTrue();
        assertThat(table.remove("a", 1)).isTrue();
        assertThat(table.containsKey("a")).isFalse();
        assertThat(table.remove("a", 1)).isFalse();
    }

    @Test
    void removeIfReturnsTheEntriesItTook() {
        LruTable<String, Integer> table = new LruTable<>(3);
        table.put("a", 1);
        table.put("b", 2);
        table.put("c", 3);

        assertThat(table.removeIf((k, v) -> v % 2 == 1)).containsExactly(Map.entry("a", 1), Map.entry("c", 3));
        assertThat(table.snapshot()).containsExactly(Map.entry("b", 2));
    }

    @Test
    void containsKeyAndSnapshotLeaveTheOrderAsItIs() {
        LruTable<String, Integer> table = new LruTable<>(2);
        table.put("a", 1);
        table.put("b", 2);

        assertThat(table.containsKey("a")).isTrue();
        assertThat(table.snapshot()).containsExactly(Map.entry("a", 1), Map.entry("b", 2));
        assertThat(table.put("c", 3)).as("a is still the least recently used").containsExactly(Map.entry("a", 1));
    }

    @Test
    void clearEmptiesTheTable() {
        LruTable<String, Integer> table = new LruTable<>(2);
        table.put("a", 1);
        table.clear();

        assertThat(table.size()).isZero();
        assertThat(table.get("a")).isNull();
    }
}
