package io.streamrlhf.cli;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.cli.config.CommonOptions;
import io.streamrlhf.models.world.SimulatedRater;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.producer.feedback.FeedbackImporter;
import io.streamrlhf.producer.feedback.FeedbackParser;
import io.streamrlhf.producer.feedback.FeedbackServer;
import io.streamrlhf.producer.feedback.GenerationTail;
import io.streamrlhf.producer.feedback.KafkaFeedbackSink;
import io.streamrlhf.producer.feedback.RecentGenerations;
import io.streamrlhf.producer.feedback.SimulatedRaters;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.topics.Topics;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code rlhf feedback serve|import|simulate}: feedback into the {@code feedback} topic. */
@Command(name = "feedback", mixinStandardHelpOptions = true,
        description = "Feedback ingestion: the HTTP API and rater page, file import, simulated raters.",
        subcommands = {FeedbackCommand.Serve.class, FeedbackCommand.Import.class, FeedbackCommand.Simulate.class})
final class FeedbackCommand implements Runnable {

    /** Environment variable holding the API's bearer token when {@code --token} is not given. */
    static final String TOKEN_ENV = "RLHF_FEEDBACK_TOKEN";

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static Map<String, Object> settings(CommonOptions common) {
        CommonConfig config = common.resolve();
        Map<String, Object> settings = config.settings();
        settings.putAll(config.clientProperties());
        return settings;
    }

    /** {@code rlhf feedback serve}. */
    @Command(name = "serve", mixinStandardHelpOptions = true,
            description = {"Serve the feedback API (POST /api/feedback) and the rater page (/rate) until stopped.",
                    "Labels are validated (4xx naming the problem) and written to the feedback topic."})
    static final class Serve implements Callable<Integer> {
        @Mixin CommonOptions common;

        @Option(names = "--port", defaultValue = "8088", description = "Port (default ${DEFAULT-VALUE}).")
        int port;

        @Option(names = "--bind", defaultValue = "0.0.0.0", description = "Interface (default ${DEFAULT-VALUE}).")
        String bind;

        @Option(names = "--token", paramLabel = "TOKEN",
                description = "Bearer token required on /api/* (env " + TOKEN_ENV + "); none by default.")
        String token;

        @Option(names = "--max-body-bytes", defaultValue = "65536",
                description = "Largest request body (default ${DEFAULT-VALUE}).")
        int maxBodyBytes;

        @Option(names = "--simulate-rate", paramLabel = "PER_S", defaultValue = "0",
                description = "Also run simulated raters at this many labels/s (0: off).")
        double simulateRate;

        @Option(names = "--backlog", defaultValue = "1000",
                description = "Generations per partition read back at start for the rater page.")
        long backlog;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Map<String, Object> settings = settings(common);
            Topics topics = Topics.create(settings);
            String t = token != null ? token : System.getenv(TOKEN_ENV);
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            RecentGenerations recent = new RecentGenerations(2000, 16);
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "rlhf-feedback-shutdown"));
            try (GenerationTail tail = new GenerationTail(topics, settings, recent, backlog).start();
                 KafkaFeedbackSink sink = new KafkaFeedbackSink(topics, settings);
                 FeedbackServer server = new FeedbackServer(new FeedbackServer.Options(bind, port,
                         Optional.ofNullable(t), maxBodyBytes), sink, recent, meters).start();
                 SimulatedRaters raters = new SimulatedRaters(recent, sink, SyntheticWorld.standard().gold(),
                         SyntheticWorld.standard().rater(System.nanoTime()), "rater", System.nanoTime(), meters)) {
                if (simulateRate > 0) {
                    raters.start(simulateRate);
                }
                PrintWriter out = spec.commandLine().getOut();
                out.printf("feedback service on http://%s:%d/ (rater page /rate%s)%n", bind, server.port(),
                        t == null || t.isBlank() ? "" : "#token=...; API needs the bearer token");
                out.flush();
                stop.await();
            }
            return 0;
        }
    }

    /** {@code rlhf feedback import --file F}. */
    @Command(name = "import", mixinStandardHelpOptions = true,
            description = {"Import labels from a JSONL file (one label per line, the API's format).",
                    "Every bad line is reported with its number and nothing is sent unless --skip-bad."})
    static final class Import implements Callable<Integer> {
        @Mixin CommonOptions common;

        @Option(names = "--file", required = true, paramLabel = "FILE", description = "JSONL file of labels.")
        Path file;

        @Option(names = "--skip-bad", description = "Send the valid labels of a file that has invalid ones.")
        boolean skipBad;

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            FeedbackImporter.Result result = FeedbackImporter.read(file, new FeedbackParser());
            List<Feedback> labels;
            try {
                labels = result.toSend(skipBad);
            } catch (IllegalArgumentException e) {
                spec.commandLine().getErr().println(e.getMessage());
                return 1;
            }
            result.problems().forEach(p -> spec.commandLine().getErr().println("skipped " + p));
            Map<String, Object> settings = settings(common);
            int sent = FeedbackImporter.send(labels, Topics.create(settings), settings);
            spec.commandLine().getOut().printf("imported %d label(s)%n", sent);
            return 0;
        }
    }

    /** {@code rlhf feedback simulate}. */
    @Command(name = "simulate", mixinStandardHelpOptions = true,
            description = "Simulated raters of the synthetic world labelling pairs of recent generations "
                    + "(source SIMULATED), at a rate.")
    static final class Simulate implements Callable<Integer> {
        @Mixin CommonOptions common;

        @Option(names = "--rate", defaultValue = "2", paramLabel = "PER_S",
                description = "Labels per second (default ${DEFAULT-VALUE}).")
        double rate;

        @Option(names = "--count", defaultValue = "0", description = "Stop after N labels (0: until stopped).")
        long count;

        @Option(names = "--tau", defaultValue = "0.5", description = "Rater temperature on the gold scale.")
        double tau;

        @Option(names = "--flip-share", defaultValue = "0.1", description = "Share of flipped labels.")
        double flipShare;

        @Option(names = "--seed", defaultValue = "1", description = "Rater seed.")
        long seed;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Map<String, Object> settings = settings(common);
            Topics topics = Topics.create(settings);
            RecentGenerations recent = new RecentGenerations(2000, 16);
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "rlhf-simulate-shutdown"));
            try (GenerationTail tail = new GenerationTail(topics, settings, recent, 1000).start();
                 KafkaFeedbackSink sink = new KafkaFeedbackSink(topics, settings);
                 SimulatedRaters raters = new SimulatedRaters(recent, sink, SyntheticWorld.standard().gold(),
                         new SimulatedRater(tau, flipShare, seed), "seed" + seed, seed, new SimpleMeterRegistry())) {
                raters.start(rate, count);
                PrintWriter out = spec.commandLine().getOut();
                out.printf("simulated raters labelling at %.1f/s (tau %.2f, flip share %.2f)%n", rate, tau, flipShare);
                out.flush();
                while (stop.getCount() > 0 && (count <= 0 || raters.labelled() < count)) {
                    Thread.sleep(200);
                }
                out.printf("%d label(s) written%n", raters.labelled());
            }
            return 0;
        }
    }
}
