package org.authhmac.james;

import com.google.inject.Singleton;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.authhmac.vault.KeyInfo;
import org.authhmac.vault.KeyVault;
import org.authhmac.vault.Keyset;

/**
 * The keysets this server's signing mailet and validating matcher use, each with the partners it serves and what it
 * needs: signing needs the keyset's primary, verifying any usable (PRIMARY or ACTIVE) key. The mailet and the matcher
 * record their partners at start-up; the {@link KeyVaultHealthCheck} asks the vault about each one. A Guice
 * just-in-time singleton, shared by every declaration that asks for it, like {@link PartnerPolicyFile}.
 *
 * <p>Start-up does not refuse a keyset without its key: `keys import` and `keys generate` may run while James runs
 * (provisioning after start, a rotation that imports the new key on the peer later), and the vault sees the key at
 * once. What it needs is filled from configuration only, never from a mail, so no mail can change what the health
 * check reports.
 */
@Singleton
public final class NeededKeysets {
    /** What a keyset is used for. */
    public enum Use {
        /** new signatures: the keyset needs its primary */
        SIGNING,
        /** received signatures: the keyset needs at least one PRIMARY or ACTIVE key */
        VERIFYING
    }

    /** The CLI's option for James's vault configuration, as the messages print it. */
    private static final String CONFIG = "-c <James root>/conf/auth-hmac.properties";

    /** use -> keyset -> partner domains; sorted, so that the health check's text is the same on every check. */
    private final Map<Use, Map<String, Set<String>>> needs = Map.of(Use.SIGNING, new TreeMap<>(), Use.VERIFYING, new TreeMap<>());

    /** Records that this server signs mail to each partner of {@code policies} with the partner's keyset. */
    public void signingFor(PartnerPolicies policies) {
        record(Use.SIGNING, policies);
    }

    /** Records that this server verifies mail from each partner of {@code policies} with the partner's keyset. */
    public void verifyingFor(PartnerPolicies policies) {
        record(Use.VERIFYING, policies);
    }

    private synchronized void record(Use use, PartnerPolicies policies) {
        policies.keysetByDomain().forEach((domain, keyset) ->
                needs.get(use).computeIfAbsent(keyset, k -> new TreeSet<>()).add(domain));
    }

    /**
     * What the vault lacks for the recorded uses, one sentence per keyset and use, each naming the keyset, its
     * partners and the command that provisions it; empty when nothing is missing.
     *
     * @throws RuntimeException the vault cannot list its keysets
     */
    public List<String> missing(KeyVault vault) {
        List<String> out = new ArrayList<>();
        for (Use use : Use.values()) {
            for (Map.Entry<String, Set<String>> need : snapshot(use).entrySet()) {
                Optional<Keyset> keyset = vault.keyset(need.getKey());
                boolean usable = keyset.map(NeededKeysets::hasUsableKey).orElse(false);
                if (use == Use.SIGNING && keyset.flatMap(Keyset::primaryId).isEmpty()) {
                    out.add(noPrimary(need.getKey(), need.getValue(), usable));
                } else if (use == Use.VERIFYING && !usable) {
                    out.add(noKey(need.getKey(), need.getValue()));
                }
            }
        }
        return out;
    }

    private synchronized Map<String, Set<String>> snapshot(Use use) {
        Map<String, Set<String>> copy = new TreeMap<>();
        needs.get(use).forEach((k, v) -> copy.put(k, Set.copyOf(new TreeSet<>(v))));
        return copy;
    }

    private static boolean hasUsableKey(Keyset keyset) {
        return keyset.keys().stream().map(KeyInfo::status).anyMatch(s -> s.usable());
    }

    /** The sentence for a signing keyset without primary, as the health check gives it; the signing mailet logs it. */
    public static String noPrimary(KeyVault vault, String keyset, Set<String> partners) {
        boolean hasKeys;
        try {
            hasKeys = vault.keyset(keyset).map(NeededKeysets::hasUsableKey).orElse(false);
        } catch (RuntimeException e) {
            hasKeys = false; // the words of the advice only; the vault's own trouble shows elsewhere
        }
        return noPrimary(keyset, partners, hasKeys);
    }

    /** @param hasKeys whether the keyset holds other usable keys (then promoting one is the cure) */
    private static String noPrimary(String keyset, Set<String> partners, boolean hasKeys) {
        String cure = hasKeys
                ? "make one of its keys primary: auth-hmac " + CONFIG + " keys rotate promote --key-id <id> (keys list shows them)"
                : "provision it: auth-hmac " + CONFIG + " keys generate --keyset " + keyset + " --key-id <id> --export <file>"
                        + " (or keys import --keyset " + keyset + " --from <file>)";
        return "keyset '" + keyset + "' has no primary key, so mail to " + partnerWords(partners)
                + " waits unsigned in the retry processor; " + cure + ", or correct " + keysetKeys(partners) + " in "
                + PartnerPolicies.PATH;
    }

    private static String noKey(String keyset, Set<String> partners) {
        return "keyset '" + keyset + "' holds no PRIMARY or ACTIVE key, so mail from " + partnerWords(partners)
                + " fails verification (permerror unknown-key); provision it: auth-hmac " + CONFIG + " keys import --keyset " + keyset
                + " --from <file>, or correct " + keysetKeys(partners) + " in " + PartnerPolicies.PATH;
    }

    private static String partnerWords(Set<String> partners) {
        return (partners.size() == 1 ? "partner " : "partners ") + String.join(", ", new TreeSet<>(partners));
    }

    private static String keysetKeys(Set<String> partners) {
        return String.join(", ", new TreeSet<>(partners).stream().map(d -> "partner." + d + ".keyset").toList());
    }
}
