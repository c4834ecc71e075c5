package org.authhmac.james;

import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Header edits that keep every other header field byte for byte. JavaMail can only append, and a signature or
 * Authentication-Results belongs on top, so the block is rebuilt as James's DKIMSign does.
 *
 * <p>Work is bounded by the number of fields: JavaMail removes fields one name at a time, each removal a scan of
 * every field, so a block is rebuilt only when names x fields stays under {@link #MAX_REBUILD_COMPARISONS} (every
 * mail a signature can cover does). A million fields of a million names would otherwise cost 10^12 comparisons.
 */
public final class MessageHeaders {
    private static final Logger LOGGER = LoggerFactory.getLogger(MessageHeaders.class);
    /**
     * Most name comparisons a rebuild of the header block may cost (distinct names x fields). A signable mail has at
     * most 1,024 fields outside the ignore list, so about 1,000 x 1,100 at worst.
     */
    static final long MAX_REBUILD_COMPARISONS = 1L << 22;

    private MessageHeaders() {
    }

    /**
     * Puts the given complete header lines ("Name: value") on top of the message, in the given order. In a header
     * block too large to rebuild ({@link #MAX_REBUILD_COMPARISONS}) they are added at its end instead: where a field
     * stands does not change what a signature covers or what Authentication-Results says, and only such a mail (a
     * flood of header fields) is treated so.
     */
    public static void prepend(MimeMessage message, List<String> lines) throws MessagingException {
        if (lines.isEmpty()) {
            return;
        }
        List<String> previous = Collections.list(message.getAllHeaderLines());
        Set<String> names = names(previous);
        if ((long) names.size() * previous.size() > MAX_REBUILD_COMPARISONS) {
            LOGGER.warn("auth-hmac: {} header fields of {} names are too many to rebuild the header block; {} field(s) "
                    + "added at its end instead of on top", previous.size(), names.size(), lines.size());
            for (String line : lines) {
                message.addHeaderLine(line);
            }
            return;
        }
        for (String n : names) {
            message.removeHeader(n);
        }
        for (String line : lines) {
            message.addHeaderLine(line);
        }
        for (String line : previous) {
            message.addHeaderLine(line);
        }
    }

    /**
     * Removes the fields called {@code name} whose unfolded value matches. Other fields keep their place. In a header
     * block too large to rebuild ({@link #MAX_REBUILD_COMPARISONS}) the fields called {@code name} that are kept keep
     * their order among themselves but move to the end of the block, so that the removal is one scan by JavaMail;
     * that changes nothing a signature covers: signers and verifiers pick fields by name, bottom-up (RFC 6376 5.4.2,
     * PROTOCOL.md).
     *
     * @return how many fields were removed
     */
    public static int remove(MimeMessage message, String name, Predicate<String> valueMatches) throws MessagingException {
        List<String> all = Collections.list(message.getAllHeaderLines());
        List<String> kept = new ArrayList<>(all.size());
        List<String> keptOfName = new ArrayList<>();
        int removed = 0;
        for (String line : all) {
            int colon = line.indexOf(':');
            boolean named = colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name);
            if (named && valueMatches.test(unfold(line.substring(colon + 1)))) {
                removed++;
                continue;
            }
            kept.add(line);
            if (named) {
                keptOfName.add(line);
            }
        }
        if (removed == 0) {
            return 0;
        }
        Set<String> names = names(all);
        if ((long) names.size() * all.size() > MAX_REBUILD_COMPARISONS) {
            message.removeHeader(name);
            for (String line : keptOfName) {
                message.addHeaderLine(line);
            }
            return removed;
        }
        for (String n : names) {
            message.removeHeader(n);
        }
        for (String line : kept) {
            message.addHeaderLine(line);
        }
        return removed;
    }

    /** The unfolded values of every field called {@code name}, top to bottom. */
    public static List<String> values(MimeMessage message, String name) throws MessagingException {
        String[] raw = message.getHeader(name);
        List<String> out = new ArrayList<>();
        if (raw != null) {
            for (String v : raw) {
                out.add(unfold(v));
            }
        }
        return out;
    }

    static String unfold(String value) {
        return value.replaceAll("\r?\n(?=[ \t])", "").trim();
    }

    private static Set<String> names(List<String> lines) {
        Set<String> names = new LinkedHashSet<>();
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                names.add(line.substring(0, colon).trim().toLowerCase(Locale.ROOT));
            }
        }
        return names;
    }
}
