package org.authhmac.testcontainers;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.testcontainers.DockerClientFactory;

/**
 * Declared before {@code @Testcontainers} ({@code @ExtendWith(ContainerRuntime.class)}): a test class whose Docker
 * API (podman's, through DOCKER_HOST) or images are missing is skipped on a developer machine, with the reason, and
 * fails under CI=true, so a CI run can never pass without running the containers.
 */
public final class ContainerRuntime implements BeforeAllCallback {
    @Override
    public void beforeAll(ExtensionContext context) {
        requireAvailable();
    }

    /** Skips the caller outside CI, fails it in CI, when the Docker API or one of the two images is missing. */
    public static void requireAvailable() {
        String missing = missing();
        if (missing == null) {
            return;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException(missing + ", and CI=true: the container tests must run in CI");
        }
        Assumptions.abort(missing + "; skipping outside CI");
    }

    private static String missing() {
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            return "no Docker API at DOCKER_HOST=" + System.getenv("DOCKER_HOST")
                    + " (podman: scripts/containers-setup, then DOCKER_HOST=unix:///run/podman/podman.sock)";
        }
        for (String image : new String[] {AuthHmacJames.DEFAULT_IMAGE.asCanonicalNameString(), SwtpmContainer.DEFAULT_IMAGE.asCanonicalNameString()}) {
            try {
                DockerClientFactory.instance().client().inspectImageCmd(image).exec();
            } catch (RuntimeException e) {
                return "image " + image + " not found (build it with scripts/images)";
            }
        }
        return null;
    }
}
