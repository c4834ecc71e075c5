package org.authhmac.james.matchers;

import java.util.Locale;
import java.util.Optional;
import org.authhmac.james.RecordedVerdict;

/**
 * RFC 8601 Authentication-Results for method {@code auth-hmac}, and recognition of fields that claim our
 * authserv-id (which only we may write, so inbound copies are forgeries and get stripped).
 */
public final class AuthenticationResults {
    public static final String HEADER = "Authentication-Results";
    public static final String METHOD = "auth-hmac";

    private AuthenticationResults() {
    }

    /** "mx.b.example; auth-hmac=fail reason="bad-mac" header.d=a.example header.s=k1" (the field value). */
    public static String value(String authservId, RecordedVerdict verdict) {
        return value(authservId, verdict, Optional.empty());
    }

    /**
     * "mx.b.example; auth-hmac=pass reason="verified" header.from=a.example header.d=a.example header.s=k1":
     * {@code headerFrom} is the From domain the verdict was checked against (RFC 8601 ptype header, property from).
     */
    public static String value(String authservId, RecordedVerdict verdict, Optional<String> headerFrom) {
        StringBuilder b = new StringBuilder(authservId).append("; ").append(METHOD).append('=').append(verdict.result().token())
                .append(" reason=\"").append(verdict.reason().token()).append('"');
        headerFrom.ifPresent(f -> b.append(" header.from=").append(f));
        verdict.domain().ifPresent(d -> b.append(" header.d=").append(d));
        verdict.keyId().ifPresent(s -> b.append(" header.s=").append(s));
        return b.toString();
    }

    /** The authserv-id of a field value: the first token, with comments and an optional version removed. */
    public static Optional<String> authservId(String value) {
        String v = stripComments(value).trim();
        int semi = v.indexOf(';');
        String head = (semi >= 0 ? v.substring(0, semi) : v).trim();
        if (head.isEmpty()) {
            return Optional.empty();
        }
        String id = head.startsWith("\"") ? quotedString(head) : head.split("\\s+")[0];
        return Optional.of(id.toLowerCase(Locale.ROOT));
    }

    /**
     * The content of the quoted-string that starts {@code s}, its quoted-pairs resolved (RFC 5322 3.2.4), as an RFC 8601
     * reader takes the authserv-id {@code "mx.b\.example"}; unclosed: the rest.
     */
    private static String quotedString(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 1; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') {
                break;
            }
            if (c == '\\' && i + 1 < s.length()) {
                c = s.charAt(++i);
            }
            out.append(c);
        }
        return out.toString();
    }

    public static boolean claims(String value, String authservId) {
        return authservId(value).map(id -> id.equals(authservId.toLowerCase(Locale.ROOT))).orElse(false);
    }

    private static String stripComments(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int depth = 0;
        boolean escaped = false;
        for (char c : s.toCharArray()) {
            if (escaped) {
                escaped = false;
                if (depth == 0) {
                    out.append(c);
                }
                continue;
            }
            if (c == '\\') {
                escaped = true;
                if (depth == 0) {
                    out.append(c);
                }
            } else if (c == '(') {
                depth++;
            } else if (c == ')' && depth > 0) {
                depth--;
                out.append(' ');
            } else if (depth == 0) {
                out.append(c);
            }
        }
        return out.toString();
    }
}
