package org.authhmac.testing.james;

import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.search.HeaderTerm;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/** Reads a mailbox over IMAP (Angus Mail), as the recipient's mail client does. */
public final class ImapReader {
    private final int port;
    private final String user;
    private final String password;

    public ImapReader(int port, String user, String password) {
        this.port = port;
        this.user = user;
        this.password = password;
    }

    /** A message as the recipient sees it: its raw bytes, and its headers by name. */
    public record Received(String raw, List<String> headerLines) {
        public List<String> header(String name) {
            List<String> values = new ArrayList<>();
            String prefix = name.toLowerCase() + ":";
            for (String line : headerLines) {
                if (line.toLowerCase().startsWith(prefix)) {
                    values.add(line.substring(prefix.length()).trim());
                }
            }
            return values;
        }

        public String body() {
            int split = raw.indexOf("\r\n\r\n");
            return split < 0 ? "" : raw.substring(split + 4);
        }
    }

    /** Messages in INBOX carrying this Message-ID (normally zero or one). */
    public List<Received> findByMessageId(String messageId) {
        return withInbox(inbox -> {
            List<Received> found = new ArrayList<>();
            for (Message m : inbox.search(new HeaderTerm("Message-ID", messageId))) {
                found.add(read(m));
            }
            return found;
        });
    }

    public Optional<Received> awaitMessageId(String messageId, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        do {
            List<Received> found = retryingWithin(deadline, () -> findByMessageId(messageId), List.of());
            if (!found.isEmpty()) {
                return Optional.of(found.get(0));
            }
            sleep(250);
        } while (System.nanoTime() < deadline);
        return Optional.empty();
    }

    /**
     * One read of a wait loop. James 3.8.1's IMAP server, on this busy 2-core machine, now and then leaves a session
     * unanswered until the client's read timeout; a wait that still has time opens a new session instead of failing.
     * The last failure is thrown once the deadline has passed.
     */
    private static <T> T retryingWithin(long deadline, java.util.function.Supplier<T> read, T none) {
        try {
            return read.get();
        } catch (IllegalStateException e) {
            if (System.nanoTime() >= deadline) {
                throw e;
            }
            System.err.println("IMAP read failed, retrying within the wait: " + e.getMessage());
            return none;
        }
    }

    /** The first message in INBOX the predicate accepts, reading the whole INBOX (keep such mailboxes small). */
    public Optional<Received> findMatching(java.util.function.Predicate<Received> wanted) {
        return withInbox(inbox -> {
            for (Message m : inbox.getMessages()) {
                Received r = read(m);
                if (wanted.test(r)) {
                    return Optional.of(r);
                }
            }
            return Optional.<Received>empty();
        });
    }

    /** Waits for a message the predicate accepts, reading the whole INBOX each time (keep such mailboxes small). */
    public Optional<Received> awaitMatching(java.util.function.Predicate<Received> wanted, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        do {
            Optional<Received> found = retryingWithin(deadline, () -> findMatching(wanted), Optional.empty());
            if (found.isPresent()) {
                return found;
            }
            sleep(250);
        } while (System.nanoTime() < deadline);
        return Optional.empty();
    }

    /** Every message in INBOX with its headers and body, in one IMAP session (for accounting after a run). */
    public List<Received> readAll() {
        return withInbox(inbox -> {
            List<Received> all = new ArrayList<>();
            for (Message m : inbox.getMessages()) {
                all.add(read(m));
            }
            return all;
        });
    }

    /**
     * The header block of every message in INBOX, in one IMAP session, without the bodies (FETCH BODY.PEEK[HEADER]):
     * for accounting after a run with large mails. Each block is the message's header lines joined by CRLF.
     */
    public List<String> headerBlocks() {
        return withInbox(inbox -> {
            Message[] all = inbox.getMessages();
            jakarta.mail.FetchProfile fp = new jakarta.mail.FetchProfile();
            fp.add(org.eclipse.angus.mail.imap.IMAPFolder.FetchProfileItem.HEADERS);
            inbox.fetch(all, fp);
            List<String> blocks = new ArrayList<>();
            for (Message m : all) {
                StringBuilder b = new StringBuilder();
                java.util.Enumeration<String> lines = ((jakarta.mail.internet.MimeMessage) m).getAllHeaderLines();
                while (lines.hasMoreElements()) {
                    b.append(lines.nextElement()).append("\r\n");
                }
                blocks.add(b.toString());
            }
            return blocks;
        });
    }

    public int count() {
        return withInbox(Folder::getMessageCount);
    }

    /** Every message's Message-ID header value, in INBOX order. */
    public List<String> messageIds() {
        return withInbox(inbox -> {
            List<String> ids = new ArrayList<>();
            Message[] all = inbox.getMessages();
            jakarta.mail.FetchProfile fp = new jakarta.mail.FetchProfile();
            fp.add("Message-ID");
            inbox.fetch(all, fp);
            for (Message m : all) {
                String[] h = m.getHeader("Message-ID");
                ids.add(h == null ? "" : h[0].trim());
            }
            return ids;
        });
    }

    /**
     * What a mail client that reads and then deletes does, in one IMAP session: FETCH the named header fields of
     * every message in INBOX, STORE +FLAGS (\Deleted) on them, EXPUNGE, LOGOUT. Returns each taken message's fields
     * (first value, "" when absent), in INBOX order. Long runs use it so that the server's mailbox does not grow.
     *
     * <p>It ends the session with LOGOUT, never CLOSE or UNSELECT: James 3.8.1 leaks the selected mailbox's event-bus
     * listener on CLOSE and UNSELECT (NettyImapSession.deselect forgets the mailbox before deselecting it; fixed in
     * 3.9.0 by apache/james-project fd6e3a4 "IMAP LEAK: CLOSE, UNSELECT"), and every leaked listener then records the
     * UID of every new mail, so a client polling every few seconds grows the heap quadratically. With a separate store
     * connection the pool is full when the folder closes, and Angus then logs the folder's connection out instead.
     */
    public List<java.util.Map<String, String>> takeAll(String... headerNames) {
        Properties props = new Properties();
        props.put("mail.imap.connectiontimeout", "10000");
        props.put("mail.imap.timeout", "30000");
        props.put("mail.imap.separatestoreconnection", "true");
        try (Store store = Session.getInstance(props).getStore("imap")) {
            store.connect("127.0.0.1", port, user, password);
            Folder inbox = store.getFolder("INBOX");
            inbox.open(Folder.READ_WRITE);
            Message[] all = inbox.getMessages();
            jakarta.mail.FetchProfile fp = new jakarta.mail.FetchProfile();
            for (String name : headerNames) {
                fp.add(name);
            }
            inbox.fetch(all, fp);
            List<java.util.Map<String, String>> taken = new ArrayList<>();
            for (Message m : all) {
                java.util.Map<String, String> fields = new java.util.LinkedHashMap<>();
                for (String name : headerNames) {
                    String[] h = m.getHeader(name);
                    fields.put(name, h == null ? "" : h[0].trim());
                }
                taken.add(fields);
            }
            if (all.length > 0) {
                inbox.setFlags(all, new jakarta.mail.Flags(jakarta.mail.Flags.Flag.DELETED), true);
                inbox.expunge();
            }
            inbox.close(false);
            return taken;
        } catch (MessagingException e) {
            throw new IllegalStateException("IMAP " + user + "@127.0.0.1:" + port + " failed: " + e.getMessage(), e);
        }
    }

    private interface InboxWork<T> {
        T run(Folder inbox) throws MessagingException, IOException;
    }

    /**
     * Runs a read-only piece of work in its own IMAP session. James 3.8.1's IMAP server, on this busy 2-core machine,
     * now and then leaves a session unanswered until the client's read timeout; since the work only reads, a failed
     * session is retried once in a new one before the failure is thrown.
     */
    private <T> T withInbox(InboxWork<T> work) {
        try {
            return inOneSession(work);
        } catch (IllegalStateException first) {
            System.err.println("IMAP read failed, retrying once in a new session: " + first.getMessage());
            return inOneSession(work);
        }
    }

    private <T> T inOneSession(InboxWork<T> work) {
        Properties props = new Properties();
        props.put("mail.imap.connectiontimeout", "10000");
        props.put("mail.imap.timeout", "30000");
        Session session = Session.getInstance(props);
        try (Store store = session.getStore("imap")) {
            store.connect("127.0.0.1", port, user, password);
            Folder inbox = store.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            try {
                return work.run(inbox);
            } finally {
                inbox.close(false);
            }
        } catch (MessagingException | IOException e) {
            throw new IllegalStateException("IMAP " + user + "@127.0.0.1:" + port + " failed: " + e.getMessage(), e);
        }
    }

    private static Received read(Message m) throws MessagingException, IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        m.writeTo(out);
        String raw = out.toString(StandardCharsets.UTF_8);
        int split = raw.indexOf("\r\n\r\n");
        String head = split < 0 ? raw : raw.substring(0, split);
        List<String> lines = new ArrayList<>();
        for (String line : head.split("\r\n")) {
            if ((line.startsWith(" ") || line.startsWith("\t")) && !lines.isEmpty()) {
                lines.set(lines.size() - 1, lines.get(lines.size() - 1) + " " + line.trim());
            } else {
                lines.add(line);
            }
        }
        return new Received(raw, lines);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
