package io.streamrlhf.cli;

import io.streamrlhf.cli.demo.DemoFlags;
import io.streamrlhf.loop.demo.DemoOptions;
import io.streamrlhf.loop.demo.DemoRunner;
import io.streamrlhf.loop.stack.StackOptions;
import io.streamrlhf.loop.stack.StackPlan;
import io.streamrlhf.loop.stack.StackProcess;
import io.streamrlhf.loop.stack.StackRunner;
import io.streamrlhf.loop.stack.StackState;
import io.streamrlhf.loop.stack.StackStatus;
import io.streamrlhf.loop.supervision.LoopFailureException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code rlhf stack up|status|down}: the loop as a stack of OS processes, one per component. */
@Command(name = "stack", mixinStandardHelpOptions = true,
        description = "The loop as a stack of supervised OS processes, each running the rlhf command a deployment "
                + "runs (worker, score, learn, train-rm --online, feedback simulate, prompts send).",
        subcommands = {StackCommand.Up.class, StackCommand.Init.class, StackCommand.Status.class,
                StackCommand.Down.class})
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
                    "The demo's model and training flags apply (--seed, --batch, --group-size, --sft-steps, --threads, "
                            + "--ppo, ...); --minutes does not: a stack runs until stopped."})
    static final class Up extends StackFlags implements Callable<Integer> {

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter err = spec.commandLine().getErr();
            StackOptions options = options(spec);
            refuseIfRunning(dir);
            DemoRunner.quietServiceLogs();
            StackRunner runner = new StackRunner(options, err, Rlhf.class.getName());
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


        @Option(names = "--dir", paramLabel = "DIR", defaultValue = "stack",
                description = "The stack's directory (default ${DEFAULT-VALUE}).")
        Path dir;

        @Option(names = "--bootstrap", paramLabel = "HOST:PORT",
                description = "An existing cluster's bootstrap servers (with --registry); default: start one.")
        String bootstrap;

        @Option(names = "--registry", paramLabel = "URL", description = "That cluster's schema registry URL.")
        String registry;

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

        @Option(names = "--raters", description = "Run simulated raters (rlhf feedback simulate) at --rater-rate.")
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
                description = "The stack's own broker's port (0: a free one).")
        int kafkaPort;

        @Option(names = "--registry-port", paramLabel = "N", defaultValue = "0",
                description = "The stack's own registry's port (0: a free one).")
        int registryPort;

        @Option(names = "--brokers", paramLabel = "N", defaultValue = "1",
                description = "Brokers of the stack's own cluster (rlhf cluster up --brokers N; default "
                        + "${DEFAULT-VALUE}): 3 gives every topic replication factor 3 and min.insync.replicas 2.")
        int brokers;

        @Mixin DemoFlags flags;

        /** The options, or a usage error naming the flag that is wrong. */
        StackOptions options(CommandSpec spec) {
            try {
                DemoOptions demo = flags.apply(DemoOptions.defaults().toBuilder()).reportDir(null).build();
                int trainers = rmTrainers != null ? rmTrainers : (model == null ? 1 : 0);
                return new StackOptions(dir, bootstrap, registry, topicPrefix, partitions, workers, scorers,
                        learners, trainers, raters ? demo.raterRate() : 0, model, reward, prompts, syntheticRate,
                        kafkaPort, registryPort, brokers, demo);
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
                    + "services run these commands."})
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
                    + "and the cluster's live brokers.")
    static final class Status implements Callable<Integer> {

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = "stack",
                description = "The stack's directory (default ${DEFAULT-VALUE}).")
        Path dir;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10",
                description = "How long to wait for the cluster (default ${DEFAULT-VALUE}).")
        int timeoutSeconds;

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            StackState state;
            try {
                state = StackState.read(dir);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
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

    /** {@code rlhf stack down}. */
    @Command(name = "down", mixinStandardHelpOptions = true,
            description = {"Stop the stack running in DIR: SIGTERM to 'rlhf stack up' (which stops its processes in "
                    + "order, the cluster last), then wait for it.",
                    "Processes of a stack that was killed outright are stopped one by one."})
    static final class Down implements Callable<Integer> {

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = "stack",
                description = "The stack's directory (default ${DEFAULT-VALUE}).")
        Path dir;

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "300",
                description = "How long to wait for the stack to stop (default ${DEFAULT-VALUE}).")
        int timeoutSeconds;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr();
            StackState state;
            try {
                state = StackState.read(dir);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
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
            // What a stack killed outright left behind: its processes, recognised by pid and command line.
            List<String> left = new ArrayList<>();
            for (StackState.Process p : state.processes()) {
                Optional<ProcessHandle> h = ProcessHandle.of(p.pid()).filter(ProcessHandle::isAlive)
                        .filter(ph -> ph.info().commandLine().orElse("").contains(Rlhf.class.getName()));
                if (h.isPresent()) {
                    h.get().destroy();
                    try {
                        h.get().onExit().get(30, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.TimeoutException e) {
                        h.get().destroyForcibly();
                    }
                    left.add(p.name() + " (pid " + p.pid() + ")");
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
