package org.authhmac.vault;

/**
 * How the period-key cache behaves. previousPeriods: how many past periods stay cached (the verifier's window);
 * prefetchSeconds: how long before a period boundary the next period's key is derived (0 = no background prefetch);
 * maxEntries: the bound on each of the vault's tables (trusted keys, keys derived for received mail and not yet
 * proven by a MAC, prefetched streams); a full table drops its least recently used entry, so that nothing received
 * grows memory without limit.
 */
public record CacheSettings(int previousPeriods, int prefetchSeconds, int maxEntries) {
    public static final CacheSettings DEFAULTS = new CacheSettings(1, 60, 10_000);

    public CacheSettings {
        if (previousPeriods < 0 || prefetchSeconds < 0 || maxEntries < 1) {
            throw new IllegalArgumentException("cache settings out of range");
        }
    }
}
