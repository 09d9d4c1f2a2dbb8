package io.streamrlhf.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.function.UnaryOperator;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the Apicurio Registry server that {@link EmbeddedRegistry} runs comes from: an unpacked
 * directory with the Quarkus runner jar.
 *
 * <p>Looked for, in order:
 * <ol>
 *   <li>an explicit path, from the builder, the system property {@value #HOME_PROPERTY} or the
 *       environment variable {@value #HOME_ENV}: an unpacked distribution or its zip;</li>
 *   <li>the zip the build downloaded into the local Maven repository (named in the filtered
 *       resource {@code io/streamrlhf/embedded/registry.properties}).</li>
 * </ol>
 * A zip is unpacked once into a cache directory ({@value #CACHE_PROPERTY}, default
 * {@code ~/.cache/streamrlhf}): into a temporary sibling first and then renamed in one step, so
 * two processes racing to unpack never see a half-written directory.
 */
public final class RegistryDistribution {

    private static final Logger LOG = LoggerFactory.getLogger(RegistryDistribution.class);

    /** System property naming an unpacked distribution directory or its zip. */
    public static final String HOME_PROPERTY = "rlhf.registry.home";
    /** Environment variable naming an unpacked distribution directory or its zip. */
    public static final String HOME_ENV = "RLHF_REGISTRY_HOME";
    /** System property naming the cache directory that zips are unpacked into. */
    public static final String CACHE_PROPERTY = "rlhf.cache.dir";
    /** Marker written last into an unpacked directory: present means complete. */
    static final String COMPLETE_MARKER = ".unpacked";
    private static final String BUILD_PROPERTIES = "/io/streamrlhf/embedded/registry.properties";

    private final Path home;
    private final Path runnerJar;
    private final String mainClass;
    private final String source;
    private final boolean unpackedNow;

    private RegistryDistribution(Path home, Path runnerJar, String mainClass, String source, boolean unpackedNow) {
        this.home = home;
        this.runnerJar = runnerJar;
        this.mainClass = mainClass;
        this.source = source;
        this.unpackedNow = unpackedNow;
    }

    /**
     * Finds the distribution as described in the class comment, unpacking a zip if needed.
     *
     * @param explicitHome a directory or zip from the caller, or null to consult the system property,
     *                     the environment and then the build's download
     * @param cacheRoot    where zips are unpacked, or null for {@link #defaultCacheRoot()}
     * @throws EmbeddedStartException when nothing usable is found; the message lists what was searched
     */
    public static RegistryDistribution resolve(Path explicitHome, Path cacheRoot) {
        return resolve(explicitHome, cacheRoot, System::getProperty, System::getenv, BuildInfo.load());
    }

    /** {@link #resolve(Path, Path)} with the system properties, environment and build record passed in (for tests). */
    static RegistryDistribution resolve(Path explicitHome, Path cacheRoot, UnaryOperator<String> systemProperties,
                                        UnaryOperator<String> environment, BuildInfo build) {
        Path cache = cacheRoot != null ? cacheRoot : defaultCacheRoot();
        String explicitSource = null;
        Path explicit = explicitHome;
        if (explicit != null) {
            explicitSource = "the builder's registryHome";
        } else if (notBlank(systemProperties.apply(HOME_PROPERTY))) {
            explicit = Paths.get(systemProperties.apply(HOME_PROPERTY));
            explicitSource = "system property " + HOME_PROPERTY;
        } else if (notBlank(environment.apply(HOME_ENV))) {
            explicit = Paths.get(environment.apply(HOME_ENV));
            explicitSource = "environment variable " + HOME_ENV;
        }
        if (explicit != null) {
            // An explicit choice that is wrong is an error, not a reason to quietly run something else.
            return fromPath(explicit.toAbsolutePath(), cache, explicitSource, null);
        }

        List<String> searched = new ArrayList<>();
        searched.add("system property " + HOME_PROPERTY + " (not set)");
        searched.add("environment variable " + HOME_ENV + " (not set)");
        for (Path zip : build.zipCandidates()) {
            if (Files.isRegularFile(zip)) {
                return fromPath(zip, cache, "the build's download", build.sha1());
            }
            searched.add(zip + " (missing)");
        }
        throw new EmbeddedStartException("Apicurio Registry " + build.version() + " distribution not found. Searched:\n  - "
                + String.join("\n  - ", searched)
                + "\nFix: run `./mvnw -pl embedded install` (it downloads the registry zip into the local Maven "
                + "repository), or set " + HOME_ENV + " (or -D" + HOME_PROPERTY + ") to an unpacked "
                + "apicurio-registry-app distribution or its zip.");
    }

    /** {@code $rlhf.cache.dir}, else {@code ~/.cache/streamrlhf}. */
    public static Path defaultCacheRoot() {
        String configured = System.getProperty(CACHE_PROPERTY);
        if (notBlank(configured)) {
            return Paths.get(configured);
        }
        return Paths.get(System.getProperty("user.home"), ".cache", "streamrlhf");
    }

    /** The unpacked distribution directory. */
    public Path home() {
        return home;
    }

    /** The Quarkus runner jar that starts the server. */
    public Path runnerJar() {
        return runnerJar;
    }

    /** The runner jar's {@code Main-Class}. */
    public String mainClass() {
        return mainClass;
    }

    /** Where the distribution came from, in words (for logs and errors). */
    public String source() {
        return source;
    }

    /** Whether this call unpacked a zip (a cold start) rather than reusing a directory. */
    public boolean unpackedNow() {
        return unpackedNow;
    }

    @Override
    public String toString() {
        return home + " (from " + source + ")";
    }

    private static RegistryDistribution fromPath(Path path, Path cache, String source, String expectedSha1) {
        if (Files.isDirectory(path)) {
            return fromDirectory(path, source + " " + path, false);
        }
        if (Files.isRegularFile(path) && path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".zip")) {
            return unpackCached(path, cache, source, expectedSha1);
        }
        throw new EmbeddedStartException(source + " points at " + path + ", which is "
                + (Files.exists(path) ? "neither a directory nor a .zip file" : "missing")
                + ". Point it at an unpacked apicurio-registry-app distribution or its -all.zip, or unset it to "
                + "use the zip that `./mvnw -pl embedded install` downloads.");
    }

    /** Locates the runner jar in an unpacked directory (the legacy-jar layout, the fast-jar layout, or one level down). */
    static RegistryDistribution fromDirectory(Path dir, String source, boolean unpackedNow) {
        Path runner = findRunner(dir);
        if (runner == null) {
            try (Stream<Path> children = Files.list(dir)) {
                List<Path> subdirs = children.filter(Files::isDirectory).toList();
                if (subdirs.size() == 1) {
                    runner = findRunner(subdirs.get(0));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("could not list " + dir, e);
            }
        }
        if (runner == null) {
            throw new EmbeddedStartException(dir + " (from " + source + ") is not an Apicurio Registry distribution: "
                    + "expected a *-runner.jar beside a lib/ folder, or quarkus-app/quarkus-run.jar");
        }
        return new RegistryDistribution(runner.getParent(), runner, mainClassOf(runner), source, unpackedNow);
    }

    private static Path findRunner(Path dir) {
        try (Stream<Path> children = Files.list(dir)) {
            Path legacy = children
                    .filter(p -> p.getFileName().toString().endsWith("-runner.jar") && Files.isRegularFile(p))
                    .findFirst().orElse(null);
            if (legacy != null && Files.isDirectory(dir.resolve("lib"))) {
                return legacy;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not list " + dir, e);
        }
        for (Path fast : List.of(dir.resolve("quarkus-run.jar"), dir.resolve("quarkus-app").resolve("quarkus-run.jar"))) {
            if (Files.isRegularFile(fast)) {
                return fast;
            }
        }
        return null;
    }

    private static String mainClassOf(Path jar) {
        try (JarFile file = new JarFile(jar.toFile())) {
            Manifest manifest = file.getManifest();
            String main = manifest == null ? null : manifest.getMainAttributes().getValue("Main-Class");
            if (main == null) {
                throw new EmbeddedStartException(jar + " has no Main-Class in its manifest; it is not a runnable "
                        + "registry jar");
            }
            return main.trim();
        } catch (IOException e) {
            throw new EmbeddedStartException("could not read the manifest of " + jar + ": " + e, e);
        }
    }

    /**
     * Unpacks {@code zip} into the cache unless an earlier run (or a racing process) already did.
     * The directory is named after the zip plus its size and modification time, so a replaced zip
     * gets a fresh directory instead of a stale one.
     */
    static RegistryDistribution unpackCached(Path zip, Path cache, String source, String expectedSha1) {
        String base = zip.getFileName().toString().replaceFirst("(?i)\\.zip$", "").replaceFirst("-all$", "");
        String stamp;
        try {
            stamp = Long.toHexString(Files.size(zip) ^ Files.getLastModifiedTime(zip).toMillis());
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + zip, e);
        }
        Path target = cache.resolve(base + "-" + stamp);
        String what = source + " " + zip;
        // A copy only appears at target through an atomic rename with its marker already inside, so "exists, then
        // marker" is race-free; the other order can see a racing unpack land in between and call it incomplete.
        if (Files.exists(target)) {
            if (Files.isRegularFile(target.resolve(COMPLETE_MARKER))) {
                return fromDirectory(target, what, false);
            }
            throw new EmbeddedStartException(target + " exists but is incomplete (no " + COMPLETE_MARKER
                    + " marker); delete it and try again");
        }

        long begin = System.nanoTime();
        if (expectedSha1 != null) {
            String actual = sha1(zip);
            if (!actual.equalsIgnoreCase(expectedSha1)) {
                throw new EmbeddedStartException(zip + " is damaged: sha1 " + actual + ", expected " + expectedSha1
                        + ". Delete it and run `./mvnw -pl embedded install` to download it again");
            }
        }
        DataDirs.ensureDirectory(cache);
        Path temp;
        try {
            temp = Files.createTempDirectory(cache, "." + base + "-unpacking-");
        } catch (IOException e) {
            throw new EmbeddedStartException("could not create a directory in the cache " + cache + ": " + e, e);
        }
        try {
            unzip(zip, temp);
            // Check the layout before publishing it, so a wrong zip never lands in the cache.
            fromDirectory(temp, what, true);
            Files.writeString(temp.resolve(COMPLETE_MARKER), zip + "\n");
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw e;
            } catch (IOException raced) {
                // Linux reports a lost race as a plain "Directory not empty"; what matters is
                // whether a complete copy is now in place.
                if (!Files.isRegularFile(target.resolve(COMPLETE_MARKER))) {
                    throw raced;
                }
                LOG.debug("Another process unpacked {} first; using its copy", target);
                DataDirs.deleteRecursively(temp);
                return fromDirectory(target, what, false);
            }
        } catch (AtomicMoveNotSupportedException e) {
            DataDirs.deleteRecursively(temp);
            throw new EmbeddedStartException("the cache " + cache + " does not support atomic renames; choose "
                    + "another with -D" + CACHE_PROPERTY, e);
        } catch (IOException | RuntimeException e) {
            DataDirs.deleteRecursively(temp);
            if (e instanceof EmbeddedStartException) {
                throw (EmbeddedStartException) e;
            }
            throw new EmbeddedStartException("could not unpack " + zip + " into " + cache + ": " + e, e);
        }
        LOG.info("Unpacked {} into {} in {} ms", zip.getFileName(), target, EmbeddedKafkaBroker.millisSince(begin));
        return fromDirectory(target, what, true);
    }

    private static void unzip(Path zip, Path into) throws IOException {
        Path root = into.toAbsolutePath().normalize();
        try (ZipFile file = new ZipFile(zip.toFile())) {
            Enumeration<? extends ZipEntry> entries = file.entries();
            while (entries.hasMoreElements()) {
                ZipEntry entry = entries.nextElement();
                Path out = root.resolve(entry.getName()).normalize();
                if (!out.startsWith(root)) {
                    throw new IOException("zip entry '" + entry.getName() + "' would be written outside " + root);
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(out);
                    continue;
                }
                Files.createDirectories(out.getParent());
                try (InputStream in = file.getInputStream(entry); OutputStream os = Files.newOutputStream(out)) {
                    in.transferTo(os);
                }
            }
        }
    }

    static String sha1(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-1");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + file, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is missing from this JDK", e);
        }
    }

    private static boolean notBlank(String s) {
        return s != null && !s.isBlank();
    }

    /** What the build recorded in {@code registry.properties}: version, sha1 and where it put the zip. */
    record BuildInfo(String version, String sha1, List<Path> zipCandidates) {

        static BuildInfo load() {
            Properties props = new Properties();
            try (InputStream in = RegistryDistribution.class.getResourceAsStream(BUILD_PROPERTIES)) {
                if (in != null) {
                    props.load(in);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("could not read " + BUILD_PROPERTIES, e);
            }
            String version = filtered(props.getProperty("apicurio.version"), "3.0.9");
            String sha1 = filtered(props.getProperty("apicurio.sha1"), null);
            List<Path> zips = new ArrayList<>();
            String recorded = filtered(props.getProperty("apicurio.zip"), null);
            if (recorded != null) {
                zips.add(Paths.get(recorded));
            }
            // The conventional local repository, for a build that used another settings file.
            Path conventional = Paths.get(System.getProperty("user.home"), ".m2", "repository", "io", "apicurio",
                    "apicurio-registry-app", version, "apicurio-registry-app-" + version + "-all.zip");
            if (!zips.contains(conventional)) {
                zips.add(conventional);
            }
            return new BuildInfo(version, sha1, zips);
        }

        /** The value, or {@code fallback} when the resource was not filtered (a raw {@code ${...}}). */
        private static String filtered(String value, String fallback) {
            return value == null || value.isBlank() || value.contains("${") ? fallback : value.trim();
        }
    }
}
