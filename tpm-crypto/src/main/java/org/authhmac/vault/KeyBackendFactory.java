package org.authhmac.vault;

import java.util.Set;

/**
 * How the vault opens one kind of backend, in the shape of Tink's {@code KmsClient}: the name an operator writes in
 * {@code vault.backend}, the properties it reads, and how it opens from them. Factories are registered explicitly,
 * in the one list {@link KeyBackends#REGISTERED}.
 */
public interface KeyBackendFactory {

    /** The value of {@code vault.backend} that selects it, also {@link KeyBackend#name()}; its own properties start with this and a dot. */
    String name();

    /** Every property it reads: its own ({@code <name>.*}) and any shared {@code vault.*} one; others are refused. */
    Set<String> properties();

    /**
     * Opens the backend. A bad or missing property throws {@link VaultConfigException} naming it; an unreachable key
     * store is not an error here (the vault starts unhealthy and retries on demand).
     */
    KeyBackend open(VaultProperties properties);
}
