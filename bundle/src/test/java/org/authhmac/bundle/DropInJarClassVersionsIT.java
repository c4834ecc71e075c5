package org.authhmac.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * Which Java each drop-in jar needs: the James 3.8.1 image runs Java 11, so every class of the javax jar must be a
 * Java 11 class file (major version 55 or less; TSS.Java's are Java 8 already), while the jakarta jar for James 3.9
 * stays Java 21. The Java 12+ library methods the javax jar calls come as JvmDowngrader stubs, relocated under our
 * own package so that the jar needs nothing James does not ship.
 */
class DropInJarClassVersionsIT {
    static final int JAVA_11 = 55;
    static final int JAVA_21 = 65;
    static final String SHADED = "org/authhmac/shaded/jvmdg/";

    @Test
    void javaxJarHoldsOnlyJava11ClassFiles() throws IOException {
        // given the jar for James 3.8
        // when each class file's major version is read
        Map<String, Integer> newerThanJava11 = new TreeMap<>();
        majorVersions(System.getProperty("authhmac.bundle.javaxJar")).forEach((name, major) -> {
            if (major > JAVA_11) newerThanJava11.put(name, major);
        });

        // then none is newer than Java 11
        assertThat(newerThanJava11).as("classes a Java 11 JVM cannot load").isEmpty();
    }

    @Test
    void jakartaJarStaysJava21() throws IOException {
        // given the jar for James 3.9; when its classes of ours are read; then each is a Java 21 class file
        Map<String, Integer> ours = new TreeMap<>(majorVersions(System.getProperty("authhmac.bundle.jar")));
        // (libraries relocated under org/authhmac/shaded/, such as lettuce, keep their own class file versions)
        ours.keySet().removeIf(name -> !name.startsWith("org/authhmac/") || name.startsWith("org/authhmac/shaded/"));

        assertThat(ours).isNotEmpty();
        assertThat(ours.values()).as("class file versions of our classes").containsOnly(JAVA_21);
    }

    @Test
    void javaxJarCarriesTheDowngraderStubsOnlyUnderOurPackage() throws IOException {
        // given the jar for James 3.8; when its entries are listed
        List<String> names;
        try (JarFile jar = new JarFile(System.getProperty("authhmac.bundle.javaxJar"))) {
            names = Collections.list(jar.entries()).stream().map(JarEntry::getName).toList();
        }

        // then the stubs it calls (Record, Stream.toList, HexFormat, ...) are inside, relocated, and nothing of
        // JvmDowngrader sits at its own package, where it could meet another copy on James's class path
        assertThat(names).anyMatch(name -> name.startsWith(SHADED) && name.endsWith(".class"));
        assertThat(names).noneMatch(name -> name.startsWith("xyz/"));
    }

    private static Map<String, Integer> majorVersions(String path) throws IOException {
        Map<String, Integer> versions = new TreeMap<>();
        try (JarFile jar = new JarFile(path)) {
            for (JarEntry entry : Collections.list(jar.entries())) {
                if (!entry.getName().endsWith(".class")) continue;
                try (InputStream in = jar.getInputStream(entry)) {
                    byte[] head = in.readNBytes(8);
                    versions.put(entry.getName(), ((head[6] & 0xff) << 8) | (head[7] & 0xff));
                }
            }
        }
        return versions;
    }
}
