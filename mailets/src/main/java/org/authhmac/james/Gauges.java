package org.authhmac.james;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.james.metrics.api.GaugeRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * James's gauge registry, each name registered once: James's refuses a name it already has ("already exists"), and a
 * second mailet or matcher that publishes the same figure must change nothing, nor fail its start-up.
 */
final class Gauges {
    private static final Logger LOGGER = LoggerFactory.getLogger(Gauges.class);

    private final GaugeRegistry registry;
    private final Set<String> registered = ConcurrentHashMap.newKeySet();

    Gauges(GaugeRegistry registry) {
        this.registry = registry;
    }

    void register(String name, Supplier<? extends Number> value) {
        if (!registered.add(name)) {
            return;
        }
        try {
            registry.register(name, value::get);
        } catch (RuntimeException e) {
            LOGGER.warn("auth-hmac: metric {} not published: {}", name, e.toString());
        }
    }
}
