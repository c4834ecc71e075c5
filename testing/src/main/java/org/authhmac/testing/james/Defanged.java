package org.authhmac.testing.james;

/**
 * How a quarantine notice shows an address or a Message-ID taken from the held mail (docs/OPERATIONS.md): at-signs
 * as {@code [@]}, dots inside names as {@code [.]}, so that a mail client shows them as text, not as links.
 */
public final class Defanged {
    private Defanged() {
    }

    public static String of(String s) {
        return s.replace("@", "[@]").replaceAll("(?<=[\\p{L}\\p{N}_-])\\.(?=[\\p{L}\\p{N}_-])", "[.]");
    }
}
