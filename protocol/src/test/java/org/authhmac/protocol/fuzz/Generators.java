package org.authhmac.protocol.fuzz;

import java.util.SplittableRandom;

/** Random header fields, bodies and messages for the property tests: the awkward cases in good proportion. */
final class Generators {
    private static final String[] WORDS = {"a", "Quarterly", "figures", "=?utf-8?q?caf=C3=A9?=", "<x@a.example>", "\u00e9t\u00e9",
            "\u00ff", ";", ":", "\"q\"", "(c)", "x".repeat(80)};
    private static final String[] WSP = {" ", "  ", "\t", " \t ", "\t\t"};

    private Generators() {
    }

    /** One raw header field as RawMessage hands it over: no final CRLF, every line break a fold. */
    static String headerField(SplittableRandom r) {
        String[] names = {"Subject", "X-Test", "to", "FROM", "Content-Type", "X-Auth-HMAC"};
        StringBuilder sb = new StringBuilder(names[r.nextInt(names.length)]);
        if (r.nextInt(4) == 0) {
            sb.append(WSP[r.nextInt(WSP.length)]);
        }
        sb.append(':');
        int n = r.nextInt(8);
        for (int i = 0; i < n; i++) {
            switch (r.nextInt(5)) {
                case 0 -> sb.append(WSP[r.nextInt(WSP.length)]);
                case 1 -> sb.append("\r\n").append(WSP[r.nextInt(WSP.length)]);
                case 2 -> sb.append('\r'); // a bare CR is an ordinary byte
                default -> sb.append(WORDS[r.nextInt(WORDS.length)]);
            }
        }
        return sb.toString();
    }

    /** A non-empty body ending in CRLF, with WSP runs, whitespace-only lines and trailing empty lines. */
    static String body(SplittableRandom r) {
        StringBuilder sb = new StringBuilder();
        int lines = 1 + r.nextInt(12);
        for (int i = 0; i < lines; i++) {
            int parts = r.nextInt(6);
            for (int j = 0; j < parts; j++) {
                sb.append(r.nextBoolean() ? WSP[r.nextInt(WSP.length)] : WORDS[r.nextInt(WORDS.length)]);
            }
            sb.append("\r\n");
        }
        sb.append("end").append(r.nextBoolean() ? "" : WSP[r.nextInt(WSP.length)]).append("\r\n");
        for (int i = r.nextInt(3); i > 0; i--) {
            sb.append(r.nextBoolean() ? "\r\n" : " \r\n");
        }
        return sb.toString();
    }

    /** A signable message: one From, the usual singletons at most once, some unsigned fields. */
    static String message(SplittableRandom r) {
        StringBuilder sb = new StringBuilder();
        sb.append("Received: from mx.a.example").append(WSP[r.nextInt(WSP.length)]).append("by mx.b.example\r\n");
        sb.append("From:").append(WSP[r.nextInt(WSP.length)]).append("Alice").append(WSP[r.nextInt(WSP.length)])
                .append("<alice@a.example>\r\n");
        sb.append("To: Bob <bob@b.example>,\r\n").append(WSP[r.nextInt(WSP.length)]).append("Carol <carol@b.example>\r\n");
        sb.append("Subject:");
        for (int i = 1 + r.nextInt(5); i > 0; i--) {
            sb.append(WSP[r.nextInt(WSP.length)]).append(WORDS[r.nextInt(WORDS.length)]);
        }
        sb.append("\r\n");
        sb.append("Date: Sat, 22 Nov 2025 02:00:00 +0000\r\n");
        sb.append("Message-ID: <").append(r.nextInt(1_000_000)).append("@a.example>\r\n");
        if (r.nextBoolean()) {
            sb.append("MIME-Version: 1.0\r\nContent-Type: text/plain;\r\n\tcharset=utf-8\r\n");
        }
        sb.append("\r\n").append(body(r));
        return sb.toString();
    }
}
