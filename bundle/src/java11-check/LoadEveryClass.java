import java.io.*;
import java.lang.reflect.*;
import java.lang.invoke.MethodHandle;
import java.net.*;
import java.nio.file.*;
import java.util.*;
import java.util.jar.*;

/**
 * Run on Java 11 (bundle/src/java11-check/load-every-class): loads and initialises every class of a drop-in jar with
 * James's lib/ as the class path, and resolves each JDK class, field and method the jar names against this JDK, which
 * shows that JvmDowngrader left no call to a Java 12+ method without a stub. Compiled with --release 11.
 */
public class LoadEveryClass {
    /** TSS.Java classes whose initialisation fails on any JDK, with the unchanged jakarta jar too: not ours to fix here. */
    static final Map<String, String> KNOWN = Map.of(
            "tss.tpm.Implementation", "TSS.Java's static initialisers of these three form a cycle: the first one touched throws",
            "tss.tpm.ImplementationConstants", "same cycle",
            "tss.tpm.TPM_HC", "same cycle",
            "tss.TpmDeviceTbs$TBSLibrary", "Windows' TPM Base Services library, through JNA");
    /**
     * Optional integrations of the relocated lettuce that James ships no library for: Kotlin coroutine extensions
     * (called only from Kotlin), Micrometer and LatencyUtils (lettuce looks for each before it uses it). A class of
     * lettuce that fails for want of one of these packages is listed, not counted.
     */
    static final List<String> OPTIONAL_FOR_LETTUCE = List.of("kotlin.", "io.micrometer.", "org.LatencyUtils.");

    static boolean lettuceOptional(String className, Throwable t) {
        if (!className.startsWith("org.authhmac.shaded.lettuce.")) return false;
        for (Throwable c = t; c != null; c = c.getCause()) {
            String missing = c instanceof NoClassDefFoundError || c instanceof ClassNotFoundException ? String.valueOf(c.getMessage()).replace('/', '.') : "";
            for (String p : OPTIONAL_FOR_LETTUCE) if (missing.startsWith(p)) return true;
        }
        return false;
    }

    public static void main(String[] args) throws Exception {
        Path jar = Paths.get(args[0]);
        int max = Integer.getInteger("maxMajor", 55);
        List<URL> urls = new ArrayList<>();
        urls.add(jar.toUri().toURL());
        if (args.length > 1) for (File f : new File(args[1]).listFiles()) if (f.getName().endsWith(".jar")) urls.add(f.toURI().toURL());
        URLClassLoader loader = new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader());
        int ok = 0, bad = 0, refs = 0, badRefs = 0;
        Set<String> seen = new TreeSet<>();
        try (JarFile jf = new JarFile(jar.toFile())) {
            for (JarEntry e : Collections.list(jf.entries())) {
                String n = e.getName();
                if (!n.endsWith(".class") || n.contains("-")) continue;
                byte[] b = jf.getInputStream(e).readAllBytes();
                int major = ((b[6] & 0xff) << 8) | (b[7] & 0xff);
                if (major > max) { System.out.println("VERSION " + major + " " + n); bad++; continue; }
                String cn = n.substring(0, n.length() - 6).replace('/', '.');
                try { Class.forName(cn, true, loader); ok++; }
                catch (Throwable t) { if (KNOWN.containsKey(cn)) { System.out.println("KNOWN " + cn + ": " + KNOWN.get(cn)); continue; } if (lettuceOptional(cn, t)) { System.out.println("OPTIONAL " + cn + ": " + t); continue; } bad++; String m = String.valueOf(t); Throwable c = t.getCause(); if (c != null) m += " caused by " + c; System.out.println("LOAD " + cn + ": " + (m.length() > 300 ? m.substring(0, 300) + "..." : m)); }
                for (String[] r : refs(b)) {
                    if (!(r[1].startsWith("java/") || r[1].startsWith("javax/") || r[1].startsWith("jdk/") || r[1].startsWith("sun/"))) continue;
                    String key = String.join(" ", r);
                    if (!seen.add(key)) continue;
                    refs++;
                    String why = check(r, loader);
                    if (why != null) { badRefs++; System.out.println("REF " + key + " (from " + cn + "): " + why); }
                }
            }
        }
        System.out.println("java " + System.getProperty("java.version") + ": classes loaded+initialised " + ok + ", failed " + bad
                + "; distinct JDK member references " + refs + ", unresolved " + badRefs);
        System.exit(bad == 0 && badRefs == 0 ? 0 : 1);
    }

    static String check(String[] r, ClassLoader loader) {
        Class<?> c;
        try { c = Class.forName(r[1].replace('/', '.'), false, loader); } catch (Throwable t) { return "class missing: " + t; }
        if (r[0].equals("C")) return null;
        if (r[0].equals("F")) {
            for (Class<?> k = c; k != null; k = k.getSuperclass()) for (Field f : k.getDeclaredFields()) if (f.getName().equals(r[2])) return null;
            for (Class<?> i : allInterfaces(c)) for (Field f : i.getDeclaredFields()) if (f.getName().equals(r[2])) return null;
            return "no field";
        }
        List<Class<?>> all = new ArrayList<>();
        for (Class<?> k = c; k != null; k = k.getSuperclass()) all.add(k);
        all.addAll(allInterfaces(c));
        all.add(Object.class);
        for (Class<?> k : all) {
            if (r[2].equals("<init>")) { for (Constructor<?> m : k.getDeclaredConstructors()) if (desc(m.getParameterTypes(), void.class).equals(r[3])) return null; break; }
            for (Method m : k.getDeclaredMethods()) if (m.getName().equals(r[2]) && desc(m.getParameterTypes(), m.getReturnType()).equals(r[3])) return null;
        }
        if (MethodHandle.class.isAssignableFrom(c) && (r[2].equals("invoke") || r[2].equals("invokeExact"))) return null;
        if (java.lang.invoke.VarHandle.class.isAssignableFrom(c)) return null;
        return "no method";
    }
    static Set<Class<?>> allInterfaces(Class<?> c) {
        Set<Class<?>> s = new LinkedHashSet<>(); Deque<Class<?>> q = new ArrayDeque<>();
        for (Class<?> k = c; k != null; k = k.getSuperclass()) q.add(k);
        while (!q.isEmpty()) for (Class<?> i : q.poll().getInterfaces()) if (s.add(i)) q.add(i);
        return s;
    }
    static String desc(Class<?>[] ps, Class<?> ret) {
        StringBuilder sb = new StringBuilder("(");
        for (Class<?> p : ps) sb.append(d(p));
        return sb.append(')').append(d(ret)).toString();
    }
    static String d(Class<?> c) {
        if (c.isArray()) return c.getName().replace('.', '/');
        if (c == void.class) return "V"; if (c == int.class) return "I"; if (c == long.class) return "J"; if (c == boolean.class) return "Z";
        if (c == byte.class) return "B"; if (c == char.class) return "C"; if (c == short.class) return "S"; if (c == float.class) return "F"; if (c == double.class) return "D";
        return "L" + c.getName().replace('.', '/') + ";";
    }

    /** {kind, owner, name, descriptor} for each Class, Fieldref, Methodref and InterfaceMethodref constant. */
    static List<String[]> refs(byte[] b) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
        in.skipBytes(8);
        int n = in.readUnsignedShort();
        Object[] cp = new Object[n]; int[] tag = new int[n];
        for (int i = 1; i < n; i++) {
            int t = in.readUnsignedByte(); tag[i] = t;
            switch (t) {
                case 1: cp[i] = in.readUTF(); break;
                case 3: case 4: in.readInt(); break;
                case 5: case 6: in.readLong(); i++; break;
                case 7: case 8: case 16: case 19: case 20: cp[i] = new int[]{in.readUnsignedShort()}; break;
                case 9: case 10: case 11: case 12: case 17: case 18: cp[i] = new int[]{in.readUnsignedShort(), in.readUnsignedShort()}; break;
                case 15: in.readUnsignedByte(); in.readUnsignedShort(); break;
                default: throw new IOException("tag " + t);
            }
        }
        List<String[]> out = new ArrayList<>();
        for (int i = 1; i < n; i++) {
            if (tag[i] == 7) {
                String name = (String) cp[((int[]) cp[i])[0]];
                String el = name.replaceAll("^\\[+", "");
                if (el.startsWith("L")) el = el.substring(1, el.length() - 1); else if (name.startsWith("[")) continue;
                out.add(new String[]{"C", el});
            } else if (tag[i] == 9 || tag[i] == 10 || tag[i] == 11) {
                int[] p = (int[]) cp[i];
                String owner = (String) cp[((int[]) cp[p[0]])[0]];
                if (owner.startsWith("[")) continue;
                int[] nt = (int[]) cp[p[1]];
                out.add(new String[]{tag[i] == 9 ? "F" : "M", owner, (String) cp[nt[0]], (String) cp[nt[1]]});
            }
        }
        return out;
    }
}
