package org.authhmac.vault;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiPredicate;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.PeriodKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keys derived for a verifier that no MAC has verified under yet: held apart from the trusted keys, in a bounded
 * table, never prefetched. Each is settled once: confirmed (a MAC verified under it, or our own use vouched for it),
 * or counted as wasted (the first MAC checked under it failed, or it left memory unchecked).
 */
final class UnconfirmedKeys {
    private static final Logger LOG = LoggerFactory.getLogger(UnconfirmedKeys.class);

    /** One held key and whom to tell if it turns out wasted. */
    static final class Held {
        final PeriodKey key;
        private final Runnable onWasted;
        private final AtomicBoolean settled = new AtomicBoolean();

        private Held(PeriodKey key, Runnable onWasted) {
            this.key = key;
            this.onWasted = onWasted;
        }
    }

    private final LruTable<KdfContext, Held> table;
    private final AtomicLong wasted = new AtomicLong();

    UnconfirmedKeys(int maxEntries) {
        this.table = new LruTable<>(maxEntries);
    }

    /** The key held for this context, or null. */
    Held get(KdfContext ctx) {
        return table.get(ctx);
    }

    /** Holds a key; returns what was dropped to make room, for the caller to {@link #waste} outside its locks. */
    List<Held> hold(KdfContext ctx, PeriodKey key, Runnable onWasted) {
        return values(table.put(ctx, new Held(key, onWasted)));
    }

    /** The held key is vouched for (and cached by the caller already): it leaves the table, settled but not wasted. */
    void confirm(KdfContext ctx, Held held) {
        if (table.remove(ctx, held)) {
            held.settled.set(true); // a derivation first checked against a forgery stays counted as wasted
        }
    }

    /** Drops the keys whose context fails {@code drop}; returns them, for the caller to {@link #waste}. */
    List<Held> removeIf(BiPredicate<KdfContext, Held> drop) {
        return values(table.removeIf(drop));
    }

    /** Counts each key's derivation as wasted, once, and tells the view that derived it. */
    void waste(List<Held> dropped) {
        dropped.forEach(this::waste);
    }

    void waste(Held held) {
        if (!held.settled.compareAndSet(false, true)) {
            return;
        }
        wasted.incrementAndGet();
        try {
            held.onWasted.run();
        } catch (RuntimeException e) {
            LOG.warn("wasted-derivation listener failed: {}", e.toString());
        }
    }

    long wastedCount() {
        return wasted.get();
    }

    int size() {
        return table.size();
    }

    void clear() {
        table.clear();
    }

    private static List<Held> values(List<Map.Entry<KdfContext, Held>> entries) {
        List<Held> out = new ArrayList<>(entries.size());
        for (Map.Entry<KdfContext, Held> e : entries) {
            out.add(e.getValue());
        }
        return out;
    }
}
