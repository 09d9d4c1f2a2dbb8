package io.streamrlhf.cli;

import io.streamrlhf.cli.demo.DemoFlags;
import io.streamrlhf.loop.demo.DemoOptions;
import io.streamrlhf.loop.demo.DemoRunner;
import io.streamrlhf.loop.stack.StackOptions;
import io.streamrlhf.loop.stack.StackPlan;
import io.streamrlhf.loop.stack.StackProcess;
import io.streamrlhf.loop.stack.ProcessKind;
import io.streamrlhf.loop.stack.ScaleRequest;
import io.streamrlhf.loop.stack.StackRunner;
import io.streamrlhf.loop.stack.StackSecurity;
import io.streamrlhf.loop.stack.StackState;
import io.streamrlhf.loop.stack.StackStatus;
import io.streamrlhf.loop.supervision.LoopFailureException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code rlhf stack up|init|status|add|remove|down}: the loop as a stack of OS processes, one per component. */
@Command(name = "stack", mixinStandardHelpOptions = true,
        description = "The loop as a stack of supervised OS processes, each running the rlhf command a deployment "
                + "runs (worker, score, learn, train-rm --online, feedback serve, feedback simulate, prompts send).",
        subcommands = {StackCommand.Up.class, StackCommand.Init.class, StackCommand.Status.class,
                StackCommand.Add.class, StackCommand.Remove.class, StackCommand.Down.class})
final class StackCommand implements Runnable {

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code rlhf stack up}. */
    @Command(name = "up", mixinStandardHelpOptions = true,
            description = {"Start the stack and run it in the foreground until Ctrl-C, SIGTERM or 'rlhf stack down': "
                    + "its own cluster (rlhf cluster up) unless --bootstrap/--registry name one, the starting policy "
                    + "and reward models (cached, as rlhf demo makes them) or --model, the topics, one config file per "
                    + "kind in DIR/conf (the demo profile plus this stack's paths), then each process with its log in "
                    + "DIR/logs. A process that exits is restarted with exponential back-off (1 s doubling to 30 s); "
                    + "DIR/stack.json holds pids, commands and restarts ('rlhf stack status').",
                    "The feedback server (rlhf feedback serve) listens on loopback at --feedback-port; with --raters "
                            + "the simulated raters post their labels to it. Its URL is in the log and in "
                            + "DIR/stack.json (feedback_url).",
                    "Secure: --secure starts the stack's own cluster with TLS, SCRAM users and ACLs (rlhf cluster up "
                            + "--secure, one broker); on an existing secure cluster give --bootstrap, --registry and "
                            + "--config DIR, DIR holding the client properties files rlhf cluster up --secure writes "
                            + "(worker, scorer, learner, rm-trainer, feedback, evaluator and admin .properties). Each "
                            + "process's config file then holds its own user's credentials only (DIR/conf, "
                            + "readable by the owner only); topics and 'stack status' run as admin.",
                    "The demo's model and training flags apply (--seed, --batch, --group-size, --sft-steps, --threads, "
                            + "--ppo, ...); --minutes does not: a stack runs until stopped."})
    static final class Up extends StackFlags implements Callable<Integer> {

        @Option(names = "--metrics-port", paramLabel = "PORT",
                description = "Have every service process (cluster, worker, score, learn, train-rm) serve Prometheus "
                        + "/metrics, /health/live and /health/ready: on PORT, PORT+1, ... in the plan's order, each "
                        + "printed as 'NAME metrics=URL'; 0: each on a free port, printed as metrics=URL in its log.")
        Integer metricsPort;

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter err = spec.commandLine().getErr();
            StackOptions options = options(spec);
            refuseIfRunning(stackDir.dir);
            DemoRunner.quietServiceLogs();
            StackRunner runner = new StackRunner(options, err, Rlhf.class.getName());
            if (metricsPort != null) {
                try {
                    runner.metricsPort(metricsPort);
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(spec.commandLine(), e.getMessage());
                }
            }
            Thread hook = new Thread(() -> {
                runner.abort();
                try {
                    runner.awaitStopped(Duration.ofMinutes(5));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "rlhf-stack-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                runner.run();
                err.println("rlhf stack: stopped.");
                err.flush();
                return 0;
            } catch (LoopFailureException e) {
                if (runner.aborted()) {
                    err.println("rlhf stack: stopped.");
                    err.flush();
                    return 0;
                }
                throw e;
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // already shutting down: the hook is running and waits for us
                }
            }
        }

        private void refuseIfRunning(Path dir) {
            if (StackState.file(dir).toFile().exists()) {
                StackState state;
                try {
                    state = StackState.read(dir);
                } catch (IllegalArgumentException e) {
                    return;  // unreadable: a new stack overwrites it
                }
                if (state.stackAlive() && state.stackPid() != ProcessHandle.current().pid()) {
                    throw new ParameterException(spec.commandLine(), "a stack already runs in " + dir + " (pid "
                            + state.stackPid() + "); 'rlhf stack down --dir " + dir + "' stops it");
                }
            }
        }
    }

    /** What {@code stack up} and {@code stack init} are given: the stack's processes, cluster, model and prompts. */
    abstract static class StackFlags {


        @Mixin
        StackDir stackDir;

        @Option(names = "--bootstrap", paramLabel = "HOST:PORT",
                description = "An existing cluster's bootstrap servers (with --registry); default: start one.")
        String bootstrap;

        @Option(names = "--registry", paramLabel = "URL", description = "That cluster's schema registry URL.")
        String registry;

        @Option(names = "--secure",
                description = "Start the stack's own cluster secure (rlhf cluster up --secure: TLS, SASL/SCRAM-SHA-512, "
                        + "a user per component, least-privilege ACLs; one broker) and run each process as its "
                        + "component's user.")
        boolean secure;

        @Option(names = "--config", paramLabel = "DIR",
                description = "With --bootstrap and --registry, an existing secure cluster: the directory of its "
                        + "client properties files, one <user>.properties per user as 'rlhf cluster up --secure' "
                        + "writes them in DATA/secure/clients (worker, scorer, learner, rm-trainer, feedback, "
                        + "evaluator, admin).")
        Path clientConfigs;

        @Option(names = "--feedback-port", paramLabel = "N", defaultValue = "0",
                description = "The feedback server's port on loopback (0: a free one; 'stack init' plans 8088).")
        int feedbackPort;

        @Option(names = "--topic-prefix", paramLabel = "PREFIX", defaultValue = "rlhf.",
                description = "Prefix of every topic name (default ${DEFAULT-VALUE}).")
        String topicPrefix;

        @Option(names = "--partitions", paramLabel = "N", defaultValue = "0",
                description = "Partitions per topic; 0: the profile's, or one per worker and scorer if more.")
        int partitions;

        @Option(names = "--workers", paramLabel = "N", defaultValue = "1", description = "Policy worker processes.")
        int workers;

        @Option(names = "--scorers", paramLabel = "N", defaultValue = "1", description = "Reward-stream processes.")
        int scorers;

        @Option(names = "--learners", paramLabel = "N", defaultValue = "1",
                description = "Learner processes: one active (it holds the lease on learner.lease), the rest "
                        + "standbys that take over when it dies or stalls.")
        int learners;

        @Option(names = "--rm-trainers", paramLabel = "N",
                description = "Online reward-model trainers, 0 or 1 (default 1; 0 with --model).")
        Integer rmTrainers;

        @Option(names = "--raters", description = "Run simulated raters (rlhf feedback simulate) at --rater-rate, "
                + "posting their labels to the stack's feedback server.")
        boolean raters;

        @Option(names = "--model", paramLabel = "DIR",
                description = "Train a Hugging Face causal-LM folder instead of the synthetic SFT policy (needs "
                        + "--reward and --prompts).")
        Path model;

        @Option(names = "--reward", paramLabel = "SPEC", description = "With --model: the reward sources (hf:DIR, ...).")
        String reward;

        @Option(names = "--prompts", paramLabel = "FILE", description = "Send this JSONL prompt file once.")
        Path prompts;

        @Option(names = "--synthetic-prompts", paramLabel = "PER_S", defaultValue = "0",
                description = "Feed synthetic prompts at this rate (0: none).")
        double syntheticRate;

        @Option(names = "--kafka-port", paramLabel = "N", defaultValue = "0",
                description = "The stack's own (first) broker's port (0: free ones); with N brokers, N client "
                        + "ports from it, then N controller ports.")
        int kafkaPort;

        @Option(names = "--registry-port", paramLabel = "N", defaultValue = "0",
                description = "The stack's own registry's port (0: a free one).")
        int registryPort;

        @Option(names = "--brokers", paramLabel = "N", defaultValue = "1",
                description = "Brokers of the stack's own cluster (default ${DEFAULT-VALUE}: rlhf cluster up). More "
                        + "run as processes of their own (rlhf cluster node, each restarted when it dies, plus rlhf "
                        + "cluster registry); 3 gives every topic replication factor 3 and min.insync.replicas 2.")
        int brokers;

        @Mixin DemoFlags flags;

        /** The options, or a usage error naming the flag that is wrong. */
        StackOptions options(CommandSpec spec) {
            try {
                DemoOptions demo = flags.apply(DemoOptions.defaults().toBuilder()).reportDir(null).build();
                int trainers = rmTrainers != null ? rmTrainers : (model == null ? 1 : 0);
                StackOptions options = new StackOptions(stackDir.dir, bootstrap, registry, topicPrefix, partitions,
                        workers, scorers, learners, trainers, raters ? demo.raterRate() : 0, model, reward, prompts,
                        syntheticRate, kafkaPort, registryPort, brokers, demo, secure, clientConfigs, feedbackPort);
                if (clientConfigs != null) {
                    // every client file the stack's processes need, and their topic prefix, before anything starts
                    StackSecurity security = StackSecurity.inDirectory(clientConfigs,
                            StackSecurity.usersOf(StackPlan.of(options, bootstrap, registry).configs().keySet()));
                    StackPlan.of(options, bootstrap, registry, null, security);
                }
                return options;
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
        }
    }

    /** {@code rlhf stack init}. */
    @Command(name = "init", mixinStandardHelpOptions = true,
            description = {"Bootstrap a stack on an existing cluster (--bootstrap and --registry) without running it: "
                    + "the starting models in DIR/models, the topics, one config file per kind in DIR/conf; then print "
                    + "each process's rlhf command. What compose/docker-compose.yml's init service runs; its other "
                    + "services run these commands.",
                    "On a secure cluster add --config DIR (its client properties files, one per user): each kind's "
                            + "config file then holds its own user's credentials, and the topics are created as "
                            + "admin."})
    static final class Init extends StackFlags implements Callable<Integer> {

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            StackOptions options = options(spec);
            if (options.embeddedCluster()) {
                throw new ParameterException(spec.commandLine(), "stack init needs an existing cluster: --bootstrap "
                        + "and --registry ('rlhf stack up' starts its own)");
            }
            DemoRunner.quietServiceLogs();
            StackPlan plan = new StackRunner(options, spec.commandLine().getErr(), Rlhf.class.getName()).init();
            PrintWriter out = spec.commandLine().getOut();
            for (StackProcess p : plan.processes()) {
                out.println(p.name() + ": rlhf " + String.join(" ", p.args()));
            }
            out.flush();
            return 0;
        }
    }

    /** {@code rlhf stack status}. */
    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Each process of the stack: pid, alive, restarts, its consumer group's lag, the policy "
                    + "version it serves or publishes (policy.versions), the reward-model version it scores with "
                    + "(rm.versions) and, for learners, whether it is the active one (holds the lease) or stands by; "
                    + "and the cluster's live brokers. On a secure cluster it reads as admin, with the client file "
                    + "DIR/stack.json names.")
    static final class Status implements Callable<Integer> {

        @Mixin
        StackDir stackDir;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10",
                description = "How long to wait for the cluster (default ${DEFAULT-VALUE}).")
        int timeoutSeconds;

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            StackState state = stackDir.state(spec);
            StackStatus status = StackStatus.of(state, Duration.ofSeconds(timeoutSeconds));
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(status.toJson());
                out.flush();
            } else {
                status.print(out);
            }
            return state.stackAlive() ? 0 : 3;
        }
    }

    /** {@code rlhf stack add}. */
    @Command(name = "add", mixinStandardHelpOptions = true,
            description = {"Start one more worker or scorer on the stack running in DIR, and print its name and pid "
                    + "once it was started. It runs the command the stack's other processes of that kind run, with "
                    + "the next free instance number (its own worker id or state directory); it joins its kind's "
                    + "consumer group and takes a share of the partitions. A topic's partitions are the most "
                    + "processes of a kind that can work: the stack says so when there are more.",
                    "Example: rlhf stack add worker --dir stack"})
    static final class Add implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "KIND", description = "worker or scorer.")
        String kind;

        @Mixin
        StackDir stackDir;

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
                description = "How long to wait for the stack's answer (default ${DEFAULT-VALUE}).")
        int timeoutSeconds;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            try {
                ScaleRequest.kind(kind);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            return scale(spec, stackDir, ScaleRequest.Action.ADD, kind, timeoutSeconds);
        }
    }

    /** {@code rlhf stack remove}. */
    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = {"Stop one worker or scorer of the stack running in DIR, by name ('rlhf stack status' lists "
                    + "them), and print once it has exited. It gets SIGTERM: it finishes or aborts its transaction "
                    + "and leaves its group, whose other members take over its partitions from the last committed "
                    + "offsets, so no prompt is lost or generated twice. The stack then no longer restarts or lists "
                    + "it. The last process of a kind cannot be removed.",
                    "Example: rlhf stack remove worker-2 --dir stack"})
    static final class Remove implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "NAME", description = "The process, e.g. worker-2 or score-1.")
        String name;

        @Mixin
        StackDir stackDir;

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "90",
                description = "How long to wait for the process to stop (default ${DEFAULT-VALUE}).")
        int timeoutSeconds;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return scale(spec, stackDir, ScaleRequest.Action.REMOVE, name, timeoutSeconds);
        }
    }

    /** The {@code --dir} every stack command takes, and the state the running stack keeps there. */
    static final class StackDir {
        @Option(names = "--dir", paramLabel = "DIR", defaultValue = "stack",
                description = "The stack's directory (default ${DEFAULT-VALUE}).")
        Path dir;

        /** The stack's state file in {@link #dir}; a missing or unreadable one is the user's error, named. */
        StackState state(CommandSpec spec) {
            try {
                return StackState.read(dir);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
        }
    }

    /** Sends a request to the running stack and prints its answer: 0 when done, 1 when refused. */
    private static int scale(CommandSpec spec, StackDir stackDir, ScaleRequest.Action action, String target,
                             int timeoutSeconds) throws InterruptedException {
        StackState state = stackDir.state(spec);
        Path dir = stackDir.dir;
        if (!state.stackAlive() || !"running".equals(state.phase())) {
            throw new ParameterException(spec.commandLine(), "the stack in " + dir + " is not running (pid "
                    + state.stackPid() + ", " + (state.stackAlive() ? state.phase() : "gone") + ")");
        }
        if (timeoutSeconds < 1) {
            throw new ParameterException(spec.commandLine(), "--timeout must be >= 1, got " + timeoutSeconds);
        }
        ScaleRequest.Answer answer = ScaleRequest.submit(dir, action, target, Duration.ofSeconds(timeoutSeconds));
        String verb = action == ScaleRequest.Action.ADD ? "add" : "remove";
        if (answer.ok()) {
            spec.commandLine().getOut().println(answer.name() + " " + answer.pid());
            spec.commandLine().getOut().flush();
            spec.commandLine().getErr().println("rlhf stack " + verb + ": " + answer.message());
            spec.commandLine().getErr().flush();
            return 0;
        }
        spec.commandLine().getErr().println("rlhf stack " + verb + " " + target + ": refused: " + answer.message());
        spec.commandLine().getErr().flush();
        return 1;
    }

    /** {@code rlhf stack down}. */
    @Command(name = "down", mixinStandardHelpOptions = true,
            description = {"Stop the stack running in DIR: SIGTERM to 'rlhf stack up' (which stops its processes in "
                    + "order, the cluster last), then wait for it.",
                    "Processes a stack killed outright left behind are stopped: its components, then its cluster, each "
                            + "group SIGTERM together, SIGKILL after 30 s."})
    static final class Down implements Callable<Integer> {

        @Mixin
        StackDir stackDir;

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "300",
                description = "How long to wait for the stack to stop (default ${DEFAULT-VALUE}).")
        int timeoutSeconds;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr();
            StackState state = stackDir.state(spec);
            Optional<ProcessHandle> stack = ProcessHandle.of(state.stackPid()).filter(ProcessHandle::isAlive);
            if (stack.isPresent()) {
                err.printf("rlhf stack down: stopping the stack (pid %d)...%n", state.stackPid());
                err.flush();
                stack.get().destroy();
                try {
                    stack.get().onExit().get(timeoutSeconds, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    err.printf("rlhf stack down: the stack (pid %d) did not stop within %d s%n", state.stackPid(),
                            timeoutSeconds);
                    return 1;
                }
            } else {
                err.println("rlhf stack down: the stack (pid " + state.stackPid() + ") does not run");
            }
            // What a stack killed outright left behind: its processes, recognised by pid and command line. The
            // components first, then the cluster's processes (they serve the components' last commits); each group
            // gets SIGTERM at once before any is waited for: brokers stopped one by one would wait for a quorum
            // already gone.
            List<String> left = new ArrayList<>();
            Set<String> clusterKinds = Set.of(ProcessKind.CLUSTER.service(), ProcessKind.BROKER.service(),
                    ProcessKind.REGISTRY.service());
            for (boolean cluster : new boolean[] {false, true}) {
                List<ProcessHandle> stopping = new ArrayList<>();
                for (StackState.Process p : state.processes()) {
                    if (clusterKinds.contains(p.kind()) != cluster) {
                        continue;
                    }
                    Optional<ProcessHandle> h = ProcessHandle.of(p.pid()).filter(ProcessHandle::isAlive)
                            .filter(ph -> ph.info().commandLine().orElse("").contains(Rlhf.class.getName()));
                    if (h.isPresent()) {
                        h.get().destroy();
                        stopping.add(h.get());
                        left.add(p.name() + " (pid " + p.pid() + ")");
                    }
                }
                for (ProcessHandle h : stopping) {
                    try {
                        h.onExit().get(30, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.TimeoutException e) {
                        h.destroyForcibly();
                    }
                }
            }
            if (!left.isEmpty()) {
                err.println("rlhf stack down: stopped what the stack left running: " + String.join(", ", left));
            }
            err.println("rlhf stack down: stopped.");
            err.flush();
            return 0;
        }
    }
}
