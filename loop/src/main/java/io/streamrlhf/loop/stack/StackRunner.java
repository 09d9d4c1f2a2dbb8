package io.streamrlhf.loop.stack;

import io.streamrlhf.embedded.EmbeddedKafkaCluster;
import io.streamrlhf.embedded.LocalPorts;
import io.streamrlhf.learner.rm.online.RmCheckpointStore;
import io.streamrlhf.loop.demo.StartingModels;
import io.streamrlhf.loop.process.ChildJvmComponent;
import io.streamrlhf.loop.process.RestartingChildJvm;
import io.streamrlhf.loop.supervision.LoopFailureException;
import io.streamrlhf.loop.supervision.Supervisor;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.producer.worker.WorkerConfig;
import io.streamrlhf.schemas.topics.CatalogTopics;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code rlhf stack up}: every component its own OS process, each running the {@code rlhf} command a deployment runs,
 * supervised. It bootstraps the stack (its own cluster unless given one, the starting models, the topics, one config
 * file per kind), starts the processes in order, restarts any that exits (with back-off), writes
 * {@value StackState#FILE} every {@link #TICK}, and on {@link #abort()} stops them in reverse order, the cluster last.
 */
public final class StackRunner {

    /** How often processes are checked and the state file written. */
    public static final Duration TICK = Duration.ofSeconds(1);
    /** How long the stack's cluster may take to announce itself. */
    static final Duration CLUSTER_READY_TIMEOUT = Duration.ofMinutes(3);
    private static final Pattern ANNOUNCE = Pattern.compile("^bootstrap=(\\S+) registry=(\\S+)$");
    private static final Map<ProcessKind, Duration> STOP_GRACE = Map.of(ProcessKind.CLUSTER, Duration.ofSeconds(30),
            ProcessKind.WORKER, Duration.ofSeconds(20), ProcessKind.SCORER, Duration.ofSeconds(30),
            ProcessKind.LEARNER, Duration.ofSeconds(60), ProcessKind.RM_TRAINER, Duration.ofSeconds(10),
            ProcessKind.RATERS, Duration.ofSeconds(10), ProcessKind.PROMPTS, Duration.ofSeconds(10));

    private final StackOptions options;
    private final PrintWriter log;
    private final String serviceMain;
    private final Path dir;
    private final Supervisor supervisor = new Supervisor();
    private final Map<StackProcess, RestartingChildJvm> running = new LinkedHashMap<>();
    private final CountDownLatch finished = new CountDownLatch(1);
    private final long startedAt = System.currentTimeMillis();
    private volatile boolean aborted;
    private volatile Thread runningThread;
    private volatile String phase = "starting";
    private StackPlan plan;

    /**
     * @param options     what to run
     * @param log         where people read progress (stderr)
     * @param serviceMain the main class of the {@code rlhf} command line, which every process runs
     */
    public StackRunner(StackOptions options, PrintWriter log, String serviceMain) {
        this.options = options;
        this.log = log;
        this.serviceMain = serviceMain;
        this.dir = options.dir().toAbsolutePath().normalize();
    }

    /** Asks a running {@link #run()} to stop every process, in order (from a shutdown hook). */
    public void abort() {
        aborted = true;
        Thread t = runningThread;
        if (t != null) {
            t.interrupt();
        }
    }

    /** Whether {@link #abort()} was called. */
    public boolean aborted() {
        return aborted;
    }

    /** Whether every process was started and {@link #run()} now supervises them (not starting, not stopping). */
    public boolean running() {
        return "running".equals(phase);
    }

    /** Waits until {@link #run()} has stopped everything it started; false if that took longer than {@code timeout}. */
    public boolean awaitStopped(Duration timeout) throws InterruptedException {
        return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Runs the stack until {@link #abort()}.
     *
     * @throws LoopFailureException when it cannot start, or its own cluster dies
     */
    public void run() {
        runningThread = Thread.currentThread();
        try {
            prepareDirs();
            StackProcess clusterProcess = null;
            if (options.embeddedCluster()) {
                // Its ports are chosen now, so that a restart of any process finds the same cluster.
                StackOptions fixed = withPorts(options);
                clusterProcess = StackPlan.of(fixed, "", "").process("cluster");
                log.println("rlhf stack: starting the cluster (rlhf cluster up)...");
                log.flush();
                start(clusterProcess);
            }
            String bootstrap = options.bootstrap();
            String registry = options.registry();
            StartingModels models = options.synthetic() ? prepareModels() : null;
            if (clusterProcess != null) {
                String[] announced = awaitAnnounce(clusterProcess);
                bootstrap = announced[0];
                registry = announced[1];
            }
            bootstrap(models, options.embeddedCluster() ? withPorts(options) : options, bootstrap, registry);
            for (StackProcess p : plan.processes()) {
                if (p.kind() != ProcessKind.CLUSTER) {
                    checkAborted();
                    start(p);
                }
            }
            phase = "running";
            writeState();
            log.printf("rlhf stack: %d processes running; logs in %s, state in %s. Ctrl-C or 'rlhf stack down "
                    + "--dir %s' stops them.%n", running.size(), dir.resolve("logs"), StackState.file(dir), dir);
            log.flush();
            while (!aborted) {
                try {
                    Thread.sleep(TICK.toMillis());
                } catch (InterruptedException e) {
                    break;
                }
                supervisor.check();
                writeState();
            }
        } finally {
            phase = "stopping";
            writeStateQuietly();
            log.println("rlhf stack: stopping every process (the prompts first, the cluster last)...");
            log.flush();
            supervisor.close();
            phase = "stopped";
            writeStateQuietly();
            runningThread = null;
            finished.countDown();
        }
    }

    /**
     * {@code rlhf stack init}: the bootstrap of a stack on an existing cluster, without running it: the starting
     * models, the topics and one config file per kind in the stack's directory, for processes started elsewhere (the
     * compose file's services run exactly the plan's commands).
     *
     * @return the plan whose processes would run
     */
    public StackPlan init() {
        if (options.embeddedCluster()) {
            throw new IllegalArgumentException("stack init needs an existing cluster: --bootstrap and --registry");
        }
        try {
            Files.createDirectories(dir.resolve("conf"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the stack's directory " + dir + ": " + e.getMessage(), e);
        }
        StartingModels models = options.synthetic() ? prepareModels() : null;
        bootstrap(models, options, options.bootstrap(), options.registry());
        return plan;
    }

    private void bootstrap(StartingModels models, StackOptions planned, String bootstrap, String registry) {
        plan = StackPlan.of(planned, bootstrap, registry);
        plan.warnings().forEach(w -> log.println("rlhf stack: warning: " + w));
        log.printf("rlhf stack: bootstrap=%s registry=%s, %d partitions per topic%n", bootstrap, registry,
                plan.partitions());
        log.flush();
        createTopics(plan);
        if (models != null && plan.configs().containsKey(ProcessKind.RM_TRAINER)) {
            seedTrainer(models);
        }
        writeConfigs(plan);
    }

    /** The stack's plan, once the cluster is known (null before). */
    public StackPlan plan() {
        return plan;
    }

    private void start(StackProcess p) {
        RestartingChildJvm process = new RestartingChildJvm(p.name(), new ChildJvmComponent.Launch(p.heapMb(),
                p.kind() == ProcessKind.RM_TRAINER ? 10 : 0, p.kind() == ProcessKind.RM_TRAINER,
                logFile(p), serviceMain, p.args()), STOP_GRACE.get(p.kind()), p.restart());
        running.put(p, process);
        supervisor.start(process);
        writeStateQuietly();
    }

    private Path logFile(StackProcess p) {
        return dir.resolve("logs").resolve(p.name() + ".log");
    }

    private void prepareDirs() {
        try {
            Files.createDirectories(dir.resolve("logs"));
            Files.createDirectories(dir.resolve("conf"));
            // Each run's logs start empty (restarts within a run append): the cluster's announcement is read from its.
            try (Stream<Path> logs = Files.list(dir.resolve("logs"))) {
                for (Path f : logs.toList()) {
                    Files.write(f, new byte[0]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the stack's directory " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The options with free ports for the stack's own broker and registry where none were given. */
    private StackOptions withPorts(StackOptions o) {
        if (o.kafkaPort() != 0 && o.registryPort() != 0) {
            return o;
        }
        if (fixedPorts == null) {
            fixedPorts = new int[] {o.kafkaPort() != 0 ? o.kafkaPort() : freeRun(o.brokers()),
                    o.registryPort() != 0 ? o.registryPort() : freePort()};
        }
        return new StackOptions(o.dir(), o.bootstrap(), o.registry(), o.topicPrefix(), o.partitions(), o.workers(),
                o.scorers(), o.learners(), o.rmTrainers(), o.raterRate(), o.model(), o.reward(), o.promptsFile(),
                o.syntheticRate(), fixedPorts[0], fixedPorts[1], o.brokers(), o.demo());
    }

    private int[] fixedPorts;

    /**
     * The first of {@code n} consecutive free ports (node i of the cluster listens on the first + i − 1), drawn below
     * Linux's ephemeral range (32768 and up): there, no client connection of the stack's own processes can take one
     * of them between this check and the cluster's start, as an ephemeral port next to a free one may be.
     */
    private static int freeRun(int n) {
        SplittableRandom random = new SplittableRandom();
        for (int attempt = 0; attempt < 200; attempt++) {
            int first = 20_000 + random.nextInt(12_000 - n);
            boolean free = true;
            for (int i = 0; i < n && free; i++) {
                free = LocalPorts.isFree(first + i);
            }
            if (free) {
                return first;
            }
        }
        throw new IllegalStateException("no " + n + " consecutive free ports in [20000, 32000) for the stack's brokers;"
                + " pass --kafka-port");
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("localhost", 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port: " + e.getMessage(), e);
        }
    }

    /** The starting models from the cache (trained on first use), copied into the stack's directory. */
    private StartingModels prepareModels() {
        ModelRuntime.init(options.demo().threads());
        StartingModels models = StartingModels.prepare(options.demo(), log);
        copyCheckpoint(models.sftDir(), StackPlan.sftDir(dir));
        for (int m = 0; m < models.rmMemberDirs().size(); m++) {
            copyCheckpoint(models.rmMemberDirs().get(m), StackPlan.rmMemberDir(dir, m));
        }
        return models;
    }

    private static void copyCheckpoint(Path from, Path to) {
        try {
            if (Files.isDirectory(to)) {
                try {
                    CheckpointStore.verify(to);
                    return;
                } catch (RuntimeException e) {
                    deleteRecursively(to);  // half-copied: again
                }
            }
            Files.createDirectories(to);
            try (Stream<Path> files = Files.walk(from)) {
                for (Path f : files.toList()) {
                    Path target = to.resolve(from.relativize(f).toString());
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(f, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + from + " to " + to + ": " + e.getMessage(), e);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Reads {@code bootstrap=B registry=R} and {@code ready} from the cluster's log. */
    private String[] awaitAnnounce(StackProcess cluster) {
        Path logFile = logFile(cluster);
        long deadline = System.nanoTime() + CLUSTER_READY_TIMEOUT.toNanos();
        String[] announced = null;
        while (System.nanoTime() < deadline) {
            checkAborted();
            supervisor.check();  // the cluster's death fails the stack
            try {
                for (String line : Files.readAllLines(logFile)) {
                    Matcher m = ANNOUNCE.matcher(line.trim());
                    if (m.matches()) {
                        announced = new String[] {m.group(1), m.group(2)};
                    } else if (announced != null && line.trim().equals("ready")) {
                        return announced;
                    }
                }
            } catch (IOException | UncheckedIOException e) {
                // not written yet
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LoopFailureException("interrupted while waiting for the cluster");
            }
        }
        throw new LoopFailureException("the stack's cluster did not announce itself within "
                + CLUSTER_READY_TIMEOUT.toMinutes() + " min; see " + logFile);
    }

    /** Every topic of the catalog (idempotent), every contract registered. */
    private void createTopics(StackPlan plan) {
        CatalogTopics.Builder b = CatalogTopics.on(plan.bootstrap(), plan.registry()).prefix(options.topicPrefix())
                .partitions(plan.partitions()).registerSchemas(true);
        if (options.embeddedCluster()) {
            // as rlhf cluster up creates its own topics (the stack's may differ in partitions)
            b.replicationFactor(EmbeddedKafkaCluster.replicationFactorFor(options.brokers()))
                    .minInsyncReplicas(EmbeddedKafkaCluster.minInsyncReplicasFor(options.brokers()));
        }
        b.create();
    }

    /** The online trainer continues the initial ensemble: its version 1, unless it has checkpoints already. */
    private void seedTrainer(StartingModels models) {
        Path rmDir = Path.of(plan.configs().get(ProcessKind.RM_TRAINER).get("rm.checkpoint.dir"));
        if (new RmCheckpointStore(rmDir).loadNewest().isEmpty()) {
            models.seedOnlineTrainer(rmDir);
        }
    }

    private void writeConfigs(StackPlan plan) {
        plan.configs().forEach((kind, values) -> {
            Properties p = new Properties();
            p.putAll(values);
            Path file = StackPlan.configFile(dir, kind);
            try (Writer w = Files.newBufferedWriter(file)) {
                p.store(w, "rlhf stack: the " + kind.service() + " processes' settings (demo profile + this stack)");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
            }
        });
    }

    private void checkAborted() {
        if (aborted) {
            throw new LoopFailureException("interrupted");
        }
    }

    private void writeStateQuietly() {
        try {
            writeState();
        } catch (RuntimeException e) {
            log.println("rlhf stack: " + e.getMessage());
            log.flush();
        }
    }

    private synchronized void writeState() {
        List<StackState.Process> processes = new ArrayList<>();
        running.forEach((p, process) -> processes.add(new StackState.Process(p.name(), p.kind().service(),
                process.pid(), process.alive(), process.restarts(),
                process.lastExit().isPresent() ? process.lastExit().getAsInt() : null, p.args(),
                logFile(p).toString(), p.group())));
        String policy = plan == null ? null : plan.configs().get(ProcessKind.WORKER).get(WorkerConfig.POLICY_NAME);
        new StackState(ProcessHandle.current().pid(), phase, startedAt, System.currentTimeMillis(), dir.toString(),
                plan == null ? null : plan.bootstrap(), plan == null ? null : plan.registry(),
                options.topicPrefix(), policy, processes).write(dir);
    }
}
