package io.streamrlhf.cli;

import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.cli.config.CommonOptions;
import io.streamrlhf.learner.app.LearnerConfig;
import io.streamrlhf.learner.checkpoint.LearnerCheckpoint;
import io.streamrlhf.learner.checkpoint.LearnerCheckpointStore;
import io.streamrlhf.learner.checkpoint.SegmentedLedger;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.hf.HfExport;
import io.streamrlhf.models.hf.safetensors.SafetensorsDtype;
import io.streamrlhf.producer.swap.CheckpointFetcher;
import io.streamrlhf.producer.swap.KafkaChunkSource;
import io.streamrlhf.producer.swap.PublishedVersions;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.chunks.CheckpointUris;
import io.streamrlhf.schemas.signing.VersionSigningConfig;
import io.streamrlhf.schemas.signing.VersionVerifier;
import io.streamrlhf.schemas.topics.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf export}: one policy version as a Hugging Face model folder ({@link HfExport}), taken from the learner's
 * checkpoint directory or fetched from the cluster and verified as workers verify it ({@link CheckpointFetcher}).
 */
@Command(name = "export",
        description = {"Write a policy version as a Hugging Face model folder (config.json, model.safetensors without "
                + "the value head, tokenizer.json, tokenizer_config.json, generation_config.json, ...) that "
                + "transformers, vLLM or TGI load.",
                "By default the version is fetched from the cluster: its policy.versions record, then its checkpoint "
                        + "(a file: URI or chunks on the checkpoints topic), verified against the published sha256. "
                        + "policy.versions is compacted, so older versions are exported from the learner's checkpoint "
                        + "directory (--checkpoint-dir) instead.",
                "Only policies trained from a Hugging Face folder (rlhf learn --init-checkpoint given a model "
                        + "folder) can be exported; the synthetic-world policy has no Hugging Face architecture."})
final class ExportCommand implements Callable<Integer> {

    private static final Pattern VERSION_DIR = Pattern.compile("v\\d{12}");

    @Spec CommandSpec spec;

    @Mixin CommonOptions common;

    // --help only: the standard help options' --version (the program's version) would take --version N's name
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Option(names = "--version", paramLabel = "N|latest", required = true,
            description = "The policy version to export, or 'latest' for the newest one.")
    String version;

    @Option(names = "--out", paramLabel = "DIR", required = true,
            description = "The folder to write (must not exist or be empty, unless --force).")
    Path out;

    @Option(names = "--force", description = "Replace --out if it exists and is not empty.")
    boolean force;

    @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "f32",
            description = "Dtype of model.safetensors: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}: the "
                    + "trained weights exactly; bf16 and f16 halve the size, rounding to nearest as PyTorch does).")
    SafetensorsDtype dtype;

    @Option(names = "--checkpoint-dir", paramLabel = "DIR",
            description = "Take the version from this learner checkpoint directory (learner.checkpoint.dir) instead "
                    + "of the cluster.")
    Path checkpointDir;

    @Option(names = "--policy-name", paramLabel = "NAME",
            description = "The policy's name on policy.versions (default: learner.policy.name, else 'policy').")
    String policyName;

    @Option(names = "--timeout-s", paramLabel = "S", defaultValue = "30",
            description = "How long to wait for the cluster (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    /** A version to export and where it came from. */
    private record Found(long version, Checkpoint checkpoint, String source) {
    }

    @Override
    public Integer call() throws IOException {
        Long wanted = parseVersion();
        checkOut();
        if (timeoutSeconds <= 0) {
            throw new ParameterException(spec.commandLine(), "--timeout-s must be positive, got " + timeoutSeconds);
        }
        Found found = checkpointDir != null ? fromCheckpointDir(wanted) : fromCluster(wanted);
        HfExport.Result result = HfExport.write(found.checkpoint(), out, dtype, force);
        PrintWriter w = spec.commandLine().getOut();
        w.printf("exported version %d from %s%n", found.version(), found.source());
        w.printf("  to %s: %s, %d tensors, %s, model.safetensors %.1f MiB%n", result.dir(), result.architecture(),
                result.tensors(), result.dtype(), result.weightBytes() / (1024.0 * 1024.0));
        w.printf("  files: %s%n", String.join(", ", result.files()));
        w.flush();
        return 0;
    }

    /** The version asked for, or null for {@code latest}. */
    private Long parseVersion() {
        if (version.equalsIgnoreCase("latest")) {
            return null;
        }
        try {
            long v = Long.parseLong(version.trim());
            if (v >= 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ParameterException(spec.commandLine(), "--version must be a version number (0 or more) or "
                + "'latest', got '" + version + "'");
    }

    /** Refuses an --out in the way before anything is fetched. */
    private void checkOut() {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new ParameterException(spec.commandLine(), "--out " + out + " exists and is not a directory");
        }
        try {
            HfExport.checkTarget(out, force);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--out " + e.getMessage() + "; choose another folder "
                    + "or pass --force to replace it");
        }
    }

    private Found fromCheckpointDir(Long wanted) {
        if (!Files.isDirectory(checkpointDir)) {
            throw new ParameterException(spec.commandLine(), "--checkpoint-dir " + checkpointDir
                    + " is not a directory");
        }
        // LearnerCheckpointStore creates its layout in the directory it is given: look before opening one
        if (!Files.isDirectory(checkpointDir.resolve(SegmentedLedger.DIR)) && versionDirs().isEmpty()) {
            throw new ParameterException(spec.commandLine(), "--checkpoint-dir " + checkpointDir + " holds no learner "
                    + "checkpoints (v000000000001/, ..., " + SegmentedLedger.DIR + "/); give the learner's "
                    + LearnerConfig.CHECKPOINT_DIR);
        }
        LearnerCheckpointStore store = new LearnerCheckpointStore(checkpointDir);
        List<Long> versions = store.versions();
        if (versions.isEmpty()) {
            throw new IllegalArgumentException("no policy version in " + checkpointDir + " yet");
        }
        if (wanted == null) {
            List<String> refused = new ArrayList<>();
            for (int i = versions.size() - 1; i >= 0; i--) {
                try {
                    LearnerCheckpoint c = store.load(versions.get(i));
                    return new Found(c.version(), c.policy(), store.policyDir(c.version()).toString());
                } catch (CheckpointException e) {
                    refused.add(e.getMessage());
                }
            }
            throw new CheckpointException("no version in " + checkpointDir + " verifies: "
                    + String.join("; ", refused));
        }
        if (!versions.contains(wanted)) {
            throw new IllegalArgumentException("version " + wanted + " is not in " + checkpointDir
                    + " (versions there: " + list(versions) + ")");
        }
        LearnerCheckpoint c = store.load(wanted);
        return new Found(wanted, c.policy(), store.policyDir(wanted).toString());
    }

    private List<Path> versionDirs() {
        try (Stream<Path> listed = Files.list(checkpointDir)) {
            return listed.filter(p -> VERSION_DIR.matcher(p.getFileName().toString()).matches()).toList();
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "--checkpoint-dir " + checkpointDir + " cannot be listed: "
                    + e.getMessage());
        }
    }

    private Found fromCluster(Long wanted) {
        CommonConfig config = common.resolve();
        Map<String, Object> settings = config.settings();
        settings.putAll(config.clientProperties());
        String name = policyName != null ? policyName : String.valueOf(settings.getOrDefault(LearnerConfig.POLICY_NAME,
                LearnerConfig.DEFINITION.defaultValues().get(LearnerConfig.POLICY_NAME)));
        Duration timeout = Duration.ofSeconds(timeoutSeconds);
        PublishedVersions published = PublishedVersions.read(Topics.create(settings), settings, name, timeout);
        String where = "policy '" + name + "' on " + published.topic() + " at " + config.bootstrapServers();
        if (published.versions().isEmpty()) {
            throw new IllegalArgumentException("no version of " + where + "; check --policy-name and --topic-prefix, "
                    + "or export from the learner's checkpoint directory with --checkpoint-dir");
        }
        // With verification keys, the newest version is the newest one that verifies: a forged record far ahead is
        // skipped here as the workers skip it.
        VersionVerifier verifier = VersionSigningConfig.verifier(settings);
        PolicyVersion record = wanted == null ? published.versions().stream().sorted(Comparator.reverseOrder())
                .map(v -> published.get(v).orElseThrow()).filter(v -> verifier.refusal(v).isEmpty()).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no version of " + where + " is signed by a key of "
                        + VersionSigningConfig.VERIFY_KEYS + " " + verifier.keyIds()))
                : published.get(wanted)
                .orElseThrow(() -> new IllegalArgumentException("version " + wanted + " of " + where + " is not "
                        + "there (versions there: " + list(published.versions()) + "); the topic is compacted and "
                        + "keeps recent versions only: export older ones from the learner's checkpoint directory "
                        + "with --checkpoint-dir"));
        Checkpoint checkpoint = new CheckpointFetcher(new KafkaChunkSource(settings, timeout), verifier,
                CheckpointUris.from(Topics.create(settings).checkpoints().name(), settings)).fetch(record);
        return new Found(record.getVersion(), checkpoint, record.getCheckpointUri() + " (sha256 verified)");
    }

    private static String list(List<Long> versions) {
        return versions.stream().map(String::valueOf).collect(Collectors.joining(", "));
    }
}
