package io.streamrlhf.embedded;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Apicurio Registry server (3.0.9) running as a child process of this JVM, with its
 * Confluent-compatible API at {@link #url()}.
 *
 * <p>The server runs with the same {@code java} as this JVM, a small heap and start-up-friendly JIT
 * settings, bound to {@code localhost} only, with nothing that calls the network (no OIDC, no Kafka
 * event sink). Storage is in memory by default; with {@link Builder#storageDir(Path)} it is an H2
 * file database there, so schema ids survive a restart together with the broker's data.
 *
 * <p>The child is stopped by {@link #close()}, by a JVM shutdown hook, and, should this JVM be
 * killed outright, by itself: {@link RegistryLauncher} watches the parent process.
 *
 * <pre>{@code
 * try (EmbeddedRegistry registry = EmbeddedRegistry.builder().start()) {
 *     String url = registry.url(); // http://localhost:41235/apis/ccompat/v7
 * }
 * }</pre>
 */
public final class EmbeddedRegistry implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRegistry.class);

    /** Path of the Confluent-compatible API under the server root. */
    public static final String CCOMPAT_PATH = "/apis/ccompat/v7";
    /** Readiness endpoint of the Quarkus server. */
    public static final String READY_PATH = "/health/ready";
    /** File in the work directory that receives the child's stdout and stderr. */
    public static final String LOG_FILE = "registry.log";
    private static final int LOG_TAIL_LINES = 40;
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);
    private static final Duration RECORDING_STOP_GRACE = Duration.ofSeconds(45);

    /**
     * JVM options for a quick start on a small machine: C1 only, serial GC and class-data sharing
     * cut a few seconds of JIT and GC work from start-up on two cores; the registry holds a handful
     * of schemas, so its steady-state speed does not matter.
     */
    static final List<String> DEFAULT_JVM_OPTIONS = List.of(
            "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto", "-XX:-UsePerfData");

    private final RegistryDistribution distribution;
    private final Process process;
    private final int port;
    private final Path workDir;
    private final boolean temporaryWorkDir;
    private final long startupMillis;
    private final ClassDataArchive classData;
    private final Thread shutdownHook;
    private boolean closed;

    private EmbeddedRegistry(RegistryDistribution distribution, Process process, int port, Path workDir,
                             boolean temporaryWorkDir, long startupMillis, ClassDataArchive classData) {
        this.distribution = distribution;
        this.process = process;
        this.port = port;
        this.workDir = workDir;
        this.temporaryWorkDir = temporaryWorkDir;
        this.startupMillis = startupMillis;
        this.classData = classData;
        this.shutdownHook = new Thread(() -> stop(process, classData, true), "embedded-registry-stop-" + port);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** A builder with the defaults: distribution from the build, free port, in-memory storage, 384 MB heap. */
    public static Builder builder() {
        return new Builder();
    }

    /** The Confluent-compatible API, {@code http://localhost:PORT/apis/ccompat/v7}. */
    public String url() {
        return baseUrl() + CCOMPAT_PATH;
    }

    /** The server root, {@code http://localhost:PORT}. */
    public String baseUrl() {
        return "http://localhost:" + port;
    }

    /** The HTTP port. */
    public int port() {
        return port;
    }

    /** The child process. */
    public ProcessHandle process() {
        return process.toHandle();
    }

    /** Whether the child process is still running. */
    public boolean isRunning() {
        return process.isAlive();
    }

    /** The child's log file (its stdout and stderr). */
    public Path logFile() {
        return workDir.resolve(LOG_FILE);
    }

    /** The server distribution that runs. */
    public RegistryDistribution distribution() {
        return distribution;
    }

    /** Milliseconds from the start call until the readiness check passed (includes any unpacking). */
    public long startupMillis() {
        return startupMillis;
    }

    /** Whether this child mapped an existing class-data archive (a warm start) rather than recording one. */
    public boolean reusedClassDataArchive() {
        return classData != null && classData.reused();
    }

    /**
     * Stops the child (SIGTERM, then a forced kill after 10 s, or 45 s while it writes its first
     * class-data archive; descendants included), waits for it to be gone, and removes a temporary
     * work directory. Calling it again does nothing.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // The JVM is already exiting and the hook is running or will run; stopping twice is harmless.
        }
        long begin = System.nanoTime();
        stop(process, classData, true);
        if (temporaryWorkDir) {
            DataDirs.deleteRecursively(workDir);
        }
        LOG.info("Schema registry on port {} stopped in {} ms", port, EmbeddedKafkaBroker.millisSince(begin));
    }

    /**
     * Stops the child; publishes its class-data recording only when asked (a child that never got
     * ready recorded too little to be worth keeping) and the stop was graceful.
     */
    private static void stop(Process process, ClassDataArchive classData, boolean publish) {
        // Writing a recording at exit takes several seconds on two cores; give it time to finish.
        boolean recording = classData != null && !classData.reused();
        boolean graceful = ChildProcess.stop(process, "Schema registry",
                recording ? RECORDING_STOP_GRACE : STOP_GRACE);
        if (classData != null) {
            classData.afterStop(publish && graceful);
        }
    }

    /** Settings for one registry child; {@link #start()} launches it and waits until it is ready. */
    public static final class Builder {
        private Path home;
        private Path cacheDir;
        private int port;
        private Path storageDir;
        private String maxHeap = "384m";
        private Duration startTimeout = Duration.ofSeconds(90);
        private boolean classDataSharing = true;
        private final List<String> jvmOptions = new ArrayList<>(DEFAULT_JVM_OPTIONS);
        private final Map<String, String> properties = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * An unpacked distribution or its zip; null (the default) consults
         * {@value RegistryDistribution#HOME_PROPERTY}, {@value RegistryDistribution#HOME_ENV} and then
         * the build's download.
         */
        public Builder home(Path home) {
            this.home = home;
            return this;
        }

        /** Where zips are unpacked; null (the default) for {@link RegistryDistribution#defaultCacheRoot()}. */
        public Builder cacheDir(Path cacheDir) {
            this.cacheDir = cacheDir;
            return this;
        }

        /** HTTP port; 0 (the default) picks a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /**
         * Directory for a persistent H2 database and the log; null (the default) keeps schemas in
         * memory and logs to a temporary directory removed on close.
         */
        public Builder storageDir(Path storageDir) {
            this.storageDir = storageDir;
            return this;
        }

        /** The child's {@code -Xmx}, e.g. {@code "384m"}. */
        public Builder maxHeap(String maxHeap) {
            if (maxHeap == null || !maxHeap.matches("\\d+[kKmMgG]?")) {
                throw new IllegalArgumentException("maxHeap must look like 384m or 1g, got " + maxHeap);
            }
            this.maxHeap = maxHeap;
            return this;
        }

        /** How long {@link #start()} waits for {@value EmbeddedRegistry#READY_PATH} to answer 200. */
        public Builder startTimeout(Duration startTimeout) {
            if (startTimeout == null || startTimeout.isNegative() || startTimeout.isZero()) {
                throw new IllegalArgumentException("startTimeout must be positive, got " + startTimeout);
            }
            this.startTimeout = startTimeout;
            return this;
        }

        /**
         * Whether the child records (first run) and then maps an AppCDS archive in the cache, which
         * roughly halves its start-up on two cores (measured 2.4-2.8 s against 4.9-8.7 s on a busy
         * machine); on by default.
         */
        public Builder classDataSharing(boolean enabled) {
            this.classDataSharing = enabled;
            return this;
        }

        /** An extra JVM option for the child, e.g. {@code -XX:+UseParallelGC}. */
        public Builder jvmOption(String option) {
            jvmOptions.add(option);
            return this;
        }

        /** An extra Quarkus/Apicurio configuration property, passed as {@code -Dkey=value}. */
        public Builder property(String key, String value) {
            if ("quarkus.http.port".equals(key)) {
                throw new IllegalArgumentException("set the registry port with port(int), not " + key);
            }
            properties.put(key, value);
            return this;
        }

        /**
         * Resolves the distribution, launches the child and waits until it reports ready.
         *
         * @throws EmbeddedStartException when the distribution is missing, the port is taken, the
         *                                child exits early or is not ready in time (with its log tail)
         */
        public EmbeddedRegistry start() {
            long begin = System.nanoTime();
            RegistryDistribution distribution = RegistryDistribution.resolve(home, cacheDir);
            boolean temporary = storageDir == null;
            Path workDir = temporary ? DataDirs.createTemp("rlhf-registry-") : DataDirs.ensureDirectory(storageDir);
            int attempts = port == 0 ? 3 : 1;
            try {
                for (int attempt = 1; ; attempt++) {
                    int chosen = LocalPorts.choose(port, "Schema registry");
                    try {
                        return launch(distribution, chosen, workDir, temporary, begin);
                    } catch (PortTakenException e) {
                        if (attempt >= attempts) {
                            throw new EmbeddedStartException("Schema registry port " + chosen
                                    + " is already in use on localhost; stop whatever holds it or pass 0 to pick a "
                                    + "free port", e);
                        }
                        LOG.warn("Registry port {} was taken while starting (attempt {}), retrying", chosen, attempt);
                    }
                }
            } catch (RuntimeException e) {
                // The error carries the log's tail; a temporary work dir has nothing else worth keeping.
                if (temporary) {
                    DataDirs.deleteRecursively(workDir);
                }
                throw e;
            }
        }

        private EmbeddedRegistry launch(RegistryDistribution distribution, int port, Path workDir, boolean temporary,
                                        long begin) {
            Path logFile = workDir.resolve(LOG_FILE);
            Launch launch = command(distribution, port, workDir);
            LOG.debug("Starting schema registry: {}", launch.command());
            Process process;
            try {
                process = new ProcessBuilder(launch.command())
                        .directory(workDir.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(logFile.toFile())
                        .start();
            } catch (IOException e) {
                throw new EmbeddedStartException("could not launch the schema registry with "
                        + launch.command().get(0) + ": " + e.getMessage(), e);
            }
            try {
                awaitReady(process, port, logFile, begin);
            } catch (RuntimeException e) {
                stop(process, launch.classData(), false);
                throw e;
            }
            long millis = EmbeddedKafkaBroker.millisSince(begin);
            LOG.info("Schema registry ready on http://localhost:{} in {} ms (pid {}, {} storage, class-data archive {}, "
                            + "server in {})", port, millis, process.pid(), temporary ? "in-memory" : "H2 file",
                    launch.classData() == null ? "off" : launch.classData().reused() ? "reused" : "recording",
                    distribution.home());
            return new EmbeddedRegistry(distribution, process, port, workDir, temporary, millis, launch.classData());
        }

        /** The child's command line: same java as ours, the launcher, then the registry's settings. */
        Launch command(RegistryDistribution distribution, int port, Path workDir) {
            Path cacheRoot = cacheDir != null ? cacheDir : RegistryDistribution.defaultCacheRoot();
            String java = javaExecutable();
            // The launcher goes to a stable place in the cache (a class-data archive is tied to the
            // exact class path); to the work dir, without an archive, if the cache is not writable.
            Path launcherJar = LauncherClassPath.install(cacheRoot);
            boolean stable = launcherJar != null;
            if (!stable) {
                launcherJar = LauncherClassPath.installInto(workDir.resolve("registry-launcher.jar"));
            }
            String classPath = launcherJar + File.pathSeparator + distribution.runnerJar();
            ClassDataArchive classData = classDataSharing && stable
                    ? ClassDataArchive.forLaunch(cacheRoot, java, classPath, jvmOptions) : null;

            List<String> command = new ArrayList<>();
            command.add(java);
            command.add("-Xmx" + maxHeap);
            command.addAll(jvmOptions);
            if (classData != null) {
                command.add(classData.jvmOption());
                // A mismatching archive is skipped with a warning; keep that out of the log's tail.
                command.add("-Xlog:cds=off,cds+dynamic=off");
            }
            command.add("-Djava.io.tmpdir=" + workDir);
            for (Map.Entry<String, String> p : registryProperties(port, workDir).entrySet()) {
                command.add("-D" + p.getKey() + "=" + p.getValue());
            }
            command.add("-cp");
            command.add(classPath);
            command.add(RegistryLauncher.class.getName());
            command.add(String.valueOf(ProcessHandle.current().pid()));
            command.add(distribution.mainClass());
            return new Launch(List.copyOf(command), classData);
        }

        /** Apicurio/Quarkus settings: defaults for a quiet, local, offline server, then the caller's. */
        Map<String, String> registryProperties(int port, Path workDir) {
            Map<String, String> props = new LinkedHashMap<>();
            props.put("quarkus.http.port", String.valueOf(port));
            props.put("quarkus.http.host", "localhost");
            props.put("quarkus.banner.enabled", "false");
            props.put("quarkus.log.level", "WARN");
            props.put("quarkus.log.category.\"io.apicurio\".level", "WARN");
            props.put("quarkus.http.access-log.enabled", "false");
            // No identity provider: the packaged defaults name a remote OIDC server, never contacted
            // while tenants are off; state it explicitly so nothing dials out.
            props.put("quarkus.oidc.tenant-enabled", "false");
            props.put("apicurio.storage.kind", "sql");
            props.put("apicurio.storage.sql.kind", "h2");
            if (storageDir != null) {
                props.put("apicurio.datasource.url", "jdbc:h2:file:" + workDir.resolve("registry-db").toAbsolutePath());
            }
            // A schema registry for one machine needs a couple of connections, not the default pool of 20.
            props.put("apicurio.datasource.jdbc.initial-size", "1");
            props.put("apicurio.datasource.jdbc.min-size", "1");
            props.put("apicurio.datasource.jdbc.max-size", "10");
            props.put("apicurio.import.work-dir", workDir.toString());
            props.put("apicurio.storage.snapshot.location", workDir.toString());
            props.putAll(properties);
            return props;
        }

        private void awaitReady(Process process, int port, Path logFile, long begin) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            HttpRequest ready = HttpRequest.newBuilder(URI.create("http://localhost:" + port + READY_PATH))
                    .timeout(Duration.ofSeconds(5)).GET().build();
            long deadline = begin + startTimeout.toNanos();
            String lastAnswer = "no answer yet";
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    String tail = tail(logFile);
                    if (tail.contains("already bound") || tail.contains("Address already in use")) {
                        throw new PortTakenException(tail);
                    }
                    throw new EmbeddedStartException("Schema registry exited with code " + process.exitValue()
                            + " during start-up. Last lines of its log (" + logFile + "):\n" + tail);
                }
                try {
                    HttpResponse<String> response = http.sendAsync(ready, HttpResponse.BodyHandlers.ofString())
                            .get(6, TimeUnit.SECONDS);
                    if (response.statusCode() == 200) {
                        return;
                    }
                    lastAnswer = "HTTP " + response.statusCode() + ": " + response.body();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof ConnectException)) {
                        lastAnswer = e.getCause().toString();
                    }
                } catch (TimeoutException e) {
                    lastAnswer = "no answer within 6 s";
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new EmbeddedStartException("interrupted while waiting for the schema registry", e);
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new EmbeddedStartException("interrupted while waiting for the schema registry", e);
                }
            }
            throw new EmbeddedStartException("Schema registry on port " + port + " did not become ready ("
                    + READY_PATH + ") within " + startTimeout.toSeconds() + " s; last answer: " + lastAnswer
                    + ". Last lines of its log (" + logFile + "):\n" + tail(logFile));
        }
    }

    /** The {@code java} that runs this JVM, so the child gets the same version and vendor. */
    static String javaExecutable() {
        return ProcessHandle.current().info().command()
                .filter(c -> Files.isExecutable(Paths.get(c)))
                .orElseGet(() -> Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** The last lines of a log file, or a note that it is empty or unreadable. */
    static String tail(Path logFile) {
        try {
            if (!Files.exists(logFile)) {
                return "(no log file)";
            }
            List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            if (lines.isEmpty()) {
                return "(log is empty)";
            }
            return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(could not read " + logFile + ": " + e + ")";
        }
    }

    /** The child reported that its port was taken; the builder may retry with another. */
    private static final class PortTakenException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        PortTakenException(String logTail) {
            super(logTail);
        }
    }

    /** A child's command line and the class-data archive it maps or records (null when off). */
    record Launch(List<String> command, ClassDataArchive classData) {
    }

    /**
     * Puts {@link RegistryLauncher}'s class file, alone in a small jar, where the child can load it
     * without anything else of ours: our whole jar (or a fat CLI jar) on the child's class path
     * could shadow the registry's own libraries; one class cannot. It is a jar rather than a
     * directory because class-data archives refuse class paths with non-empty directories.
     */
    static final class LauncherClassPath {

        private static final String RESOURCE = RegistryLauncher.class.getName().replace('.', '/') + ".class";

        private LauncherClassPath() {
        }

        /**
         * Installs the launcher as {@code cacheRoot/registry-launcher-<hash of the class>.jar} (once;
         * written under a temporary name and renamed, so racing processes never see half of it).
         *
         * @return the jar, or null when the cache cannot be written
         */
        static Path install(Path cacheRoot) {
            byte[] bytes = classBytes();
            Path jar = cacheRoot.resolve("registry-launcher-" + ClassDataArchive.fingerprint(HexFormat.of().formatHex(bytes))
                    + ".jar");
            if (Files.isRegularFile(jar)) {
                return jar;
            }
            try {
                Files.createDirectories(cacheRoot);
                Path temp = Files.createTempFile(cacheRoot, ".registry-launcher-", ".tmp");
                write(temp, bytes);
                try {
                    Files.move(temp, jar, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException raced) {
                    Files.deleteIfExists(temp);
                }
                return Files.isRegularFile(jar) ? jar : null;
            } catch (IOException e) {
                LOG.debug("Cache {} is not writable ({}); the registry launcher goes to its work dir", cacheRoot,
                        e.toString());
                return null;
            }
        }

        /** Installs the launcher as the jar {@code jar} and returns it. */
        static Path installInto(Path jar) {
            try {
                write(jar, classBytes());
            } catch (IOException e) {
                throw new UncheckedIOException("could not write the registry launcher " + jar, e);
            }
            return jar;
        }

        private static void write(Path jar, byte[] bytes) throws IOException {
            Files.createDirectories(jar.toAbsolutePath().getParent());
            try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
                out.putNextEntry(new JarEntry(RESOURCE));
                out.write(bytes);
                out.closeEntry();
            }
        }

        private static byte[] classBytes() {
            try (InputStream in = RegistryLauncher.class.getClassLoader().getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("class file " + RESOURCE + " not found on the class path");
                }
                return in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException("could not read " + RESOURCE, e);
            }
        }
    }
}
