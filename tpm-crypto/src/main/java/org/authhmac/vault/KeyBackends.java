package org.authhmac.vault;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.authhmac.vault.pkcs11.Pkcs11BackendFactory;
import org.authhmac.vault.pkcs12.Pkcs12BackendFactory;
import org.authhmac.vault.tpm2.TpmBackendFactory;

/** The backends a vault can open: a new backend is a package with its {@link KeyBackendFactory} and one line here. */
final class KeyBackends {
    static final List<KeyBackendFactory> REGISTERED = List.of(
            new TpmBackendFactory(),
            new Pkcs12BackendFactory(),
            new Pkcs11BackendFactory());

    /** The properties of the vault itself, whatever the backend. */
    private static final Set<String> VAULT_PROPERTIES = Set.of("vault.backend", "vault.keysetFile",
            "cache.previousPeriods", "cache.prefetchSeconds", "cache.maxEntries");

    private KeyBackends() {
    }

    static List<String> names() {
        return REGISTERED.stream().map(KeyBackendFactory::name).toList();
    }

    static KeyBackendFactory named(String name) {
        return REGISTERED.stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow();
    }

    /** The prefixes whose every property must be a known one: a typo fails at start-up. */
    static List<String> ownPrefixes() {
        return java.util.stream.Stream.concat(java.util.stream.Stream.of("vault.", "cache."),
                REGISTERED.stream().map(f -> f.name() + ".")).toList();
    }

    static Set<String> knownProperties() {
        Set<String> known = new TreeSet<>(VAULT_PROPERTIES);
        REGISTERED.forEach(f -> known.addAll(f.properties()));
        return known;
    }
}
