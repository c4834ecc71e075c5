package org.authhmac.bench;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** The message every benchmark of one size works on. */
@State(Scope.Benchmark)
public class MessageState {
    @Param({"1KB", "10KB", "100KB", "1MB"})
    public String size;

    byte[] message;
    int bodyOffset;

    @Setup(Level.Trial)
    public void generate() {
        message = Messages.mime(Messages.bytes(size));
        bodyOffset = Messages.bodyOffset(message);
    }
}
