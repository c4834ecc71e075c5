package org.authhmac.testing.james;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Edits an operator makes to a shipped mailetcontainer.xml, as text, so that a test runs the shipped file with
 * only these values changed: the delay of every {@code Requeue} (the retry processors), the attempt bound of
 * every {@code AtMost=org.authhmac.attempts.*} matcher in front of one, and the WebAdmin URL quarantine notices give.
 */
public final class MailetContainerEdits {
    private static final Pattern REQUEUE_DELAY = Pattern.compile(
            "(<mailet\\s[^>]*class=\"Requeue\"[^>]*>(?:(?!</mailet>).)*?<delay>)[^<]*(</delay>)", Pattern.DOTALL);
    private static final Pattern ATTEMPT_BOUND = Pattern.compile("(AtMost=org\\.authhmac\\.attempts\\.[A-Za-z]+:)\\d+");
    private static final Pattern WEBADMIN_URL = Pattern.compile("(<webAdminUrl>)[^<]*(</webAdminUrl>)");

    private MailetContainerEdits() {
    }

    /** Every Requeue waits {@code delay} (James's duration syntax, e.g. {@code 1s}); fails when there is none. */
    public static String retryDelay(String xml, String delay) {
        Matcher m = REQUEUE_DELAY.matcher(xml);
        if (!m.find()) {
            throw new IllegalStateException("no Requeue mailet with a <delay> in this mailetcontainer.xml");
        }
        return m.replaceAll("$1" + Matcher.quoteReplacement(delay) + "$2");
    }

    /**
     * Every {@code <webAdminUrl>} (AuthHmacQuarantine's link to the quarantine in its notices) becomes {@code url}; a
     * configuration without one is returned unchanged.
     */
    public static String webAdminUrl(String xml, String url) {
        return WEBADMIN_URL.matcher(xml).replaceAll("$1" + Matcher.quoteReplacement(url) + "$2");
    }

    /** Every retry bound becomes {@code attempts}; a configuration without one is returned unchanged. */
    public static String retryAttempts(String xml, int attempts) {
        return ATTEMPT_BOUND.matcher(xml).replaceAll("$1" + attempts);
    }
}
