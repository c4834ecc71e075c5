package org.authhmac.james.testing;

import java.util.List;
import org.apache.commons.configuration2.BaseHierarchicalConfiguration;
import org.apache.james.mailrepository.api.Protocol;
import org.apache.james.mailrepository.memory.MailRepositoryStoreConfiguration;
import org.apache.james.mailrepository.memory.MemoryMailRepository;
import org.apache.james.mailrepository.memory.MemoryMailRepositoryStore;
import org.apache.james.mailrepository.memory.MemoryMailRepositoryUrlStore;

/** James's own in-memory mail repository store, set up as the memory server's mailrepositorystore.xml does. */
public final class Repositories {
    private Repositories() {
    }

    public static MemoryMailRepositoryStore memoryStore() throws Exception {
        return memoryStore("memory");
    }

    /** The same, answering the given protocols (file:// too, as the shipped configuration uses) with memory repositories. */
    public static MemoryMailRepositoryStore memoryStore(String... protocols) throws Exception {
        MemoryMailRepositoryStore store = new MemoryMailRepositoryStore(new MemoryMailRepositoryUrlStore(),
                (className, url) -> new MemoryMailRepository(),
                MailRepositoryStoreConfiguration.forItems(new MailRepositoryStoreConfiguration.Item(
                        java.util.Arrays.stream(protocols).map(Protocol::new).toList(), MemoryMailRepository.class.getName(),
                        new BaseHierarchicalConfiguration())));
        store.init();
        return store;
    }
}
