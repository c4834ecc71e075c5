package org.authhmac.james.matchers;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.mailet.Attribute;
import org.apache.mailet.AttributeName;
import org.apache.mailet.AttributeValue;
import org.apache.mailet.Mail;

/**
 * The token a mail's replay records write in Redis ({@link RedisReplayCache}), pinned on the mail at its first
 * verification ({@link #ATTRIBUTE}) so that it goes with the mail: through the retry processor, to whichever node
 * takes it from a shared spool, and across a restart once the mail was queued again. When a record's answer was lost
 * (a timeout after Redis ran it), the mail's retry finds its own token and passes; any other copy of the signature,
 * another mail, has another token and is a replay. A token kept in the node's memory instead would give the lost pass
 * to whichever copy reached that node first, and hold the mail itself as a replay at any other node.
 *
 * <p>The verification runs on the matcher's thread, so the token reaches the cache through a thread-local for the
 * length of {@link #during}.
 */
final class ReplayAttempt {
    /** 16 lower-case hex digits: 64 random bits. No sender can set a mail attribute. */
    static final AttributeName ATTRIBUTE = AttributeName.of("org.authhmac.replayToken");
    private static final Pattern TOKEN = Pattern.compile("[0-9a-f]{16}");
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ThreadLocal<String> CURRENT = new ThreadLocal<>();

    private ReplayAttempt() {
    }

    /** The mail's token; on first sight a new one, set on the mail. */
    static String pin(Mail mail) {
        Optional<String> pinned = mail.getAttribute(ATTRIBUTE).flatMap(a -> a.getValue().valueAs(String.class))
                .filter(t -> TOKEN.matcher(t).matches());
        if (pinned.isPresent()) {
            return pinned.get();
        }
        String token = newToken();
        mail.setAttribute(new Attribute(ATTRIBUTE, AttributeValue.of(token)));
        return token;
    }

    static String newToken() {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** The token of the mail being verified on this thread, if any. */
    static Optional<String> current() {
        return Optional.ofNullable(CURRENT.get());
    }

    interface Work<T, E extends Exception> {
        T run() throws E;
    }

    /** Runs {@code work} with {@code token} as the current mail's token. */
    static <T, E extends Exception> T during(String token, Work<T, E> work) throws E {
        if (!TOKEN.matcher(token).matches()) {
            throw new IllegalArgumentException("a replay token is 16 lower-case hex digits");
        }
        String before = CURRENT.get();
        CURRENT.set(token);
        try {
            return work.run();
        } finally {
            if (before == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(before);
            }
        }
    }
}
