package org.authhmac.vault;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The keysets as the running vault sees them: read from the keyset file, looked at again at most once a second so
 * that keys another process (the command line) added show up, and changed only under the lock that every writer in
 * every process takes. A keyset file that changed but cannot be used keeps the last good keysets.
 */
final class KeysetStore {
    private static final Logger LOG = LoggerFactory.getLogger(KeysetStore.class);
    /** How often the keyset file's modification time is looked at, so that keys added by the CLI show up. */
    private static final long RECHECK_MILLIS = 1_000;

    /** A change to the keysets as they are on disk now; it may refuse by throwing, and then nothing is written. */
    interface Change<E extends Exception> {
        Keysets apply(Keysets current) throws E;
    }

    private final KeysetFile file;
    private final Clock clock;
    private final Consumer<Keysets> onChange;
    private final Object lock = new Object();
    private volatile Keysets current;
    private volatile FileTime modified;
    private volatile long checkedAt;

    /** @param onChange told of the new keysets after every reload and every write (not of the first read) */
    KeysetStore(Path file, Clock clock, Consumer<Keysets> onChange) {
        this.file = new KeysetFile(Objects.requireNonNull(file));
        this.clock = Objects.requireNonNull(clock);
        this.onChange = Objects.requireNonNull(onChange);
        this.modified = this.file.lastModified();
        this.current = this.file.read();
        this.checkedAt = clock.millis();
    }

    Path path() {
        return file.path();
    }

    /** The keysets, re-read first when the file may have changed since it was last looked at. */
    Keysets current() {
        long now = clock.millis();
        if (now - checkedAt >= RECHECK_MILLIS || now < checkedAt) {
            reloadIfChanged();
        }
        return current;
    }

    private void reloadIfChanged() {
        synchronized (lock) {
            checkedAt = clock.millis();
            try {
                FileTime changed = file.lastModified();
                if (Objects.equals(changed, modified)) {
                    return;
                }
                Keysets fresh = file.read();
                modified = changed;
                apply(fresh);
                LOG.info("keyset {} reloaded: {} keys", file.path(), fresh.size());
            } catch (VaultConfigException e) {
                LOG.error("keyset file changed but cannot be used; keeping the previous keys: {}", e.getMessage());
            }
        }
    }

    /**
     * Applies {@code change} to the file as it is now, under the lock every writer in every process takes (never to a
     * copy read earlier), and writes the result.
     */
    <E extends Exception> Keysets update(Change<E> change) throws E {
        synchronized (lock) {
            try (OwnerOnlyFiles.Lock locked = file.lock()) {
                Keysets changed = change.apply(file.read());
                file.write(changed);
                modified = file.lastModified();
                // what was read under the lock may hold other processes' keys too: everyone must forget a stale copy
                apply(changed);
                return changed;
            } catch (IOException e) {
                throw new VaultConfigException("vault.keysetFile", "cannot unlock " + file.path() + ": " + e.getMessage(), e);
            }
        }
    }

    private void apply(Keysets fresh) {
        current = fresh;
        onChange.accept(fresh);
    }
}
