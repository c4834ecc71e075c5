package org.authhmac.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Free TCP ports on loopback, asked of the kernel so that parallel builds on one machine do not collide. */
public final class FreePorts {
    private FreePorts() {
    }

    public static int next() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }

    /** Two consecutive free ports (swtpm wants its control port right after its command port). */
    public static int nextPair() {
        for (int attempt = 0; attempt < 50; attempt++) {
            int first = next();
            if (first >= 65535) {
                continue;
            }
            try (ServerSocket second = new ServerSocket(first + 1, 1, InetAddress.getLoopbackAddress())) {
                return first;
            } catch (IOException taken) {
                // try another pair
            }
        }
        throw new IllegalStateException("no free pair of consecutive loopback ports");
    }
}
