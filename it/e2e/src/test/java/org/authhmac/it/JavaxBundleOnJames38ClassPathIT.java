package org.authhmac.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.authhmac.testing.james.JamesRuntime;
import org.junit.jupiter.api.Test;

/**
 * The javax drop-in jar against the real James 3.8.1 class path, without starting James: no class that James already
 * ships, no jakarta reference left by the transformer, and every class links (the types of all its fields, methods
 * and constructors resolve) with James's jars as the parent loader, exactly as ExtendedClassLoader arranges it.
 */
class JavaxBundleOnJames38ClassPathIT {
    private final Path bundle = JamesRuntime.javaxBundleJar();
    private final Path lib = JamesRuntime.fromSystemProperties().libDir();

    @Test
    void shipsNoClassThatJamesAlreadyShips() throws IOException {
        Map<String, String> jamesClasses = new HashMap<>();
        try (Stream<Path> jars = Files.list(lib)) {
            for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).toList()) {
                for (String c : classEntries(jar)) {
                    jamesClasses.putIfAbsent(c, jar.getFileName().toString());
                }
            }
        }
        List<String> duplicates = new ArrayList<>();
        for (String c : classEntries(bundle)) {
            if (jamesClasses.containsKey(c)) {
                duplicates.add(c + " (also in " + jamesClasses.get(c) + ")");
            }
        }
        assertThat(duplicates).as("classes the parent-first James class loader would shadow").isEmpty();
    }

    @Test
    void keepsNoJakartaReferenceAfterTransformation() throws IOException {
        List<String> offenders = new ArrayList<>();
        try (JarFile jar = new JarFile(bundle.toFile())) {
            for (JarEntry e : list(jar)) {
                if (e.getName().endsWith(".class") || e.getName().startsWith("META-INF/services/")) {
                    try (InputStream in = jar.getInputStream(e)) {
                        String bytes = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                        if (bytes.contains("jakarta/mail") || bytes.contains("jakarta/inject") || bytes.contains("jakarta.mail")
                                || bytes.contains("jakarta/annotation") || bytes.contains("jakarta/activation")) {
                            offenders.add(e.getName());
                        }
                    }
                }
            }
        }
        assertThat(offenders).as("classes still naming jakarta packages (James 3.8.1 has none of them)").isEmpty();
    }

    @Test
    void everyClassLinksAgainstJames381() throws IOException {
        List<URL> jamesJars = new ArrayList<>();
        try (Stream<Path> jars = Files.list(lib)) {
            for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
                jamesJars.add(jar.toUri().toURL());
            }
        }
        List<String> failures = new ArrayList<>();
        try (URLClassLoader james = new URLClassLoader(jamesJars.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
             URLClassLoader extensions = new URLClassLoader(new URL[] {bundle.toUri().toURL()}, james)) {
            for (String entry : classEntries(bundle)) {
                String name = entry.substring(0, entry.length() - ".class".length()).replace('/', '.');
                try {
                    Class<?> c = Class.forName(name, false, extensions);
                    c.getDeclaredFields();
                    c.getDeclaredMethods();
                    c.getDeclaredConstructors();
                } catch (Throwable t) {
                    if (!lettuceOptional(name, t)) {
                        failures.add(name + ": " + t);
                    }
                }
            }
        }
        assertThat(failures).as("classes that do not link on James 3.8.1").isEmpty();
    }

    /**
     * Libraries the relocated lettuce integrates with when they are present, and which James ships none of: lettuce
     * looks for each before it touches the classes that name it (RxJava 1-3, Brave and Zipkin, Micrometer,
     * LatencyUtils), or only Kotlin code calls them (the Kotlin extensions, and lettuce's coroutine API, which the jar
     * leaves out). A lettuce class that cannot link for want of one of these alone is not a failure.
     */
    static final List<String> LETTUCE_OPTIONAL = List.of("kotlin/", "rx/", "io/reactivex/", "brave/", "zipkin2/",
            "io/micrometer/", "org/LatencyUtils/", "org/authhmac/shaded/lettuce/core/api/coroutines/",
            "org/authhmac/shaded/lettuce/core/cluster/api/coroutines/", "org/authhmac/shaded/lettuce/core/sentinel/api/coroutines/");

    static boolean lettuceOptional(String className, Throwable t) {
        if (!className.startsWith("org.authhmac.shaded.lettuce.") || !(t instanceof NoClassDefFoundError)) {
            return false;
        }
        String missing = String.valueOf(t.getMessage()).replace('.', '/');
        return LETTUCE_OPTIONAL.stream().anyMatch(missing::startsWith);
    }

    private static TreeSet<String> classEntries(Path jarPath) throws IOException {
        TreeSet<String> names = new TreeSet<>();
        try (JarFile jar = new JarFile(jarPath.toFile())) {
            for (JarEntry e : list(jar)) {
                String n = e.getName();
                if (n.endsWith(".class") && !n.startsWith("META-INF/") && !n.endsWith("module-info.class")) {
                    names.add(n);
                }
            }
        }
        return names;
    }

    private static List<JarEntry> list(JarFile jar) {
        List<JarEntry> entries = new ArrayList<>();
        for (Enumeration<JarEntry> en = jar.entries(); en.hasMoreElements();) {
            entries.add(en.nextElement());
        }
        return entries;
    }
}
