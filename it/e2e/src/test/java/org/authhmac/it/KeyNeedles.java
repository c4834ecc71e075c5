package org.authhmac.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Key material to search files for (docs/RELIABILITY.md, "Secrets"): every form of every key, found in one pass over a file by
 * the needles' first 8 bytes. Used by the attacks pair's own check and by {@code SecretsLeftBehindIT} for the whole
 * suite.
 */
public final class KeyNeedles {
    private final Map<Long, List<byte[]>> byPrefix = new HashMap<>();
    private final Map<byte[], String> labels = new IdentityHashMap<>();
    private int count;

    /** One key to look for; {@link #toString()} never shows the bytes. */
    public record Key(String label, byte[] bytes) {
        @Override
        public String toString() {
            return "Key[" + label + ", bytes hidden]";
        }
    }

    public KeyNeedles(List<Key> keys) {
        for (Key key : keys) {
            for (String form : forms(key.bytes())) {
                byte[] needle = form.getBytes(StandardCharsets.ISO_8859_1);
                byPrefix.computeIfAbsent(prefix(needle), k -> new ArrayList<>()).add(needle);
                labels.put(needle, key.label());
                count++;
            }
        }
    }

    /**
     * Raw bytes (one char per byte, for binary files such as a heap dump or a key store), hex in both cases, base64
     * and base64url without padding (the padded forms contain these).
     */
    public static List<String> forms(byte[] key) {
        return List.of(new String(key, StandardCharsets.ISO_8859_1),
                HexFormat.of().formatHex(key),
                HexFormat.of().withUpperCase().formatHex(key),
                Base64.getEncoder().withoutPadding().encodeToString(key),
                Base64.getUrlEncoder().withoutPadding().encodeToString(key));
    }

    public int count() {
        return count;
    }

    /** The label of every needle found in {@code content}, once per occurrence. */
    public List<String> find(byte[] content) {
        List<String> found = new ArrayList<>();
        long window = 0;
        for (int i = 0; i < content.length; i++) {
            window = (window << 8) | (content[i] & 0xff);
            if (i < 7) {
                continue;
            }
            List<byte[]> candidates = byPrefix.get(window);
            if (candidates == null) {
                continue;
            }
            int start = i - 7;
            for (byte[] n : candidates) {
                if (start + n.length <= content.length && Arrays.equals(content, start, start + n.length, n, 0, n.length)) {
                    found.add(labels.get(n));
                }
            }
        }
        return found;
    }

    /** What a search of files found: one "file: key label" line per occurrence, and how many bytes were read. */
    public record Search(List<String> hits, long bytes) {
    }

    /** Searches every file of {@code files}, each named in the hits by {@code name}. */
    public Search search(List<Path> files, Function<Path, String> name) throws IOException {
        List<String> hits = new ArrayList<>();
        long bytes = 0;
        for (Path f : files) {
            byte[] content = Files.readAllBytes(f);
            bytes += content.length;
            for (String label : find(content)) {
                hits.add(name.apply(f) + ": " + label);
            }
        }
        return new Search(hits, bytes);
    }

    private static long prefix(byte[] b) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[i] & 0xff);
        }
        return v;
    }
}
