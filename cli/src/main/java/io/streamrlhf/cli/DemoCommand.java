package io.streamrlhf.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.cli.config.MetricsOptions;
import io.streamrlhf.cli.demo.DemoFlags;
import io.streamrlhf.loop.demo.DemoOptions;
import io.streamrlhf.loop.demo.DemoProfile;
import io.streamrlhf.loop.demo.DemoResult;
import io.streamrlhf.loop.demo.DemoRunner;
import io.streamrlhf.loop.demo.ModelLoop;
import io.streamrlhf.loop.demo.VerifiableLoop;
import io.streamrlhf.loop.demo.VerifiableResult;
import io.streamrlhf.loop.stack.StackDemo;
import io.streamrlhf.loop.stack.StackOptions;
import io.streamrlhf.loop.supervision.LoopFailureException;
import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.ops.ServiceMeters;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf demo}: the whole loop on the embedded single-machine default (see {@link DemoRunner}). Exit status 0
 * when the run completed, 1 when a component failed (the message names it), 130 when interrupted.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run the whole RLHF loop on the embedded single-machine default: Kafka broker and schema "
                + "registry, SFT policy and initial reward-model ensemble (cached after the first run), then policy "
                + "workers, the reward stream, the PPO learner, the online reward-model trainer and simulated raters "
                + "together, with live progress.",
                "At the end: a summary comparing the hidden gold reward of the SFT policy, best-of-8 reranking of its "
                        + "samples by the reward-model ensemble, and the final policy; and an HTML report with charts.",
                "The demo always starts its own cluster (plaintext, or with --secure TLS, SASL/SCRAM-SHA-512 and "
                        + "least-privilege ACLs, each component as its own user); it takes no --config. To run the "
                        + "loop on an existing cluster, run its components as services ('rlhf stack up --bootstrap "
                        + "HOST:PORT --registry URL', or each command with its own --config FILE; docs/demo.md)."})
public final class DemoCommand implements Callable<Integer> {

    /** Synthetic prompts per second of {@code --processes}: its feed is paced by rate, not by the learner's backlog. */
    static final double PROMPT_RATE = 2;

    /** Exit status when interrupted (Ctrl-C), as shells report SIGINT. */
    static final int INTERRUPTED = 130;

    @Spec CommandSpec spec;

    @Mixin DemoFlags flags;

    /** One endpoint for every component of the single-JVM loop (a component label tells them apart). */
    @Mixin MetricsOptions metrics;

    @Option(names = "--report", paramLabel = "DIR", defaultValue = "demo-report",
            description = "Directory of the HTML report and charts. Default: ${DEFAULT-VALUE}.")
    Path report;

    @Option(names = "--no-report", description = "Write no report.")
    boolean noReport;

    @Option(names = "--json", description = "Print the summary as one JSON line, the last line of output.")
    boolean json;

    @Option(names = "--lockstep",
            description = "Generation waits for each policy update (the synchronous loop streaming replaces).")
    boolean lockstep;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Run the loop on your own model instead of the synthetic world: a Hugging Face causal-LM "
                    + "folder (GPT-2, Llama, Qwen2, Mistral; config.json, safetensors, tokenizer.json), trained with a "
                    + "value head. Needs --prompts and --reward; no gold reward, baseline or simulated raters.")
    Path model;

    @Option(names = "--prompts", paramLabel = "FILE",
            description = "With --model: the prompts, JSONL as 'rlhf prompts send --file' reads them, fed in a loop.")
    Path prompts;

    @Option(names = "--reward", paramLabel = "SPEC",
            description = "With --model: the reward sources, comma-separated, e.g. hf:DIR (a Hugging Face "
                    + "sequence-classification folder), rule:length, judge:URL (docs/reward-stream.md).")
    String reward;

    @Option(names = "--processes",
            description = {"Run the demo as a stack (rlhf stack up): its own cluster, one learner, scorer, worker, "
                    + "online RM trainer, simulated raters and synthetic prompts at " + PROMPT_RATE + "/s, each an OS "
                    + "process of its own, in DIR/stack of --report (a temporary directory with --no-report), for "
                    + "--minutes; then a summary read from the topics: versions published, generations scored, the "
                    + "proxy reward of each version."})
    boolean processes;

    @Option(names = "--task", paramLabel = "NAME", defaultValue = "preference",
            description = {"preference (default): the loop above, on reward models learnt from simulated raters. "
                    + "verifiable: the synthetic world's sentiment-count task (each prompt lists three adjectives; "
                    + "the answer, good, bad or plain, says whether the positive or the negative ones win), scored "
                    + "by the verifier each prompt names against its reference answer and trained with GRPO; the "
                    + "summary shows the pass rate of the SFT policy, of best-of-8 by the verifier and of the final "
                    + "policy, and --json ends with {\"sft_pass\", \"bon8_pass\", \"final_pass\", \"wall_s\"}.",
                    "Its defaults: --minutes 2, --estimator grpo, --beta 0.01, --lr 5e-4, --batch 128, "
                            + "--sft-steps 100, --max-new-tokens 4, --aggregation mean (other flags as above); about 3 "
                            + "minutes in all on two CPU cores, SFT included (docs/demo.md)."})
    String task;

    @Option(names = "--secure",
            description = {"Start the demo's cluster as 'rlhf cluster up --secure' does: TLS and SASL/SCRAM-SHA-512 "
                    + "listeners only, a user per component and Kafka's StandardAuthorizer with least-privilege ACLs "
                    + "(docs/security.md). Every part of the loop connects as its own component: the reward stream "
                    + "as scorer, the learner as learner, the workers as worker, the reward-model trainer's process "
                    + "as rm-trainer, the simulated raters as feedback, the prompt feeder and the monitor as "
                    + "evaluator; topics, schemas and ACLs are made as admin. The CA, certificate and passwords are "
                    + "made for the run and deleted with it. Works with --task verifiable and --model, and "
                    + "with --processes (the stack on its own secure cluster, 'rlhf stack up --secure', each "
                    + "process as its component's user)."})
    boolean secure;

    /**
     * Refused: the demo makes its own cluster, topics and ACLs, and runs seven principals in one JVM (see
     * {@link #refuseConfig()}).
     */
    @Option(names = "--config", paramLabel = "FILE", hidden = true)
    Path config;

    @Option(names = "--print-profile",
            description = "Print the demo profile and exit: the tuned settings of every component, a properties file "
                    + "that 'rlhf learn|score|worker|train-rm --config FILE' accept as it is.")
    boolean printProfile;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (printProfile) {
            out.print(DemoProfile.demo().text());
            out.flush();
            return 0;
        }
        if (config != null) {
            refuseConfig();
        }
        boolean verifiable = switch (task) {
            case "preference" -> false;
            case "verifiable" -> true;
            default -> throw new ParameterException(spec.commandLine(), "--task must be preference or verifiable, got "
                    + task);
        };
        DemoOptions options;
        try {
            DemoOptions defaults = verifiable ? DemoOptions.verifiableDefaults() : DemoOptions.defaults();
            options = flags.apply(defaults.toBuilder())
                    .reportDir(noReport ? null : report).lockstep(lockstep).build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (verifiable) {
            if (processes || model != null || prompts != null || reward != null) {
                throw new ParameterException(spec.commandLine(), "--task verifiable runs the synthetic world's "
                        + "verifiable task in this JVM; --processes, --model, --prompts and --reward go without it");
            }
            return runVerifiable(options, out, err);
        }
        if (processes) {
            if (model != null || prompts != null || reward != null || lockstep) {
                throw new ParameterException(spec.commandLine(), "--processes runs the synthetic demo; --model, "
                        + "--prompts, --reward and --lockstep go without it ('rlhf stack up --model DIR' runs a model "
                        + "as processes)");
            }
            return runAsStack(options, out, err);
        }
        if (model != null || prompts != null || reward != null) {
            return runOnModel(options, out, err);
        }
        DemoRunner.quietServiceLogs();
        ServiceMeters meters = ServiceMeters.create("demo");
        HealthChecks health = new HealthChecks();
        DemoRunner runner = new DemoRunner(options, err, System.console() != null, Rlhf.class.getName())
                .secure(secure);
        if (metrics.port().isPresent()) {
            runner.observe(meters, health);  // without an endpoint the components keep their private meters
        }
        MetricsOptions.Serving endpoint = metrics.serve(meters, health, err);
        Thread hook = stopOnShutdown(runner::abort, runner::awaitStopped, "rlhf-demo-shutdown");
        try {
            DemoResult result = runner.run();
            result.printSummary(out);
            if (json) {
                out.println(result.toJson());
            }
            out.flush();
            return runner.aborted() ? INTERRUPTED : 0;
        } catch (LoopFailureException e) {
            if (runner.aborted()) {
                err.println("rlhf demo: interrupted; every component was stopped.");
                err.flush();
                return INTERRUPTED;
            }
            throw e;
        } finally {
            endpoint.close();
            meters.close();
            removeQuietly(hook);
        }
    }

    /** {@code --task verifiable}: GRPO on the verifier's reward ({@link VerifiableLoop}); the summary goes to --report. */
    private Integer runVerifiable(DemoOptions options, PrintWriter out, PrintWriter err) {
        DemoRunner.quietServiceLogs();
        VerifiableLoop loop = new VerifiableLoop(options, err).secure(secure);
        Thread hook = stopOnShutdown(loop::abort, loop::awaitStopped, "rlhf-demo-verifiable-shutdown");
        try {
            VerifiableResult result = loop.run();
            result.printSummary(out);
            if (!noReport) {
                Files.createDirectories(report);
                Files.writeString(report.resolve("summary.json"), result.toJson() + "\n");
            }
            if (json) {
                out.println(result.toJson());
            }
            out.flush();
            return loop.aborted() ? INTERRUPTED : 0;
        } catch (LoopFailureException e) {
            if (loop.aborted()) {
                err.println("rlhf demo: interrupted; every component was stopped.");
                err.flush();
                return INTERRUPTED;
            }
            throw e;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            removeQuietly(hook);
        }
    }

    /** {@code --processes}: the demo as a stack of processes ({@link StackDemo}). */
    private Integer runAsStack(DemoOptions options, PrintWriter out, PrintWriter err) {
        Path dir;
        try {
            dir = noReport ? Files.createTempDirectory("rlhf-demo-stack") : report.resolve("stack");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        StackOptions stack;
        try {
            stack = new StackOptions(dir, null, null, "rlhf.", 0, 1, 1, 1, 1, options.raterRate(), null, null, null,
                    PROMPT_RATE, 0, 0, 1, options.toBuilder().reportDir(null).build(), secure, null, 0);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        DemoRunner.quietServiceLogs();
        StackDemo demo = new StackDemo(stack, err, Rlhf.class.getName());
        Thread hook = new Thread(() -> {
            demo.abort();
            try {
                demo.awaitStopped(Duration.ofMinutes(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "rlhf-demo-stack-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            ObjectNode summary = demo.run();
            out.printf(Locale.ROOT, "Policy versions published: %d in %.0f s; generations scored: %d; proxy reward of "
                            + "the first and last versions' generations: %s -> %s%nThe stack's logs and checkpoints: "
                            + "%s%n", summary.get("versions_published").asLong(), summary.get("seconds").asDouble(),
                    summary.get("scored").asLong(), summary.path("first_version_proxy").asText("-"),
                    summary.path("final_proxy").asText("-"), dir.toAbsolutePath());
            if (!noReport) {
                Files.writeString(report.resolve("summary.json"), summary.toPrettyString() + "\n");
            }
            if (json) {
                out.println(summary);
            }
            out.flush();
            return 0;
        } catch (LoopFailureException e) {
            if (demo.aborted()) {
                err.println("rlhf demo: interrupted; every process was stopped.");
                err.flush();
                return INTERRUPTED;
            }
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return INTERRUPTED;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            removeQuietly(hook);
        }
    }

    /** {@code --model}: the loop on the user's folder ({@link ModelLoop}); the summary goes to --report. */
    private Integer runOnModel(DemoOptions options, PrintWriter out, PrintWriter err) {
        if (model == null || prompts == null || reward == null) {
            throw new ParameterException(spec.commandLine(), "--model, --prompts and --reward go together: the model "
                    + "to train, the prompts to feed it and the reward sources to score it with");
        }
        ModelLoop.Spec run;
        try {
            Path work = noReport ? Files.createTempDirectory("rlhf-model-run") : report;
            Files.createDirectories(work);
            run = new ModelLoop.Spec(model, prompts, reward, work);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        DemoRunner.quietServiceLogs();
        try {
            ObjectNode summary = new ModelLoop(options, run, err).secure(secure).run();
            out.printf(Locale.ROOT, "Policy versions published: %d in %.0f s; reward of the first and last versions' "
                            + "generations: %s -> %s%nLearner checkpoints: %s ('rlhf export --checkpoint-dir DIR "
                            + "--version N --out DIR' writes one as a Hugging Face folder)%n",
                    summary.get("versions_published").asLong(), summary.get("seconds").asDouble(),
                    summary.path("first_version_reward").asText("-"), summary.path("last_version_reward").asText("-"),
                    summary.get("checkpoints").asText());
            if (!noReport) {
                Files.writeString(report.resolve("summary.json"), summary.toPrettyString() + "\n");
            }
            if (json) {
                out.println(summary);
            }
            out.flush();
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return INTERRUPTED;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code --config FILE} is refused rather than half-supported. The demo is a self-contained, repeatable run: it
     * starts its own cluster, creates the topics fresh (the learner's versions start at 1, the monitor reads every
     * topic from its beginning), and on a secure cluster grants the ACLs and runs seven principals at once. One file
     * names one principal, and an existing cluster's topics hold another run's versions and records, which the
     * learner, the workers and the monitor would take as this run's. The loop on an existing cluster is the stack's
     * job: each component a process with its own {@code --config FILE}.
     */
    private void refuseConfig() {
        throw new ParameterException(spec.commandLine(), "rlhf demo takes no --config (got " + config + "): the "
                + "demo starts its own cluster and creates fresh topics, so its versions and results are its own; "
                + "on a secure cluster it runs every component as its own user, which one properties file cannot "
                + "name. For a secure demo use 'rlhf demo --secure'; to run the loop on an existing cluster run "
                + "its components as services, each with its own file ('rlhf stack up --bootstrap HOST:PORT "
                + "--registry URL', or 'rlhf worker|score|learn|train-rm --config FILE'; docs/demo.md)");
    }

    /** How a run waits for its components to stop. */
    @FunctionalInterface
    private interface StopWait {
        boolean await(Duration timeout) throws InterruptedException;
    }

    /**
     * Registers a shutdown hook for Ctrl-C / SIGTERM that asks the run to stop and gives it 90 s to stop every
     * component and child process.
     */
    private static Thread stopOnShutdown(Runnable abort, StopWait stopped, String name) {
        Thread hook = new Thread(() -> {
            abort.run();
            try {
                stopped.await(Duration.ofSeconds(90));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name);
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }

    private static void removeQuietly(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down: the hook is running and waits for the run
        }
    }
}
