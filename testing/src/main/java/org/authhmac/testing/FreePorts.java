package org.authhmac.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports on loopback for servers that bind them a few seconds later. They are taken below the kernel's
 * ephemeral range: a port the kernel hands out for "any free port" is also what it gives the next outgoing
 * connection (an SMTP client, a Maven download), which can grab it before James binds it ("Address already in
 * use" at start-up, seen on this shared machine). Ports are never handed out twice by one JVM.
 */
public final class FreePorts {
    private static final Set<Integer> HANDED_OUT = new HashSet<>();
    static final int LOWEST = 20_000;

    private FreePorts() {
    }

    public static synchronized int next() {
        int ceiling = ephemeralLow();
        for (int attempt = 0; attempt < 500; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(LOWEST, ceiling);
            if (!HANDED_OUT.contains(port) && bindable(port)) {
                HANDED_OUT.add(port);
                return port;
            }
        }
        throw new IllegalStateException("no free loopback port between " + LOWEST + " and " + ceiling);
    }

    /** Two consecutive free ports (swtpm wants its control port right after its command port). */
    public static synchronized int nextPair() {
        int ceiling = ephemeralLow() - 1;
        for (int attempt = 0; attempt < 500; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(LOWEST, ceiling);
            if (!HANDED_OUT.contains(port) && !HANDED_OUT.contains(port + 1) && bindable(port) && bindable(port + 1)) {
                HANDED_OUT.add(port);
                HANDED_OUT.add(port + 1);
                return port;
            }
        }
        throw new IllegalStateException("no free pair of consecutive loopback ports");
    }

    private static boolean bindable(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException taken) {
            return false;
        }
    }

    /** Lower bound of the kernel's ephemeral range (Linux), else the IANA one. */
    static int ephemeralLow() {
        try {
            // readAllLines, not readString: /proc files report a size of 0, and some JDKs read only the first byte then.
            String range = String.join(" ", Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))).trim();
            int low = Integer.parseInt(range.split("\\s+")[0]);
            return low > LOWEST + 1000 ? low : 49_152;
        } catch (IOException | RuntimeException e) {
            return 49_152;
        }
    }
}
