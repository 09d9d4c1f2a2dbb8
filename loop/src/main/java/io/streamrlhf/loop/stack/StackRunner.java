package io.streamrlhf.loop.stack;

import io.streamrlhf.embedded.EmbeddedKafkaCluster;
import io.streamrlhf.embedded.LocalPorts;
import io.streamrlhf.embedded.PrivateFiles;
import io.streamrlhf.learner.app.InitCheckpoints;
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
import io.streamrlhf.schemas.topics.Topics;
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
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
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
 * Its own cluster of several brokers is one process per broker ({@code rlhf cluster node}, restarted like any other)
 * and one for the registry. Each tick it also answers the {@link ScaleRequest}s of {@code rlhf stack add|remove}
 * (a removal blocks the tick until the process has stopped, at most its kind's stop grace).
 */
public final class StackRunner {

    /** How often processes are checked and the state file written. */
    public static final Duration TICK = Duration.ofSeconds(1);
    /** How long the stack's cluster may take to announce itself. */
    static final Duration CLUSTER_READY_TIMEOUT = Duration.ofMinutes(3);
    private static final Pattern ANNOUNCE = Pattern.compile("^bootstrap=(\\S+) registry=(\\S+)$");
    private static final Pattern NODE_ANNOUNCE = Pattern.compile("^bootstrap=(\\S+) node=\\d+$");
    private static final Pattern REGISTRY_ANNOUNCE = Pattern.compile("^registry=(\\S+)$");
    /** A secure cluster's announcement of a user's client properties file ({@code rlhf cluster up --secure}). */
    private static final Pattern CONFIG_ANNOUNCE = Pattern.compile("^config\\.([A-Za-z0-9_-]+)=(.+)$");
    /** The kinds that make up the stack's own cluster, started before everything else. */
    private static final Set<ProcessKind> CLUSTER_KINDS = EnumSet.of(ProcessKind.CLUSTER, ProcessKind.BROKER,
            ProcessKind.REGISTRY);
    private static final Map<ProcessKind, Duration> STOP_GRACE = Map.of(ProcessKind.CLUSTER, Duration.ofSeconds(30),
            ProcessKind.BROKER, Duration.ofSeconds(30), ProcessKind.REGISTRY, Duration.ofSeconds(15),
            ProcessKind.WORKER, Duration.ofSeconds(20), ProcessKind.SCORER, Duration.ofSeconds(30),
            ProcessKind.LEARNER, Duration.ofSeconds(60), ProcessKind.RM_TRAINER, Duration.ofSeconds(10),
            ProcessKind.FEEDBACK, Duration.ofSeconds(10), ProcessKind.RATERS, Duration.ofSeconds(10),
            ProcessKind.PROMPTS, Duration.ofSeconds(10));

    private final StackOptions options;
    private final PrintWriter log;
    private final String serviceMain;
    private final Path dir;
    private final Supervisor supervisor = new Supervisor();
    private final Map<StackProcess, RestartingChildJvm> running = new LinkedHashMap<>();
    private final CountDownLatch finished = new CountDownLatch(1);
    private final long startedAt = System.currentTimeMillis();
    /** Kinds that serve /metrics and /health with --metrics-port. */
    private static final Set<ProcessKind> SERVED = EnumSet.of(ProcessKind.CLUSTER, ProcessKind.WORKER,
            ProcessKind.SCORER, ProcessKind.LEARNER, ProcessKind.RM_TRAINER, ProcessKind.FEEDBACK);
    /** The first metrics port, or -1: none served. */
    private volatile int metricsPort = -1;
    private volatile boolean aborted;
    private volatile Thread runningThread;
    private volatile String phase = "starting";
    private StackPlan plan;
    private String clusterId;
    /** The users' client properties files on a secure cluster; null on a plaintext one. */
    private StackSecurity security;
    /** The index the next instance of a scalable kind gets: indexes are not reused within a run. */
    private final Map<ProcessKind, Integer> nextInstance = new EnumMap<>(ProcessKind.class);

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
            List<StackProcess> brokerProcesses = List.of();
            StackProcess registryProcess = null;
            if (options.embeddedCluster() && options.brokers() > 1) {
                // Ports and cluster id are chosen now, so that a restarted broker rejoins the same cluster.
                StackOptions fixed = withPorts(options);
                clusterId = EmbeddedKafkaCluster.clusterIdIn(dir.resolve("cluster").resolve("kafka"), fixed.brokers());
                StackPlan early = StackPlan.of(fixed, "", "", clusterId);
                brokerProcesses = early.processes().stream().filter(p -> p.kind() == ProcessKind.BROKER).toList();
                registryProcess = early.process(ProcessKind.REGISTRY.service());
                log.printf("rlhf stack: starting %d brokers (rlhf cluster node, one process each) and the registry "
                        + "(rlhf cluster registry)...%n", brokerProcesses.size());
                log.flush();
                startTogether(brokerProcesses);
                start(registryProcess);
            } else if (options.embeddedCluster()) {
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
                String[] announced = awaitAnnounce(clusterProcess, ANNOUNCE);
                bootstrap = announced[0];
                registry = announced[1];
                if (options.secure()) {
                    security = announcedSecurity(clusterProcess);
                }
            } else if (registryProcess != null) {
                List<String> nodes = new ArrayList<>();
                for (StackProcess b : brokerProcesses) {
                    nodes.add(awaitAnnounce(b, NODE_ANNOUNCE)[0]);
                }
                bootstrap = String.join(",", nodes);
                registry = awaitAnnounce(registryProcess, REGISTRY_ANNOUNCE)[0];
            }
            bootstrap(models, withPorts(options), bootstrap, registry);
            for (StackProcess p : plan.processes()) {
                if (!CLUSTER_KINDS.contains(p.kind())) {
                    checkAborted();
                    start(p);
                }
            }
            plan.processes().stream().filter(p -> p.kind().scalable())
                    .forEach(p -> nextInstance.merge(p.kind(), 1, Integer::sum));
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
                answerRequests();
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
        if (planned.clientConfigs() != null) {
            // every file the plan's processes need, all missing ones named at once
            security = StackSecurity.inDirectory(planned.clientConfigs().toAbsolutePath().normalize(),
                    StackSecurity.usersOf(StackPlan.of(planned, bootstrap, registry).configs().keySet()));
        }
        plan = StackPlan.of(planned, bootstrap, registry, clusterId, security);
        plan.warnings().forEach(w -> log.println("rlhf stack: warning: " + w));
        log.printf("rlhf stack: bootstrap=%s registry=%s, %d partitions per topic%s%n", bootstrap, registry,
                plan.partitions(), security == null ? "" : "; secure: each process runs as its component's user, "
                        + "the stack's own admin work as admin (" + security.file(StackSecurity.ADMIN) + ")");
        log.printf("rlhf stack: feedback API on %s/api/feedback, rater page %s/rate%n",
                StackPlan.feedbackUrl(planned), StackPlan.feedbackUrl(planned));
        log.flush();
        createTopics(plan);
        if (models != null) {
            publishReference(plan);
        }
        if (models != null && plan.configs().containsKey(ProcessKind.RM_TRAINER)) {
            seedTrainer(models);
        }
        writeConfigs(plan);
    }

    /** The stack's plan, once the cluster is known (null before). */
    public StackPlan plan() {
        return plan;
    }

    /**
     * Has every service process ({@code cluster}, {@code worker}, {@code score}, {@code learn}, {@code train-rm})
     * serve /metrics and /health: with {@code port} 0 each on a free port it prints in its log
     * ({@code metrics=URL}), else on {@code port + i} for the i-th process of the plan (kept across restarts).
     * Call before {@link #run()}.
     */
    public StackRunner metricsPort(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--metrics-port " + port + " is not a TCP port (0 to 65535)");
        }
        this.metricsPort = port;
        return this;
    }

    private List<String> args(StackProcess p) {
        if (metricsPort < 0 || !SERVED.contains(p.kind())) {
            return p.args();
        }
        // The cluster starts before the plan exists; it is the plan's first process.
        int index = plan == null ? 0 : Math.max(0, plan.processes().indexOf(p));
        int port = metricsPort == 0 ? 0 : metricsPort + index;
        List<String> args = new ArrayList<>(p.args());
        args.addAll(List.of("--metrics-port", Integer.toString(port)));
        if (port > 0) {
            log.printf("rlhf stack: %s metrics=http://localhost:%d/metrics%n", p.name(), port);
            log.flush();
        }
        return args;
    }

    private void start(StackProcess p) {
        RestartingChildJvm process = restarting(p);
        synchronized (this) {
            running.put(p, process);
        }
        supervisor.start(process);
        writeStateQuietly();
    }

    /**
     * Starts the stack's brokers as one supervised component: each is restarted on its own when it dies, but they are
     * stopped all at once, as {@code EmbeddedKafkaCluster} stops its nodes: one by one, the last would wait out its
     * grace for a controller quorum that is already gone.
     */
    private void startTogether(List<StackProcess> brokers) {
        List<RestartingChildJvm> nodes = new ArrayList<>();
        for (StackProcess p : brokers) {
            RestartingChildJvm node = restarting(p);
            running.put(p, node);
            nodes.add(node);
        }
        supervisor.start(new BrokerGroup(nodes));
        writeStateQuietly();
    }

    private RestartingChildJvm restarting(StackProcess p) {
        return new RestartingChildJvm(p.name(), new ChildJvmComponent.Launch(p.heapMb(),
                p.kind() == ProcessKind.RM_TRAINER ? 10 : 0, p.kind() == ProcessKind.RM_TRAINER,
                logFile(p), serviceMain, args(p)), STOP_GRACE.get(p.kind()), p.restart());
    }

    /** Answers the {@link ScaleRequest}s written since the last tick: {@code rlhf stack add|remove}. */
    private synchronized void answerRequests() {
        for (ScaleRequest r : ScaleRequest.pending(dir)) {
            ScaleRequest.Answer answer;
            try {
                answer = r.action() == ScaleRequest.Action.ADD ? add(r.target()) : remove(r.target());
            } catch (IllegalArgumentException | LoopFailureException e) {
                answer = ScaleRequest.Answer.refused(e.getMessage());
            }
            log.println("rlhf stack: " + r.action().name().toLowerCase(java.util.Locale.ROOT) + " " + r.target()
                    + ": " + answer.message());
            log.flush();
            r.answer(dir, answer);
        }
    }

    private ScaleRequest.Answer add(String kindName) {
        ProcessKind kind = ScaleRequest.kind(kindName);
        int index = nextInstance.merge(kind, 1, Integer::sum) - 1;
        StackProcess p = plan.instance(kind, index);
        start(p);
        long count = running.keySet().stream().filter(q -> q.kind() == kind).count();
        String message = "started " + p.name() + " (pid " + running.get(p).pid() + ", log " + logFile(p) + ")";
        if (count > plan.partitions()) {
            message += "; the topics have " + plan.partitions() + " partitions for " + count + " " + kind.service()
                    + " processes, so one of them idles until another leaves";
        }
        return new ScaleRequest.Answer(true, p.name(), running.get(p).pid(), message);
    }

    private ScaleRequest.Answer remove(String name) {
        StackProcess p = running.keySet().stream().filter(q -> q.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no process named '" + name + "' in the stack; "
                        + "'rlhf stack status' lists them"));
        if (!p.kind().scalable()) {
            throw new IllegalArgumentException(name + " is a " + p.kind().service() + " process; only workers and "
                    + "scorers are removed from a running stack ('rlhf stack down' stops the whole stack)");
        }
        if (running.keySet().stream().filter(q -> q.kind() == p.kind()).count() == 1) {
            throw new IllegalArgumentException(name + " is the stack's last " + p.kind().service() + " process; add "
                    + "another before removing it");
        }
        RestartingChildJvm process = running.get(p);
        long pid = process.pid();
        // SIGTERM: it finishes or aborts its transaction and leaves its group, so the others take its partitions.
        supervisor.stop(process);
        synchronized (this) {
            running.remove(p);
        }
        return new ScaleRequest.Answer(true, name, pid, "stopped " + name + " (pid " + pid + ")");
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

    /**
     * The options with free ports for the stack's own broker and registry and its feedback server where none were
     * given, the same on every call (a restarted process finds the others where they were).
     */
    private StackOptions withPorts(StackOptions o) {
        if (fixedPorts == null) {
            boolean own = o.embeddedCluster();
            // several brokers take a run of client ports and then one of controller ports (StackPlan.controllerPort)
            int run = o.brokers() == 1 ? 1 : 2 * o.brokers();
            fixedPorts = new int[] {!own || o.kafkaPort() != 0 ? o.kafkaPort() : freeRun(run),
                    !own || o.registryPort() != 0 ? o.registryPort() : freePort(),
                    o.feedbackPort() != 0 ? o.feedbackPort() : freePort()};
        }
        return o.withPorts(fixedPorts[0], fixedPorts[1], fixedPorts[2]);
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

    /** Reads the announcement {@code pattern} matches, then {@code ready}, from a cluster process's log. */
    private String[] awaitAnnounce(StackProcess cluster, Pattern pattern) {
        Path logFile = logFile(cluster);
        long deadline = System.nanoTime() + CLUSTER_READY_TIMEOUT.toNanos();
        String[] announced = null;
        while (System.nanoTime() < deadline) {
            checkAborted();
            supervisor.check();  // the cluster's death fails the stack
            try {
                for (String line : Files.readAllLines(logFile)) {
                    Matcher m = pattern.matcher(line.trim());
                    if (m.matches()) {
                        announced = new String[m.groupCount()];
                        for (int g = 0; g < announced.length; g++) {
                            announced[g] = m.group(g + 1);
                        }
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
        throw new LoopFailureException("the stack's " + cluster.name() + " did not announce itself within "
                + CLUSTER_READY_TIMEOUT.toMinutes() + " min; see " + logFile);
    }

    /**
     * The client properties files a secure cluster announced before {@code ready} ({@code config.USER=PATH}), one for
     * every user the stack's processes run as.
     */
    private StackSecurity announcedSecurity(StackProcess cluster) {
        Map<String, Path> files = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(logFile(cluster))) {
                Matcher m = CONFIG_ANNOUNCE.matcher(line.trim());
                if (m.matches()) {
                    files.put(m.group(1), Path.of(m.group(2)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + logFile(cluster) + ": " + e.getMessage(), e);
        }
        Path clients = files.isEmpty() ? null : files.values().iterator().next().getParent();
        if (clients == null) {
            throw new LoopFailureException("the stack's secure cluster announced no client properties files "
                    + "(config.USER=PATH); see " + logFile(cluster));
        }
        return StackSecurity.inDirectory(clients, files.keySet());
    }

    /** Every topic of the catalog (idempotent), every contract registered; as admin on a secure cluster. */
    private void createTopics(StackPlan plan) {
        CatalogTopics.Builder b = CatalogTopics.on(plan.bootstrap(), plan.registry()).prefix(options.topicPrefix())
                .partitions(plan.partitions()).registerSchemas(true);
        plan.admin().forEach(b::setting);
        if (options.embeddedCluster()) {
            // as rlhf cluster up creates its own topics (the stack's may differ in partitions)
            b.replicationFactor(EmbeddedKafkaCluster.replicationFactorFor(options.brokers()))
                    .minInsyncReplicas(EmbeddedKafkaCluster.minInsyncReplicasFor(options.brokers()));
        }
        b.create();
    }

    /** The SFT policy on Kafka, where the scorers' {@code scoring.reference.checkpoint} names it (idempotent). */
    private void publishReference(StackPlan plan) {
        Map<String, Object> learner = new HashMap<>(plan.configs().get(ProcessKind.LEARNER));
        InitCheckpoints.publish(StackPlan.sftDir(dir), StackPlan.REFERENCE_POLICY, Topics.create(learner), learner);
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
            String comment = "rlhf stack: the " + kind.service() + " processes' settings (demo profile + this stack)";
            if (security != null) {
                // it holds its user's password: readable by its owner only, as the cluster's own client files
                PrivateFiles.writeProperties(p, file, comment);
                return;
            }
            try (Writer w = Files.newBufferedWriter(file)) {
                p.store(w, comment);
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

    /** The processes it runs now, as {@value StackState#FILE} lists them (pid, alive, restarts, log, group). */
    public synchronized List<StackState.Process> processes() {
        List<StackState.Process> processes = new ArrayList<>();
        running.forEach((p, process) -> processes.add(new StackState.Process(p.name(), p.kind().service(),
                process.pid(), process.alive(), process.restarts(),
                process.lastExit().isPresent() ? process.lastExit().getAsInt() : null, p.args(),
                logFile(p).toString(), p.group())));
        return processes;
    }

    /**
     * {@code rlhf stack add|remove} from within this JVM, answered at once rather than at the next tick.
     *
     * @return the answer, refused with a message naming what was wrong
     */
    public synchronized ScaleRequest.Answer scale(ScaleRequest.Action action, String target) {
        try {
            return action == ScaleRequest.Action.ADD ? add(target) : remove(target);
        } catch (IllegalArgumentException | LoopFailureException e) {
            return ScaleRequest.Answer.refused(e.getMessage());
        }
    }

    /**
     * Stops the process named {@code name}, of any kind, with SIGTERM and its kind's stop grace, and no longer
     * restarts it: how a chaos run stops the prompt feed and the raters before it drains the loop.
     *
     * @throws IllegalArgumentException when the stack runs no process of that name
     */
    public void stopProcess(String name) {
        RestartingChildJvm process;
        synchronized (this) {
            StackProcess p = running.keySet().stream().filter(q -> q.name().equals(name)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no process named '" + name + "' in the stack"));
            process = running.remove(p);
        }
        supervisor.stop(process);
    }

    private synchronized void writeState() {
        List<StackState.Process> processes = processes();
        String policy = plan == null ? null : plan.configs().get(ProcessKind.WORKER).get(WorkerConfig.POLICY_NAME);
        new StackState(ProcessHandle.current().pid(), phase, startedAt, System.currentTimeMillis(), dir.toString(),
                plan == null ? null : plan.bootstrap(), plan == null ? null : plan.registry(),
                options.topicPrefix(), policy, processes,
                security == null ? null : security.file(StackSecurity.ADMIN).toString(),
                plan == null ? null : StackPlan.feedbackUrl(plan.options())).write(dir);
    }
}
