package org.authhmac.james;

import java.util.concurrent.Callable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * A blocking health probe that every request arriving while it runs shares, so that at most one runs at a time. A
 * probe holds a thread of reactor's boundedElastic (shared by all of James's blocking work) and the resource it asks
 * (a TPM, a Redis) for as long as that takes: one probe per WebAdmin {@code /healthcheck} request would let a flood of
 * requests take those threads, and the resource, from mail. A request that comes after a probe finished starts a new
 * one: no result is served again.
 *
 * @param <T> what the probe returns
 */
public final class SharedProbe<T> {
    private final Callable<T> probe;
    private final Object lock = new Object();
    private Run current;

    private final class Run {
        volatile boolean finished;
        final Mono<T> result = Mono.fromCallable(SharedProbe.this::call)
                // blocking work: keep it off James's event loops; run once for all who subscribe while it runs
                .subscribeOn(Schedulers.boundedElastic())
                // marked before any subscriber sees the result: a request that comes after it starts a new probe
                .doOnSuccess(r -> finished = true)
                .doOnError(e -> finished = true)
                .doOnCancel(() -> finished = true)
                .cache();
    }

    public SharedProbe(Callable<T> probe) {
        this.probe = probe;
    }

    /**
     * The probe, with an Error turned into an exception: reactor rethrows a JVM-fatal error (a StackOverflowError, an
     * OutOfMemoryError) instead of signalling it, so the shared result would never complete and every later request
     * would wait out its timeout on it, long after the cause is gone.
     */
    private T call() throws Exception {
        try {
            return probe.call();
        } catch (Error e) {
            throw new IllegalStateException("the probe failed: " + e, e);
        }
    }

    /** The running probe's result, or a new probe's when none runs. Bound each caller's wait with a timeout. */
    public Mono<T> result() {
        return Mono.defer(() -> {
            synchronized (lock) {
                if (current == null || current.finished) {
                    current = new Run();
                }
                return current.result;
            }
        });
    }
}
