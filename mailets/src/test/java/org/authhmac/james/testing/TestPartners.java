package org.authhmac.james.testing;

import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.commons.configuration2.Configuration;
import org.apache.james.filesystem.api.FileSystem;
import org.apache.james.server.core.configuration.Configuration.ConfigurationPath;
import org.apache.james.utils.PropertiesProvider;
import org.apache.mailet.MailetException;
import org.authhmac.james.PartnerPolicies;

/**
 * The partner file, {@code conf/auth-hmac-partners.properties}, written from its lines and read as James reads it:
 * through James's own {@link PropertiesProvider}, whose configuration splits values at commas (so {@code a=x,y} is a
 * list), strips surrounding double quotes and drops blank list items.
 *
 * <pre>
 * PartnerPolicies partners = TestPartners.of("partner.b.example.keyset=partner-b", "authservId=mx.b.example");
 * </pre>
 */
public final class TestPartners {
    private TestPartners() {
    }

    /** The policies these lines declare; a file the reader refuses is a mistake in the test, so it throws unchecked. */
    public static PartnerPolicies of(String... lines) {
        try {
            return PartnerPolicies.from(configuration(lines));
        } catch (MailetException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** The file's configuration as PropertiesProvider hands it over, for tests of what the reader refuses. */
    public static Configuration configuration(String... lines) {
        try {
            Path conf = Files.createTempDirectory("auth-hmac-conf");
            Path file = write(conf, lines);
            try {
                return provider(conf).getConfiguration(PartnerPolicies.FILE);
            } finally {
                Files.delete(file);
                Files.delete(conf);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (Exception e) {
            throw new IllegalStateException("PropertiesProvider cannot read the partner file: " + e, e);
        }
    }

    /** Writes the lines to {@code auth-hmac-partners.properties} in {@code conf}, as an operator would. */
    public static Path write(Path conf, String... lines) throws IOException {
        return Files.writeString(conf.resolve(PartnerPolicies.FILE + ".properties"), String.join("\n", lines) + "\n");
    }

    /** James's PropertiesProvider over a configuration folder of the test's own, as James builds it over conf/. */
    public static PropertiesProvider provider(Path conf) {
        FileSystem files = new FileSystem() {
            @Override
            public InputStream getResource(String url) throws IOException {
                return Files.newInputStream(getFile(url).toPath());
            }

            @Override
            public File getFile(String path) throws FileNotFoundException {
                return new File(path);
            }

            @Override
            public File getBasedir() {
                return conf.toFile();
            }
        };
        return new PropertiesProvider(files, new ConfigurationPath(conf.toAbsolutePath() + File.separator));
    }
}
