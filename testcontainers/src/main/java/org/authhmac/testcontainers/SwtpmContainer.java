package org.authhmac.testcontainers;

import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * A software TPM 2.0 (swtpm) in a container: the key vault of one James. Its state lives only in the container, so
 * the keys wrapped by it die with it, as a test's keys should.
 */
public class SwtpmContainer extends GenericContainer<SwtpmContainer> {
    /** The image scripts/images builds from containers/swtpm. */
    public static final DockerImageName DEFAULT_IMAGE = DockerImageName.parse("localhost/auth-hmac/swtpm:latest");
    /** The TPM command port; swtpm's control port is {@link #CONTROL_PORT}. */
    public static final int TPM_PORT = 2321;
    public static final int CONTROL_PORT = 2322;

    public SwtpmContainer() {
        this(DEFAULT_IMAGE);
    }

    public SwtpmContainer(DockerImageName image) {
        super(image);
        withExposedPorts(TPM_PORT, CONTROL_PORT);
        waitingFor(Wait.forListeningPort());
    }

    /** The TPM command port as the test JVM reaches it (the CLI provisions keys through it). */
    public int tpmPort() {
        return getMappedPort(TPM_PORT);
    }
}
