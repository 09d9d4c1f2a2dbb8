package io.streamrlhf.learner.ppo;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one {@link PpoUpdate#update} did: metrics under cleanrl-style names (the same names go to
 * the log and the {@code metrics} topic), and which samples were trained or dropped.
 *
 * @param metrics        name → value, e.g. {@code losses/approx_kl}, {@code policy/kl_ref}
 * @param trainedIds     generation ids that took part in the update
 * @param droppedStale   generation ids dropped for staleness
 * @param droppedTooLong generation ids dropped because their prompt filled the context
 */
public record PpoStats(Map<String, Double> metrics, List<String> trainedIds, List<String> droppedStale,
                       List<String> droppedTooLong) {

    /** Copies everything. */
    public PpoStats {
        metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
        trainedIds = List.copyOf(trainedIds);
        droppedStale = List.copyOf(droppedStale);
        droppedTooLong = List.copyOf(droppedTooLong);
    }

    /** One metric; NaN when it was not measured in this update. */
    public double get(String name) {
        return metrics.getOrDefault(name, Double.NaN);
    }
}
