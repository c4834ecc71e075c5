package org.authhmac.james.mailets;

import java.util.Optional;
import java.util.stream.Stream;
import org.apache.james.mailrepository.api.MailRepository;
import org.apache.james.mailrepository.api.MailRepositoryPath;
import org.apache.james.mailrepository.api.MailRepositoryStore;
import org.apache.james.mailrepository.api.MailRepositoryUrl;
import org.apache.james.mailrepository.api.Protocol;

/** A repository store that answers every URL with one repository (a test's faulty one). */
final class SingleRepositoryStore implements MailRepositoryStore {
    private final MailRepository repository;

    SingleRepositoryStore(MailRepository repository) {
        this.repository = repository;
    }

    @Override
    public MailRepository select(MailRepositoryUrl url) {
        return repository;
    }

    @Override
    public Optional<Protocol> defaultProtocol() {
        return Optional.of(new Protocol("memory"));
    }

    @Override
    public Optional<MailRepository> get(MailRepositoryUrl url) {
        return Optional.of(repository);
    }

    @Override
    public Stream<MailRepository> getByPath(MailRepositoryPath path) {
        return Stream.of(repository);
    }

    @Override
    public Stream<MailRepositoryUrl> getUrls() {
        return Stream.empty();
    }
}
