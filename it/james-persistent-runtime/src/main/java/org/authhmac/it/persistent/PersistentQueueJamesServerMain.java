package org.authhmac.it.persistent;

import org.apache.james.ExtraProperties;
import org.apache.james.FakeSearchMailboxModule;
import org.apache.james.GuiceJamesServer;
import org.apache.james.JamesServerMain;
import org.apache.james.MemoryJamesConfiguration;
import org.apache.james.MemoryJamesServerMain;
import org.apache.james.modules.RunArgumentsModule;
import org.apache.james.modules.server.JMXServerModule;

/**
 * James 3.8.1's memory server, started the way {@code MemoryJamesServerMain.main} starts it, with the mail queues
 * made persistent by {@link PersistentMailQueueModule}. Everything else (mailboxes, users, domains, the memory://
 * repository type) stays in memory; file:// repositories come from mailrepositorystore.xml.
 */
public final class PersistentQueueJamesServerMain {
    private PersistentQueueJamesServerMain() {
    }

    public static void main(String[] args) throws Exception {
        ExtraProperties.initialize();
        MemoryJamesConfiguration configuration = MemoryJamesConfiguration.builder()
                .useWorkingDirectoryEnvProperty()
                .build();
        GuiceJamesServer server = MemoryJamesServerMain.createServer(configuration)
                .combineWith(new FakeSearchMailboxModule(), new JMXServerModule())
                .overrideWith(new RunArgumentsModule(args), new PersistentMailQueueModule());
        JamesServerMain.main(server);
    }
}
