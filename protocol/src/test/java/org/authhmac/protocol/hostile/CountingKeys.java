package org.authhmac.protocol.hostile;

import java.util.concurrent.atomic.AtomicInteger;
import org.authhmac.protocol.KdfContext;
import org.authhmac.protocol.KeyUnavailableException;
import org.authhmac.protocol.PeriodKey;
import org.authhmac.protocol.PeriodKeys;
import org.authhmac.protocol.UnknownKeyException;

/** Real keys that count how often a period key is derived: the costly step, done in the TPM in production. */
final class CountingKeys implements PeriodKeys {
    private final PeriodKeys delegate;
    final AtomicInteger derivations = new AtomicInteger();

    CountingKeys(PeriodKeys delegate) {
        this.delegate = delegate;
    }

    @Override
    public PeriodKey periodKey(KdfContext context) throws UnknownKeyException, KeyUnavailableException {
        derivations.incrementAndGet();
        return delegate.periodKey(context);
    }
}
