package io.streamrlhf.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.cli.config.CommonOptions;
import io.streamrlhf.cli.config.MetricsOptions;
import io.streamrlhf.learner.rm.EncodedPair;
import io.streamrlhf.learner.rm.HfPairEncoder;
import io.streamrlhf.learner.rm.PairEncoder;
import io.streamrlhf.learner.rm.RewardModelFactory;
import io.streamrlhf.learner.rm.RmMethod;
import io.streamrlhf.learner.rm.RmProgress;
import io.streamrlhf.learner.rm.RmTrainingConfig;
import io.streamrlhf.learner.rm.eval.RmEvaluation;
import io.streamrlhf.learner.rm.offline.MethodComparison;
import io.streamrlhf.learner.rm.offline.PreferenceFile;
import io.streamrlhf.learner.rm.embed.EmbeddingRmTrainer;
import io.streamrlhf.learner.rm.embed.TextPair;
import io.streamrlhf.learner.rm.offline.PreferenceTopicReader;
import io.streamrlhf.learner.rm.offline.RmPipeline;
import io.streamrlhf.learner.rm.offline.SyntheticPreferences;
import io.streamrlhf.learner.rm.online.OnlineRmConfig;
import io.streamrlhf.learner.rm.online.OnlineRmTrainer;
import io.streamrlhf.learner.rm.online.StrengthWriteBack;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfTrainableRewardModel;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.ops.ServiceMeters;
import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.topics.Topics;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf train-rm}: trains reward-model ensembles with Secrets of RLHF Part II's methods, offline from a
 * JSONL file, the {@code preferences} topic or the synthetic world, compares methods, or runs the online trainer.
 * The members are the project's transformer reward models, or with {@code --model DIR} Hugging Face reward models
 * started from a sequence-classification or causal-LM folder, trained on pairs encoded with the folder's tokenizer
 * as {@code hf:DIR} scores them and written out as Hugging Face reward folders.
 */
@Command(name = "train-rm", mixinStandardHelpOptions = true,
        description = {"Train reward-model ensembles (Secrets of RLHF Part II): Bradley-Terry, preference strength, "
                + "label flipping, label smoothing, adaptive margin, contrastive term, MetaRM.",
                "Offline from --file, --from preferences or --synthetic; --compare benchmarks methods on the synthetic "
                        + "world; --online trains continuously from preferences and publishes rm.versions (rm.* "
                        + "settings from --config).",
                "--model DIR trains Hugging Face reward models from a model folder instead of the built-in "
                        + "transformer; --out then writes each member as a Hugging Face reward folder for hf:DIR."})
final class TrainRmCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The learning rate with --model when --lr is not given: fine-tuning a pretrained model. */
    static final double MODEL_LEARNING_RATE = 1e-5;

    @Mixin CommonOptions common;

    /** Served by the online trainer (--online), the one mode that runs as a service. */
    @Mixin MetricsOptions metrics;
    @Spec CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Source source = new Source();

    /** Where the preferences come from (exactly one). */
    static final class Source {
        @Option(names = "--synthetic", description = "Generate preferences from the built-in synthetic world "
                + "(corpus-grammar responses labelled by simulated raters; gold rewards known).")
        boolean synthetic;

        @Option(names = "--file", paramLabel = "FILE",
                description = "A JSONL file of pairs, one object a line with the texts prompt, chosen and rejected "
                        + "(optional: id, chosen_gold, rejected_gold, flipped, as 'rlhf sft --preferences' writes them).")
        Path file;

        @Option(names = "--from", paramLabel = "TOPIC",
                description = "Read a topic to its end; only 'preferences' is accepted.")
        String from;

        @Option(names = "--online", description = "Run the online trainer: consume preferences, train on a schedule, "
                + "checkpoint and publish rm.versions until stopped.")
        boolean online;

        @Option(names = "--rmb", paramLabel = "PATH", split = ",",
                description = "With --encoder: RMB JSON files or folders (repeatable); pairwise items give their pair, "
                        + "Best-of-N items the best against each loser.")
        List<Path> rmb;

        boolean any() {
            return synthetic || file != null || from != null || online || rmb != null;
        }
    }

    @Option(names = "--encoder", paramLabel = "NAME",
            description = "Train reward heads on a frozen pretrained encoder instead of a whole model: 'minilm' "
                    + "(all-MiniLM-L6-v2 from its Maven artifact, run with ONNX Runtime). Pairs come from --rmb PATH "
                    + "or --pairs FILE (JSONL with prompt, chosen, rejected); --ensemble heads (default 4), --method "
                    + "bt, flip, smooth or margin; --out DIR is what embed:DIR scores with.")
    String encoder;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Train Hugging Face reward models from this folder: a *ForSequenceClassification folder "
                    + "(num_labels 1) as it is, or a causal LM (GPT2LMHeadModel, LlamaForCausalLM, Qwen2ForCausalLM, "
                    + "MistralForCausalLM) with its lm_head dropped and a new score head (N(0, initializer_range^2), "
                    + "from each member's seed). Pairs are encoded with the folder's tokenizer and chat template, as "
                    + "hf:DIR scores them; --out writes each member as a Hugging Face reward folder. The folder's "
                    + "config sets the shape (not --d-model, --layers, --heads); --context defaults to the model's.")
    Path model;

    @Option(names = "--method", paramLabel = "M", defaultValue = "bt",
            description = "Method: bt, flip[:fraction], smooth[:alpha], margin[:scale], contrastive[:weight], meta[:step], "
                    + "joined by '+'. Default: ${DEFAULT-VALUE}.")
    String method;

    @Option(names = "--compare", paramLabel = "LIST",
            description = "With --synthetic: compare these methods (comma-separated, e.g. bt,flip,smooth,margin,flip+margin).")
    String compare;

    @Option(names = "--seeds", paramLabel = "N", defaultValue = "3",
            description = "With --compare: seeds (data sets and initialisations). Default: ${DEFAULT-VALUE}.")
    int seeds;

    @Option(names = "--flip-rate", paramLabel = "F", defaultValue = "0.2",
            description = "With --synthetic: share of rater labels flipped. Default: ${DEFAULT-VALUE}.")
    double flipRate;

    @Option(names = "--pairs", paramLabel = "N|FILE", defaultValue = "1200",
            description = "With --synthetic: training pairs. With --encoder: a JSONL file of pairs. "
                    + "Default: ${DEFAULT-VALUE}.")
    String pairs;

    @Option(names = "--heldout", paramLabel = "N", defaultValue = "400",
            description = "With --synthetic: held-out pairs (from --file or --from, every 10th pair is held out). "
                    + "Default: ${DEFAULT-VALUE}.")
    int heldOut;

    @Option(names = "--ensemble", paramLabel = "M", defaultValue = "4",
            description = "Ensemble size M. Default: ${DEFAULT-VALUE}.")
    int ensemble;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "3", description = "Epochs. Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "32",
            description = "Pairs per step. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--lr", paramLabel = "X", defaultValue = "3e-3",
            description = "AdamW learning rate. Default: ${DEFAULT-VALUE}, or " + MODEL_LEARNING_RATE + " with --model "
                    + "(a pretrained model is fine-tuned).")
    double learningRate;

    @Option(names = "--d-model", paramLabel = "D", defaultValue = "32",
            description = "Reward-model width. Default: ${DEFAULT-VALUE}.")
    int dModel;

    @Option(names = "--layers", paramLabel = "L", defaultValue = "1", description = "Layers. Default: ${DEFAULT-VALUE}.")
    int layers;

    @Option(names = "--heads", paramLabel = "H", defaultValue = "2", description = "Heads. Default: ${DEFAULT-VALUE}.")
    int heads;

    @Option(names = "--context", paramLabel = "T", defaultValue = "64",
            description = "Context length (longer sequences keep their last T tokens). Default: ${DEFAULT-VALUE}, or "
                    + "the model's own with --model.")
    int context;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "7", description = "Base seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "1",
            description = "PyTorch intra-op threads (0: all cores). Default: ${DEFAULT-VALUE}.")
    int threads;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Write each trained member to DIR/member-<m>: a checkpoint (CheckpointStore format), or "
                    + "with --model a Hugging Face reward folder (config.json, model.safetensors, tokenizer files).")
    Path outDir;

    @Option(names = "--checkpoint-dir", paramLabel = "DIR",
            description = "With --online: directory of trainer checkpoints (rm.checkpoint.dir); the reward stream "
                    + "must be able to read it.")
    Path checkpointDir;

    @Option(names = "--train-every", paramLabel = "N",
            description = "With --online: new pairs per training round (rm.train.every.pairs).")
    Integer trainEvery;

    @Option(names = "--name", paramLabel = "NAME",
            description = "With --online: name prefix of the published members, '<name>-<m>' (rm.name).")
    String name;

    @Option(names = "--max-rounds", paramLabel = "N",
            description = "With --online: stop after N rounds (rm.max.rounds; 0 runs until stopped).")
    Long maxRounds;

    @Option(names = "--write-back",
            description = "With --from preferences: write every pair back to preferences with its measured strength.")
    boolean writeBack;

    @Option(names = "--json", description = "Print the results as one JSON line (the last line of output).")
    boolean json;

    @Option(names = "--no-progress", description = "Do not draw progress bars.")
    boolean noProgress;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (encoder != null) {
            return encoderHeads(out);
        }
        if (!source.any()) {
            throw new ParameterException(spec.commandLine(), "give one of --synthetic, --file FILE, --from "
                    + "preferences, --online, or --encoder minilm with --rmb PATH or --pairs FILE");
        }
        if (source.rmb != null) {
            throw new ParameterException(spec.commandLine(), "--rmb trains reward heads on an encoder: add --encoder "
                    + "minilm");
        }
        if (source.from != null && !"preferences".equals(source.from)) {
            throw new ParameterException(spec.commandLine(), "--from accepts only 'preferences', got '"
                    + source.from + "'");
        }
        if (writeBack && source.from == null) {
            throw new ParameterException(spec.commandLine(), "--write-back needs --from preferences");
        }
        if (compare != null && !source.synthetic) {
            throw new ParameterException(spec.commandLine(), "--compare needs --synthetic (gold rewards)");
        }
        if (model != null) {
            checkModelOptions();
        }
        RmMethod.parse(method);  // fail on a bad method name before loading the engine
        ModelRuntime.init(threads);
        RmProgress progress = noProgress ? RmProgress.NONE : new RmProgressBars();
        if (source.online) {
            return online(progress);
        }
        if (model == null) {
            return run(PairEncoder.of(SyntheticWorld.standard().vocabulary()),
                    RewardModelFactory.transformer(training().model()), progress, out, err);
        }
        try (HfTokenizer tokenizer = HfTokenizer.load(model)) {
            int vocab = training().model().vocabSize();
            if (tokenizer.vocabSize() > vocab) {
                throw new ParameterException(spec.commandLine(), model.resolve(HfTokenizer.TOKENIZER_JSON) + " has ids "
                        + "up to " + (tokenizer.vocabSize() - 1) + ", beyond the embedding of vocab_size " + vocab
                        + " in " + model.resolve("config.json") + ": the tokenizer is not this model's");
            }
            return run(HfPairEncoder.of(tokenizer), RewardModelFactory.huggingFace(model, modelContext()), progress,
                    out, err);
        }
    }

    /** --pairs as a number (the synthetic world's training pairs). */
    private int pairCount() {
        try {
            return Integer.parseInt(pairs.trim());
        } catch (NumberFormatException e) {
            throw new ParameterException(spec.commandLine(), "--pairs takes a number of pairs here (a file only with "
                    + "--encoder), got '" + pairs + "'");
        }
    }

    /** {@code --encoder minilm}: reward heads on the frozen encoder, from --rmb or --pairs FILE, saved to --out. */
    private int encoderHeads(PrintWriter out) {
        if (!EncoderRmTraining.MINILM.equals(encoder)) {
            throw new ParameterException(spec.commandLine(), "--encoder '" + encoder + "' is not known; the one "
                    + "encoder is 'minilm' (all-MiniLM-L6-v2)");
        }
        var parsed = spec.commandLine().getParseResult();
        boolean pairsFile = parsed.hasMatchedOption("--pairs");
        if ((source.rmb == null) == !pairsFile || source.synthetic || source.file != null || source.from != null
                || source.online) {
            throw new ParameterException(spec.commandLine(), "--encoder trains from exactly one of --rmb PATH and "
                    + "--pairs FILE");
        }
        if (model != null) {
            throw new ParameterException(spec.commandLine(), "--encoder and --model are two different reward models; "
                    + "give one");
        }
        if (outDir == null) {
            throw new ParameterException(spec.commandLine(), "--encoder needs --out DIR (what embed:DIR scores with)");
        }
        RmMethod m = RmMethod.parse(method);
        EmbeddingRmTrainer.check(m);
        List<TextPair> train;
        if (pairsFile) {
            Path file = Path.of(pairs);
            if (!Files.isRegularFile(file)) {
                throw new ParameterException(spec.commandLine(), "--pairs " + pairs + " is not a file");
            }
            train = PreferenceFile.readTexts(file);
        } else {
            train = EncoderRmTraining.pairs(EncoderRmTraining.readRmb(source.rmb));
        }
        EmbeddingRmTrainer.Settings defaults = EmbeddingRmTrainer.Settings.DEFAULT;
        EmbeddingRmTrainer.Settings settings = new EmbeddingRmTrainer.Settings(ensemble,
                parsed.hasMatchedOption("--epochs") ? epochs : defaults.epochs(),
                parsed.hasMatchedOption("--lr") ? learningRate : defaults.lr(), defaults.l2(), seed);
        EncoderRmTraining.trainAndSave(train, m, settings, name == null ? "rm-minilm" : name, outDir, threads,
                json, out);
        return 0;
    }

    /** Refuses what --model cannot be combined with, naming the option. */
    private void checkModelOptions() {
        if (source.online) {
            throw new ParameterException(spec.commandLine(), "--model cannot be combined with --online: the online "
                    + "trainer publishes rm.versions checkpoints of the built-in transformer, and the reward stream's "
                    + "hf:DIR scorer does not hot-swap; train offline with --out and score with hf:OUT/member-0");
        }
        var parsed = spec.commandLine().getParseResult();
        for (String flag : List.of("--d-model", "--layers", "--heads")) {
            if (parsed.hasMatchedOption(flag)) {
                throw new ParameterException(spec.commandLine(), flag + " sets the built-in transformer's shape; "
                        + "with --model the folder's config.json sets it (" + model.resolve("config.json") + ")");
            }
        }
        if (!Files.isDirectory(model)) {
            throw new ParameterException(spec.commandLine(), "--model " + model + " is not a folder");
        }
    }

    private int run(PairEncoder encoder, RewardModelFactory models, RmProgress progress, PrintWriter out,
                    PrintWriter err) {
        if (compare != null) {
            MethodComparison.Settings settings = new MethodComparison.Settings(training(),
                    MethodComparison.methods(compare), seeds, pairCount(), heldOut, 100, 4, flipRate);
            MethodComparison.Result result = model == null ? MethodComparison.run(settings, progress)
                    : MethodComparison.run(settings, models, encoder, progress);
            if (!json) {
                printComparison(result, out);
            }
            out.println(result.toJson());
            out.flush();
            return 0;
        }
        return offline(encoder, models, progress, out, err);
    }

    private int offline(PairEncoder encoder, RewardModelFactory models, RmProgress progress, PrintWriter out,
                        PrintWriter err) {
        List<EncodedPair> train = new ArrayList<>();
        List<EncodedPair> held = new ArrayList<>();
        SyntheticPreferences synthetic = null;
        List<PreferencePair> fromTopic = null;
        Map<String, Object> topicSettings = null;
        if (source.synthetic) {
            synthetic = model == null
                    ? SyntheticPreferences.generate(SyntheticWorld.standard(), pairCount(), heldOut, 100, 4, flipRate,
                    seed)
                    : SyntheticPreferences.generate(SyntheticWorld.standard(), encoder, pairCount(), heldOut, 100, 4,
                    flipRate, seed);
            train.addAll(synthetic.train());
            held.addAll(synthetic.heldOut());
        } else if (source.file != null) {
            List<EncodedPair> all = PreferenceFile.read(source.file, encoder);
            for (int i = 0; i < all.size(); i++) {
                (i % 10 == 9 ? held : train).add(all.get(i));
            }
        } else {
            CommonConfig config = common.resolve();
            Map<String, Object> settings = config.settings();
            settings.putAll(config.clientProperties());
            PreferenceTopicReader.Snapshot snapshot = PreferenceTopicReader.readAll(Topics.create(settings), settings,
                    Duration.ofMinutes(2));
            fromTopic = snapshot.pairs();
            topicSettings = settings;
            for (int i = 0; i < fromTopic.size(); i++) {
                (i % 10 == 9 ? held : train).add(encoder.encode(fromTopic.get(i)));
            }
        }
        if (train.size() < batchSize) {
            throw new IllegalArgumentException("train-rm: only " + train.size() + " training pairs; need at least "
                    + "--batch-size " + batchSize);
        }
        RmMethod m = RmMethod.parse(method);
        RmPipeline.Outcome outcome = RmPipeline.train(training(), m, train, List.of(), models, progress);
        try {
            ObjectNode root = JSON.createObjectNode();
            root.put("method", m.name());
            if (model != null) {
                root.put("model", model.toAbsolutePath().toString());
            }
            root.put("train_pairs", train.size());
            root.put("heldout_pairs", held.size());
            root.put("flipped", outcome.flipped());
            root.put("strength_share_negative", outcome.summary().shareNegative());
            root.put("strength_mean", outcome.summary().meanMean());
            root.put("strength_std", outcome.summary().meanStd());
            var members = root.putArray("members");
            for (int i = 0; i < outcome.ensemble().size(); i++) {
                RmEvaluation e = RmEvaluation.of(outcome.ensemble().model(i), held,
                        synthetic == null ? List.of() : synthetic.bestOfN());
                ObjectNode node = members.addObject();
                node.put("name", "rm-" + i);
                e.metrics().forEach(node::put);
                if (outDir != null) {
                    Path dir = outDir.resolve("member-" + i);
                    if (outcome.ensemble().model(i) instanceof HfTrainableRewardModel hf) {
                        hf.save(dir);
                        node.put("folder", dir.toAbsolutePath().toString());
                    } else {
                        CheckpointStore.save(outcome.ensemble().member(i).toCheckpoint(
                                Map.of("name", "rm-" + i, "method", m.name()), null), dir);
                        node.put("checkpoint", dir.toAbsolutePath().toString());
                    }
                }
                if (!json) {
                    out.printf(Locale.ROOT, "rm-%d  pairwise %.4f  gold %.4f  best-of-n %.4f%n", i, e.pairwiseAccuracy(),
                            e.goldAccuracy(), e.bestOfNAccuracy());
                }
            }
            if (writeBack) {
                List<ModelRef> refs = new ArrayList<>();
                for (int i = 0; i < outcome.ensemble().size(); i++) {
                    refs.add(new ModelRef("rm-" + i, 0L));
                }
                List<EncodedPair> all = fromTopic.stream().map(encoder::encode).toList();
                Topics topics = Topics.create(topicSettings);
                try (KafkaProducer<String, PreferencePair> producer = new KafkaProducer<>(
                        producerProperties(topicSettings), topics.preferences().keySerializer(),
                        topics.preferences().valueSerializer())) {
                    StrengthWriteBack.write(producer, topics, fromTopic, outcome.ensemble().strengths(all), refs);
                }
                root.put("written_back", fromTopic.size());
            }
            if (!json) {
                out.printf(Locale.ROOT, "preference strength over %d training pairs: share with mean < 0 %.3f, "
                                + "mean %.3f, mean std %.3f, %d labels flipped%n%s", train.size(),
                        outcome.summary().shareNegative(), outcome.summary().meanMean(), outcome.summary().meanStd(),
                        outcome.flipped(), outcome.summary().histogram());
            }
            out.println(root);
            out.flush();
        } finally {
            outcome.ensemble().close();
        }
        return 0;
    }

    private int online(RmProgress progress) {
        Map<String, Object> settings = onlineSettings();
        // The hook waits for the trainer to stop and close, not for the main thread: on SIGTERM the main thread
        // goes on to System.exit in Rlhf.main, which blocks until the hooks end, so joining it would wait forever.
        java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
        try (ServiceMeters meters = ServiceMeters.create("train-rm");
             OnlineRmTrainer trainer = new OnlineRmTrainer(settings, Topics.create(settings), progress)
                     .bindTo(meters.component("train-rm"));
             MetricsOptions.Serving endpoint = metrics.serve(meters, trainer.health(new HealthChecks()),
                     spec.commandLine().getOut())) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                trainer.stop();
                try {
                    closed.await(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "train-rm-shutdown"));
            trainer.run();
        } finally {
            closed.countDown();
        }
        return 0;
    }

    /** The online trainer's settings: the flags given over the common configuration (environment, file, defaults). */
    Map<String, Object> onlineSettings() {
        CommonConfig config = common.resolve();
        Map<String, Object> settings = config.settings();
        settings.putAll(config.clientProperties());
        // Flags given on the command line override rm.* keys of the --config file; defaults do not.
        var parsed = spec.commandLine().getParseResult();
        Map<String, String> flagKeys = Map.ofEntries(Map.entry("--method", OnlineRmConfig.METHOD),
                Map.entry("--ensemble", OnlineRmConfig.ENSEMBLE_SIZE), Map.entry("--epochs", OnlineRmConfig.EPOCHS),
                Map.entry("--batch-size", OnlineRmConfig.BATCH_SIZE), Map.entry("--lr", OnlineRmConfig.LEARNING_RATE),
                Map.entry("--d-model", OnlineRmConfig.D_MODEL), Map.entry("--layers", OnlineRmConfig.LAYERS),
                Map.entry("--heads", OnlineRmConfig.HEADS), Map.entry("--context", OnlineRmConfig.CONTEXT),
                Map.entry("--seed", OnlineRmConfig.SEED), Map.entry("--threads", OnlineRmConfig.THREADS),
                Map.entry("--checkpoint-dir", OnlineRmConfig.CHECKPOINT_DIR),
                Map.entry("--train-every", OnlineRmConfig.TRAIN_EVERY_PAIRS), Map.entry("--name", OnlineRmConfig.NAME),
                Map.entry("--max-rounds", OnlineRmConfig.MAX_ROUNDS));
        flagKeys.forEach((flag, key) -> {
            if (parsed.hasMatchedOption(flag)) {
                settings.put(key, parsed.matchedOptionValue(flag, (Object) null).toString());
            }
        });
        return settings;
    }

    private static Map<String, Object> producerProperties(Map<String, Object> settings) {
        Map<String, Object> props = new java.util.HashMap<>();
        settings.forEach((k, v) -> {
            if (ProducerConfig.configNames().contains(k) || k.startsWith("sasl.") || k.startsWith("ssl.")) {
                props.put(k, v);
            }
        });
        // As every producer of the project: on a replicated cluster a write counts once min.insync.replicas have it.
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        return props;
    }

    private RmTrainingConfig training() {
        if (model != null) {
            double lr = spec.commandLine().getParseResult().hasMatchedOption("--lr") ? learningRate
                    : MODEL_LEARNING_RATE;
            return new RmTrainingConfig(HfTrainableRewardModel.shapeOf(model, modelContext()), ensemble, epochs,
                    batchSize, lr, 0.01, 1.0, seed);
        }
        int vocab = SyntheticWorld.standard().vocabulary().size();
        return new RmTrainingConfig(new TransformerConfig(vocab, context, dModel, layers, heads), ensemble, epochs,
                batchSize, learningRate, 0.01, 1.0, seed);
    }

    /** With --model: --context where given, else 0 (the model's own context). */
    private int modelContext() {
        return spec.commandLine().getParseResult().hasMatchedOption("--context") ? context : 0;
    }

    private static void printComparison(MethodComparison.Result r, PrintWriter out) {
        out.printf(Locale.ROOT, "flip rate %.2f (observed %.3f), %d seed(s); pairs with ensemble mean < 0: precision %.3f,"
                + " recall %.3f%n", r.flipRate(), r.observedFlipRate(), r.seeds(), r.flipPrecision(), r.flipRecall());
        out.printf("%-16s %10s %12s %10s %9s%n", "method", "gold acc", "held-out acc", "BoN acc", "flipped");
        r.methods().forEach((name, m) -> out.printf(Locale.ROOT, "%-16s %10.4f %12.4f %10.4f %9.1f%n", name,
                m.goldAccuracy(), m.heldOutAccuracy(), m.bestOfNAccuracy(), m.meanFlipped()));
    }
}
