package org.authhmac.james.mailets;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * At most {@code perHour} notices per mailbox in any window of one hour, so that a flood of forgeries cannot turn
 * into a flood of notices. Held mail that got no notice of its own is counted, and the next notice that mailbox
 * gets says how many there were and since when. Memory is bounded: at most {@code maxMailboxes} windows are kept;
 * beyond that, expired windows are dropped first, and while every window is live a new mailbox gets no notice (the
 * postmaster's audit log and metric still show each held mail).
 */
final class NoticeLimiter {
    /** What the next notice to a mailbox says about held mail that got no notice of its own. */
    record Suppressed(int count, Instant since) {
    }

    /** Send a notice (reporting what was suppressed before it), or not. */
    sealed interface Decision permits Send, Skip {
    }

    record Send(Optional<Suppressed> earlier) implements Decision {
    }

    record Skip() implements Decision {
    }

    private static final Duration WINDOW = Duration.ofHours(1);

    private record Window(Instant start, int sent, int suppressed, Instant suppressedSince) {
    }

    private final int perHour;
    private final int maxMailboxes;
    private final Clock clock;
    private final Map<String, Window> windows = new HashMap<>();

    NoticeLimiter(int perHour, int maxMailboxes, Clock clock) {
        if (perHour < 1 || maxMailboxes < 1) {
            throw new IllegalArgumentException("perHour and maxMailboxes must be positive");
        }
        this.perHour = perHour;
        this.maxMailboxes = maxMailboxes;
        this.clock = clock;
    }

    synchronized Decision admit(String mailbox) {
        Instant now = clock.instant();
        Window w = windows.get(mailbox);
        if (w == null) {
            if (windows.size() >= maxMailboxes) {
                windows.values().removeIf(x -> expired(x, now) && x.suppressed() == 0);
                if (windows.size() >= maxMailboxes) {
                    return new Skip();
                }
            }
            windows.put(mailbox, new Window(now, 1, 0, null));
            return new Send(Optional.empty());
        }
        if (expired(w, now)) {
            Optional<Suppressed> earlier = w.suppressed() == 0 ? Optional.empty()
                    : Optional.of(new Suppressed(w.suppressed(), w.suppressedSince()));
            windows.put(mailbox, new Window(now, 1, 0, null));
            return new Send(earlier);
        }
        if (w.sent() < perHour) {
            windows.put(mailbox, new Window(w.start(), w.sent() + 1, w.suppressed(), w.suppressedSince()));
            return new Send(Optional.empty());
        }
        windows.put(mailbox, new Window(w.start(), w.sent(), w.suppressed() + 1,
                w.suppressedSince() == null ? now : w.suppressedSince()));
        return new Skip();
    }

    private static boolean expired(Window w, Instant now) {
        return !now.isBefore(w.start().plus(WINDOW));
    }
}
