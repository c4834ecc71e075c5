package org.authhmac.james.testing;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.james.metrics.api.Gauge;
import org.apache.james.metrics.api.GaugeRegistry;

/** A gauge registry that keeps what is registered and refuses a name twice, as James's does. */
public final class RecordingGaugeRegistry implements GaugeRegistry {
    private final Map<String, Gauge<?>> registered = new ConcurrentHashMap<>();

    @Override
    public <T> GaugeRegistry register(String name, Gauge<T> gauge) {
        if (registered.putIfAbsent(name, gauge) != null) {
            throw new IllegalArgumentException("A metric named " + name + " already exists");
        }
        return this;
    }

    @Override
    public <T> SettableGauge<T> settableGauge(String name) {
        throw new UnsupportedOperationException();
    }

    /** The gauges registered so far, by name (live). */
    public Map<String, Gauge<?>> registered() {
        return registered;
    }

    /** The value the gauge registered as {@code name} reads now. */
    public Object value(String name) {
        return registered.get(name).get();
    }
}
