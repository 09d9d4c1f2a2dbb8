package io.streamrlhf.cli;

import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.cli.config.CommonOptions;
import io.streamrlhf.producer.feed.PromptBatch;
import io.streamrlhf.producer.feed.PromptFiles;
import io.streamrlhf.producer.feed.PromptProblem;
import io.streamrlhf.producer.feed.PromptSender;
import io.streamrlhf.producer.feed.PromptValidationException;
import io.streamrlhf.producer.feed.SyntheticPromptFeed;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.topics.Topics;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code rlhf prompts send}: feed prompts to the policy workers. */
@Command(name = "prompts", mixinStandardHelpOptions = true,
        description = "Send prompts to the 'prompts' topic.", subcommands = {PromptsCommand.Send.class})
final class PromptsCommand implements Runnable {

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code rlhf prompts send --file F | --rmb DIR | --synthetic}. */
    @Command(name = "send", mixinStandardHelpOptions = true,
            description = {"Send prompts from a JSONL file (one conversation per line), from RMB JSON files "
                    + "(their conversation_input), or from the synthetic world at a rate.",
                    "A file is validated first: every bad line is reported with its number and nothing is sent "
                            + "unless --skip-bad; the rest goes out in one transaction."})
    static final class Send implements Callable<Integer> {

        /** Newest records read from each partition to find where a synthetic feed of the same seed stopped. */
        static final int RESUME_WINDOW = 1000;
        @Mixin CommonOptions common;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Source source;

        static final class Source {
            @Option(names = "--file", paramLabel = "FILE", description = "JSONL file, one prompt per line.")
            Path file;

            @Option(names = "--rmb", paramLabel = "DIR", description = "RMB JSON file or folder (searched recursively).")
            Path rmb;

            @Option(names = "--synthetic", description = "The synthetic world's prompt generator, at --rate.")
            boolean synthetic;
        }

        @Option(names = "--skip-bad", description = "Send the valid prompts of a file that has invalid ones.")
        boolean skipBad;

        @Option(names = "--samples", paramLabel = "K", defaultValue = "4",
                description = "Samples per prompt where the input does not say (default ${DEFAULT-VALUE}).")
        int samples;

        @Option(names = "--rate", paramLabel = "PER_S", defaultValue = "10",
                description = "Synthetic prompts per second (default ${DEFAULT-VALUE}).")
        double rate;

        @Option(names = "--count", paramLabel = "N", defaultValue = "0",
                description = "Synthetic prompts to send; 0 until stopped or --duration (default ${DEFAULT-VALUE}).")
        long count;

        @Option(names = "--duration", paramLabel = "SECONDS", description = "Stop the synthetic feed after this long.")
        Long durationSeconds;

        @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Synthetic prompt seed. A feed "
                + "started again with the same seed resumes after the newest id it finds on the topic "
                + "(synthetic-SEED-N), so no prompt id is sent twice.")
        long seed;

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            if (samples < 1 || samples > PromptFiles.MAX_SAMPLES) {
                err.println("--samples must be in 1.." + PromptFiles.MAX_SAMPLES + ", got " + samples);
                return 2;
            }
            List<Prompt> prompts = List.of();
            if (!source.synthetic) {
                PromptBatch batch = source.file != null ? PromptFiles.readJsonl(source.file, samples)
                        : PromptFiles.readRmb(source.rmb, samples);
                try {
                    prompts = batch.toSend(skipBad);
                } catch (PromptValidationException e) {
                    err.println(e.getMessage());
                    err.flush();
                    return 1;
                }
                for (PromptProblem p : batch.problems()) {
                    err.println("skipped " + p);
                }
            }
            CommonConfig config = common.resolve();
            Map<String, Object> settings = config.settings();
            settings.putAll(config.clientProperties());
            Topics topics = Topics.create(settings);
            // A synthetic feed's transactional id is its seed's: a restarted feed fences its predecessor at once.
            try (PromptSender sender = source.synthetic
                    ? new PromptSender(topics, settings, "rlhf-prompts-synthetic-" + seed)
                    : new PromptSender(topics, settings)) {
                if (source.synthetic) {
                    Duration duration = durationSeconds == null ? null : Duration.ofSeconds(durationSeconds);
                    out.printf("sending synthetic prompts to %s at %.1f/s%s%n", sender.topic(), rate,
                            count > 0 ? " (" + count + " in all)" : "");
                    out.flush();
                    long last = SyntheticPromptFeed.lastIndex(PromptSender.newestIds(topics, settings,
                            RESUME_WINDOW), seed);
                    if (last >= 0) {
                        out.printf("resuming after synthetic-%d-%d, the newest prompt of seed %d on %s%n", seed, last,
                                seed, sender.topic());
                    }
                    long sent = new SyntheticPromptFeed(seed, samples).resumeAfter(last)
                            .run(rate, count, duration, sender::sendAll);
                    out.printf("sent %d synthetic prompts%n", sent);
                } else {
                    int sent = sender.sendAll(prompts);
                    out.printf("sent %d prompt(s) to %s%s%n", sent, sender.topic(),
                            prompts.isEmpty() ? "" : " (" + samples + " samples each unless a line says otherwise)");
                }
            }
            out.flush();
            return 0;
        }
    }
}
