package io.streamrlhf.cli;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.cli.config.CommonOptions;
import io.streamrlhf.cli.config.MetricsOptions;
import io.streamrlhf.models.world.SimulatedRater;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.ops.ServiceMeters;
import io.streamrlhf.producer.feedback.FeedbackImporter;
import io.streamrlhf.producer.feedback.FeedbackParser;
import io.streamrlhf.producer.feedback.FeedbackServer;
import io.streamrlhf.producer.feedback.FeedbackTokens;
import io.streamrlhf.producer.feedback.FeedbackSink;
import io.streamrlhf.producer.feedback.GenerationTail;
import io.streamrlhf.producer.feedback.HttpFeedbackSink;
import io.streamrlhf.producer.feedback.KafkaFeedbackSink;
import io.streamrlhf.producer.feedback.RecentGenerations;
import io.streamrlhf.producer.feedback.SimulatedRaters;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.topics.Topics;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code rlhf feedback serve|import|simulate}: feedback into the {@code feedback} topic. */
@Command(name = "feedback", mixinStandardHelpOptions = true,
        description = "Feedback ingestion: the HTTP API and rater page, file import, simulated raters.",
        subcommands = {FeedbackCommand.Serve.class, FeedbackCommand.Import.class, FeedbackCommand.Simulate.class})
final class FeedbackCommand implements Runnable {

    /** Environment variable naming the annotator tokens file when {@code --tokens} is not given. */
    static final String TOKENS_ENV = "RLHF_FEEDBACK_TOKENS";
    /** Environment variable holding the bearer token simulated raters post with ({@code feedback simulate --api}). */
    static final String RATER_TOKEN_ENV = "RLHF_FEEDBACK_TOKEN";
    /** Environment variable holding the HTTPS keystore's password (kept off the command line). */
    static final String KEYSTORE_PASSWORD_ENV = "RLHF_FEEDBACK_KEYSTORE_PASSWORD";

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
                    "Labels are validated (4xx naming the problem) and written to the feedback topic.",
                    "Binding anything but loopback needs annotator tokens (--tokens); see docs/security.md."})
    static final class Serve implements Callable<Integer> {
        @Mixin CommonOptions common;

        @Mixin MetricsOptions metrics;

        @Option(names = "--port", defaultValue = "8088", description = "Port (default ${DEFAULT-VALUE}).")
        int port;

        @Option(names = "--bind", defaultValue = "127.0.0.1",
                description = "Interface (default ${DEFAULT-VALUE}); any other needs --tokens.")
        String bind;

        @Option(names = "--tokens", paramLabel = "FILE",
                description = "Annotator tokens, one 'ANNOTATOR_ID SOURCE TOKEN' a line (env " + TOKENS_ENV + "); "
                        + "each /api/* call then needs 'Authorization: Bearer TOKEN', and the token says who labels.")
        Path tokens;

        @Option(names = "--tls-keystore", paramLabel = "P12",
                description = "Serve HTTPS with this PKCS#12 keystore (password in env " + KEYSTORE_PASSWORD_ENV
                        + ").")
        Path tlsKeystore;

        @Option(names = "--max-body-bytes", defaultValue = "65536",
                description = "Largest request body (default ${DEFAULT-VALUE}).")
        int maxBodyBytes;

        @Option(names = "--max-candidates", defaultValue = "16",
                description = "Most candidates one label may carry (default ${DEFAULT-VALUE}).")
        int maxCandidates;

        @Option(names = "--rate", paramLabel = "PER_S", defaultValue = "5",
                description = "Requests a second per token (default ${DEFAULT-VALUE}); over it: 429 with Retry-After.")
        double rate;

        @Option(names = "--burst", defaultValue = "20",
                description = "Requests per token at once (default ${DEFAULT-VALUE}).")
        int burst;

        @Option(names = "--read-timeout-ms", defaultValue = "10000",
                description = "How long a request body may take to arrive (default ${DEFAULT-VALUE}).")
        long readTimeoutMs;

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
            Path tokensFile = tokens != null ? tokens
                    : System.getenv(TOKENS_ENV) == null || System.getenv(TOKENS_ENV).isBlank() ? null
                    : Path.of(System.getenv(TOKENS_ENV));
            FeedbackServer.Options options;
            try {
                options = FeedbackServer.Options.defaults().bind(bind, port)
                        .withTokens(tokensFile == null ? FeedbackTokens.none() : FeedbackTokens.read(tokensFile))
                        .withLimits(maxBodyBytes, maxCandidates).withRate(rate, burst)
                        .withReads(Duration.ofMillis(readTimeoutMs), 16);
                if (tlsKeystore != null) {
                    String password = System.getenv(KEYSTORE_PASSWORD_ENV);
                    if (password == null) {
                        throw new IllegalArgumentException("--tls-keystore needs its password in the environment "
                                + "variable " + KEYSTORE_PASSWORD_ENV);
                    }
                    options = options.withTls(new FeedbackServer.Tls(tlsKeystore, password.toCharArray()));
                }
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage(), e);
            }
            RecentGenerations recent = new RecentGenerations(2000, 16);
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "rlhf-feedback-shutdown"));
            try (ServiceMeters service = ServiceMeters.create("feedback");
                 GenerationTail tail = new GenerationTail(topics, settings, recent, backlog)
                         .bindTo(service.component("feedback")).start();
                 MetricsOptions.Serving endpoint = metrics.serve(service, tail.health(new HealthChecks()),
                         spec.commandLine().getOut());
                 KafkaFeedbackSink sink = new KafkaFeedbackSink(topics, settings);
                 FeedbackServer server = new FeedbackServer(options, sink, recent, service.component("feedback"))
                         .start();
                 SimulatedRaters raters = new SimulatedRaters(recent, sink, SyntheticWorld.standard().gold(),
                         SyntheticWorld.standard().rater(System.nanoTime()), "rater", System.nanoTime(),
                         service.component("feedback"))) {
                if (simulateRate > 0) {
                    raters.start(simulateRate);
                }
                PrintWriter out = spec.commandLine().getOut();
                out.printf("feedback service on %s://%s:%d/ (rater page /rate%s)%n",
                        tlsKeystore != null ? "https" : "http", bind, server.port(),
                        options.tokens().enabled() ? "#token=TOKEN; the API needs an annotator's bearer token" : "");
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
            description = {"Simulated raters of the synthetic world labelling pairs of recent generations "
                    + "(source SIMULATED), at a rate: into the feedback topic, or with --api through a feedback "
                    + "server as people's labels go.",
                    "With --api each label is posted once under its own feedback_id; a post that fails (the server "
                            + "down, 429) is logged and not repeated, and its pair may be labelled again later under "
                            + "a new id."})
    static final class Simulate implements Callable<Integer> {
        @Mixin CommonOptions common;

        @Option(names = "--api", paramLabel = "URL",
                description = "Post the labels to this feedback server (rlhf feedback serve), e.g. "
                        + "http://127.0.0.1:8088, with the bearer token in env " + RATER_TOKEN_ENV + " if it has "
                        + "tokens; default: write the feedback topic.")
        java.net.URI api;

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
            FeedbackSink through;
            try {
                through = api == null ? null : new HttpFeedbackSink(api, System.getenv(RATER_TOKEN_ENV),
                        Duration.ofSeconds(10));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--api: " + e.getMessage(), e);
            }
            try (GenerationTail tail = new GenerationTail(topics, settings, recent, 1000).start();
                 KafkaFeedbackSink topic = through == null ? new KafkaFeedbackSink(topics, settings) : null;
                 SimulatedRaters raters = new SimulatedRaters(recent, through != null ? through : topic,
                         SyntheticWorld.standard().gold(),
                         new SimulatedRater(tau, flipShare, seed), "seed" + seed, seed, new SimpleMeterRegistry())) {
                raters.start(rate, count);
                PrintWriter out = spec.commandLine().getOut();
                out.printf("simulated raters labelling at %.1f/s (tau %.2f, flip share %.2f) into %s%n", rate, tau,
                        flipShare, api == null ? topics.feedback().name() : api + "/api/feedback");
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
