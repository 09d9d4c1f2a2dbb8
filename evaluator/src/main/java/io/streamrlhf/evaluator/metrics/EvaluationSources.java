package io.streamrlhf.evaluator.metrics;

import io.streamrlhf.rewardstream.scoring.Aggregation;
import io.streamrlhf.rewardstream.scoring.NormalizationSettings;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the evaluator's ensemble from {@code --reward} specs with the reward stream's own factory
 * ({@link RewardSources}), so {@code rlhf replay} accepts exactly the specs {@code rlhf score} does.
 *
 * <p>One adjustment: a judge with {@code mode=pairwise} needs a fixed {@code reference} answer in the stream, but
 * here it compares an item's own responses, so a placeholder reference is supplied when none is given.
 */
public final class EvaluationSources {

    /** The reference given to a pairwise judge that is only asked to compare RMB responses. */
    static final String UNUSED_REFERENCE = "(unused: the evaluator compares each item's own responses)";

    private EvaluationSources() {
    }

    /** Parses each spec ({@code rule:length}, {@code rm:DIR}, {@code hf:DIR}, {@code judge:URL;mode=pairwise}, ...). */
    public static List<RewardSpec> parse(List<String> specs) {
        if (specs == null || specs.isEmpty()) {
            throw new IllegalArgumentException("give at least one --reward SPEC (e.g. --reward rule:length)");
        }
        return specs.stream().map(RewardSpec::parse).map(EvaluationSources::forEvaluation).toList();
    }

    /**
     * An ensemble of the specs' sources, aggregated by {@code aggregation}, with normalisation off: the evaluator
     * compares policies and models on a fixed scale, independent of the order records are replayed in. Names must
     * be unique (add {@code ;name=...} to tell copies apart).
     */
    public static RewardEnsemble ensemble(List<RewardSpec> specs, Aggregation aggregation) {
        return RewardEnsemble.builder().addAll(RewardSources.createAll(specs)).aggregation(aggregation)
                .normalization(NormalizationSettings.OFF).build();
    }

    static RewardSpec forEvaluation(RewardSpec spec) {
        if (spec.kind().equals("judge") && "pairwise".equalsIgnoreCase(spec.option("mode", ""))
                && spec.option("reference", null) == null) {
            Map<String, String> options = new LinkedHashMap<>(spec.options());
            options.put("reference", UNUSED_REFERENCE);
            return new RewardSpec(spec.kind(), spec.target(), options);
        }
        return spec;
    }
}
