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

/**
 * Header edits that keep every other header field byte for byte and in place. JavaMail can only append, and
 * a signature or Authentication-Results belongs on top, so the block is rebuilt as James's DKIMSign does.
 */
public final class MessageHeaders {
    /**
     * JavaMail removes a field name in one pass over every field, so rebuilding the block costs (distinct names) x
     * (fields): quadratic for a block of distinct names sent from outside (40,000 passes over 20,000 fields took 12 s).
     * Above this many distinct names (a real message has a few dozen) nothing is reordered: lines to prepend go at
     * the bottom, and a removed name's kept fields move to the bottom in their order, which changes neither what
     * the block says nor which instance an h= name selects (selection counts only fields of that name).
     */
    static final int MAX_REORDERED_NAMES = 256;
    private MessageHeaders() {
    }

    /** Puts the given complete header lines ("Name: value") on top of the message, in the given order. */
    public static void prepend(MimeMessage message, List<String> lines) throws MessagingException {
        if (lines.isEmpty()) {
            return;
        }
        List<String> previous = Collections.list(message.getAllHeaderLines());
        if (names(previous).size() > MAX_REORDERED_NAMES) {
            for (String line : lines) {
                message.addHeaderLine(line);
            }
            return;
        }
        removeAll(message, previous);
        for (String line : lines) {
            message.addHeaderLine(line);
        }
        for (String line : previous) {
            message.addHeaderLine(line);
        }
    }

    /**
     * Removes the fields called {@code name} whose unfolded value matches; other fields keep their order.
     *
     * @return how many fields were removed
     */
    public static int remove(MimeMessage message, String name, Predicate<String> valueMatches) throws MessagingException {
        List<String> all = Collections.list(message.getAllHeaderLines());
        List<String> kept = new ArrayList<>(all.size());
        int removed = 0;
        for (String line : all) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)
                    && valueMatches.test(unfold(line.substring(colon + 1)))) {
                removed++;
            } else {
                kept.add(line);
            }
        }
        if (removed > 0 && names(all).size() > MAX_REORDERED_NAMES) {
            message.removeHeader(name);
            for (String line : kept) {
                int c = line.indexOf(':');
                if (c > 0 && line.substring(0, c).trim().equalsIgnoreCase(name)) {
                    message.addHeaderLine(line);
                }
            }
        } else if (removed > 0) {
            removeAll(message, all);
            for (String line : kept) {
                message.addHeaderLine(line);
            }
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

    private static void removeAll(MimeMessage message, List<String> lines) throws MessagingException {
        for (String n : names(lines)) {
            message.removeHeader(n);
        }
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
