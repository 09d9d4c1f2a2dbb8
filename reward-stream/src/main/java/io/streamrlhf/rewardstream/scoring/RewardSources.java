package io.streamrlhf.rewardstream.scoring;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.reward.RewardModel;
import io.streamrlhf.models.tokenizer.HuggingFaceJsonTokenizer;
import io.streamrlhf.models.tokenizer.Tokenizer;
import io.streamrlhf.models.tokenizer.WordLevelTokenizer;
import io.streamrlhf.models.torchscript.TorchScriptRewardModel;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.models.encoder.RewardHeads;
import io.streamrlhf.rewardstream.scoring.embed.EmbedRewardSource;
import io.streamrlhf.rewardstream.scoring.judge.ChatJudgeSource;
import io.streamrlhf.rewardstream.scoring.judge.JudgeMode;
import io.streamrlhf.rewardstream.scoring.judge.JudgeSettings;
import io.streamrlhf.rewardstream.scoring.model.HfRewardSource;
import io.streamrlhf.rewardstream.scoring.model.ModelRewardSource;
import io.streamrlhf.rewardstream.scoring.model.PublishedRewardModels;
import io.streamrlhf.rewardstream.scoring.model.RewardModelLoader;
import io.streamrlhf.rewardstream.scoring.remote.RemoteRewardSource;
import io.streamrlhf.rewardstream.scoring.remote.RemoteSettings;
import io.streamrlhf.rewardstream.scoring.rules.FormatRule;
import io.streamrlhf.rewardstream.scoring.rules.LengthRule;
import io.streamrlhf.rewardstream.scoring.rules.PatternRule;
import io.streamrlhf.rewardstream.scoring.verify.VerifierSource;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.avro.ScoreSource;
import io.streamrlhf.schemas.verify.VerifierSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Builds {@link RewardSource}s from {@link RewardSpec}s (see there for the kinds and options).
 *
 * <pre>{@code
 * List<RewardSource> sources = RewardSources.createAll(RewardSpec.parseList("rule:length,rm:/ckpt/rm-0"));
 * }</pre>
 */
public final class RewardSources {

    /** The target of {@code rm:published;name=NAME}: the newest version of NAME published on rm.versions. */
    public static final String PUBLISHED = "published";

    private RewardSources() {
    }

    /** Builds every source; on a failure closes those already built. */
    public static List<RewardSource> createAll(List<RewardSpec> specs) {
        return createAll(specs, null);
    }

    /**
     * Builds every source, {@code rm:published} ones from {@code published}; on a failure closes those already built.
     *
     * @param published the published reward models; null when there are none to read (then {@code rm:published} is
     *                  an error)
     */
    public static List<RewardSource> createAll(List<RewardSpec> specs, PublishedRewardModels published) {
        List<RewardSource> built = new ArrayList<>();
        try {
            for (RewardSpec spec : specs) {
                built.add(create(spec, published));
            }
            return built;
        } catch (RuntimeException e) {
            built.forEach(RewardSource::close);
            throw e;
        }
    }

    /**
     * Builds one source.
     *
     * @throws IllegalArgumentException naming the spec when an option is missing, unknown or malformed
     */
    public static RewardSource create(RewardSpec spec) {
        return create(spec, null);
    }

    /**
     * Builds one source; {@code rm:published;name=NAME} is the newest version of NAME on {@code rm.versions}, fetched
     * through {@code published}.
     *
     * @throws IllegalArgumentException naming the spec when an option is missing, unknown or malformed
     */
    public static RewardSource create(RewardSpec spec, PublishedRewardModels published) {
        return switch (spec.kind()) {
            case "rule" -> rule(spec);
            case "rm" -> PUBLISHED.equals(spec.target()) ? publishedRewardModel(spec, published) : rewardModel(spec);
            case "torchscript" -> torchScript(spec);
            case "hf" -> huggingFace(spec);
            case "judge" -> judge(spec);
            case "verify" -> verify(spec);
            case "http", "https" -> remote(spec);
            case "embed" -> embed(spec);
            default -> throw new IllegalArgumentException("reward spec '" + spec + "': unknown kind " + spec.kind());
        };
    }

    private static RewardSource rule(RewardSpec spec) {
        String rule = spec.target().toLowerCase(Locale.ROOT);
        String name = spec.name("rule-" + rule);
        switch (rule) {
            case "length" -> {
                spec.checkOptions(Set.of("scale"));
                return new LengthRule(name, spec.doubleOption("scale", 1.0));
            }
            case "keyword" -> {
                spec.checkOptions(Set.of("words", "weight", "mode"));
                List<String> words = Arrays.stream(spec.option("words", "").split("\\|"))
                        .map(String::trim).filter(w -> !w.isEmpty()).toList();
                if (words.isEmpty()) {
                    throw new IllegalArgumentException("reward spec '" + spec + "': rule:keyword needs words=a|b|c");
                }
                return PatternRule.keywords(name, words, spec.doubleOption("weight", 1.0), countMode(spec));
            }
            case "regex" -> {
                spec.checkOptions(Set.of("pattern", "weight", "mode"));
                String pattern = spec.option("pattern", null);
                if (pattern == null || pattern.isEmpty()) {
                    throw new IllegalArgumentException("reward spec '" + spec + "': rule:regex needs pattern=REGEX");
                }
                try {
                    return new PatternRule(name, Pattern.compile(pattern), spec.doubleOption("weight", 1.0),
                            countMode(spec));
                } catch (PatternSyntaxException e) {
                    throw new IllegalArgumentException("reward spec '" + spec + "': bad pattern: " + e.getMessage(), e);
                }
            }
            case "format" -> {
                spec.checkOptions(Set.of("check", "max", "penalty"));
                String check = spec.option("check", null);
                if (check == null) {
                    throw new IllegalArgumentException("reward spec '" + spec + "': rule:format needs check=nonempty|"
                            + "terminal-punctuation|no-repeated-words|json|max-chars");
                }
                FormatRule.Check c = FormatRule.Check.parse(check);
                return new FormatRule(spec.name("rule-format-" + c.name().toLowerCase(Locale.ROOT).replace('_', '-')),
                        c, spec.longOption("max", -1), spec.doubleOption("penalty", 0.0));
            }
            default -> throw new IllegalArgumentException("reward spec '" + spec + "': unknown rule '" + spec.target()
                    + "'; expected length, keyword, regex or format");
        }
    }

    private static RewardSource verify(RewardSpec spec) {
        spec.checkOptions(Set.of("pass", "fail", "extract", "pattern", "tolerance", "relative"));
        String target = spec.target().toLowerCase(Locale.ROOT);
        VerifierSpec fallback = null;
        if (!target.equals("prompt")) {
            StringBuilder text = new StringBuilder(target);
            spec.options().forEach((k, v) -> {
                if (!k.equals("name") && !k.equals("pass") && !k.equals("fail")) {
                    text.append(';').append(k).append('=').append(v);
                }
            });
            try {
                fallback = VerifierSpec.parse(text.toString());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("reward spec '" + spec + "': " + e.getMessage(), e);
            }
        }
        return new VerifierSource(spec.name("verify-" + target), fallback, spec.doubleOption("pass", 1.0),
                spec.doubleOption("fail", 0.0));
    }

    private static boolean countMode(RewardSpec spec) {
        String mode = spec.option("mode", "count").toLowerCase(Locale.ROOT);
        if (!mode.equals("count") && !mode.equals("any")) {
            throw new IllegalArgumentException("reward spec '" + spec + "': mode must be count or any, got " + mode);
        }
        return mode.equals("count");
    }

    private static RewardSource publishedRewardModel(RewardSpec spec, PublishedRewardModels published) {
        spec.checkOptions(Set.of("tokenizer", "bos", "eos", "pad"));
        String name = spec.option("name", null);
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("reward spec '" + spec + "': rm:published needs name=<the model's name "
                    + "on rm.versions>");
        }
        if (published == null) {
            throw new IllegalArgumentException("reward spec '" + spec + "': rm:published reads rm.versions, so it "
                    + "needs the scorer's Kafka settings (ScoringApp.create builds it with them)");
        }
        RewardModelVersion version = published.newest(name);
        Checkpoint checkpoint = published.fetch(version);
        RewardModel model = RewardModelLoader.build(checkpoint);
        ScoreSource kind = "torchscript".equals(checkpoint.architecture()) ? ScoreSource.TORCHSCRIPT_RM
                : ScoreSource.NEURAL_RM;
        return new ModelRewardSource(name, kind, model, version.getVersion(), tokenizer(spec));
    }

    private static RewardSource rewardModel(RewardSpec spec) {
        spec.checkOptions(Set.of("tokenizer", "bos", "eos", "pad", "version"));
        Path dir = RewardModelLoader.resolve(spec.target());
        Checkpoint checkpoint = RewardModelLoader.loadVerified(dir, null);
        String fileName = dir.getFileName() == null ? "rm" : dir.getFileName().toString();
        String name = spec.name(checkpoint.metadata().getOrDefault("name", fileName));
        long version = spec.longOption("version", metadataVersion(checkpoint));
        Tokenizer tokenizer = tokenizer(spec);
        RewardModel model = RewardModelLoader.build(checkpoint);
        ScoreSource kind = "torchscript".equals(checkpoint.architecture()) ? ScoreSource.TORCHSCRIPT_RM
                : ScoreSource.NEURAL_RM;
        return new ModelRewardSource(name, kind, model, version, tokenizer);
    }

    private static long metadataVersion(Checkpoint checkpoint) {
        String v = checkpoint.metadata().get("version");
        if (v == null) {
            return 0;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static RewardSource torchScript(RewardSpec spec) {
        spec.checkOptions(Set.of("context", "vocab", "tokenizer", "bos", "eos", "pad", "version"));
        Path file = Path.of(spec.target());
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("reward spec '" + spec + "': TorchScript file " + file
                    + " does not exist");
        }
        int context = (int) spec.longOption("context", 512);
        int vocab = (int) spec.longOption("vocab", 2);
        String base = file.getFileName().toString().replaceFirst("\\.(pt|pth|ts|torchscript)$", "");
        // Only contextLength matters to scoring (it bounds each packed row); the other fields describe no layer here.
        TransformerConfig config = new TransformerConfig(Math.max(2, vocab), context, 1, 1, 1);
        Tokenizer tokenizer = tokenizer(spec);
        TorchScriptRewardModel model = TorchScriptRewardModel.load(file, config, false);
        return new ModelRewardSource(spec.name(base), ScoreSource.TORCHSCRIPT_RM, model,
                spec.longOption("version", 1), tokenizer);
    }

    /** {@code hf:DIR}: the folder's own tokenizer, never the policy's ids (see {@link HfRewardSource}). */
    private static RewardSource huggingFace(RewardSpec spec) {
        spec.checkOptions(Set.of("version", "batch", "max_tokens"));
        Path dir = Path.of(spec.target());
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("reward spec '" + spec + "': Hugging Face reward folder " + dir
                    + " does not exist");
        }
        long batch = spec.longOption("batch", 8);
        long maxTokens = spec.longOption("max_tokens", 0);
        if (batch < 1 || batch > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("reward spec '" + spec + "': batch=" + batch + " must be at least 1");
        }
        if (maxTokens < 0 || maxTokens > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("reward spec '" + spec + "': max_tokens=" + maxTokens
                    + " must be 0 (the model's context) or more");
        }
        String fileName = dir.toAbsolutePath().normalize().getFileName() == null ? "hf-rm"
                : dir.toAbsolutePath().normalize().getFileName().toString();
        return HfRewardSource.load(dir, spec.name(fileName), spec.longOption("version", 1), (int) batch,
                (int) maxTokens);
    }

    private static Tokenizer tokenizer(RewardSpec spec) {
        String t = spec.option("tokenizer", null);
        if (t == null) {
            return null;
        }
        if (t.equals("synthetic")) {
            // The synthetic world's vocabulary; WordLevelTokenizer adds the four special tokens in the same order.
            List<String> words = Vocabulary.standard().wordList().stream()
                    .filter(w -> !w.equals(Vocabulary.PAD) && !w.equals(Vocabulary.BOS) && !w.equals(Vocabulary.EOS)
                            && !w.equals(Vocabulary.UNK))
                    .toList();
            return WordLevelTokenizer.of(words);
        }
        return HuggingFaceJsonTokenizer.load(Path.of(t), spec.option("bos", "<s>"), spec.option("eos", "</s>"),
                spec.option("pad", "<pad>"));
    }

    /** {@code embed:DIR}: reward heads on all-MiniLM-L6-v2 embeddings. */
    private static RewardSource embed(RewardSpec spec) {
        spec.checkOptions(Set.of("version"));
        RewardHeads heads;
        try {
            heads = RewardHeads.load(Path.of(spec.target()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("reward spec '" + spec + "': " + e.getMessage(), e);
        }
        return new EmbedRewardSource(spec.name(heads.name()), spec.longOption("version", heads.version()), heads);
    }

    /** {@code http:URL}, or the URL itself ({@code http://host/score} parses as kind http, target //host/score). */
    private static RewardSource remote(RewardSpec spec) {
        spec.checkOptions(Set.of("model", "batch", "timeout_ms", "retries", "backoff_ms", "breaker_failures",
                "breaker_open_ms", "concurrency", "rate", "api_key_env", "version"));
        String url = spec.target().startsWith("//") ? spec.kind() + ":" + spec.target() : spec.target();
        URI endpoint;
        try {
            endpoint = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("reward spec '" + spec + "': bad reward server URL: " + e.getMessage(),
                    e);
        }
        RemoteSettings defaults = RemoteSettings.defaults(endpoint);
        RemoteSettings settings;
        try {
            settings = new RemoteSettings(endpoint, spec.option("model", defaults.model()),
                    (int) spec.longOption("batch", defaults.batch()),
                    Duration.ofMillis(spec.longOption("timeout_ms", defaults.timeout().toMillis())),
                    (int) spec.longOption("retries", defaults.retries()),
                    Duration.ofMillis(spec.longOption("backoff_ms", defaults.backoff().toMillis())),
                    (int) spec.longOption("breaker_failures", defaults.breakerFailures()),
                    Duration.ofMillis(spec.longOption("breaker_open_ms", defaults.breakerOpen().toMillis())),
                    (int) spec.longOption("concurrency", defaults.concurrency()), spec.doubleOption("rate", 0),
                    apiKey(spec));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("reward spec '" + spec + "': " + e.getMessage(), e);
        }
        return new RemoteRewardSource(spec.name("remote-" + settings.model()), spec.longOption("version", 1),
                settings);
    }

    /** The bearer token named by {@code api_key_env}, or null when the spec names none. */
    private static String apiKey(RewardSpec spec) {
        String keyEnv = spec.option("api_key_env", null);
        String apiKey = keyEnv == null ? null : System.getenv(keyEnv);
        if (keyEnv != null && apiKey == null) {
            throw new IllegalArgumentException("reward spec '" + spec + "': environment variable " + keyEnv
                    + " (api_key_env) is not set");
        }
        return apiKey;
    }

    private static RewardSource judge(RewardSpec spec) {
        spec.checkOptions(Set.of("model", "mode", "reference", "template_file", "system", "timeout_ms", "retries",
                "backoff_ms", "breaker_failures", "breaker_open_ms", "concurrency", "api_key_env", "version",
                "max_tokens", "orders"));
        String orders = spec.option("orders", "both");
        if (!orders.equals("both") && !orders.equals("one")) {
            throw new IllegalArgumentException("reward spec '" + spec + "': orders must be both or one, got " + orders);
        }
        URI endpoint;
        try {
            endpoint = URI.create(spec.target());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("reward spec '" + spec + "': bad judge URL: " + e.getMessage(), e);
        }
        JudgeMode mode = JudgeMode.parse(spec.option("mode", "pointwise"));
        String system = spec.option("system",
                mode == JudgeMode.POINTWISE ? JudgeSettings.POINTWISE_SYSTEM : JudgeSettings.PAIRWISE_SYSTEM);
        String template = mode == JudgeMode.POINTWISE ? JudgeSettings.POINTWISE_TEMPLATE
                : JudgeSettings.PAIRWISE_TEMPLATE;
        String templateFile = spec.option("template_file", null);
        if (templateFile != null) {
            try {
                template = Files.readString(Path.of(templateFile));
            } catch (IOException e) {
                throw new UncheckedIOException("reward spec '" + spec + "': cannot read template_file "
                        + templateFile, e);
            }
        }
        String apiKey = apiKey(spec);
        String model = spec.option("model", "judge");
        JudgeSettings settings = new JudgeSettings(endpoint, model, mode, system, template,
                spec.option("reference", null),
                Duration.ofMillis(spec.longOption("timeout_ms", 10_000)), (int) spec.longOption("retries", 2),
                Duration.ofMillis(spec.longOption("backoff_ms", 200)), (int) spec.longOption("breaker_failures", 5),
                Duration.ofMillis(spec.longOption("breaker_open_ms", 30_000)), (int) spec.longOption("concurrency", 4),
                apiKey, (int) spec.longOption("max_tokens", JudgeSettings.DEFAULT_MAX_TOKENS), orders.equals("both"));
        return new ChatJudgeSource(spec.name("judge-" + model), spec.longOption("version", 1), settings);
    }
}
